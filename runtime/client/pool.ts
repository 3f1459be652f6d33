/**
 * Dedicated connections for blocking commands, WATCH transactions and isolated() sequences:
 * each borrower has a connection to itself, so a BLPOP never stalls the auto-pipelined
 * connection and another caller's commands never land between WATCH and EXEC. Bounded;
 * borrowers wait past the bound, within their deadline and abort signal. A connection that
 * timed out, was aborted or dropped is destroyed, never reused.
 */
import { AbortError, ClosedError, TimeoutError } from '../errors.js';
import { Connection } from './connection.js';
import { Fifo } from './fifo.js';
import type { ResolvedOptions } from './options.js';

interface Waiter {
  resolve: (c: Connection) => void;
  reject: (e: Error) => void;
  done: boolean; // settled (given a connection, timed out or aborted)
}

export class DedicatedPool {
  readonly #options: ResolvedOptions;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #borrowed = new Set<Connection>();
  readonly #waiters = new Fifo<Waiter>();
  #closed = false;

  constructor(options: ResolvedOptions) {
    // A dedicated connection does not reconnect: its borrower sees the failure and retries.
    this.#options = { ...options, reconnect: null, lazyConnect: true };
  }

  get size(): number {
    return this.#all.size;
  }

  /** A connection of the borrower's own; waits (up to `timeoutMs`, 0 = no limit) when all are busy. */
  async acquire(timeoutMs = 0, signal?: AbortSignal): Promise<Connection> {
    if (this.#closed) throw new ClosedError();
    if (signal?.aborted)
      throw new AbortError('aborted while waiting for a dedicated connection', {
        cause: signal.reason,
      });
    const conn =
      this.#takeIdle() ??
      (this.#all.size < this.#options.maxDedicatedConnections ? await this.#create() : null);
    if (conn) {
      this.#borrowed.add(conn);
      return conn;
    }
    return this.#wait(timeoutMs, signal);
  }

  #takeIdle(): Connection | null {
    for (let conn = this.#idle.pop(); conn !== undefined; conn = this.#idle.pop()) {
      if (conn.state === 'ready') return conn;
      this.#all.delete(conn);
    }
    return null;
  }

  async #create(): Promise<Connection> {
    const conn = new Connection(this.#options);
    conn.on('error', () => {}); // reported to the borrower through its command
    this.#all.add(conn);
    try {
      await conn.connect();
    } catch (err) {
      this.#all.delete(conn);
      this.#serveWaiter(); // the slot is free again
      throw err;
    }
    return conn;
  }

  #wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void =>
        finish(
          new AbortError('aborted while waiting for a dedicated connection', {
            cause: signal!.reason,
          }),
        );
      const finish = (err: Error | null, conn?: Connection): void => {
        if (waiter.done) return;
        waiter.done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(conn!);
      };
      const waiter: Waiter = {
        resolve: (c) => finish(null, c),
        reject: (e) => finish(e),
        done: false,
      };
      if (timeoutMs > 0) {
        timer = setTimeout(
          () => finish(new TimeoutError(`no dedicated connection free within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives the next live waiter a connection (idle, or a new one in a free slot). */
  #serveWaiter(): void {
    let waiter = this.#waiters.shift();
    while (waiter?.done) waiter = this.#waiters.shift();
    if (!waiter) return;
    const w = waiter;
    const conn = this.#takeIdle();
    if (conn) {
      this.#borrowed.add(conn);
      w.resolve(conn);
      return;
    }
    if (this.#all.size >= this.#options.maxDedicatedConnections) {
      this.#waiters.unshift(w);
      return;
    }
    this.#create().then(
      (c) => {
        if (w.done) this.#giveBack(c);
        else {
          this.#borrowed.add(c);
          w.resolve(c);
        }
      },
      (e: unknown) => w.reject(e as Error),
    );
  }

  #giveBack(conn: Connection): void {
    this.#idle.push(conn);
    this.#serveWaiter();
  }

  /** Gives a healthy connection back (to the next waiter, or idle). */
  release(conn: Connection): void {
    this.#borrowed.delete(conn);
    if (this.#closed || conn.state !== 'ready') {
      this.destroy(conn);
      return;
    }
    this.#giveBack(conn);
  }

  /** Drops a connection that must not be reused (timed out, aborted, broken). */
  destroy(conn: Connection): void {
    conn.disconnect();
    this.#borrowed.delete(conn);
    this.#all.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    if (!this.#closed) this.#serveWaiter();
  }

  #rejectWaiters(): void {
    for (const w of this.#waiters.drain()) w.reject(new ClosedError());
  }

  /** Closes idle connections; borrowed ones (blocked commands) are disconnected at once: the
   *  server unblocks them without handing them anything. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#rejectWaiters();
    for (const c of this.#borrowed) c.disconnect();
    await Promise.all([...this.#all].map((c) => c.close()));
    this.#all.clear();
    this.#borrowed.clear();
    this.#idle.length = 0;
  }

  disconnect(): void {
    this.#closed = true;
    this.#rejectWaiters();
    for (const c of this.#all) c.disconnect();
    this.#all.clear();
    this.#borrowed.clear();
    this.#idle.length = 0;
  }
}
