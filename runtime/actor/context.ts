/** The ActorContext of one incarnation of an actor (see define.ts for the contract). */
import type { HighPerformanceRedis } from '../client/index.js';
import type { ActorCell, CellHost } from './cell.js';
import type {
  ActorCallOptions,
  ActorContext,
  ActorCounter,
  ActorLogger,
  ActorRef,
  ActorSendOptions,
  OffloadModule,
  OffloadOptions,
  RefOf,
} from './define.js';

/** The ActorContext of one incarnation. */
export class Context implements ActorContext {
  readonly #cell: ActorCell;
  readonly #host: CellHost;
  readonly #inc: number;
  readonly self: ActorRef;
  readonly id: string;
  readonly name: string;
  readonly instance: number | null;
  readonly options: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  readonly incarnation: number;
  readonly thread: number;
  readonly fencingToken: number | null;
  readonly supervisorId: string;
  readonly namespace: string;
  readonly log: ActorLogger;
  state: unknown = {};

  constructor(
    cell: ActorCell,
    host: CellHost,
    signal: AbortSignal,
    inc: number,
    fencingToken: number | null,
  ) {
    this.#cell = cell;
    this.#host = host;
    this.#inc = inc;
    this.self = Object.freeze({ name: cell.p.name, instance: cell.p.instance });
    this.id = cell.id;
    this.name = cell.p.name;
    this.instance = cell.p.instance;
    this.options = cell.p.options;
    this.signal = signal;
    this.incarnation = inc;
    this.thread = host.slot;
    this.fencingToken = fencingToken;
    this.supervisorId = host.supervisorId;
    this.namespace = host.namespace;
    this.log = {
      debug: (...a: unknown[]) => cell.log('debug', a),
      info: (...a: unknown[]) => cell.log('info', a),
      warn: (...a: unknown[]) => cell.log('warn', a),
      error: (...a: unknown[]) => cell.log('error', a),
    };
  }

  get redis(): HighPerformanceRedis {
    return this.#host.redis();
  }

  blockingRedis(): HighPerformanceRedis {
    return this.#cell.blockingRedis();
  }

  counter(name: string): ActorCounter {
    return this.#cell.counter(name);
  }

  ref<D = unknown>(name: string, instance?: number): RefOf<D> {
    return this.#host.ref(name, instance) as RefOf<D>;
  }

  send<M>(to: ActorRef<M, unknown> | string, msg: M, options?: ActorSendOptions): Promise<void> {
    return this.#host.send(to, msg, options);
  }

  call<M, R>(to: ActorRef<M, R> | string, msg: M, options?: ActorCallOptions): Promise<R> {
    return this.#host.call(to, msg, options) as Promise<R>;
  }

  every(ms: number, fn: (ctx: ActorContext) => unknown): () => void {
    return this.#cell.every(this.#inc, ms, fn);
  }

  offload<T, R>(
    fn: ((data: T) => R) | OffloadModule,
    data: T,
    options: OffloadOptions = {},
  ): Promise<Awaited<R>> {
    return this.#host.offload(fn, data, options, this.signal) as Promise<Awaited<R>>;
  }

  stop(): void {
    if (this.#cell.incarnation === this.#inc) this.#cell.requestStop();
  }
}
