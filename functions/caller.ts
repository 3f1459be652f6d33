/**
 * FCALL with the library loaded on first use, and loaded again when the server lost it.
 *
 * The first call into a library runs loadLibraryOn (WATCH and FUNCTION LIST on a dedicated
 * connection, and MULTI FUNCTION LOAD REPLACE ... EXEC when needed); concurrent first calls
 * share that promise; later calls go straight to FCALL. A newer library loaded by another
 * client (now or later) is used as it is: loading never downgrades it. When
 * the server answers `ERR Function not found` (a restart without persistence, FUNCTION FLUSH,
 * a failover to a node that never had it) the library is loaded again and the call retried
 * once: the Functions twin of EVALSHA's NOSCRIPT fallback.
 *
 * A Lua error names a line of the loaded (assembled) code; when the node runs our version of
 * the library (versions.lock.json makes equal versions equal code), the error also gets the
 * file and line it comes from: `user_function:57 (functions/prelude.lua:40)`.
 */
import type { HighPerformanceRedis } from '../runtime/client/index.js';
import type { CallOptions, Transform } from '../runtime/client/command.js';
import { LibraryLoadError, ReplyError } from '../runtime/errors.js';
import type { CommandArg } from '../runtime/protocol/index.js';
import { located, mapArgError } from './codes.js';
import { bundledLibrary, loadLibraryOn } from './loader.js';
import type { LibrarySource, LoadResult } from './loader.js';

const NOT_FOUND = 'ERR Function not found';

export class FunctionCaller {
  readonly redis: HighPerformanceRedis;
  /** Library -> true once loaded (or found loaded), or the load in progress. */
  readonly #ready = new Map<string, true | Promise<LoadResult>>();
  /** Code to load instead of the bundled file, by library name. */
  readonly #sources = new Map<string, LibrarySource>();
  /** The version each library had on the server after our last load. */
  readonly #versions = new Map<string, number | null>();

  constructor(redis: HighPerformanceRedis) {
    this.redis = redis;
  }

  source(lib: string): LibrarySource {
    return this.#sources.get(lib) ?? bundledLibrary(lib);
  }

  /** Loads `lib` now (version rules in loader.ts); later calls use that code if reloading. */
  load(lib: LibrarySource): Promise<LoadResult> {
    this.#sources.set(lib.name, lib);
    return this.#load(lib.name);
  }

  #load(lib: string): Promise<LoadResult> {
    // Reading the source may throw (unknown library): inside the chain, so it rejects.
    const p = Promise.resolve()
      .then(() => loadLibraryOn(this.redis, this.source(lib)))
      .then(
        (result) => {
          if (this.#ready.get(lib) === p) this.#ready.set(lib, true);
          this.#versions.set(lib, result.version);
          return result;
        },
        (err: unknown) => {
          if (this.#ready.get(lib) === p) this.#ready.delete(lib);
          throw err;
        },
      );
    this.#ready.set(lib, p);
    return p;
  }

  #ensure(lib: string): Promise<unknown> {
    const state = this.#ready.get(lib);
    if (state === true) return Promise.resolve();
    return (state ?? this.#load(lib)).catch((err: unknown) => {
      // An ACL user without FUNCTION LIST/LOAD rights (an admin deployed the libraries): call
      // anyway; FCALL itself reports a function that is missing.
      const cause = err instanceof LibraryLoadError ? err.cause : err;
      if (!(cause instanceof ReplyError) || cause.redisCode !== 'NOPERM') throw err;
      this.#ready.set(lib, true);
    });
  }

  /**
   * FCALL (or FCALL_RO) `fn` of library `lib`. Replies go through `transform` (which may throw
   * the typed error of a reply code); ERR_CY_ARG replies become InvalidArgumentError.
   * `options` apply to the FCALL (`{ returnBuffers: true }` reads bulk strings as Buffers).
   */
  fcall<T>(
    lib: string,
    fn: string,
    keys: readonly CommandArg[],
    args: readonly CommandArg[],
    transform?: Transform<T>,
    readOnly = false,
    options?: CallOptions,
  ): Promise<T> {
    const cmd: CommandArg[] = [readOnly ? 'FCALL_RO' : 'FCALL', fn, keys.length, ...keys, ...args];
    const send = (): Promise<T> => this.redis._send<T>(cmd, transform, options);
    const first = this.#ready.get(lib) === true ? send() : this.#ensure(lib).then(send);
    return first.catch((err: unknown) => {
      if (!(err instanceof ReplyError) || !err.message.startsWith(NOT_FOUND))
        throw this.#mapError(lib, err);
      if (this.#ready.get(lib) === true) this.#ready.delete(lib);
      return this.#ensure(lib)
        .then(send)
        .catch((again: unknown) => {
          throw this.#mapError(lib, again);
        });
    });
  }

  /** ERR_CY_ARG -> InvalidArgumentError; a Lua error located in our files when it is our code. */
  #mapError(lib: string, err: unknown): unknown {
    const mapped = mapArgError(err);
    const version = this.#versions.get(lib); // set only after a load: source(lib) is readable
    if (version === undefined) return mapped;
    const { origin, version: ours } = this.source(lib);
    return origin && version === ours ? located(mapped, origin) : mapped;
  }
}
