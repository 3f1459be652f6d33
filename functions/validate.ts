/**
 * Argument checks the facades run before anything is sent, so bad input never reaches Redis
 * (and never writes). They mirror the Lua checks (functions/error-codes.md) and throw
 * InvalidArgumentError naming the field as the TypeScript API spells it.
 */
import { InvalidArgumentError } from '../runtime/errors.js';

/** Lua keeps integers exact up to 2^53 - 1; so do these checks. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export function text(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new InvalidArgumentError(field, 'must be a non-empty string');
  return v;
}

/** Any string or Buffer (payloads, values: may be empty). */
export function payload(field: string, v: unknown): string | Buffer {
  if (typeof v !== 'string' && !Buffer.isBuffer(v))
    throw new InvalidArgumentError(field, 'must be a string or Buffer');
  return v;
}

export function posInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new InvalidArgumentError(field, 'must be a positive integer');
  return v;
}

export function nonNegInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new InvalidArgumentError(field, 'must be a non-negative integer');
  return v;
}

export function int(field: string, v: unknown, min = -MAX_SAFE, max = MAX_SAFE): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = min === -MAX_SAFE && max === MAX_SAFE ? '' : ` from ${min} to ${max}`;
    throw new InvalidArgumentError(field, `must be an integer${range}`);
  }
  return v;
}

/** A finite number > 0 (rates may be fractional). */
export function posNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new InvalidArgumentError(field, 'must be a positive finite number');
  return v;
}

export function finiteNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InvalidArgumentError(field, 'must be a finite number');
  return v;
}

/** An options bag: undefined becomes {}, anything but a plain object is refused. */
export function options<T extends object>(field: string, v: T | undefined): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidArgumentError(field, 'must be an object');
  return v;
}

export function nonEmptyArray<T>(field: string, v: unknown): T[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new InvalidArgumentError(field, 'must be a non-empty array');
  return v as T[];
}

/**
 * A hash tag for keys that must share a slot: braces would end the tag early (Redis hashes
 * what lies between the first `{` and the next `}`), so they are refused.
 */
export function tag(field: string, v: unknown): string {
  const t = text(field, v);
  if (t.includes('{') || t.includes('}'))
    throw new InvalidArgumentError(field, 'must not contain { or }');
  return t;
}

/**
 * The key of `name` under `prefix`, in its own slot (`cy:lock:{name}`), or in the slot of a
 * shared `tag` (`cy:lock:{tag}name`) so that several names can be used in one call.
 */
export function slotKey(prefix: string, name: string, sharedTag: string | undefined): string {
  return sharedTag === undefined ? `${prefix}{${name}}` : `${prefix}{${sharedTag}}${name}`;
}

/** CRC16/XMODEM, the checksum Redis Cluster hashes keys with (cluster spec, "Keys distribution"). */
const CRC16 = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    table[i] = c;
  }
  return table;
})();

/**
 * The hash tag Redis Cluster hashes `key` by: what lies between the first `{` and the next `}`,
 * or null when there is none (or it is empty: then the whole key is hashed).
 */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open === -1) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/** The cluster slot of `key`: CRC16 of its hash tag, else of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashTagOf(key) ?? key);
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ b) & 0xff];
  return crc & 0x3fff;
}

/**
 * Refuses keys of one call that would land in different cluster slots (a cluster answers such a
 * call with CROSSSLOT; a single server would run it, and the data could not move to a cluster).
 */
export function sameSlot(field: string, keys: readonly string[]): void {
  const slot = keySlot(keys[0]);
  const other = keys.find((k, i) => i > 0 && keySlot(k) !== slot);
  if (other !== undefined)
    throw new InvalidArgumentError(
      field,
      `must share one cluster slot: ${keys[0]} and ${other} do not (give them one {hash tag})`,
    );
}
