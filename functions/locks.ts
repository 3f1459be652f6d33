/**
 * cy_locks facade: reentrant leases with fencing tokens (contract: functions/cy_locks.lua).
 *
 * Keys: a resource lives in its own slot, `cy:lock:{resource}` with its fencing counter at
 * `cy:fence:{resource}`, unless a `tag` is given: then `cy:lock:{tag}resource` and
 * `cy:fence:{tag}resource`, so that tryMulti can take several resources of one tag in one
 * atomic call. A resource's key includes its tag: lock it with the same tag everywhere
 * (`{ tag: 'orders' }` for every lock on orders/*). Each call also names the version-1 fence
 * key `<lock key>:fence`, which the library reads once to keep tokens increasing across the
 * upgrade.
 *
 * Fence counters must not be evicted (maxmemory-policy allkeys-*): the first acquire or
 * tryMulti of a client reads the policy (CONFIG GET, where allowed) and emits a process warning
 * `CYREDIS_FENCE_EVICTION` when fences could be evicted.
 */
import { textOf, toObject } from '../runtime/client/commands/replies.js';
import { InvalidArgumentError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/protocol/index.js';
import { CyCode, codeError } from './codes.js';
import type { FunctionCaller } from './caller.js';
import {
  nonEmptyArray,
  options as opts,
  posInt,
  slotKey,
  tag as checkTag,
  text,
} from './validate.js';

const LIB = 'cy_locks';

export interface LockOptions {
  /** Shared hash tag: the resource's key becomes `cy:lock:{tag}resource`. */
  tag?: string;
}

export interface AcquireResult {
  acquired: boolean;
  /** Strictly increasing per resource, never reused (also across expiry); null if not acquired. */
  fencingToken: number | null;
  /** Holds by this owner (reentrant); 0 if not acquired. */
  holdCount: number;
  /** Lease left in ms: ttlMs when acquired, the current holder's lease otherwise. */
  pttl: number;
}

export type MultiResult =
  | { acquired: true; fencingTokens: number[] }
  | { acquired: false; /** The first resource held by another owner. */ blockedBy: string };

export type LockStatus =
  | { held: false }
  | { held: true; owner: string; fencingToken: number; pttl: number; holdCount: number };

/** [lock, fence, version-1 fence] of a resource (one slot: the same hash tag). */
function keys(resource: unknown, options: LockOptions): [string, string, string] {
  const o = opts('options', options);
  const t = o.tag === undefined ? undefined : checkTag('options.tag', o.tag);
  const r = text('resource', resource);
  const lock = slotKey('cy:lock:', r, t);
  return [lock, slotKey('cy:fence:', r, t), `${lock}:fence`];
}

/** Policies under which Redis may evict keys without a TTL, fence counters included. */
const EVICTS_FENCES = /^allkeys-/;

export class Locks {
  readonly #fx: FunctionCaller;
  #policyChecked = false;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * Once per client, in the background: warns when maxmemory-policy may evict fence counters
   * (a function cannot read CONFIG). A refused CONFIG GET (ACL, managed Redis) is ignored.
   */
  #checkEviction(): void {
    if (this.#policyChecked) return;
    this.#policyChecked = true;
    this.#fx.redis._send(['CONFIG', 'GET', 'maxmemory-policy']).then(
      (reply) => {
        const policy = textOf(toObject(reply)['maxmemory-policy']);
        if (EVICTS_FENCES.test(policy))
          process.emitWarning(
            `maxmemory-policy ${policy} may evict cy:fence:* counters: fencing tokens could ` +
              'then be issued twice; use noeviction or a volatile-* policy',
            { code: 'CYREDIS_FENCE_EVICTION' },
          );
      },
      () => {},
    );
  }

  /** Takes the lock, or re-enters it when `owner` holds it (same token, holdCount + 1). */
  async acquire(
    resource: string,
    owner: string,
    ttlMs: number,
    options: LockOptions = {},
  ): Promise<AcquireResult> {
    const k = keys(resource, options);
    const args = [text('owner', owner), posInt('ttlMs', ttlMs)];
    this.#checkEviction();
    return this.#fx.fcall(LIB, 'cy_locks_acquire', k, args, (r) => {
      const [ok, a, b] = r as number[];
      if (ok === 1) return { acquired: true, fencingToken: a, holdCount: b, pttl: ttlMs };
      if ((a as CyCode) !== CyCode.HeldByOther) throw codeError(a, `cy_locks_acquire ${resource}`);
      return { acquired: false, fencingToken: null, holdCount: 0, pttl: b };
    });
  }

  /**
   * Gives back one hold. Resolves true when the lock is free now, false when `owner` still
   * holds it (reentrant holds left). Rejects with LockNotHeldError when `owner` does not hold
   * it (never did, the lease expired, or someone else holds it): the critical section was not
   * protected, which the caller must learn.
   */
  async release(resource: string, owner: string, options: LockOptions = {}): Promise<boolean> {
    const k = keys(resource, options);
    return this.#fx.fcall(LIB, 'cy_locks_release', [k[0]], [text('owner', owner)], (r) => {
      if (r === 1 || r === 0) return r === 1;
      throw codeError(r as number, `cy_locks_release ${resource}`);
    });
  }

  /** Resets the lease to ttlMs; rejects with LockNotHeldError when `owner` does not hold it. */
  async refresh(
    resource: string,
    owner: string,
    ttlMs: number,
    options: LockOptions = {},
  ): Promise<void> {
    const k = keys(resource, options);
    const args = [text('owner', owner), posInt('ttlMs', ttlMs)];
    return this.#fx.fcall(LIB, 'cy_locks_refresh', [k[0]], args, (r) => {
      if (r !== 1) throw codeError(r as number, `cy_locks_refresh ${resource}`);
    });
  }

  /**
   * Takes every resource (all sharing `options.tag`, so one slot) or none. Resources `owner`
   * already holds are re-entered.
   */
  async tryMulti(
    resources: string[],
    owner: string,
    ttlMs: number,
    options: LockOptions = {},
  ): Promise<MultiResult> {
    const list = nonEmptyArray<string>('resources', resources);
    if (list.length > 1 && opts('options', options).tag === undefined)
      throw new InvalidArgumentError(
        'options.tag',
        'is required to lock several resources in one slot',
      );
    if (new Set(list).size !== list.length)
      throw new InvalidArgumentError('resources', 'must not repeat a resource');
    const k = list.flatMap((res) => keys(res, options));
    const args = [text('owner', owner), posInt('ttlMs', ttlMs)];
    this.#checkEviction();
    return this.#fx.fcall(LIB, 'cy_locks_try_multi', k, args, (r): MultiResult => {
      const [ok, ...rest] = r as number[];
      if (ok === 1) return { acquired: true, fencingTokens: rest };
      return { acquired: false, blockedBy: list[rest[0] - 1] };
    });
  }

  /** Who holds the lock, with its token, lease left and hold count (FCALL_RO). */
  async status(resource: string, options: LockOptions = {}): Promise<LockStatus> {
    const k = keys(resource, options);
    return this.#fx.fcall(
      LIB,
      'cy_locks_status',
      [k[0]],
      [],
      (r) => {
        const [owner, token, pttl, count] = r as RespValue[];
        if (owner === null || owner === undefined) return { held: false } as const;
        return {
          held: true,
          owner: textOf(owner),
          fencingToken: token as number,
          pttl: pttl as number,
          holdCount: count as number,
        } as const;
      },
      true,
    );
  }
}
