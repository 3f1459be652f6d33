/**
 * ThreadSlots: the worker threads of a supervisor, one per slot. An actor lives in one slot
 * for the supervisor's lifetime. A thread that dies is replaced in its slot — at once after a
 * calm run, then after a growing backoff of the slot's own (the root's backoff options: min,
 * doubling, reset after resetAfterMs), so a thread that dies as it boots (a resourceLimit too
 * tight for what it loads) is not respawned in a hot loop. Every other thread and the main
 * thread swap their link to the new one.
 *
 *   thread ──dies──► null: links to it closed (calls on it reject) ──backoff──► thread'
 *                          ready(slot) waits here (a restarting actor); close() cancels
 */
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ActorDiedError, ShutdownError } from '../errors.js';
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { monoNow } from './clock.js';
import type { Endpoint } from './endpoint.js';
import { MAIN_SLOT } from './messages.js';
import type { WorkerEvent, WorkerInit } from './messages.js';
import { WorkerThread } from './thread.js';
import type { ThreadExit } from './thread.js';

export interface SlotsHost {
  /** What a new thread is told besides its slot, generation and peers. */
  init(slot: number): Omit<WorkerInit, 'slot' | 'generation' | 'peers' | 'beat' | 'control'>;
  event(e: WorkerEvent, thread: WorkerThread): void;
  /** A thread ended (the links to it are closed already); true to replace it. */
  exited(exit: ThreadExit): boolean;
  /** A shutdown is in progress: a new thread stops its intake at once. */
  readonly shuttingDown: boolean;
}

interface Waiter {
  resolve(t: WorkerThread): void;
  reject(e: Error): void;
}

interface Slot {
  thread: WorkerThread | null;
  generation: number;
  /** Deaths in a row (reset when a thread lived resetAfterMs): the first is replaced at
   * once, the next ones after backoff delays 1, 2, ... */
  deaths: number;
  /** monoNow() when its thread was spawned. */
  bornAt: number;
  /** A replacement waiting for its backoff. */
  respawn: { timer: NodeJS.Timeout; waiters: Waiter[] } | null;
}

export class ThreadSlots {
  readonly #slots: Slot[];
  readonly #main: Endpoint;
  readonly #backoff: BackoffOptions;
  readonly #limits: ResourceLimits | undefined;
  readonly #host: SlotsHost;
  #closed = false;

  constructor(
    count: number,
    main: Endpoint,
    backoff: BackoffOptions,
    limits: ResourceLimits | undefined,
    host: SlotsHost,
  ) {
    this.#slots = Array.from({ length: count }, () => ({
      thread: null,
      generation: 0,
      deaths: 0,
      bornAt: 0,
      respawn: null,
    }));
    this.#main = main;
    this.#backoff = backoff;
    this.#limits = limits;
    this.#host = host;
  }

  get size(): number {
    return this.#slots.length;
  }

  generation(slot: number): number {
    return this.#slots[slot].generation;
  }

  /** The live thread of `slot`, or null (dead, replacement pending, closed). */
  get(slot: number): WorkerThread | null {
    const t = this.#slots[slot].thread;
    return t?.alive ? t : null;
  }

  live(): WorkerThread[] {
    return this.#slots.flatMap((s) => (s.thread?.alive ? [s.thread] : []));
  }

  /** Every thread still referenced (alive or not), for closing. */
  all(): WorkerThread[] {
    return this.#slots.flatMap((s) => (s.thread ? [s.thread] : []));
  }

  start(): void {
    for (let slot = 0; slot < this.#slots.length; slot++) this.#spawn(slot, 'starting');
  }

  /** The thread of `slot`, waiting through a pending replacement; rejects if none will come. */
  ready(slot: number): Promise<WorkerThread> {
    const s = this.#slots[slot];
    if (s.thread?.alive) return Promise.resolve(s.thread);
    if (s.respawn && !this.#closed)
      return new Promise((resolve, reject) => s.respawn!.waiters.push({ resolve, reject }));
    return Promise.reject(
      this.#closed
        ? new ShutdownError()
        : new ActorDiedError(`on thread ${slot}`, `its thread (slot ${slot}) is gone`),
    );
  }

  /** No more replacements; whoever waits for one gets ShutdownError. (Terminating is the
   * caller's: all().) */
  close(): void {
    this.#closed = true;
    this.holdRespawns();
  }

  /** A shutdown reached its stop phase: no dead thread is replaced any more (the host's
   * exited() says so); replacements waiting for their backoff are cancelled, and whoever
   * waits for one gets ShutdownError. */
  holdRespawns(): void {
    for (const s of this.#slots) {
      if (!s.respawn) continue;
      clearTimeout(s.respawn.timer);
      for (const w of s.respawn.waiters) w.reject(new ShutdownError());
      s.respawn = null;
    }
  }

  /** Starts the thread of `slot` and links it to every live thread and the main thread. */
  #spawn(slot: number, reason: string): WorkerThread {
    const s = this.#slots[slot];
    const generation = ++s.generation;
    const peers: { slot: number; generation: number; port: MessagePort }[] = [];
    for (const other of this.live()) {
      if (other.slot === slot) continue;
      const { port1, port2 } = new MessageChannel();
      peers.push({ slot: other.slot, generation: other.generation, port: port1 });
      other.control
        .replacePeer(slot, generation, Comlink.transfer<MessagePort>(port2, [port2]), reason)
        .catch(() => {});
    }
    const { port1, port2 } = new MessageChannel();
    peers.push({ slot: MAIN_SLOT, generation: 0, port: port1 });
    this.#main.replaceLink(slot, generation, port2, reason);
    const thread = new WorkerThread({
      init: { ...this.#host.init(slot), slot, generation, peers },
      resourceLimits: this.#limits,
      onEvent: (e, t) => this.#host.event(e, t),
      onExit: (exit) => this.#exited(exit),
    });
    s.thread = thread;
    s.bornAt = monoNow();
    if (this.#host.shuttingDown) void thread.control.beginShutdown().catch(() => {});
    return thread;
  }

  #exited(exit: ThreadExit): void {
    const s = this.#slots[exit.slot];
    if (!s.thread || s.thread.generation !== exit.generation) return;
    const reason = exit.error.message;
    s.thread = null;
    // Calls pending on it reject now, not when (if) a replacement comes.
    this.#main.replaceLink(exit.slot, exit.generation + 1, null, reason);
    if (!this.#closed)
      for (const other of this.live())
        other.control.replacePeer(exit.slot, exit.generation + 1, null, reason).catch(() => {});
    if (!this.#host.exited(exit) || this.#closed) return;
    if (monoNow() - s.bornAt >= this.#backoff.resetAfterMs) s.deaths = 0;
    if (s.deaths++ === 0) {
      this.#spawn(exit.slot, reason);
      return;
    }
    const delay = backoffDelay(this.#backoff, s.deaths - 1);
    const respawn = {
      waiters: [] as Waiter[],
      timer: setTimeout(() => {
        s.respawn = null;
        const t = this.#spawn(exit.slot, reason);
        for (const w of respawn.waiters) w.resolve(t);
      }, delay),
    };
    s.respawn = respawn;
  }
}
