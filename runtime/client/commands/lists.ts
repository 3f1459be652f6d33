/**
 * List commands. https://redis.io/commands/?group=list
 * Blocking ones (BLPOP, BRPOP, BLMOVE, BLMPOP, BRPOPLPUSH) run on a dedicated connection, with
 * the command timeout extended by their block time (client.ts / blocking.ts).
 */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { asList, flat, invalid } from './args.js';
import { textOf } from './replies.js';

export type ListSide = 'LEFT' | 'RIGHT';

export interface KeyElement {
  key: string;
  element: string;
}

export interface KeyElements {
  key: string;
  elements: string[];
}

export interface LposOptions {
  /** Start at the RANK-th match (negative: from the tail). */
  RANK?: number;
  /** Compare at most this many elements. */
  MAXLEN?: number;
}

export interface LmpopOptions {
  /** Pop up to this many elements (default 1). */
  COUNT?: number;
}

type Elements = (Arg | readonly Arg[])[];

function push(ex: Executor, name: string, key: Arg, elements: Elements): Promise<number> {
  const list = flat(elements);
  if (list.length === 0) return invalid(ex, 'elements', 'must not be empty');
  return ex._send<number>([name, key, ...list]);
}

/** [key, element] (BLPOP) -> { key, element }; null (timeout) stays null. */
function toKeyElement(reply: RespValue): KeyElement | null {
  if (reply === null) return null;
  const [key, element] = reply as [RespValue, string];
  return { key: textOf(key), element };
}

/** [key, [elements]] (LMPOP) -> { key, elements }; null stays null. */
function toKeyElements(reply: RespValue): KeyElements | null {
  if (reply === null) return null;
  const [key, elements] = reply as [RespValue, string[]];
  return { key: textOf(key), elements };
}

function lposArgs(key: Arg, element: Arg, o: LposOptions | undefined): Arg[] {
  const args: Arg[] = ['LPOS', key, element];
  if (o?.RANK !== undefined) args.push('RANK', o.RANK);
  if (o?.MAXLEN !== undefined) args.push('MAXLEN', o.MAXLEN);
  return args;
}

function lmpopArgs(
  keys: Arg | readonly Arg[],
  side: ListSide,
  o: LmpopOptions | undefined,
): Arg[] | null {
  const list = asList(keys);
  if (list.length === 0) return null;
  const args: Arg[] = [list.length, ...list, side];
  if (o?.COUNT !== undefined) args.push('COUNT', o.COUNT);
  return args;
}

export const listCommands = {
  /** Resolves the list's length after the push. `lpush(k, 'a', 'b')` or `lpush(k, ['a', 'b'])`. */
  lpush(this: Executor, key: Arg, ...elements: Elements): Promise<number> {
    return push(this, 'LPUSH', key, elements);
  },
  rpush(this: Executor, key: Arg, ...elements: Elements): Promise<number> {
    return push(this, 'RPUSH', key, elements);
  },
  /** Pushes only if the list exists; resolves its length (0 when it does not). */
  lpushx(this: Executor, key: Arg, ...elements: Elements): Promise<number> {
    return push(this, 'LPUSHX', key, elements);
  },
  rpushx(this: Executor, key: Arg, ...elements: Elements): Promise<number> {
    return push(this, 'RPUSHX', key, elements);
  },
  lpop(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['LPOP', key]);
  },
  rpop(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['RPOP', key]);
  },
  /** Up to `count` elements; null when the list does not exist. */
  lpopCount(this: Executor, key: Arg, count: number): Promise<string[] | null> {
    return this._send<string[] | null>(['LPOP', key, count]);
  },
  rpopCount(this: Executor, key: Arg, count: number): Promise<string[] | null> {
    return this._send<string[] | null>(['RPOP', key, count]);
  },
  llen(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['LLEN', key]);
  },
  /** Elements from start to stop, both inclusive; negative indexes count from the tail. */
  lrange(this: Executor, key: Arg, start: number, stop: number): Promise<string[]> {
    return this._send<string[]>(['LRANGE', key, start, stop]);
  },
  lindex(this: Executor, key: Arg, index: number): Promise<string | null> {
    return this._send<string | null>(['LINDEX', key, index]);
  },
  lset(this: Executor, key: Arg, index: number, element: Arg): Promise<string> {
    return this._send<string>(['LSET', key, index, element]);
  },
  /** The list's new length; -1 when pivot was not found, 0 when the key does not exist. */
  linsert(
    this: Executor,
    key: Arg,
    where: 'BEFORE' | 'AFTER',
    pivot: Arg,
    element: Arg,
  ): Promise<number> {
    return this._send<number>(['LINSERT', key, where, pivot, element]);
  },
  /** Removes `count` occurrences (0: all; negative: from the tail); resolves how many. */
  lrem(this: Executor, key: Arg, count: number, element: Arg): Promise<number> {
    return this._send<number>(['LREM', key, count, element]);
  },
  ltrim(this: Executor, key: Arg, start: number, stop: number): Promise<string> {
    return this._send<string>(['LTRIM', key, start, stop]);
  },
  /** Index of the first match, or null. */
  lpos(this: Executor, key: Arg, element: Arg, options?: LposOptions): Promise<number | null> {
    return this._send<number | null>(lposArgs(key, element, options));
  },
  /** Indexes of up to `count` matches (0: all). */
  lposCount(
    this: Executor,
    key: Arg,
    element: Arg,
    count: number,
    options?: LposOptions,
  ): Promise<number[]> {
    return this._send<number[]>([...lposArgs(key, element, options), 'COUNT', count]);
  },
  /** Pops from one end of `source`, pushes onto one end of `destination`; the element moved. */
  lmove(
    this: Executor,
    source: Arg,
    destination: Arg,
    from: ListSide,
    to: ListSide,
  ): Promise<string | null> {
    return this._send<string | null>(['LMOVE', source, destination, from, to]);
  },
  /** Pops from the first non-empty list of `keys`: { key, elements }, or null if all are empty. */
  lmpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    side: ListSide,
    options?: LmpopOptions,
  ): Promise<KeyElements | null> {
    const args = lmpopArgs(keys, side, options);
    if (args === null) return invalid(this, 'keys', 'must not be empty');
    return this._send(['LMPOP', ...args], toKeyElements);
  },
  /** Waits up to timeoutSeconds (0: forever) for an element: { key, element }, or null. */
  blpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    timeoutSeconds: number,
  ): Promise<KeyElement | null> {
    const list = asList(keys);
    if (list.length === 0) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BLPOP', ...list, timeoutSeconds], toKeyElement);
  },
  brpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    timeoutSeconds: number,
  ): Promise<KeyElement | null> {
    const list = asList(keys);
    if (list.length === 0) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BRPOP', ...list, timeoutSeconds], toKeyElement);
  },
  blmove(
    this: Executor,
    source: Arg,
    destination: Arg,
    from: ListSide,
    to: ListSide,
    timeoutSeconds: number,
  ): Promise<string | null> {
    return this._send<string | null>(['BLMOVE', source, destination, from, to, timeoutSeconds]);
  },
  /** LMPOP that waits up to timeoutSeconds (0: forever). */
  blmpop(
    this: Executor,
    keys: Arg | readonly Arg[],
    side: ListSide,
    timeoutSeconds: number,
    options?: LmpopOptions,
  ): Promise<KeyElements | null> {
    const args = lmpopArgs(keys, side, options);
    if (args === null) return invalid(this, 'keys', 'must not be empty');
    return this._send(['BLMPOP', timeoutSeconds, ...args], toKeyElements);
  },
  /** Deprecated by Redis in favour of blmove(src, dst, 'RIGHT', 'LEFT', timeout). */
  brpoplpush(
    this: Executor,
    source: Arg,
    destination: Arg,
    timeoutSeconds: number,
  ): Promise<string | null> {
    return this._send<string | null>(['BRPOPLPUSH', source, destination, timeoutSeconds]);
  },
};

export type ListCommands = typeof listCommands;
