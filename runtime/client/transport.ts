/**
 * Transports carry bytes to one Redis server and replies back:
 *
 * - native: a NativeConnection (C++: libuv socket of this thread + hiredis reader); one JS call
 *   per batch of writes, one per read carrying every reply in it. TCP and unix sockets.
 * - node:   a Node net/tls socket with the RespReader (native or TS). TLS always uses this one.
 *
 * Both report the same three events; a Connection never knows which one it drives.
 */
import { lookup } from 'node:dns';
import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ProtocolError } from '../errors.js';
import { ConnectionError } from '../errors.js';
import { RespReader, native } from '../protocol/index.js';
import type { RespValue } from '../protocol/index.js';
import type { ResolvedOptions } from './options.js';

export type TransportKind = 'native' | 'node-net' | 'node-tls';

export interface TransportEvents {
  connect(): void;
  replies(replies: RespValue[]): void;
  /** The socket is closed. `error` is null when close() was called without a reason. */
  close(error: Error | null): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /**
   * Sends bytes; false when the transport is not open (the bytes are dropped). The written
   * commands expect `count` replies decoded as Buffers or not (`buffers`), or, when `count` is
   * an array, runs [count, flag, count, flag, ...] (see RespReader.expect).
   */
  write(data: string | Buffer, count: number | number[], buffers: boolean): boolean;
  /** Closes the socket at once; the close event follows with `reason` (or null). */
  close(reason?: Error): void;
}

interface NativeConnectionHandle {
  connectTcp(ip: string, port: number, family: number): void;
  connectUnix(path: string): void;
  write(data: string | Buffer, count: number | number[], buffers: boolean): number;
  close(): void;
  setKeepAlive(enable: boolean, delaySeconds: number): void;
}

type NativeConnectionCtor = new (
  options: object,
  onReplies: (replies: RespValue[]) => void,
  onEvent: (event: string, arg: unknown) => void,
) => NativeConnectionHandle;

/** Which transport options.transport and options.tls select in this thread. */
export function transportKind(opts: Pick<ResolvedOptions, 'transport' | 'tls'>): TransportKind {
  if (opts.tls) return 'node-tls';
  if (opts.transport === 'node' || !native) return 'node-net';
  return 'native';
}

export function openTransport(opts: ResolvedOptions, events: TransportEvents): Transport {
  const kind = transportKind(opts);
  if (opts.transport === 'native' && kind !== 'native') {
    throw new ConnectionError(
      opts.tls
        ? 'options.transport native does not support TLS'
        : 'options.transport is native but the addon is not loaded',
    );
  }
  return kind === 'native' ? new NativeTransport(opts, events) : new NodeTransport(opts, events);
}

class NativeTransport implements Transport {
  readonly kind = 'native' as const;
  readonly #conn: NativeConnectionHandle;
  readonly #events: TransportEvents;
  #reason: Error | null = null;
  #error: Error | null = null;
  #closed = false;
  #started = false; // the native socket exists (after a host name was resolved)
  readonly #keepAliveMs: number | false;

  constructor(opts: ResolvedOptions, events: TransportEvents) {
    this.#events = events;
    this.#keepAliveMs = opts.path ? false : opts.keepAlive;
    const Ctor = (native as unknown as { NativeConnection: NativeConnectionCtor }).NativeConnection;
    this.#conn = new Ctor(
      { ...opts.reader, returnBuffers: opts.returnBuffers },
      (replies) => events.replies(replies),
      (event, arg) => this.#onEvent(event, arg),
    );
    if (opts.path) {
      this.#started = true;
      this.#conn.connectUnix(opts.path);
      return;
    }
    const family = isIP(opts.host);
    if (family) {
      this.#started = true;
      this.#conn.connectTcp(opts.host, opts.port, family);
      return;
    }
    lookup(opts.host, (err, address, fam) => {
      if (this.#closed) return;
      if (err) {
        this.#closed = true;
        this.#conn.close(); // releases its callbacks (no socket yet)
        events.close(
          new ConnectionError(`cannot resolve ${opts.host}: ${err.message}`, { cause: err }),
        );
        return;
      }
      this.#started = true;
      this.#conn.connectTcp(address, opts.port, fam);
    });
  }

  #onEvent(event: string, arg: unknown): void {
    if (event === 'connect') {
      if (this.#keepAliveMs !== false)
        this.#conn.setKeepAlive(true, Math.max(1, Math.round(this.#keepAliveMs / 1000)));
      this.#events.connect();
    } else if (event === 'error') {
      this.#error = arg as Error;
    } else if (event === 'close') {
      this.#closed = true;
      const err =
        this.#reason ??
        this.#error ??
        (typeof arg === 'string' ? new ConnectionError(`Connection lost: ${arg}`) : null);
      this.#events.close(err);
    }
  }

  write(data: string | Buffer, count: number | number[], buffers: boolean): boolean {
    return this.#conn.write(data, count, buffers) >= 0;
  }

  close(reason?: Error): void {
    if (this.#closed) return;
    if (reason) this.#reason = reason;
    this.#conn.close();
    if (!this.#started) {
      // Still resolving the host name: there is no socket whose close would report back.
      this.#closed = true;
      queueMicrotask(() => this.#events.close(this.#reason));
    }
  }
}

class NodeTransport implements Transport {
  readonly kind: TransportKind;
  readonly #socket: Socket;
  readonly #reader: RespReader;
  #reason: Error | null = null;
  #open = false;

  constructor(opts: ResolvedOptions, events: TransportEvents) {
    this.#reader = new RespReader({ ...opts.reader, returnBuffers: opts.returnBuffers });
    if (opts.tls) {
      this.kind = 'node-tls';
      this.#socket = tlsConnect({
        ...opts.tls, // first: where to connect always comes from the client's own options
        ...(opts.path ? { path: opts.path } : { host: opts.host, port: opts.port }),
        servername: opts.tls.servername ?? (isIP(opts.host) ? undefined : opts.host),
      } as unknown as Parameters<typeof tlsConnect>[0]);
    } else {
      this.kind = 'node-net';
      this.#socket = opts.path ? netConnect(opts.path) : netConnect(opts.port, opts.host);
    }
    const socket = this.#socket;
    socket.setNoDelay(true);
    if (opts.keepAlive !== false && !opts.path) socket.setKeepAlive(true, opts.keepAlive);
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      this.#open = true;
      events.connect();
    });
    socket.on('data', (chunk: Buffer) => {
      let replies: RespValue[];
      try {
        replies = this.#reader.feed(chunk);
      } catch (err) {
        this.close(err as ProtocolError);
        return;
      }
      if (replies.length > 0) events.replies(replies);
    });
    let error: Error | null = null;
    socket.on('error', (err) => {
      error = new ConnectionError(`Connection error: ${err.message}`, { cause: err });
    });
    socket.once('close', () => {
      this.#open = false;
      if (this.#reason === CLOSED_BY_US) events.close(null);
      else
        events.close(
          this.#reason ??
            error ??
            new ConnectionError('Connection lost: connection closed by the server'),
        );
    });
  }

  write(data: string | Buffer, count: number | number[], buffers: boolean): boolean {
    if (!this.#open) return false;
    if (typeof count === 'number') {
      this.#reader.expect(count, buffers);
    } else {
      for (let i = 0; i < count.length; i += 2) this.#reader.expect(count[i], count[i + 1] === 1);
    }
    this.#socket.write(data);
    return true;
  }

  close(reason?: Error): void {
    if (reason) this.#reason ??= reason;
    else this.#reason ??= CLOSED_BY_US;
    this.#open = false;
    this.#socket.destroy();
  }
}

/** Marks a close we asked for, so the close event reports null. */
const CLOSED_BY_US = new ConnectionError('closed');
