/**
 * The drain of a graceful shutdown: intake is stopped, and the supervisor waits until every
 * mailbox is empty, no handler runs and nothing is in flight between threads (or a deadline).
 * In flight inside a MessagePort is seen as sent > received, summed over every thread and the
 * main thread (DrainStatus, messages.ts).
 */
import { monoNow } from './clock.js';
import type { WorkerThread } from './thread.js';

/** Messages handled so far by the actors of every live thread. */
export async function handledNow(threads: WorkerThread[]): Promise<number> {
  const all = await Promise.all(threads.map((t) => t.control.drainStatus().catch(() => null)));
  return all.reduce((n, s) => n + (s?.handled ?? 0), 0);
}

/**
 * Resolves true once everything is quiet (twice in a row, 10 ms apart), false at `deadline`
 * (monoNow() ms). `threads` and `mainSent` are read on every poll: threads come and go.
 */
export async function drain(
  threads: () => WorkerThread[],
  mainSent: () => number,
  deadline: number,
): Promise<boolean> {
  let calm = 0;
  let last = '';
  while (monoNow() < deadline) {
    const all = await Promise.all(threads().map((t) => t.control.drainStatus().catch(() => null)));
    let busy = 0;
    let sent = mainSent();
    let received = 0;
    let handled = 0;
    for (const s of all) {
      if (!s) continue;
      busy += s.queued + s.running + s.outbound;
      sent += s.sent;
      received += s.received;
      handled += s.handled;
    }
    const sig = `${sent}/${received}/${handled}`;
    // In flight inside a port: sent > received. A thread that died took its counts along,
    // so also accept counts that did not move between two polls.
    if (busy === 0 && (sent === received || sig === last)) {
      if (++calm >= 2) return true;
    } else {
      calm = 0;
    }
    last = sig;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}
