/**
 * Stream commands. https://redis.io/commands/?group=stream
 *
 * A message is `{ id, fields }` with fields as a plain object. XREAD/XREADGROUP give
 * `[{ stream, messages }]` (RESP3 sends a map of stream -> messages, RESP2 an array of pairs:
 * same result), or null when nothing arrived. With `block` they run on a dedicated connection
 * (client.ts / blocking.ts), so they never stall other commands.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat, flattenEntries, invalid } from './args.js';
import type { Entries } from './args.js';
import {
  textOf,
  textOrNull,
  toBoolean,
  toCamelObject,
  toNumber,
  toObject,
  toStringRecord,
} from './replies.js';

export interface StreamMessage {
  id: string;
  fields: Record<string, string>;
}

/** An entry still pending for a consumer but deleted from the stream (XREADGROUP history). */
export interface DeletedStreamMessage {
  id: string;
  fields: null;
}

export interface StreamMessages<M = StreamMessage> {
  stream: string;
  messages: M[];
}

/** stream -> id to read after (`'0'`, `'$'`, or for XREADGROUP `'>'`), or [stream, id] pairs. */
export type XReadStreams = Record<string, string> | readonly (readonly [Arg, string])[];

export interface XReadOptions {
  /** At most this many messages per stream. */
  count?: number;
  /** Wait up to this many milliseconds (0: forever) for a message. */
  block?: number;
}

export interface XReadGroupOptions extends XReadOptions {
  /** Do not add the messages to the pending entries list (no XACK needed). */
  noack?: boolean;
}

/** Trimming: MAXLEN (keep the newest n) or MINID (drop ids below), exact or approximate (~). */
export interface XTrimOptions {
  MAXLEN?: number;
  MINID?: string;
  /** `~`: trim whole radix-tree nodes only (much cheaper; may keep a few more entries). */
  approximate?: boolean;
  /** With approximate: evict at most this many entries per call. */
  LIMIT?: number;
}

export type XAddOptions = XTrimOptions;

export interface XGroupCreateOptions {
  /** Create the stream (empty) if it does not exist. */
  MKSTREAM?: boolean;
  /** The group's entries-read counter (for lag), Redis 7. */
  ENTRIESREAD?: number;
}

export interface XPendingSummary {
  /** Messages delivered and not yet acknowledged. */
  pending: number;
  firstId: string | null;
  lastId: string | null;
  consumers: { name: string; pending: number }[];
}

export interface XPendingRangeOptions {
  /** At most this many entries (required by Redis with a range). */
  count: number;
  start?: string;
  end?: string;
  /** Only this consumer's entries. */
  consumer?: Arg;
  /** Only entries idle at least this many milliseconds. */
  idle?: number;
}

export interface XPendingEntry {
  id: string;
  consumer: string;
  millisecondsSinceLastDelivery: number;
  deliveriesCounter: number;
}

export interface XClaimOptions {
  /** Set the idle time (ms) of the claimed messages. */
  IDLE?: number;
  /** Set their last-delivery time (unix ms). */
  TIME?: number;
  RETRYCOUNT?: number;
  /** Create pending entries for ids not in the PEL (if they exist in the stream). */
  FORCE?: boolean;
  LASTID?: string;
}

export interface XAutoClaimReply<M = StreamMessage> {
  /** The start id of the next call; '0-0' when the whole PEL was scanned. */
  nextId: string;
  messages: M[];
  /** Pending ids whose entries no longer exist (removed from the PEL by the server). */
  deletedIds: string[];
}

export interface XInfoStream {
  length: number;
  radixTreeKeys: number;
  radixTreeNodes: number;
  lastGeneratedId: string;
  maxDeletedEntryId: string;
  entriesAdded: number;
  recordedFirstEntryId: string;
  groups: number;
  firstEntry: StreamMessage | null;
  lastEntry: StreamMessage | null;
}

export interface XInfoGroup {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** null when the server cannot tell (e.g. after XGROUP SETID without ENTRIESREAD). */
  entriesRead: number | null;
  lag: number | null;
}

export interface XInfoConsumer {
  name: string;
  pending: number;
  /** Milliseconds since the consumer's last attempted interaction. */
  idle: number;
}

// ---- reply shapes ----

function toMessage(entry: RespValue): StreamMessage | DeletedStreamMessage {
  const [id, fields] = entry as [RespValue, RespValue];
  return { id: textOf(id), fields: fields === null ? null : toStringRecord(fields) };
}

function toMessages(reply: RespValue): StreamMessage[] {
  const out: StreamMessage[] = [];
  for (const entry of (reply ?? []) as RespValue[]) {
    if (entry !== null) out.push(toMessage(entry) as StreamMessage);
  }
  return out;
}

function toMessagesWithDeleted(reply: RespValue): (StreamMessage | DeletedStreamMessage)[] {
  return ((reply ?? []) as RespValue[]).map(toMessage);
}

function toStreams<M>(
  reply: RespValue,
  messages: (r: RespValue) => M[],
): StreamMessages<M>[] | null {
  if (reply === null) return null;
  if (Array.isArray(reply)) {
    return (reply as [RespValue, RespValue][]).map(([stream, entries]) => ({
      stream: textOf(stream),
      messages: messages(entries),
    }));
  }
  const byStream = toObject(reply);
  return Object.keys(byStream).map((stream) => ({
    stream,
    messages: messages(byStream[stream]),
  }));
}

function toTextList(reply: RespValue): string[] {
  return ((reply ?? []) as RespValue[]).map(textOf);
}

function toEntry(v: RespValue | undefined): StreamMessage | null {
  return v === null || v === undefined ? null : (toMessage(v) as StreamMessage);
}

function numberOrNull(v: RespValue | undefined): number | null {
  return v === null || v === undefined ? null : toNumber(v);
}

// ---- arguments ----

function trimArgs(args: Arg[], o: XTrimOptions): InvalidArgumentError | null {
  if (o.MAXLEN !== undefined && o.MINID !== undefined)
    return new InvalidArgumentError('options', 'must have MAXLEN or MINID, not both');
  const strategy = o.MAXLEN !== undefined ? 'MAXLEN' : o.MINID !== undefined ? 'MINID' : null;
  if (strategy === null) {
    if (o.LIMIT !== undefined)
      return new InvalidArgumentError('options.LIMIT', 'needs MAXLEN or MINID');
    return null;
  }
  args.push(strategy, o.approximate ? '~' : '=', (o.MAXLEN ?? o.MINID)!);
  if (o.LIMIT !== undefined) {
    if (!o.approximate) return new InvalidArgumentError('options.LIMIT', 'needs approximate: true');
    args.push('LIMIT', o.LIMIT);
  }
  return null;
}

function addArgs(
  head: Arg[],
  fields: Entries,
  id: string,
  options: XAddOptions | undefined,
): Arg[] | InvalidArgumentError {
  if (typeof fields !== 'object' || fields === null || Buffer.isBuffer(fields))
    return new InvalidArgumentError('fields', 'must be an object of field -> value');
  const pairs = flattenEntries('fields', fields);
  if (pairs instanceof Error) return pairs;
  const args = [...head];
  if (options) {
    const err = trimArgs(args, options);
    if (err) return err;
  }
  args.push(id, ...pairs);
  return args;
}

function streamArgs(args: Arg[], streams: XReadStreams): InvalidArgumentError | null {
  const names: Arg[] = [];
  const ids: Arg[] = [];
  if (Array.isArray(streams)) {
    for (const [name, id] of streams as readonly (readonly [Arg, string])[]) {
      names.push(name);
      ids.push(id);
    }
  } else if (typeof streams === 'object' && streams !== null) {
    const rec = streams as Record<string, string>;
    for (const name of Object.keys(rec)) {
      names.push(name);
      ids.push(rec[name]);
    }
  }
  if (names.length === 0)
    return new InvalidArgumentError('streams', 'must name at least one stream (stream -> id)');
  args.push('STREAMS', ...names, ...ids);
  return null;
}

function readArgs(args: Arg[], o: XReadGroupOptions | undefined): void {
  if (o?.count !== undefined) args.push('COUNT', o.count);
  if (o?.block !== undefined) args.push('BLOCK', o.block);
  if (o?.noack) args.push('NOACK');
}

function claimArgs(
  stream: Arg,
  group: Arg,
  consumer: Arg,
  minIdleTimeMs: number,
  ids: string | readonly string[],
  o: XClaimOptions | undefined,
): Arg[] | null {
  const list = flat([ids]);
  if (list.length === 0) return null;
  const args: Arg[] = ['XCLAIM', stream, group, consumer, minIdleTimeMs, ...list];
  if (o?.IDLE !== undefined) args.push('IDLE', o.IDLE);
  if (o?.TIME !== undefined) args.push('TIME', o.TIME);
  if (o?.RETRYCOUNT !== undefined) args.push('RETRYCOUNT', o.RETRYCOUNT);
  if (o?.FORCE) args.push('FORCE');
  if (o?.LASTID !== undefined) args.push('LASTID', o.LASTID);
  return args;
}

function autoclaim<M>(
  ex: Executor,
  args: Arg[],
  count: number | undefined,
  messages: (r: RespValue) => M[],
): Promise<XAutoClaimReply<M>> {
  if (count !== undefined) args.push('COUNT', count);
  return ex._send(args, (r) => {
    const [next, entries, deleted] = r as [RespValue, RespValue, RespValue];
    return { nextId: textOf(next), messages: messages(entries), deletedIds: toTextList(deleted) };
  });
}

function add(
  ex: Executor,
  head: Arg[],
  fields: Entries,
  id: string,
  options: XAddOptions | undefined,
): Promise<string | null> {
  const args = addArgs(head, fields, id, options);
  if (args instanceof Error) return ex._reject(args);
  return ex._send(args, textOrNull);
}

export const streamCommands = {
  /**
   * XADD: appends `fields` (an object, Map or [field, value] pairs; at least one) with `id`
   * ('*': server-generated), optionally trimming; resolves the entry's id.
   */
  xadd(
    this: Executor,
    stream: Arg,
    fields: Entries,
    id = '*',
    options?: XAddOptions,
  ): Promise<string> {
    return add(this, ['XADD', stream], fields, id, options) as Promise<string>;
  },
  /** XADD ... NOMKSTREAM: resolves null (and adds nothing) when the stream does not exist. */
  xaddNomkstream(
    this: Executor,
    stream: Arg,
    fields: Entries,
    id = '*',
    options?: XAddOptions,
  ): Promise<string | null> {
    return add(this, ['XADD', stream, 'NOMKSTREAM'], fields, id, options);
  },
  /** Messages after the given id of each stream; null when none (or `block` timed out). */
  xread(
    this: Executor,
    streams: XReadStreams,
    options?: XReadOptions,
  ): Promise<StreamMessages[] | null> {
    const args: Arg[] = ['XREAD'];
    readArgs(args, options);
    const err = streamArgs(args, streams);
    if (err) return this._reject(err);
    return this._send(args, (r) => toStreams(r, toMessages));
  },
  /**
   * Reads as `consumer` of `group`: id '>' for new messages, or an id to re-read the
   * consumer's pending history (where an entry deleted since has `fields: null`).
   */
  xreadgroup(
    this: Executor,
    group: Arg,
    consumer: Arg,
    streams: XReadStreams,
    options?: XReadGroupOptions,
  ): Promise<StreamMessages<StreamMessage | DeletedStreamMessage>[] | null> {
    const args: Arg[] = ['XREADGROUP', 'GROUP', group, consumer];
    readArgs(args, options);
    const err = streamArgs(args, streams);
    if (err) return this._reject(err);
    return this._send(args, (r) => toStreams(r, toMessagesWithDeleted));
  },
  /** Messages with start <= id <= end ('-' and '+': the ends; '(' prefix: exclusive). */
  xrange(
    this: Executor,
    stream: Arg,
    start = '-',
    end = '+',
    options?: { count?: number },
  ): Promise<StreamMessage[]> {
    const args: Arg[] = ['XRANGE', stream, start, end];
    if (options?.count !== undefined) args.push('COUNT', options.count);
    return this._send(args, toMessages);
  },
  /** xrange newest first (end before start, as in Redis). */
  xrevrange(
    this: Executor,
    stream: Arg,
    end = '+',
    start = '-',
    options?: { count?: number },
  ): Promise<StreamMessage[]> {
    const args: Arg[] = ['XREVRANGE', stream, end, start];
    if (options?.count !== undefined) args.push('COUNT', options.count);
    return this._send(args, toMessages);
  },
  xlen(this: Executor, stream: Arg): Promise<number> {
    return this._send<number>(['XLEN', stream]);
  },
  /** How many entries were deleted. */
  xdel(this: Executor, stream: Arg, ...ids: (string | readonly string[])[]): Promise<number> {
    const list = flat(ids);
    if (list.length === 0) return invalid(this, 'ids', 'must not be empty');
    return this._send<number>(['XDEL', stream, ...list]);
  },
  /** Trims by MAXLEN or MINID; resolves how many entries were evicted. */
  xtrim(this: Executor, stream: Arg, options: XTrimOptions): Promise<number> {
    const args: Arg[] = ['XTRIM', stream];
    const err = trimArgs(args, options ?? {});
    if (err) return this._reject(err);
    if (args.length === 2)
      return invalid(this, 'options', 'must have MAXLEN or MINID (the trimming strategy)');
    return this._send<number>(args);
  },
  /** Acknowledges messages of `group`; resolves how many were pending. */
  xack(
    this: Executor,
    stream: Arg,
    group: Arg,
    ...ids: (string | readonly string[])[]
  ): Promise<number> {
    const list = flat(ids);
    if (list.length === 0) return invalid(this, 'ids', 'must not be empty');
    return this._send<number>(['XACK', stream, group, ...list]);
  },
  /** Creates a consumer group reading after `id` ('$': only new messages, '0': everything). */
  xgroupCreate(
    this: Executor,
    stream: Arg,
    group: Arg,
    id = '$',
    options?: XGroupCreateOptions,
  ): Promise<string> {
    const args: Arg[] = ['XGROUP', 'CREATE', stream, group, id];
    if (options?.MKSTREAM) args.push('MKSTREAM');
    if (options?.ENTRIESREAD !== undefined) args.push('ENTRIESREAD', options.ENTRIESREAD);
    return this._send<string>(args);
  },
  /** True if the group existed. */
  xgroupDestroy(this: Executor, stream: Arg, group: Arg): Promise<boolean> {
    return this._send(['XGROUP', 'DESTROY', stream, group], toBoolean);
  },
  /** True if the consumer was created (false: it existed). */
  xgroupCreateConsumer(this: Executor, stream: Arg, group: Arg, consumer: Arg): Promise<boolean> {
    return this._send(['XGROUP', 'CREATECONSUMER', stream, group, consumer], toBoolean);
  },
  /** Deletes a consumer; resolves how many messages it still had pending (now dropped). */
  xgroupDelConsumer(this: Executor, stream: Arg, group: Arg, consumer: Arg): Promise<number> {
    return this._send<number>(['XGROUP', 'DELCONSUMER', stream, group, consumer]);
  },
  xgroupSetId(
    this: Executor,
    stream: Arg,
    group: Arg,
    id: string,
    options?: { ENTRIESREAD?: number },
  ): Promise<string> {
    const args: Arg[] = ['XGROUP', 'SETID', stream, group, id];
    if (options?.ENTRIESREAD !== undefined) args.push('ENTRIESREAD', options.ENTRIESREAD);
    return this._send<string>(args);
  },
  /** The group's pending summary: count, id range, and per-consumer counts. */
  xpending(this: Executor, stream: Arg, group: Arg): Promise<XPendingSummary> {
    return this._send(['XPENDING', stream, group], (r) => {
      const [pending, first, last, consumers] = r as [RespValue, RespValue, RespValue, RespValue];
      return {
        pending: toNumber(pending),
        firstId: first === null ? null : textOf(first),
        lastId: last === null ? null : textOf(last),
        consumers: ((consumers ?? []) as [RespValue, RespValue][]).map(([name, count]) => ({
          name: textOf(name),
          pending: toNumber(count),
        })),
      };
    });
  },
  /** Pending entries in detail (id, owner, idle time, deliveries). */
  xpendingRange(
    this: Executor,
    stream: Arg,
    group: Arg,
    options: XPendingRangeOptions,
  ): Promise<XPendingEntry[]> {
    if (typeof options !== 'object' || options === null || typeof options.count !== 'number')
      return invalid(this, 'options.count', 'is required (a number)');
    const args: Arg[] = ['XPENDING', stream, group];
    if (options.idle !== undefined) args.push('IDLE', options.idle);
    args.push(options.start ?? '-', options.end ?? '+', options.count);
    if (options.consumer !== undefined) args.push(options.consumer);
    return this._send(args, (r) =>
      (r as [RespValue, RespValue, RespValue, RespValue][]).map(([id, owner, idle, n]) => ({
        id: textOf(id),
        consumer: textOf(owner),
        millisecondsSinceLastDelivery: toNumber(idle),
        deliveriesCounter: toNumber(n),
      })),
    );
  },
  /** Takes over pending messages idle at least minIdleTimeMs; resolves the claimed messages. */
  xclaim(
    this: Executor,
    stream: Arg,
    group: Arg,
    consumer: Arg,
    minIdleTimeMs: number,
    ids: string | readonly string[],
    options?: XClaimOptions,
  ): Promise<StreamMessage[]> {
    const args = claimArgs(stream, group, consumer, minIdleTimeMs, ids, options);
    if (args === null) return invalid(this, 'ids', 'must not be empty');
    return this._send(args, toMessages);
  },
  /** xclaim resolving only the claimed ids (JUSTID: the delivery counter is not incremented). */
  xclaimJustId(
    this: Executor,
    stream: Arg,
    group: Arg,
    consumer: Arg,
    minIdleTimeMs: number,
    ids: string | readonly string[],
    options?: XClaimOptions,
  ): Promise<string[]> {
    const args = claimArgs(stream, group, consumer, minIdleTimeMs, ids, options);
    if (args === null) return invalid(this, 'ids', 'must not be empty');
    return this._send([...args, 'JUSTID'], toTextList);
  },
  /** Claims pending messages idle at least minIdleTimeMs, scanning the PEL from `start`. */
  xautoclaim(
    this: Executor,
    stream: Arg,
    group: Arg,
    consumer: Arg,
    minIdleTimeMs: number,
    start = '0-0',
    options?: { COUNT?: number },
  ): Promise<XAutoClaimReply> {
    const args: Arg[] = ['XAUTOCLAIM', stream, group, consumer, minIdleTimeMs, start];
    return autoclaim(this, args, options?.COUNT, toMessages);
  },
  /** xautoclaim with ids only in `messages`. */
  xautoclaimJustId(
    this: Executor,
    stream: Arg,
    group: Arg,
    consumer: Arg,
    minIdleTimeMs: number,
    start = '0-0',
    options?: { COUNT?: number },
  ): Promise<XAutoClaimReply<string>> {
    const args: Arg[] = ['XAUTOCLAIM', stream, group, consumer, minIdleTimeMs, start];
    if (options?.COUNT !== undefined) args.push('COUNT', options.COUNT);
    args.push('JUSTID');
    return autoclaim(this, args, undefined, toTextList);
  },
  /** XINFO STREAM with camelCase keys; first/last entries as messages. */
  xinfoStream(this: Executor, stream: Arg): Promise<XInfoStream> {
    return this._send(['XINFO', 'STREAM', stream], (r) => {
      const info = toCamelObject(r);
      for (const k of ['lastGeneratedId', 'maxDeletedEntryId', 'recordedFirstEntryId']) {
        if (k in info) info[k] = textOf(info[k]);
      }
      return {
        ...info,
        firstEntry: toEntry(info.firstEntry),
        lastEntry: toEntry(info.lastEntry),
      } as unknown as XInfoStream;
    });
  },
  xinfoGroups(this: Executor, stream: Arg): Promise<XInfoGroup[]> {
    return this._send(['XINFO', 'GROUPS', stream], (r) =>
      (r as RespValue[]).map((g) => {
        const info = toCamelObject(g);
        return {
          ...info,
          name: textOf(info.name),
          lastDeliveredId: textOf(info.lastDeliveredId),
          entriesRead: numberOrNull(info.entriesRead),
          lag: numberOrNull(info.lag),
        } as unknown as XInfoGroup;
      }),
    );
  },
  xinfoConsumers(this: Executor, stream: Arg, group: Arg): Promise<XInfoConsumer[]> {
    return this._send(['XINFO', 'CONSUMERS', stream, group], (r) =>
      (r as RespValue[]).map((c) => {
        const info = toCamelObject(c);
        return { ...info, name: textOf(info.name) } as unknown as XInfoConsumer;
      }),
    );
  },
};

export type StreamCommands = typeof streamCommands;
