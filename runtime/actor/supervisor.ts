/**
 * Supervisor: runs the actors of a config on a pool of worker threads, restarts them by the
 * supervision tree's policy, places singletons across supervisors through Redis, and shuts
 * down gracefully.
 *
 *   const sup = new Supervisor(await loadConfig('.'), { kinds });   // validates first
 *   await sup.start();                                               // every actor's init done
 *   const n = await sup.call('counter', { add: 1 });
 *   await sup.stop();                                                // drain, stop(), close
 *
 * Threads: `threads` slots (slots.ts); each actor instance is placed in a slot (round-robin,
 * in start order) for the supervisor's lifetime. A thread that dies (process.exit, uncaught
 * error, resourceLimits, killed by the watchdog) is replaced in its slot after a backoff, calls
 * pending on it reject with ActorDiedError, its actors are reported failed to the tree as one
 * incident, the leases of the singletons that ran on it are released at once (their restarts
 * compete for them again), and the replacement counts toward the root's restart intensity.
 *
 * Singletons: their code never outlives their lease. Whenever one stops (lease lost, restart,
 * shutdown), anything of it still running afterwards — a handler or init past stopTimeoutMs,
 * a stop() past its timeout — gets its whole thread terminated before the lease can go.
 */
import { EventEmitter } from 'eventemitter3';
import { HighPerformanceRedis } from '../client/index.js';
import {
  ActorDiedError,
  HandlerTimeoutError,
  InvalidArgumentError,
  ShutdownError,
} from '../errors.js';
import type { WorkerExitError, SupervisorFailedError } from '../errors.js';
import { monoNow } from './clock.js';
import { isResolvedConfig, validateConfig } from './config.js';
import type { CyredisConfig, ResolvedConfig } from './config.js';
import type { ActorCallOptions, ActorRef, ActorSendOptions, RefOf } from './define.js';
import { drain, handledNow } from './drain.js';
import { MainEndpoint } from './main-endpoint.js';
import { asError, fromWire, toWire } from './messages.js';
import type {
  ActorCounters,
  ActorMode,
  ActorPlacement,
  LogLevel,
  StopReason,
  WorkerEvent,
} from './messages.js';
import { OffloadPool } from './offload.js';
import { checkOptions, consoleLogger } from './options.js';
import type { SupervisorLogger, SupervisorOptions } from './options.js';
import { Placement } from './placement.js';
import type { PlacementHost, SupervisorRecord } from './placement.js';
import { handleSignals } from './signals.js';
import { ThreadSlots } from './slots.js';
import type { SlotsHost } from './slots.js';
import { addCounters, emptyCounters, percentiles } from './stats.js';
import type { ActorState, ActorStats, SupervisorStats } from './stats.js';
import type { ThreadExit, WorkerThread } from './thread.js';
import { SupervisionNode, newIncident } from './tree.js';
import type { Child, StopKind, TreeEvent, TreeHost } from './tree.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export type { SupervisorLogger, SupervisorOptions } from './options.js';

export interface StopReport {
  /** Every mailbox was empty and every handler done before actors were stopped. */
  drained: boolean;
  /** Messages handled after intake stopped (what was in flight at the stop). */
  handledInDrain: number;
  /** Messages still in mailboxes when actors were stopped (their calls rejected with ShutdownError). */
  leftover: number;
  durationMs: number;
}

export interface SupervisorEvents {
  'actor:started': [e: { id: string; thread: number; incarnation: number }];
  'actor:failed': [e: { id: string; error: Error; phase: string }];
  'actor:restarting': [e: { id: string; delayMs: number; attempt: number; error: Error | null }];
  'actor:stopped': [e: { id: string; reason: string }];
  /**
   * A worker thread ended under its actors while the supervisor starts or runs: it crashed
   * (process.exit, an uncaught error, resourceLimits) or was killed (watchdog, a singleton that
   * would outlive its lease). Its actors restart by policy on a replacement thread. Not emitted
   * once stop() began or the supervisor failed: threads that end then (closed on purpose, or
   * killed because an actor's stop() overran) are part of closing, not failures.
   */
  'thread:exit': [e: { thread: number; error: WorkerExitError }];
  'singleton:acquired': [e: { id: string; fencingToken: number }];
  'singleton:lost': [e: { id: string }];
  log: [e: { id: string; level: LogLevel; message: string }];
  /** The root gave up (intensity): children are stopped, the supervisor is closing. */
  failed: [error: SupervisorFailedError];
  stopped: [report: StopReport];
}

export type SupervisorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** One spawn of an actor. An object, not just the incarnation: a singleton runs the same
 * incarnation again after each lease it wins, and a late failure of an earlier spawn must not
 * erase the record of the current one. */
interface Spawned {
  inc: number;
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly id: string;
  readonly config: ResolvedConfig;
  readonly #logger: SupervisorLogger | null;
  readonly #placements: ActorPlacement[];
  readonly #index = new Map<string, number>();
  readonly #main: MainEndpoint;
  readonly #tree: SupervisionNode;
  readonly #leaves = new Map<string, { node: SupervisionNode; child: Child }>();
  readonly #slots: ThreadSlots;
  readonly #modes = new Map<string, ActorMode>();
  /** Actors spawned (or spawning) on a thread now, with their incarnation. */
  readonly #onThread = new Map<string, Spawned>();
  /** Spawns in flight (init running), which a shutdown pre-empts. */
  readonly #spawning = new Map<string, Spawned>();
  /** Sends dropped because they could not be cloned, per target actor. */
  readonly #dropped = new Map<string, number>();
  /** The incarnation the tree wants running, for singletons waiting for their lease. */
  readonly #wanted = new Map<string, number>();
  readonly #lastError = new Map<string, string>();
  /** Failures per actor, counted here (exact even when a thread dies with its counters). */
  readonly #failures = new Map<string, number>();
  /** The last incarnation whose failure was noted, per actor (reports can come twice). */
  readonly #noted = new Map<string, number>();
  readonly #lastPoll = new Map<string, ActorCounters>();
  readonly #carry = new Map<string, ActorCounters>();
  readonly #offload: OffloadPool;
  #redis: HighPerformanceRedis | null = null;
  #placement: Placement | null = null;
  #state: SupervisorState = 'idle';
  #closing = false;
  #closed: Promise<void> | null = null;
  /** The shutdown reached the tree: no new spawn, starts in flight are cut short. */
  #preempt = false;
  #startedAt = 0;
  #watchdog: NodeJS.Timeout | null = null;
  #stopping: Promise<StopReport> | null = null;
  #leftover = 0;
  readonly done: Promise<StopReport>;
  #resolveDone!: (r: StopReport) => void;
  #rejectDone!: (e: Error) => void;

  /**
   * Validates the config (ConfigError naming file and field) before anything starts; only what
   * validateConfig/loadConfig returned is taken as it is.
   */
  constructor(config: CyredisConfig | ResolvedConfig, options?: SupervisorOptions) {
    super();
    options = checkOptions(options);
    this.config = isResolvedConfig(config)
      ? config
      : validateConfig(config, {
          ...(options.file !== undefined ? { file: options.file } : {}),
          ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}),
          ...(options.kinds ? { kinds: options.kinds } : {}),
        });
    this.id = options.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#logger = options.logger === undefined ? consoleLogger : options.logger;
    const c = this.config;
    // No idle threads: never more than one per actor instance.
    const threads = Math.max(1, Math.min(c.threads, c.actors.length));
    this.#placements = c.actors.map((a, i) => ({
      id: a.id,
      name: a.name,
      instance: a.instance,
      slot: i % threads,
      module: a.module,
      export: a.export,
      options: a.options,
      concurrency: a.concurrency,
      mailboxSize: a.mailboxSize,
      handlerTimeoutMs: a.handlerTimeoutMs,
      initTimeoutMs: a.initTimeoutMs,
      stopTimeoutMs: a.stopTimeoutMs,
      singleton: a.singleton,
    }));
    this.#placements.forEach((p, i) => {
      this.#index.set(p.id, i);
      this.#modes.set(p.id, p.singleton ? 'standby' : 'queue');
    });
    const tuning = {
      heartbeatMs: c.heartbeatMs,
      creditWindow: c.creditWindow,
      callTimeoutMs: c.callTimeoutMs,
    };
    this.#main = new MainEndpoint(this.#placements, tuning, (to, err) => this.#drop(to, err));
    this.#tree = new SupervisionNode(c.tree, this.#treeHost());
    for (const leaf of this.#tree.leaves()) this.#leaves.set(leaf.child.id, leaf);
    this.#tree.onFailed = (err) => this.#rootFailed(err);
    this.#slots = new ThreadSlots(
      threads,
      this.#main,
      c.tree.backoff,
      c.resourceLimits,
      this.#slotsHost(),
    );
    this.#offload = new OffloadPool(c.offloadThreads);
    this.done = new Promise<StopReport>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  get state(): SupervisorState {
    return this.#state;
  }

  // ---- lifecycle ----

  /**
   * Registers in Redis (when configured), starts the threads, then every actor in order.
   * Resolves when each actor's init is done (singletons held elsewhere wait on standby);
   * rejects with SupervisorFailedError if the tree gave up on the way (everything is stopped),
   * with ShutdownError if stop() came first (stop() cleans up; nothing starts after it).
   */
  async start(): Promise<void> {
    if (this.#state !== 'idle')
      throw new InvalidArgumentError('supervisor', `cannot start when ${this.#state}`);
    this.#state = 'starting';
    this.#startedAt = Date.now();
    try {
      if (this.config.redis) {
        const ttl = this.config.placement.leaseTtlMs;
        this.#redis = new HighPerformanceRedis({
          ...this.config.redis,
          commandTimeoutMs: Math.max(100, Math.floor(ttl / 4)),
        });
        this.#redis.on('error', () => {});
        this.#placement = new Placement(
          this.#redis,
          {
            namespace: this.config.namespace,
            supervisorId: this.id,
            heartbeatMs: this.config.placement.heartbeatMs,
            leaseTtlMs: ttl,
          },
          this.#placementHost(),
        );
        await this.#placement.start();
        this.#stillStarting();
      }
      this.#slots.start();
      const every = Math.max(10, Math.min(50, Math.floor(this.config.heartbeatMs / 2)));
      this.#watchdog = setInterval(() => this.#watch(), every);
      this.#watchdog.unref();
      this.#log(
        'info',
        `supervisor ${this.id}: ${this.#placements.length} actor(s) on ${this.#slots.size} thread(s)`,
      );
      await this.#tree.start();
      this.#stillStarting();
    } catch (err) {
      // stop() came while this waited: it owns the cleanup, and nothing starts after it.
      const state = this.#state as SupervisorState;
      if (state === 'stopping' || state === 'stopped')
        throw new ShutdownError('the supervisor was stopped while it started');
      if (this.#state === 'starting' || this.#state === 'failed') {
        this.#state = 'failed';
        await this.#close();
        this.#rejectDone(err as Error);
      }
      throw err;
    }
    this.#state = 'running';
    this.#placement?.refresh();
  }

  #stillStarting(): void {
    if (this.#state !== 'starting') throw new ShutdownError();
  }

  /**
   * Graceful shutdown: stop intake (every ctx.signal aborts, timers stop, supervisor.send and
   * .call reject with ShutdownError), let mailboxes drain up to `timeoutMs`
   * (shutdownTimeoutMs), run every actor's stop() in reverse start order, release leases,
   * close connections and threads. Each actor's stop is bounded by its stopTimeoutMs, unless
   * that is 0 (no limit): then this waits as long as its code takes.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<StopReport> {
    this.#stopping ??= this.#stop(options.timeoutMs ?? this.config.shutdownTimeoutMs).catch(
      (err: unknown) => {
        // `done` must settle whatever happens, or whoever waits on it hangs.
        this.#rejectDone(asError(err));
        throw err;
      },
    );
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<StopReport> {
    const t0 = monoNow();
    if (this.#state === 'failed' || this.#state === 'stopped') {
      // A failed supervisor closes by itself: done only once that finished.
      await this.#close();
      return { drained: false, handledInDrain: 0, leftover: 0, durationMs: monoNow() - t0 };
    }
    this.#state = 'stopping';
    this.#main.closed = true;
    const before = await handledNow(this.#slots.live());
    await Promise.all(this.#slots.live().map((t) => t.control.beginShutdown().catch(() => {})));
    const drained = await drain(
      () => this.#slots.live(),
      () => this.#main.sent,
      t0 + timeoutMs,
    );
    const handledInDrain = Math.max(0, (await handledNow(this.#slots.live())) - before);
    this.#leftover = 0;
    // The tree's stop waits behind a start in progress: cut such starts short (an init that
    // never ends must not hold the shutdown). No thread is replaced from here on either: a
    // start waiting for one (its backoff) gives up.
    this.#preempt = true;
    this.#slots.holdRespawns();
    await Promise.all([this.#preemptStarts(), this.#tree.stop('shutdown')]);
    await this.#close();
    const report: StopReport = {
      drained,
      handledInDrain,
      leftover: this.#leftover,
      durationMs: Math.round(monoNow() - t0),
    };
    this.#state = 'stopped';
    this.#log(
      'info',
      `supervisor ${this.id} stopped in ${report.durationMs} ms (drained ${handledInDrain} message(s)` +
        (report.leftover > 0 ? `; ${report.leftover} left unhandled at the drain deadline)` : ')'),
    );
    this.emit('stopped', report);
    this.#resolveDone(report);
    return report;
  }

  /**
   * SIGINT/SIGTERM: the first stops gracefully, then, with `exit`, exits with what `done` says
   * once everything is closed: 0 after a clean stop, 1 if the supervisor had failed or stopping
   * failed. The second exits at once with 130 (also out of a stop that cannot end: actors
   * with stopTimeoutMs 0 whose code never settles). Returns a function that removes the
   * handlers. Without `exit`, wait on `done` (as the CLI does).
   */
  handleSignals(o: { exit?: boolean } = {}): () => void {
    return handleSignals(this, {
      exit: o.exit ?? true,
      drainMs: this.config.shutdownTimeoutMs,
      actors: this.#placements,
      log: (level, message) => this.#log(level, message),
    });
  }

  // ---- messaging from outside ----

  ref<D = unknown>(name: string, instance?: number): RefOf<D> {
    return this.#main.ref(name, instance) as RefOf<D>;
  }

  send<M>(to: ActorRef<M, unknown> | string, msg: M, options?: ActorSendOptions): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'starting')
      return Promise.reject(new ShutdownError());
    return this.#main.send(to, msg, options);
  }

  call<M, R>(to: ActorRef<M, R> | string, msg: M, options?: ActorCallOptions): Promise<R> {
    if (this.#state !== 'running' && this.#state !== 'starting')
      return Promise.reject(new ShutdownError());
    return this.#main.call(to, msg, options) as Promise<R>;
  }

  // ---- stats ----

  async stats(): Promise<SupervisorStats> {
    const live = this.#slots.live();
    const [polled, flows] = await Promise.all([
      Promise.all(live.map((t) => t.control.stats().catch((): ActorCounters[] => []))),
      Promise.all(
        live.map((t) =>
          t.control.drainStatus().then(
            (d) => [t.slot, d] as const,
            () => null,
          ),
        ),
      ),
    ]);
    const flow = new Map(flows.filter((f) => f !== null));
    for (const list of polled) for (const c of list) this.#lastPoll.set(c.id, c);
    const actors: ActorStats[] = this.#placements.map((p) => {
      const now = this.#lastPoll.get(p.id) ?? emptyCounters(p.id);
      const c = addCounters(this.#carry.get(p.id), now);
      const leaf = this.#leaves.get(p.id)!;
      return {
        id: p.id,
        name: p.name,
        instance: p.instance,
        state: this.#actorState(p, leaf.child),
        thread: p.slot,
        handled: c.handled,
        failed: this.#failures.get(p.id) ?? 0,
        dropped: c.dropped + (this.#dropped.get(p.id) ?? 0),
        restarts: leaf.child.restarts,
        mailbox: now.mailbox,
        running: now.running,
        latencyMs: percentiles(c.latency),
        counters: c.counters,
        singleton: p.singleton ? (this.#placement?.leaseState(p.id) ?? 'standby') : null,
        fencingToken: p.singleton ? (this.#placement?.token(p.id) ?? null) : null,
        lastError: this.#lastError.get(p.id) ?? null,
      };
    });
    const totals = { handled: 0, failed: 0, restarts: 0, mailbox: 0 };
    for (const a of actors) {
      totals.handled += a.handled;
      totals.failed += a.failed;
      totals.restarts += a.restarts;
      totals.mailbox += a.mailbox;
    }
    return {
      id: this.id,
      namespace: this.config.namespace,
      state: this.#state,
      uptimeMs: this.#startedAt ? Date.now() - this.#startedAt : 0,
      threads: Array.from({ length: this.#slots.size }, (_, slot) => ({
        slot,
        generation: this.#slots.generation(slot),
        alive: this.#slots.get(slot) !== null,
        actors: this.#placements.filter((p) => p.slot === slot).length,
        sent: flow.get(slot)?.sent ?? 0,
        received: flow.get(slot)?.received ?? 0,
        acks: flow.get(slot)?.acks ?? 0,
      })),
      actors,
      totals,
    };
  }

  #actorState(p: ActorPlacement, child: Child): ActorState {
    if (p.singleton && child.state === 'running' && this.#modes.get(p.id) === 'standby')
      return 'standby';
    switch (child.state) {
      case 'waiting':
        return 'restarting';
      case 'failed':
        return 'failed';
      default:
        return child.state;
    }
  }

  // ---- threads ----

  #slotsHost(): SlotsHost {
    const isStopping = (): boolean => this.#state === 'stopping';
    return {
      init: (slot) => ({
        supervisorId: this.id,
        namespace: this.config.namespace,
        actors: this.#placements,
        modes: Object.fromEntries(
          this.#placements
            .filter((p) => p.slot === slot)
            .map((p) => [p.id, this.#modes.get(p.id) ?? 'queue']),
        ),
        redis: this.config.redis,
        tuning: this.#main.tuning,
      }),
      event: (e, t) => this.#onEvent(e, t),
      exited: (exit) => this.#threadExited(exit),
      get shuttingDown() {
        return isStopping();
      },
    };
  }

  #watch(): void {
    const now = monoNow();
    const name = (i: number): string => this.#placements[i]?.id ?? 'an actor';
    for (const t of this.#slots.live()) t.check(now, this.config.unresponsiveMs, name);
  }

  /** A thread ended: report its actors failed (one incident); true to replace the thread. */
  #threadExited(exit: ThreadExit): boolean {
    // Terminated by the shutdown itself, or anything once a stop() began or the supervisor
    // failed (a singleton's thread killed because its stop() overran, a thread that crashes in
    // an actor's stop()): the supervisor is going away, nothing is replaced, nothing failed.
    const quiet =
      exit.deliberate || this.#closing || (this.#state !== 'starting' && this.#state !== 'running');
    if (!quiet) this.emit('thread:exit', { thread: exit.slot, error: exit.error });
    // Counters of its actors survive as of the last poll.
    for (const p of this.#placements) {
      if (p.slot !== exit.slot) continue;
      const last = this.#lastPoll.get(p.id);
      if (last) this.#carry.set(p.id, addCounters(this.#carry.get(p.id), last));
      this.#lastPoll.delete(p.id);
    }
    if (quiet) return false;
    this.#log('error', exit.error.message);
    // Replacing a thread is a restart, whether or not an actor was running on it (a thread
    // that dies while it boots has none): past the intensity the root gives up.
    this.#tree.recordIncident(exit.incident, exit.error);
    for (const p of this.#placements) {
      if (p.slot !== exit.slot) continue;
      const inc = this.#onThread.get(p.id)?.inc;
      if (inc === undefined) continue;
      this.#onThread.delete(p.id);
      // Its code is gone: its lease too, now (its restart competes for it like any standby).
      if (p.singleton) this.#placement?.abandon(p.id, 'its thread died');
      const culprit = this.#index.get(p.id) === exit.culprit;
      const error =
        culprit && exit.timeoutMs > 0
          ? new HandlerTimeoutError(
              p.id,
              'a handler',
              exit.timeoutMs,
              ': its thread was terminated',
            )
          : exit.error;
      this.#failed(p.id, inc, error, culprit ? 'timeout' : 'thread-exit', exit.incident);
    }
    return true;
  }

  #onEvent(e: WorkerEvent, thread: WorkerThread): void {
    switch (e.type) {
      case 'actor-failed': {
        if (this.#onThread.get(e.id)?.inc === e.incarnation) this.#onThread.delete(e.id);
        this.#failed(e.id, e.incarnation, fromWire(e.error), e.phase, newIncident());
        return;
      }
      case 'actor-exited': {
        if (this.#onThread.get(e.id)?.inc === e.incarnation) this.#onThread.delete(e.id);
        const leaf = this.#leaves.get(e.id);
        leaf?.node.childExited(leaf.child, e.incarnation, null, newIncident());
        return;
      }
      case 'undeliverable':
        this.#drop(e.to, fromWire(e.error));
        return;
      case 'log':
        this.emit('log', { id: e.id, level: e.level, message: e.message });
        if (this.#logger) {
          const line = `[${e.id}] ${e.message}`;
          if (e.level === 'error') this.#logger.error(line);
          else if (e.level === 'warn') this.#logger.warn(line);
          else this.#logger.info(line);
        }
        return;
      case 'offload':
        this.#offload.run(e.task, e.timeoutMs).then(
          (value) => thread.post({ type: 'offload-result', oid: e.oid, ok: true, value }),
          (err: unknown) =>
            thread.post({ type: 'offload-result', oid: e.oid, ok: false, error: toWire(err) }),
        );
        return;
    }
  }

  #failed(id: string, inc: number, error: Error, phase: string, incident: string): void {
    const leaf = this.#leaves.get(id);
    if (!leaf || leaf.child.incarnation !== inc) return;
    this.#note(id, inc, error, phase);
    leaf.node.childExited(leaf.child, inc, error, incident);
  }

  /** A send to `to` was dropped after it was accepted: it could not be cloned. */
  #drop(to: string, error: Error): void {
    this.#dropped.set(to, (this.#dropped.get(to) ?? 0) + 1);
    this.#log('error', `a message to ${to} was dropped: it cannot be cloned (${error.message})`);
  }

  /** Counts, remembers and announces a failure once per incarnation. */
  #note(id: string, inc: number, error: Error, phase: string): void {
    if (this.#noted.get(id) === inc) return;
    this.#noted.set(id, inc);
    this.#failures.set(id, (this.#failures.get(id) ?? 0) + 1);
    this.#lastError.set(id, error.message);
    this.emit('actor:failed', { id, error, phase });
    this.#log('error', `actor ${id} failed (${phase}): ${error.message}`);
  }

  // ---- the tree's host ----

  #treeHost(): TreeHost {
    return {
      startActor: async (id, inc) => {
        const p = this.#actor(id);
        this.#wanted.set(id, inc);
        if (this.#closing) throw new ShutdownError();
        let token: number | null = null;
        if (p.singleton) {
          token = this.#placement?.token(id) ?? null;
          if (token === null) {
            // On standby until activate(); no competing for a lease once the shutdown began.
            await this.#setMode(p, 'standby');
            if (this.#state !== 'stopping') this.#placement?.want(id);
            return;
          }
        }
        try {
          await this.#spawn(p, inc, token);
        } catch (err) {
          // A singleton whose lease went while it started waits on standby for the next one
          // (deactivate put it there; placement keeps competing): not a failure.
          if (token !== null && this.#placement?.token(id) !== token) return;
          if (!(this.#closing || this.#state === 'stopping'))
            this.#note(p.id, inc, err as Error, 'init');
          throw err;
        }
      },
      stopActor: async (id, inc, kind: StopKind) => {
        const p = this.#actor(id);
        if (kind !== 'restart') this.#wanted.delete(id);
        if (!p.singleton) {
          await this.#stopOnThread(p, inc, kind);
          return;
        }
        await this.#haltSingleton(p, inc, kind, null);
        if (kind !== 'restart') {
          await this.#placement?.unwant(id);
          this.#modes.set(id, 'standby');
        }
      },
      event: (e: TreeEvent) => this.#treeEvent(e),
    };
  }

  #actor(id: string): ActorPlacement {
    return this.#placements[this.#index.get(id)!];
  }

  /** Runs `inc` of an actor on its thread (waiting for the thread if it is being replaced). */
  async #spawn(p: ActorPlacement, inc: number, token: number | null): Promise<void> {
    if (this.#preempt) throw new ShutdownError();
    const thread = await this.#slots.ready(p.slot);
    if (this.#preempt) throw new ShutdownError();
    // The lease may have gone while this waited for a replacement thread: its loss found
    // nothing to stop here (no thread, not spawned yet) and released it at once.
    if (token !== null && this.#placement?.token(p.id) !== token)
      throw new ActorDiedError(p.id, 'its lease was lost before it started');
    this.#modes.set(p.id, 'queue');
    const spawned: Spawned = { inc };
    this.#onThread.set(p.id, spawned);
    this.#spawning.set(p.id, spawned);
    try {
      await thread.control.spawn(p.id, inc, token);
    } catch (err) {
      if (this.#onThread.get(p.id) === spawned) this.#onThread.delete(p.id);
      throw err;
    } finally {
      if (this.#spawning.get(p.id) === spawned) this.#spawning.delete(p.id);
    }
    this.emit('actor:started', { id: p.id, thread: p.slot, incarnation: inc });
  }

  /** Stops `inc` on its thread; resolves whether the actor's code has ended (see cell.stop). */
  async #stopOnThread(p: ActorPlacement, inc: number, reason: StopReason): Promise<boolean> {
    if (this.#onThread.get(p.id)?.inc === inc) this.#onThread.delete(p.id);
    const thread = this.#slots.get(p.slot);
    if (!thread) return true; // no thread: its code died with the last one
    try {
      const { leftover, ended } = await thread.control.stop(p.id, inc, reason);
      this.#leftover += leftover;
      return ended;
    } catch {
      return true; // the thread died meanwhile, and the actor's code with it
    }
  }

  /**
   * Stops a singleton and makes sure none of its code runs afterwards: if anything of it is
   * still pending after the stop (a handler or init past stopTimeoutMs, a stop() past its own
   * timeout), or `deadline` (monoNow() ms) comes first, its whole thread is terminated. Only
   * then may its lease go.
   */
  async #haltSingleton(
    p: ActorPlacement,
    inc: number,
    reason: StopReason,
    deadline: number | null,
  ): Promise<void> {
    const thread = this.#slots.get(p.slot);
    if (!thread) return;
    const stopping = this.#stopOnThread(p, inc, reason);
    let timer: NodeJS.Timeout | undefined;
    const ended = await (deadline === null
      ? stopping
      : Promise.race([
          stopping,
          new Promise<boolean>(
            (r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - monoNow()))),
          ),
        ]));
    clearTimeout(timer);
    if (ended || !thread.alive) return;
    this.#log(
      'warn',
      `singleton ${p.id}: still running after its stop (${reason}): killing its thread`,
    );
    await thread.terminate({
      reason: 'lease',
      detail: `singleton ${p.id} still ran after it was stopped (${reason}); its lease must not outlive it`,
      culprit: this.#index.get(p.id)!,
      timeoutMs: 0,
    });
  }

  /** Shutdown: stops the actors whose start is in flight, directly (the tree's stop is queued
   * behind their start): each gets stopTimeoutMs for its init, then its start is abandoned; a
   * singleton's thread is killed, any other's is terminated by #close. */
  async #preemptStarts(): Promise<void> {
    await Promise.all(
      [...this.#spawning].map(([id, { inc }]) => {
        const p = this.#actor(id);
        return p.singleton
          ? this.#haltSingleton(p, inc, 'shutdown', null)
          : this.#stopOnThread(p, inc, 'shutdown');
      }),
    );
  }

  async #setMode(p: ActorPlacement, mode: ActorMode): Promise<void> {
    this.#modes.set(p.id, mode);
    await this.#slots
      .get(p.slot)
      ?.control.setMode(p.id, mode)
      .catch(() => {});
  }

  #treeEvent(e: TreeEvent): void {
    switch (e.type) {
      case 'restarting':
        this.emit('actor:restarting', {
          id: e.child,
          delayMs: e.delayMs,
          attempt: e.attempt,
          error: e.error,
        });
        this.#log('warn', `restarting ${e.child} in ${e.delayMs} ms (attempt ${e.attempt})`);
        return;
      case 'stopped':
        this.emit('actor:stopped', { id: e.child, reason: e.reason });
        return;
      case 'node-failed':
        this.#log('error', e.error.message);
        return;
      case 'started':
        return;
    }
  }

  #rootFailed(err: SupervisorFailedError): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'failed') return;
    const wasStarting = this.#state === 'starting';
    this.#state = 'failed';
    this.#main.closed = true;
    this.emit('failed', err);
    // start() rejects by itself (and closes); otherwise close here.
    if (!wasStarting) void this.#close().then(() => this.#rejectDone(err));
  }

  // ---- placement's host ----

  #placementHost(): PlacementHost {
    return {
      activate: async (id, token) => {
        // Won once the shutdown began: give it straight back, nothing starts now.
        if (this.#state !== 'running' && this.#state !== 'starting') {
          this.#log('info', `singleton ${id}: lease won during shutdown: released`);
          await this.#placement?.unwant(id);
          return;
        }
        this.emit('singleton:acquired', { id, fencingToken: token });
        this.#placement?.refresh();
        const inc = this.#wanted.get(id);
        const leaf = this.#leaves.get(id);
        if (inc === undefined || !leaf || leaf.child.incarnation !== inc) return;
        if (leaf.child.state !== 'running' && leaf.child.state !== 'starting') return;
        const p = this.#actor(id);
        try {
          await this.#spawn(p, inc, token);
        } catch (err) {
          // The lease went while it started (the start was cancelled), or the shutdown came:
          // on standby again, not a failure.
          if (this.#placement?.token(id) !== token || this.#state !== 'running') return;
          this.#note(id, inc, err as Error, 'init');
          leaf.node.childExited(leaf.child, inc, err as Error, newIncident());
        }
      },
      deactivate: async (id, deadline) => {
        this.emit('singleton:lost', { id });
        this.#modes.set(id, 'standby');
        // Also when nothing runs here: a stop (restart, removal) may still be in progress.
        await this.#haltSingleton(
          this.#actor(id),
          this.#onThread.get(id)?.inc ?? -1,
          'lease-lost',
          deadline,
        );
      },
      snapshot: async () => {
        if (this.#state === 'running') await this.stats().catch(() => null);
        return this.#snapshot();
      },
      log: (level, message) => this.#log(level, message),
    };
  }

  #snapshot(): Omit<SupervisorRecord, 'host' | 'pid' | 'updatedAt' | 'namespace'> {
    return {
      id: this.id,
      file: this.config.file,
      startedAt: this.#startedAt,
      state: this.#state,
      threads: this.config.threads,
      actors: this.#placements.map((p) => {
        const leaf = this.#leaves.get(p.id)!;
        return {
          id: p.id,
          state: this.#actorState(p, leaf.child),
          thread: p.slot,
          restarts: leaf.child.restarts,
          handled: addCounters(
            this.#carry.get(p.id),
            this.#lastPoll.get(p.id) ?? emptyCounters(p.id),
          ).handled,
          singleton: p.singleton ? (this.#placement?.leaseState(p.id) ?? 'standby') : null,
          fencingToken: p.singleton ? (this.#placement?.token(p.id) ?? null) : null,
        };
      }),
    };
  }

  // ---- shutdown internals ----

  /** Closes leases, registration, threads, pools and the client, once (every caller waits
   * for the same close). */
  #close(): Promise<void> {
    return (this.#closed ??= this.#doClose());
  }

  async #doClose(): Promise<void> {
    this.#closing = true;
    this.#main.closed = true;
    this.#slots.close();
    if (this.#watchdog) clearInterval(this.#watchdog);
    await this.#placement?.stop().catch(() => {});
    const threads = this.#slots.all();
    await Promise.all(
      threads.map(async (t) => {
        if (t.alive) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            t.control.close().catch(() => {}),
            new Promise((r) => (timer = setTimeout(r, 2000))),
          ]);
          clearTimeout(timer);
        }
        await t.terminate();
      }),
    );
    this.#main.rejectPending(() => true, 'the supervisor stopped');
    this.#main.closeLinks();
    await this.#offload.close().catch(() => {});
    const redis = this.#redis;
    this.#redis = null;
    if (redis) await redis.close().catch(() => redis.disconnect());
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#logger?.[level](message);
  }
}
