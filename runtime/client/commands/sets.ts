/** Set commands. https://redis.io/commands/?group=set */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat, invalid, scanAll, scanArgs } from './args.js';
import type { ScanOptions } from './args.js';
import { textOf, toBoolean, toBooleans } from './replies.js';

export interface SScanReply {
  cursor: string;
  members: string[];
}

export interface SintercardOptions {
  /** Stop counting at this many (0: no limit). */
  LIMIT?: number;
}

type List = (Arg | readonly Arg[])[];

function send<T>(ex: Executor, field: string, head: Arg[], items: List): Promise<T> {
  const list = flat(items);
  if (list.length === 0) return invalid(ex, field, 'must not be empty');
  return ex._send<T>([...head, ...list]);
}

function sscan(
  this: Executor,
  key: Arg,
  cursor: string | number,
  options?: ScanOptions,
): Promise<SScanReply> {
  return this._send(scanArgs(['SSCAN', key, cursor], options), (r) => {
    const [next, members] = r as [RespValue, string[]];
    return { cursor: textOf(next), members };
  });
}

export const setCommands = {
  /** How many members were added (not already present). */
  sadd(this: Executor, key: Arg, ...members: List): Promise<number> {
    return send(this, 'members', ['SADD', key], members);
  },
  /** How many members were removed. */
  srem(this: Executor, key: Arg, ...members: List): Promise<number> {
    return send(this, 'members', ['SREM', key], members);
  },
  /** Every member (in no particular order). */
  smembers(this: Executor, key: Arg): Promise<string[]> {
    return this._send<string[]>(['SMEMBERS', key]);
  },
  sismember(this: Executor, key: Arg, member: Arg): Promise<boolean> {
    return this._send(['SISMEMBER', key, member], toBoolean);
  },
  /** For each member, whether it is in the set. */
  smismember(this: Executor, key: Arg, ...members: List): Promise<boolean[]> {
    const list = flat(members);
    if (list.length === 0) return invalid(this, 'members', 'must not be empty');
    return this._send(['SMISMEMBER', key, ...list], toBooleans);
  },
  scard(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['SCARD', key]);
  },
  /** Removes and returns a random member, or null when the set is empty. */
  spop(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['SPOP', key]);
  },
  spopCount(this: Executor, key: Arg, count: number): Promise<string[]> {
    return this._send<string[]>(['SPOP', key, count]);
  },
  srandmember(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['SRANDMEMBER', key]);
  },
  /** Up to `count` distinct members; a negative count allows repeats. */
  srandmemberCount(this: Executor, key: Arg, count: number): Promise<string[]> {
    return this._send<string[]>(['SRANDMEMBER', key, count]);
  },
  /** True if the member was moved. */
  smove(this: Executor, source: Arg, destination: Arg, member: Arg): Promise<boolean> {
    return this._send(['SMOVE', source, destination, member], toBoolean);
  },
  sinter(this: Executor, ...keys: List): Promise<string[]> {
    return send(this, 'keys', ['SINTER'], keys);
  },
  sunion(this: Executor, ...keys: List): Promise<string[]> {
    return send(this, 'keys', ['SUNION'], keys);
  },
  /** Members of the first set that are in none of the others. */
  sdiff(this: Executor, ...keys: List): Promise<string[]> {
    return send(this, 'keys', ['SDIFF'], keys);
  },
  /** Stores the intersection in `destination`; resolves its size. */
  sinterstore(this: Executor, destination: Arg, ...keys: List): Promise<number> {
    return send(this, 'keys', ['SINTERSTORE', destination], keys);
  },
  sunionstore(this: Executor, destination: Arg, ...keys: List): Promise<number> {
    return send(this, 'keys', ['SUNIONSTORE', destination], keys);
  },
  sdiffstore(this: Executor, destination: Arg, ...keys: List): Promise<number> {
    return send(this, 'keys', ['SDIFFSTORE', destination], keys);
  },
  /** The size of the intersection, without building it. */
  sintercard(
    this: Executor,
    keys: Arg | readonly Arg[],
    options?: SintercardOptions,
  ): Promise<number> {
    const list = flat([keys]);
    if (list.length === 0) return invalid(this, 'keys', 'must not be empty');
    const args: Arg[] = ['SINTERCARD', list.length, ...list];
    if (options?.LIMIT !== undefined) args.push('LIMIT', options.LIMIT);
    return this._send<number>(args);
  },
  /** One SSCAN step: `{ cursor, members }`. */
  sscan,
  /** Every member SSCAN finds. */
  sscanIterator(
    this: Executor,
    key: Arg,
    options?: ScanOptions,
  ): AsyncGenerator<string, void, undefined> {
    return scanAll((cursor) =>
      sscan.call(this, key, cursor, options).then((r) => ({ cursor: r.cursor, items: r.members })),
    );
  },
};

export type SetCommands = typeof setCommands;
