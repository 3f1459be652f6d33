/**
 * Pub/sub subscriptions and their listeners. Under RESP3 they live on the main connection
 * (messages arrive as push frames between ordinary replies); under RESP2 a subscribed
 * connection can do nothing else, so the client gives us a dedicated one. Either way the
 * subscriptions are re-sent in the connection's handshake after every reconnect.
 */
import type { RespValue } from '../protocol/index.js';
import { CommandFlags } from './command.js';
import type { Connection } from './connection.js';
import { textOf as text } from './commands/replies.js';

export type PubSubKind = 'channel' | 'pattern' | 'shard';
/** (message, channel, pattern?) — pattern only for pattern subscriptions. */
export type MessageListener = (message: string | Buffer, channel: string, pattern?: string) => void;

const SUB: Record<PubSubKind, string> = {
  channel: 'SUBSCRIBE',
  pattern: 'PSUBSCRIBE',
  shard: 'SSUBSCRIBE',
};
const UNSUB: Record<PubSubKind, string> = {
  channel: 'UNSUBSCRIBE',
  pattern: 'PUNSUBSCRIBE',
  shard: 'SUNSUBSCRIBE',
};

export class PubSub {
  readonly #subs: Record<PubSubKind, Map<string, Set<MessageListener>>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };
  readonly #pending = new Map<string, Promise<void>>(); // `${kind}:${name}` -> its SUBSCRIBE
  readonly #reserved: Set<string>; // channels unsubscribe() without names leaves alone
  readonly #connection: () => Promise<Connection>;
  readonly #onListenerError: (err: unknown) => void;

  constructor(
    connection: () => Promise<Connection>,
    onListenerError: (err: unknown) => void,
    reserved: string[] = [],
  ) {
    this.#connection = connection;
    this.#onListenerError = onListenerError;
    this.#reserved = new Set(reserved);
  }

  /** Names subscribed to, per kind. */
  subscriptions(kind: PubSubKind): string[] {
    return [...this.#subs[kind].keys()];
  }

  get active(): boolean {
    return this.#subs.channel.size + this.#subs.pattern.size + this.#subs.shard.size > 0;
  }

  /**
   * Adds `listener` to `names`; resolves once the server confirmed every name (a name another
   * call is subscribing to right now waits for that call's confirmation). If the server
   * refuses, only this call's listeners are removed. `conn` overrides the connection (internal
   * subscriptions made during a handshake must not wait for readiness).
   */
  async subscribe(
    kind: PubSubKind,
    names: string[],
    listener: MessageListener,
    conn?: Connection,
  ): Promise<void> {
    const map = this.#subs[kind];
    const fresh: string[] = [];
    const added: string[] = [];
    const waits: Promise<void>[] = [];
    for (const n of new Set(names)) {
      let set = map.get(n);
      if (!set) {
        map.set(n, (set = new Set()));
        fresh.push(n);
      } else {
        const pending = this.#pending.get(`${kind}:${n}`);
        if (pending) waits.push(pending);
      }
      if (!set.has(listener)) {
        set.add(listener);
        added.push(n);
      }
    }
    if (fresh.length > 0) {
      const sent = (async () => {
        const c = conn ?? (await this.#connection());
        await send(c, [SUB[kind], ...fresh], fresh.length, CommandFlags.PubSub);
      })();
      waits.push(sent);
      for (const n of fresh) this.#pending.set(`${kind}:${n}`, sent);
      void sent.then(
        () => this.#clearPending(kind, fresh, sent),
        () => this.#clearPending(kind, fresh, sent),
      );
    }
    try {
      await Promise.all(waits);
    } catch (err) {
      for (const n of added) {
        const set = map.get(n);
        set?.delete(listener);
        if (set?.size === 0) map.delete(n);
      }
      throw err;
    }
  }

  #clearPending(kind: PubSubKind, names: string[], sent: Promise<void>): void {
    for (const n of names)
      if (this.#pending.get(`${kind}:${n}`) === sent) this.#pending.delete(`${kind}:${n}`);
  }

  /** Removes `listener` (or every listener) from `names` (or all but the reserved ones);
   *  unsubscribes what is left empty. */
  async unsubscribe(kind: PubSubKind, names?: string[], listener?: MessageListener): Promise<void> {
    const map = this.#subs[kind];
    const gone: string[] = [];
    for (const n of names ?? [...map.keys()].filter((x) => !this.#reserved.has(x))) {
      const set = map.get(n);
      if (!set) continue;
      if (listener) set.delete(listener);
      if (!listener || set.size === 0) {
        map.delete(n);
        gone.push(n);
      }
    }
    if (gone.length === 0) return;
    const conn = await this.#connection();
    await send(conn, [UNSUB[kind], ...gone], gone.length, CommandFlags.PubSub);
  }

  /** For a connection's handshake: subscribe again to everything. */
  async resubscribe(conn: Connection): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      const names = [...this.#subs[kind].keys()];
      if (names.length)
        pending.push(conn.sendInternal([SUB[kind], ...names], CommandFlags.PubSub, names.length));
    }
    await Promise.all(pending);
  }

  /** A push frame: dispatches messages to their listeners. */
  onPush(frame: RespValue[]): void {
    const kind = text(frame[0]);
    if (kind === 'message' || kind === 'smessage') {
      this.#dispatch(
        this.#subs[kind === 'message' ? 'channel' : 'shard'].get(text(frame[1])),
        frame[2],
        text(frame[1]),
      );
    } else if (kind === 'pmessage') {
      const pattern = text(frame[1]);
      this.#dispatch(this.#subs.pattern.get(pattern), frame[3], text(frame[2]), pattern);
    }
  }

  #dispatch(
    listeners: Set<MessageListener> | undefined,
    message: RespValue,
    channel: string,
    pattern?: string,
  ): void {
    if (!listeners) return;
    for (const l of listeners) {
      try {
        l(message as string | Buffer, channel, pattern);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}

function send(conn: Connection, args: string[], expect: number, flags: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.send(args, resolve, reject, undefined, 0, undefined, flags, expect);
  });
}
