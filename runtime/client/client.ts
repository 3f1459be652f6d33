/**
 * HighPerformanceRedis: the client. One auto-pipelined connection for ordinary commands,
 * dedicated connections for blocking commands and WATCH, pub/sub on the main connection under
 * RESP3 (a dedicated one under RESP2), client-side-caching invalidations as events, and a
 * worker-thread pool for the seed's *Threaded methods.
 */
import { EventEmitter } from 'eventemitter3';
import {
  AbortError,
  ClosedError,
  InvalidArgumentError,
  ReplyError,
  WatchError,
} from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import { textOf } from './commands/replies.js';
import { MAYBE_BLOCKING, SAME_CONNECTION, blockTimeMs, blockingTimeout } from './blocking.js';
import { CommandFlags } from './command.js';
import type { CallOptions, Transform } from './command.js';
import { commands } from './commands/index.js';
import type { Commands } from './commands/index.js';
import { Connection } from './connection.js';
import type { ConnectionEvents } from './connection.js';
import type { Bound, Chained, Executor } from './executor.js';
import { resolveOptions, toClientOptions } from './options.js';
import type { ClientOptions, ResolvedOptions } from './options.js';
import { Multi, Pipeline } from './pipeline.js';
import type { SendFn } from './pipeline.js';
import { DedicatedPool } from './pool.js';
import { PubSub } from './pubsub.js';
import type { MessageListener, PubSubKind } from './pubsub.js';
import { Script } from './scripts.js';
import { ThreadedPool } from './threaded.js';
import { transportKind } from './transport.js';
import type { TransportKind } from './transport.js';

export interface ClientEvents extends ConnectionEvents {
  /** Client-side caching: keys invalidated by the server (null: everything, after FLUSHALL). */
  invalidate: [keys: string[] | null];
}

export interface TrackingOptions {
  /** Broadcast mode: invalidations for every key under `prefixes`, read or not. */
  bcast?: boolean;
  prefixes?: string[];
  /** Track only keys read right after CLIENT CACHING yes / all but after CLIENT CACHING no. */
  optIn?: boolean;
  optOut?: boolean;
  /** No invalidations for keys this connection itself modified. */
  noLoop?: boolean;
}

export interface PipelineWithCommands extends Pipeline, Chained<Commands, PipelineWithCommands> {}
export interface MultiWithCommands extends Multi, Chained<Commands, MultiWithCommands> {}
/** What a watch() callback reads through: the commands, on the watching connection. */
export type WatchContext = Bound<Commands> & {
  call(name: string, ...args: CommandArg[]): Promise<RespValue>;
  multi(): MultiWithCommands;
};

const INVALIDATE_CHANNEL = '__redis__:invalidate';

function isCallOptions(v: unknown): v is CallOptions {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

// The typed command methods are mixed into the prototype below (Object.assign), and this
// declaration merge types them: the mixin pattern, on purpose.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface HighPerformanceRedis extends Bound<Commands> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class HighPerformanceRedis extends EventEmitter<ClientEvents> implements Executor {
  readonly options: ResolvedOptions;
  readonly #main: Connection;
  readonly #pool: DedicatedPool;
  readonly #pubsub: PubSub;
  #subscriber: Connection | null = null;
  #tracking: TrackingOptions | null = null;
  #threaded: ThreadedPool | null = null;
  #closed = false;

  constructor(options: ClientOptions | string = {}) {
    super();
    this.options = resolveOptions(options);
    this.#pubsub = new PubSub(
      () => this.#pubsubConnection(),
      (err) => this.emit('error', err as Error),
    );
    this.#main = new Connection(this.options, {
      handshake: (conn) => this.#mainHandshake(conn),
      push: (frame) => this.#onPush(frame),
    });
    for (const event of ['connect', 'ready', 'reconnecting', 'end'] as const) {
      this.#main.on(event, (...args: unknown[]) =>
        (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      );
    }
    this.#main.on('error', (err) => this.emit('error', err));
    this.#pool = new DedicatedPool(this.options);
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
      const block = blockTimeMs(name, args);
      if (block !== null) {
        if (!SAME_CONNECTION.has(name)) return this.#blocking(args, transform, options, block);
        const timeoutMs = blockingTimeout(block, options?.timeoutMs, this.options.commandTimeoutMs);
        return this.#sendMain(args, transform, { ...options, timeoutMs });
      }
    }
    return this.#sendMain(args, transform, options);
  }

  /** Sends on the auto-pipelined connection, whatever the command (pipelines and MULTI use it). */
  #sendMain<T>(
    args: CommandArg[],
    transform: Transform<T> | undefined,
    options: CallOptions | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (options === undefined) {
        this.#main.send(args, resolve as (v: unknown) => void, reject, transform);
      } else {
        this.#main.send(
          args,
          resolve as (v: unknown) => void,
          reject,
          transform,
          options.timeoutMs ?? this.options.commandTimeoutMs,
          options.signal,
          CommandFlags.None,
          0,
          options.returnBuffers ?? this.options.returnBuffers,
        );
      }
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
    return this._send([name.toUpperCase(), ...(args as CommandArg[])], undefined, options);
  }

  /** Runs a command given as an argument array: `sendCommand(['SET', 'k', 'v'])`. */
  sendCommand<T = RespValue>(args: CommandArg[], options?: CallOptions): Promise<T> {
    if (!Array.isArray(args) || args.length === 0) {
      return Promise.reject(new InvalidArgumentError('args', 'must be a non-empty array'));
    }
    const [name, ...rest] = args;
    return this._send<T>([String(name).toUpperCase(), ...rest], undefined, options);
  }

  async #blocking<T>(
    args: CommandArg[],
    transform: Transform<T> | undefined,
    options: CallOptions | undefined,
    blockMs: number,
  ): Promise<T> {
    const timeoutMs = blockingTimeout(blockMs, options?.timeoutMs, this.options.commandTimeoutMs);
    if (options?.signal?.aborted)
      throw new AbortError(`${String(args[0])} was aborted before it was sent`);
    const conn = await this.#pool.acquire();
    try {
      const value = await new Promise<T>((resolve, reject) => {
        conn.send(
          args,
          resolve as (v: unknown) => void,
          reject,
          transform,
          timeoutMs,
          options?.signal,
          CommandFlags.None,
          0,
          options?.returnBuffers ?? this.options.returnBuffers,
        );
      });
      this.#pool.release(conn);
      return value;
    } catch (err) {
      // A timed-out or aborted blocking command is still blocked on the server: closing its
      // connection ends it there, so it can never pop an element nobody receives later.
      if (err instanceof ReplyError) this.#pool.release(conn);
      else this.#pool.destroy(conn);
      throw err;
    }
  }

  /** A dedicated connection with the same options (its own auto-pipelining and pub/sub). */
  duplicate(overrides: ClientOptions = {}): HighPerformanceRedis {
    return new HighPerformanceRedis({
      ...toClientOptions(this.options),
      lazyConnect: false,
      ...overrides,
    });
  }

  // ---- pipelines and transactions ----

  // Pipelines and MULTI queue everything on the auto-pipelined connection, blocking commands
  // too: inside MULTI they do not block, and a pipeline keeps its order.
  #mainSend: SendFn = (args, transform, options) => this.#sendMain(args, transform, options);

  /** Commands recorded, then sent in one write by exec(); results in order, errors as values. */
  pipeline(): PipelineWithCommands {
    return new PipelineImpl(this.#mainSend) as unknown as PipelineWithCommands;
  }

  /** MULTI ... EXEC in one write. */
  multi(): MultiWithCommands {
    return new MultiImpl(this.#mainSend) as unknown as MultiWithCommands;
  }

  /**
   * Optimistic transaction: WATCH `keys` on a dedicated connection, let `fn` read through the
   * context it gets and return the MULTI to run; if a watched key changed, run `fn` again (up to
   * maxAttempts), then WatchError. Resolves EXEC's results, or null if `fn` returned nothing.
   */
  async watch(
    keys: CommandArg[],
    fn: (
      tx: WatchContext,
    ) => Promise<MultiWithCommands | null | undefined> | MultiWithCommands | null | undefined,
    { maxAttempts = 10 }: { maxAttempts?: number } = {},
  ): Promise<unknown[] | null> {
    if (!Array.isArray(keys) || keys.length === 0)
      throw new InvalidArgumentError('keys', 'must be a non-empty array');
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new InvalidArgumentError('maxAttempts', 'must be a positive integer');
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#pool.acquire();
      const send = this.#dedicatedSend(conn);
      try {
        await send(['WATCH', ...keys]);
        const multi = await fn(new WatchContextImpl(send) as unknown as WatchContext);
        if (!multi) {
          await send(['UNWATCH']);
          this.#pool.release(conn);
          return null;
        }
        if (!(multi instanceof MultiImpl) || multi.sender !== send) {
          throw new InvalidArgumentError(
            'fn',
            'must return tx.multi() (a MULTI built on the watch context) or nothing',
          );
        }
        const results = await multi.exec();
        this.#pool.release(conn);
        return results;
      } catch (err) {
        if (conn.state === 'ready') {
          await send(['UNWATCH']).catch(() => {});
          this.#pool.release(conn);
        } else {
          this.#pool.destroy(conn);
        }
        if (!(err instanceof WatchError) || attempt >= maxAttempts) throw err;
      }
    }
  }

  /**
   * Runs `fn` with the commands on a dedicated connection of its own, given back afterwards:
   * for sequences other callers must not interleave with (writes then WAIT on exactly those
   * writes, a loop of blocking reads, CLIENT commands about one connection).
   */
  async isolated<T>(fn: (conn: WatchContext) => Promise<T>): Promise<T> {
    const conn = await this.#pool.acquire();
    try {
      const result = await fn(
        new WatchContextImpl(this.#dedicatedSend(conn)) as unknown as WatchContext,
      );
      this.#pool.release(conn);
      return result;
    } catch (err) {
      if (conn.state === 'ready' && err instanceof ReplyError) this.#pool.release(conn);
      else this.#pool.destroy(conn);
      throw err;
    }
  }

  #dedicatedSend(conn: Connection): SendFn {
    return (args, transform, options) =>
      new Promise((resolve, reject) =>
        conn.send(
          args,
          resolve,
          reject,
          transform,
          options?.timeoutMs ?? this.options.commandTimeoutMs,
          options?.signal,
          CommandFlags.None,
          0,
          options?.returnBuffers ?? this.options.returnBuffers,
        ),
      );
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
      if (typeof method === 'function' && op[0] !== 'call' && op[0] !== 'exec')
        method.apply(p, op.slice(1));
      else p.call(op[0], ...op.slice(1));
    }
    return (p as unknown as Pipeline).exec();
  }

  // ---- pub/sub ----

  subscribe(channels: string | string[], listener: MessageListener): Promise<void> {
    return this.#subscribe('channel', channels, listener);
  }
  psubscribe(patterns: string | string[], listener: MessageListener): Promise<void> {
    return this.#subscribe('pattern', patterns, listener);
  }
  ssubscribe(channels: string | string[], listener: MessageListener): Promise<void> {
    return this.#subscribe('shard', channels, listener);
  }
  unsubscribe(channels?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#pubsub.unsubscribe('channel', names(channels), listener);
  }
  punsubscribe(patterns?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#pubsub.unsubscribe('pattern', names(patterns), listener);
  }
  sunsubscribe(channels?: string | string[], listener?: MessageListener): Promise<void> {
    return this.#pubsub.unsubscribe('shard', names(channels), listener);
  }

  #subscribe(kind: PubSubKind, list: string | string[], listener: MessageListener): Promise<void> {
    const all = names(list);
    if (!all || all.length === 0 || all.some((n) => typeof n !== 'string')) {
      return Promise.reject(
        new InvalidArgumentError(
          kind === 'pattern' ? 'patterns' : 'channels',
          'must be a non-empty string or array of strings',
        ),
      );
    }
    if (typeof listener !== 'function')
      return Promise.reject(new InvalidArgumentError('listener', 'must be a function'));
    return this.#pubsub.subscribe(kind, all, listener);
  }

  /** RESP3: the main connection. RESP2: a dedicated subscriber connection. */
  async #pubsubConnection(): Promise<Connection> {
    if (this.#closed) throw new ClosedError();
    await this.#main.connect();
    return this.#main.protocol === 3 ? this.#main : this.#subscriberConnection();
  }

  /** The RESP2 subscriber connection (created on first use). Never waits for the main one. */
  async #subscriberConnection(): Promise<Connection> {
    if (!this.#subscriber) {
      const sub = new Connection(
        { ...this.options, protocol: 2 },
        {
          handshake: async (conn) => {
            await this.#pubsub.resubscribe(conn);
            // Tracking redirects to this connection's id, which changed: point it here again.
            if (this.#tracking && this.#main.state === 'ready' && this.#main.protocol === 2) {
              void this.#trackingOn(this.#main, this.#tracking, conn).catch((e: unknown) =>
                this.emit('error', e as Error),
              );
            }
          },
          push: (frame) => this.#onPush(frame),
        },
        true,
      );
      sub.on('error', (err) => this.emit('error', err));
      this.#subscriber = sub;
    }
    await this.#subscriber.connect();
    return this.#subscriber;
  }

  #onPush(frame: RespValue[]): void {
    const kind = textOf(frame[0]);
    if (kind === 'invalidate') {
      this.emit('invalidate', invalidatedKeys(frame[1]));
      return;
    }
    this.#pubsub.onPush(frame);
  }

  async #mainHandshake(conn: Connection): Promise<void> {
    if (conn.protocol === 3) await this.#pubsub.resubscribe(conn);
    if (this.#tracking) await this.#trackingOn(conn, this.#tracking);
  }

  // ---- client-side caching ----

  /** CLIENT TRACKING on; invalidations arrive as 'invalidate' events, and survive reconnects. */
  async enableTracking(options: TrackingOptions = {}): Promise<void> {
    await this.#main.connect();
    await this.#trackingOn(this.#main, options);
    this.#tracking = options;
  }

  async disableTracking(): Promise<void> {
    this.#tracking = null;
    await this._send(['CLIENT', 'TRACKING', 'OFF']);
  }

  async #trackingOn(conn: Connection, o: TrackingOptions, subscriber?: Connection): Promise<void> {
    const args: CommandArg[] = ['CLIENT', 'TRACKING', 'ON'];
    if (conn.protocol === 2) {
      // RESP2 has no push frames: invalidations go to a subscriber connection as messages.
      const sub = subscriber ?? (await this.#subscriberConnection());
      if (!this.#pubsub.subscriptions('channel').includes(INVALIDATE_CHANNEL)) {
        await this.#pubsub.subscribe('channel', [INVALIDATE_CHANNEL], (msg) => {
          this.emit('invalidate', invalidatedKeys(msg as RespValue));
        });
      }
      args.push('REDIRECT', String(sub.clientId));
    }
    if (o.bcast) args.push('BCAST');
    for (const p of o.prefixes ?? []) args.push('PREFIX', p);
    if (o.optIn) args.push('OPTIN');
    if (o.optOut) args.push('OPTOUT');
    if (o.noLoop) args.push('NOLOOP');
    await conn.sendInternal(args, CommandFlags.Internal);
  }

  // ---- scripts ----

  /** A Lua script run with EVALSHA, falling back to EVAL when the server lacks it (NOSCRIPT). */
  defineScript(source: string, options: { readOnly?: boolean } = {}): Script {
    return new Script(this, source, options);
  }

  // ---- worker threads ----

  #pool2(): ThreadedPool {
    if (this.#closed) throw new ClosedError();
    return (this.#threaded ??= new ThreadedPool(this.options));
  }

  /** SET on a worker thread that owns its own native connection. */
  setThreaded(key: CommandArg, value: CommandArg): Promise<string | null> {
    return this.#pool2().run<string | null>(['SET', key, value]);
  }
  /** GET on a worker thread that owns its own native connection. */
  getThreaded(key: CommandArg): Promise<string | null> {
    return this.#pool2().run<string | null>(['GET', key]);
  }
  /** XADD on a worker thread that owns its own native connection. */
  xaddThreaded(stream: CommandArg, fields: Record<string, CommandArg>, id = '*'): Promise<string> {
    const args: CommandArg[] = ['XADD', stream, id];
    for (const k of Object.keys(fields)) args.push(k, fields[k]);
    return this.#pool2().run<string>(args);
  }

  // ---- lifecycle ----

  /** Waits for in-flight replies, then closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([
      this.#main.close(),
      this.#subscriber?.close(),
      this.#pool.close(),
      this.#threaded?.close(),
    ]);
  }

  /** Closes at once; pending commands reject with ClosedError. */
  disconnect(): void {
    this.#closed = true;
    this.#main.disconnect();
    this.#subscriber?.disconnect();
    this.#pool.disconnect();
    void this.#threaded?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

Object.assign(HighPerformanceRedis.prototype, commands);

class PipelineImpl extends Pipeline {}
Object.assign(PipelineImpl.prototype, commands);
class MultiImpl extends Multi {
  override get sender(): SendFn {
    return super.sender;
  }
}
Object.assign(MultiImpl.prototype, commands);

class WatchContextImpl implements Executor {
  readonly #send: SendFn;
  constructor(send: SendFn) {
    this.#send = send;
  }
  _send<T>(args: CommandArg[], transform?: Transform<T>, options?: CallOptions): Promise<T> {
    return this.#send(args, transform, options) as Promise<T>;
  }
  _reject<T>(error: Error): Promise<T> {
    return Promise.reject(error);
  }
  call(name: string, ...args: CommandArg[]): Promise<unknown> {
    return this.#send([name.toUpperCase(), ...args]);
  }
  multi(): MultiWithCommands {
    return new MultiImpl(this.#send) as unknown as MultiWithCommands;
  }
}
Object.assign(WatchContextImpl.prototype, commands);

function names(list: string | string[] | undefined): string[] | undefined {
  return list === undefined ? undefined : Array.isArray(list) ? list : [list];
}

function invalidatedKeys(v: RespValue | undefined): string[] | null {
  if (v === null || v === undefined) return null;
  return (Array.isArray(v) ? v : [v]).map((k) =>
    Buffer.isBuffer(k) ? k.toString() : String(k as string),
  );
}

/** createClient('redis://...') or createClient({ ... }). */
export function createClient(options: ClientOptions | string = {}): HighPerformanceRedis {
  return new HighPerformanceRedis(options);
}
