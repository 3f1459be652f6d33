/**
 * Sorted set commands. https://redis.io/commands/?group=sorted-set
 * Scores are numbers both ways: ±Infinity are sent as `+inf` / `-inf`, and RESP2's bulk-string
 * scores (`"1.5"`, `"inf"`) come back as numbers like RESP3's doubles.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { asList, bound, flat, invalid, scanAll, scanArgs } from './args.js';
import type { ScanOptions } from './args.js';
import { textOf, toNumber, toNumberOrNull, toNumbersOrNull, toScored } from './replies.js';
import type { ScoredMember } from './replies.js';

export type { ScoredMember };

export interface ZAddOptions {
  /** Only add new members / only update existing ones. */
  NX?: boolean;
  XX?: boolean;
  /** Only update when the new score is greater / less than the current one. */
  GT?: boolean;
  LT?: boolean;
  /** Count changed members too, not only added ones. */
  CH?: boolean;
}

export interface ZRangeOptions {
  /** min/max are scores (`1`, `'(1'`, `-Infinity`) or lex bounds (`'[a'`, `'-'`) instead of indexes. */
  BY?: 'SCORE' | 'LEX';
  /** Highest first; min and max are then given the other way round (max first). */
  REV?: boolean;
  /** Only with BY: skip `offset` matches, return at most `count` (-1: all). */
  LIMIT?: { offset: number; count: number };
}

export interface ZKeyWeight {
  key: Arg;
  weight: number;
}

export interface ZStoreOptions {
  AGGREGATE?: 'SUM' | 'MIN' | 'MAX';
}

export interface KeyScoredMember extends ScoredMember {
  key: string;
}

export interface KeyScoredMembers {
  key: string;
  members: ScoredMember[];
}

export interface ZScanReply {
  cursor: string;
  members: ScoredMember[];
}

type List = (Arg | readonly Arg[])[];

function addArgs(
  key: Arg,
  members: ScoredMember<Arg> | readonly ScoredMember<Arg>[],
  o: ZAddOptions | undefined,
  incr: boolean,
): Arg[] | InvalidArgumentError {
  const args: Arg[] = ['ZADD', key];
  if (o?.NX) args.push('NX');
  if (o?.XX) args.push('XX');
  if (o?.GT) args.push('GT');
  if (o?.LT) args.push('LT');
  if (o?.CH) args.push('CH');
  if (incr) args.push('INCR');
  const list = Array.isArray(members) ? (members as readonly unknown[]) : [members];
  if (list.length === 0) return new InvalidArgumentError('members', 'must not be empty');
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as Partial<ScoredMember<Arg>> | null;
    const field = Array.isArray(members) ? `members[${i}]` : 'member';
    if (typeof m !== 'object' || m === null)
      return new InvalidArgumentError(field, 'must be { score, value }');
    if (typeof m.score !== 'number' || Number.isNaN(m.score))
      return new InvalidArgumentError(
        `${field}.score`,
        `must be a number (got ${String(m.score)})`,
      );
    if (m.value === undefined) return new InvalidArgumentError(`${field}.value`, 'is required');
    args.push(bound(m.score), m.value);
  }
  return args;
}

function rangeArgs(head: Arg[], min: Arg, max: Arg, o: ZRangeOptions | undefined): Arg[] {
  const args = [...head, bound(min), bound(max)];
  if (o?.BY === 'SCORE') args.push('BYSCORE');
  else if (o?.BY === 'LEX') args.push('BYLEX');
  if (o?.REV) args.push('REV');
  if (o?.LIMIT) args.push('LIMIT', o.LIMIT.offset, o.LIMIT.count);
  return args;
}

function storeArgs(
  name: string,
  destination: Arg,
  keys: Arg | readonly (Arg | ZKeyWeight)[],
  o: ZStoreOptions | undefined,
): Arg[] | InvalidArgumentError {
  const list = Array.isArray(keys) ? (keys as readonly (Arg | ZKeyWeight)[]) : [keys as Arg];
  if (list.length === 0) return new InvalidArgumentError('keys', 'must not be empty');
  const isWeighted = (k: Arg | ZKeyWeight): k is ZKeyWeight =>
    typeof k === 'object' && !Buffer.isBuffer(k);
  const args: Arg[] = [name, destination, list.length];
  for (const k of list) args.push(isWeighted(k) ? k.key : k);
  if (list.some(isWeighted)) {
    args.push('WEIGHTS');
    for (const k of list) args.push(isWeighted(k) ? k.weight : 1);
  }
  if (o?.AGGREGATE) args.push('AGGREGATE', o.AGGREGATE);
  return args;
}

/** [key, member, score] (BZPOPMIN) -> { key, value, score }; null (timeout) stays null. */
function toKeyScored(reply: RespValue): KeyScoredMember | null {
  if (reply === null) return null;
  const [key, value, score] = reply as [RespValue, string, RespValue];
  return { key: textOf(key), value, score: toNumber(score) };
}

/** [key, [[member, score], ...]] (ZMPOP) -> { key, members }; null stays null. */
function toKeyScoredMembers(reply: RespValue): KeyScoredMembers | null {
  if (reply === null) return null;
  const [key, members] = reply as [RespValue, RespValue];
  return { key: textOf(key), members: toScored(members) };
}

function zscan(
  this: Executor,
  key: Arg,
  cursor: string | number,
  options?: ScanOptions,
): Promise<ZScanReply> {
  return this._send(scanArgs(['ZSCAN', key, cursor], options), (r) => {
    const [next, items] = r as [RespValue, RespValue];
    return { cursor: textOf(next), members: toScored(items) };
  });
}

function mpopArgs(
  keys: Arg | readonly Arg[],
  which: 'MIN' | 'MAX',
  o: { COUNT?: number } | undefined,
): Arg[] | null {
  const list = asList(keys);
  if (list.length === 0) return null;
  const args: Arg[] = [list.length, ...list, which];
  if (o?.COUNT !== undefined) args.push('COUNT', o.COUNT);
  return args;
}

export const sortedSetCommands = {
  /**
   * ZADD `{ score, value }` or a list of them. Resolves how many members were added (with CH:
   * added or changed). A score that is not a number rejects with InvalidArgumentError.
   */
  zadd(
    this: Executor,
    key: Arg,
    members: ScoredMember<Arg> | readonly ScoredMember<Arg>[],
    options?: ZAddOptions,
  ): Promise<number> {
    const args = addArgs(key, members, options, false);
    if (args instanceof Error) return this._reject(args);
    return this._send<number>(args);
  },
  /** ZADD ... INCR: the member's new score, or null when NX/XX/GT/LT prevented the update. */
  zaddIncr(
    this: Executor,
    key: Arg,
    member: ScoredMember<Arg>,
    options?: ZAddOptions,
  ): Promise<number | null> {
    const args = addArgs(key, member, options, true);
    if (args instanceof Error) return this._reject(args);
    return this._send(args, toNumberOrNull);
  },
  /** The member's new score. */
  zincrby(this: Executor, key: Arg, increment: number, member: Arg): Promise<number> {
    return this._send(['ZINCRBY', key, bound(increment), member], toNumber);
  },
  zscore(this: Executor, key: Arg, member: Arg): Promise<number | null> {
    return this._send(['ZSCORE', key, member], toNumberOrNull);
  },
  /** Scores of `members` in order, null for absent ones. */
  zmscore(this: Executor, key: Arg, ...members: List): Promise<(number | null)[]> {
    const list = flat(members);
    if (list.length === 0) return invalid(this, 'members', 'must not be empty');
    return this._send(['ZMSCORE', key, ...list], toNumbersOrNull);
  },
  /** How many members were removed. */
  zrem(this: Executor, key: Arg, ...members: List): Promise<number> {
    const list = flat(members);
    if (list.length === 0) return invalid(this, 'members', 'must not be empty');
    return this._send<number>(['ZREM', key, ...list]);
  },
  zcard(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['ZCARD', key]);
  },
  /** Members with min <= score <= max (`'(1'` excludes 1; ±Infinity for open ends). */
  zcount(this: Executor, key: Arg, min: Arg, max: Arg): Promise<number> {
    return this._send<number>(['ZCOUNT', key, bound(min), bound(max)]);
  },
  /** Members between lex bounds (`'[a'`, `'(b'`, `'-'`, `'+'`). */
  zlexcount(this: Executor, key: Arg, min: Arg, max: Arg): Promise<number> {
    return this._send<number>(['ZLEXCOUNT', key, min, max]);
  },
  /** ZRANGE by index (default), score or lex; members only. */
  zrange(this: Executor, key: Arg, min: Arg, max: Arg, options?: ZRangeOptions): Promise<string[]> {
    return this._send<string[]>(rangeArgs(['ZRANGE', key], min, max, options));
  },
  /** zrange with scores: [{ value, score }]. */
  zrangeWithScores(
    this: Executor,
    key: Arg,
    min: Arg,
    max: Arg,
    options?: ZRangeOptions,
  ): Promise<ScoredMember[]> {
    return this._send([...rangeArgs(['ZRANGE', key], min, max, options), 'WITHSCORES'], toScored);
  },
  /** Stores a zrange in `destination`; resolves its size. */
  zrangestore(
    this: Executor,
    destination: Arg,
    source: Arg,
    min: Arg,
    max: Arg,
    options?: ZRangeOptions,
  ): Promise<number> {
    return this._send<number>(rangeArgs(['ZRANGESTORE', destination, source], min, max, options));
  },
  /** 0-based rank by ascending score, or null when the member is absent. */
  zrank(this: Executor, key: Arg, member: Arg): Promise<number | null> {
    return this._send<number | null>(['ZRANK', key, member]);
  },
  zrevrank(this: Executor, key: Arg, member: Arg): Promise<number | null> {
    return this._send<number | null>(['ZREVRANK', key, member]);
  },
  /** Removes and returns the `count` (default 1) lowest-scored members: [{ value, score }]. */
  zpopmin(this: Executor, key: Arg, count?: number): Promise<ScoredMember[]> {
    return this._send(count === undefined ? ['ZPOPMIN', key] : ['ZPOPMIN', key, count], toScored);
  },
  zpopmax(this: Executor, key: Arg, count?: number): Promise<ScoredMember[]> {
    return this._send(count === undefined ? ['ZPOPMAX', key] : ['ZPOPMAX', key, count], toScored);
  },
  /** Waits up to timeoutSeconds (0: forever): { key, value, score }, or null. */
  bzpopmin(
    this: Executor,
    keys: Arg | readonly Arg[],
    timeoutSeconds: number,
  ): Promise<KeyScoredMember | null> {
    const list = asList(keys);
    if (list.length === 0) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BZPOPMIN', ...list, timeoutSeconds], toKeyScored);
  },
  bzpopmax(
    this: Executor,
    keys: Arg | readonly Arg[],
    timeoutSeconds: number,
  ): Promise<KeyScoredMember | null> {
    const list = asList(keys);
    if (list.length === 0) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BZPOPMAX', ...list, timeoutSeconds], toKeyScored);
  },
  /** Pops from the first non-empty set of `keys`: { key, members }, or null. */
  zmpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    which: 'MIN' | 'MAX',
    options?: { COUNT?: number },
  ): Promise<KeyScoredMembers | null> {
    const args = mpopArgs(keys, which, options);
    if (args === null) return invalid(this, 'keys', 'must not be empty');
    return this._send(['ZMPOP', ...args], toKeyScoredMembers);
  },
  bzmpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    which: 'MIN' | 'MAX',
    timeoutSeconds: number,
    options?: { COUNT?: number },
  ): Promise<KeyScoredMembers | null> {
    const args = mpopArgs(keys, which, options);
    if (args === null) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BZMPOP', timeoutSeconds, ...args], toKeyScoredMembers);
  },
  zremrangebyrank(this: Executor, key: Arg, start: number, stop: number): Promise<number> {
    return this._send<number>(['ZREMRANGEBYRANK', key, start, stop]);
  },
  zremrangebyscore(this: Executor, key: Arg, min: Arg, max: Arg): Promise<number> {
    return this._send<number>(['ZREMRANGEBYSCORE', key, bound(min), bound(max)]);
  },
  zremrangebylex(this: Executor, key: Arg, min: Arg, max: Arg): Promise<number> {
    return this._send<number>(['ZREMRANGEBYLEX', key, min, max]);
  },
  /** Stores the union of `keys` (or `{ key, weight }`s) in `destination`; resolves its size. */
  zunionstore(
    this: Executor,
    destination: Arg,
    keys: Arg | readonly (Arg | ZKeyWeight)[],
    options?: ZStoreOptions,
  ): Promise<number> {
    const args = storeArgs('ZUNIONSTORE', destination, keys, options);
    if (args instanceof Error) return this._reject(args);
    return this._send<number>(args);
  },
  zinterstore(
    this: Executor,
    destination: Arg,
    keys: Arg | readonly (Arg | ZKeyWeight)[],
    options?: ZStoreOptions,
  ): Promise<number> {
    const args = storeArgs('ZINTERSTORE', destination, keys, options);
    if (args instanceof Error) return this._reject(args);
    return this._send<number>(args);
  },
  zrandmember(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['ZRANDMEMBER', key]);
  },
  /** Up to `count` distinct members; a negative count allows repeats. */
  zrandmemberCount(this: Executor, key: Arg, count: number): Promise<string[]> {
    return this._send<string[]>(['ZRANDMEMBER', key, count]);
  },
  zrandmemberCountWithScores(this: Executor, key: Arg, count: number): Promise<ScoredMember[]> {
    return this._send(['ZRANDMEMBER', key, count, 'WITHSCORES'], toScored);
  },
  /** One ZSCAN step: `{ cursor, members: [{ value, score }] }`. */
  zscan,
  /** Every { value, score } ZSCAN finds. */
  zscanIterator(
    this: Executor,
    key: Arg,
    options?: ScanOptions,
  ): AsyncGenerator<ScoredMember, void, undefined> {
    return scanAll((cursor) =>
      zscan.call(this, key, cursor, options).then((r) => ({ cursor: r.cursor, items: r.members })),
    );
  },
};

export type SortedSetCommands = typeof sortedSetCommands;
