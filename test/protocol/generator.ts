/**
 * Random RESP2/RESP3 reply trees for the differential fuzz: each tree knows its RESP bytes and,
 * for given reader options, the value a reader must return (the table in types.ts, computed
 * here independently of both readers).
 */
import { AttributedReply, PushMessage, ReplyError } from '../../runtime/protocol/index.js';
import type {
  ReaderImplementation,
  ReaderOptions,
  RespValue,
} from '../../runtime/protocol/index.js';
import { decode, diff, prng } from './helpers.js';

type Pair = [Node, Node];

/** One reply (or element); `attrs` are attribute maps read before it (outermost first). */
export type Node = (
  | { t: '+' | '-'; text: string }
  | { t: '$' | '!'; bytes: Buffer }
  | { t: '='; format: string; bytes: Buffer }
  | { t: ':' | '('; value: bigint }
  | { t: ','; text: string; value: number }
  | { t: '#'; text: 't' | 'T' | 'f' | 'F' }
  | { t: 'nil'; text: string }
  | { t: '*' | '~' | '>'; items: Node[] }
  | { t: '%'; pairs: Pair[] }
) & { attrs?: (Pair[] | null)[] }; // null: a `|-1` nil attribute

/** Resolved view of the three options that change values. */
interface Shape {
  returnBuffers: boolean;
  mapAsMap: boolean;
  attributes: boolean;
}

const CRLF = Buffer.from('\r\n');
const NILS = ['_', '$-1', '*-1', '%-1', '~-1', '>-1', '=-1', '!-1'];
const LLONG_MAX = 2n ** 63n - 1n;

/** Appends the RESP encoding of a node to `out`. */
export function encode(node: Node, out: Buffer[]): void {
  for (const a of node.attrs ?? []) {
    if (a === null) {
      out.push(Buffer.from('|-1\r\n'));
      continue;
    }
    out.push(Buffer.from(`|${a.length}\r\n`));
    encodePairs(a, out);
  }
  switch (node.t) {
    case '+':
    case '-':
      out.push(Buffer.from(`${node.t}${node.text}\r\n`));
      return;
    case '$':
    case '!':
      out.push(Buffer.from(`${node.t}${node.bytes.length}\r\n`), node.bytes, CRLF);
      return;
    case '=':
      out.push(Buffer.from(`=${node.bytes.length + 4}\r\n${node.format}:`), node.bytes, CRLF);
      return;
    case ':':
    case '(':
      out.push(Buffer.from(`${node.t}${node.value}\r\n`));
      return;
    case ',':
    case 'nil':
      out.push(Buffer.from(`${node.t === 'nil' ? '' : ','}${node.text}\r\n`));
      return;
    case '#':
      out.push(Buffer.from(`#${node.text}\r\n`));
      return;
    case '%':
      out.push(Buffer.from(`%${node.pairs.length}\r\n`));
      encodePairs(node.pairs, out);
      return;
    default:
      out.push(Buffer.from(`${node.t}${node.items.length}\r\n`));
      for (const item of node.items) encode(item, out);
  }
}

function encodePairs(pairs: Pair[], out: Buffer[]): void {
  for (const [k, v] of pairs) {
    encode(k, out);
    encode(v, out);
  }
}

export function encodeAll(nodes: Node[]): Buffer {
  const out: Buffer[] = [];
  for (const n of nodes) encode(n, out);
  return Buffer.concat(out);
}

export function shapeOf(options: ReaderOptions): Shape {
  return {
    returnBuffers: options.returnBuffers ?? false,
    mapAsMap: options.mapAsMap ?? false,
    attributes: options.attributes ?? false,
  };
}

function expectMap(pairs: Pair[], shape: Shape): RespValue {
  if (shape.mapAsMap) {
    const map = new Map<RespValue, RespValue>();
    for (const [k, v] of pairs) map.set(expected(k, shape), expected(v, shape));
    return map;
  }
  const obj: { [key: string]: RespValue } = {};
  for (const [k, v] of pairs) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a JS property key
    const key = String(expected(k, shape));
    const value = expected(v, shape);
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return obj;
}

/** The value a reader with these options returns for the node. */
export function expected(node: Node, shape: Shape): RespValue {
  let value: RespValue;
  switch (node.t) {
    case '+':
      value = node.text;
      break;
    case '-':
      value = new ReplyError(node.text);
      break;
    case '!':
      value = new ReplyError(node.bytes.toString('utf8'));
      break;
    case '$':
    case '=':
      value = shape.returnBuffers ? Buffer.from(node.bytes) : node.bytes.toString('utf8');
      break;
    case ':':
      value =
        node.value >= -(2n ** 53n - 1n) && node.value <= 2n ** 53n - 1n
          ? Number(node.value)
          : node.value;
      break;
    case '(':
      value = node.value;
      break;
    case ',':
      value = node.value;
      break;
    case '#':
      value = node.text === 't' || node.text === 'T';
      break;
    case 'nil':
      value = null;
      break;
    case '%':
      value = expectMap(node.pairs, shape);
      break;
    case '>':
      value = new PushMessage(node.items.map((n) => expected(n, shape)));
      break;
    default:
      value = node.items.map((n) => expected(n, shape));
  }
  if (shape.attributes && node.attrs) {
    for (let i = node.attrs.length - 1; i >= 0; i--) {
      const a = node.attrs[i];
      if (a)
        value = new AttributedReply(expectMap(a, shape) as AttributedReply['attributes'], value);
    }
  }
  return value;
}

/** Exact hex-float text of a finite double (what strtod must read back bit for bit). */
function hexFloat(v: number, rand: () => number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? '-' : '';
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (
    (hi & 0xfffff).toString(16).padStart(5, '0') + lo.toString(16).padStart(8, '0')
  ).replace(/0+$/, '');
  const x = rand() < 0.5 ? 'x' : 'X';
  const lead = biased === 0 ? '0' : '1';
  const exp = biased === 0 ? -1022 : biased - 1023;
  return `${sign}0${x}${lead}${frac ? `.${frac}` : ''}p${exp}`;
}

/**
 * A seeded tree generator. `budget` bounds the number of nodes per tree; options tune the
 * share of RESP2-only trees, deep chains and huge bulks.
 */
export class TreeGenerator {
  readonly #rand: () => number;
  #budget = 0;

  constructor(seed: number) {
    this.#rand = prng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #chance(p: number): boolean {
    return this.#rand() < p;
  }

  #pick<T>(items: readonly T[]): T {
    return items[this.#int(items.length)];
  }

  /** A string of random code points (no surrogates), sometimes ASCII only. */
  #text(maxLen: number, noCrlf: boolean): string {
    const len = this.#int(maxLen + 1);
    let s = '';
    for (let i = 0; i < len; i++) {
      const r = this.#rand();
      let cp: number;
      if (r < 0.7) cp = 0x20 + this.#int(0x5f);
      else if (r < 0.85) cp = 0x80 + this.#int(0x780);
      else if (r < 0.95) cp = 0x800 + this.#int(0xd000 - 0x800);
      else cp = 0x10000 + this.#int(0x100000 - 0x10000);
      s += String.fromCodePoint(cp);
    }
    return noCrlf ? s : s.replace(/x/g, '\r\n'); // bulks may hold CRLFs
  }

  #bytes(): Buffer {
    const r = this.#rand();
    if (r < 0.1) return Buffer.alloc(0);
    if (r < 0.1003) {
      // a huge bulk: 100 KiB to 1 MiB of a repeating random pattern
      const n = 100 * 1024 + this.#int(924 * 1024);
      const pattern = Buffer.from(Array.from({ length: 251 }, () => this.#int(256)));
      return Buffer.alloc(n, pattern);
    }
    if (r < 0.5) return Buffer.from(this.#text(24, false));
    const out = Buffer.alloc(this.#int(64));
    for (let i = 0; i < out.length; i++) out[i] = this.#int(256);
    return out;
  }

  #integer(): bigint {
    switch (this.#int(5)) {
      case 0:
        return BigInt(this.#int(100)) - 50n;
      case 1:
        return BigInt(Math.floor((this.#rand() - 0.5) * 2 ** 54)); // around the safe range
      case 2:
        return this.#pick([
          2n ** 53n - 1n,
          2n ** 53n,
          -(2n ** 53n - 1n),
          -(2n ** 53n),
          LLONG_MAX,
          -LLONG_MAX - 1n,
        ]);
      case 3: {
        const v = BigInt.asIntN(
          64,
          BigInt(this.#int(2 ** 32)) * 2n ** 32n + BigInt(this.#int(2 ** 32)),
        );
        return v;
      }
      default:
        return BigInt(this.#int(1e9));
    }
  }

  #double(): { text: string; value: number } {
    const r = this.#rand();
    if (r < 0.1) {
      const text = this.#pick(['inf', '-inf', 'nan', '-nan', 'INF', '-Inf', 'NaN', 'NAN']);
      const l = text.toLowerCase();
      return { text, value: l === 'inf' ? Infinity : l === '-inf' ? -Infinity : NaN };
    }
    const v = this.#pick([
      () => (this.#rand() - 0.5) * 10 ** (this.#int(40) - 20),
      () => (this.#rand() - 0.5) * 10 ** (this.#int(600) - 300),
      () => this.#int(1000) - 500,
      () =>
        this.#pick([
          0,
          -0,
          5e-324,
          -5e-324,
          Number.MAX_VALUE,
          Number.MIN_VALUE,
          2.2250738585072014e-308,
        ]),
    ])();
    const text = this.#pick([
      () => String(v),
      () => v.toExponential(this.#int(17)),
      () => v.toExponential().replace('e', 'E'),
      () => (Math.abs(v) < 1e21 ? v.toFixed(this.#int(20)) : String(v)),
      () => v.toPrecision(1 + this.#int(21)),
      () => hexFloat(v, this.#rand),
    ])();
    // Formatting may round (toFixed, toPrecision): the value is what the text says. A hex
    // float is exact, and Number() would not read it.
    if (/x/i.test(text)) return { text, value: v };
    const value = Number(text); // rounding up may overflow: "2e+308" is a protocol error
    return Number.isFinite(value) ? { text, value } : { text: String(v), value: v };
  }

  #attrs(depth: number): (Pair[] | null)[] | undefined {
    if (depth + 2 >= 256 || !this.#chance(0.04)) return undefined;
    return Array.from({ length: 1 + this.#int(3) }, () =>
      this.#chance(0.15) ? null : this.#pairs(depth + 1, this.#int(3)),
    );
  }

  #pairs(depth: number, n: number): Pair[] {
    const pairs: Pair[] = [];
    for (let i = 0; i < n; i++) pairs.push([this.#key(depth), this.#node(depth)]);
    return pairs;
  }

  #key(depth: number): Node {
    const r = this.#rand();
    if (r < 0.05) return { t: '+', text: '__proto__' };
    if (r < 0.08) return { t: '$', bytes: Buffer.from('__proto__') };
    if (r < 0.15) return { t: '+', text: this.#pick(['a', 'b', 'c']) }; // duplicates
    if (r < 0.6) return { t: '+', text: this.#text(12, true) };
    if (r < 0.8) return { t: '$', bytes: this.#bytes().subarray(0, 40) };
    return this.#node(depth);
  }

  /** A node at `depth` enclosing aggregates (attributes included). */
  #node(depth: number, resp2 = false): Node {
    this.#budget--;
    const aggregate = depth < 255 && this.#budget > 0 && this.#chance(depth === 0 ? 0.6 : 0.3);
    let node: Node;
    if (aggregate) {
      const n = this.#chance(0.1) ? 0 : 1 + this.#int(this.#chance(0.1) ? 60 : 6);
      const kind = resp2 ? '*' : this.#pick(['*', '*', '*', '%', '%', '~', '>'] as const);
      if (kind === '%') node = { t: '%', pairs: this.#pairs(depth + 1, n) };
      else node = { t: kind, items: Array.from({ length: n }, () => this.#node(depth + 1, resp2)) };
    } else {
      const kinds = resp2
        ? (['+', '-', ':', '$', '$', 'nil'] as const)
        : (['+', '-', ':', '$', '$', '!', '=', ',', '(', '#', 'nil'] as const);
      const t = this.#pick(kinds);
      switch (t) {
        case '+':
          node = { t, text: this.#text(20, true) };
          break;
        case '-':
          node = {
            t,
            text: `${this.#pick(['ERR', 'WRONGTYPE', 'NOSCRIPT', 'MOVED'])} ${this.#text(20, true)}`,
          };
          break;
        case '$':
        case '!':
          node = { t, bytes: this.#bytes() };
          break;
        case '=':
          node = { t, format: this.#pick(['txt', 'mkd']), bytes: this.#bytes() };
          break;
        case ':':
          node = { t, value: this.#integer() };
          break;
        case '(': {
          const digits = Array.from({ length: 1 + this.#int(60) }, () => this.#int(10)).join('');
          node = { t, value: BigInt(this.#chance(0.5) ? `-${digits}` : digits) };
          break;
        }
        case ',':
          node = { t, ...this.#double() };
          break;
        case '#':
          node = { t, text: this.#pick(['t', 'f', 'T', 'F'] as const) };
          break;
        default:
          node = { t: 'nil', text: resp2 ? this.#pick(['$-1', '*-1']) : this.#pick(NILS) };
      }
    }
    if (!resp2) {
      const attrs = this.#attrs(depth);
      if (attrs) node.attrs = attrs;
    }
    return node;
  }

  /** A chain of single-element aggregates `levels` deep around a random leaf. */
  #deep(levels: number, resp2: boolean): Node {
    this.#budget = 5;
    let node = this.#node(levels, resp2);
    for (let d = levels - 1; d >= 0; d--) {
      const kind = resp2 ? '*' : this.#pick(['*', '~', '%'] as const);
      node =
        kind === '%'
          ? { t: '%', pairs: [[{ t: '+', text: `d${d}` }, node]] }
          : { t: kind, items: [node] };
    }
    return node;
  }

  /** One random reply tree; about one in three is RESP2-only. */
  tree(): Node {
    const resp2 = this.#chance(0.3);
    if (this.#chance(0.02)) return this.#deep(50 + this.#int(200), resp2);
    this.#budget = 1 + this.#int(this.#chance(0.1) ? 400 : 40);
    return this.#node(0, resp2);
  }

  /** Random reader options (the value-shaping flags). */
  options(): ReaderOptions {
    return {
      returnBuffers: this.#chance(0.5),
      mapAsMap: this.#chance(0.5),
      attributes: this.#chance(0.5),
    };
  }

  random(): number {
    return this.#rand();
  }
}

/**
 * Makes a batch of random trees from `seed`, decodes it with one implementation in random
 * chunks and compares with what was encoded. Returns the tree count and the first difference.
 */
export function checkRandomBatch(
  seed: number,
  implementation: ReaderImplementation,
): { trees: number; mismatch: string | null } {
  const gen = new TreeGenerator(seed);
  const nodes = Array.from({ length: 1 + Math.floor(gen.random() * 30) }, () => gen.tree());
  const options = gen.options();
  const got = decode(implementation, options, encodeAll(nodes), { seed, max: 4096 });
  const shape = shapeOf(options);
  const mismatch = got.error
    ? `threw ${String(got.error)}`
    : diff(
        got.values,
        nodes.map((n) => expected(n, shape)),
      );
  return { trees: nodes.length, mismatch: mismatch && `seed ${seed}: ${mismatch}` };
}
