/**
 * cy_streamq facade: exactly-once processing per business id on Redis Streams (contract and
 * the consumer's protocol: functions/cy_streamq.lua).
 *
 *   enqueue ──► stream ──XREADGROUP (read)──► consumer ──► isDone? ──► work ──► ack ─┐
 *     │ dedup by business id        ▲                                              │
 *     ▼                             └── claimStale (dead consumer) ◄── pending ◄───┘ no ack
 *   cy:sq:{q}:dedup            quarantine after maxDeliveries ──► cy:sq:{q}:quarantine
 *
 * `ack` resolves true for exactly one delivery per business id: gate effects that must happen
 * once on it (false: a duplicate, an entry claimed by another consumer meanwhile, or one
 * quarantined while it was being processed). Only the consumer an entry is pending for can ack
 * it: messages carry that consumer, and ack sends it.
 * Keys (one hash tag per queue): cy:sq:{name}:stream|dedup|done|quarantine.
 * Payloads come back as UTF-8 strings, or as Buffers with `{ binary: true }` (read, claimStale,
 * quarantined).
 */
import { textOf } from '../runtime/client/commands/replies.js';
import { ReplyError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/protocol/index.js';
import type { FunctionCaller } from './caller.js';
import { codeError, CyCode } from './codes.js';
import { binaryCall, bodyOf } from './payloads.js';
import type { BinaryOption, NoOptions, PayloadOf } from './payloads.js';
import { int, nonNegInt, options as opts, payload, posInt, text } from './validate.js';

const LIB = 'cy_streamq';
/** The consumer group enqueue creates when none is named (one group per exactly-once queue). */
export const DEFAULT_GROUP = 'cy';
const MAX_CLAIM = 1000; // cy_streamq.lua MAX_CLAIM

export interface StreamQueueMessage<P extends string | Buffer = string> {
  streamId: string;
  businessId: string;
  payload: P;
  /**
   * The consumer this delivery went to (read's consumer, claimStale's claimer; for a
   * quarantined message its last holder): ack must come from it.
   */
  consumer: string;
}

export interface QuarantinedMessage<
  P extends string | Buffer = string,
> extends StreamQueueMessage<P> {
  /** The entry's id in the main stream before it was quarantined. */
  originalId: string;
  deliveries: number;
  group: string;
  reason: string;
}

export interface StreamEnqueueOptions {
  group?: string;
  /**
   * Once the stream is longer than this, entries every group has acknowledged are trimmed
   * (default 0: no trim). Undelivered and pending entries are never trimmed, so the stream may
   * exceed maxLen while consumers lag (cy_streamq.lua, Trimming).
   */
  maxLen?: number;
  /** Forget business ids after this many ms (default 0: remember forever). */
  dedupWindowMs?: number;
}

export interface ReadOptions extends BinaryOption {
  count?: number;
  /** Block up to this many ms for new entries (on a dedicated connection); absent: no wait. */
  blockMs?: number;
  /** Re-read this consumer's own pending entries (id 0) instead of new ones. */
  pending?: boolean;
}

export interface ClaimOptions extends BinaryOption {
  /** Entries idle at least this long are taken over. */
  minIdleMs: number;
  /** Entries delivered this many times are quarantined instead. */
  maxDeliveries: number;
  count?: number;
}

export interface ClaimResult<P extends string | Buffer = string> {
  claimed: StreamQueueMessage<P>[];
  quarantined: string[];
  /** Pending ids whose entries were deleted from the stream (dropped from the pending list). */
  deleted: string[];
}

function streamKeys(queue: unknown): string[] {
  const q = `cy:sq:{${text('queue', queue)}}:`;
  return [q + 'stream', q + 'dedup', q + 'done', q + 'quarantine'];
}

/** Flat [f1, v1, ...] (or a RESP3 map) -> record of the raw values. */
function fieldsOf(v: RespValue): Record<string, RespValue> {
  const out: Record<string, RespValue> = {};
  if (Array.isArray(v)) {
    for (let i = 0; i + 1 < v.length; i += 2) out[textOf(v[i])] = v[i + 1];
  } else if (v !== null && typeof v === 'object') {
    for (const [f, x] of Object.entries(v as Record<string, RespValue>)) out[f] = x;
  }
  return out;
}

/** [[id, fields], ...] -> messages (entries deleted while pending have nil fields: skipped). */
function messagesOf(
  entries: RespValue,
  binary: boolean,
  consumer: string,
): StreamQueueMessage<string | Buffer>[] {
  const out: StreamQueueMessage<string | Buffer>[] = [];
  for (const e of (entries ?? []) as RespValue[][]) {
    if (!e[1]) continue;
    const f = fieldsOf(e[1]);
    out.push({
      streamId: textOf(e[0]),
      businessId: textOf(f.bid),
      payload: bodyOf(f.payload, binary),
      consumer,
    });
  }
  return out;
}

/** XREADGROUP's reply: null, RESP2 [[key, entries]], or RESP3 { key: entries }. */
function readReply(
  r: RespValue,
  binary: boolean,
  consumer: string,
): StreamQueueMessage<string | Buffer>[] {
  if (r === null) return [];
  const lists = Array.isArray(r)
    ? r.map((pair) => (pair as RespValue[])[1])
    : Object.values(r as Record<string, RespValue>);
  return lists.flatMap((e) => messagesOf(e, binary, consumer));
}

export class StreamQueue {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * Adds a message once per business id; resolves its stream id, or null when the business id
   * was enqueued within the dedup window (nothing written). Creates the group (at id 0) with
   * the stream, and before a maxLen trim if it is missing; `read` creates a group it does not
   * find, so a group always sees the entries still in the stream (cy_streamq.lua, Groups).
   */
  async enqueue(
    queue: string,
    businessId: string,
    body: string | Buffer,
    options: StreamEnqueueOptions = {},
  ): Promise<string | null> {
    const k = streamKeys(queue);
    const o = opts('options', options);
    const args = [
      text('options.group', o.group ?? DEFAULT_GROUP),
      text('businessId', businessId),
      payload('payload', body),
      nonNegInt('options.maxLen', o.maxLen ?? 0),
      nonNegInt('options.dedupWindowMs', o.dedupWindowMs ?? 0),
    ];
    return this.#fx.fcall(LIB, 'cy_streamq_enqueue', k, args, (r) => {
      if (typeof r === 'string') return r;
      if (r === CyCode.Duplicate) return null;
      throw codeError(r as number, `cy_streamq_enqueue ${queue}/${businessId}`);
    });
  }

  /**
   * XREADGROUP for `consumer` in `group`: new entries (or its own pending ones). Payloads are
   * strings, or Buffers with `options.binary`.
   */
  async read<O extends ReadOptions = NoOptions>(
    queue: string,
    group: string,
    consumer: string,
    options?: O,
  ): Promise<StreamQueueMessage<PayloadOf<O>>[]> {
    const [stream] = streamKeys(queue);
    const o = opts('options', options);
    const call = binaryCall(o);
    const binary = call !== undefined;
    const cmd: (string | number)[] = [
      'XREADGROUP',
      'GROUP',
      text('group', group),
      text('consumer', consumer),
      'COUNT',
      posInt('options.count', o.count ?? 10),
    ];
    if (o.blockMs !== undefined) cmd.push('BLOCK', nonNegInt('options.blockMs', o.blockMs));
    cmd.push('STREAMS', stream, o.pending ? '0' : '>');
    const redis = this.#fx.redis;
    const readOnce = async (): Promise<StreamQueueMessage<PayloadOf<O>>[]> =>
      readReply(await redis._send(cmd, undefined, call), binary, consumer) as StreamQueueMessage<
        PayloadOf<O>
      >[];
    try {
      return await readOnce();
    } catch (err) {
      // Reading before the first enqueue: create the group (as enqueue would), read again.
      if (!(err instanceof ReplyError) || err.redisCode !== 'NOGROUP') throw err;
      await redis
        ._send(['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM'])
        .catch((e: unknown) => {
          if (!(e instanceof ReplyError) || e.redisCode !== 'BUSYGROUP') throw e;
        });
      return readOnce();
    }
  }

  /**
   * Decides about the first `count` entries idle for minIdleMs (their consumer died or
   * stalled): those delivered fewer than maxDeliveries times are claimed by `consumer`, the
   * others are moved to the quarantine stream, and pending ids whose entry is gone are dropped
   * (`deleted`). Payloads are strings, or Buffers with `options.binary`.
   */
  async claimStale<O extends ClaimOptions>(
    queue: string,
    group: string,
    consumer: string,
    options: O,
  ): Promise<ClaimResult<PayloadOf<O>>> {
    const k = streamKeys(queue);
    const o = opts('options', options);
    const call = binaryCall(o);
    const args = [
      text('group', group),
      text('consumer', consumer),
      nonNegInt('options.minIdleMs', o.minIdleMs),
      int('options.count', o.count ?? 100, 1, MAX_CLAIM),
      posInt('options.maxDeliveries', o.maxDeliveries),
    ];
    const transform = (r: RespValue): ClaimResult<PayloadOf<O>> => {
      const [claimed, quarantined, deleted] = r as RespValue[][];
      return {
        claimed: messagesOf(claimed, call !== undefined, consumer) as StreamQueueMessage<
          PayloadOf<O>
        >[],
        quarantined: (quarantined ?? []).map((id) => textOf(id)),
        deleted: (deleted ?? []).map((id) => textOf(id)),
      };
    };
    return this.#fx.fcall(LIB, 'cy_streamq_claim_stale', k, args, transform, false, call);
  }

  /**
   * XACKs `message` and records its completion, if it is still pending for `message.consumer`.
   * Resolves true for the first completion of its business id; false for a duplicate delivery
   * (acked all the same), for an entry another consumer claimed meanwhile, and for one that was
   * quarantined while this consumer held it. In the last two cases nothing at all is written
   * (no XACK, no record). False means: discard the staged effects.
   */
  async ack(
    queue: string,
    group: string,
    message: Pick<StreamQueueMessage, 'streamId' | 'businessId' | 'consumer'>,
    options: { doneRetentionMs?: number } = {},
  ): Promise<boolean> {
    const k = streamKeys(queue);
    const o = opts('options', options);
    const m = opts('message', message);
    const args = [
      text('group', group),
      text('message.streamId', m.streamId),
      text('message.businessId', m.businessId),
      nonNegInt('options.doneRetentionMs', o.doneRetentionMs ?? 0),
      text('message.consumer', m.consumer),
    ];
    return this.#fx.fcall(LIB, 'cy_streamq_ack', k, args, (r) => r === 1);
  }

  /**
   * Gives a delivery back: the entry stays pending but becomes claimable at once (the next
   * claimStale takes it, whatever its minIdleMs). Only the consumer the entry is pending for
   * may do so (`message.consumer`, as for ack): StaleReceiptError when another consumer holds
   * it now (it was claimed meanwhile; nothing is written), NotFoundError when it is not pending.
   */
  async nack(
    queue: string,
    group: string,
    message: Pick<StreamQueueMessage, 'streamId' | 'consumer'>,
  ): Promise<void> {
    const k = streamKeys(queue);
    const m = opts('message', message);
    const args = [
      text('group', group),
      text('message.streamId', m.streamId),
      text('message.consumer', m.consumer),
    ];
    return this.#fx.fcall(LIB, 'cy_streamq_nack', k, args, (r) => {
      if (r !== 1)
        throw codeError(r as number, `cy_streamq_nack ${queue}/${m.streamId} by ${m.consumer}`);
    });
  }

  /** Was this business id completed (FCALL_RO)? */
  async isDone(queue: string, businessId: string): Promise<boolean> {
    const k = streamKeys(queue);
    return this.#fx.fcall(
      LIB,
      'cy_streamq_is_done',
      k,
      [text('businessId', businessId)],
      (r) => r === 1,
      true,
    );
  }

  /** The quarantine stream, oldest first (up to `count`); Buffers with `options.binary`. */
  async quarantined<O extends BinaryOption = NoOptions>(
    queue: string,
    count = 100,
    options?: O,
  ): Promise<QuarantinedMessage<PayloadOf<O>>[]> {
    const key = streamKeys(queue)[3];
    const call = binaryCall(opts('options', options));
    const r = await this.#fx.redis._send(
      ['XRANGE', key, '-', '+', 'COUNT', posInt('count', count)],
      undefined,
      call,
    );
    return ((r ?? []) as RespValue[][]).map((e) => {
      const f = fieldsOf(e[1]);
      return {
        streamId: textOf(e[0]),
        businessId: textOf(f.bid),
        payload: bodyOf(f.payload, call !== undefined) as PayloadOf<O>,
        consumer: textOf(f.consumer),
        originalId: textOf(f.stream_id),
        deliveries: Number(textOf(f.deliveries) || 0),
        group: textOf(f.group),
        reason: textOf(f.reason),
      };
    });
  }
}
