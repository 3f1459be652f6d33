/**
 * Every message that crosses a thread boundary in the actor runtime, in one file (as piscina
 * keeps StartupMessage / RequestMessage / ResponseMessage together). Correlated by id.
 *
 *             ┌──────────── main thread (Supervisor) ─────────────┐
 *             │ comlink control ─┐   parentPort events ┐  links   │
 *             └──────────────────┼─────────────────────┼────┬─────┘
 *                     WorkerControl│        WorkerEvent  │    │ LinkBatch (slot -1 = main)
 *             ┌──────────────────▼─────────────────────┴────▼─────┐
 *             │ worker slot 0  ◄──── LinkBatch (direct port) ────► worker slot 1 ...
 *             └───────────────────────────────────────────────────┘
 *
 * - Control plane (supervisor → worker): request/reply calls through comlink, typed by
 *   `WorkerControl`, over a dedicated MessageChannel. A call pending on a worker that dies rejects
 *   with ActorDiedError (see thread.ts); comlink alone would hang.
 * - Events (worker → supervisor): one-way `WorkerEvent`s on the worker's parentPort; offload
 *   results come back the same way as `OffloadResult`.
 * - Data plane (actor traffic): `LinkBatch`es over one MessagePort per pair of threads (a
 *   MessageChannel per pair, set up by the supervisor), so worker-to-worker traffic never hops
 *   through the main thread. Each batch carries every message one thread posted to the other in
 *   one tick. Cross-thread sends spend credits (`CreditMessage`, see link.ts).
 * - Heartbeat and busy deadline: a SharedArrayBuffer (`BEAT_*` slots), no messages at all, so a
 *   worker stuck in a CPU loop is seen by the supervisor even though it cannot post.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ClientOptions } from '../client/index.js';
import { InvalidArgumentError } from '../errors.js';

// ---- shared heartbeat (Float64Array over WorkerInit.beat), times on clock.ts's monoNow() ----

/** monoNow() of the worker's last heartbeat. */
export const BEAT_LAST = 0;
/** monoNow() deadline of the user code running synchronously now (init/receive/timer/stop),
 * 0 if none (or it has no timeout). */
export const BEAT_DEADLINE = 1;
/** Index (in WorkerInit.actors) of the actor whose code runs synchronously now, -1 if none. */
export const BEAT_ACTOR = 2;
/** The handler timeout behind BEAT_DEADLINE, for the error message. */
export const BEAT_TIMEOUT = 3;
export const BEAT_SLOTS = 4;

/** The slot number of the main thread on the data plane. */
export const MAIN_SLOT = -1;

// ---- errors on the wire ----

/** An Error flattened for postMessage (custom classes and their fields do not survive a clone). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Why a call failed, so the caller's thread can rebuild the right typed error. */
export type CallFailure =
  | { kind: 'handler'; actor: string; error: WireError }
  | { kind: 'died'; actor: string; reason: string }
  | { kind: 'not-found'; actor: string; detail: string }
  | { kind: 'shutdown' };

// ---- data plane ----

/** A message for an actor. `cid` > 0 asks for a reply to slot `rs`. */
export interface ActorMessage {
  t: 'm';
  /** Target actor id (`name` or `name#instance`). */
  to: string;
  msg: unknown;
  /** Call id, unique per calling thread; 0 for a send. */
  cid: number;
  /** Reply slot: the calling thread's slot (MAIN_SLOT for the supervisor). */
  rs: number;
}

export type ReplyMessage =
  | { t: 'r'; cid: number; ok: true; value: unknown }
  | { t: 'r'; cid: number; ok: false; failure: CallFailure };

/** `n` messages for actor `to` left its mailbox: the sender may send `n` more. */
export interface CreditMessage {
  t: 'c';
  to: string;
  n: number;
}

export type LinkMessage = ActorMessage | ReplyMessage | CreditMessage;
/** One postMessage on a link: everything one thread sent the other in one tick. */
export type LinkBatch = LinkMessage[];

// ---- startup ----

export type ActorMode = 'queue' | 'standby';

/** Everything a worker needs to know about one actor, fixed for the supervisor's lifetime. */
export interface ActorPlacement {
  id: string;
  name: string;
  /** Instance number; null when the actor has a single instance (its id is its name). */
  instance: number | null;
  /** The worker slot that hosts it (restarts stay in the slot; a dead thread is replaced). */
  slot: number;
  /** file: URL of the module exporting the definition. */
  module: string;
  /** Export name; null: `default`, else the single export that is an actor. */
  export: string | null;
  options: Record<string, unknown>;
  concurrency: number;
  mailboxSize: number;
  handlerTimeoutMs: number;
  initTimeoutMs: number;
  stopTimeoutMs: number;
  singleton: boolean;
}

export interface Tuning {
  heartbeatMs: number;
  /** Cross-thread messages one sender may have unconsumed per target actor. */
  creditWindow: number;
  callTimeoutMs: number;
}

/** workerData of a worker thread. Ports are transferred. */
export interface WorkerInit {
  slot: number;
  generation: number;
  supervisorId: string;
  namespace: string;
  beat: SharedArrayBuffer;
  control: MessagePort;
  /** Data-plane ports to every other live thread (the main thread is MAIN_SLOT). */
  peers: { slot: number; generation: number; port: MessagePort }[];
  actors: ActorPlacement[];
  /** Current mode of each actor of this slot (singletons not held here are on standby). */
  modes: Record<string, ActorMode>;
  redis: ClientOptions | null;
  tuning: Tuning;
}

// ---- control plane (comlink) ----

export type StopReason = 'shutdown' | 'restart' | 'removed' | 'lease-lost' | 'normal';

export interface StopResult {
  /** Messages that were waiting in the mailbox and were rejected (removed, on standby). */
  leftover: number;
  /** No code of the actor runs any more: no handler, init or stop() outlived the stop. */
  ended: boolean;
}

export interface ActorCounters {
  id: string;
  handled: number;
  failed: number;
  /** Messages that could not be delivered (standby, removed) and sends dropped at shutdown. */
  dropped: number;
  mailbox: number;
  running: number;
  /** Log-bucketed handler latency histogram (see histogram.ts), mergeable across threads. */
  latency: number[];
  counters: Record<string, number>;
}

export interface DrainStatus {
  queued: number;
  running: number;
  handled: number;
  /** Messages posted to links but not flushed yet. */
  outbound: number;
  /** Actor messages this thread posted to / received from other threads; when the sums over
   * all threads are equal, none is in flight inside a MessagePort. */
  sent: number;
  received: number;
  /** Credit grants this thread posted (one per creditWindow/2 messages consumed). */
  acks: number;
}

/** The API each worker exposes to its supervisor through comlink. */
export interface WorkerControl {
  /** Loads the module (once), creates a fresh context, runs init. Resolves when init is done. */
  spawn(id: string, incarnation: number, fencingToken: number | null): Promise<void>;
  /**
   * Stops the current incarnation (or cancels its start if it has not begun): pause the
   * mailbox, let handlers in flight (or init) finish, bounded by stopTimeoutMs, abort its
   * signal, clear timers, run stop() (bounded too). `reason` 'removed' or 'shutdown' also
   * empties the mailbox (calls in it reject) and marks it removed; 'lease-lost' puts it on
   * standby. Any other incarnation number only reports whether the actor's code has ended.
   */
  stop(id: string, incarnation: number, reason: StopReason): Promise<StopResult>;
  /** The actor went on standby (a singleton held elsewhere) or back to queueing. */
  setMode(id: string, mode: ActorMode): Promise<void>;
  /** A peer thread was replaced (port) or died (null): swap its link, reject calls pending on
   * the old one. */
  replacePeer(
    slot: number,
    generation: number,
    port: MessagePort | null,
    reason: string,
  ): Promise<void>;
  /** Stop intake: abort every actor's signal and clear its timers (mailboxes keep draining). */
  beginShutdown(): Promise<void>;
  drainStatus(): Promise<DrainStatus>;
  stats(): Promise<ActorCounters[]>;
  /** Close Redis clients and ports; the thread can then be terminated. */
  close(): Promise<void>;
}

// ---- events (worker → supervisor, parentPort) ----

export type WorkerEvent =
  | {
      type: 'actor-failed';
      id: string;
      incarnation: number;
      phase: 'init' | 'receive' | 'timer' | 'timeout';
      error: WireError;
    }
  | { type: 'actor-exited'; id: string; incarnation: number }
  /** A send to an actor on another thread could not be cloned: it was dropped (counted). */
  | { type: 'undeliverable'; to: string; error: WireError }
  | { type: 'log'; id: string; level: LogLevel; message: string }
  | { type: 'offload'; oid: number; task: OffloadTask; timeoutMs: number };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

// ---- offload (worker → supervisor's piscina pool → worker) ----

export type OffloadTask =
  | { kind: 'source'; source: string; data: unknown }
  | { kind: 'module'; module: string; export: string; data: unknown };

export type OffloadResult =
  | { type: 'offload-result'; oid: number; ok: true; value: unknown }
  | { type: 'offload-result'; oid: number; ok: false; error: WireError };

// ---- helpers ----

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const out: WireError = { name: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
}

export function fromWire(w: WireError): Error {
  const err = new Error(w.message);
  err.name = w.name;
  if (w.stack !== undefined) err.stack = w.stack;
  if (w.code !== undefined) (err as Error & { code: string }).code = w.code;
  return err;
}

/** A message that structured clone refused (`err`), as the typed error senders get. */
export function notCloneable(err: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    'msg',
    `cannot be sent to another thread (structured clone): ${asError(err).message}`,
  );
}

/** For reject() and throw: an Error as is, anything else wrapped. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(safeString(err));
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
