/**
 * A Link is one end of the MessagePort between two threads (worker↔worker, or main↔worker).
 *
 * Batching: everything posted to a link in one turn of the event loop leaves in one
 * postMessage (a LinkBatch), flushed from setImmediate. A postMessage costs microseconds of
 * serialisation set-up; a batch pays it once.
 *
 * Credits (backpressure across threads without one ack per message):
 *
 *   sender                                   receiver
 *   credits[to] = W ── m,m,m ... (W msgs) ──► mailbox of `to`
 *   credits[to] = 0: send() waits             each message leaving the mailbox: consumed[to]++
 *   credits[to] += n ◄──── {t:'c', to, n} ─── when consumed[to] reaches W/2: grant it back
 *
 * So a sender never has more than W (creditWindow) unconsumed messages for one actor on the
 * other thread, and the receiver acks once per W/2 messages. A replaced link starts at W again;
 * waiters on a closed link wake up and re-route (the target's thread was replaced).
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { ActorMessage, LinkBatch, LinkMessage, ReplyMessage } from './messages.js';

/**
 * Past this many messages a batch leaves at once, so the other thread starts on it while this
 * one keeps producing (bench/actors.ts: 64 beat both smaller batches and whole windows).
 */
const MAX_BATCH = 64;

export interface LinkHandler {
  onMessage(m: ActorMessage, link: Link): void;
  onReply(m: ReplyMessage): void;
  /** A message could not be posted (not structured-cloneable): reject or report it. */
  onUndeliverable(m: LinkMessage, error: Error, link: Link): void;
}

export class Link {
  readonly slot: number;
  readonly generation: number;
  readonly #port: MessagePort;
  readonly #window: number;
  readonly #grantAt: number;
  readonly #handler: LinkHandler;
  #out: LinkMessage[] = [];
  #transfer: TransferListItem[] = [];
  /** Which message each transferable belongs to, for the one-by-one fallback. */
  #transferOf: Map<number, readonly TransferListItem[]> | null = null;
  #scheduled = false;
  #closed = false;
  /** Credit grants posted (acks), for stats. */
  acks = 0;
  readonly #credits = new Map<string, number>();
  /** Senders waiting for credit, per target. Sets, so that a sender that gives up (timeout)
   * leaves at once instead of piling up while the target is stuck. */
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #consumed = new Map<string, number>();

  constructor(
    port: MessagePort,
    slot: number,
    generation: number,
    window: number,
    handler: LinkHandler,
  ) {
    this.#port = port;
    this.slot = slot;
    this.generation = generation;
    this.#window = window;
    this.#grantAt = Math.max(1, Math.floor(window / 2));
    this.#handler = handler;
    port.on('message', (batch: LinkBatch) => this.#receive(batch));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages posted but not yet flushed. */
  get outbound(): number {
    return this.#out.length;
  }

  post(m: LinkMessage, transfer?: readonly TransferListItem[]): void {
    if (this.#closed) return;
    if (this.#out.length >= MAX_BATCH) this.#flush();
    if (transfer !== undefined && transfer.length > 0) {
      this.#transfer.push(...transfer);
      (this.#transferOf ??= new Map()).set(this.#out.length, transfer);
    }
    this.#out.push(m);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Not a microtask: a sender that awaits each send() resumes in a microtask, so a
      // microtask flush would post one message at a time. setImmediate runs once this turn's
      // microtasks are done (at once when the loop is idle), carrying everything sent in it.
      setImmediate(this.#flush);
    }
  }

  /**
   * Posts `m` at once, on its own, after everything posted before (order kept); throws what
   * postMessage throws (a message that cannot be cloned, a bad transfer list), so the sender
   * can reject instead of having it dropped at the flush. Not batched: for the odd message.
   */
  postNow(m: LinkMessage, transfer: readonly TransferListItem[]): void {
    if (this.#closed) return;
    this.#flush();
    this.#port.postMessage([m], transfer as TransferListItem[]);
  }

  /** Takes one credit for `to`; false when none is left (wait with waitCredit). */
  trySpend(to: string): boolean {
    const c = this.#credits.get(to) ?? this.#window;
    if (c <= 0) return false;
    this.#credits.set(to, c - 1);
    return true;
  }

  /**
   * Resolves when credit for `to` arrives, the link closes (then re-route), or after
   * `timeoutMs` (the caller checks its deadline); a wait that timed out is forgotten.
   */
  waitCredit(to: string, timeoutMs?: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.#waiters.get(to);
      if (!set) this.#waiters.set(to, (set = new Set()));
      if (timeoutMs === undefined) {
        set.add(resolve);
        return;
      }
      const waiters = set;
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(to) === waiters) this.#waiters.delete(to);
        resolve();
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  /** Senders waiting for credit on this link now. */
  get waiting(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }

  /** Gives back a credit spent on a message that was never posted. */
  refund(to: string): void {
    this.#grant(to, 1);
  }

  /** A message that came over this link for `to` left its mailbox. */
  consumed(to: string): void {
    const c = (this.#consumed.get(to) ?? 0) + 1;
    if (c >= this.#grantAt) {
      this.#consumed.set(to, 0);
      this.acks++;
      this.post({ t: 'c', to, n: c });
      // Now, not at the end of this turn: the sender may be waiting on it while this thread
      // is still busy draining (pipelining instead of taking turns).
      this.#flush();
    } else {
      this.#consumed.set(to, c);
    }
  }

  /** Stops using the port (the peer thread died or we shut down); wakes every credit waiter. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    this.#transfer = [];
    this.#transferOf = null;
    this.#port.close();
    const all = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const set of all) for (const wake of set) wake();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#closed || this.#out.length === 0) return;
    const batch = this.#out;
    const transfer = this.#transfer;
    const transferOf = this.#transferOf;
    this.#out = [];
    this.#transfer = [];
    this.#transferOf = null;
    try {
      this.#port.postMessage(batch, transfer);
    } catch {
      // One message that cannot be cloned poisons the batch (and a failed post transfers
      // nothing): post one by one, each with its own transferables, to find it.
      for (let i = 0; i < batch.length; i++) {
        try {
          this.#port.postMessage([batch[i]], transferOf?.get(i) ?? []);
        } catch (err) {
          this.#handler.onUndeliverable(batch[i], err as Error, this);
        }
      }
    }
  };

  #receive(batch: LinkBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      if (m.t === 'm') this.#handler.onMessage(m, this);
      else if (m.t === 'r') this.#handler.onReply(m);
      else this.#grant(m.to, m.n);
    }
  }

  #grant(to: string, n: number): void {
    this.#credits.set(to, (this.#credits.get(to) ?? this.#window) + n);
    const set = this.#waiters.get(to);
    if (!set) return;
    this.#waiters.delete(to);
    for (const wake of set) wake();
  }
}
