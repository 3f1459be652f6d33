/**
 * The pure-TypeScript RESP2/RESP3 reader: the fallback when the native addon is missing
 * (CYREDIS_NATIVE=0 forces it). It mirrors the native reader, which is hiredis 1.2.0's reader
 * plus our attribute/blob-error patch: same values, same limits, same error messages, at the
 * same feed() call. The differential fuzz in test/protocol holds the two together.
 *
 * Parsing is resumable: aggregates under construction live on an explicit stack, so a reply
 * split over many chunks is never re-parsed, and a long bulk is collected in one growing
 * store, then parsed once its last byte arrived.
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
/** V8's longest string (characters); fewer UTF-8 bytes always fit. */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

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

/** string2ll() over the bytes [from, to): a number when it has at most 15 digits (always
 *  exact), else through BigInt; null when hiredis would reject it. */
function parseInteger(buf: Buffer, from: number, to: number): number | bigint | null {
  const negative = buf[from] === 0x2d;
  const first = negative ? from + 1 : from;
  const digits = to - first;
  if (digits <= 0) return null;
  if (digits > 15) return string2ll(buf.toString('latin1', from, to));
  let d = buf[first] - 0x30;
  if (d === 0) return digits === 1 && !negative ? 0 : null; // no leading zeros, no "-0"
  if (d < 0 || d > 9) return null;
  let v = d;
  for (let i = first + 1; i < to; i++) {
    d = buf[i] - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

const HEX_FLOAT = /^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?$/;
const HEX_PARTS = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?$/;
const DEC_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A hex float as glibc's strtod() reads it: exact digits, rounded once to the nearest double
 *  (ties to even), subnormals included. Infinity when it overflows (the caller rejects that). */
function parseHexFloat(s: string): number {
  const [, sign, int = '', frac = '', exp = '0'] = HEX_PARTS.exec(s)!;
  const digits = (int + frac).replace(/^0+/, '');
  const zero = sign === '-' ? -0 : 0;
  if (digits === '') return zero;
  let mant = BigInt(`0x${digits}`);
  let shift = Number(exp) - 4 * frac.length; // value = mant * 2^shift
  const bits = mant.toString(2).length;
  const top = bits - 1 + shift; // value is in [2^top, 2^(top + 1))
  if (top > 1023) return sign === '-' ? -Infinity : Infinity;
  const keep = top < -1022 ? 53 - (-1022 - top) : 53; // subnormals keep fewer bits
  if (keep < 0) return zero; // below half the smallest subnormal
  const drop = bits - keep;
  if (drop > 0) {
    const rest = mant & ((1n << BigInt(drop)) - 1n);
    const half = 1n << BigInt(drop - 1);
    mant >>= BigInt(drop);
    if (rest > half || (rest === half && (mant & 1n) === 1n)) mant += 1n;
    shift += drop;
  }
  const value = Number(mant) * 2 ** shift; // exact: mant has at most 54 bits
  return sign === '-' ? -value : value;
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

const EMPTY = Buffer.alloc(0);
/** A pending bulk up to this size gets all its room at once; a larger one grows by doubling,
 *  so a header alone never makes us allocate more than twice what actually arrived. */
const EAGER_RESERVE = 1024 * 1024;
/** An empty store larger than this is released (hiredis frees an idle buffer over 16 KiB). */
const KEEP_STORE = 64 * 1024;

export class TsReader implements ReaderImpl {
  readonly #o: ResolvedReaderOptions;
  // Bytes not yet parsed stay in #store[0, #held): the caller's chunk is parsed in place and
  // never referenced after feed() returns (a socket may reuse its read buffer).
  #store: Buffer = EMPTY;
  #held = 0;
  #need = 0; // bytes from #store[0] that the pending bulk needs before parsing resumes
  #buf: Buffer = EMPTY; // what #parse reads: the caller's chunk or a view of #store
  #pos = 0;
  #stack: Frame[] = [];
  #rootAttrs: RespValue[] | null = null;
  #fed = 0; // bytes fed since the last reset()
  #replyEnd = 0; // value of #fed at the end of the last complete reply
  #error: ProtocolError | null = null;
  #modes: { count: number; buffers: boolean }[] = []; // announced by expect(), oldest first
  #buffers = false; // the mode of the root reply being read
  #modeTaken = false; // the root reply being read has taken its mode

  constructor(options: ResolvedReaderOptions) {
    this.#o = options;
  }

  /** The next `count` replies (push frames aside) decode bulk strings as Buffers or not. */
  expect(count: number, returnBuffers: boolean): void {
    if (count <= 0) return;
    const last = this.#modes[this.#modes.length - 1];
    if (last && last.buffers === returnBuffers) last.count += count;
    else this.#modes.push({ count, buffers: returnBuffers });
  }

  /** The mode of a root reply starting with `type`: a push frame answers no command. */
  #takeMode(type: number): boolean {
    const run = this.#modes[0];
    if (type === 0x3e /* > */ || run === undefined) return this.#o.returnBuffers;
    if (--run.count === 0) this.#modes.shift();
    return run.buffers;
  }

  reset(): void {
    this.#modes = [];
    this.#modeTaken = false;
    this.#store = this.#buf = EMPTY;
    this.#held = this.#need = this.#pos = 0;
    this.#stack = [];
    this.#rootAttrs = null;
    this.#fed = this.#replyEnd = 0;
    this.#error = null;
  }

  feed(chunk: Uint8Array): RespValue[] {
    if (this.#error) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError('chunk must be a Buffer or Uint8Array'); // as the native reader says
    }
    if (chunk.length === 0) return [];
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.#fed += bytes.length;
    const out: RespValue[] = [];
    try {
      if (this.#held === 0) {
        this.#buf = bytes;
      } else {
        this.#append(bytes);
        if (this.#held < this.#need) {
          this.#checkBuffered();
          return out;
        }
        this.#buf = this.#store.subarray(0, this.#held);
      }
      this.#need = this.#pos = 0;
      this.#parse(out);
      this.#keepRest();
      this.#checkBuffered();
    } catch (err) {
      if (err instanceof ProtocolError) this.#fail(err);
      throw err;
    }
    return out;
  }

  /** Moves what #parse left unparsed to the front of #store. */
  #keepRest(): void {
    const rest = this.#buf.length - this.#pos;
    if (rest === 0) {
      this.#held = 0;
      if (this.#store.length > KEEP_STORE) this.#store = EMPTY;
    } else if (
      this.#buf.buffer === this.#store.buffer &&
      this.#buf.byteOffset === this.#store.byteOffset
    ) {
      this.#store.copyWithin(0, this.#pos, this.#buf.length);
      this.#held = rest;
    } else {
      this.#held = 0;
      this.#append(this.#buf.subarray(this.#pos));
    }
    this.#buf = EMPTY;
    this.#pos = 0;
  }

  #append(bytes: Buffer): void {
    const n = this.#held + bytes.length;
    if (n > this.#store.length) {
      let size = Math.max(n, 2 * this.#store.length, 4096);
      if (this.#need > n) {
        size = this.#need <= EAGER_RESERVE ? this.#need : Math.min(size, this.#need);
      }
      const grown = Buffer.allocUnsafe(size);
      this.#store.copy(grown, 0, 0, this.#held);
      this.#store = grown;
    }
    bytes.copy(this.#store, this.#held);
    this.#held = n;
  }

  #fail(err: ProtocolError): void {
    this.#error = err;
    this.#store = this.#buf = EMPTY;
    this.#held = this.#need = this.#pos = 0;
    this.#stack = [];
    this.#rootAttrs = null;
  }

  #checkBuffered(): void {
    if (this.#fed - this.#replyEnd > this.#o.maxBufferedBytes) {
      throw new ProtocolError(
        `Incomplete reply exceeds maxBufferedBytes (${this.#o.maxBufferedBytes})`,
      );
    }
  }

  #bulkTooLong(): ProtocolError {
    return new ProtocolError(`Bulk string length exceeds maxBulkLength (${this.#o.maxBulkLength})`);
  }

  /** Index of the first "\r\n" at or after `from`, or -1. Most lines are short: a JS loop
   *  finds their end without a native call; a long one is searched with indexOf (memchr). */
  #lineEnd(from: number): number {
    const buf = this.#buf;
    const last = buf.length - 1;
    const scan = Math.min(last, from + 32);
    let i = from;
    for (; i < scan; i++) {
      if (buf[i] === CR && buf[i + 1] === LF) return i;
    }
    while (i < last) {
      i = buf.indexOf(CR, i);
      if (i === -1 || i === last) return -1;
      if (buf[i + 1] === LF) return i;
      i++;
    }
    return -1;
  }

  #parse(out: RespValue[]): void {
    const buf = this.#buf;
    while (this.#pos < buf.length) {
      const start = this.#pos;
      const type = buf[start];
      if (!this.#modeTaken && this.#stack.length === 0) {
        this.#buffers = this.#takeMode(type);
        this.#modeTaken = true;
      }
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
          const len = parseInteger(buf, start + 1, end);
          if (len === null) throw new ProtocolError('Bad bulk string length');
          if (len < -1 || len > SIZE_MAX)
            throw new ProtocolError('Bulk string length out of range');
          if (len === -1) {
            value = null;
            this.#pos = end + 2;
            break;
          }
          const tooLong = len > this.#o.maxBulkLength;
          const n = Number(len);
          const dataEnd = end + 2 + n;
          if (dataEnd + 2 > buf.length) {
            // Refuse a bulk over the limit as soon as its header is readable, before its
            // payload is held. Otherwise wait for all of it without re-parsing: the bytes from
            // this item on are kept (#keepRest) and parsing resumes once #need of them arrived.
            if (tooLong) throw this.#bulkTooLong();
            this.#need = dataEnd + 2 - start;
            return;
          }
          // A bulk complete in hand is checked in hiredis's order: the verbatim prefix first,
          // then the length (our createString callback refuses it).
          if (type === 0x3d && (n < 4 || buf[end + 2 + 3] !== 0x3a)) {
            throw new ProtocolError(
              'Verbatim string 4 bytes of content type are missing or incorrectly encoded.',
            );
          }
          if (tooLong) throw this.#bulkTooLong();
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
          const count = parseInteger(buf, start + 1, end);
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
        const n = parseInteger(buf, from, to);
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
        const s = this.#text(from, to);
        return type === 0x2d ? new ReplyError(s) : s;
      }
    }
  }

  #bulkValue(type: number, from: number, to: number): RespValue {
    if (type === 0x21) return new ReplyError(this.#text(from, to));
    if (this.#buffers) return Buffer.from(this.#buf.subarray(from, to));
    return this.#text(from, to);
  }

  /** The bytes as a string. V8 caps strings at 2^29 - 24 characters; a reply over that is lost,
   *  so the stream cannot go on: a sticky error, worded as the native reader words it. */
  #text(from: number, to: number): string {
    if (to - from < MAX_STRING_LENGTH) return this.#buf.toString('utf8', from, to);
    try {
      return this.#buf.toString('utf8', from, to);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_STRING_TOO_LONG') throw err;
      throw new ProtocolError(
        `Reply string of ${to - from} bytes is too long for a JavaScript string`,
      );
    }
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
    const n = this.#stack.length;
    const top = n > 0 ? this.#stack[n - 1] : undefined;
    if (top) (top.attrs ??= []).push(attr);
    else (this.#rootAttrs ??= []).push(attr);
  }

  /** Attaches a finished value to its parent, closing every aggregate it completes. */
  #complete(value: RespValue, out: RespValue[]): void {
    const stack = this.#stack;
    for (;;) {
      // (no stack[-1] read when empty: an out-of-bounds load is a slow path in V8)
      const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
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
        this.#modeTaken = false;
        this.#replyEnd = this.#fed - (this.#buf.length - this.#pos);
        return;
      }
      top.items.push(value);
      if (--top.remaining > 0) return;
      stack.pop();
      value = this.#finish(top.type, top.items);
      if (top.type === '|') {
        this.#addAttr(value);
        return;
      }
    }
  }
}
