/**
 * Reply shapes shared by command families. RESP2 and RESP3 deliver some replies differently
 * (a flat array vs a map, a bulk string vs a double, [m, s, m, s] vs [[m, s], [m, s]]); these
 * give one JS shape for both.
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

/** textOf, keeping null: for replies that are always text (ids, names, encodings). */
export function textOrNull(v: RespValue): string | null {
  return v === null ? null : textOf(v);
}

/**
 * Sets `obj[key] = value` the way the readers build RESP3 maps: a plain object, with a key
 * named `__proto__` as an own property (not the prototype setter).
 */
export function setEntry<V>(obj: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/**
 * Flat [k1, v1, k2, v2] (RESP2) or a map (RESP3) -> a plain object, the same object the
 * readers build for a RESP3 map (so both protocols give deep-equal results).
 */
export function toObject(reply: RespValue): Record<string, RespValue> {
  if (Array.isArray(reply)) {
    const out: Record<string, RespValue> = {};
    for (let i = 0; i < reply.length; i += 2) setEntry(out, textOf(reply[i]), reply[i + 1]);
    return out;
  }
  if (reply instanceof Map) {
    const out: Record<string, RespValue> = {};
    for (const [k, v] of reply) setEntry(out, textOf(k), v);
    return out;
  }
  return (reply ?? {}) as Record<string, RespValue>;
}

/** toObject with every value as text (field -> value of a hash, CONFIG GET, ...). */
export function toStringRecord(reply: RespValue): Record<string, string> {
  return toObject(reply) as Record<string, string>;
}

/**
 * A double as Redis writes it in a RESP2 bulk string (`1.5`, `inf`, `-inf`), or already a
 * number (RESP3 double, integer).
 */
export function toNumber(reply: RespValue): number {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'bigint') return Number(reply);
  const s = textOf(reply);
  const n = Number(s);
  if (!Number.isNaN(n)) return n;
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  return n;
}

/** A bulk string (RESP2) or double (RESP3) score -> number; null stays null. */
export function toNumberOrNull(reply: RespValue): number | null {
  return reply === null ? null : toNumber(reply);
}

/** An array of scores (ZMSCORE): numbers, null for absent members. */
export function toNumbersOrNull(reply: RespValue): (number | null)[] {
  return (reply as RespValue[]).map(toNumberOrNull);
}

/** 1/0 integer or RESP3 boolean -> boolean. */
export function toBoolean(reply: RespValue): boolean {
  return reply === 1 || reply === true;
}

/** An array of 1/0 integers -> booleans (SMISMEMBER, SCRIPT EXISTS, ...). */
export function toBooleans(reply: RespValue): boolean[] {
  return (reply as RespValue[]).map(toBoolean);
}

export interface ScoredMember<V = string> {
  value: V;
  score: number;
}

/**
 * Scored members -> [{ value, score }]: flat [m1, s1, m2, s2] (RESP2, and RESP3 for a single
 * ZPOPMIN or ZSCAN) or pairs [[m1, s1], ...] (RESP3).
 */
export function toScored(reply: RespValue): ScoredMember[] {
  const items = (reply ?? []) as RespValue[];
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

/**
 * Flat [a1, b1, a2, b2] (RESP2) or pairs [[a1, b1], ...] (RESP3) -> [[a1, b1], ...]
 * (HRANDFIELD WITHVALUES and other replies whose RESP3 form nests pairs).
 */
export function toPairs(reply: RespValue): [RespValue, RespValue][] {
  const items = (reply ?? []) as RespValue[];
  if (items.length > 0 && Array.isArray(items[0])) return items as [RespValue, RespValue][];
  const out: [RespValue, RespValue][] = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}

/** `last-delivered-id` -> `lastDeliveredId`, `radix_tree_keys` -> `radixTreeKeys`. */
export function camelCase(name: string): string {
  return name.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** toObject with camelCase keys (XINFO, FUNCTION STATS, ...). */
export function toCamelObject(reply: RespValue): Record<string, RespValue> {
  const src = toObject(reply);
  const out: Record<string, RespValue> = {};
  for (const k of Object.keys(src)) setEntry(out, camelCase(k), src[k]);
  return out;
}

/** "OK" -> true (commands whose only success reply is OK). */
export function isOk(reply: RespValue): boolean {
  return reply === 'OK';
}
