/** What supervisor.stats() reports, and how per-thread counters add up. */
import { emptyHistogram, merge, percentiles } from './histogram.js';
import type { Percentiles } from './histogram.js';
import type { ActorCounters } from './messages.js';

export type ActorState =
  'starting' | 'running' | 'standby' | 'restarting' | 'failed' | 'stopping' | 'stopped' | 'idle';

export interface ActorStats {
  id: string;
  name: string;
  instance: number | null;
  state: ActorState;
  thread: number;
  /** Messages handled (successfully), failed handlers, undeliverable messages. */
  handled: number;
  failed: number;
  dropped: number;
  restarts: number;
  mailbox: number;
  running: number;
  /** Handler latency in ms (upper bucket edges, ±4.5%). */
  latencyMs: Percentiles;
  counters: Record<string, number>;
  singleton: 'held' | 'standby' | null;
  fencingToken: number | null;
  lastError: string | null;
}

export interface SupervisorStats {
  id: string;
  namespace: string;
  state: string;
  uptimeMs: number;
  threads: {
    slot: number;
    generation: number;
    alive: boolean;
    actors: number;
    /** Actor messages this thread (its current generation) sent to / received from others,
     * and the credit grants (acks) it sent back. */
    sent: number;
    received: number;
    acks: number;
  }[];
  actors: ActorStats[];
  totals: { handled: number; failed: number; restarts: number; mailbox: number };
}

/** Adds b into a (counts from a dead thread carried over to its replacement's). */
export function addCounters(a: ActorCounters | undefined, b: ActorCounters): ActorCounters {
  if (!a)
    return { ...b, mailbox: 0, running: 0, latency: [...b.latency], counters: { ...b.counters } };
  const latency = [...a.latency];
  merge(latency, b.latency);
  const counters = { ...a.counters };
  for (const [k, v] of Object.entries(b.counters)) counters[k] = (counters[k] ?? 0) + v;
  return {
    id: a.id,
    handled: a.handled + b.handled,
    failed: a.failed + b.failed,
    dropped: a.dropped + b.dropped,
    mailbox: b.mailbox,
    running: b.running,
    latency,
    counters,
  };
}

export function emptyCounters(id: string): ActorCounters {
  return {
    id,
    handled: 0,
    failed: 0,
    dropped: 0,
    mailbox: 0,
    running: 0,
    latency: emptyHistogram(),
    counters: {},
  };
}

export { percentiles };
