/**
 * Connection: one socket to Redis, through its whole life.
 *
 *   idle -> connecting -> handshake -> ready -> (drop) -> connecting ... -> closed
 *
 * - Auto-pipelining: commands issued in one tick go to the Outbox and leave in one write
 *   (flushed on process.nextTick, after the tick's promise callbacks ran).
 * - Replies settle commands in order from a FIFO. Push frames go to the `push` hook; pub/sub
 *   confirmations also settle the (P|S)(UN)SUBSCRIBE command waiting for them at the FIFO head.
 * - While not ready, commands wait in a bounded offline queue (OfflineQueueFullError past it)
 *   and go out, in order, once the handshake (HELLO/AUTH/SETNAME, SELECT, hooks) is done.
 * - A drop rejects every written-but-unanswered command with ConnectionError (its outcome is
 *   unknown); commands not yet written go back to the offline queue. Nothing settles twice.
 * - Listener exceptions never corrupt this state: events are emitted after it is updated, and
 *   an exception thrown by a listener is rethrown on a later tick.
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
import { Command, CommandFlags, commandName, encode } from './command.js';
import type { Transform } from './command.js';
import { Fifo } from './fifo.js';
import { handshake, isFatalHandshakeError } from './handshake.js';
import type { ResolvedOptions } from './options.js';
import { Outbox } from './outbox.js';
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

/** One command of sendBatch(). */
export interface BatchItem {
  args: readonly unknown[];
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  transform?: Transform | undefined;
  returnBuffers: boolean;
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

/** Rethrows a listener's exception outside our state updates (as an uncaught exception). */
function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}

function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly options: ResolvedOptions;
  readonly #hooks: ConnectionHooks;
  /** RESP2 pub/sub connection: array frames whose first element is a pub/sub kind are pushes. */
  readonly #subscriber: boolean;
  #state: ConnectionState = 'idle';
  #transport: Transport | null = null;
  readonly #inflight = new Fifo<Command>(); // written (or in the outbox), awaiting replies
  readonly #offline = new Fifo<Command>(); // waiting for the connection to be ready
  #offlineLive = 0; // offline commands not dropped by a timeout or abort
  readonly #held = new Fifo<Command>(); // ready, but held back (see #mustHold)
  readonly #outbox = new Outbox();
  #flushScheduled = false;
  #unsent = 0; // commands at the FIFO tail a failed write did not send
  #pubsubInFlight = 0; // (P|S)(UN)SUBSCRIBE commands written and unanswered
  #skewed = false; // a pub/sub command got an ordinary reply: reply modes may be off by one
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #protocol: 2 | 3;
  #ready: ReturnType<typeof deferred<void>> | null = null;
  #closed: ReturnType<typeof deferred<void>> | null = null;
  #lastError: Error | null = null;
  #fatal: Error | null = null; // a handshake error no retry can fix
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

  /** CLIENT ID of the current socket (after the handshake; null if the user may not ask). */
  get clientId(): number | null {
    return this.#clientId;
  }

  /** Commands written and not yet answered. */
  get pending(): number {
    return this.#inflight.length;
  }

  /** The last connection error, if the connection is not ready. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** Connects (if idle) and resolves once ready; rejects on the first failure or a close. */
  connect(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed' || this.#state === 'closing') {
      return Promise.reject(new ClosedError());
    }
    if (!this.#ready) {
      this.#ready = deferred<void>();
      this.#ready.promise.catch(() => {}); // also reported through 'error'
    }
    const { promise } = this.#ready;
    if (this.#state === 'idle') this.#open();
    return promise;
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
    const cmd = new Command(
      encoded,
      commandName(args),
      resolve,
      reject,
      transform,
      flags,
      returnBuffers,
    );
    cmd.expect = expect;
    if (signal?.aborted) {
      cmd.fail(
        new AbortError(`${cmd.name} was aborted before it was sent`, { cause: signal.reason }),
      );
      return;
    }
    if (timeoutMs > 0 || signal) cmd.watch(timeoutMs, signal, this.#cancel);
    this.#dispatch([cmd]);
  }

  /**
   * Queues commands all or nothing (MULTI ... EXEC, a pipeline): if one cannot be encoded, or
   * the offline queue has no room for all of them, every one rejects and none is sent. The
   * timeout and signal watch the last one only (EXEC): the others always go out with it.
   */
  sendBatch(items: BatchItem[], timeoutMs: number, signal: AbortSignal | undefined): void {
    const cmds: Command[] = [];
    for (const it of items) {
      let encoded: string | Buffer;
      try {
        encoded = encode(it.args);
      } catch (err) {
        for (const other of items) other.reject(err as Error);
        return;
      }
      const flags = CommandFlags.Batch;
      cmds.push(
        new Command(
          encoded,
          commandName(it.args),
          it.resolve,
          it.reject,
          it.transform,
          flags,
          it.returnBuffers,
        ),
      );
    }
    if (cmds.length === 0) return;
    if (signal?.aborted) {
      const err = new AbortError(`${cmds[cmds.length - 1].name} was aborted before it was sent`, {
        cause: signal.reason,
      });
      for (const cmd of cmds) cmd.fail(err);
      return;
    }
    if (timeoutMs > 0 || signal) cmds[cmds.length - 1].watch(timeoutMs, signal, this.#cancel);
    this.#dispatch(cmds);
  }

  #dispatch(cmds: Command[]): void {
    const state = this.#state;
    if (state === 'ready' || (state === 'handshake' && cmds[0].flags & CommandFlags.Internal)) {
      for (const cmd of cmds) this.#writeOrHold(cmd);
      return;
    }
    if (state === 'closed' || state === 'closing') {
      const err = new ClosedError();
      for (const cmd of cmds) cmd.fail(err);
      return;
    }
    if (state === 'idle') {
      this.#open();
      if (this.#state === 'closed') {
        const err = this.#lastError ?? new ClosedError();
        for (const cmd of cmds) cmd.fail(err);
        return;
      }
    }
    if (this.#offlineLive + cmds.length > this.options.maxOfflineCommands) {
      const err = new OfflineQueueFullError(this.options.maxOfflineCommands);
      for (const cmd of cmds) cmd.fail(err);
      return;
    }
    for (const cmd of cmds) this.#queueOffline(cmd);
  }

  #queueOffline(cmd: Command, front = false): void {
    cmd.offline = true;
    this.#offlineLive++;
    if (front) this.#offline.unshift(cmd);
    else this.#offline.push(cmd);
  }

  /** Takes the next offline command to write; null when there is none. Dropped ones are skipped. */
  #nextOffline(): Command | null {
    for (let cmd = this.#offline.shift(); cmd !== undefined; cmd = this.#offline.shift()) {
      if (!cmd.offline) continue; // dropped by a timeout or abort while waiting
      cmd.offline = false;
      this.#offlineLive--;
      return cmd;
    }
    return null;
  }

  /** A timed-out or aborted command still offline is dropped there (it was never sent) — unless
   *  it belongs to a batch, which goes out whole. Dropping is lazy: O(1), skipped when taken. */
  readonly #cancel = (cmd: Command): void => {
    if (cmd.offline && !(cmd.flags & CommandFlags.Batch)) {
      cmd.offline = false;
      this.#offlineLive--;
    }
  };

  /**
   * A command that wants a reply mode other than the default must not be written while a
   * pub/sub command is unanswered or after one was answered by an ordinary reply (an error):
   * such a reply takes the mode announced for the next command, so modes could be off by one
   * until the connection has no reply pending. Everything after a held command is held too, so
   * order is kept. Rare: it needs per-call returnBuffers next to (P|S)SUBSCRIBE.
   */
  #mustHold(cmd: Command): boolean {
    return this.#held.length > 0 || this.#wrongMode(cmd);
  }

  /** Its reply could be read in the other mode now (see #mustHold). */
  #wrongMode(cmd: Command): boolean {
    return (
      cmd.returnBuffers !== this.options.returnBuffers && (this.#pubsubInFlight > 0 || this.#skewed)
    );
  }

  #writeOrHold(cmd: Command): void {
    if (this.#mustHold(cmd)) this.#held.push(cmd);
    else this.#write(cmd);
  }

  #releaseHeld(): void {
    for (let cmd = this.#held.peek(); cmd !== undefined; cmd = this.#held.peek()) {
      if (this.#wrongMode(cmd)) return;
      this.#held.shift();
      if (!cmd.settled || cmd.flags & CommandFlags.Batch) this.#write(cmd);
    }
  }

  #write(cmd: Command): void {
    this.#outbox.add(cmd);
    this.#inflight.push(cmd);
    if (cmd.flags & CommandFlags.PubSub) this.#pubsubInFlight++;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const size = this.#outbox.size;
    const batch = this.#outbox.take();
    if (batch === null) return;
    // Not written (the socket is closing): those commands count as unsent, for #onClose.
    if (!this.#transport?.write(batch.data, batch.count, batch.buffers)) this.#unsent += size;
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
      if (cmd.flags & CommandFlags.PubSub) {
        this.#pubsubInFlight--; // refused with an ordinary reply instead of confirmations
        this.#skewed = true;
      }
      if (reply instanceof ReplyError) cmd.fail(reply);
      else cmd.succeed(reply);
    }
    if (this.#inflight.length === 0) {
      this.#skewed = false; // nothing pending: the reader has no announced mode left
      if (this.#state === 'closing') this.#transport?.close();
    }
    if (this.#held.length > 0) this.#releaseHeld();
  };

  #onPush(data: RespValue[]): void {
    if (CONFIRM_KINDS.has(kindOf(data))) {
      const head = this.#inflight.peek();
      if (
        head !== undefined &&
        head.flags & CommandFlags.PubSub &&
        head.expect > 0 &&
        --head.expect === 0
      ) {
        this.#inflight.shift();
        this.#pubsubInFlight--;
        head.succeed(data);
      }
    }
    try {
      this.#hooks.push?.(data);
    } catch (err) {
      rethrowLater(err);
    }
  }

  #emit<E extends keyof ConnectionEvents>(event: E, ...args: ConnectionEvents[E]): void {
    try {
      (this.emit as (e: E, ...a: ConnectionEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      rethrowLater(err);
    }
  }

  #open(): void {
    this.#state = 'connecting';
    let transport: Transport;
    try {
      transport = openTransport(this.options, {
        connect: () => {
          if (this.#transport !== transport) return;
          if (this.#state === 'connecting') void this.#handshake(transport);
          else transport.close();
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

  /** Sends a command before the connection is ready (handshake, hooks) and waits for it. */
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

  async #handshake(transport: Transport): Promise<void> {
    this.#state = 'handshake';
    this.#emit('connect');
    try {
      const result = await handshake(this.options, (args) => this.sendInternal(args));
      this.#protocol = result.protocol;
      this.#clientId = result.clientId;
      if (this.#hooks.handshake) await this.#hooks.handshake(this);
    } catch (err) {
      if (isFatalHandshakeError(err)) this.#fatal = err as Error;
      if (this.#transport === transport) transport.close(err as Error);
      return;
    }
    if (this.#transport !== transport || this.#state !== 'handshake') return;
    clearTimeout(this.#timer);
    this.#state = 'ready';
    this.#attempt = 0;
    this.#lastError = null;
    for (let cmd = this.#nextOffline(); cmd !== null; cmd = this.#nextOffline())
      this.#writeOrHold(cmd);
    const ready = this.#ready;
    this.#ready = null;
    ready?.resolve();
    this.#emit('ready');
  }

  #onClose(err: Error | null): void {
    clearTimeout(this.#timer);
    this.#transport = null;
    // Commands whose bytes never left: safe to send again after reconnecting. They are the
    // FIFO's tail (still in the outbox, or in a write that failed) and everything held.
    const unsent: Command[] = [];
    for (let n = this.#outbox.size + this.#unsent; n > 0; n--)
      unsent.unshift(this.#inflight.pop()!);
    this.#outbox.clear();
    this.#unsent = 0;
    for (let cmd = this.#held.shift(); cmd !== undefined; cmd = this.#held.shift())
      unsent.push(cmd);
    // Written and unanswered: the outcome is unknown.
    const lost =
      err === null
        ? new ClosedError('The connection was closed')
        : err instanceof ConnectionError
          ? err
          : new ConnectionError(`Connection lost: ${err.message}`, { cause: err });
    for (let cmd = this.#inflight.shift(); cmd !== undefined; cmd = this.#inflight.shift())
      cmd.fail(lost);
    this.#pubsubInFlight = 0;
    this.#skewed = false;
    for (let i = unsent.length - 1; i >= 0; i--) {
      const cmd = unsent[i];
      if (cmd.flags & CommandFlags.Internal || (cmd.settled && !(cmd.flags & CommandFlags.Batch)))
        cmd.fail(lost);
      else this.#queueOffline(cmd, true);
    }

    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#finishClose();
      return;
    }
    const fatal = this.#fatal;
    this.#fatal = null;
    const r = this.options.reconnect;
    if (fatal !== null || r === null || this.#attempt >= r.maxAttempts) {
      this.#giveUp(fatal ?? err ?? new ConnectionError('Connection closed'));
      return;
    }
    this.#attempt++;
    const base = r.initialDelayMs * r.factor ** (this.#attempt - 1);
    const jittered = base * (1 + r.jitter * (Math.random() * 2 - 1));
    const delayMs = Math.round(Math.min(r.maxDelayMs, Math.max(0, jittered)));
    // Offline commands that waited through too many failed attempts give up.
    const giveUp = this.#attempt > 1 ? this.options.maxRetriesPerCommand : Infinity;
    for (const cmd of this.#offline.drain()) {
      if (!cmd.offline) continue;
      if (++cmd.retries > giveUp) {
        cmd.offline = false;
        this.#offlineLive--;
        const message = `${cmd.name} failed: gave up after ${cmd.retries - 1} reconnect attempts (${err?.message ?? 'closed'})`;
        cmd.fail(new ConnectionError(message, { cause: err }));
      } else {
        this.#offline.push(cmd);
      }
    }
    this.#state = 'connecting';
    this.#lastError = err;
    this.#timer = setTimeout(() => {
      if (this.#state === 'connecting' && this.#transport === null) this.#open();
    }, delayMs);
    const ready = this.#ready;
    this.#ready = null;
    if (err) {
      ready?.reject(err); // connect() reports the first failure; reconnecting goes on
      this.#emit('error', err);
    }
    this.#emit('reconnecting', { attempt: this.#attempt, delayMs, error: err });
  }

  #failOffline(err: Error): void {
    for (let cmd = this.#nextOffline(); cmd !== null; cmd = this.#nextOffline()) cmd.fail(err);
  }

  #giveUp(err: Error): void {
    this.#state = 'closed';
    this.#lastError = err;
    this.#failOffline(
      err instanceof ConnectionError || err instanceof ReplyError
        ? err
        : new ConnectionError(err.message, { cause: err }),
    );
    const ready = this.#ready;
    this.#ready = null;
    ready?.reject(err);
    this.#emit('error', err);
    this.#emit('end');
  }

  #finishClose(): void {
    this.#state = 'closed';
    this.#failOffline(new ClosedError());
    const ready = this.#ready;
    this.#ready = null;
    ready?.reject(new ClosedError());
    this.#closed?.resolve();
    this.#emit('end');
  }

  /**
   * Waits for every written command's reply, then closes. New commands reject with
   * ClosedError, and so do queued ones. Not yet ready: stops connecting at once.
   */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#closed ??= deferred<void>();
    const { promise } = this.#closed;
    if (this.#state === 'closing') return promise;
    const wasReady = this.#state === 'ready';
    this.#state = 'closing';
    clearTimeout(this.#timer);
    this.#failOffline(new ClosedError());
    const transport = this.#transport;
    if (transport === null) this.#finishClose();
    else if (!wasReady || (this.#inflight.length === 0 && this.#held.length === 0))
      transport.close();
    // else: the last in-flight reply closes the socket (see #onReplies)
    return promise;
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
