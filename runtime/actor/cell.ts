/**
 * ActorCell: one actor inside a worker thread — its mailbox (which outlives incarnations, so
 * messages wait across a restart), its p-queue (per-actor concurrency, default 1: in order),
 * its current incarnation (definition, context, abort signal, timers) and its counters.
 *
 *   mode:  queue ── accepts messages      standby ── singleton held elsewhere: calls reject
 *          removed ── stopped for good: calls reject with ActorDiedError
 *   state: idle → starting → running → (stopping | failed) → idle → starting ...
 */
import PQueue from 'p-queue';
import { format } from 'node:util';
import type { HighPerformanceRedis } from '../client/index.js';
import {
  ActorDiedError,
  HandlerTimeoutError,
  InvalidArgumentError,
  ShutdownError,
  TimeoutError,
} from '../errors.js';
import type {
  ActorCallOptions,
  ActorContext,
  ActorCounter,
  ActorDefinition,
  ActorRef,
  ActorSendOptions,
  ActorStopReason,
  OffloadModule,
  OffloadOptions,
} from './define.js';
import { emptyHistogram, record } from './histogram.js';
import { Fifo } from '../client/fifo.js';
import { monoNow } from './clock.js';
import { Context } from './context.js';
import { Mailbox } from './mailbox.js';
import type { Envelope } from './mailbox.js';
import { asError, toWire } from './messages.js';
import type {
  ActorCounters,
  ActorMode,
  ActorPlacement,
  CallFailure,
  LogLevel,
  StopReason,
  StopResult,
  WorkerEvent,
} from './messages.js';

/** What a cell needs from its thread (implemented by WorkerHost). */
export interface CellHost {
  readonly slot: number;
  readonly supervisorId: string;
  readonly namespace: string;
  readonly shuttingDown: boolean;
  /** Marks user code running synchronously from now, for the supervisor's watchdog. */
  busy(cell: ActorCell, timeoutMs: number): void;
  idle(): void;
  reply(env: Envelope, value: unknown): void;
  replyFailure(env: Envelope, failure: CallFailure): void;
  emit(event: WorkerEvent): void;
  send(to: ActorRef | string, msg: unknown, options?: ActorSendOptions): Promise<void>;
  call(to: ActorRef | string, msg: unknown, options?: ActorCallOptions): Promise<unknown>;
  ref(name: string, instance?: number): ActorRef;
  redis(): HighPerformanceRedis;
  offload(
    fn: ((data: never) => unknown) | OffloadModule,
    data: unknown,
    options: OffloadOptions,
    signal: AbortSignal,
  ): Promise<unknown>;
}

/** A handler, timer run or init in progress. */
interface Run {
  env: Envelope | null;
  started: number;
  abandoned: boolean;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

function withTimeout<T>(p: PromiseLike<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!(ms > 0)) return Promise.resolve(p);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(asError(e));
      },
    );
  });
}

export class ActorCell {
  readonly p: ActorPlacement;
  readonly id: string;
  /** Index in WorkerInit.actors (written to the heartbeat buffer while its code runs). */
  readonly index: number;
  readonly mailbox: Mailbox;
  readonly #host: CellHost;
  /**
   * concurrency > 1: a p-queue per incarnation (a handler abandoned by a timeout keeps the old
   * queue's slot busy, never the new incarnation's). concurrency 1, the default, runs a plain
   * serial loop instead: p-queue's per-task promise, symbol, map entry and events cost about
   * 30% of a thread's time in bench/actors.ts (plus the GC of it); the loop gives the same
   * order for a fraction of it.
   */
  #queue: PQueue;
  readonly #serial: boolean;
  /** The incarnation whose serial loop runs (awaiting an async handler), or -1. A loop stuck on
   * a handler abandoned by a timeout belongs to an old incarnation: the next incarnation starts
   * its own (incarnations only grow, so one incarnation never has two loops). */
  #loopInc = -1;
  /** Timer runs waiting for the serial loop (they never overlap a handler). */
  readonly #ticks = new Fifo<() => Promise<void> | undefined>();
  mode: ActorMode | 'removed';
  state: 'idle' | 'starting' | 'running' | 'stopping' | 'failed' = 'idle';
  incarnation = -1;
  #def: ActorDefinition | null = null;
  #ctx: Context | null = null;
  #abort: AbortController | null = null;
  readonly #running = new Set<Run>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #blocking: HighPerformanceRedis | null = null;
  #stopRequested = false;
  /** Cleanup of the last incarnation, awaited before the next one starts (and by a stop). */
  #ending: Promise<void> | null = null;
  /**
   * User code of this actor still pending, whatever its incarnation: async handlers and timer
   * runs (also those abandoned by a timeout: they run on), init, stop(). Not 0 after a stop
   * means the actor's code outlived it, which a singleton losing its lease must not.
   */
  #code = 0;
  /** The current incarnation's async init while it is pending; #initOk once it fulfilled. */
  #init: Promise<void> | null = null;
  #initOk = false;
  /** Rejects start()'s wait on an init that a stop gave up on. */
  #cancelInit: ((err: Error) => void) | null = null;
  /** A start not begun yet (module loading, the last incarnation ending): a stop cancels it. */
  #pendingStart: { inc: number; cancelled: boolean } | null = null;
  /** A stop waiting for the handlers in flight and init to settle. */
  #onQuiet: (() => void) | null = null;
  #pumpScheduled = false;
  // counters
  handled = 0;
  failed = 0;
  dropped = 0;
  readonly #latency = emptyHistogram();
  readonly #counters = new Map<string, number>();

  constructor(p: ActorPlacement, index: number, mode: ActorMode, host: CellHost) {
    this.p = p;
    this.id = p.id;
    this.index = index;
    this.mode = mode;
    this.#host = host;
    this.mailbox = new Mailbox(p.mailboxSize);
    this.#serial = p.concurrency === 1;
    this.#queue = this.#newQueue();
  }

  #newQueue(): PQueue {
    const q = new PQueue({ concurrency: this.p.concurrency });
    q.on('next', () => {
      if (q === this.#queue) this.#pump();
    });
    return q;
  }

  get running(): number {
    return this.#running.size;
  }

  // ---- intake ----

  /** Accepts a message from another thread (never waits: credits bound those). */
  acceptRemote(env: Envelope): void {
    if (this.mode !== 'queue') {
      consume(env, this.id);
      this.#reject(env);
      return;
    }
    this.mailbox.push(env);
    this.schedulePump();
  }

  /** Accepts a message from this thread, waiting while the mailbox is full (up to timeoutMs;
   * a call that `gaveUp` meanwhile is dropped: its caller has its error already). */
  acceptLocal(
    env: Envelope,
    timeoutMs?: number,
    gaveUp?: () => boolean,
  ): Promise<void> | undefined {
    if (this.mode !== 'queue') throw this.#unavailable();
    if (!this.mailbox.full) {
      this.mailbox.push(env);
      this.schedulePump();
      return undefined;
    }
    return this.#acceptLater(env, timeoutMs, gaveUp);
  }

  async #acceptLater(env: Envelope, timeoutMs?: number, gaveUp?: () => boolean): Promise<void> {
    const deadline = timeoutMs !== undefined && timeoutMs > 0 ? monoNow() + timeoutMs : null;
    while (this.mailbox.full) {
      const left = deadline === null ? undefined : Math.max(1, deadline - monoNow());
      await this.mailbox.waitSpace(left, () => timeoutFull(this.id, timeoutMs ?? 0));
      if (gaveUp?.()) {
        this.mailbox.passOn();
        return;
      }
      if (this.mode !== 'queue') throw this.#unavailable();
    }
    this.mailbox.push(env);
    this.schedulePump();
  }

  #unavailable(): Error {
    return this.mode === 'standby'
      ? new ActorDiedError(this.id, 'a singleton on standby here: its lease is held elsewhere')
      : new ActorDiedError(this.id, 'it was stopped');
  }

  #reject(env: Envelope): void {
    if (env.cid === 0) {
      this.dropped++;
      return;
    }
    this.#host.replyFailure(
      env,
      this.mode === 'standby'
        ? {
            kind: 'died',
            actor: this.id,
            reason: 'a singleton on standby here: its lease is held elsewhere',
          }
        : this.#host.shuttingDown
          ? { kind: 'shutdown' }
          : { kind: 'died', actor: this.id, reason: 'it was stopped' },
    );
  }

  schedulePump(): void {
    if (this.#pumpScheduled || this.state !== 'running') return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.state !== 'running' || this.#stopRequested) return;
    const inc = this.incarnation;
    if (this.#serial) {
      if (this.#loopInc === inc) return;
      this.#loopInc = inc;
      void this.#drain(inc);
      return;
    }
    while (this.mailbox.length > 0 && this.#queue.pending + this.#queue.size < this.p.concurrency) {
      const env = this.mailbox.shift()!;
      consume(env, this.id);
      void this.#queue.add(() => this.#handle(env, inc) ?? Promise.resolve());
    }
  }

  /** concurrency 1: timer runs and messages, one at a time, in order. */
  async #drain(inc: number): Promise<void> {
    try {
      while (inc === this.incarnation && this.state === 'running' && !this.#stopRequested) {
        const tick = this.#ticks.shift();
        if (tick) {
          const p = tick();
          if (p) await p;
          continue;
        }
        const env = this.mailbox.shift();
        if (env === undefined) break;
        consume(env, this.id);
        const p = this.#handle(env, inc);
        if (p) await p;
      }
    } finally {
      if (this.#loopInc === inc) this.#loopInc = -1;
    }
  }

  // ---- handling ----

  /** Runs receive; returns a promise only when the handler is async. Never throws. */
  #handle(env: Envelope, inc: number): Promise<void> | undefined {
    if (inc !== this.incarnation || this.state !== 'running') {
      // Taken out for an incarnation that ended meanwhile: put it back for the next one.
      this.mailbox.push(env);
      return undefined;
    }
    const t0 = performance.now();
    let r: unknown;
    this.#host.busy(this, this.p.handlerTimeoutMs);
    try {
      r = this.#def!.receive(env.msg, this.#ctx!);
    } catch (err) {
      this.#host.idle();
      this.#fail(inc, 'receive', err, env);
      return undefined;
    }
    this.#host.idle();
    if (isThenable(r)) return this.#settle(env, inc, r, t0);
    this.#done(env, inc, r, t0);
    return undefined;
  }

  async #settle(env: Envelope, inc: number, r: PromiseLike<unknown>, t0: number): Promise<void> {
    const run: Run = { env, started: monoNow(), abandoned: false };
    this.#running.add(run);
    this.#code++;
    let value: unknown;
    try {
      value = await r;
    } catch (err) {
      this.#settled(run);
      if (!run.abandoned) this.#fail(inc, 'receive', err, env);
      return;
    }
    this.#settled(run);
    if (run.abandoned) return; // failed by the timeout sweep: already answered
    this.#done(env, inc, value, t0);
  }

  /** The code of a handler or timer run is over (an abandoned one's only now). */
  #settled(run: Run): void {
    this.#code--;
    this.#running.delete(run);
    if (this.#onQuiet !== null) this.#wake();
  }

  #done(env: Envelope, inc: number, value: unknown, t0: number): void {
    this.handled++;
    record(this.#latency, performance.now() - t0);
    if (env.cid !== 0) this.#host.reply(env, value);
    this.#maybeExit(inc);
  }

  /** After ctx.stop(): the incarnation ends once the last handler or timer run settles. */
  #maybeExit(inc: number): void {
    if (this.#stopRequested && this.#running.size === 0) this.#exitNormally(inc);
  }

  /** Fails handlers and timer runs pending past handlerTimeoutMs (async ones; CPU loops are
   * the watchdog's: a stuck thread cannot run this). */
  sweep(now: number): void {
    const limit = this.p.handlerTimeoutMs;
    if (!(limit > 0) || this.state !== 'running') return;
    for (const run of this.#running) {
      if (now - run.started > limit) {
        run.abandoned = true;
        this.#running.delete(run);
        const what = run.env ? 'a message handler' : 'a timer';
        this.#fail(
          this.incarnation,
          'timeout',
          new HandlerTimeoutError(this.id, what, limit, ' (still pending)'),
          run.env,
        );
        return;
      }
    }
  }

  #fail(
    inc: number,
    phase: 'receive' | 'timer' | 'timeout',
    err: unknown,
    env: Envelope | null,
  ): void {
    if (inc !== this.incarnation || (this.state !== 'running' && this.state !== 'starting')) {
      if (env) this.#host.replyFailure(env, { kind: 'died', actor: this.id, reason: 'it failed' });
      return;
    }
    this.state = 'failed';
    this.failed++;
    const wire = toWire(err);
    if (env && env.cid !== 0)
      this.#host.replyFailure(env, { kind: 'handler', actor: this.id, error: wire });
    const reason = `it failed: ${wire.message}`;
    for (const run of this.#running) {
      run.abandoned = true;
      if (run.env) this.#host.replyFailure(run.env, { kind: 'died', actor: this.id, reason });
    }
    this.#running.clear();
    if (this.#onQuiet !== null) this.#wake();
    this.#ending = this.#endIncarnation('failed').then(() => {
      if (this.incarnation === inc)
        this.#host.emit({
          type: 'actor-failed',
          id: this.id,
          incarnation: inc,
          phase,
          error: wire,
        });
    });
  }

  // ---- lifecycle ----

  /**
   * Starts incarnation `inc`: loads the definition, waits for the last incarnation's cleanup,
   * runs init. Rejects when init fails or times out, or when a stop for `inc` came first (before
   * it began, or while init ran: ActorDiedError).
   */
  async start(
    inc: number,
    fencingToken: number | null,
    load: () => Promise<ActorDefinition>,
  ): Promise<void> {
    const ticket = { inc, cancelled: false };
    this.#pendingStart = ticket;
    let def: ActorDefinition;
    try {
      def = await load();
      if (this.#ending) await this.#ending;
    } finally {
      if (this.#pendingStart === ticket) this.#pendingStart = null;
    }
    // A lease lost (or a shutdown) while the module loaded: this incarnation must not run.
    if (ticket.cancelled) throw new ActorDiedError(this.id, 'it was stopped before it started');
    this.mode = 'queue';
    this.incarnation = inc;
    this.#queue = this.#newQueue();
    this.#def = def;
    this.#stopRequested = false;
    this.#initOk = false;
    this.#abort = new AbortController();
    // Restarted while the supervisor drains: intake is already stopped for this one too.
    if (this.#host.shuttingDown) this.#abort.abort(new ShutdownError());
    const ctx = new Context(this, this.#host, this.#abort.signal, inc, fencingToken);
    this.#ctx = ctx;
    this.state = 'starting';
    if (def.init) {
      let r: unknown;
      this.#host.busy(this, this.p.initTimeoutMs);
      try {
        r = def.init(ctx);
      } catch (err) {
        this.#host.idle();
        await this.#failStart(inc);
        throw err;
      }
      this.#host.idle();
      try {
        if (isThenable(r)) await this.#awaitInit(ctx, r);
        else if (r !== undefined) ctx.state = r;
      } catch (err) {
        await this.#failStart(inc);
        throw err;
      }
    }
    if (this.incarnation !== inc || this.state !== 'starting')
      throw new ActorDiedError(this.id, 'it was stopped while starting');
    this.state = 'running';
    // ctx.stop() from init: nothing else would end the incarnation.
    if (this.#stopRequested) queueMicrotask(() => this.#exitNormally(inc));
    else this.schedulePump();
  }

  /** Waits for an async init: bounded by initTimeoutMs, cut short by a stop that gave up on it. */
  #awaitInit(ctx: Context, r: PromiseLike<unknown>): Promise<void> {
    const init = Promise.resolve(r);
    this.#code++;
    // Registered first, so ctx.state is set before anything waiting on init resumes.
    const settled = init.then(
      (v) => {
        if (this.#ctx !== ctx) return;
        this.#initOk = true;
        if (v !== undefined) ctx.state = v;
      },
      () => {},
    );
    this.#init = settled;
    void settled.then(() => {
      this.#code--;
      if (this.#init === settled) this.#init = null;
      if (this.#onQuiet !== null) this.#wake();
    });
    return new Promise<void>((resolve, reject) => {
      this.#cancelInit = reject;
      withTimeout(
        init,
        this.p.initTimeoutMs,
        () => new HandlerTimeoutError(this.id, 'init', this.p.initTimeoutMs),
      ).then(() => resolve(), reject);
    }).finally(() => {
      this.#cancelInit = null;
    });
  }

  async #failStart(inc: number): Promise<void> {
    // A stop that took over (state 'stopping') ends the incarnation itself.
    if (this.incarnation !== inc || this.state !== 'starting') return;
    this.state = 'failed';
    this.failed++;
    await this.#endIncarnation(null);
    this.state = 'idle';
  }

  /**
   * Ends incarnation `inc` if it is the current one (a start of it not begun yet is cancelled),
   * then applies what `reason` means for the mailbox. `ended` is false when code of this actor
   * still runs afterwards: a handler or init past stopTimeoutMs, a stop() past its timeout, a
   * handler abandoned earlier by its timeout. (For a singleton its thread must then go.)
   */
  async stop(inc: number, reason: StopReason): Promise<StopResult> {
    if (this.#pendingStart?.inc === inc) this.#pendingStart.cancelled = true;
    if (this.#ending) await this.#ending;
    if (this.incarnation === inc && (this.state === 'running' || this.state === 'starting')) {
      const starting = this.state === 'starting';
      this.state = 'stopping';
      this.#ending = this.#stopIncarnation(reason, starting);
      await this.#ending;
      this.state = 'idle';
    }
    let leftover = 0;
    if (reason === 'lease-lost') leftover = this.#setMode('standby');
    else if (reason === 'removed' || reason === 'shutdown') leftover = this.#setMode('removed');
    return { leftover, ended: this.#code === 0 };
  }

  async #stopIncarnation(reason: StopReason, starting: boolean): Promise<void> {
    // Let the handlers in flight (or init) finish, bounded: the next incarnation starts clean.
    await this.#quiet(this.p.stopTimeoutMs);
    if (starting && this.#init !== null)
      this.#cancelInit?.(
        new ActorDiedError(this.id, `it was stopped (${reason}) while its init ran`),
      );
    // stop() pairs with an init that completed.
    await this.#endIncarnation(reason, !starting || this.#initOk);
  }

  /** Resolves once no handler or timer run of this incarnation is in flight and init is done,
   * or after `ms` (0: no bound). */
  #quiet(ms: number): Promise<void> {
    if (this.#running.size === 0 && this.#init === null) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.#onQuiet = null;
        resolve();
      };
      if (ms > 0) timer = setTimeout(done, ms);
      this.#onQuiet = done;
    });
  }

  #wake(): void {
    if (this.#running.size === 0 && this.#init === null) this.#onQuiet?.();
  }

  /** Switches mode; leaving `queue` answers every waiting call. Returns how many were waiting. */
  setMode(mode: ActorMode): number {
    return this.#setMode(mode);
  }

  #setMode(mode: ActorMode | 'removed'): number {
    this.mode = mode;
    if (mode === 'queue') return 0;
    const left = this.mailbox.drain();
    for (const env of left) {
      consume(env, this.id);
      this.#reject(env);
    }
    return left.length;
  }

  /** Stop intake at shutdown: abort the signal and clear timers; the mailbox keeps draining. */
  beginShutdown(): void {
    this.#abort?.abort(new ShutdownError());
    this.#clearTimers();
  }

  /** ctx.stop(): from a handler or timer run, the incarnation ends once the last one settles
   * (#maybeExit); from init, once start() has it running; otherwise now. */
  requestStop(): void {
    this.#stopRequested = true;
    if (this.#running.size === 0 && this.state === 'running') {
      const inc = this.incarnation;
      queueMicrotask(() => this.#exitNormally(inc));
    }
  }

  #exitNormally(inc: number): void {
    if (inc !== this.incarnation || this.state !== 'running') return;
    this.state = 'stopping';
    this.#ending = this.#endIncarnation('normal').then(() => {
      if (this.incarnation !== inc) return;
      this.state = 'idle';
      this.#host.emit({ type: 'actor-exited', id: this.id, incarnation: inc });
    });
  }

  /**
   * Abort, clear timers, run stop() (bounded; only when `runStop`, and never after a failed
   * init: reason null), close the blocking connection. Never throws.
   */
  async #endIncarnation(reason: ActorStopReason | null, runStop = true): Promise<void> {
    const ctx = this.#ctx;
    const def = this.#def;
    this.#abort?.abort(new ActorDiedError(this.id, reason ?? 'init failed'));
    this.#clearTimers();
    if (runStop && def?.stop && ctx && reason !== null) {
      try {
        this.#host.busy(this, this.p.stopTimeoutMs);
        let r: unknown;
        try {
          r = def.stop(ctx, reason);
        } finally {
          this.#host.idle();
        }
        if (isThenable(r)) {
          this.#code++;
          const stopping = Promise.resolve(r).finally(() => this.#code--);
          await withTimeout(
            stopping,
            this.p.stopTimeoutMs,
            () => new HandlerTimeoutError(this.id, 'stop', this.p.stopTimeoutMs),
          );
        }
      } catch (err) {
        this.#host.emit({
          type: 'log',
          id: this.id,
          level: 'error',
          message: `stop() failed: ${toWire(err).message}`,
        });
      }
    }
    const blocking = this.#blocking;
    this.#blocking = null;
    if (blocking) await blocking.close().catch(() => blocking.disconnect());
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
  }

  // ---- services for the context ----

  every(inc: number, ms: number, fn: (ctx: ActorContext) => unknown): () => void {
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 1))
      throw new InvalidArgumentError('ms', 'must be a number of milliseconds >= 1');
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function');
    if (this.#host.shuttingDown) return () => {}; // intake stopped: no new timers
    let queued = false;
    const run = (): Promise<void> | undefined => {
      if (inc !== this.incarnation || this.state !== 'running') {
        queued = false;
        return undefined;
      }
      let r: unknown;
      this.#host.busy(this, this.p.handlerTimeoutMs);
      try {
        r = fn(this.#ctx!);
      } catch (err) {
        this.#host.idle();
        queued = false;
        this.#fail(inc, 'timer', err, null);
        return undefined;
      }
      this.#host.idle();
      if (!isThenable(r)) {
        queued = false;
        return undefined;
      }
      const tracked: Run = { env: null, started: monoNow(), abandoned: false };
      this.#running.add(tracked);
      this.#code++;
      return Promise.resolve(r).then(
        () => {
          this.#settled(tracked);
          queued = false;
          if (!tracked.abandoned) this.#maybeExit(inc);
        },
        (err: unknown) => {
          this.#settled(tracked);
          queued = false;
          if (!tracked.abandoned) this.#fail(inc, 'timer', err, null);
        },
      );
    };
    // Through the actor's queue: a timer run never overlaps a handler (with concurrency 1),
    // and a run still pending skips the next beat.
    const tick = (): void => {
      if (queued || inc !== this.incarnation || this.state !== 'running') return;
      queued = true;
      if (this.#serial) {
        this.#ticks.push(run);
        this.#pump();
      } else {
        void this.#queue.add(() => run() ?? Promise.resolve());
      }
    };
    const timer = setInterval(tick, ms);
    this.#timers.add(timer);
    return () => {
      clearInterval(timer);
      this.#timers.delete(timer);
    };
  }

  blockingRedis(): HighPerformanceRedis {
    return (this.#blocking ??= this.#host.redis().duplicate());
  }

  counter(name: string): ActorCounter {
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError('name', 'must be a non-empty string');
    const counters = this.#counters;
    return {
      inc(by = 1) {
        counters.set(name, (counters.get(name) ?? 0) + by);
      },
      get value() {
        return counters.get(name) ?? 0;
      },
    };
  }

  log(level: LogLevel, args: unknown[]): void {
    this.#host.emit({ type: 'log', id: this.id, level, message: format(...args) });
  }

  counters(): ActorCounters {
    return {
      id: this.id,
      handled: this.handled,
      failed: this.failed,
      dropped: this.dropped,
      mailbox: this.mailbox.length,
      running: this.#running.size,
      latency: [...this.#latency],
      counters: Object.fromEntries(this.#counters),
    };
  }
}

/**
 * A message left the mailbox: its credit goes back to the thread that sent it, once. (A message
 * taken out for an incarnation that ended meanwhile goes back into the mailbox and leaves it
 * again later: it must not be credited twice, or that sender could exceed its window.)
 */
function consume(env: Envelope, id: string): void {
  if (env.via === null) return;
  env.via.consumed(id);
  env.via = null;
}

function timeoutFull(id: string, ms: number): Error {
  return new TimeoutError(`the mailbox of ${id} stayed full for ${ms} ms`);
}
