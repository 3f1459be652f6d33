/**
 * Pub/sub and client-side caching for one client. Under RESP3 both live on the main
 * connection (push frames); under RESP2 a subscribed connection can do nothing else, so a
 * dedicated subscriber connection carries the subscriptions and receives the tracking
 * invalidations (CLIENT TRACKING ... REDIRECT <its id>). Both are restored on every reconnect
 * from the connections' handshakes, which never wait for each other's readiness.
 */
import { ClosedError, InvalidArgumentError } from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import { CommandFlags } from './command.js';
import { textOf } from './commands/replies.js';
import { Connection } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { PubSub } from './pubsub.js';
import type { MessageListener, PubSubKind } from './pubsub.js';

export interface TrackingOptions {
  /** Broadcast mode: invalidations for every key under `prefixes`, read or not. */
  bcast?: boolean;
  prefixes?: string[];
  /** Track only keys read right after CLIENT CACHING yes / all but after CLIENT CACHING no. */
  optIn?: boolean;
  optOut?: boolean;
  /** No invalidations for keys this connection itself modified. */
  noLoop?: boolean;
}

const INVALIDATE_CHANNEL = '__redis__:invalidate';

function invalidatedKeys(v: RespValue | undefined): string[] | null {
  if (v === null || v === undefined) return null;
  return (Array.isArray(v) ? v : [v]).map((k) => textOf(k));
}

function names(list: string | string[] | undefined): string[] | undefined {
  return list === undefined ? undefined : Array.isArray(list) ? list : [list];
}

type Emit = (event: string, ...args: unknown[]) => boolean;

export class Subscriptions {
  readonly #o: ResolvedOptions;
  readonly #main: () => Connection;
  readonly #emit: Emit;
  readonly #closed: () => boolean;
  readonly #pubsub: PubSub;
  #subscriber: Connection | null = null;
  #tracking: TrackingOptions | null = null;

  constructor(options: ResolvedOptions, main: () => Connection, emit: Emit, closed: () => boolean) {
    this.#o = options;
    this.#main = main;
    this.#emit = emit;
    this.#closed = closed;
    this.#pubsub = new PubSub(
      () => this.#connection(),
      (err) => this.#emit('error', err),
      [INVALIDATE_CHANNEL],
    );
  }

  subscribe(kind: PubSubKind, list: string | string[], listener: MessageListener): Promise<void> {
    const all = names(list);
    if (!all || all.length === 0 || all.some((n) => typeof n !== 'string' || n.length === 0)) {
      const field = kind === 'pattern' ? 'patterns' : 'channels';
      return Promise.reject(
        new InvalidArgumentError(field, 'must be a non-empty string or array of strings'),
      );
    }
    if (typeof listener !== 'function') {
      return Promise.reject(new InvalidArgumentError('listener', 'must be a function'));
    }
    return this.#pubsub.subscribe(kind, all, listener);
  }

  unsubscribe(
    kind: PubSubKind,
    list?: string | string[],
    listener?: MessageListener,
  ): Promise<void> {
    return this.#pubsub.unsubscribe(kind, names(list), listener);
  }

  /** RESP3: the main connection. RESP2: the subscriber connection. */
  async #connection(): Promise<Connection> {
    if (this.#closed()) throw new ClosedError();
    const main = this.#main();
    await main.connect();
    return main.protocol === 3 ? main : this.#subscriberConnection();
  }

  /** The RESP2 subscriber connection (created on first use). Never waits for the main one. */
  async #subscriberConnection(): Promise<Connection> {
    if (!this.#subscriber) {
      const sub = new Connection(
        { ...this.#o, protocol: 2 },
        {
          handshake: async (conn) => {
            await this.#pubsub.resubscribe(conn);
            // Tracking redirects to this connection's id, which changed: point it here again.
            const main = this.#main();
            if (this.#tracking && main.state === 'ready' && main.protocol === 2) {
              this.#trackingOn(main, this.#tracking, conn).catch((e: unknown) =>
                this.#emit('error', e),
              );
            }
          },
          push: (frame) => this.onPush(frame),
        },
        true,
      );
      sub.on('error', (err) => this.#emit('error', err));
      this.#subscriber = sub;
    }
    await this.#subscriber.connect();
    return this.#subscriber;
  }

  /** A push frame (or RESP2 pub/sub frame) from any of the client's connections. */
  onPush(frame: RespValue[]): void {
    if (textOf(frame[0]) === 'invalidate') {
      this.#emit('invalidate', invalidatedKeys(frame[1]));
      return;
    }
    this.#pubsub.onPush(frame);
  }

  /** The main connection's handshake hook. */
  async mainHandshake(conn: Connection): Promise<void> {
    if (conn.protocol === 3) await this.#pubsub.resubscribe(conn);
    if (this.#tracking) await this.#trackingOn(conn, this.#tracking);
  }

  async enableTracking(options: TrackingOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', 'must be an object');
    }
    if (
      options.prefixes !== undefined &&
      (!Array.isArray(options.prefixes) || options.prefixes.some((p) => typeof p !== 'string'))
    ) {
      throw new InvalidArgumentError('options.prefixes', 'must be an array of strings');
    }
    const main = this.#main();
    await main.connect();
    await this.#trackingOn(main, options);
    this.#tracking = options;
  }

  async disableTracking(): Promise<void> {
    this.#tracking = null;
    await this.#main().sendInternal(['CLIENT', 'TRACKING', 'OFF']);
  }

  readonly #onInvalidation = (msg: string | Buffer): void => {
    this.#emit('invalidate', invalidatedKeys(msg));
  };

  async #trackingOn(conn: Connection, o: TrackingOptions, subscriber?: Connection): Promise<void> {
    const args: CommandArg[] = ['CLIENT', 'TRACKING', 'ON'];
    if (conn.protocol === 2) {
      // RESP2 has no push frames: invalidations go to the subscriber connection as messages.
      const sub = subscriber ?? (await this.#subscriberConnection());
      await this.#pubsub.subscribe('channel', [INVALIDATE_CHANNEL], this.#onInvalidation, sub);
      if (sub.clientId === null) {
        throw new InvalidArgumentError(
          'tracking',
          'under RESP2 needs CLIENT ID, which this ACL user may not run',
        );
      }
      args.push('REDIRECT', String(sub.clientId));
    }
    if (o.bcast) args.push('BCAST');
    for (const p of o.prefixes ?? []) args.push('PREFIX', p);
    if (o.optIn) args.push('OPTIN');
    if (o.optOut) args.push('OPTOUT');
    if (o.noLoop) args.push('NOLOOP');
    await conn.sendInternal(args, CommandFlags.Internal);
  }

  close(): Promise<void> | undefined {
    return this.#subscriber?.close();
  }

  disconnect(): void {
    this.#subscriber?.disconnect();
  }
}
