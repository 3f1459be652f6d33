/**
 * Argument helpers shared by the command families: flattening variadic lists, scores and
 * range bounds, SCAN options, and the rejected promise a family returns for bad input.
 *
 * Validation errors are returned as rejected promises (never thrown) so that `.catch()` and
 * `await` see them like any other command failure.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { CommandArg } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';

/**
 * Bad input found by a family method: InvalidArgumentError(field, problem), through the
 * executor, so a client rejects the call and a pipeline fails its exec() before sending.
 */
export function invalid<T = never>(ex: Executor, field: string, problem: string): Promise<T> {
  return ex._reject<T>(new InvalidArgumentError(field, problem));
}

/** `del('a', 'b')`, `del(['a', 'b'])` and `del('a', ['b', 'c'])` all mean the same list. */
export function flat(items: readonly (Arg | readonly Arg[])[]): Arg[] {
  const out: Arg[] = [];
  for (const item of items) {
    if (Array.isArray(item)) out.push(...(item as readonly Arg[]));
    else out.push(item as Arg);
  }
  return out;
}

/** A key, or a list of keys, as a list. */
export function asList(keys: Arg | readonly Arg[]): Arg[] {
  return Array.isArray(keys) ? [...(keys as readonly Arg[])] : [keys as Arg];
}

/**
 * A score or range bound: ±Infinity become Redis's `+inf` / `-inf` (the encoder refuses
 * non-finite numbers); strings pass as they are (`(1.5`, `[a`, `-`, `+`).
 */
export function bound(v: Arg): Arg {
  if (typeof v === 'number' && !Number.isFinite(v) && !Number.isNaN(v))
    return v > 0 ? '+inf' : '-inf';
  return v;
}

/** Options of SCAN, HSCAN, SSCAN and ZSCAN. */
export interface ScanOptions {
  /** Glob-style pattern the server filters the returned names with. */
  match?: string;
  /** A hint of how much work one call does (the server may return more or fewer). */
  count?: number;
}

export interface KeyScanOptions extends ScanOptions {
  /** Only keys of this type (`string`, `hash`, `zset`, ...). */
  type?: string;
}

export function scanArgs(args: CommandArg[], o: KeyScanOptions | undefined): CommandArg[] {
  if (o === undefined) return args;
  if (o.match !== undefined) args.push('MATCH', o.match);
  if (o.count !== undefined) args.push('COUNT', o.count);
  if (o.type !== undefined) args.push('TYPE', o.type);
  return args;
}

/** A unix time in seconds (or milliseconds) from a number or a Date. */
export function unixTime(t: number | Date, unit: 's' | 'ms'): number {
  if (!(t instanceof Date)) return t;
  const ms = t.getTime();
  return unit === 'ms' ? ms : Math.floor(ms / 1000);
}

/** Field/value entries: an object, a Map, or [field, value] pairs. */
export type Entries = Record<string, Arg> | Map<Arg, Arg> | readonly (readonly [Arg, Arg])[];

/** An object, Map or array (not a Buffer): entries rather than a single field name. */
export function isEntries(v: unknown): v is Entries {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array);
}

/**
 * Flattens entries to [f1, v1, f2, v2, ...]; an InvalidArgumentError naming `field` when a
 * pair is not [field, value] or there are none.
 */
export function flattenEntries(field: string, entries: Entries): Arg[] | InvalidArgumentError {
  const out: Arg[] = [];
  if (entries instanceof Map) {
    for (const [k, v] of entries) out.push(k, v);
  } else if (Array.isArray(entries)) {
    const list = entries as readonly unknown[];
    for (let i = 0; i < list.length; i++) {
      const pair = list[i];
      if (!Array.isArray(pair) || pair.length !== 2)
        return new InvalidArgumentError(`${field}[${i}]`, 'must be a [field, value] pair');
      out.push(pair[0] as Arg, pair[1] as Arg);
    }
  } else {
    const rec = entries as Record<string, Arg>;
    for (const k of Object.keys(rec)) out.push(k, rec[k]);
  }
  if (out.length === 0) return new InvalidArgumentError(field, 'must not be empty');
  return out;
}

/** One step of a SCAN-family iteration. */
export interface ScanPage<T> {
  cursor: string;
  items: T[];
}

/** Walks a SCAN-family cursor from '0' until the server returns '0' again, item by item. */
export async function* scanAll<T>(
  page: (cursor: string) => Promise<ScanPage<T>>,
): AsyncGenerator<T, void, undefined> {
  let cursor = '0';
  do {
    const r = await page(cursor);
    cursor = r.cursor;
    yield* r.items;
  } while (cursor !== '0');
}

/** FLUSHDB, FLUSHALL, SCRIPT FLUSH, FUNCTION FLUSH. */
export interface FlushOptions {
  /** true: ASYNC, false: SYNC, unset: the server's lazyfree-lazy-user-flush default. */
  async?: boolean;
}

export function flushArgs(args: Arg[], o: FlushOptions | undefined): Arg[] {
  if (o?.async === true) args.push('ASYNC');
  else if (o?.async === false) args.push('SYNC');
  return args;
}
