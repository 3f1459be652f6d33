/**
 * RedisFunctions: the cy_* Redis Functions libraries behind typed facades.
 *
 *   const fx = new RedisFunctions(redis);
 *   const lock = await fx.locks.acquire('invoice:42', 'worker-1', 30_000);
 *   if (lock.acquired) try { ... } finally { await fx.locks.release('invoice:42', 'worker-1'); }
 *
 * Libraries load on first use (versioned; see loader.ts) and again when the server lost them.
 */
import type { HighPerformanceRedis } from '../runtime/client/index.js';
import type { CommandArg, RespValue } from '../runtime/protocol/index.js';
import { InvalidArgumentError } from '../runtime/errors.js';
import { Atomic } from './atomic.js';
import { Cache } from './cache.js';
import { FunctionCaller } from './caller.js';
import { BUNDLED_LIBRARIES, functionName, libraryInfoOn, libraryName } from './loader.js';
import type { LibraryInfo, LibrarySource, LoadResult } from './loader.js';
import { Locks } from './locks.js';
import { Queue } from './queue.js';
import { Rate } from './rate.js';
import { Sema } from './sema.js';
import { StreamQueue } from './streamq.js';
import { Tokens } from './tokens.js';

export class RedisFunctions {
  readonly locks: Locks;
  readonly sema: Sema;
  readonly rate: Rate;
  readonly queue: Queue;
  readonly streamq: StreamQueue;
  readonly cache: Cache;
  readonly atomic: Atomic;
  readonly tokens: Tokens;
  readonly #fx: FunctionCaller;

  constructor(redis: HighPerformanceRedis) {
    if (typeof redis !== 'object' || redis === null || typeof redis._send !== 'function')
      throw new InvalidArgumentError('redis', 'must be a HighPerformanceRedis client');
    this.#fx = new FunctionCaller(redis);
    this.locks = new Locks(this.#fx);
    this.sema = new Sema(this.#fx);
    this.rate = new Rate(this.#fx);
    this.queue = new Queue(this.#fx);
    this.streamq = new StreamQueue(this.#fx);
    this.cache = new Cache(this.#fx);
    this.atomic = new Atomic(this.#fx);
    this.tokens = new Tokens(this.#fx);
  }

  /**
   * Loads a bundled library by name (`cy:locks` or `cy_locks`), or the given library code
   * (parseLibrary(code)): loaded when missing, replaced when older, else left alone.
   */
  async loadLibrary(library: string | LibrarySource): Promise<LoadResult> {
    const source = typeof library === 'string' ? this.#fx.source(libraryName(library)) : library;
    return this.#fx.load(source);
  }

  /** Loads every bundled library; results by library name. */
  async loadAllLibraries(): Promise<Record<string, LoadResult>> {
    const results = await Promise.all(BUNDLED_LIBRARIES.map((lib) => this.loadLibrary(lib)));
    return Object.fromEntries(results.map((r) => [r.library, r]));
  }

  /** The library as the server has it ({ version, functions }), or null when not loaded. */
  async getLibraryInfo(name: string): Promise<LibraryInfo | null> {
    return libraryInfoOn(this.#fx.redis, name);
  }

  /**
   * Calls any function of a bundled library by name (`cy:locks:status` or `cy_locks_status`),
   * with the same loading, retry and ERR_CY_ARG mapping as the facades; the raw reply.
   */
  async call(
    fn: string,
    keys: CommandArg[] = [],
    args: CommandArg[] = [],
    options: { readOnly?: boolean } = {},
  ): Promise<RespValue> {
    const name = functionName(fn);
    const lib = BUNDLED_LIBRARIES.find((l) => name.startsWith(`${l}_`));
    if (!lib) throw new InvalidArgumentError('function', `is not in a cyredis library (${fn})`);
    return this.#fx.fcall<RespValue>(lib, name, keys, args, undefined, options.readOnly ?? false);
  }
}

export {
  assembleLibrary,
  BUNDLED_LIBRARIES,
  bundledLibrary,
  functionName,
  libraryInfoOn,
  libraryName,
  loadLibraryOn,
  parseLibrary,
  parseVersion,
  versionKeyInSlot,
  versionKeyOf,
} from './loader.js';
export type {
  BundledLibrary,
  LibraryInfo,
  LibrarySource,
  LoadAction,
  LoadOptions,
  LoadResult,
  LoaderNode,
} from './loader.js';
export type { BinaryOption, PayloadOf } from './payloads.js';
export { CyCode, codeError } from './codes.js';
export { Locks } from './locks.js';
export type { AcquireResult, LockOptions, LockStatus, MultiResult } from './locks.js';
export { Sema } from './sema.js';
export type { SemaAcquireResult } from './sema.js';
export { Rate } from './rate.js';
export type {
  LeakyBucketOptions,
  RateResult,
  SlidingWindowOptions,
  TokenBucketOptions,
} from './rate.js';
export { Queue, QUEUE_DEFAULTS } from './queue.js';
export type {
  DeadLetter,
  EnqueueOptions,
  NackOptions,
  PullOptions,
  QueueMessage,
  QueueStats,
} from './queue.js';
export { StreamQueue, DEFAULT_GROUP } from './streamq.js';
export type {
  ClaimOptions,
  ClaimResult,
  QuarantinedMessage,
  ReadOptions,
  StreamEnqueueOptions,
  StreamQueueMessage,
} from './streamq.js';
export { Cache } from './cache.js';
export type { CacheOptions, CacheResult, ValueOrLoader } from './cache.js';
export { Atomic } from './atomic.js';
export { Tokens } from './tokens.js';
