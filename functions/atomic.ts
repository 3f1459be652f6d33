/**
 * cy_atomic facade: compare-and-set, a capped counter with a fixed-window TTL, and MSETNX
 * with a TTL (contract: functions/cy_atomic.lua). These work on the caller's own keys, as
 * given (no cy: prefix): several keys in one call must share a slot (checked before sending).
 */
import { CyRedisError, InvalidArgumentError } from '../runtime/errors.js';
import type { FunctionCaller } from './caller.js';
import { codeError, CyCode } from './codes.js';
import { nonNegInt, options as opts, payload, posInt, sameSlot, text } from './validate.js';

const LIB = 'cy_atomic';

export class Atomic {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * Sets `key` to `next` if it holds exactly `expected` (or, with expected null, if it does not
   * exist). Resolves whether it swapped. options.ttlMs sets a new TTL; without it the key keeps
   * its TTL.
   */
  async cas(
    key: string,
    expected: string | Buffer | null,
    next: string | Buffer,
    options: { ttlMs?: number } = {},
  ): Promise<boolean> {
    const o = opts('options', options);
    const args = [
      expected === null ? '' : payload('expected', expected),
      payload('next', next),
      expected === null ? 'absent' : 'value',
      o.ttlMs === undefined ? '' : posInt('options.ttlMs', o.ttlMs),
    ];
    return this.#fx.fcall(LIB, 'cy_atomic_cas', [text('key', key)], args, (r) => {
      if (r === 1) return true;
      if (r === CyCode.CasMismatch) return false;
      throw codeError(r as number, `cy_atomic_cas ${key}`);
    });
  }

  /**
   * Adds `by` to the counter; the TTL is set when the counter is created, so it counts one
   * fixed window. Resolves the new value, or null when it would exceed `cap` (nothing written).
   * Any counter value is returned as it is, -8 included (against a server still running
   * cy_atomic version 1, whose -8 reply is ambiguous, that one reply rejects with CyRedisError).
   */
  async incrWithTtl(key: string, by: number, ttlMs: number, cap?: number): Promise<number | null> {
    const args = [
      posInt('by', by),
      posInt('ttlMs', ttlMs),
      cap === undefined ? '' : nonNegInt('cap', cap),
    ];
    return this.#fx.fcall(LIB, 'cy_atomic_incr_with_ttl', [text('key', key)], args, (r) => {
      if (Array.isArray(r)) return r[0] === 1 ? (r[1] as number) : null;
      // Version 1 (a server where this client may not load version 2) replied value | -8, and
      // -8 is also a counter value: refuse to guess.
      if (r !== CyCode.CapReached) return r as number;
      throw new CyRedisError(
        `cy_atomic_incr_with_ttl ${key}: the server runs cy_atomic version 1, whose -8 means ` +
          'either "cap reached" or a counter at -8; load version 2 (RedisFunctions.loadLibrary)',
      );
    });
  }

  /** Sets every key with ttlMs if none exists; resolves whether it did (all or nothing). */
  async msetnxTtl(entries: Record<string, string | Buffer>, ttlMs: number): Promise<boolean> {
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
      throw new InvalidArgumentError('entries', 'must be an object of key -> value');
    const keys = Object.keys(entries);
    if (keys.length === 0) throw new InvalidArgumentError('entries', 'must name at least one key');
    sameSlot('entries', keys);
    const values = keys.map((k) => payload(`entries.${k}`, entries[k]));
    return this.#fx.fcall(
      LIB,
      'cy_atomic_msetnx_ttl',
      keys,
      [posInt('ttlMs', ttlMs), ...values],
      (r) => r === 1,
    );
  }
}
