/**
 * HighPerformanceRedis: the client. One auto-pipelined connection for ordinary commands,
 * dedicated connections for blocking commands, WATCH and isolated() (dedicated.ts), pub/sub
 * on the main connection under RESP3 or a dedicated one under RESP2 (subscriptions.ts),
 * client-side-caching invalidations as events, and a worker-thread pool for the seed's
 * *Threaded methods.
 */
import { EventEmitter } from 'eventemitter3';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import { MAYBE_BLOCKING, SAME_CONNECTION, blockTimeMs } from './blocking.js';
import type { CallOptions, Transform } from './command.js';
import { commands } from './commands/index.js';
import type { Commands } from './commands/index.js';
import { Connection } from './connection.js';
import type { ConnectionEvents } from './connection.js';
import { Dedicated } from './dedicated.js';
import type { WatchFn } from './dedicated.js';
import type { Bound, Executor } from './executor.js';
import { newMulti, newPipeline } from './mixins.js';
import type { MultiWithCommands, PipelineWithCommands, WatchContext } from './mixins.js';
import { resolveOptions, toClientOptions } from './options.js';
import type { ClientOptions, ResolvedOptions } from './options.js';
import type { BatchFn } from './pipeline.js';
import type { MessageListener } from './pubsub.js';
import { Script } from './scripts.js';
import { checkCallOptions, isCallOptions, refused, sendOn, timeoutFor } from './send.js';
import { Subscriptions } from './subscriptions.js';
import type { TrackingOptions } from './subscriptions.js';
import { ThreadedPool } from './threaded.js';
import { transportKind } from './transport.js';
import type { TransportKind } from './transport.js';

export type { MultiWithCommands, PipelineWithCommands, WatchContext } from './mixins.js';
export type { TrackingOptions } from './subscriptions.js';

export interface ClientEvents extends ConnectionEvents {
  /** Client-side caching: keys invalidated by the server (null: everything, after FLUSHALL). */
  invalidate: [keys: string[] | null];
}

// The typed command methods are mixed into the prototype below (Object.assign), and this
// declaration merge types them: the mixin pattern, on purpose.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface HighPerformanceRedis extends Bound<Commands> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class HighPerformanceRedis extends EventEmitter<ClientEvents> implements Executor {
  readonly options: ResolvedOptions;
  readonly #main: Connection;
  readonly #dedicated: Dedicated;
  readonly #subs: Subscriptions;
  #threaded: ThreadedPool | null = null;
  #closed = false;

  constructor(options: ClientOptions | string = {}) {
    super();
    this.options = resolveOptions(options);
    const emit = this.emit.bind(this) as (event: string, ...args: unknown[]) => boolean;
    this.#subs = new Subscriptions(
      this.options,
      () => this.#main,
      emit,
      () => this.#closed,
    );
    this.#main = new Connection(this.options, {
      handshake: (conn) => this.#subs.mainHandshake(conn),
      push: (frame) => this.#subs.onPush(frame),
    });
    for (const event of ['connect', 'ready', 'error', 'reconnecting', 'end'] as const) {
      this.#main.on(event, (...args: unknown[]) => emit(event, ...args));
    }
    this.#dedicated = new Dedicated(this.options);
    if (!this.options.lazyConnect) void this.#main.connect().catch(() => {});
  }

  /** Connects now (lazyConnect) and resolves when ready; rejects on the first failure. */
  async connect(): Promise<this> {
    await this.#main.connect();
    return this;
  }

  /** The state of the main connection. */
  get status(): Connection['state'] {
    return this.#main.state;
  }

  /** The RESP version the main connection speaks (after connecting). */
  get protocol(): 2 | 3 {
    return this.#main.protocol;
  }

  /** The transport the main connection uses ('native', 'node-net' or 'node-tls'). */
  get transport(): TransportKind {
    return this.#main.transportKind ?? transportKind(this.options);
  }

  /** @internal The one send path of every typed command. */
  _send<T = RespValue>(
    args: CommandArg[],
    transform?: Transform<T>,
    options?: CallOptions,
  ): Promise<T> {
    const name = args[0] as string;
    if (MAYBE_BLOCKING.has(name)) {
      // WAIT/WAITAOF measure the writes of the connection they run on: they stay on this one.
      if (!SAME_CONNECTION.has(name) && blockTimeMs(name, args) !== null) {
        return this.#dedicated.blocking(args, transform, options);
      }
      return sendOn(this.#main, this.options, args, transform, options);
    }
    if (options !== undefined) return sendOn(this.#main, this.options, args, transform, options);
    // The hot path: no per-call options to resolve.
    return new Promise<T>((resolve, reject) => {
      this.#main.send(args, resolve as (v: unknown) => void, reject, transform);
    });
  }

  /** @internal */
  _reject<T = never>(error: Error): Promise<T> {
    return Promise.reject(error);
  }

  /**
   * Runs any command: `call('HSET', 'h', 'f', 'v')`. A trailing `{ signal, timeoutMs,
   * returnBuffers }` object applies to this call only.
   */
  call(name: string, ...args: (CommandArg | CallOptions)[]): Promise<RespValue> {
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new InvalidArgumentError('name', 'must be a non-empty command name'));
    }
    const last = args[args.length - 1];
    const options = isCallOptions(last) ? (args.pop() as CallOptions) : undefined;
    return this.#byName([name, ...(args as CommandArg[])], options);
  }

  /** Runs a command given as an argument array: `sendCommand(['SET', 'k', 'v'])`. */
  sendCommand<T = RespValue>(args: CommandArg[], options?: CallOptions): Promise<T> {
    if (!Array.isArray(args) || args.length === 0) {
      return Promise.reject(new InvalidArgumentError('args', 'must be a non-empty array'));
    }
    return this.#byName(args, options) as Promise<T>;
  }

  #byName(args: CommandArg[], options: CallOptions | undefined): Promise<RespValue> {
    const name = String(args[0]).toUpperCase();
    const refusal = refused(name);
    if (refusal) return Promise.reject(refusal);
    return this._send([name, ...args.slice(1)], undefined, options);
  }

  /** A new client with the same options (its own connections). */
  duplicate(overrides: ClientOptions = {}): HighPerformanceRedis {
    return new HighPerformanceRedis({
      ...toClientOptions(this.options),
      lazyConnect: false,
      ...overrides,
    });
  }

  // ---- pipelines and transactions ----

  // Pipelines and MULTI go out whole on the auto-pipelined connection, blocking commands too:
  // inside MULTI they do not block, and a pipeline keeps its order.
  readonly #mainBatch: BatchFn = (items, options) => {
    checkCallOptions(options);
    this.#main.sendBatch(
      items,
      timeoutFor(['EXEC'], options, this.options.commandTimeoutMs),
      options?.signal,
    );
  };

  /** Commands recorded, then sent in one write by exec(); results in order, errors as values. */
  pipeline(): PipelineWithCommands {
    return newPipeline(this.#mainBatch, this.options.returnBuffers);
  }

  /** MULTI ... EXEC in one write. */
  multi(): MultiWithCommands {
    return newMulti(this.#mainBatch, this.options.returnBuffers);
  }

  /**
   * Optimistic transaction: WATCH `keys` on a dedicated connection, let `fn` read through the
   * context it gets and return the MULTI to run; if a watched key changed, run `fn` again (up to
   * maxAttempts), then WatchError. Resolves EXEC's results, or null if `fn` returned nothing.
   */
  watch(
    keys: CommandArg[],
    fn: WatchFn,
    { maxAttempts = 10 }: { maxAttempts?: number } = {},
  ): Promise<unknown[] | null> {
    return this.#dedicated.watch(keys, fn, maxAttempts);
  }

  /**
   * Runs `fn` with the commands on a dedicated connection of its own, given back afterwards:
   * for sequences other callers must not interleave with (writes then WAIT on exactly those
   * writes, a loop of blocking reads, CLIENT commands about one connection).
   */
  isolated<T>(fn: (conn: WatchContext) => Promise<T>): Promise<T> {
    return this.#dedicated.isolated(fn);
  }

  /** The seed's batch_operations: [['set', 'k', 'v'], ['mget', ['a', 'b']], ...] in one write. */
  batchOperations(operations: [string, ...unknown[]][]): Promise<unknown[]> {
    if (!Array.isArray(operations))
      return Promise.reject(new InvalidArgumentError('operations', 'must be an array'));
    const p = this.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i];
      if (!Array.isArray(op) || typeof op[0] !== 'string') {
        return Promise.reject(
          new InvalidArgumentError(`operations[${i}]`, 'must be [commandName, ...args]'),
        );
      }
      const method = p[op[0]] ?? p[op[0].toLowerCase()];
      if (typeof method === 'function' && !['call', 'exec', 'sendsThrough'].includes(op[0])) {
        method.apply(p, op.slice(1));
      } else {
        const refusal = refused(op[0].toUpperCase());
        if (refusal) return Promise.reject(refusal);
        p.call(op[0], ...op.slice(1));
      }
    }
    return (p as unknown as PipelineWithCommands).exec();
  }

  // ---- pub/sub and client-side caching (subscriptions.ts) ----

  subscribe(channels: string | string[], listener: MessageListener): Promise<void> {
    return this.#subs.subscribe('channel', channels, listener);
  }
  psubscribe(patterns: string | string[], listener: MessageListener): Promise<void> {
    return this.#subs.subscribe('pattern', patterns, listener);
  }
  ssubscribe(channels: string | string[], listener: MessageListener): Promise<void> {
    return this.#subs.subscribe('shard', channels, listener);
  }
  unsubscribe(channels?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#subs.unsubscribe('channel', channels, listener);
  }
  punsubscribe(patterns?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#subs.unsubscribe('pattern', patterns, listener);
  }
  sunsubscribe(channels?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#subs.unsubscribe('shard', channels, listener);
  }

  /** CLIENT TRACKING on; invalidations arrive as 'invalidate' events, and survive reconnects. */
  enableTracking(options: TrackingOptions = {}): Promise<void> {
    return this.#subs.enableTracking(options);
  }

  disableTracking(): Promise<void> {
    return this.#subs.disableTracking();
  }

  // ---- scripts ----

  /** A Lua script run with EVALSHA, falling back to EVAL when the server lacks it (NOSCRIPT). */
  defineScript(source: string, options: { readOnly?: boolean } = {}): Script {
    return new Script(this, source, options);
  }

  // ---- worker threads ----

  #threads(): ThreadedPool {
    if (this.#closed) throw new ClosedError();
    return (this.#threaded ??= new ThreadedPool(this.options));
  }

  /** SET on a worker thread that owns its own native connection. */
  setThreaded(key: CommandArg, value: CommandArg): Promise<string | null> {
    return this.#threads().run<string | null>(['SET', key, value]);
  }
  /** GET on a worker thread that owns its own native connection. */
  getThreaded(key: CommandArg): Promise<string | null> {
    return this.#threads().run<string | null>(['GET', key]);
  }
  /** XADD on a worker thread that owns its own native connection. */
  xaddThreaded(stream: CommandArg, fields: Record<string, CommandArg>, id = '*'): Promise<string> {
    if (typeof fields !== 'object' || fields === null || Object.keys(fields).length === 0) {
      return Promise.reject(new InvalidArgumentError('fields', 'must be a non-empty object'));
    }
    const args: CommandArg[] = ['XADD', stream, id];
    for (const k of Object.keys(fields)) args.push(k, fields[k]);
    return this.#threads().run<string>(args);
  }

  // ---- lifecycle ----

  /** Waits for in-flight replies, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([
      this.#main.close(),
      this.#subs.close(),
      this.#dedicated.pool.close(),
      this.#threaded?.close(),
    ]);
  }

  /** Closes at once; pending commands reject with ClosedError. */
  disconnect(): void {
    this.#closed = true;
    this.#main.disconnect();
    this.#subs.disconnect();
    this.#dedicated.pool.disconnect();
    void this.#threaded?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

Object.assign(HighPerformanceRedis.prototype, commands);

/** createClient('redis://...') or createClient({ ... }). */
export function createClient(options: ClientOptions | string = {}): HighPerformanceRedis {
  return new HighPerformanceRedis(options);
}
