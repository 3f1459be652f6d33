/**
 * Reply shapes shared by command families. RESP2 and RESP3 deliver some replies differently
 * (a flat array vs a map, a bulk string vs a double); these give one JS shape for both.
 */
import type { RespValue } from '../../protocol/index.js';

/** A reply element as text (strings as they are, Buffers decoded as UTF-8). */
export function textOf(v: RespValue | undefined): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString();
  if (v === null || v === undefined) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return String(v);
}

/** Flat [k1, v1, k2, v2] (RESP2) or a map object (RESP3) -> a plain object. */
export function toObject(reply: RespValue): Record<string, RespValue> {
  if (Array.isArray(reply)) {
    const out: Record<string, RespValue> = Object.create(null) as Record<string, RespValue>;
    for (let i = 0; i < reply.length; i += 2) out[textOf(reply[i])] = reply[i + 1]!;
    return out;
  }
  if (reply instanceof Map) return Object.fromEntries([...reply].map(([k, v]) => [textOf(k), v]));
  return (reply ?? {}) as Record<string, RespValue>;
}

/** A bulk string (RESP2) or double (RESP3) score -> number; null stays null. */
export function toNumberOrNull(reply: RespValue): number | null {
  if (reply === null) return null;
  return typeof reply === 'number' ? reply : Number(textOf(reply));
}

export function toNumber(reply: RespValue): number {
  return typeof reply === 'number' ? reply : Number(textOf(reply));
}

/** 1/0 integer or RESP3 boolean -> boolean. */
export function toBoolean(reply: RespValue): boolean {
  return reply === 1 || reply === true;
}

export function toBooleans(reply: RespValue): boolean[] {
  return (reply as RespValue[]).map(toBoolean);
}

/** An array of 1/0 integers -> booleans (SMISMEMBER, SCRIPT EXISTS...). */
export function toNumbersOrNull(reply: RespValue): (number | null)[] {
  return (reply as RespValue[]).map(toNumberOrNull);
}

export interface ScoredMember<V = string> {
  value: V;
  score: number;
}

/** Flat [m1, s1, m2, s2] (RESP2) or [[m1, s1], ...] (RESP3) -> [{ value, score }]. */
export function toScored(reply: RespValue): ScoredMember[] {
  const items = reply as RespValue[];
  const out: ScoredMember[] = [];
  if (items.length > 0 && Array.isArray(items[0])) {
    for (const pair of items as RespValue[][])
      out.push({ value: pair[0] as string, score: toNumber(pair[1]) });
  } else {
    for (let i = 0; i < items.length; i += 2)
      out.push({ value: items[i] as string, score: toNumber(items[i + 1]) });
  }
  return out;
}

/** "OK" -> true (commands whose only success reply is OK). */
export function isOk(reply: RespValue): boolean {
  return reply === 'OK';
}
