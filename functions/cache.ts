/**
 * cy_cache facade: read-or-fill shared cache entries holding JSON (contract:
 * functions/cy_cache.lua). Encoding and decoding happen here; the library stores strings.
 *
 * Keys: `cy:cache:{key}`, or `cy:cache:{tag}key` with a shared tag so several keys fit one
 * mgetOrMset call (one slot). A key's address includes its tag: use the same tag everywhere.
 */
import { textOf } from '../runtime/client/commands/replies.js';
import { CyRedisError, InvalidArgumentError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/protocol/index.js';
import type { FunctionCaller } from './caller.js';
import {
  nonEmptyArray,
  options as opts,
  posInt,
  slotKey,
  tag as checkTag,
  text,
} from './validate.js';

const LIB = 'cy_cache';

export interface CacheResult<T> {
  /** True when the value came from the cache, false when this call stored it. */
  hit: boolean;
  value: T;
}

export interface CacheOptions {
  tag?: string;
}

/** A value, or a function computing it that runs only on a miss. */
export type ValueOrLoader<T> = T | (() => T | Promise<T>);

function encode(field: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new InvalidArgumentError(field, 'must be JSON-serialisable');
  return json;
}

function decode<T>(key: string, raw: RespValue): T {
  try {
    return JSON.parse(textOf(raw)) as T;
  } catch (err) {
    throw new CyRedisError(`cy_cache ${key}: the cached value is not JSON`, { cause: err });
  }
}

function cacheKey(key: unknown, options: CacheOptions): string {
  const o = opts('options', options);
  const t = o.tag === undefined ? undefined : checkTag('options.tag', o.tag);
  return slotKey('cy:cache:', text('key', key), t);
}

export class Cache {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * The cached JSON value of `key`, or `value` stored for ttlMs. With a loader, a GET comes
   * first and the loader runs only on a miss; if another client filled the key meanwhile, its
   * value wins (and is returned with hit true).
   */
  async getOrSetJson<T>(
    key: string,
    value: ValueOrLoader<T>,
    ttlMs: number,
    options: CacheOptions = {},
  ): Promise<CacheResult<T>> {
    const k = cacheKey(key, opts('options', options));
    posInt('ttlMs', ttlMs);
    let fill: T;
    if (typeof value === 'function') {
      const cached = await this.#fx.redis._send(['GET', k]);
      if (cached !== null) return { hit: true, value: decode<T>(key, cached) };
      fill = await (value as () => T | Promise<T>)();
    } else {
      fill = value;
    }
    return this.#fx.fcall(
      LIB,
      'cy_cache_get_or_set_json',
      [k],
      [encode('value', fill), ttlMs],
      (r) => {
        const [hit, raw] = r as RespValue[];
        return { hit: hit === 1, value: hit === 1 ? decode<T>(key, raw) : fill };
      },
    );
  }

  /**
   * getOrSetJson for several keys in one call: results in the order of `keys`. `values` gives
   * one value per key, or a loader called with the keys that missed (in order) returning their
   * values. More than one key needs `options.tag` (the keys must share a slot).
   */
  async mgetOrMset<T>(
    keys: string[],
    values: T[] | ((missing: string[]) => T[] | Promise<T[]>),
    ttlMs: number,
    options: CacheOptions = {},
  ): Promise<CacheResult<T>[]> {
    const list = nonEmptyArray<string>('keys', keys);
    const o = opts('options', options);
    if (list.length > 1 && o.tag === undefined)
      throw new InvalidArgumentError('options.tag', 'is required to read several keys in one slot');
    const k = list.map((key) => cacheKey(key, o));
    posInt('ttlMs', ttlMs);
    let fills: T[];
    let asked = list;
    let hits: (CacheResult<T> | null)[] = list.map(() => null);
    if (typeof values === 'function') {
      const cached = await this.#fx.redis._send<RespValue[]>(['MGET', ...k]);
      hits = cached.map((raw, i) =>
        raw === null ? null : { hit: true, value: decode<T>(list[i], raw) },
      );
      asked = list.filter((_, i) => hits[i] === null);
      if (asked.length === 0) return hits as CacheResult<T>[];
      fills = await values(asked);
      if (!Array.isArray(fills) || fills.length !== asked.length)
        throw new InvalidArgumentError('values', 'loader must return one value per missing key');
    } else {
      fills = values;
      if (!Array.isArray(fills) || fills.length !== list.length)
        throw new InvalidArgumentError('values', 'must give one value per key');
    }
    const encoded = fills.map((v, i) => encode(`values[${i}]`, v));
    const askedKeys = k.filter((_, i) => hits[i] === null);
    return this.#fx.fcall(LIB, 'cy_cache_mget_or_mset', askedKeys, [ttlMs, ...encoded], (r) => {
      const flat = r as RespValue[];
      let j = 0;
      return hits.map((known) => {
        if (known) return known;
        const hit = flat[2 * j] === 1;
        const value = hit ? decode<T>(asked[j], flat[2 * j + 1]) : fills[j];
        j++;
        return { hit, value };
      });
    });
  }
}
