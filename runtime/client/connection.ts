/**
 * Connection: one socket to Redis, through its whole life.
 *
 *   idle -> connecting -> handshake -> ready -> (drop) -> connecting ... -> closed
 *
 * - Auto-pipelining: commands issued in one tick are appended to one string and leave in one
 *   write (flushed on process.nextTick, after the tick's promise callbacks ran).
 * - Replies settle commands in order from a FIFO. Push frames go to `onPush`; pub/sub
 *   confirmations also settle the (P|S)SUBSCRIBE commands waiting for them at the FIFO head.
 * - While not ready, commands wait in a bounded offline queue (OfflineQueueFullError past it)
 *   and go out, in order, once the handshake (HELLO/AUTH/SETNAME, SELECT, hooks) is done.
 * - A drop rejects every written-but-unanswered command with ConnectionError (its outcome is
 *   unknown); commands not yet written go back to the offline queue. Nothing settles twice.
 */
import { EventEmitter } from 'eventemitter3';
import {
  AbortError,
  ClosedError,
  ConnectionError,
  OfflineQueueFullError,
  ReplyError,
  TimeoutError,
} from '../errors.js';
import { PushMessage } from '../protocol/index.js';
import type { RespValue } from '../protocol/index.js';
import { Command, CommandFlags, encode } from './command.js';
import type { Transform } from './command.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions } from './options.js';
import { openTransport } from './transport.js';
import type { Transport, TransportKind } from './transport.js';

export type ConnectionState = 'idle' | 'connecting' | 'handshake' | 'ready' | 'closing' | 'closed';

export interface ConnectionEvents {
  connect: [];
  ready: [];
  error: [error: Error];
  reconnecting: [info: { attempt: number; delayMs: number; error: Error | null }];
  end: [];
}

export interface ConnectionHooks {
  /** Runs after AUTH/SELECT on every (re)connect, before queued commands go out. */
  handshake?: (conn: Connection) => Promise<void>;
  /** Every push frame (RESP3) or pub/sub frame (RESP2 subscriber connection). */
  push?: (data: RespValue[]) => void;
}

/** Push kinds that confirm a (P|S)(UN)SUBSCRIBE command. */
const CONFIRM_KINDS = new Set([
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
]);
/** Every pub/sub frame kind (a RESP2 subscriber connection receives them as arrays). */
const PUBSUB_KINDS = new Set([...CONFIRM_KINDS, 'message', 'pmessage', 'smessage']);

function kindOf(frame: RespValue[]): string {
  const k = frame[0];
  return typeof k === 'string' ? k : Buffer.isBuffer(k) ? k.toString() : '';
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly options: ResolvedOptions;
  readonly #hooks: ConnectionHooks;
  /** RESP2 pub/sub connection: array frames whose first element is a pub/sub kind are pushes. */
  readonly #subscriber: boolean;
  #state: ConnectionState = 'idle';
  #transport: Transport | null = null;
  #inflight = new Fifo<Command>();
  #offline = new Fifo<Command>();
  #out = '';
  #outParts: (string | Buffer)[] | null = null;
  #unflushed = 0; // commands at the FIFO tail whose bytes are still in #out
  // Replies the unflushed commands expect, announced to the reader with the write: the
  // current run (#runCount replies, Buffers or not) after earlier runs [count, flag, ...].
  #runCount = 0;
  #runBuffers = false;
  #runs: number[] | null = null;
  #flushScheduled = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #protocol: 2 | 3;
  #ready: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  #closed: { promise: Promise<void>; resolve: () => void } | null = null;
  #lastError: Error | null = null;
  #clientId: number | null = null;

  constructor(options: ResolvedOptions, hooks: ConnectionHooks = {}, subscriber = false) {
    super();
    this.options = options;
    this.#hooks = hooks;
    this.#subscriber = subscriber;
    this.#protocol = options.protocol;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The RESP version in use (3 unless the server lacks HELLO or options.protocol is 2). */
  get protocol(): 2 | 3 {
    return this.#protocol;
  }

  get transportKind(): TransportKind | null {
    return this.#transport?.kind ?? null;
  }

  /** CLIENT ID of the current socket (known after the handshake). */
  get clientId(): number | null {
    return this.#clientId;
  }

  /** Commands written and not yet answered. */
  get pending(): number {
    return this.#inflight.length;
  }

  /** Connects (if idle) and resolves once ready; rejects if it gives up or is closed. */
  connect(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed' || this.#state === 'closing')
      return Promise.reject(new ClosedError());
    if (!this.#ready) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // also reported through 'error'; unhandled only if awaited
      this.#ready = { promise, resolve, reject };
    }
    if (this.#state === 'idle') this.#open();
    return this.#ready.promise;
  }

  /**
   * Queues a command. Settles through resolve/reject; never throws.
   * `flags` are CommandFlags; `expect` is the number of pub/sub confirmations for PubSub.
   */
  send(
    args: readonly unknown[],
    resolve: (v: unknown) => void,
    reject: (e: Error) => void,
    transform?: Transform,
    timeoutMs = this.options.commandTimeoutMs,
    signal?: AbortSignal,
    flags: number = CommandFlags.None,
    expect = 0,
    returnBuffers = this.options.returnBuffers,
  ): void {
    let encoded: string | Buffer;
    try {
      encoded = encode(args);
    } catch (err) {
      reject(err as Error);
      return;
    }
    const name = typeof args[0] === 'string' ? args[0] : String(args[0]);
    const cmd = new Command(encoded, name, resolve, reject, transform, flags, returnBuffers);
    cmd.expect = expect;
    if (signal?.aborted) {
      cmd.fail(new AbortError(`${name} was aborted before it was sent`, { cause: signal.reason }));
      return;
    }
    if (timeoutMs > 0 || signal) cmd.watch(timeoutMs, signal, this.#cancel);
    this.#dispatch(cmd);
  }

  #dispatch(cmd: Command): void {
    const state = this.#state;
    if (state === 'ready' || (state === 'handshake' && cmd.flags & CommandFlags.Internal)) {
      this.#write(cmd);
      return;
    }
    if (state === 'closed' || state === 'closing') {
      cmd.fail(new ClosedError());
      return;
    }
    if (this.#offline.length >= this.options.maxOfflineCommands) {
      cmd.fail(new OfflineQueueFullError(this.options.maxOfflineCommands));
      return;
    }
    this.#offline.push(cmd);
    if (state === 'idle') this.#open();
  }

  /** A timed-out or aborted command still offline is dropped there (it was never sent). */
  readonly #cancel = (cmd: Command): void => {
    this.#offline.remove(cmd);
  };

  #write(cmd: Command): void {
    const enc = cmd.encoded;
    if (typeof enc === 'string' && this.#outParts === null) {
      this.#out += enc;
    } else {
      if (this.#outParts === null) {
        this.#outParts = this.#out ? [this.#out] : [];
        this.#out = '';
      }
      this.#outParts.push(enc);
    }
    this.#inflight.push(cmd);
    this.#unflushed++;
    // Announce the reply this command expects (pub/sub commands are answered by push frames).
    if (!(cmd.flags & CommandFlags.PubSub)) {
      if (this.#runCount === 0 || cmd.returnBuffers === this.#runBuffers) {
        this.#runBuffers = cmd.returnBuffers;
        this.#runCount++;
      } else {
        (this.#runs ??= []).push(this.#runCount, this.#runBuffers ? 1 : 0);
        this.#runBuffers = cmd.returnBuffers;
        this.#runCount = 1;
      }
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#unflushed === 0) return;
    const data =
      this.#outParts === null
        ? this.#out
        : Buffer.concat(this.#outParts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    const runs = this.#runs;
    const count = this.#runCount;
    const buffers = this.#runBuffers;
    this.#out = '';
    this.#outParts = null;
    this.#unflushed = 0;
    this.#runs = null;
    this.#runCount = 0;
    if (runs === null) {
      this.#transport?.write(data, count, buffers);
    } else {
      runs.push(count, buffers ? 1 : 0);
      this.#transport?.write(data, runs, false);
    }
  };

  readonly #onReplies = (replies: RespValue[]): void => {
    for (let i = 0; i < replies.length; i++) {
      const reply = replies[i]!;
      if (reply instanceof PushMessage) {
        this.#onPush(reply.data);
        continue;
      }
      if (this.#subscriber && Array.isArray(reply) && PUBSUB_KINDS.has(kindOf(reply))) {
        this.#onPush(reply);
        continue;
      }
      const cmd = this.#inflight.shift();
      if (cmd === undefined) {
        this.#transport?.close(
          new ConnectionError('Protocol desync: a reply arrived with no command waiting for it'),
        );
        return;
      }
      if (reply instanceof ReplyError) cmd.fail(reply);
      else cmd.succeed(reply);
    }
    if (this.#state === 'closing' && this.#inflight.length === 0) this.#transport?.close();
  };

  #onPush(data: RespValue[]): void {
    const kind = kindOf(data);
    if (CONFIRM_KINDS.has(kind)) {
      const head = this.#inflight.peek();
      if (
        head !== undefined &&
        head.flags & CommandFlags.PubSub &&
        head.expect > 0 &&
        --head.expect === 0
      ) {
        this.#inflight.shift();
        head.succeed(data);
      }
    }
    this.#hooks.push?.(data);
  }

  #open(): void {
    this.#state = 'connecting';
    let transport: Transport;
    try {
      transport = openTransport(this.options, {
        connect: () => {
          if (this.#transport === transport) void this.#handshake(transport);
        },
        replies: this.#onReplies,
        close: (err) => {
          if (this.#transport === transport) this.#onClose(err);
        },
      });
    } catch (err) {
      this.#giveUp(err as Error);
      return;
    }
    this.#transport = transport;
    this.#timer = setTimeout(() => {
      transport.close(
        new TimeoutError(`Connection timeout after ${this.options.connectTimeoutMs} ms`),
      );
    }, this.options.connectTimeoutMs);
  }

  /** Sends a handshake command and waits for its reply. */
  #internal(args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.send(args, resolve, reject, undefined, 0, undefined, CommandFlags.Internal);
    });
  }

  async #handshake(transport: Transport): Promise<void> {
    this.#state = 'handshake';
    this.emit('connect');
    const o = this.options;
    try {
      let protocol: 2 | 3 = 2;
      if (o.protocol === 3) {
        const hello: unknown[] = ['HELLO', '3'];
        if (o.password !== null) hello.push('AUTH', o.username ?? 'default', o.password);
        if (o.name !== null) hello.push('SETNAME', o.name);
        try {
          await this.#internal(hello);
          protocol = 3;
        } catch (err) {
          // Servers before 6.0 do not know HELLO: stay on RESP2.
          if (!(err instanceof ReplyError) || !/unknown command|NOPROTO/i.test(err.message))
            throw err;
        }
      }
      if (protocol === 2) {
        if (o.password !== null) {
          await this.#internal(
            o.username !== null ? ['AUTH', o.username, o.password] : ['AUTH', o.password],
          );
        }
        if (o.name !== null) await this.#internal(['CLIENT', 'SETNAME', o.name]);
      }
      this.#protocol = protocol;
      this.#clientId = (await this.#internal(['CLIENT', 'ID'])) as number;
      if (o.db !== 0) await this.#internal(['SELECT', o.db]);
      if (this.#hooks.handshake) await this.#hooks.handshake(this);
    } catch (err) {
      if (this.#transport === transport) transport.close(err as Error);
      return;
    }
    if (this.#transport !== transport || this.#state !== 'handshake') return;
    clearTimeout(this.#timer);
    this.#state = 'ready';
    this.#attempt = 0;
    this.#lastError = null;
    for (let cmd = this.#offline.shift(); cmd !== undefined; cmd = this.#offline.shift()) {
      if (!cmd.settled) this.#write(cmd);
    }
    this.emit('ready');
    this.#ready?.resolve();
    this.#ready = null;
  }

  /** Sends a command during the handshake hooks (before ready). */
  sendInternal(args: unknown[], flags = CommandFlags.Internal, expect = 0): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.send(
        args,
        resolve,
        reject,
        undefined,
        0,
        undefined,
        flags | CommandFlags.Internal,
        expect,
      );
    });
  }

  #onClose(err: Error | null): void {
    clearTimeout(this.#timer);
    this.#transport = null;
    // Commands whose bytes never left: safe to send again after reconnecting.
    const unsent: Command[] = [];
    for (; this.#unflushed > 0; this.#unflushed--) unsent.unshift(this.#inflight.pop()!);
    this.#out = '';
    this.#outParts = null;
    this.#runs = null;
    this.#runCount = 0;
    // Written and unanswered: the outcome is unknown.
    const lost =
      err === null
        ? new ClosedError('The connection was closed')
        : err instanceof ConnectionError
          ? err
          : new ConnectionError(`Connection lost: ${err.message}`, { cause: err });
    for (let cmd = this.#inflight.shift(); cmd !== undefined; cmd = this.#inflight.shift())
      cmd.fail(lost);
    for (let i = unsent.length - 1; i >= 0; i--) {
      const cmd = unsent[i];
      if (cmd.flags & CommandFlags.Internal) cmd.fail(lost);
      else this.#offline.unshift(cmd);
    }

    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#finishClose();
      return;
    }
    if (err) {
      this.#lastError = err;
      this.emit('error', err);
      // connect() reports the first failure; reconnecting goes on for queued commands.
      this.#ready?.reject(err);
      this.#ready = null;
    }
    const r = this.options.reconnect;
    if (r === null || this.#attempt >= r.maxAttempts) {
      this.#giveUp(err ?? new ConnectionError('Connection closed'));
      return;
    }
    this.#attempt++;
    const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** (this.#attempt - 1));
    const delayMs = Math.max(0, Math.round(base * (1 + r.jitter * (Math.random() * 2 - 1))));
    // Offline commands that waited through too many failed attempts give up.
    for (const cmd of this.#offline.drain()) {
      if (cmd.settled) continue;
      if (this.#attempt > 1 && ++cmd.retries > this.options.maxRetriesPerCommand) {
        cmd.fail(
          new ConnectionError(
            `${cmd.name} failed: gave up after ${cmd.retries - 1} reconnect attempts (${err?.message ?? 'closed'})`,
            { cause: err },
          ),
        );
      } else {
        this.#offline.push(cmd);
      }
    }
    this.#state = 'connecting';
    this.emit('reconnecting', { attempt: this.#attempt, delayMs, error: err });
    this.#timer = setTimeout(() => {
      if (this.#state === 'connecting' && this.#transport === null) {
        this.#state = 'idle';
        this.#open();
      }
    }, delayMs);
  }

  #giveUp(err: Error): void {
    this.#state = 'closed';
    this.#lastError = err;
    for (const cmd of this.#offline.drain())
      cmd.fail(
        err instanceof ConnectionError ? err : new ConnectionError(err.message, { cause: err }),
      );
    this.#ready?.reject(err);
    this.#ready = null;
    this.emit('end');
  }

  #finishClose(): void {
    this.#state = 'closed';
    for (const cmd of this.#offline.drain()) cmd.fail(new ClosedError());
    this.#ready?.reject(new ClosedError());
    this.#ready = null;
    this.#closed?.resolve();
    this.emit('end');
  }

  /** The last connection error, if the connection is not ready. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** Waits for every written command's reply, then closes. New commands reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (!this.#closed) {
      let resolve!: () => void;
      this.#closed = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    }
    const closed = this.#closed.promise;
    if (this.#state !== 'closing') {
      this.#state = 'closing';
      clearTimeout(this.#timer);
      for (const cmd of this.#offline.drain()) cmd.fail(new ClosedError());
      if (this.#transport === null) {
        this.#finishClose();
        return closed;
      }
      // Without QUIT: the last in-flight reply closes the socket (see #onReplies).
      if (this.#inflight.length === 0) this.#transport.close();
    }
    return closed;
  }

  /** Closes at once: in-flight and queued commands reject with ClosedError. */
  disconnect(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    clearTimeout(this.#timer);
    const transport = this.#transport;
    if (transport) transport.close();
    else this.#finishClose();
  }
}
