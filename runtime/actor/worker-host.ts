/**
 * WorkerHost: the runtime inside one worker thread of a supervisor. It hosts the actors placed
 * in its slot (cells), serves the supervisor's control calls (comlink), talks to the other
 * threads over direct links, beats into the shared heartbeat buffer, sweeps handler timeouts,
 * and owns the thread's Redis client (on this thread's native connection).
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { HighPerformanceRedis } from '../client/index.js';
import { AbortError, ActorNotFoundError, InvalidArgumentError } from '../errors.js';
import { ActorCell } from './cell.js';
import type { CellHost } from './cell.js';
import { monoNow } from './clock.js';
import type { OffloadModule, OffloadOptions } from './define.js';
import { loadDefinition } from './loader.js';
import { Endpoint } from './endpoint.js';
import type { Link } from './link.js';
import type { Envelope } from './mailbox.js';
import {
  BEAT_ACTOR,
  BEAT_DEADLINE,
  BEAT_LAST,
  BEAT_TIMEOUT,
  asError,
  fromWire,
  toWire,
} from './messages.js';
import type {
  ActorCounters,
  ActorMessage,
  ActorMode,
  ActorPlacement,
  DrainStatus,
  OffloadResult,
  OffloadTask,
  StopReason,
  WorkerControl,
  WorkerEvent,
  WorkerInit,
} from './messages.js';

export class WorkerHost extends Endpoint implements CellHost {
  readonly supervisorId: string;
  readonly namespace: string;
  readonly generation: number;
  readonly #init: WorkerInit;
  readonly #beat: Float64Array;
  readonly #cells = new Map<string, ActorCell>();
  #redis: HighPerformanceRedis | null = null;
  #shuttingDown = false;
  #oid = 0;
  readonly #offloads = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  readonly #ticker: NodeJS.Timeout;

  constructor(init: WorkerInit) {
    super(init.slot, init.actors, init.tuning);
    this.#init = init;
    this.supervisorId = init.supervisorId;
    this.namespace = init.namespace;
    this.generation = init.generation;
    this.#beat = new Float64Array(init.beat);
    init.actors.forEach((p, index) => {
      if (p.slot === init.slot)
        this.#cells.set(p.id, new ActorCell(p, index, init.modes[p.id] ?? 'queue', this));
    });
    for (const { slot, generation, port } of init.peers) this.addLink(slot, generation, port);
    // The sweep for async handler timeouts runs at a quarter of the shortest timeout here,
    // and the heartbeat at least every heartbeatMs.
    const timeouts = [...this.#cells.values()]
      .map((c) => c.p.handlerTimeoutMs)
      .filter((t) => t > 0);
    const every = Math.max(5, Math.min(init.tuning.heartbeatMs, ...timeouts.map((t) => t / 4)));
    this.#ticker = setInterval(() => this.#tick(), every);
    this.#tick();
    parentPort?.on('message', (m: OffloadResult) => this.#onOffloadResult(m));
    Comlink.expose(this.#control(), init.control);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  protected get intakeClosed(): boolean {
    return false; // the supervisor stops intake at its edge; actors may still talk while draining
  }

  #tick(): void {
    const now = monoNow();
    this.#beat[BEAT_LAST] = now;
    for (const cell of this.#cells.values()) cell.sweep(now);
  }

  // ---- CellHost ----

  busy(cell: ActorCell, timeoutMs: number): void {
    const b = this.#beat;
    b[BEAT_DEADLINE] = timeoutMs > 0 ? monoNow() + timeoutMs : 0;
    b[BEAT_ACTOR] = cell.index;
    b[BEAT_TIMEOUT] = timeoutMs;
  }

  idle(): void {
    // Out of a section under a deadline: the thread is alive now, whenever its next tick runs
    // (on a loaded machine that can be long after a section that ran for most of its timeout).
    // Written before the deadline is cleared, so the watchdog never sees neither.
    if (this.#beat[BEAT_DEADLINE] > 0) this.#beat[BEAT_LAST] = monoNow();
    this.#beat[BEAT_DEADLINE] = 0;
    this.#beat[BEAT_ACTOR] = -1;
  }

  emit(event: WorkerEvent): void {
    parentPort?.postMessage(event);
  }

  redis(): HighPerformanceRedis {
    if (!this.#redis) {
      if (this.#init.redis === null)
        throw new InvalidArgumentError(
          'redis',
          'is not configured: add `redis` to the supervisor config',
        );
      const client = new HighPerformanceRedis(this.#init.redis);
      let last = 0;
      client.on('error', (err) => {
        // Reconnects are the client's job; tell the log at most once a second.
        if (Date.now() - last < 1000) return;
        last = Date.now();
        this.emit({
          type: 'log',
          id: `thread ${this.slot}`,
          level: 'warn',
          message: `redis: ${err.message}`,
        });
      });
      this.#redis = client;
    }
    return this.#redis;
  }

  offload(
    fn: ((data: never) => unknown) | OffloadModule,
    data: unknown,
    options: OffloadOptions,
    signal: AbortSignal,
  ): Promise<unknown> {
    let task: OffloadTask;
    if (typeof fn === 'function') {
      task = { kind: 'source', source: fn.toString(), data };
    } else if (
      typeof fn === 'object' &&
      fn !== null &&
      (typeof fn.module === 'string' || fn.module instanceof URL)
    ) {
      task = { kind: 'module', module: String(fn.module), export: fn.export ?? 'default', data };
    } else {
      return Promise.reject(
        new InvalidArgumentError('fn', 'must be a function or { module, export }'),
      );
    }
    if (signal.aborted) return Promise.reject(new AbortError('the actor stopped before offload'));
    const oid = ++this.#oid;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#offloads.delete(oid);
        reject(new AbortError('the actor stopped while its offloaded task ran'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#offloads.set(oid, {
        resolve: (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      const event: WorkerEvent = { type: 'offload', oid, task, timeoutMs: options.timeoutMs ?? 0 };
      try {
        parentPort?.postMessage(event, (options.transfer ?? []) as TransferListItem[]);
      } catch (err) {
        this.#offloads.delete(oid);
        reject(asError(err));
      }
    });
  }

  #onOffloadResult(m: OffloadResult): void {
    if (m?.type !== 'offload-result') return;
    const p = this.#offloads.get(m.oid);
    if (!p) return;
    this.#offloads.delete(m.oid);
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  }

  // ---- Endpoint ----

  protected deliverLocal(
    p: ActorPlacement,
    env: Envelope,
    timeoutMs: number | undefined,
    gaveUp?: () => boolean,
  ): Promise<void> | undefined {
    return this.#cell(p.id).acceptLocal(env, timeoutMs, gaveUp);
  }

  onMessage(m: ActorMessage, link: Link): void {
    this.received++;
    const env: Envelope = { msg: m.msg, cid: m.cid, rs: m.rs, via: link };
    const cell = this.#cells.get(m.to);
    if (cell) {
      cell.acceptRemote(env);
      return;
    }
    link.consumed(m.to);
    this.replyFailure(env, {
      kind: 'not-found',
      actor: m.to,
      detail: `not hosted on thread ${this.slot}`,
    });
  }

  /** Counted in `to`'s dropped and logged by the supervisor (the sender moved on already). */
  protected undeliverableSend(to: string, error: Error): void {
    this.emit({ type: 'undeliverable', to, error: toWire(error) });
  }

  // ---- control (comlink) ----

  #control(): WorkerControl {
    return {
      spawn: async (id, incarnation, fencingToken) => {
        const cell = this.#cell(id);
        await cell.start(incarnation, fencingToken, () =>
          loadDefinition(cell.p.module, cell.p.export, `actor ${cell.p.name} (${cell.p.module})`),
        );
      },
      stop: (id, incarnation, reason: StopReason) => this.#cell(id).stop(incarnation, reason),
      // The control API is asynchronous by contract (it crosses threads); these answer at once.
      setMode: (id, mode: ActorMode) => {
        this.#cell(id).setMode(mode);
        return Promise.resolve();
      },
      replacePeer: (slot, generation, port: MessagePort | null, reason) => {
        this.replaceLink(slot, generation, port, reason);
        return Promise.resolve();
      },
      beginShutdown: () => {
        this.#shuttingDown = true;
        for (const cell of this.#cells.values()) cell.beginShutdown();
        return Promise.resolve();
      },
      drainStatus: (): Promise<DrainStatus> => {
        let queued = 0;
        let running = 0;
        let handled = 0;
        for (const cell of this.#cells.values()) {
          if (cell.mode === 'queue') queued += cell.mailbox.length;
          running += cell.running;
          handled += cell.handled;
        }
        let outbound = 0;
        let acks = 0;
        for (const link of this.links.values()) {
          outbound += link.outbound;
          acks += link.acks;
        }
        return Promise.resolve({
          queued,
          running,
          handled,
          outbound,
          sent: this.sent,
          received: this.received,
          acks,
        });
      },
      stats: (): Promise<ActorCounters[]> =>
        Promise.resolve([...this.#cells.values()].map((c) => c.counters())),
      close: async () => {
        clearInterval(this.#ticker);
        const redis = this.#redis;
        this.#redis = null;
        if (redis) await redis.close().catch(() => redis.disconnect());
        for (const p of this.#offloads.values()) p.reject(new AbortError('the supervisor stopped'));
        this.#offloads.clear();
        this.closeLinks();
      },
    };
  }

  #cell(id: string): ActorCell {
    const cell = this.#cells.get(id);
    if (!cell) throw new ActorNotFoundError(id, `not hosted on thread ${this.slot}`);
    return cell;
  }
}
