/**
 * Restart pacing (Akka's BackoffSupervisor: min, max, random factor, reset after a calm run)
 * and restart intensity (OTP's MaxR restarts within MaxT).
 */

export interface BackoffOptions {
  /** First delay. Default 100 ms. */
  minMs: number;
  /** Delay cap. Default 10000 ms. */
  maxMs: number;
  /** Random spread as a fraction of the delay (0..1). Default 0.2. */
  jitter: number;
  /** A child that ran this long without failing starts again from minMs. Default 10000 ms. */
  resetAfterMs: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = {
  minMs: 100,
  maxMs: 10_000,
  jitter: 0.2,
  resetAfterMs: 10_000,
};

/** Delay before restart number `attempt` (1-based) of the same child: min·2^(attempt-1), capped, ±jitter. */
export function backoffDelay(o: BackoffOptions, attempt: number, random = Math.random): number {
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * o.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

/**
 * Restart intensity: at most `maxRestarts` restarts within any `withinMs` window. One failure
 * incident (a crashed worker thread takes several actors with it) counts once.
 */
export class Intensity {
  readonly #max: number;
  readonly #within: number;
  #times: number[] = [];
  #incidents = new Map<string, number>();

  constructor(maxRestarts: number, withinMs: number) {
    this.#max = maxRestarts;
    this.#within = withinMs;
  }

  /** Records a restart for `incident` at `now` (a monotonic clock: clock.ts); false when that
   * exceeds the intensity. */
  add(incident: string, now: number): boolean {
    this.#prune(now);
    if (!this.#incidents.has(incident)) {
      this.#incidents.set(incident, now);
      this.#times.push(now);
    }
    return this.#times.length <= this.#max;
  }

  get count(): number {
    return this.#times.length;
  }

  reset(): void {
    this.#times = [];
    this.#incidents.clear();
  }

  #prune(now: number): void {
    const from = now - this.#within;
    while (this.#times.length > 0 && this.#times[0] <= from) this.#times.shift();
    for (const [k, t] of this.#incidents) if (t <= from) this.#incidents.delete(k);
  }
}
