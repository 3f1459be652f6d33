/**
 * Loading Redis Functions libraries, with versions.
 *
 * Each functions/cy_*.lua opens with `#!lua name=cy_x` and `-- version: N`. What is loaded is
 * the library assembled with the prelude blocks it uses (functions/prelude*.lua, spliced in by
 * assemble.ts): its version line is the library's own, and a prelude edit changes the loaded
 * code of every library using the block, so it needs their versions raised
 * (functions/versions.lock.json holds each version to the SHA-256 of its assembled code;
 * test/functions/versions.test.ts checks it, `npm run lock-versions` rewrites it). Loading on a node
 * reads the library the node has (FUNCTION LIST ... WITHCODE), parses its version line, and
 * - loads ours when the node has none,
 * - replaces it when ours is newer (FUNCTION LOAD REPLACE: all or nothing),
 * - leaves it alone when it is the same version or newer (another deployment may be ahead).
 *
 * Look-then-replace is a compare-and-replace: two loaders racing must never leave the older
 * library in place (version 1 looked, then REPLACEd: an older loader whose REPLACE arrived last
 * downgraded a newer library loaded meanwhile). Functions are not keys, so a key stands for
 * the library: every load WATCHes `cy:fnver:{<library>}`, reads the library, and runs
 *
 *     MULTI  FUNCTION LOAD REPLACE <code>  INCR cy:fnver:{<library>}  EXEC
 *
 * on the same connection. A concurrent load INCRs the key, so this EXEC aborts and the loader
 * looks again (and then finds the newer library). The key is a change counter, not the
 * version: the version is read from the library itself, which also sees FUNCTION FLUSH,
 * restarts and libraries loaded by hand. Loads by other tools (redis-cli FUNCTION LOAD) are
 * not fenced by the key.
 *
 * `loadLibraryOn(node, lib)` does this on one node; a cluster layer calls it on every primary
 * (FUNCTION LOAD is not propagated between primaries), each with a version key in a slot that
 * primary owns: `versionKeyInSlot(lib, slot)`.
 *
 * Library and function names allow only [A-Za-z0-9_] in Redis 7.0, so the seed's `cy:locks` is
 * the library `cy_locks` and `cy:locks:acquire` the function `cy_locks_acquire`; both
 * spellings are accepted here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  LibraryLoadError,
  ReplyError,
  WatchError,
} from '../runtime/errors.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import type { RespValue } from '../runtime/protocol/index.js';
import { textOf, toObject } from '../runtime/client/commands/replies.js';
import type { Executor } from '../runtime/client/executor.js';
import type { HighPerformanceRedis } from '../runtime/client/index.js';
import type { MultiWithCommands, WatchContext } from '../runtime/client/index.js';
import { assemble, withOrigin } from './assemble.js';
import type { Origin } from './assemble.js';
import { keySlot } from './validate.js';

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
  /**
   * Where a line of `code` comes from, for assembled libraries (bundled ones): Lua errors name
   * lines of the loaded code, which the prelude shifted.
   */
  origin?: (line: number) => Origin | null;
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

/**
 * A library from its source file text: the prelude blocks it uses spliced in (assemble.ts),
 * then parsed. `file` names it in error messages (`functions/cy_x.lua`).
 */
export function assembleLibrary(source: string, file: string): LibrarySource {
  const assembled = assemble(source, file);
  return { ...parseLibrary(assembled.code), origin: assembled.origin };
}

const bundled = new Map<string, LibrarySource>();

/** A library from functions/*.lua, assembled with its prelude blocks (read once). */
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
  source = assembleLibrary(code, `functions/${lib}.lua`);
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

/** FUNCTION LIST of one library through `send`, or null. */
async function listLibrary(
  send: (cmd: string[]) => Promise<RespValue>,
  lib: string,
): Promise<(LibraryInfo & { code: string }) | null> {
  // LIBRARYNAME is a glob pattern; our names have no glob characters, but the exact match
  // below keeps `cy_x` from ever reading `cy_x2`.
  const reply = await send(['FUNCTION', 'LIST', 'LIBRARYNAME', lib, 'WITHCODE']);
  for (const entry of reply as RespValue[]) {
    const info = infoOf(entry);
    if (info.name === lib) return info;
  }
  return null;
}

/** The library `name` as `node` has it, or null. */
export async function libraryInfoOn(node: Executor, name: string): Promise<LibraryInfo | null> {
  const info = await listLibrary((cmd) => node._send<RespValue>(cmd), libraryName(name));
  return info && { name: info.name, version: info.version, functions: info.functions };
}

/** What loadLibraryOn needs of a node: commands, and WATCH on a connection of its own. */
export type LoaderNode = Pick<HighPerformanceRedis, '_send' | 'watch'>;

export interface LoadOptions {
  /**
   * The key the compare-and-replace WATCHes and INCRs (default `cy:fnver:{<library>}`). On a
   * cluster primary it must be in a slot that primary owns: versionKeyInSlot(lib, slot).
   */
  versionKey?: string;
}

/** The default version key of a library. */
export function versionKeyOf(lib: string): string {
  return `cy:fnver:{${libraryName(lib)}}`;
}

/**
 * A version key of `lib` that hashes to `slot` (`cy:fnver:{<lib>:<n>}` for the first n that
 * does): a cluster layer loads on each primary with a key in one of its own slots.
 */
export function versionKeyInSlot(lib: string, slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot > 16383)
    throw new InvalidArgumentError('slot', 'must be an integer from 0 to 16383');
  const name = libraryName(lib);
  for (let n = 0; ; n++) {
    const key = `cy:fnver:{${name}:${n}}`;
    if (keySlot(key) === slot) return key;
  }
}

/** Compare-and-replace attempts before giving up (each retry means another loader won). */
const MAX_ATTEMPTS = 10;

/**
 * Loads `lib` on one node unless the node has the same or a newer version. Safe to run from
 * many clients at once (see the header): of concurrent loaders, the newest version wins and
 * the others report `unchanged`.
 */
export async function loadLibraryOn(
  node: LoaderNode,
  lib: LibrarySource,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const key = options.versionKey ?? versionKeyOf(lib.name);
  // A compile error names a line of the assembled code: add the file and line it comes from.
  const messageAt = (err: ReplyError): string =>
    lib.origin ? withOrigin(err.message, lib.origin) : err.message;
  // What the last attempt decided (an aborted EXEC runs the callback again).
  const decided: { result: LoadResult | null } = { result: null };
  const attempt = async (tx: WatchContext): Promise<MultiWithCommands | null> => {
    decided.result = null;
    const before = await listLibrary((cmd) => tx.call(cmd[0], ...cmd.slice(1)), lib.name);
    const previousVersion = before?.version ?? null;
    if (before && previousVersion !== null && previousVersion >= lib.version) {
      decided.result = {
        library: lib.name,
        action: 'unchanged',
        version: previousVersion,
        previousVersion,
      };
      return null; // nothing to do: watch() UNWATCHes
    }
    decided.result = {
      library: lib.name,
      action: before ? 'replaced' : 'loaded',
      version: lib.version,
      previousVersion,
    };
    return tx.multi().call('FUNCTION', 'LOAD', 'REPLACE', lib.code).call('INCR', key);
  };
  let replies: unknown[] | null;
  try {
    replies = await node.watch([key], attempt, { maxAttempts: MAX_ATTEMPTS });
  } catch (err) {
    // Refusals (NOPERM, ...) become LibraryLoadError; connection errors pass through as they are.
    if (err instanceof ReplyError)
      throw new LibraryLoadError(lib.name, `FUNCTION LIST/LOAD failed: ${messageAt(err)}`, {
        cause: err,
      });
    if (err instanceof WatchError)
      throw new LibraryLoadError(
        lib.name,
        `other loaders kept replacing it (${MAX_ATTEMPTS} attempts)`,
        { cause: err },
      );
    throw err;
  }
  // A failed FUNCTION LOAD inside EXEC is a ReplyError among the results (INCR ran anyway:
  // harmless, the key is only a change counter).
  const loadReply = replies?.[0];
  if (loadReply instanceof ReplyError)
    throw new LibraryLoadError(lib.name, `FUNCTION LOAD failed: ${messageAt(loadReply)}`, {
      cause: loadReply,
    });
  if (decided.result === null) throw new LibraryLoadError(lib.name, 'the load did not run');
  return decided.result;
}
