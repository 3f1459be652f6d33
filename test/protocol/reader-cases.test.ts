/**
 * Every RESP2/RESP3 type, decoded per the table in runtime/protocol/types.ts. Each case runs on
 * both readers (native hiredis and the TypeScript twin), twice: the whole input in one feed(),
 * then one byte per feed(). Then all cases sharing options run as one stream cut at random.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AttributedReply,
  PushMessage,
  ReplyError,
  RespReader,
} from '../../runtime/protocol/index.js';
import type { ReaderOptions, RespValue } from '../../runtime/protocol/index.js';
import {
  IMPLEMENTATIONS,
  decode,
  diff,
  noteNativeSkipped,
  obj,
  resp,
  splitName,
} from './helpers.js';
import type { Split } from './helpers.js';

interface Case {
  name: string;
  input: Buffer;
  expect: RespValue[]; // every reply the input holds, in order
  options?: ReaderOptions;
}

const b = (s: string | number[]): Buffer =>
  typeof s === 'string' ? Buffer.from(s) : Buffer.from(s);
const BINARY = Buffer.from([0, 1, 13, 10, 0x7f, 0x80, 0xc3, 0x28, 0xff, 0xfe]);
const attr = (attributes: AttributedReply['attributes'], value: RespValue): AttributedReply =>
  new AttributedReply(attributes, value);
const ATTRS = { attributes: true } as const;

// The example from the RESP3 spec: a reply carrying key-popularity attributes.
const SPEC_ATTRIBUTE = resp(
  '|1',
  '+key-popularity',
  '%2',
  '$1',
  'a',
  ',0.1923',
  '$1',
  'b',
  ',0.0012',
  '*2',
  ':2039123',
  ':9543892',
);
const SPEC_POPULARITY = obj([
  [
    'key-popularity',
    obj([
      ['a', 0.1923],
      ['b', 0.0012],
    ]),
  ],
]);

const cases: Case[] = [
  // simple strings
  { name: 'simple string', input: resp('+OK'), expect: ['OK'] },
  { name: 'empty simple string', input: resp('+'), expect: [''] },
  { name: 'UTF-8 simple string', input: resp('+héllo ✓ 🎉'), expect: ['héllo ✓ 🎉'] },
  { name: 'several replies in one chunk', input: resp('+a', '+b', ':3'), expect: ['a', 'b', 3] },
  // bulk strings
  { name: 'bulk string', input: resp('$5', 'hello'), expect: ['hello'] },
  { name: 'empty bulk string', input: resp('$0', ''), expect: [''] },
  { name: 'bulk string holding CRLF', input: resp('$4', 'a\r\nb'), expect: ['a\r\nb'] },
  { name: 'multi-byte UTF-8 bulk', input: resp('$7', '€a日'), expect: ['€a日'] },
  {
    name: 'binary bulk as string (invalid UTF-8 replaced)',
    input: resp('$10', BINARY),
    expect: [BINARY.toString('utf8')],
  },
  { name: 'bulk of 64 KiB', input: resp('$65536', 'x'.repeat(65536)), expect: ['x'.repeat(65536)] },
  // verbatim strings
  { name: 'verbatim string', input: resp('=15', 'txt:Some string'), expect: ['Some string'] },
  { name: 'empty verbatim string', input: resp('=4', 'txt:'), expect: [''] },
  { name: 'markdown verbatim string', input: resp('=8', 'mkd:# hi'), expect: ['# hi'] },
  // errors are values
  {
    name: 'simple error',
    input: resp('-ERR unknown command'),
    expect: [new ReplyError('ERR unknown command')],
  },
  {
    name: 'WRONGTYPE error',
    input: resp('-WRONGTYPE Operation against a key holding the wrong kind of value'),
    expect: [new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
  },
  { name: 'error without message', input: resp('-NOSCRIPT'), expect: [new ReplyError('NOSCRIPT')] },
  {
    name: 'blob error',
    input: resp('!21', 'SYNTAX invalid syntax'),
    expect: [new ReplyError('SYNTAX invalid syntax')],
  },
  { name: 'empty blob error', input: resp('!0', ''), expect: [new ReplyError('')] },
  {
    name: 'blob error holding CRLF',
    input: resp('!9', 'ERR a\r\nbc'),
    expect: [new ReplyError('ERR a\r\nbc')],
  },
  // integers
  {
    name: 'integers',
    input: resp(':0', ':-1', ':42', ':1000000000000000', ':-999999999999999'),
    expect: [0, -1, 42, 1e15, -999999999999999],
  },
  {
    name: 'integers at the safe-integer edges stay numbers',
    input: resp(':9007199254740991', ':-9007199254740991'),
    expect: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
  },
  {
    name: 'integers past the safe range become bigint',
    input: resp(':9007199254740992', ':-9007199254740992', ':9007199254740993'),
    expect: [2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n],
  },
  {
    name: 'LLONG_MAX and LLONG_MIN',
    input: resp(':9223372036854775807', ':-9223372036854775808'),
    expect: [2n ** 63n - 1n, -(2n ** 63n)],
  },
  // doubles
  {
    name: 'doubles',
    input: resp(',3.14', ',-2.5', ',10', ',0', ',-0', ',.5', ',5.'),
    expect: [3.14, -2.5, 10, 0, -0, 0.5, 5],
  },
  {
    name: 'doubles in exponent form',
    input: resp(',1e10', ',1.5E-3', ',-2.5e+300', ',4.9e-324', ',1e-400'),
    expect: [1e10, 1.5e-3, -2.5e300, 5e-324, 0],
  },
  {
    name: 'inf, -inf and nan',
    input: resp(',inf', ',-inf', ',nan', ',-nan', ',INF', ',-Inf', ',NaN'),
    expect: [Infinity, -Infinity, NaN, NaN, Infinity, -Infinity, NaN],
  },
  {
    name: 'doubles as strtod reads them (leading space, hex float)',
    input: resp(',  1.5', ',0x1p3', ',-0x1.8p1', ',0x100p-1080', ',0x1.fffffffffffff8p0'),
    expect: [1.5, 8, -3, 2 ** -1072, 2],
  },
  // big numbers
  {
    name: 'big numbers',
    input: resp('(3492890328409238509324850943850943825024385', '(-12345678901234567890', '(0'),
    expect: [3492890328409238509324850943850943825024385n, -12345678901234567890n, 0n],
  },
  { name: 'small big number stays bigint', input: resp('(7'), expect: [7n] },
  // booleans
  { name: 'booleans', input: resp('#t', '#f', '#T', '#F'), expect: [true, false, true, false] },
  // nulls
  { name: 'RESP3 null', input: resp('_'), expect: [null] },
  { name: 'RESP2 null bulk', input: resp('$-1'), expect: [null] },
  { name: 'RESP2 null array', input: resp('*-1'), expect: [null] },
  {
    name: 'other nil lengths decode as null',
    input: resp('%-1', '~-1', '>-1', '=-1', '!-1'),
    expect: [null, null, null, null, null],
  },
  // arrays
  { name: 'empty array', input: resp('*0'), expect: [[]] },
  {
    name: 'array of mixed types',
    input: resp('*5', ':1', '$1', 'a', '_', '#t', ',1.5'),
    expect: [[1, 'a', null, true, 1.5]],
  },
  {
    name: 'RESP2 array with null elements',
    input: resp('*3', '$1', 'a', '$-1', '*-1'),
    expect: [['a', null, null]],
  },
  {
    name: 'nested arrays',
    input: resp('*3', '*1', ':1', '*0', '*2', '*1', '+x', '-ERR e'),
    expect: [[[1], [], [['x'], new ReplyError('ERR e')]]],
  },
  {
    name: '100 nested arrays',
    input: resp(...Array.from({ length: 100 }, () => '*1'), ':1'),
    expect: [Array.from({ length: 100 }).reduce<RespValue>((v) => [v], 1)],
  },
  // maps
  { name: 'empty map', input: resp('%0'), expect: [{}] },
  {
    name: 'map as plain object',
    input: resp('%2', '+a', ':1', '$1', 'b', '*1', ':2'),
    expect: [
      obj([
        ['a', 1],
        ['b', [2]],
      ]),
    ],
  },
  {
    name: 'map as Map',
    options: { mapAsMap: true },
    input: resp('%2', '+a', ':1', '$1', 'b', '*1', ':2'),
    expect: [
      new Map<RespValue, RespValue>([
        ['a', 1],
        ['b', [2]],
      ]),
    ],
  },
  {
    name: 'map keys of other types become strings',
    input: resp(
      '%6',
      ':1',
      '+int',
      '#t',
      '+bool',
      '_',
      '+null',
      ',1.5',
      '+dbl',
      '*2',
      '+a',
      '+b',
      '+arr',
      '(9',
      '+big',
    ),
    expect: [
      obj([
        ['1', 'int'],
        ['true', 'bool'],
        ['null', 'null'],
        ['1.5', 'dbl'],
        ['a,b', 'arr'],
        ['9', 'big'],
      ]),
    ],
  },
  {
    name: 'map keys keep their types with mapAsMap',
    options: { mapAsMap: true },
    input: resp('%3', ':1', '+int', '#t', '+bool', '*1', '+a', '+arr'),
    expect: [
      new Map<RespValue, RespValue>([
        [1, 'int'],
        [true, 'bool'],
        [['a'], 'arr'],
      ]),
    ],
  },
  {
    name: 'duplicate map keys: the last value wins, the first position stays',
    input: resp('%3', '+a', ':1', '+b', ':2', '+a', ':3'),
    expect: [
      obj([
        ['a', 3],
        ['b', 2],
      ]),
    ],
  },
  {
    name: '__proto__ map key is an own property',
    input: resp('%2', '$9', '__proto__', '%1', '+polluted', '#t', '+x', ':1'),
    expect: [
      obj([
        ['__proto__', obj([['polluted', true]])],
        ['x', 1],
      ]),
    ],
  },
  {
    name: '__proto__ from a key that coerces to it (an array)',
    input: resp('%1', '*1', '+__proto__', '%1', '+polluted', '#t'),
    expect: [obj([['__proto__', obj([['polluted', true]])]])],
  },
  {
    name: '__proto__ as a verbatim key',
    input: resp('%1', '=13', 'txt:__proto__', ':1'),
    expect: [obj([['__proto__', 1]])],
  },
  {
    name: '__proto__ map key in a Map',
    options: { mapAsMap: true },
    input: resp('%1', '+__proto__', ':1'),
    expect: [new Map<RespValue, RespValue>([['__proto__', 1]])],
  },
  {
    name: 'nested maps',
    input: resp('%1', '+outer', '%1', '+inner', '%0'),
    expect: [obj([['outer', obj([['inner', {}]])]])],
  },
  // sets
  { name: 'set', input: resp('~3', '+a', '+b', ':1'), expect: [['a', 'b', 1]] },
  { name: 'empty set', input: resp('~0'), expect: [[]] },
  // attributes
  { name: 'attribute dropped by default', input: SPEC_ATTRIBUTE, expect: [[2039123, 9543892]] },
  {
    name: 'attribute kept with attributes: true',
    options: ATTRS,
    input: SPEC_ATTRIBUTE,
    expect: [attr(SPEC_POPULARITY, [2039123, 9543892])],
  },
  {
    name: 'attribute with mapAsMap',
    options: { attributes: true, mapAsMap: true },
    input: resp('|1', '+ttl', ':3600', '+v'),
    expect: [attr(new Map([['ttl', 3600]]), 'v')],
  },
  {
    name: 'attribute inside an array',
    options: ATTRS,
    input: resp('*2', '|1', '+ttl', ':3600', '+a', '+b'),
    expect: [[attr(obj([['ttl', 3600]]), 'a'), 'b']],
  },
  {
    name: 'attribute inside an array, dropped',
    input: resp('*2', '|1', '+ttl', ':3600', '+a', '+b'),
    expect: [['a', 'b']],
  },
  {
    name: 'attribute on the last element of an array, then a next reply',
    options: ATTRS,
    input: resp('*2', '+a', '|1', '+k', '+v', '*1', ':1', '+next'),
    expect: [['a', attr(obj([['k', 'v']]), [1])], 'next'],
  },
  {
    name: 'attributes on a map key and value',
    options: ATTRS,
    input: resp('%1', '|1', '+on', '+key', '+k', '|1', '+on', '+value', ':1'),
    expect: [obj([['[object Object]', attr(obj([['on', 'value']]), 1)]])],
  },
  {
    name: 'attributes on a map key and value, mapAsMap',
    options: { attributes: true, mapAsMap: true },
    input: resp('%1', '|1', '+on', '+key', '+k', '|1', '+on', '+value', ':1'),
    expect: [
      new Map<RespValue, RespValue>([
        [attr(new Map([['on', 'key']]), 'k'), attr(new Map([['on', 'value']]), 1)],
      ]),
    ],
  },
  {
    name: 'chained attributes: the first read is outermost',
    options: ATTRS,
    input: resp('|1', '+x', ':1', '|1', '+y', ':2', '+v'),
    expect: [attr(obj([['x', 1]]), attr(obj([['y', 2]]), 'v'))],
  },
  {
    name: 'ten chained attributes',
    options: ATTRS,
    input: resp(...Array.from({ length: 10 }, (_, i) => [`|1`, `+a${i}`, `:${i}`]).flat(), '+v'),
    expect: [
      Array.from({ length: 10 })
        .map((_, i) => obj([[`a${i}`, i]]))
        .reduceRight<RespValue>((v, a) => attr(a, v), 'v'),
    ],
  },
  {
    name: 'nested attribute (inside an attribute value)',
    options: ATTRS,
    input: resp('|1', '+k', '|1', '+m', ':0', '+v', ':7'),
    expect: [attr(obj([['k', attr(obj([['m', 0]]), 'v')]]), 7)],
  },
  {
    name: 'nested attribute, dropped',
    input: resp('|1', '+k', '|1', '+m', ':0', '+v', ':7'),
    expect: [7],
  },
  { name: 'empty attribute', options: ATTRS, input: resp('|0', ':1'), expect: [attr({}, 1)] },
  {
    name: 'nil attribute annotates nothing',
    options: ATTRS,
    input: resp('|-1', ':1', '*1', '|-1', ':2'),
    expect: [1, [2]],
  },
  {
    name: 'attribute before a push',
    options: ATTRS,
    input: resp('|1', '+k', '+v', '>1', '+p'),
    expect: [attr(obj([['k', 'v']]), new PushMessage(['p']))],
  },
  {
    name: 'attribute before a null',
    options: ATTRS,
    input: resp('|1', '+k', '+v', '*-1'),
    expect: [attr(obj([['k', 'v']]), null)],
  },
  // push
  {
    name: 'pub/sub push',
    input: resp('>3', '$7', 'message', '$2', 'ch', '$2', 'hi'),
    expect: [new PushMessage(['message', 'ch', 'hi'])],
  },
  {
    name: 'push between replies',
    input: resp('+OK', '>2', '+invalidate', '*1', '$3', 'key', ':1'),
    expect: ['OK', new PushMessage(['invalidate', ['key']]), 1],
  },
  { name: 'empty push', input: resp('>0'), expect: [new PushMessage([])] },
  // returnBuffers
  {
    name: 'returnBuffers: bulk and verbatim become Buffers',
    options: { returnBuffers: true },
    input: resp('$10', BINARY, '=8', 'txt:a\0bc', '$0', ''),
    expect: [BINARY, b('a\0bc'), b('')],
  },
  {
    name: 'returnBuffers: simple strings, errors and numbers are unchanged',
    options: { returnBuffers: true },
    input: resp('+OK', '-ERR x', '!5', 'ERR y', ':1', '$-1'),
    expect: ['OK', new ReplyError('ERR x'), new ReplyError('ERR y'), 1, null],
  },
  {
    name: 'returnBuffers: map keys become strings, values stay Buffers',
    options: { returnBuffers: true },
    input: resp('%2', '$1', 'k', '$1', 'v', '$9', '__proto__', '$3', 'abc'),
    expect: [
      obj([
        ['k', b('v')],
        ['__proto__', b('abc')],
      ]),
    ],
  },
  {
    name: 'returnBuffers with mapAsMap: keys are Buffers too',
    options: { returnBuffers: true, mapAsMap: true },
    input: resp('%1', '$1', 'k', '*1', '$2', b([0, 255])),
    expect: [new Map<RespValue, RespValue>([[b('k'), [b([0, 255])]]])],
  },
];

noteNativeSkipped(test);

for (const c of cases) {
  for (const implementation of IMPLEMENTATIONS) {
    test(`${c.name} [${implementation}]`, () => {
      for (const split of ['whole', 'bytewise'] as const) {
        const got = decode(implementation, c.options ?? {}, c.input, split);
        if (got.error) throw got.error;
        const d = diff(got.values, c.expect);
        assert.ok(d === null, `${split}: ${d}`);
      }
    });
  }
}

test('ReplyError values carry redisCode and the error code', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const got = decode(
      implementation,
      {},
      resp('-WRONGTYPE Operation', '!9', 'BUSY busy', '-ERR'),
      'whole',
    );
    const errors = got.values as ReplyError[];
    assert.equal(
      errors.map((e) => [e instanceof ReplyError, e.redisCode, e.code, e.name]),
      [
        [true, 'WRONGTYPE', 'CYREDIS_ERR_REPLY', 'ReplyError'],
        [true, 'BUSY', 'CYREDIS_ERR_REPLY', 'ReplyError'],
        [true, 'ERR', 'CYREDIS_ERR_REPLY', 'ReplyError'],
      ],
      implementation,
    );
  }
});

test('a __proto__ key never changes the prototype', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const input = resp('%1', '+__proto__', '%1', '+polluted', '#t');
    const [value] = decode(implementation, {}, input, 'whole').values as Record<string, unknown>[];
    assert.is(Object.getPrototypeOf(value), Object.prototype, implementation);
    assert.is(Object.hasOwn(value, '__proto__'), true, implementation);
    assert.is((value as { polluted?: unknown }).polluted, undefined, implementation);
    assert.is(({} as { polluted?: unknown }).polluted, undefined, implementation);
  }
});

// Every case with the same options in one stream, cut at random points: replies straddle
// feed() calls at every kind of boundary, and several replies complete in one call.
const groups = new Map<string, Case[]>();
for (const c of cases) {
  const key = JSON.stringify(c.options ?? {});
  groups.set(key, [...(groups.get(key) ?? []), c]);
}
for (const [key, group] of groups) {
  for (const implementation of IMPLEMENTATIONS) {
    test(`all cases with options ${key} as one stream, random splits [${implementation}]`, () => {
      const input = Buffer.concat(group.map((c) => c.input));
      const expect = group.flatMap((c) => c.expect);
      for (let seed = 1; seed <= 25; seed++) {
        const split: Split = { seed, max: 1 + seed * 40 };
        const got = decode(implementation, JSON.parse(key) as ReaderOptions, input, split);
        if (got.error) throw got.error;
        const d = diff(got.values, expect);
        assert.ok(d === null, `${splitName(split)}: ${d}`);
      }
    });
  }
}

test('a chunk may be any Uint8Array view, and the reader keeps no reference to it', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const input = resp('*2', '$5', 'hello', '+world');
    const backing = new Uint8Array(input.length + 6);
    backing.set(input, 3);
    const view = backing.subarray(3, 3 + input.length);
    const cut = 12; // inside the bulk payload
    const reader = new RespReader({ implementation });
    assert.equal(reader.feed(view.subarray(0, cut)), [], implementation);
    view.fill(0x21, 0, cut); // the caller reuses its buffer
    const d = diff(reader.feed(view.subarray(cut)), [['hello', 'world']]);
    assert.ok(d === null, `${implementation}: ${d}`);
  }
});

test('feed() rejects what is not a Uint8Array', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const reader = new RespReader({ implementation });
    for (const bad of ['+OK\r\n', null, [43], new Uint16Array(2)]) {
      assert.throws(
        () => reader.feed(bad as unknown as Uint8Array),
        (err: Error) =>
          err instanceof TypeError && err.message === 'chunk must be a Buffer or Uint8Array',
        `${implementation}: ${String(bad)}`,
      );
    }
    assert.equal(reader.feed(resp('+OK')), ['OK'], `${implementation}: still healthy`);
  }
});

test('an empty chunk returns no replies', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const reader = new RespReader({ implementation });
    assert.equal(reader.feed(Buffer.alloc(0)), []);
    assert.equal(reader.feed(Buffer.from('+O')), []);
    assert.equal(reader.feed(new Uint8Array(0)), []);
    assert.equal(reader.feed(Buffer.from('K\r\n')), ['OK']);
  }
});

test.run();
