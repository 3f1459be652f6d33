/**
 * Loading Redis Functions libraries, with versions.
 *
 * Each functions/cy_*.lua opens with `#!lua name=cy_x` and `-- version: N`. Loading on a node
 * reads the library the node has (FUNCTION LIST ... WITHCODE), parses its version line, and
 * - loads ours when the node has none (FUNCTION LOAD),
 * - replaces it when ours is newer (FUNCTION LOAD REPLACE: all or nothing),
 * - leaves it alone when it is the same version or newer (another deployment may be ahead).
 * `loadLibraryOn(node, lib)` does this on one node; a cluster layer calls it on every primary
 * (FUNCTION LOAD is not propagated between primaries).
 *
 * Library and function names allow only [A-Za-z0-9_] in Redis 7.0, so the seed's `cy:locks` is
 * the library `cy_locks` and `cy:locks:acquire` the function `cy_locks_acquire`; both
 * spellings are accepted here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, LibraryLoadError, ReplyError } from '../runtime/errors.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import type { RespValue } from '../runtime/protocol/index.js';
import { textOf, toObject } from '../runtime/client/commands/replies.js';
import type { Executor } from '../runtime/client/executor.js';

/** The libraries shipped in functions/. */
export const BUNDLED_LIBRARIES = [
  'cy_locks',
  'cy_sema',
  'cy_rate',
  'cy_queue',
  'cy_streamq',
  'cy_cache',
  'cy_atomic',
  'cy_tokens',
] as const;
export type BundledLibrary = (typeof BUNDLED_LIBRARIES)[number];

/** A library's code with what its header declares. */
export interface LibrarySource {
  name: string;
  version: number;
  /** Function names it registers, in source order. */
  functions: string[];
  code: string;
}

/** A library as a node has it. `version` is null when its code has no `-- version: N` line. */
export interface LibraryInfo {
  name: string;
  version: number | null;
  functions: string[];
}

export type LoadAction = 'loaded' | 'replaced' | 'unchanged';

export interface LoadResult {
  library: string;
  action: LoadAction;
  /** The version now on the node. */
  version: number | null;
  /** The version the node had before (null: none, or no version line). */
  previousVersion: number | null;
}

const NAME = /^[A-Za-z0-9_]+$/;

/** `cy:locks` or `cy_locks` -> `cy_locks`. */
export function libraryName(spelling: string): string {
  if (typeof spelling !== 'string' || spelling.length === 0)
    throw new InvalidArgumentError('name', 'must be a non-empty library name');
  const name = spelling.replaceAll(':', '_');
  if (!NAME.test(name))
    throw new InvalidArgumentError('name', `must be letters, digits, _ or : (got ${spelling})`);
  return name;
}

/** `cy:locks:acquire` or `cy_locks_acquire` -> `cy_locks_acquire`. */
export function functionName(spelling: string): string {
  try {
    return libraryName(spelling);
  } catch {
    throw new InvalidArgumentError('function', `must be letters, digits, _ or : (got ${spelling})`);
  }
}

/** The number on a `-- version: N` line, or null. */
export function parseVersion(code: string): number | null {
  const m = /^--\s*version:\s*(\d+)\s*$/m.exec(code);
  return m ? Number(m[1]) : null;
}

/** Reads the header of a library's code: `#!lua name=...`, `-- version: N`, functions. */
export function parseLibrary(code: string): LibrarySource {
  if (typeof code !== 'string') throw new InvalidArgumentError('code', 'must be a string');
  const m = /^#!lua name=([A-Za-z0-9_]+)/.exec(code);
  if (!m) throw new InvalidArgumentError('code', 'must start with #!lua name=<library>');
  const name = m[1];
  const version = parseVersion(code);
  if (version === null)
    throw new LibraryLoadError(name, 'has no "-- version: N" line after its #!lua line');
  const functions = [...code.matchAll(/function_name\s*=\s*'([A-Za-z0-9_]+)'/g)].map((f) => f[1]);
  return { name, version, functions, code };
}

const bundled = new Map<string, LibrarySource>();

/** A library from functions/*.lua (read once). */
export function bundledLibrary(name: string): LibrarySource {
  const lib = libraryName(name);
  let source = bundled.get(lib);
  if (source) return source;
  if (!(BUNDLED_LIBRARIES as readonly string[]).includes(lib))
    throw new InvalidArgumentError(
      'name',
      `is not a cyredis library (${BUNDLED_LIBRARIES.join(', ')})`,
    );
  let code: string;
  try {
    code = readFileSync(join(PACKAGE_ROOT, 'functions', `${lib}.lua`), 'utf8');
  } catch (err) {
    throw new LibraryLoadError(lib, 'cannot read its .lua file', { cause: err });
  }
  source = parseLibrary(code);
  if (source.name !== lib) throw new LibraryLoadError(lib, `its file declares ${source.name}`);
  bundled.set(lib, source);
  return source;
}

function infoOf(entry: RespValue): LibraryInfo & { code: string } {
  const o = toObject(entry);
  const fns = (o.functions ?? []) as RespValue[];
  const code = textOf(o.library_code);
  return {
    name: textOf(o.library_name),
    version: parseVersion(code),
    functions: fns.map((f) => textOf(toObject(f).name)).sort(),
    code,
  };
}

/** The library `name` as `node` has it, or null. */
export async function libraryInfoOn(node: Executor, name: string): Promise<LibraryInfo | null> {
  const lib = libraryName(name);
  // LIBRARYNAME is a glob pattern; our names have no glob characters, but the exact match
  // below keeps `cy_x` from ever reading `cy_x2`.
  const reply = await node._send<RespValue>(['FUNCTION', 'LIST', 'LIBRARYNAME', lib, 'WITHCODE']);
  for (const entry of reply as RespValue[]) {
    const info = infoOf(entry);
    if (info.name === lib)
      return { name: info.name, version: info.version, functions: info.functions };
  }
  return null;
}

const ALREADY_EXISTS = /^ERR Library '.*' already exists/;

/**
 * Loads `lib` on one node unless the node has the same or a newer version. Safe to run from
 * many clients at once: a concurrent first load that wins makes ours `unchanged`, and a
 * concurrent older REPLACE that lands after ours is undone by the re-check.
 */
export async function loadLibraryOn(node: Executor, lib: LibrarySource): Promise<LoadResult> {
  // Refusals (NOPERM, ...) become LibraryLoadError; connection errors pass through as they are.
  const look = (): Promise<LibraryInfo | null> =>
    libraryInfoOn(node, lib.name).catch((err: unknown) => {
      if (!(err instanceof ReplyError)) throw err;
      throw new LibraryLoadError(lib.name, `FUNCTION LIST failed: ${err.message}`, { cause: err });
    });
  for (let attempt = 0; ; attempt++) {
    const before = await look();
    const previousVersion = before?.version ?? null;
    if (before && previousVersion !== null && previousVersion >= lib.version) {
      return { library: lib.name, action: 'unchanged', version: previousVersion, previousVersion };
    }
    try {
      await node._send(
        before ? ['FUNCTION', 'LOAD', 'REPLACE', lib.code] : ['FUNCTION', 'LOAD', lib.code],
      );
    } catch (err) {
      // Someone loaded it between our look and our load: look again.
      if (err instanceof ReplyError && ALREADY_EXISTS.test(err.message) && attempt < 3) continue;
      if (!(err instanceof ReplyError)) throw err;
      throw new LibraryLoadError(lib.name, `FUNCTION LOAD failed: ${err.message}`, { cause: err });
    }
    if (before) {
      // An older REPLACE racing ours may have landed after it: check once more.
      const after = await look();
      if (attempt < 3 && (after?.version ?? -1) < lib.version) continue;
    }
    return {
      library: lib.name,
      action: before ? 'replaced' : 'loaded',
      version: lib.version,
      previousVersion,
    };
  }
}
