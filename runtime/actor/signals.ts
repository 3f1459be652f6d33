/**
 * SIGINT/SIGTERM for a supervisor (Supervisor.handleSignals): the first signal stops it
 * gracefully, the second exits at once with 130.
 *
 * The second signal is the one way out of a graceful stop that cannot end: an actor configured
 * with `stopTimeoutMs: 0` (no limit) whose init, handler or stop() never settles holds the
 * stop forever, by the user's choice. The first signal's line names such actors.
 */
import type { ActorPlacement } from './messages.js';

export interface SignalOptions {
  /** Exit once `done` settles: 0 after a clean stop, 1 if the supervisor failed. */
  exit: boolean;
  /** The drain budget (shutdownTimeoutMs), for the log line. */
  drainMs: number;
  /** The actors, to name those whose stop has no limit. */
  actors: readonly ActorPlacement[];
  log(level: 'info' | 'warn', message: string): void;
}

/** Installs the handlers; returns a function that removes them. */
export function handleSignals(
  target: { stop(): Promise<unknown>; readonly done: Promise<unknown> },
  o: SignalOptions,
): () => void {
  const unbounded = [...new Set(o.actors.filter((a) => a.stopTimeoutMs === 0).map((a) => a.name))];
  let count = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    count++;
    if (count > 1) {
      o.log('warn', `${sig} again: exiting now`);
      process.exit(130);
    }
    o.log(
      'info',
      `${sig}: shutting down gracefully (drain up to ${o.drainMs} ms; send it again to force)`,
    );
    if (unbounded.length > 0)
      o.log(
        'warn',
        `stopTimeoutMs is 0 (no limit) for ${unbounded.join(', ')}: this stop waits for their init, handlers and stop() however long they take`,
      );
    target.stop().catch(() => {}); // `done` carries the outcome
    if (o.exit)
      target.done.then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
