/**
 * cy_rate facade: token bucket, sliding window log and leaky bucket on the server clock
 * (contract: functions/cy_rate.lua). One round trip each; a denied call writes nothing.
 *
 * Keys: `cy:rate:{key}:tb`, `cy:rate:{key}:sw`, `cy:rate:{key}:lb`. Each algorithm has its own
 * key (the buckets are both hashes with a `ts` field: sharing one key would mix their state
 * silently). The sliding window stores one member per admitted call, whatever its cost.
 */
import { InvalidArgumentError } from '../runtime/errors.js';
import type { FunctionCaller } from './caller.js';
import { int, options as opts, posInt, posNumber, text } from './validate.js';

const LIB = 'cy_rate';
/** Largest sliding-window limit (cy_rate.lua MAX_UNITS): keeps the unit counts exact. */
const MAX_LIMIT = 1e12;

export interface RateResult {
  allowed: boolean;
  /** Whole units still available after this call. */
  remaining: number;
  /** 0 when allowed; else ms until `cost` units would be admitted if nothing else is. */
  retryAfterMs: number;
}

export interface TokenBucketOptions {
  /** Tokens the bucket holds (a new bucket starts full). */
  capacity: number;
  /** Tokens added per ms; fractions allowed (0.001 = one per second). */
  refillRatePerMs: number;
  /** Tokens this call takes (default 1, at most capacity). */
  cost?: number;
}

export interface SlidingWindowOptions {
  /** Units admitted in any window of windowMs (at most 1e12). */
  limit: number;
  windowMs: number;
  /** Units this call takes (default 1, at most limit). */
  cost?: number;
}

export interface LeakyBucketOptions {
  /** Level the bucket may reach. */
  capacity: number;
  /** Level drained per ms; fractions allowed. */
  leakRatePerMs: number;
  /** Level this call adds (default 1, at most capacity). */
  cost?: number;
}

function toResult(r: unknown): RateResult {
  const [allowed, remaining, retryAfterMs] = r as number[];
  return { allowed: allowed === 1, remaining: remaining, retryAfterMs: retryAfterMs };
}

/** Optional cost ('' lets the library default to 1), never above what the limiter holds. */
function cost(v: unknown, max: number, maxField: string): number | '' {
  if (v === undefined) return '';
  if (posInt('options.cost', v) > max)
    throw new InvalidArgumentError('options.cost', `must not exceed options.${maxField}`);
  return v as number;
}

export class Rate {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  async tokenBucket(key: string, options: TokenBucketOptions): Promise<RateResult> {
    const k = `cy:rate:{${text('key', key)}}:tb`;
    const o = opts('options', options);
    const capacity = posInt('options.capacity', o.capacity);
    const args = [
      capacity,
      posNumber('options.refillRatePerMs', o.refillRatePerMs),
      cost(o.cost, capacity, 'capacity'),
    ];
    return this.#fx.fcall(LIB, 'cy_rate_token_bucket', [k], args, toResult);
  }

  async slidingWindow(key: string, options: SlidingWindowOptions): Promise<RateResult> {
    const k = `cy:rate:{${text('key', key)}}:sw`;
    const o = opts('options', options);
    const limit = int('options.limit', o.limit, 1, MAX_LIMIT);
    const args = [limit, posInt('options.windowMs', o.windowMs), cost(o.cost, limit, 'limit')];
    return this.#fx.fcall(LIB, 'cy_rate_sliding_window', [k], args, toResult);
  }

  async leakyBucket(key: string, options: LeakyBucketOptions): Promise<RateResult> {
    const k = `cy:rate:{${text('key', key)}}:lb`;
    const o = opts('options', options);
    const capacity = posInt('options.capacity', o.capacity);
    const args = [
      capacity,
      posNumber('options.leakRatePerMs', o.leakRatePerMs),
      cost(o.cost, capacity, 'capacity'),
    ];
    return this.#fx.fcall(LIB, 'cy_rate_leaky_bucket', [k], args, toResult);
  }
}
