/**
 * Dedicated connections for blocking commands and WATCH transactions: each borrower has a
 * connection to itself, so a BLPOP never stalls the auto-pipelined connection and another
 * caller's commands never land between WATCH and EXEC. Bounded; borrowers wait past the bound.
 * A connection that timed out, was aborted or dropped is destroyed, never reused.
 */
import { ClosedError } from '../errors.js';
import { Connection } from './connection.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions } from './options.js';

export class DedicatedPool {
  readonly #options: ResolvedOptions;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #waiters = new Fifo<{ resolve: (c: Connection) => void; reject: (e: Error) => void }>();
  #closed = false;

  constructor(options: ResolvedOptions) {
    // A dedicated connection does not reconnect: its borrower sees the failure and retries.
    this.#options = { ...options, reconnect: null, lazyConnect: true };
  }

  get size(): number {
    return this.#all.size;
  }

  async acquire(): Promise<Connection> {
    if (this.#closed) throw new ClosedError();
    for (let conn = this.#idle.pop(); conn !== undefined; conn = this.#idle.pop()) {
      if (conn.state === 'ready') return conn;
      this.#all.delete(conn);
    }
    if (this.#all.size < this.#options.maxDedicatedConnections) {
      const conn = new Connection(this.#options);
      conn.on('error', () => {}); // reported to the borrower through its command
      this.#all.add(conn);
      try {
        await conn.connect();
      } catch (err) {
        this.#all.delete(conn);
        throw err;
      }
      return conn;
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Gives a healthy connection back (or to the next waiter). */
  release(conn: Connection): void {
    if (this.#closed || conn.state !== 'ready') {
      this.destroy(conn);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.#idle.push(conn);
  }

  /** Drops a connection that must not be reused (timed out, aborted, broken). */
  destroy(conn: Connection): void {
    conn.disconnect();
    this.#all.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    const waiter = this.#waiters.shift();
    if (waiter) this.acquire().then(waiter.resolve, waiter.reject);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.drain()) w.reject(new ClosedError());
    await Promise.all([...this.#all].map((c) => c.close()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  disconnect(): void {
    this.#closed = true;
    for (const w of this.#waiters.drain()) w.reject(new ClosedError());
    for (const c of this.#all) c.disconnect();
    this.#all.clear();
    this.#idle.length = 0;
  }
}
