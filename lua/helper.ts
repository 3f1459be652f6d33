/**
 * ScriptHelper: the seed's ready-made EVAL scripts (lua/*.lua, contracts in their headers)
 * behind typed methods. Each script runs by SHA (EVALSHA) and is sent whole only when the
 * server does not have it (NOSCRIPT: after a restart or SCRIPT FLUSH).
 *
 * Keys are used as given. The keys of one call must share a cluster slot: the methods check it
 * before sending (InvalidArgumentError naming the field) rather than let a cluster refuse the
 * call with CROSSSLOT, or a single server accept data that could never move to a cluster.
 * Derived keys (the LRU index and stats) follow the hash tag of the key they serve.
 */
import type { HighPerformanceRedis, Script } from '../runtime/client/index.js';
import { textOf } from '../runtime/client/commands/replies.js';
import { InvalidArgumentError } from '../runtime/errors.js';
import type { CommandArg, RespValue } from '../runtime/protocol/index.js';
import { codeError, CyCode, located, mapArgError } from '../functions/codes.js';
import type { RateResult } from '../functions/rate.js';
import {
  finiteNumber,
  int,
  nonNegInt,
  payload,
  posInt,
  posNumber,
  hashTagOf,
  sameSlot,
  text,
} from '../functions/validate.js';
import { bundledScript } from './scripts.js';
import type { BundledScript } from './scripts.js';

/**
 * The default LRU index and statistics keys of a cache key: `cy:lru:{tag}:index` and
 * `cy:lru:{tag}:stats`, in the slot of the key's hash tag, so every key of one tag (one cache)
 * shares them. A key without a hash tag cannot share a slot with an index that serves other
 * keys: it is refused (name the cache in a tag, `cache:{pages}:/home`, or pass both keys).
 */
export function lruKeysOf(key: string): { indexKey: string; statsKey: string } {
  const tag = hashTagOf(text('key', key));
  if (tag === null)
    throw new InvalidArgumentError(
      'key',
      'must carry a {hash tag} naming its cache (cache:{pages}:/home), or pass indexKey and statsKey in its slot',
    );
  return { indexKey: `cy:lru:{${tag}}:index`, statsKey: `cy:lru:{${tag}}:stats` };
}

export interface JobEntry {
  id: string;
  payload: string;
  /** Failures so far. */
  failures: number;
}

function seconds(field: string, v: unknown): number {
  const ms = Math.round(posNumber(field, v) * 1000);
  if (ms < 1) throw new InvalidArgumentError(field, 'must be at least 0.001 (1 ms)');
  return ms;
}

function rateResult(r: RespValue): RateResult {
  const [allowed, remaining, retryAfterMs] = r as number[];
  return { allowed: allowed === 1, remaining: remaining, retryAfterMs: retryAfterMs };
}

function jobKeys(queue: unknown): string[] {
  const name = text('queue', queue);
  const q = `cy:jobs:{${name}}:`;
  const keys = ['pending', 'processing', 'jobs', 'attempts', 'failed', 'seq'].map((s) => q + s);
  // Every key's tag is the name up to its first '}': one slot, unless the name starts with '}'
  // (an empty {} tag: each key then hashes whole).
  if (name.startsWith('}')) sameSlot('queue', keys);
  return keys;
}

/** [key, index, stats] of an LRU cache call, checked to share one slot. */
function lruCall(key: unknown, indexKey: unknown, statsKey: unknown): string[] {
  const k = text('key', key);
  const d = indexKey === undefined || statsKey === undefined ? lruKeysOf(k) : null;
  const keys = [
    k,
    text('indexKey', indexKey ?? d?.indexKey),
    text('statsKey', statsKey ?? d?.statsKey),
  ];
  // Both derived from the key's own tag share its slot: only keys given by the caller can stray.
  if (indexKey !== undefined || statsKey !== undefined)
    sameSlot(indexKey === undefined ? 'key' : 'indexKey', keys);
  return keys;
}

/** [key, stats] of a smart_cache call, checked to share one slot. */
function smartKeys(key: unknown, statsKey: unknown): string[] {
  const keys = [text('key', key), text('statsKey', statsKey)];
  sameSlot('statsKey', keys);
  return keys;
}

export class ScriptHelper {
  readonly #redis: HighPerformanceRedis;
  readonly #scripts = new Map<BundledScript, Script>();

  constructor(redis: HighPerformanceRedis) {
    if (typeof redis !== 'object' || redis === null || typeof redis.defineScript !== 'function')
      throw new InvalidArgumentError('redis', 'must be a HighPerformanceRedis client');
    this.#redis = redis;
  }

  /**
   * Runs a bundled script; ERR_CY_ARG replies become InvalidArgumentError, and a Lua error
   * gets the file and line it comes from (`user_script:57 (functions/prelude.lua:40)`).
   */
  async #run(name: BundledScript, keys: CommandArg[], args: CommandArg[]): Promise<RespValue> {
    let script = this.#scripts.get(name);
    if (!script) {
      script = this.#redis.defineScript(bundledScript(name).source);
      this.#scripts.set(name, script);
    }
    try {
      return await script.run(keys, args);
    } catch (err) {
      throw located(mapArgError(err), bundledScript(name).origin);
    }
  }

  // ---- rate limiting ----

  /** At most `limit` units in any window of windowSeconds (sliding log); true if admitted. */
  async rateLimitSlidingWindow(
    key: string,
    limit: number,
    windowSeconds: number,
    cost = 1,
  ): Promise<boolean> {
    const args = [
      posInt('limit', limit),
      seconds('windowSeconds', windowSeconds),
      posInt('cost', cost),
    ];
    return rateResult(await this.#run('sliding_window', [text('key', key)], args)).allowed;
  }

  /** Token bucket of `capacity` refilled by refillRate tokens per second; true if admitted. */
  async rateLimitTokenBucket(
    key: string,
    capacity: number,
    refillRate: number,
    cost = 1,
  ): Promise<boolean> {
    const args = [
      posInt('capacity', capacity),
      posNumber('refillRate', refillRate),
      posInt('cost', cost),
    ];
    return rateResult(await this.#run('token_bucket', [text('key', key)], args)).allowed;
  }

  /**
   * Sliding window with a burst allowance (rate_limiter.lua): up to limit + burst units in a
   * window that follows a quiet one, never more than 2 * limit in any two consecutive windows.
   * One key, `key` itself (a sorted set).
   */
  async rateLimitWithBurst(
    key: string,
    limit: number,
    windowMs: number,
    burst: number,
    cost = 1,
  ): Promise<RateResult> {
    const args = [
      posInt('limit', limit),
      posInt('windowMs', windowMs),
      nonNegInt('burst', burst),
      posInt('cost', cost),
    ];
    return rateResult(await this.#run('rate_limiter', [text('key', key)], args));
  }

  // ---- locks ----

  /** A plain lease (distributed_lock.lua): true if taken (or already ours: lease reset). */
  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const args = ['acquire', text('owner', owner), posInt('ttlMs', ttlMs)];
    return (await this.#run('distributed_lock', [text('key', key)], args)) === 1;
  }

  /** Releases the lease if `owner` holds it; false when it does not (expired or another's). */
  async releaseLock(key: string, owner: string): Promise<boolean> {
    const r = await this.#run(
      'distributed_lock',
      [text('key', key)],
      ['release', text('owner', owner)],
    );
    return r === 1;
  }

  /** Resets the lease to ttlMs if `owner` holds it; false when it does not. */
  async extendLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const args = ['extend', text('owner', owner), posInt('ttlMs', ttlMs)];
    return (await this.#run('distributed_lock', [text('key', key)], args)) === 1;
  }

  // ---- counters and batches ----

  /**
   * Adds `increment` if the result stays within [minVal, maxVal]: { applied: true, value: new
   * value }, else { applied: false, value: current value } with nothing written.
   */
  async boundedIncrement(
    key: string,
    increment: number,
    minVal: number,
    maxVal: number,
  ): Promise<{ applied: boolean; value: number }> {
    const min = int('minVal', minVal);
    const max = int('maxVal', maxVal);
    if (max < min) throw new InvalidArgumentError('maxVal', 'must not be below minVal');
    const r = await this.#run(
      'bounded_increment',
      [text('key', key)],
      [int('increment', increment), min, max],
    );
    const [applied, value] = r as number[];
    return { applied: applied === 1, value: value };
  }

  /** SETs every entry with a TTL of ttlSeconds; resolves how many keys were set. */
  async batchSetWithTtl(
    entries: Record<string, string | Buffer>,
    ttlSeconds: number,
  ): Promise<number> {
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
      throw new InvalidArgumentError('entries', 'must be an object of key -> value');
    const keys = Object.keys(entries);
    if (keys.length === 0) throw new InvalidArgumentError('entries', 'must name at least one key');
    sameSlot('entries', keys);
    const values = keys.map((k) => payload(`entries.${k}`, entries[k]));
    return (await this.#run('batch_set_ttl', keys, [
      seconds('ttlSeconds', ttlSeconds),
      ...values,
    ])) as number;
  }

  // ---- priority queue ----

  /** Adds `item` with `priority` (LOWER pops first); false when it was queued already
   * (its priority is updated). */
  async pushPriorityQueue(key: string, priority: number, item: string): Promise<boolean> {
    const args = [finiteNumber('priority', priority), text('item', item)];
    return (await this.#run('priority_push', [text('key', key)], args)) === 1;
  }

  /** Pops up to `count` items (1..1000), lowest priority first. */
  async popPriorityQueue(key: string, count = 1): Promise<string[]> {
    const r = await this.#run('priority_pop', [text('key', key)], [int('count', count, 1, 1000)]);
    return (r as RespValue[]).map((v) => textOf(v));
  }

  // ---- caches ----

  /**
   * Sets a cache entry for ttlSeconds and evicts least recently used entries beyond maxSize
   * (tracked in indexKey; default: lruKeysOf(key)); resolves how many were evicted. The key,
   * the index and the stats key must share a slot (and so must every key of the cache).
   */
  async cacheSetWithEviction(
    key: string,
    value: string | Buffer,
    ttlSeconds: number,
    maxSize: number,
    indexKey?: string,
    statsKey?: string,
  ): Promise<number> {
    const keys = lruCall(key, indexKey, statsKey);
    const args = [
      payload('value', value),
      seconds('ttlSeconds', ttlSeconds),
      posInt('maxSize', maxSize),
    ];
    return (await this.#run('cache_set_evict', keys, args)) as number;
  }

  /**
   * Reads a cache entry and marks it recently used; null on a miss. Counts hits and misses.
   * indexKey and statsKey as in cacheSetWithEviction.
   */
  async cacheGetLru(key: string, indexKey?: string, statsKey?: string): Promise<string | null> {
    const r = await this.#run('cache_get_lru', lruCall(key, indexKey, statsKey), []);
    return r === null ? null : textOf(r);
  }

  /** smart_cache.lua get: the value or null, counting hits and misses in statsKey. */
  async smartCacheGet(key: string, statsKey: string): Promise<string | null> {
    const r = await this.#run('smart_cache', smartKeys(key, statsKey), ['get']);
    return r === null ? null : textOf(r);
  }

  /** smart_cache.lua set: stores value for ttlMs, counting sets. */
  async smartCacheSet(
    key: string,
    value: string | Buffer,
    ttlMs: number,
    statsKey: string,
  ): Promise<void> {
    const args = ['set', payload('value', value), posInt('ttlMs', ttlMs)];
    await this.#run('smart_cache', smartKeys(key, statsKey), args);
  }

  /** smart_cache.lua stats. */
  async smartCacheStats(statsKey: string): Promise<{ hits: number; misses: number; sets: number }> {
    // KEYS[1] is not read by 'stats'; the stats key stands in so both keys share its slot.
    const k = text('statsKey', statsKey);
    const [hits, misses, sets] = (await this.#run('smart_cache', [k, k], ['stats'])) as number[];
    return { hits: hits, misses: misses, sets: sets };
  }

  // ---- job queue (job_queue.lua; keys cy:jobs:{queue}:...) ----

  /** Appends a job; resolves its id. */
  async jobPush(queue: string, body: string | Buffer): Promise<string> {
    const r = await this.#run('job_queue', jobKeys(queue), ['push', payload('payload', body)]);
    return textOf(r);
  }

  /** Takes up to `count` jobs (1..1000) from the head into processing. */
  async jobPop(queue: string, count = 1): Promise<JobEntry[]> {
    const flat = (await this.#run('job_queue', jobKeys(queue), [
      'pop',
      int('count', count, 1, 1000),
    ])) as RespValue[];
    const out: JobEntry[] = [];
    for (let i = 0; i < flat.length; i += 3)
      out.push({
        id: textOf(flat[i]),
        payload: textOf(flat[i + 1]),
        failures: flat[i + 2] as number,
      });
    return out;
  }

  /** Finishes a processing job (NotFoundError when it is not processing). */
  async jobComplete(queue: string, id: string): Promise<void> {
    const r = await this.#run('job_queue', jobKeys(queue), ['complete', text('id', id)]);
    if (r !== 1) throw codeError(r as number, `job_queue complete ${queue}/${id}`);
  }

  /**
   * Fails a processing job: back at the tail while failures <= maxRetries ('retrying'), else
   * moved to the failed list ('failed'). NotFoundError when it is not processing.
   */
  async jobFail(queue: string, id: string, maxRetries: number): Promise<'retrying' | 'failed'> {
    const args = ['fail', text('id', id), nonNegInt('maxRetries', maxRetries)];
    const r = await this.#run('job_queue', jobKeys(queue), args);
    if (r === 1) return 'retrying';
    if (r === CyCode.DeadLettered) return 'failed';
    throw codeError(r as number, `job_queue fail ${queue}/${id}`);
  }
}
