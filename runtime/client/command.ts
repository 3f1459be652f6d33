/**
 * One command on its way: its encoded bytes, how to settle its promise, and the little state
 * timeouts, aborts and pub/sub confirmations need. Encoding happens when the command is
 * issued, so a bad argument rejects before anything is queued or sent.
 */
import { AbortError, InvalidArgumentError, TimeoutError } from '../errors.js';
import type { RespValue } from '../protocol/index.js';

export type Transform<T = unknown> = (reply: RespValue) => T;

/** Per-call options: the trailing object of `call(name, ...args, options)`. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides options.commandTimeoutMs for this call (0: no timeout). */
  timeoutMs?: number;
  /** Bulk strings of this reply as Buffer. */
  returnBuffers?: boolean;
}

export const enum CommandFlags {
  None = 0,
  /** Handshake/internal: sent even before the connection is ready, never requeued. */
  Internal = 1,
  /** Answered by pub/sub confirmations (push frames), `expect` of them. */
  PubSub = 2,
  /** Part of an all-or-nothing group (MULTI ... EXEC, a pipeline): always written with the
   *  others, even when settled early (its reply is then dropped). */
  Batch = 4,
}

export class Command {
  /** Settled early (timeout, abort): the reply, when it comes, is dropped. */
  settled = false;
  /** Pub/sub confirmations still expected. */
  expect = 0;
  /** Failed reconnect attempts while this command waited offline. */
  retries = 0;
  /** Counted in its connection's offline queue (cleared when written or dropped there). */
  offline = false;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly encoded: string | Buffer,
    readonly name: string,
    readonly resolve: (value: unknown) => void,
    readonly reject: (err: Error) => void,
    readonly transform: Transform | undefined,
    readonly flags: number,
    readonly returnBuffers: boolean,
  ) {}

  /** Resolves with the reply (through the transform), once. */
  succeed(reply: RespValue): void {
    if (this.settled) return;
    this.#finish();
    if (this.transform === undefined) {
      this.resolve(reply);
      return;
    }
    let value: unknown;
    try {
      value = this.transform(reply);
    } catch (err) {
      this.reject(err as Error);
      return;
    }
    this.resolve(value);
  }

  /** Rejects, once. */
  fail(err: Error): void {
    if (this.settled) return;
    this.#finish();
    this.reject(err);
  }

  /** Starts the timeout and abort watch; `onCancel` runs when either fires. */
  watch(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onCancel: (cmd: Command) => void,
  ): void {
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.fail(new TimeoutError(`${this.name} timed out after ${timeoutMs} ms`));
        onCancel(this);
      }, timeoutMs);
    }
    if (signal) {
      this.signal = signal;
      this.onAbort = () => {
        this.fail(new AbortError(`${this.name} was aborted`, { cause: signal.reason }));
        onCancel(this);
      };
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  #finish(): void {
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
  }
}

/** The largest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Validates a per-call timeout (0: none). */
export function checkTimeout(ms: unknown, field: string): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_TIMEOUT_MS) {
    throw new InvalidArgumentError(field, `must be an integer from 0 to ${MAX_TIMEOUT_MS}`);
  }
  return ms;
}

function badArg(i: number, a: unknown): InvalidArgumentError {
  if (typeof a === 'number')
    return new InvalidArgumentError(`args[${i}]`, `must be a finite number (got ${a})`);
  return new InvalidArgumentError(
    `args[${i}]`,
    `must be a string, Buffer, number or bigint (got ${a === null ? 'null' : typeof a})`,
  );
}

/**
 * Encodes a command as RESP: a string when every argument is text (the fast path: the
 * transport writes it without building a Buffer), else a Buffer. Throws InvalidArgumentError
 * naming the first bad argument.
 */
export function encode(args: readonly unknown[]): string | Buffer {
  let out = '*' + args.length + '\r\n';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'string') {
      out += '$' + Buffer.byteLength(a) + '\r\n' + a + '\r\n';
    } else if (typeof a === 'number') {
      if (!Number.isFinite(a)) throw badArg(i, a);
      const s = String(a);
      out += '$' + s.length + '\r\n' + s + '\r\n';
    } else if (typeof a === 'bigint') {
      const s = a.toString();
      out += '$' + s.length + '\r\n' + s + '\r\n';
    } else if (a instanceof Uint8Array) {
      return encodeWithBuffers(args);
    } else {
      throw badArg(i, a);
    }
  }
  return out;
}

function encodeWithBuffers(args: readonly unknown[]): Buffer {
  const parts: Buffer[] = [];
  let text = '*' + args.length + '\r\n';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof Uint8Array) {
      parts.push(
        Buffer.from(text + '$' + a.length + '\r\n'),
        Buffer.from(a.buffer, a.byteOffset, a.length),
      );
      text = '\r\n';
    } else if (
      typeof a === 'string' ||
      typeof a === 'bigint' ||
      (typeof a === 'number' && Number.isFinite(a))
    ) {
      const s = String(a);
      text += '$' + Buffer.byteLength(s) + '\r\n' + s + '\r\n';
    } else {
      throw badArg(i, a);
    }
  }
  parts.push(Buffer.from(text));
  return Buffer.concat(parts);
}

/** The command name of an argument list, upper-cased, for messages and routing. */
export function commandName(args: readonly unknown[]): string {
  const first = args[0];
  return typeof first === 'string' ? first.toUpperCase() : String(first);
}
