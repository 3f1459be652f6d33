/**
 * A raw RESP connection for tests: sends encoded commands over a plain socket and returns the
 * exact bytes of each reply frame, so the readers can be tested on what redis-server really
 * sends. Frames are delimited by a small scanner of its own, not by the readers under test.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { encodeCommandTs } from '../../runtime/protocol/encoder.js';
import type { CommandArg } from '../../runtime/protocol/types.js';
import type { ServerInfo } from './redis-server.js';

/**
 * End offset of the frame starting at `pos`, or -1 while it is incomplete. A frame is one
 * top-level reply or push; attributes (`|`) belong to the frame of the value they annotate.
 */
export function frameEnd(buf: Buffer, pos: number): number {
  let pending = 1; // items still to skip
  while (pending > 0) {
    if (pos >= buf.length) return -1;
    const type = String.fromCharCode(buf[pos]);
    const eol = buf.indexOf('\r\n', pos + 1, 'latin1');
    if (eol === -1) return -1;
    const n = Number(buf.toString('latin1', pos + 1, eol));
    pos = eol + 2;
    if (type === '$' || type === '=' || type === '!') {
      if (n >= 0) pos += n + 2;
      if (pos > buf.length) return -1;
      pending--;
    } else if (type === '*' || type === '~' || type === '>') {
      pending += Math.max(n, 0) - 1;
    } else if (type === '%') {
      pending += 2 * Math.max(n, 0) - 1;
    } else if (type === '|') {
      pending += 2 * Math.max(n, 0); // the annotated value is still to come
    } else {
      pending--;
    }
  }
  return pos;
}

export class RawResp {
  readonly #socket: Socket;
  #buf = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  #closed: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      this.#waiter?.();
    });
    const closed = (err?: Error): void => {
      this.#closed ??= err ?? new Error('connection closed');
      this.#waiter?.();
    };
    socket.on('error', closed);
    socket.on('close', () => closed());
  }

  static connect(info: ServerInfo): Promise<RawResp> {
    return new Promise((resolve, reject) => {
      const socket = info.path ? connect(info.path) : connect(info.port, info.host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawResp(socket));
      });
    });
  }

  /** Writes commands without waiting for their replies. */
  send(...commands: CommandArg[][]): void {
    for (const command of commands) this.#socket.write(encodeCommandTs(command));
  }

  /** The raw bytes of each of the next `count` frames (replies or pushes). */
  async frames(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const end = frameEnd(this.#buf, 0);
      if (end !== -1) {
        out.push(this.#buf.subarray(0, end));
        this.#buf = this.#buf.subarray(end);
        continue;
      }
      if (this.#closed) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${count - out.length} more RESP frame(s)`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
    return out;
  }

  /** Sends one command and returns the raw bytes of its reply. */
  async call(...args: CommandArg[]): Promise<Buffer> {
    this.send(args);
    const [frame] = await this.frames(1);
    return frame;
  }

  close(): void {
    this.#socket.destroy();
  }
}
