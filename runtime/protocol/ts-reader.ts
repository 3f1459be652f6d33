/**
 * The pure-TypeScript RESP2/RESP3 reader: the fallback when the native addon is missing
 * (CYREDIS_NATIVE=0 forces it). It mirrors the native reader, which is hiredis 1.2.0's reader
 * plus our attribute/blob-error patch: same values, same limits, same error messages, at the
 * same feed() call. The differential fuzz in test/protocol holds the two together.
 *
 * Parsing is resumable: aggregates under construction live on an explicit stack, so a reply
 * split over many chunks is never re-parsed, and a long bulk waits in a chunk list until its
 * last byte arrives (one concat, not one per chunk).
 */
import { ProtocolError, ReplyError } from '../errors.js';
import { AttributedReply, PushMessage } from './types.js';
import type { ReaderImpl, ResolvedReaderOptions, RespValue } from './types.js';

const CR = 13;
const LF = 10;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN_ABS = 2n ** 63n;
const SIZE_MAX = 2n ** 64n - 1n;

type Aggregate = '*' | '%' | '~' | '>' | '|';

interface Frame {
  type: Aggregate;
  remaining: number; // elements still to read (maps and attributes: 2 x pairs)
  items: RespValue[];
  attrs: RespValue[] | null; // attributes waiting for the next element of this frame
}

/** Escapes a byte as hiredis's chrtos() does, for "got %s as reply type byte". */
function describeByte(byte: number): string {
  switch (byte) {
    case 0x5c:
    case 0x22:
      return `"\\${String.fromCharCode(byte)}"`;
    case LF:
      return '"\\n"';
    case CR:
      return '"\\r"';
    case 9:
      return '"\\t"';
    case 7:
      return '"\\a"';
    case 8:
      return '"\\b"';
    default:
      return byte >= 0x20 && byte < 0x7f
        ? `"${String.fromCharCode(byte)}"`
        : `"\\x${byte.toString(16).padStart(2, '0')}"`;
  }
}

/** hiredis string2ll(): strict decimal, optional '-', no leading zeros, within long long. */
function string2ll(s: string): bigint | null {
  if (s === '0') return 0n;
  if (!/^-?[1-9][0-9]*$/.test(s)) return null;
  if (s.length > 20) return null;
  const v = BigInt(s);
  if (v > LLONG_MAX || -v > LLONG_MIN_ABS) return null;
  return v;
}

/** Like string2ll for lengths, with a fast path for the short numbers that are the norm. */
function parseCount(s: string): number | bigint | null {
  if (s.length > 0 && s.length < 16) {
    if (s === '0' || s === '-1') return Number(s);
    if (/^-?[1-9][0-9]*$/.test(s)) return Number(s);
    return null;
  }
  return string2ll(s);
}

const HEX_FLOAT = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?$/;
const DEC_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function parseHexFloat(s: string): number {
  const negative = s[0] === '-';
  const body = s.replace(/^[+-]?0[xX]/, '');
  const [mant = '', exp = '0'] = body.split(/[pP]/);
  const [int = '', frac = ''] = mant.split('.');
  let value = 0;
  for (const c of int) value = value * 16 + parseInt(c, 16);
  let scale = 1 / 16;
  for (const c of frac) {
    value += parseInt(c, 16) * scale;
    scale /= 16;
  }
  value *= 2 ** Number(exp);
  return negative ? -value : value;
}

/** hiredis's double rules: inf/-inf/nan/-nan (any case), else all of the line must be a finite
 *  strtod() number (which skips leading whitespace and accepts hex floats). */
function parseDouble(line: string): number | null {
  if (line.length >= 326) return null;
  const lower = line.toLowerCase();
  if (lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan' || lower === '-nan') return NaN;
  const s = line.replace(/^[ \t\n\v\f\r]+/, '');
  let value: number;
  if (DEC_FLOAT.test(s)) value = Number(s);
  else if (HEX_FLOAT.test(s)) value = parseHexFloat(s);
  else return null;
  return Number.isFinite(value) ? value : null;
}

function bignum(s: string): bigint {
  const negative = s[0] === '-';
  const digits = negative ? s.slice(1) : s;
  const v = digits ? BigInt(digits) : 0n;
  return negative ? -v : v;
}

export class TsReader implements ReaderImpl {
  readonly #o: ResolvedReaderOptions;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #waiting: Buffer[] = []; // chunks held while a bulk is incomplete
  #waitingLen = 0;
  #need = 0; // total bytes from #pos that the incomplete bulk needs
  #stack: Frame[] = [];
  #rootAttrs: RespValue[] | null = null;
  #fed = 0;
  #replyEnd = 0;
  #error: ProtocolError | null = null;

  constructor(options: ResolvedReaderOptions) {
    this.#o = options;
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
    this.#waiting = [];
    this.#waitingLen = this.#need = 0;
    this.#stack = [];
    this.#rootAttrs = null;
    this.#fed = this.#replyEnd = 0;
    this.#error = null;
  }

  feed(chunk: Uint8Array): RespValue[] {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return [];
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.#fed += bytes.length;
    const out: RespValue[] = [];
    try {
      if (this.#need > 0) {
        this.#waiting.push(bytes);
        this.#waitingLen += bytes.length;
        if (this.#waitingLen - this.#pos < this.#need) {
          this.#checkBuffered();
          return out;
        }
        this.#buf = Buffer.concat(this.#waiting, this.#waitingLen);
        this.#waiting = [];
        this.#need = 0;
      } else if (this.#pos < this.#buf.length) {
        this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), bytes]);
        this.#pos = 0;
      } else {
        this.#buf = bytes;
        this.#pos = 0;
      }
      this.#parse(out);
      this.#checkBuffered();
    } catch (err) {
      if (err instanceof ProtocolError) this.#fail(err);
      throw err;
    }
    return out;
  }

  #fail(err: ProtocolError): void {
    this.#error = err;
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
    this.#waiting = [];
    this.#stack = [];
  }

  #checkBuffered(): void {
    if (this.#fed - this.#replyEnd > this.#o.maxBufferedBytes) {
      throw new ProtocolError(
        `Incomplete reply exceeds maxBufferedBytes (${this.#o.maxBufferedBytes})`,
      );
    }
  }

  /** Index of the first "\r\n" at or after `from`, or -1. */
  #lineEnd(from: number): number {
    return this.#buf.indexOf('\r\n', from, 'latin1');
  }

  #parse(out: RespValue[]): void {
    const buf = this.#buf;
    while (this.#pos < buf.length) {
      const start = this.#pos;
      const type = buf[start];
      let value: RespValue;
      switch (type) {
        case 0x2b /* + */:
        case 0x2d /* - */:
        case 0x3a /* : */:
        case 0x2c /* , */:
        case 0x5f /* _ */:
        case 0x23 /* # */:
        case 0x28 /* ( */: {
          const end = this.#lineEnd(start + 1);
          if (end === -1) return;
          value = this.#lineValue(type, start + 1, end);
          this.#pos = end + 2;
          break;
        }
        case 0x24 /* $ */:
        case 0x3d /* = */:
        case 0x21 /* ! */: {
          const end = this.#lineEnd(start + 1);
          if (end === -1) return;
          const len = parseCount(buf.toString('latin1', start + 1, end));
          if (len === null) throw new ProtocolError('Bad bulk string length');
          if (len < -1 || len > SIZE_MAX)
            throw new ProtocolError('Bulk string length out of range');
          if (len === -1) {
            value = null;
            this.#pos = end + 2;
            break;
          }
          if (len > this.#o.maxBulkLength) {
            throw new ProtocolError(
              `Bulk string length exceeds maxBulkLength (${this.#o.maxBulkLength})`,
            );
          }
          const n = Number(len);
          const dataEnd = end + 2 + n;
          if (dataEnd + 2 > buf.length) {
            // Wait for the rest of the bulk without re-parsing: keep the bytes from this reply's
            // item on, and concat once when all arrived.
            this.#need = dataEnd + 2 - start;
            this.#waiting = [buf.subarray(start)];
            this.#waitingLen = buf.length - start;
            this.#pos = 0;
            return;
          }
          if (type === 0x3d && (n < 4 || buf[end + 2 + 3] !== 0x3a)) {
            throw new ProtocolError(
              'Verbatim string 4 bytes of content type are missing or incorrectly encoded.',
            );
          }
          value = this.#bulkValue(type, type === 0x3d ? end + 6 : end + 2, dataEnd);
          this.#pos = dataEnd + 2; // like hiredis, the two bytes after the payload are skipped
          break;
        }
        case 0x2a /* * */:
        case 0x25 /* % */:
        case 0x7e /* ~ */:
        case 0x3e /* > */:
        case 0x7c /* | */: {
          const end = this.#lineEnd(start + 1);
          if (end === -1) return;
          const count = parseCount(buf.toString('latin1', start + 1, end));
          if (count === null) throw new ProtocolError('Bad multi-bulk length');
          if (count < -1 || count > SIZE_MAX)
            throw new ProtocolError('Multi-bulk length out of range');
          this.#pos = end + 2;
          const kind = String.fromCharCode(type) as Aggregate;
          if (count === -1) {
            if (kind === '|') continue; // a nil attribute annotates nothing
            value = null;
            break;
          }
          if (this.#stack.length + 1 > this.#o.maxDepth) {
            throw new ProtocolError(`Reply nesting exceeds maxDepth (${this.#o.maxDepth})`);
          }
          if (count > this.#o.maxAggregateLength) {
            throw new ProtocolError(
              `Aggregate length exceeds maxAggregateLength (${this.#o.maxAggregateLength})`,
            );
          }
          const elements = Number(count) * (kind === '%' || kind === '|' ? 2 : 1);
          if (elements === 0) {
            value = this.#finish(kind, []);
            if (kind === '|') {
              this.#addAttr(value);
              continue;
            }
            break;
          }
          this.#stack.push({ type: kind, remaining: elements, items: [], attrs: null });
          continue;
        }
        default:
          throw new ProtocolError(`Protocol error, got ${describeByte(type)} as reply type byte`);
      }
      this.#complete(value, out);
    }
  }

  #lineValue(type: number, from: number, to: number): RespValue {
    const buf = this.#buf;
    switch (type) {
      case 0x3a: {
        const n = parseCount(buf.toString('latin1', from, to));
        if (n === null) throw new ProtocolError('Bad integer value');
        if (typeof n === 'number') return n;
        return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
      }
      case 0x2c: {
        const d = parseDouble(buf.toString('latin1', from, to));
        if (d === null) {
          throw new ProtocolError(
            to - from >= 326 ? 'Double value is too large' : 'Bad double value',
          );
        }
        return d;
      }
      case 0x5f:
        if (to !== from) throw new ProtocolError('Bad nil value');
        return null;
      case 0x23: {
        const c = buf[from];
        if (to - from !== 1 || (c !== 0x74 && c !== 0x54 && c !== 0x66 && c !== 0x46)) {
          throw new ProtocolError('Bad bool value');
        }
        return c === 0x74 || c === 0x54;
      }
      case 0x28: {
        const s = buf.toString('latin1', from, to);
        if (!/^-?[0-9]*$/.test(s)) throw new ProtocolError('Bad bignum value');
        return bignum(s);
      }
      default: {
        for (let i = from; i < to; i++) {
          if (buf[i] === CR || buf[i] === LF) throw new ProtocolError('Bad simple string value');
        }
        const s = buf.toString('utf8', from, to);
        return type === 0x2d ? new ReplyError(s) : s;
      }
    }
  }

  #bulkValue(type: number, from: number, to: number): RespValue {
    if (type === 0x21) return new ReplyError(this.#buf.toString('utf8', from, to));
    if (this.#o.returnBuffers) return Buffer.from(this.#buf.subarray(from, to));
    return this.#buf.toString('utf8', from, to);
  }

  #finish(kind: Aggregate, items: RespValue[]): RespValue {
    switch (kind) {
      case '*':
      case '~':
        return items;
      case '>':
        return new PushMessage(items);
      default:
        return this.#map(items);
    }
  }

  #map(items: RespValue[]): RespValue {
    if (this.#o.mapAsMap) {
      const map = new Map<RespValue, RespValue>();
      for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
      return map;
    }
    const obj: { [key: string]: RespValue } = {};
    for (let i = 0; i < items.length; i += 2) {
      // Same coercion as a JS property key (and the native reader's napi_coerce_to_string).
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      const key = String(items[i]);
      if (key === '__proto__') {
        Object.defineProperty(obj, key, {
          value: items[i + 1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        obj[key] = items[i + 1]!;
      }
    }
    return obj;
  }

  #addAttr(attr: RespValue): void {
    const top = this.#stack[this.#stack.length - 1];
    if (top) (top.attrs ??= []).push(attr);
    else (this.#rootAttrs ??= []).push(attr);
  }

  /** Attaches a finished value to its parent, closing every aggregate it completes. */
  #complete(value: RespValue, out: RespValue[]): void {
    for (;;) {
      const top = this.#stack[this.#stack.length - 1];
      const attrs = top ? top.attrs : this.#rootAttrs;
      if (attrs) {
        if (this.#o.attributes) {
          for (let k = attrs.length - 1; k >= 0; k--) {
            value = new AttributedReply(attrs[k] as AttributedReply['attributes'], value);
          }
        }
        if (top) top.attrs = null;
        else this.#rootAttrs = null;
      }
      if (!top) {
        out.push(value);
        this.#replyEnd = this.#fed - (this.#buf.length - this.#pos);
        return;
      }
      top.items.push(value);
      if (--top.remaining > 0) return;
      this.#stack.pop();
      value = this.#finish(top.type, top.items);
      if (top.type === '|') {
        this.#addAttr(value);
        return;
      }
    }
  }
}
