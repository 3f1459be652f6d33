/**
 * Message bodies in replies (queue and streamq payloads). By default they are decoded as UTF-8
 * strings; with `{ binary: true }` the reply is read with Buffers and bodies come back as the
 * exact bytes that were enqueued (a non-UTF-8 body would otherwise be mangled by decoding).
 */
import { textOf } from '../runtime/client/commands/replies.js';
import type { CallOptions } from '../runtime/client/index.js';
import type { RespValue } from '../runtime/protocol/index.js';
import { InvalidArgumentError } from '../runtime/errors.js';

export interface BinaryOption {
  /** Bodies as Buffers (the bytes as enqueued) instead of UTF-8 strings (default false). */
  binary?: boolean;
}

/**
 * The body type for given options: Buffer with `binary: true`, string with `binary: false` or
 * no `binary` at all, either when it is only known at run time. (`{ binary?: false }` would not
 * do for the second test: an object without `binary` is not assignable to that weak type.)
 */
export type PayloadOf<O> = O extends { binary: true }
  ? Buffer
  : O extends { binary: false }
    ? string
    : 'binary' extends keyof O
      ? string | Buffer
      : string;

/** No options given: string bodies. */
export type NoOptions = Record<never, never>;

const BUFFERS: CallOptions = { returnBuffers: true };

/** Validates options.binary; the per-call options that read the reply with Buffers, if asked. */
export function binaryCall(options: { binary?: unknown }): CallOptions | undefined {
  const b = options.binary;
  if (b !== undefined && typeof b !== 'boolean')
    throw new InvalidArgumentError('options.binary', 'must be a boolean');
  return b === true ? BUFFERS : undefined;
}

/** A body from a reply: the Buffer itself when binary, else its text. */
export function bodyOf(v: RespValue | undefined, binary: boolean): string | Buffer {
  if (binary) return Buffer.isBuffer(v) ? v : Buffer.from(textOf(v));
  return textOf(v);
}
