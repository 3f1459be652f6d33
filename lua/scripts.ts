/**
 * The EVAL scripts shipped in lua/*.lua, read once from the package. Each opens with
 * `-- version: N` and its KEYS/ARGV/returns contract.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, LibraryLoadError } from '../runtime/errors.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
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
  source: string;
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
  s = { name: base, version: parseVersion(source), source };
  cache.set(base, s);
  return s;
}
