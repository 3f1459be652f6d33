/**
 * Shared by the protocol tests: which reader implementations to run, how to split input into
 * chunks, and a deep equality that knows every value a reader can return.
 */
import type { Test } from 'uvu';
import {
  AttributedReply,
  PushMessage,
  ReplyError,
  RespReader,
  native,
  nativeUnavailableReason,
} from '../../runtime/protocol/index.js';
import type {
  ReaderImplementation,
  ReaderOptions,
  RespValue,
} from '../../runtime/protocol/index.js';

/** The implementations this process can run: both, or only 'ts' without the addon. */
export const IMPLEMENTATIONS: readonly ReaderImplementation[] = native ? ['native', 'ts'] : ['ts'];

/**
 * Without the addon the native half of a file cannot run. Say so loudly: a skipped test shows
 * in uvu's "Skipped" count and the reason is printed, so it is never silent.
 */
export function noteNativeSkipped(test: Test): void {
  if (native) return;
  const why = `native reader not loaded (${nativeUnavailableReason ?? 'unknown'}): TS only`;
  console.warn(`NOTE: ${why}`);
  test.skip(why, () => {});
}

/** How a byte stream is cut into feed() calls. */
export type Split = 'whole' | 'bytewise' | { seed: number; max?: number };

export function splitName(split: Split): string {
  return typeof split === 'string' ? split : `random(seed=${split.seed})`;
}

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts bytes into chunks: all at once, one byte each, or random lengths from 1 to max. */
export function chunks(bytes: Buffer, split: Split): Buffer[] {
  if (split === 'whole') return [bytes];
  if (split === 'bytewise') {
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(bytes.subarray(i, i + 1));
    return out;
  }
  const rand = prng(split.seed);
  const max = split.max ?? 64;
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length;) {
    // Mostly short cuts (which land inside headers and CRLFs), sometimes long ones.
    const n = rand() < 0.8 ? 1 + Math.floor(rand() * 8) : 1 + Math.floor(rand() * max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** What one pass of a reader over a stream produced. */
export interface Decoded {
  values: RespValue[];
  error: Error | undefined; // what feed() threw
  failedAt: number; // index of the chunk whose feed() threw; -1 if none did
}

/** Feeds `bytes` to a fresh reader in the given chunks; stops at the first throw. */
export function decode(
  implementation: ReaderImplementation,
  options: ReaderOptions,
  bytes: Buffer,
  split: Split,
): Decoded {
  const reader = new RespReader({ ...options, implementation });
  const values: RespValue[] = [];
  const parts = chunks(bytes, split);
  for (let i = 0; i < parts.length; i++) {
    try {
      values.push(...reader.feed(parts[i]));
    } catch (error) {
      return { values, error: error as Error, failedAt: i };
    }
  }
  return { values, error: undefined, failedAt: -1 };
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v))
    return `<Buffer ${v.subarray(0, 32).toString('hex')}${v.length > 32 ? '...' : ''}>`;
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === null || typeof v !== 'object') return String(v);
  return (v.constructor as { name?: string } | undefined)?.name ?? 'Object';
}

/**
 * Strict structural equality for reader output. Returns null when equal, else where and how
 * the two differ. Numbers compare with Object.is (so NaN equals NaN and -0 differs from 0);
 * the class of every object matters (Buffer vs string, Map vs object, PushMessage vs Array);
 * object keys and Map entries compare in order; ReplyErrors compare message and redisCode.
 */
export function diff(actual: unknown, expected: unknown, path = '$'): string | null {
  const bad = (): string => `${path}: got ${describe(actual)}, expected ${describe(expected)}`;
  if (typeof actual !== typeof expected) return bad();
  if (typeof actual === 'number') return Object.is(actual, expected) ? null : bad();
  if (actual === null || expected === null || typeof actual !== 'object') {
    return actual === expected ? null : bad();
  }
  const a = actual;
  const e = expected as object;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(e)) {
    if (!(isPlainObject(a) && isPlainObject(e))) return bad();
  }
  if (Buffer.isBuffer(a)) return a.equals(e as Buffer) ? null : bad();
  if (a instanceof ReplyError) {
    const x = e as ReplyError;
    if (a.message !== x.message)
      return `${path}.message: got ${describe(a.message)}, expected ${describe(x.message)}`;
    return a.redisCode === x.redisCode ? null : `${path}.redisCode differs`;
  }
  if (a instanceof PushMessage) return diff(a.data, (e as PushMessage).data, `${path}.data`);
  if (a instanceof AttributedReply) {
    const x = e as AttributedReply;
    return (
      diff(a.attributes, x.attributes, `${path}.attributes`) ??
      diff(a.value, x.value, `${path}.value`)
    );
  }
  if (Array.isArray(a)) {
    const x = e as unknown[];
    if (a.length !== x.length) return `${path}: length ${a.length}, expected ${x.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = diff(a[i], x[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a instanceof Map) {
    const ae = [...a.entries()];
    const xe = [...(e as Map<unknown, unknown>).entries()];
    if (ae.length !== xe.length) return `${path}: Map size ${ae.length}, expected ${xe.length}`;
    for (let i = 0; i < ae.length; i++) {
      const d =
        diff(ae[i][0], xe[i][0], `${path}<key ${i}>`) ??
        diff(ae[i][1], xe[i][1], `${path}<value ${i}>`);
      if (d) return d;
    }
    return null;
  }
  if (isPlainObject(a)) {
    const x = e as Record<string, unknown>;
    const ak = Object.keys(a);
    const xk = Object.keys(x);
    if (ak.join('\0') !== xk.join('\0')) {
      return `${path}: keys ${JSON.stringify(ak)}, expected ${JSON.stringify(xk)}`;
    }
    for (const k of ak) {
      const d = diff(a[k], x[k], `${path}[${JSON.stringify(k)}]`);
      if (d) return d;
    }
    return null;
  }
  return bad();
}

/** Builds a plain object the way both readers build RESP3 maps (own `__proto__`, no setter). */
export function obj(entries: [string, RespValue][]): { [key: string]: RespValue } {
  const o: { [key: string]: RespValue } = {};
  for (const [k, v] of entries) {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/** RESP bytes from lines: each line (text as UTF-8, or raw bytes) is followed by CRLF. */
export function resp(...lines: (string | Buffer)[]): Buffer {
  const crlf = Buffer.from('\r\n');
  return Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, crlf]));
}
