/**
 * Endpoint: what every thread of a supervisor (each worker, and the main thread) does on the
 * data plane — resolve a ref to an actor and its slot, send and call over links (or into a local
 * mailbox), correlate replies by call id, and reject calls whose target's thread died.
 *
 * Placement is static for the supervisor's lifetime: an actor always lives in the same slot;
 * a dead thread is replaced in its slot, and every endpoint swaps its link to the new thread
 * (replaceLink), rejecting the calls that were pending on the old one with ActorDiedError.
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import {
  ActorCallError,
  ActorDiedError,
  ActorNotFoundError,
  InvalidArgumentError,
  ShutdownError,
  TimeoutError,
} from '../errors.js';
import { monoNow } from './clock.js';
import { parseRef } from './define.js';
import type { ActorCallOptions, ActorRef, ActorSendOptions } from './define.js';
import { Link } from './link.js';
import type { LinkHandler } from './link.js';
import type { Envelope } from './mailbox.js';
import { asError, fromWire, notCloneable, toWire } from './messages.js';
import type {
  ActorMessage,
  ActorPlacement,
  CallFailure,
  LinkMessage,
  ReplyMessage,
  Tuning,
} from './messages.js';

interface PendingCall {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
  slot: number;
  generation: number;
  actor: string;
}

const DONE: Promise<void> = Promise.resolve();

function failureError(f: CallFailure): Error {
  switch (f.kind) {
    case 'handler':
      return new ActorCallError(f.actor, fromWire(f.error));
    case 'died':
      return new ActorDiedError(f.actor, f.reason);
    case 'not-found':
      return new ActorNotFoundError(f.actor, f.detail);
    case 'shutdown':
      return new ShutdownError();
  }
}

export abstract class Endpoint implements LinkHandler {
  readonly slot: number;
  readonly tuning: Tuning;
  readonly #byName = new Map<string, ActorPlacement[]>();
  readonly #byId = new Map<string, ActorPlacement>();
  readonly #rr = new Map<string, number>();
  readonly links = new Map<number, Link>();
  readonly #pending = new Map<number, PendingCall>();
  #cid = 0;
  /** Actor messages posted to / received from other threads (drain detection). */
  sent = 0;
  received = 0;

  constructor(slot: number, actors: readonly ActorPlacement[], tuning: Tuning) {
    this.slot = slot;
    this.tuning = tuning;
    for (const p of actors) {
      this.#byId.set(p.id, p);
      const list = this.#byName.get(p.name);
      if (list) list.push(p);
      else this.#byName.set(p.name, [p]);
    }
  }

  /**
   * Delivers into a mailbox of this thread (workers only), waiting up to `timeoutMs` for room;
   * a call that `gave up` meanwhile (timed out, its thread died) is not delivered at all.
   */
  protected abstract deliverLocal(
    p: ActorPlacement,
    env: Envelope,
    timeoutMs: number | undefined,
    gaveUp?: () => boolean,
  ): Promise<void> | undefined;
  abstract onMessage(m: ActorMessage, link: Link): void;
  /** Refuses new intake (the supervisor is stopping). */
  protected abstract get intakeClosed(): boolean;
  /**
   * Throws if `msg` cannot cross threads. Only the main thread checks (a second clone on the
   * actors' hot path costs too much): a worker's message that fails to clone when its batch is
   * posted is dropped and counted (undeliverableSend).
   */
  protected checkCloneable(msg: unknown, transfer?: readonly TransferListItem[]): void {
    void msg;
    void transfer;
  }
  /** Whether a message with this transfer list is posted at once (Link.postNow), so that a
   * failure to post it rejects its send; otherwise it is batched. */
  protected postsAtOnce(transfer: readonly TransferListItem[] | undefined): boolean {
    void transfer;
    return false;
  }

  // ---- links ----

  addLink(slot: number, generation: number, port: MessagePort): Link {
    const link = new Link(port, slot, generation, this.tuning.creditWindow, this);
    this.links.set(slot, link);
    return link;
  }

  /** The thread in `slot` was replaced: calls pending on the old one reject. */
  replaceLink(slot: number, generation: number, port: MessagePort | null, reason: string): void {
    const old = this.links.get(slot);
    if (old && old.generation >= generation) {
      port?.close();
      return;
    }
    if (port) this.addLink(slot, generation, port);
    else this.links.delete(slot);
    old?.close();
    if (old) this.rejectPending((c) => c.slot === slot && c.generation === old.generation, reason);
  }

  rejectPending(match: (c: PendingCall) => boolean, reason: string): void {
    for (const [cid, c] of this.#pending) {
      if (!match(c)) continue;
      this.#pending.delete(cid);
      if (c.timer) clearTimeout(c.timer);
      c.reject(new ActorDiedError(c.actor, reason));
    }
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  closeLinks(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  // ---- refs ----

  ref(name: string, instance?: number): ActorRef {
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError('name', 'must be a non-empty actor name');
    const list = this.#byName.get(name);
    if (!list) throw new ActorNotFoundError(name);
    if (instance !== undefined && !list.some((p) => (p.instance ?? 0) === instance))
      throw new ActorNotFoundError(`${name}#${instance}`, `${name} has ${list.length} instance(s)`);
    return { name, instance: instance ?? null };
  }

  resolve(to: ActorRef | string): ActorPlacement {
    const ref = parseRef(to);
    const list = this.#byName.get(ref.name);
    if (!list) throw new ActorNotFoundError(ref.name);
    if (ref.instance === null) {
      if (list.length === 1) return list[0];
      const i = this.#rr.get(ref.name) ?? 0;
      this.#rr.set(ref.name, i + 1);
      return list[i % list.length];
    }
    const p = list.find((x) => (x.instance ?? 0) === ref.instance);
    if (!p) throw new ActorNotFoundError(`${ref.name}#${ref.instance}`);
    return p;
  }

  placement(id: string): ActorPlacement | undefined {
    return this.#byId.get(id);
  }

  // ---- send / call ----

  send(to: ActorRef | string, msg: unknown, options?: ActorSendOptions): Promise<void> {
    try {
      if (this.intakeClosed) throw new ShutdownError();
      const p = this.resolve(to);
      if (p.slot !== this.slot) this.checkCloneable(msg, options?.transfer);
      return this.#deliver(p, msg, 0, options) ?? DONE;
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  call(to: ActorRef | string, msg: unknown, options?: ActorCallOptions): Promise<unknown> {
    let p: ActorPlacement;
    try {
      if (this.intakeClosed) throw new ShutdownError();
      p = this.resolve(to);
      if (p.slot !== this.slot) this.checkCloneable(msg, options?.transfer);
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const timeoutMs = options?.timeoutMs ?? this.tuning.callTimeoutMs;
    const cid = ++this.#cid;
    return new Promise((resolve, reject) => {
      const link = p.slot === this.slot ? null : this.links.get(p.slot);
      const call: PendingCall = {
        resolve,
        reject,
        timer: null,
        slot: p.slot,
        generation: link?.generation ?? -1,
        actor: p.id,
      };
      if (timeoutMs > 0) {
        call.timer = setTimeout(() => {
          this.#pending.delete(cid);
          reject(new TimeoutError(`call to ${p.id} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#pending.set(cid, call);
      const fail = (err: unknown): void => {
        if (!this.#pending.delete(cid)) return;
        if (call.timer) clearTimeout(call.timer);
        reject(asError(err));
      };
      try {
        this.#deliver(p, msg, cid, options, call, timeoutMs)?.catch(fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  /**
   * Local: into the mailbox. Remote: spend a credit (waiting for one) and post. A send waits
   * for room up to its timeoutMs (none: as long as it takes); a call up to its own timeout,
   * and once it gave up (timed out, its target's thread died) it is never delivered late.
   */
  #deliver(
    p: ActorPlacement,
    msg: unknown,
    cid: number,
    options: ActorSendOptions | undefined,
    call?: PendingCall,
    callTimeoutMs = 0,
  ): Promise<void> | undefined {
    const waitMs = call ? (callTimeoutMs > 0 ? callTimeoutMs : undefined) : options?.timeoutMs;
    const gaveUp = call ? () => !this.#pending.has(cid) : undefined;
    if (p.slot === this.slot) {
      return this.deliverLocal(p, { msg, cid, rs: this.slot, via: null }, waitMs, gaveUp);
    }
    const link = this.links.get(p.slot);
    if (!link) throw new ActorDiedError(p.id, `its thread (slot ${p.slot}) is gone`);
    if (link.trySpend(p.id)) {
      if (call) call.generation = link.generation;
      this.#post(link, p.id, { t: 'm', to: p.id, msg, cid, rs: this.slot }, options?.transfer);
      return undefined;
    }
    return this.#deliverLater(p, msg, cid, options, call, waitMs, gaveUp);
  }

  async #deliverLater(
    p: ActorPlacement,
    msg: unknown,
    cid: number,
    options: ActorSendOptions | undefined,
    call: PendingCall | undefined,
    waitMs: number | undefined,
    gaveUp: (() => boolean) | undefined,
  ): Promise<void> {
    const deadline = waitMs !== undefined && waitMs > 0 ? monoNow() + waitMs : null;
    for (;;) {
      if (gaveUp?.()) return; // the call timed out (or failed) while it waited: not sent
      const link = this.links.get(p.slot);
      if (!link) throw new ActorDiedError(p.id, `its thread (slot ${p.slot}) is gone`);
      if (link.trySpend(p.id)) {
        if (call) call.generation = link.generation;
        this.#post(link, p.id, { t: 'm', to: p.id, msg, cid, rs: this.slot }, options?.transfer);
        return;
      }
      if (deadline === null) {
        await link.waitCredit(p.id);
      } else {
        const left = deadline - monoNow();
        if (left <= 0)
          throw new TimeoutError(`${p.id} did not take the message within ${waitMs} ms`);
        await link.waitCredit(p.id, Math.ceil(left));
      }
      if (this.intakeClosed && !call) throw new ShutdownError();
    }
  }

  #post(link: Link, to: string, m: ActorMessage, transfer?: readonly TransferListItem[]): void {
    this.sent++;
    if (!this.postsAtOnce(transfer)) {
      link.post(m, transfer);
      return;
    }
    try {
      link.postNow(m, transfer ?? []);
    } catch (err) {
      this.sent--;
      link.refund(to);
      throw notCloneable(err);
    }
  }

  // ---- replies ----

  reply(env: Envelope, value: unknown): void {
    if (env.cid === 0) return;
    if (env.rs === this.slot) {
      this.#settle(env.cid, true, value);
      return;
    }
    this.links.get(env.rs)?.post({ t: 'r', cid: env.cid, ok: true, value });
  }

  replyFailure(env: Envelope, failure: CallFailure): void {
    if (env.cid === 0) return;
    if (env.rs === this.slot) {
      this.#settle(env.cid, false, failure);
      return;
    }
    this.links.get(env.rs)?.post({ t: 'r', cid: env.cid, ok: false, failure });
  }

  onReply(m: ReplyMessage): void {
    if (m.ok) this.#settle(m.cid, true, m.value);
    else this.#settle(m.cid, false, m.failure);
  }

  #settle(cid: number, ok: boolean, v: unknown): void {
    const c = this.#pending.get(cid);
    if (!c) return; // timed out, or rejected because its thread died
    this.#pending.delete(cid);
    if (c.timer) clearTimeout(c.timer);
    if (ok) c.resolve(v);
    else c.reject(failureError(v as CallFailure));
  }

  onUndeliverable(m: LinkMessage, error: Error, link: Link): void {
    if (m.t === 'm') {
      link.refund(m.to);
      this.sent--;
      if (m.cid === 0) {
        this.undeliverableSend(m.to, error);
        return;
      }
      const c = this.#pending.get(m.cid);
      if (!c) return;
      this.#pending.delete(m.cid);
      if (c.timer) clearTimeout(c.timer);
      c.reject(error);
    } else if (m.t === 'r' && m.ok) {
      // The reply value cannot be cloned: the caller gets the error instead of hanging.
      link.post({
        t: 'r',
        cid: m.cid,
        ok: false,
        failure: { kind: 'handler', actor: 'callee', error: toWire(error) },
      });
    }
  }

  /** A send whose message could not be cloned; the sender already moved on. */
  protected abstract undeliverableSend(to: string, error: Error): void;
}
