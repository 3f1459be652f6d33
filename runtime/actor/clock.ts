/**
 * The clock of every deadline in the actor runtime (leases, watchdog, timeouts, restart
 * intensity): monotonic milliseconds, so a wall-clock step (NTP, a resumed VM, `date -s`)
 * neither expires a lease early nor lets a singleton outlive it. Date.now() is for display only
 * (startedAt, updatedAt).
 *
 * Why not performance.now() alone: it is monotonic, but counts from each thread's own
 * timeOrigin, and the watchdog compares a worker's heartbeat with the main thread's time.
 * process.hrtime() is CLOCK_MONOTONIC, one origin for the whole process; performance.now() is
 * derived from the same clock, so the offset between them is fixed per thread and now() costs
 * one performance.now().
 */
performance.now(); // the first call loads its implementation: keep that out of the offset
const [sec, nsec] = process.hrtime();
const OFFSET = sec * 1e3 + nsec / 1e6 - performance.now();

/** Milliseconds on the process-wide monotonic clock (same origin in every thread). */
export function monoNow(): number {
  return performance.now() + OFFSET;
}
