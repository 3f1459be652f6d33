/**
 * Handler latency as a log-bucketed histogram: 8 buckets per power of two of microseconds
 * (±4.5% resolution) from 1 µs to ~4.5 minutes. Fixed size and mergeable, so each worker keeps
 * one per actor at a cost of one Math.log2 per message, and the supervisor sums them.
 */

const PER_OCTAVE = 8;
const OCTAVES = 28;
/** Bucket 0 holds < 1 µs; bucket i ≥ 1 holds [2^((i-1)/8), 2^(i/8)) µs. */
const HISTOGRAM_BUCKETS = PER_OCTAVE * OCTAVES + 1;

function bucketOf(ms: number): number {
  const us = ms * 1000;
  if (!(us >= 1)) return 0;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log2(us) * PER_OCTAVE) + 1);
}

/** The upper edge of bucket i, in ms. */
function upperMs(i: number): number {
  return i === 0 ? 0.001 : 2 ** (i / PER_OCTAVE) / 1000;
}

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_BUCKETS).fill(0);
}

export function record(h: number[], ms: number): void {
  h[bucketOf(ms)] += 1;
}

export function merge(into: number[], from: readonly number[]): void {
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) into[i] += from[i] ?? 0;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  count: number;
}

/** p50/p90/p99 in ms (each the upper edge of its bucket, so never under the truth); 0 when empty. */
export function percentiles(h: readonly number[]): Percentiles {
  let count = 0;
  for (const c of h) count += c;
  const at = (q: number): number => {
    if (count === 0) return 0;
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (let i = 0; i < h.length; i++) {
      seen += h[i];
      if (seen >= rank) return Number(upperMs(i).toPrecision(3));
    }
    return Number(upperMs(h.length - 1).toPrecision(3));
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), count };
}
