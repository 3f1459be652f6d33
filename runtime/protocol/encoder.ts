/**
 * The pure-TypeScript RESP command encoder: `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per
 * argument. Strings are UTF-8, Buffers/Uint8Arrays go as they are, numbers and bigints as
 * String(x). The native encoder (hiredis redisFormatSdsCommandArgv) gives identical bytes.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CommandArg } from './types.js';

/** Throws InvalidArgumentError naming the first argument that cannot be sent. */
export function validateArgs(
  args: readonly unknown[],
  name = 'args',
): asserts args is CommandArg[] {
  if (!Array.isArray(args)) throw new InvalidArgumentError(name, 'must be an array');
  for (let i = 0; i < args.length; i++) {
    const a: unknown = args[i];
    if (typeof a === 'string' || typeof a === 'bigint' || a instanceof Uint8Array) continue;
    if (typeof a === 'number') {
      if (Number.isFinite(a)) continue;
      throw new InvalidArgumentError(`${name}[${i}]`, `must be a finite number (got ${a})`);
    }
    throw new InvalidArgumentError(
      `${name}[${i}]`,
      `must be a string, Buffer, number or bigint (got ${a === null ? 'null' : typeof a})`,
    );
  }
}

/** Encodes a command whose arguments are all strings, as a string (the client's fast path). */
export function encodeStrings(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

export function encodeCommandTs(args: readonly CommandArg[]): Buffer {
  let text = `*${args.length}\r\n`;
  let parts: Buffer[] | null = null;
  for (const a of args) {
    if (a instanceof Uint8Array) {
      parts ??= [];
      parts.push(
        Buffer.from(`${text}$${a.length}\r\n`),
        Buffer.from(a.buffer, a.byteOffset, a.length),
      );
      text = '\r\n';
    } else {
      const s = typeof a === 'string' ? a : String(a);
      text += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    }
  }
  if (!parts) return Buffer.from(text);
  parts.push(Buffer.from(text));
  return Buffer.concat(parts);
}
