/** Hash commands. https://redis.io/commands/?group=hash */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat, flattenEntries, invalid, isEntries, scanAll, scanArgs } from './args.js';
import type { Entries, ScanOptions } from './args.js';
import { textOf, toBoolean, toNumber, toPairs, toStringRecord } from './replies.js';

export interface HashEntry {
  field: string;
  value: string;
}

export interface HScanReply {
  cursor: string;
  entries: HashEntry[];
}

type Fields = (Arg | readonly Arg[])[];

function toEntries(reply: RespValue): HashEntry[] {
  return toPairs(reply).map(([field, value]) => ({
    field: textOf(field),
    value: value as string,
  }));
}

function hscan(
  this: Executor,
  key: Arg,
  cursor: string | number,
  options?: ScanOptions,
): Promise<HScanReply> {
  return this._send(scanArgs(['HSCAN', key, cursor], options), (r) => {
    const [next, items] = r as [RespValue, RespValue];
    return { cursor: textOf(next), entries: toEntries(items) };
  });
}

export const hashCommands = {
  /**
   * HSET: `hset(key, field, value)` or `hset(key, { f1: v1, f2: v2 })` (also a Map or
   * [field, value] pairs). Resolves how many fields were added (not updated).
   */
  hset(this: Executor, key: Arg, fieldOrEntries: Arg | Entries, value?: Arg): Promise<number> {
    const args: Arg[] = ['HSET', key];
    if (isEntries(fieldOrEntries)) {
      const pairs = flattenEntries('fields', fieldOrEntries);
      if (pairs instanceof Error) return this._reject(pairs);
      args.push(...pairs);
    } else {
      if (value === undefined) return invalid(this, 'value', 'is required with a single field');
      args.push(fieldOrEntries, value);
    }
    return this._send<number>(args);
  },
  /** True if the field was set (false: it already existed). */
  hsetnx(this: Executor, key: Arg, field: Arg, value: Arg): Promise<boolean> {
    return this._send(['HSETNX', key, field, value], toBoolean);
  },
  hget(this: Executor, key: Arg, field: Arg): Promise<string | null> {
    return this._send<string | null>(['HGET', key, field]);
  },
  /** HGET with the value as a Buffer (binary-safe). */
  hgetBuffer(this: Executor, key: Arg, field: Arg): Promise<Buffer | null> {
    return this._send<Buffer | null>(['HGET', key, field], undefined, { returnBuffers: true });
  },
  /** Values of `fields` in order, null for missing ones. `hmget(k, 'a', 'b')` or `(k, ['a', 'b'])`. */
  hmget(this: Executor, key: Arg, ...fields: Fields): Promise<(string | null)[]> {
    const list = flat(fields);
    if (list.length === 0) return invalid(this, 'fields', 'must not be empty');
    return this._send<(string | null)[]>(['HMGET', key, ...list]);
  },
  /** Every field and value as a plain object ({} when the key does not exist). */
  hgetall(this: Executor, key: Arg): Promise<Record<string, string>> {
    return this._send(['HGETALL', key], toStringRecord);
  },
  /** How many fields were removed. */
  hdel(this: Executor, key: Arg, ...fields: Fields): Promise<number> {
    const list = flat(fields);
    if (list.length === 0) return invalid(this, 'fields', 'must not be empty');
    return this._send<number>(['HDEL', key, ...list]);
  },
  hexists(this: Executor, key: Arg, field: Arg): Promise<boolean> {
    return this._send(['HEXISTS', key, field], toBoolean);
  },
  hincrby(this: Executor, key: Arg, field: Arg, by: number): Promise<number> {
    return this._send<number>(['HINCRBY', key, field, by]);
  },
  hincrbyfloat(this: Executor, key: Arg, field: Arg, by: number): Promise<number> {
    return this._send(['HINCRBYFLOAT', key, field, by], toNumber);
  },
  hkeys(this: Executor, key: Arg): Promise<string[]> {
    return this._send<string[]>(['HKEYS', key]);
  },
  hvals(this: Executor, key: Arg): Promise<string[]> {
    return this._send<string[]>(['HVALS', key]);
  },
  hlen(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['HLEN', key]);
  },
  hstrlen(this: Executor, key: Arg, field: Arg): Promise<number> {
    return this._send<number>(['HSTRLEN', key, field]);
  },
  /** One random field, or null when the key does not exist. */
  hrandfield(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['HRANDFIELD', key]);
  },
  /** Up to `count` distinct fields; a negative count allows repeats and returns exactly |count|. */
  hrandfieldCount(this: Executor, key: Arg, count: number): Promise<string[]> {
    return this._send<string[]>(['HRANDFIELD', key, count]);
  },
  /** As hrandfieldCount, with values: [{ field, value }] (a list: fields may repeat). */
  hrandfieldCountWithValues(this: Executor, key: Arg, count: number): Promise<HashEntry[]> {
    return this._send(['HRANDFIELD', key, count, 'WITHVALUES'], toEntries);
  },
  /** One HSCAN step: `{ cursor, entries: [{ field, value }] }`. */
  hscan,
  /** Every { field, value } HSCAN finds. */
  hscanIterator(
    this: Executor,
    key: Arg,
    options?: ScanOptions,
  ): AsyncGenerator<HashEntry, void, undefined> {
    return scanAll((cursor) =>
      hscan.call(this, key, cursor, options).then((r) => ({ cursor: r.cursor, items: r.entries })),
    );
  },
};

export type HashCommands = typeof hashCommands;
