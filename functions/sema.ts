/**
 * cy_sema facade: counting semaphores with per-holder expiring permits, and countdown latches
 * (contract: functions/cy_sema.lua).
 *
 * Keys: `cy:sema:{name}` (+ `:permits`), `cy:latch:{name}`. A latch that reaches 0 publishes on
 * the channel named like its key; `await` subscribes to it, then reads the latch, so an opening
 * between the two is never missed.
 */
import type { FunctionCaller } from './caller.js';
import { codeError, CyCode } from './codes.js';
import { options as opts, posInt, text } from './validate.js';

const LIB = 'cy_sema';
/** How often await re-reads a latch in case its message was missed (during a reconnect). */
const LATCH_POLL_MS = 1000;

export interface SemaAcquireResult {
  acquired: boolean;
  /** Permits left to others after this call (limit - permits in use), never below 0. */
  remaining: number;
}

function semaKeys(name: unknown): [string, string] {
  const k = `cy:sema:{${text('name', name)}}`;
  return [k, `${k}:permits`];
}

const latchKey = (name: unknown): string => `cy:latch:{${text('name', name)}}`;

export class Sema {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * Takes `permits` of semaphore `name` for `holder` until ttlMs from now, if the permits in use
   * stay within `limit`. Acquiring again adds permits and moves the expiry. The limit is not
   * stored: pass the same one everywhere (lowering it takes effect at once).
   */
  async acquire(
    name: string,
    holder: string,
    permits: number,
    ttlMs: number,
    options: { limit: number },
  ): Promise<SemaAcquireResult> {
    const k = semaKeys(name);
    const o = opts('options', options);
    const args = [
      text('holder', holder),
      posInt('permits', permits),
      posInt('options.limit', o.limit),
      posInt('ttlMs', ttlMs),
    ];
    return this.#fx.fcall(LIB, 'cy_sema_acquire', k, args, (r) => {
      const [ok, remaining] = r as number[];
      return { acquired: ok === 1, remaining: remaining };
    });
  }

  /**
   * Gives back `permits` (default: all the holder has). Resolves the permits the holder still
   * has; rejects with LockNotHeldError when it holds none (never acquired, released, expired).
   */
  async release(name: string, holder: string, permits?: number): Promise<number> {
    const k = semaKeys(name);
    const args = [text('holder', holder), permits === undefined ? '' : posInt('permits', permits)];
    return this.#fx.fcall(LIB, 'cy_sema_release', k, args, (r) => {
      if ((r as number) >= 0) return r as number;
      throw codeError(r as number, `cy_sema_release ${name}/${holder}`);
    });
  }

  /** Moves the holder's expiry to ttlMs from now; LockNotHeldError when it holds nothing. */
  async refresh(name: string, holder: string, ttlMs: number): Promise<void> {
    const k = semaKeys(name);
    const args = [text('holder', holder), posInt('ttlMs', ttlMs)];
    return this.#fx.fcall(LIB, 'cy_sema_refresh', k, args, (r) => {
      if (r !== 1) throw codeError(r as number, `cy_sema_refresh ${name}/${holder}`);
    });
  }

  /** Permits free now under `limit` (expired holders ignored; FCALL_RO). */
  async available(name: string, limit: number): Promise<number> {
    const k = semaKeys(name);
    return this.#fx.fcall(
      LIB,
      'cy_sema_available',
      k,
      [posInt('limit', limit)],
      (r) => r as number,
      true,
    );
  }

  // ---- countdown latches ----

  /** Creates latch `name` at `count` if it does not exist; resolves whether it was created. */
  async latchInit(name: string, count: number, options: { ttlMs?: number } = {}): Promise<boolean> {
    const o = opts('options', options);
    const ttl = o.ttlMs === undefined ? '' : posInt('options.ttlMs', o.ttlMs);
    return this.#fx.fcall(
      LIB,
      'cy_sema_latch_init',
      [latchKey(name)],
      [posInt('count', count), ttl],
      (r) => r === 1,
    );
  }

  /** Counts down by one; resolves the count left (0 = open). NotFoundError if no such latch. */
  async countdown(name: string): Promise<number> {
    return this.#fx.fcall(LIB, 'cy_sema_countdown', [latchKey(name)], [], (r) => {
      if ((r as number) >= 0) return r as number;
      throw codeError(r as number, `cy_sema_countdown ${name}`);
    });
  }

  /** The count left, or null when the latch does not exist (FCALL_RO). */
  async status(name: string): Promise<number | null> {
    return this.#fx.fcall(
      LIB,
      'cy_sema_latch_status',
      [latchKey(name)],
      [],
      (r) => (r === CyCode.NotFound ? null : (r as number)),
      true,
    );
  }

  /**
   * Waits until latch `name` opens (count 0): resolves true, or false after timeoutMs.
   * Rejects with NotFoundError when the latch does not exist. Woken by the latch's message;
   * a slow poll covers a message missed while the connection was reconnecting.
   */
  async await(name: string, timeoutMs: number): Promise<boolean> {
    const key = latchKey(name);
    posInt('timeoutMs', timeoutMs);
    const redis = this.#fx.redis;
    const deadline = Date.now() + timeoutMs;
    let signalled = false;
    let wake: (() => void) | null = null;
    const listener = (): void => {
      signalled = true;
      wake?.();
    };
    // Subscribe first, then read: an opening in between is seen by one or the other.
    await redis.subscribe(key, listener);
    try {
      for (;;) {
        signalled = false;
        const left = await this.status(name);
        if (left === null) throw codeError(CyCode.NotFound, `cy_sema await ${name}`);
        if (left === 0) return true;
        const wait = deadline - Date.now();
        if (wait <= 0) return false;
        await new Promise<void>((resolve) => {
          if (signalled) return resolve(); // the message came while status was read
          const timer = setTimeout(resolve, Math.min(wait, LATCH_POLL_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      await redis.unsubscribe(key, listener);
    }
  }
}
