/**
 * defineActor and the types application code sees: the definition, the context handed to its
 * callbacks, and typed references.
 *
 *   // counter.ts
 *   export default defineActor({
 *     init: () => ({ n: 0 }),
 *     receive(msg: { add: number }, ctx) { ctx.state.n += msg.add; return ctx.state.n; },
 *   });
 *
 *   // elsewhere, typed: ctx.call resolves what receive returns
 *   const counter = ctx.ref<typeof import('./counter.js').default>('counter');
 *   const n: number = await ctx.call(counter, { add: 1 });
 */
import type { TransferListItem } from 'node:worker_threads';
import type { HighPerformanceRedis } from '../client/index.js';
import { InvalidArgumentError } from '../errors.js';

/** Marks what defineActor returned, so a module's actor export can be found by shape. */
export const ACTOR_BRAND: unique symbol = Symbol.for('cyredis.actor') as never;

/** Why stop() runs: a clean shutdown, a restart by strategy (a sibling failed), this
 * incarnation failed (a handler threw or timed out), the actor ended itself (`ctx.stop()`),
 * a singleton lost its lease, or the actor was stopped for good. */
export type ActorStopReason =
  'shutdown' | 'restart' | 'failed' | 'normal' | 'lease-lost' | 'removed';

/**
 * A reference to an actor: a plain, structured-cloneable object, so it can travel inside
 * messages. `instance` null means "any instance" (round-robin per sender) for a multi-instance
 * actor, or the only one. `M` and `R` only type `send` and `call`.
 */
export interface ActorRef<M = unknown, R = unknown> {
  readonly name: string;
  readonly instance: number | null;
  /** Type-level only, never present at run time. */
  readonly __types?: [M, R];
}

export interface ActorSendOptions {
  /** Transfer these (ArrayBuffers, MessagePorts) instead of copying them across threads. */
  transfer?: readonly TransferListItem[];
  /**
   * How long to wait for room in a full mailbox (backpressure) before rejecting with
   * TimeoutError. Default: no limit; the wait ends when the target dies (ActorDiedError).
   */
  timeoutMs?: number;
}

export interface ActorCallOptions extends ActorSendOptions {
  /** Reject with TimeoutError after this long. Default: the supervisor's callTimeoutMs. */
  timeoutMs?: number;
}

export interface OffloadOptions {
  transfer?: readonly TransferListItem[];
  /** Abort the task (and its pool thread) after this long. Default: none. */
  timeoutMs?: number;
}

/** A function exported by a module, for ctx.offload: `{ module: new URL('./hash.js', import.meta.url), export: 'hash' }`. */
export interface OffloadModule {
  module: string | URL;
  export?: string;
}

export interface ActorLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface ActorCounter {
  inc(by?: number): void;
  readonly value: number;
}

type MsgOf<D> = D extends { receive(msg: infer M, ...rest: never[]): unknown } ? M : unknown;
type ReplyOf<D> = D extends { receive(...args: never[]): infer R } ? Awaited<R> : unknown;
/** The typed reference to the actor a definition describes. */
export type RefOf<D> = ActorRef<MsgOf<D>, ReplyOf<D>>;

export interface ActorContext<S = unknown, O = Record<string, unknown>> {
  /** This actor. */
  readonly self: ActorRef;
  /** `name` or `name#instance`. */
  readonly id: string;
  readonly name: string;
  readonly instance: number | null;
  /** The actor's `options` from the config, frozen. */
  readonly options: Readonly<O>;
  /** What init returned ({} when it returned nothing); fresh on every restart. */
  state: S;
  /** Aborted when this incarnation ends: shutdown (intake stops), restart, failure, lease lost. */
  readonly signal: AbortSignal;
  /** Restarts of this actor so far (0 for the first start). */
  readonly incarnation: number;
  /** The worker slot this actor runs on. */
  readonly thread: number;
  /** For a singleton: the fencing token of its lease (strictly increasing), else null. */
  readonly fencingToken: number | null;
  readonly supervisorId: string;
  readonly namespace: string;
  /** The worker thread's client on its native connection (shared by the thread's actors). */
  readonly redis: HighPerformanceRedis;
  /** A dedicated connection for this actor (blocking reads), closed when it stops. */
  blockingRedis(): HighPerformanceRedis;
  /** Prefixed with the actor id; delivered to the supervisor's logger. */
  readonly log: ActorLogger;
  /** A named counter, reported in supervisor.stats(). */
  counter(name: string): ActorCounter;
  ref<D = unknown>(name: string, instance?: number): RefOf<D>;
  /** Resolves once the message is in the target's mailbox (waits while it is full). */
  send<M>(to: ActorRef<M, unknown> | string, msg: M, options?: ActorSendOptions): Promise<void>;
  /** Request/reply: resolves what the target's receive returns. */
  call<M, R>(to: ActorRef<M, R> | string, msg: M, options?: ActorCallOptions): Promise<R>;
  /**
   * Runs fn every `ms` (skipping a beat while the previous run is pending); a throw fails the
   * actor. Cleared on stop, restart and shutdown. Returns a cancel function.
   */
  every(ms: number, fn: (ctx: ActorContext<S, O>) => unknown): () => void;
  /**
   * Runs CPU-heavy stateless work on the supervisor's piscina pool. `fn` is shipped as source
   * and compiled once per pool thread: it must be self-contained (no closure variables, no
   * imports; use `await import()` inside it), take the data and return a cloneable result.
   * Or pass `{ module, export }` to run an exported function of a module.
   */
  offload<T, R>(
    fn: ((data: T) => R) | OffloadModule,
    data: T,
    options?: OffloadOptions,
  ): Promise<Awaited<R>>;
  /** Ends this actor normally once the current message is handled (transient: no restart). */
  stop(): void;
}

export interface ActorDefinition<
  S = unknown,
  M = unknown,
  R = unknown,
  O = Record<string, unknown>,
> {
  /** Runs before the first message; its return value becomes ctx.state. A throw fails the start. */
  init?(ctx: ActorContext<S, O>): S | Promise<S> | void | Promise<void>;
  /** Handles one message; its return value is the reply to a call. A throw fails the actor. */
  receive(msg: M, ctx: ActorContext<S, O>): R | Promise<R>;
  /** Runs when the incarnation ends (not after a worker crash: the thread is gone). */
  stop?(ctx: ActorContext<S, O>, reason: ActorStopReason): void | Promise<void>;
}

const KEYS = new Set(['init', 'receive', 'stop']);

/** Checks the shape of an actor definition; the message names the bad field. */
export function validateDefinition(def: unknown, label = 'actor'): asserts def is ActorDefinition {
  if (typeof def !== 'object' || def === null)
    throw new InvalidArgumentError(label, 'must be an object with a receive function');
  const d = def as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!KEYS.has(key))
      throw new InvalidArgumentError(
        `${label}.${key}`,
        'is not a known field (init, receive, stop)',
      );
  }
  if (typeof d.receive !== 'function')
    throw new InvalidArgumentError(`${label}.receive`, 'must be a function');
  for (const key of ['init', 'stop']) {
    if (d[key] !== undefined && typeof d[key] !== 'function')
      throw new InvalidArgumentError(`${label}.${key}`, 'must be a function');
  }
}

/** Defines an actor. Export the result from an app module (default, or named and `export:` in the config). */
export function defineActor<
  S = Record<string, unknown>,
  M = unknown,
  R = unknown,
  O = Record<string, unknown>,
>(definition: ActorDefinition<S, M, R, O>): ActorDefinition<S, M, R, O> {
  validateDefinition(definition);
  return Object.freeze(
    Object.assign(Object.create(null) as object, definition, { [ACTOR_BRAND]: true }),
  );
}

/** True for what defineActor returned, or for a plain object with a receive function. */
export function isActorDefinition(v: unknown): v is ActorDefinition {
  return (
    typeof v === 'object' &&
    v !== null &&
    ((v as Record<symbol, unknown>)[ACTOR_BRAND] === true ||
      typeof (v as { receive?: unknown }).receive === 'function')
  );
}

/** `name` for a single-instance actor, `name#i` otherwise. */
export function actorId(name: string, instance: number | null): string {
  return instance === null ? name : `${name}#${instance}`;
}

/** Parses `name` or `name#i` into a ref. */
export function parseRef(to: ActorRef | string): ActorRef {
  if (typeof to !== 'string') {
    if (typeof to !== 'object' || to === null || typeof to.name !== 'string')
      throw new InvalidArgumentError('to', 'must be an actor ref or a name');
    return to;
  }
  const hash = to.lastIndexOf('#');
  if (hash > 0 && /^\d+$/.test(to.slice(hash + 1)))
    return { name: to.slice(0, hash), instance: Number(to.slice(hash + 1)) };
  return { name: to, instance: null };
}
