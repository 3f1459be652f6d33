/**
 * The EVAL scripts shipped in lua/*.lua, read once from the package. Each opens with
 * `-- version: N` and its KEYS/ARGV/returns contract. The source that runs is the script with
 * the prelude blocks it uses spliced in before its first line of code (functions/assemble.ts):
 * only those, so each script stays small. Its SHA, and the lines Lua errors name, are those of
 * that assembled source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, LibraryLoadError } from '../runtime/errors.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import { assemble } from '../functions/assemble.js';
import type { Origin } from '../functions/assemble.js';
import { parseVersion } from '../functions/loader.js';

export const BUNDLED_SCRIPTS = [
  'rate_limiter',
  'distributed_lock',
  'smart_cache',
  'job_queue',
  'sliding_window',
  'token_bucket',
  'bounded_increment',
  'batch_set_ttl',
  'priority_push',
  'priority_pop',
  'cache_set_evict',
  'cache_get_lru',
] as const;
export type BundledScript = (typeof BUNDLED_SCRIPTS)[number];

export interface ScriptSource {
  name: string;
  version: number | null;
  /** The script with its prelude blocks: what EVAL runs. */
  source: string;
  /** Where a line of `source` comes from (a lua/ file or a prelude file). */
  origin: (line: number) => Origin | null;
}

const cache = new Map<string, ScriptSource>();

/** A script from lua/ by name (`rate_limiter` or `rate_limiter.lua`). */
export function bundledScript(name: string): ScriptSource {
  const base = typeof name === 'string' ? name.replace(/\.lua$/, '') : '';
  let s = cache.get(base);
  if (s) return s;
  if (!(BUNDLED_SCRIPTS as readonly string[]).includes(base))
    throw new InvalidArgumentError(
      'name',
      `is not a bundled script (${BUNDLED_SCRIPTS.join(', ')})`,
    );
  let source: string;
  try {
    source = readFileSync(join(PACKAGE_ROOT, 'lua', `${base}.lua`), 'utf8');
  } catch (err) {
    // The same failure as a missing Functions library: the package is incomplete.
    throw new LibraryLoadError(base, 'cannot read its .lua file', { cause: err });
  }
  const assembled = assemble(source, `lua/${base}.lua`);
  s = {
    name: base,
    version: parseVersion(assembled.code),
    source: assembled.code,
    origin: assembled.origin,
  };
  cache.set(base, s);
  return s;
}
