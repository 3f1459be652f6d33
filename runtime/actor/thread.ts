/**
 * WorkerThread: the supervisor's handle on one worker thread — the Worker, its control API
 * through comlink (guarded: a call pending when the thread dies rejects with ActorDiedError
 * instead of hanging, as plain comlink does), its heartbeat buffer, and how it ended.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort, ResourceLimits, TransferListItem } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { ActorDiedError, WorkerExitError } from '../errors.js';
import { monoNow } from './clock.js';
import { BEAT_ACTOR, BEAT_DEADLINE, BEAT_LAST, BEAT_SLOTS, BEAT_TIMEOUT } from './messages.js';
import type { OffloadResult, WorkerControl, WorkerEvent, WorkerInit } from './messages.js';
import { newIncident } from './tree.js';

const ENTRY = new URL('./worker-entry.js', import.meta.url);
/** How long a new thread may take to beat for the first time. */
const BOOT_GRACE_MS = 10_000;

export interface ThreadExit {
  slot: number;
  generation: number;
  error: WorkerExitError;
  /** Index (in WorkerInit.actors) of the actor whose code was running when it was killed, or -1. */
  culprit: number;
  /** The handler timeout the culprit ran past (0 if not a handler timeout). */
  timeoutMs: number;
  /** One incident id for every actor the thread took down. */
  incident: string;
  /** Terminated on purpose by a shutdown (not a failure: nothing to report or replace). */
  deliberate: boolean;
}

export interface ThreadOptions {
  init: Omit<WorkerInit, 'beat' | 'control'>;
  resourceLimits: ResourceLimits | undefined;
  onEvent(e: WorkerEvent, thread: WorkerThread): void;
  onExit(exit: ThreadExit): void;
}

export type Kill = {
  reason: 'unresponsive' | 'lease';
  detail: string;
  culprit: number;
  timeoutMs: number;
};

export class WorkerThread {
  readonly slot: number;
  readonly generation: number;
  readonly control: WorkerControl;
  readonly #worker: Worker;
  readonly #beat: Float64Array;
  readonly #port: MessagePort;
  #alive = true;
  #error: Error | null = null;
  #kill: Kill | null = null;
  #deliberate = false;
  /** monoNow() of the last check that found user code running within its deadline. */
  #busySeen = 0;
  #died: Promise<never>;
  #markDead!: (e: Error) => void;

  constructor(o: ThreadOptions) {
    this.slot = o.init.slot;
    this.generation = o.init.generation;
    const beat = new SharedArrayBuffer(BEAT_SLOTS * Float64Array.BYTES_PER_ELEMENT);
    this.#beat = new Float64Array(beat);
    // Until its first beat the thread is booting (loading modules, the native addon); on a
    // loaded machine that can take a while and must not look like a hang.
    this.#beat[BEAT_LAST] = monoNow() + BOOT_GRACE_MS;
    this.#beat[BEAT_ACTOR] = -1;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const init: WorkerInit = { ...o.init, beat, control: port2 };
    const transfer: TransferListItem[] = [port2, ...o.init.peers.map((p) => p.port)];
    this.#died = new Promise<never>((_, reject) => {
      this.#markDead = reject;
    });
    this.#died.catch(() => {});
    this.#worker = new Worker(ENTRY, {
      workerData: init,
      transferList: transfer,
      ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}),
    });
    this.#worker.on('message', (e: WorkerEvent) => o.onEvent(e, this));
    this.#worker.on('error', (err) => {
      this.#error ??= err;
    });
    this.#worker.on('exit', (code) => {
      this.#alive = false;
      const exit = this.#exitInfo(code);
      this.#markDead(
        Object.assign(new ActorDiedError(`on thread ${this.slot}`, exit.error.message), {
          incident: exit.incident,
        }),
      );
      this.#port.close();
      o.onExit(exit);
    });
    const remote = Comlink.wrap<WorkerControl>(port1);
    this.control = this.#guard(remote);
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Rejects (ActorDiedError) when the thread ends; for racing against anything pending on it. */
  get died(): Promise<never> {
    return this.#died;
  }

  /** Offload results go back over the thread's parentPort. */
  post(m: OffloadResult): void {
    if (this.#alive) this.#worker.postMessage(m);
  }

  /**
   * Watchdog check (`now`: monoNow()). While user code runs synchronously under a timeout, the
   * thread is judged by that deadline alone: it cannot beat meanwhile, and a long synchronous
   * init within its initTimeoutMs is no hang. Otherwise it is stuck when its heartbeat is older
   * than `unresponsiveMs` (a CPU loop in code without a timeout, or in the runtime).
   */
  check(now: number, unresponsiveMs: number, actorName: (index: number) => string): void {
    if (!this.#alive || this.#kill || this.#deliberate) return;
    const deadline = this.#beat[BEAT_DEADLINE];
    const culprit = this.#beat[BEAT_ACTOR];
    if (deadline > 0) {
      if (now <= deadline) {
        this.#busySeen = now;
        return;
      }
      const timeoutMs = this.#beat[BEAT_TIMEOUT];
      void this.terminate({
        reason: 'unresponsive',
        detail: `${actorName(culprit)} ran past its handler timeout of ${timeoutMs} ms in synchronous code (a CPU loop?)`,
        culprit,
        timeoutMs,
      });
      return;
    }
    // Right after a long synchronous section (within its deadline) the thread has not beaten
    // yet: the heartbeat is as old as that section, but the thread was alive at the last check
    // that saw it busy, and has come out of it since.
    const last = Math.max(this.#beat[BEAT_LAST], this.#busySeen);
    if (now - last > unresponsiveMs) {
      void this.terminate({
        reason: 'unresponsive',
        detail: `no heartbeat for ${now - last} ms${culprit >= 0 ? ` while ${actorName(culprit)} ran` : ''}`,
        culprit,
        timeoutMs: 0,
      });
    }
  }

  /**
   * Terminates the thread: `kill` says why it failed (the 'exit' handler reports it); without
   * one the termination is deliberate (shutdown): nothing failed.
   */
  async terminate(kill?: Kill): Promise<void> {
    if (kill) this.#kill ??= kill;
    else if (!this.#kill) this.#deliberate = true;
    if (!this.#alive) return;
    await this.#worker.terminate();
  }

  #exitInfo(code: number): ThreadExit {
    const incident = newIncident();
    const base = {
      slot: this.slot,
      generation: this.generation,
      incident,
      deliberate: this.#deliberate && this.#kill === null && this.#error === null,
    };
    if (this.#kill) {
      const k = this.#kill;
      return {
        ...base,
        error: new WorkerExitError(this.slot, k.reason, code, k.detail),
        culprit: k.culprit,
        timeoutMs: k.timeoutMs,
      };
    }
    const err = this.#error;
    if (err) {
      const oom = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      return {
        ...base,
        error: new WorkerExitError(this.slot, oom ? 'out-of-memory' : 'error', code, err.message, {
          cause: err,
        }),
        culprit: -1,
        timeoutMs: 0,
      };
    }
    return {
      ...base,
      error: new WorkerExitError(
        this.slot,
        'exit',
        code,
        `the thread exited with code ${code} (process.exit?)`,
      ),
      culprit: -1,
      timeoutMs: 0,
    };
  }

  /** Every control call races the thread's death. */
  #guard(remote: Comlink.Remote<WorkerControl>): WorkerControl {
    const died = this.#died;
    const isAlive = (): boolean => this.#alive;
    return new Proxy({} as WorkerControl, {
      get(_, prop: string) {
        return (...args: unknown[]): Promise<unknown> => {
          if (!isAlive()) return died;
          const fn = (remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
            prop
          ];
          return Promise.race([fn(...args), died]);
        };
      },
    });
  }
}
