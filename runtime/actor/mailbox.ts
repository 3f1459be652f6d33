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

interface Waiter {
  wake: () => void;
  done: boolean;
}

export class Mailbox {
  readonly capacity: number;
  readonly #queue = new Fifo<Envelope>();
  readonly #waiters = new Fifo<Waiter>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#queue.length;
  }

  get full(): boolean {
    return this.#queue.length >= this.capacity;
  }

  push(env: Envelope): void {
    this.#queue.push(env);
  }

  shift(): Envelope | undefined {
    const env = this.#queue.shift();
    if (env !== undefined && this.#queue.length < this.capacity) this.#wakeOne();
    return env;
  }

  /**
   * Resolves when there may be room (re-check: a message from another thread can take it
   * first) or the mailbox was emptied for good; rejects with `onTimeout()` after timeoutMs.
   */
  waitSpace(timeoutMs?: number, onTimeout?: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { wake: resolve, done: false };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        const timer = setTimeout(() => {
          if (w.done) return;
          w.done = true;
          reject(onTimeout ? onTimeout() : new Error('mailbox full'));
        }, timeoutMs);
        w.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }
      this.#waiters.push(w);
    });
  }

  /** Removes every message (oldest first) and wakes every waiting sender. */
  drain(): Envelope[] {
    const all = this.#queue.drain();
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) {
      if (!w.done) {
        w.done = true;
        w.wake();
      }
    }
    return all;
  }

  #wakeOne(): void {
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) {
      if (w.done) continue; // gave up (timed out): pass the room on
      w.done = true;
      w.wake();
      return;
    }
  }
}
