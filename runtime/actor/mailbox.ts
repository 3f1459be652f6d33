/**
 * A bounded mailbox. Senders on the actor's own thread wait while it holds `capacity` messages
 * (backpressure); messages from other threads are always accepted, because credits (link.ts)
 * already bound them: at most `creditWindow` per sending thread. So a mailbox never holds more
 * than capacity + creditWindow × (threads) messages.
 */
import { Fifo } from '../client/fifo.js';
import type { Link } from './link.js';

/** One message in a mailbox. */
export interface Envelope {
  msg: unknown;
  /** Call id (0: a send, no reply). */
  cid: number;
  /** Reply slot of the caller. */
  rs: number;
  /** The link it came over (credit is returned when it leaves the mailbox); null if local. */
  via: Link | null;
}

export class Mailbox {
  readonly capacity: number;
  readonly #queue = new Fifo<Envelope>();
  /** Senders waiting for room, oldest first. A Set, so one that gives up (its timeout) leaves
   * at once: a producer retrying timed-out sends against a stuck actor must not pile up
   * waiters (memory) that nothing would ever wake. */
  readonly #waiters = new Set<() => void>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#queue.length;
  }

  get full(): boolean {
    return this.#queue.length >= this.capacity;
  }

  /** Senders waiting for room now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  push(env: Envelope): void {
    this.#queue.push(env);
  }

  shift(): Envelope | undefined {
    const env = this.#queue.shift();
    if (env !== undefined && this.#waiters.size > 0 && this.#queue.length < this.capacity)
      this.#wakeOne();
    return env;
  }

  /**
   * Resolves when there may be room (re-check: a message from another thread can take it
   * first) or the mailbox was emptied for good; rejects with `onTimeout()` after timeoutMs.
   */
  waitSpace(timeoutMs?: number, onTimeout?: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      if (timeoutMs === undefined || !(timeoutMs > 0)) {
        this.#waiters.add(resolve);
        return;
      }
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(onTimeout ? onTimeout() : new Error('mailbox full'));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** A woken sender that no longer sends (its call gave up) passes the room on. */
  passOn(): void {
    if (this.#waiters.size > 0 && !this.full) this.#wakeOne();
  }

  /** Removes every message (oldest first) and wakes every waiting sender. */
  drain(): Envelope[] {
    const all = this.#queue.drain();
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
    return all;
  }

  #wakeOne(): void {
    for (const wake of this.#waiters) {
      this.#waiters.delete(wake);
      wake();
      return;
    }
  }
}
