/**
 * cy_queue facade: a reliable queue with visibility timeouts, priorities, delays, dedup by id
 * and dead letters (contract and diagram of the moves: functions/cy_queue.lua).
 * At-least-once: a pulled message comes back when its visibility ends without an ack; the
 * receipt of each delivery lets a late consumer learn that its delivery is no longer valid
 * (StaleReceiptError) instead of acking someone else's.
 *
 * Keys (one hash tag per queue): cy:q:{name}:ready|delayed|inflight|msg|meta|dead|seq.
 * Payloads come back as UTF-8 strings, or as Buffers with `{ binary: true }` (pull,
 * deadLetters): a Buffer enqueued is stored byte for byte either way.
 */
import { textOf } from '../runtime/client/commands/replies.js';
import type { RespValue } from '../runtime/protocol/index.js';
import type { FunctionCaller } from './caller.js';
import { codeError, CyCode } from './codes.js';
import { binaryCall, bodyOf } from './payloads.js';
import type { BinaryOption, NoOptions, PayloadOf } from './payloads.js';
import { int, nonNegInt, options as opts, payload, posInt, text } from './validate.js';

const LIB = 'cy_queue';

/** Defaults for the per-call options (pass the same maxAttempts to pull and nack). */
export const QUEUE_DEFAULTS = {
  visibilityMs: 30_000,
  maxMessages: 1,
  maxAttempts: 5,
} as const;

/** The library's bounds (cy_queue.lua MAX_PULL, MAX_PRIORITY). */
const MAX_PULL = 1000;
const MAX_PRIORITY = 1000;

export interface EnqueueOptions {
  /** Deliverable after this many ms (default 0). */
  delayMs?: number;
  /** Integer in [-1000, 1000], higher first (default 0); FIFO within a priority. */
  priority?: number;
}

export interface PullOptions extends BinaryOption {
  /** How long a delivery stays invisible to others before it comes back (ms). */
  visibilityMs?: number;
  /** At most this many messages (1..1000). */
  maxMessages?: number;
  /** Deliveries before a message is dead-lettered instead. */
  maxAttempts?: number;
}

export interface QueueMessage<P extends string | Buffer = string> {
  id: string;
  payload: P;
  /** Deliveries so far, this one included. */
  attempts: number;
  /** Proves this delivery: ack / nack / extend with it fail once the delivery ended. */
  receipt: string;
}

export interface NackOptions {
  /** Back to ready after this many ms (default 0: at once). */
  retryDelayMs?: number;
  maxAttempts?: number;
}

export interface QueueStats {
  ready: number;
  delayed: number;
  inflight: number;
  dead: number;
}

export interface DeadLetter<P extends string | Buffer = string> {
  id: string;
  payload: P;
  attempts: number;
  deadAtMs: number;
}

function queueKeys(queue: unknown): string[] {
  const q = `cy:q:{${text('queue', queue)}}:`;
  return ['ready', 'delayed', 'inflight', 'msg', 'meta', 'dead', 'seq'].map((s) => q + s);
}

/** '' skips the receipt check (the library's convention). */
function receiptArg(receipt: unknown): string {
  return receipt === undefined ? '' : text('receipt', receipt);
}

export class Queue {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /** Adds a message; resolves false (nothing written) when `id` is still anywhere in the queue. */
  async enqueue(
    queue: string,
    id: string,
    body: string | Buffer,
    options: EnqueueOptions = {},
  ): Promise<boolean> {
    const k = queueKeys(queue);
    const o = opts('options', options);
    const args = [
      text('id', id),
      payload('payload', body),
      o.delayMs === undefined ? '' : nonNegInt('options.delayMs', o.delayMs),
      o.priority === undefined
        ? ''
        : int('options.priority', o.priority, -MAX_PRIORITY, MAX_PRIORITY),
    ];
    return this.#fx.fcall(LIB, 'cy_queue_enqueue', k, args, (r) => {
      if (r === 1) return true;
      if (r === CyCode.Duplicate) return false;
      throw codeError(r as number, `cy_queue_enqueue ${queue}/${id}`);
    });
  }

  /**
   * Delivers up to maxMessages ready messages, each invisible to others for visibilityMs.
   * Payloads are strings, or Buffers with `options.binary`.
   */
  async pull<O extends PullOptions = NoOptions>(
    queue: string,
    options?: O,
  ): Promise<QueueMessage<PayloadOf<O>>[]> {
    const k = queueKeys(queue);
    const o = opts('options', options);
    const call = binaryCall(o);
    const args = [
      posInt('options.visibilityMs', o.visibilityMs ?? QUEUE_DEFAULTS.visibilityMs),
      int('options.maxMessages', o.maxMessages ?? QUEUE_DEFAULTS.maxMessages, 1, MAX_PULL),
      posInt('options.maxAttempts', o.maxAttempts ?? QUEUE_DEFAULTS.maxAttempts),
    ];
    const transform = (r: RespValue): QueueMessage<PayloadOf<O>>[] =>
      quads(r, call !== undefined, (id, payload, attempts, receipt) => ({
        id,
        payload: payload as PayloadOf<O>,
        attempts,
        receipt: textOf(receipt),
      }));
    return this.#fx.fcall(LIB, 'cy_queue_pull', k, args, transform, false, call);
  }

  /**
   * Finishes a message. With a receipt, only that delivery may: StaleReceiptError when it is
   * no longer the current one, NotFoundError when the id is gone (acked already). Without a
   * receipt the message is removed wherever it is.
   */
  async ack(queue: string, id: string, receipt?: string): Promise<void> {
    const k = queueKeys(queue);
    return this.#fx.fcall(LIB, 'cy_queue_ack', k, [text('id', id), receiptArg(receipt)], (r) => {
      if (r !== 1) throw codeError(r as number, `cy_queue_ack ${queue}/${id}`);
    });
  }

  /**
   * Gives a delivery back: to ready after retryDelayMs, or to the dead letters when it used its
   * last attempt. StaleReceiptError when the delivery is no longer valid or not in flight.
   */
  async nack(
    queue: string,
    id: string,
    receipt?: string,
    options: NackOptions = {},
  ): Promise<'requeued' | 'dead-lettered'> {
    const k = queueKeys(queue);
    const o = opts('options', options);
    const args = [
      text('id', id),
      receiptArg(receipt),
      o.retryDelayMs === undefined ? '' : nonNegInt('options.retryDelayMs', o.retryDelayMs),
      posInt('options.maxAttempts', o.maxAttempts ?? QUEUE_DEFAULTS.maxAttempts),
    ];
    return this.#fx.fcall(LIB, 'cy_queue_nack', k, args, (r) => {
      if (r === 1) return 'requeued' as const;
      if (r === CyCode.DeadLettered) return 'dead-lettered' as const;
      throw codeError(r as number, `cy_queue_nack ${queue}/${id}`);
    });
  }

  /** Moves a delivery's deadline to visibilityMs from now (StaleReceiptError when it ended). */
  async extend(queue: string, id: string, visibilityMs: number, receipt?: string): Promise<void> {
    const k = queueKeys(queue);
    const args = [text('id', id), receiptArg(receipt), posInt('visibilityMs', visibilityMs)];
    return this.#fx.fcall(LIB, 'cy_queue_extend', k, args, (r) => {
      if (r !== 1) throw codeError(r as number, `cy_queue_extend ${queue}/${id}`);
    });
  }

  async stats(queue: string): Promise<QueueStats> {
    const k = queueKeys(queue);
    return this.#fx.fcall(
      LIB,
      'cy_queue_stats',
      k,
      [],
      (r) => {
        const [ready, delayed, inflight, dead] = r as number[];
        return { ready: ready, delayed: delayed, inflight: inflight, dead: dead };
      },
      true,
    );
  }

  /**
   * Dead letters, oldest first; start/stop as in ZRANGE (default: all). Payloads are strings,
   * or Buffers with `options.binary`.
   */
  async deadLetters<O extends BinaryOption = NoOptions>(
    queue: string,
    start = 0,
    stop = -1,
    options?: O,
  ): Promise<DeadLetter<PayloadOf<O>>[]> {
    const k = queueKeys(queue);
    const args = [int('start', start), int('stop', stop)];
    const call = binaryCall(opts('options', options));
    const transform = (r: RespValue): DeadLetter<PayloadOf<O>>[] =>
      quads(r, call !== undefined, (id, payload, attempts, deadAtMs) => ({
        id,
        payload: payload as PayloadOf<O>,
        attempts,
        deadAtMs: deadAtMs as number,
      }));
    return this.#fx.fcall(LIB, 'cy_queue_dead_list', k, args, transform, true, call);
  }

  /** Moves a dead letter back to ready with its attempts reset (NotFoundError if not dead). */
  async requeueDead(queue: string, id: string): Promise<void> {
    const k = queueKeys(queue);
    return this.#fx.fcall(LIB, 'cy_queue_requeue_dead', k, [text('id', id)], (r) => {
      if (r !== 1) throw codeError(r as number, `cy_queue_requeue_dead ${queue}/${id}`);
    });
  }
}

/** A flat reply of [id, payload, attempts, x] per message, one object each. */
function quads<T>(
  r: RespValue,
  binary: boolean,
  make: (id: string, payload: string | Buffer, attempts: number, x: RespValue) => T,
): T[] {
  const flat = r as RespValue[];
  const out: T[] = [];
  for (let i = 0; i < flat.length; i += 4)
    out.push(
      make(textOf(flat[i]), bodyOf(flat[i + 1], binary), flat[i + 2] as number, flat[i + 3]),
    );
  return out;
}
