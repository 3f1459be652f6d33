/**
 * Malformed and over-limit input: each gives a ProtocolError with hiredis's exact message (or
 * ours for a limit), at the same feed() call on both readers, and the reader stays in that
 * error until reset(). Bad options give an InvalidArgumentError that names the field.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import {
  MAX_BULK_LENGTH,
  MAX_NESTING_DEPTH,
  ProtocolError,
  PushMessage,
  RespReader,
} from '../../runtime/protocol/index.js';
import type { ReaderOptions, RespValue } from '../../runtime/protocol/index.js';
import { IMPLEMENTATIONS, decode, diff, noteNativeSkipped, resp } from './helpers.js';

interface ErrorCase {
  input: Buffer;
  message: string;
  options?: ReaderOptions;
  before?: RespValue[]; // replies a bytewise feed returns before the error
}

const typeByte = (byte: number, shown: string): ErrorCase => ({
  input: Buffer.from([byte, 13, 10]),
  message: `Protocol error, got ${shown} as reply type byte`,
});
const bad = (message: string, ...lines: string[]): ErrorCase => ({
  input: resp(...lines),
  message,
});

const VERBATIM = 'Verbatim string 4 bytes of content type are missing or incorrectly encoded.';

noteNativeSkipped(test);

const malformed: Record<string, ErrorCase> = {
  'unknown type byte': typeByte(0x3f, '"?"'),
  'letter as type byte': typeByte(0x58, '"X"'),
  'space as type byte': typeByte(0x20, '" "'),
  'NUL type byte': typeByte(0, '"\\x00"'),
  'CR type byte': typeByte(13, '"\\r"'),
  'LF type byte': {
    input: Buffer.from('\n'),
    message: 'Protocol error, got "\\n" as reply type byte',
  },
  'tab type byte': typeByte(9, '"\\t"'),
  'bell type byte': typeByte(7, '"\\a"'),
  'backspace type byte': typeByte(8, '"\\b"'),
  'vertical tab type byte': typeByte(11, '"\\x0b"'),
  'quote type byte': typeByte(0x22, '"\\""'),
  'backslash type byte': typeByte(0x5c, '"\\\\"'),
  'DEL type byte': typeByte(0x7f, '"\\x7f"'),
  'high type byte': typeByte(0xff, '"\\xff"'),
  'bad byte after a good reply': {
    input: resp('+OK', 'X'),
    message: 'Protocol error, got "X" as reply type byte',
    before: ['OK'],
  },
  'bad byte inside an array': {
    input: resp('*2', ':1', '@'),
    message: 'Protocol error, got "@" as reply type byte',
  },
  'integer: letters': bad('Bad integer value', ':abc'),
  'integer: empty': bad('Bad integer value', ':'),
  'integer: leading zero': bad('Bad integer value', ':01'),
  'integer: minus zero': bad('Bad integer value', ':-0'),
  'integer: plus sign': bad('Bad integer value', ':+1'),
  'integer: trailing space': bad('Bad integer value', ':1 '),
  'integer: lone minus': bad('Bad integer value', ':-'),
  'integer: LLONG_MAX + 1': bad('Bad integer value', ':9223372036854775808'),
  'integer: LLONG_MIN - 1': bad('Bad integer value', ':-9223372036854775809'),
  'integer: 2^64': bad('Bad integer value', ':18446744073709551616'),
  'double: letters': bad('Bad double value', ',abc'),
  'double: empty': bad('Bad double value', ','),
  'double: overflow': bad('Bad double value', ',1e400'),
  'double: infinity spelled out': bad('Bad double value', ',infinity'),
  'double: +inf': bad('Bad double value', ',+inf'),
  'double: trailing garbage': bad('Bad double value', ',1.5x'),
  'double: trailing space': bad('Bad double value', ',1.5 '),
  'double: incomplete exponent': bad('Bad double value', ',1e'),
  'double: nan with payload': bad('Bad double value', ',nan(1)'),
  'double: hex overflow': bad('Bad double value', ',0x1p1024'),
  'double: 325 digits overflow': bad('Bad double value', `,${'9'.repeat(325)}`),
  'double: 326 bytes': bad('Double value is too large', `,${'1'.repeat(326)}`),
  'double: NUL inside': {
    input: Buffer.from(',1\x002\r\n', 'latin1'),
    message: 'Bad double value',
  },
  'nil: with content': bad('Bad nil value', '_x'),
  'bool: letter': bad('Bad bool value', '#x'),
  'bool: two letters': bad('Bad bool value', '#tt'),
  'bool: empty': bad('Bad bool value', '#'),
  'bool: NUL': { input: Buffer.from('#\0\r\n', 'latin1'), message: 'Bad bool value' },
  'big number: letter': bad('Bad bignum value', '(12a'),
  'big number: plus sign': bad('Bad bignum value', '(+1'),
  'big number: inner minus': bad('Bad bignum value', '(1-2'),
  'big number: double minus': bad('Bad bignum value', '(--1'),
  'simple string: lone CR': bad('Bad simple string value', '+a\rb'),
  'simple string: lone LF': bad('Bad simple string value', '+a\nb'),
  'simple error: lone LF': bad('Bad simple string value', '-ERR a\nb'),
  'bulk: letters': bad('Bad bulk string length', '$abc'),
  'bulk: empty length': bad('Bad bulk string length', '$'),
  'bulk: leading zero': bad('Bad bulk string length', '$01'),
  'bulk: length with CR': bad('Bad bulk string length', '$1\r1'),
  'bulk: 2^64': bad('Bad bulk string length', '$18446744073709551616'),
  'bulk: -2': bad('Bulk string length out of range', '$-2'),
  'verbatim: -2': bad('Bulk string length out of range', '=-2'),
  'blob error: letters': bad('Bad bulk string length', '!x'),
  'verbatim: shorter than its prefix': bad(VERBATIM, '=3', 'txt'),
  'verbatim: no colon': bad(VERBATIM, '=5', 'txt;x'),
  'verbatim: empty': bad(VERBATIM, '=0', ''),
  'array: letters': bad('Bad multi-bulk length', '*abc'),
  'array: empty length': bad('Bad multi-bulk length', '*'),
  'array: -2': bad('Multi-bulk length out of range', '*-2'),
  'map: letters': bad('Bad multi-bulk length', '%x'),
  'set: -5': bad('Multi-bulk length out of range', '~-5'),
  'push: leading zero': bad('Bad multi-bulk length', '>01'),
  'attribute: -2': bad('Multi-bulk length out of range', '|-2'),
  'error deep inside a reply': bad('Bad integer value', '*1', '%1', '+k', '*2', ':1', ':x'),
};

// Limits: input that is well-formed but over a limit set for the test.
const limits: Record<string, ErrorCase> = {
  'maxDepth 2: three nested arrays': {
    options: { maxDepth: 2 },
    input: resp('*1', '*1', '*1', ':1'),
    message: 'Reply nesting exceeds maxDepth (2)',
  },
  'maxDepth 2: an empty aggregate counts': {
    options: { maxDepth: 2 },
    input: resp('*1', '%1', '+k', '~0'),
    message: 'Reply nesting exceeds maxDepth (2)',
  },
  'maxDepth 1: an attribute inside an array counts': {
    options: { maxDepth: 1 },
    input: resp('*1', '|1', '+k', '+v', ':1'),
    message: 'Reply nesting exceeds maxDepth (1)',
  },
  'maxDepth 0: any aggregate': {
    options: { maxDepth: 0 },
    input: resp('*0'),
    message: 'Reply nesting exceeds maxDepth (0)',
  },
  'default maxDepth': {
    input: resp(...Array.from({ length: MAX_NESTING_DEPTH + 1 }, () => '*1'), ':1'),
    message: `Reply nesting exceeds maxDepth (${MAX_NESTING_DEPTH})`,
  },
  'maxBulkLength 4: bulk': {
    options: { maxBulkLength: 4 },
    input: resp('$5', 'hello'),
    message: 'Bulk string length exceeds maxBulkLength (4)',
  },
  'maxBulkLength 4: verbatim': {
    options: { maxBulkLength: 4 },
    input: resp('=5', 'txt:x'),
    message: 'Bulk string length exceeds maxBulkLength (4)',
  },
  'maxBulkLength 4: blob error': {
    options: { maxBulkLength: 4 },
    input: resp('!5', 'ERR x'),
    message: 'Bulk string length exceeds maxBulkLength (4)',
  },
  'maxBulkLength 4: inside an array': {
    options: { maxBulkLength: 4 },
    input: resp('*2', '$4', 'fits', '$5', 'hello'),
    message: 'Bulk string length exceeds maxBulkLength (4)',
  },
  'default maxBulkLength: a huge header alone': {
    input: resp(`$${MAX_BULK_LENGTH + 1}`),
    message: `Bulk string length exceeds maxBulkLength (${MAX_BULK_LENGTH})`,
  },
  'default maxBulkLength: LLONG_MAX header alone': {
    input: resp('$9223372036854775807'),
    message: `Bulk string length exceeds maxBulkLength (${MAX_BULK_LENGTH})`,
  },
  'maxAggregateLength 2: array header alone': {
    options: { maxAggregateLength: 2 },
    input: resp('*3'),
    message: 'Aggregate length exceeds maxAggregateLength (2)',
  },
  'maxAggregateLength 2: map of 3 pairs': {
    options: { maxAggregateLength: 2 },
    input: resp('%3'),
    message: 'Aggregate length exceeds maxAggregateLength (2)',
  },
  'maxAggregateLength 2: set, push, attribute': {
    options: { maxAggregateLength: 2 },
    input: resp('~2', ':1', ':2', '>2', ':1', ':2', '|3'),
    message: 'Aggregate length exceeds maxAggregateLength (2)',
    before: [[1, 2], new PushMessage([1, 2])],
  },
  'default maxAggregateLength: 2^32 elements': {
    input: resp('*4294967296'),
    message: 'Aggregate length exceeds maxAggregateLength (4294967295)',
  },
};

function expectProtocolError(err: unknown, message: string, label: string): void {
  assert.instance(err, ProtocolError, `${label}: threw ${String(err)}`);
  const e = err as ProtocolError;
  assert.is(e.message, message, label);
  assert.is(e.code, 'CYREDIS_ERR_PROTOCOL', label);
  assert.is(e.name, 'ProtocolError', label);
}

for (const [name, c] of Object.entries({ ...malformed, ...limits })) {
  test(name, () => {
    const failedAt: Record<string, number> = {};
    for (const implementation of IMPLEMENTATIONS) {
      for (const split of ['whole', 'bytewise'] as const) {
        const label = `${implementation} ${split}`;
        const got = decode(implementation, c.options ?? {}, c.input, split);
        expectProtocolError(got.error, c.message, label);
        if (split === 'whole') assert.equal(got.values, [], label);
        else {
          const d = diff(got.values, c.before ?? []);
          assert.ok(d === null, `${label}: ${d}`);
          failedAt[implementation] = got.failedAt;
        }
      }
    }
    // Both readers notice at the same byte when fed one byte at a time.
    if (failedAt.native !== undefined) assert.is(failedAt.native, failedAt.ts, 'failing byte');
  });
}

test('a huge bulk header fails as soon as its CRLF arrives', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const reader = new RespReader({ implementation });
    assert.equal(reader.feed(Buffer.from(`$${MAX_BULK_LENGTH + 1}\r`)), [], implementation);
    assert.throws(() => reader.feed(Buffer.from('\n')), /exceeds maxBulkLength/, implementation);
    // A header that fits waits for its payload without error.
    const ok = new RespReader({ implementation });
    assert.equal(ok.feed(Buffer.from(`$${MAX_BULK_LENGTH}\r\nabc`)), [], implementation);
  }
});

test('errors are sticky until reset()', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const reader = new RespReader({ implementation, maxDepth: 1 });
    assert.equal(reader.feed(resp('+before')), ['before']);
    let first: unknown;
    try {
      reader.feed(resp('*1', '*0'));
    } catch (err) {
      first = err;
    }
    expectProtocolError(first, 'Reply nesting exceeds maxDepth (1)', implementation);
    for (const next of [resp('+OK'), Buffer.alloc(0), resp(':1')]) {
      let again: unknown;
      try {
        reader.feed(next);
      } catch (err) {
        again = err;
      }
      expectProtocolError(again, 'Reply nesting exceeds maxDepth (1)', `${implementation} again`);
    }
    reader.reset();
    assert.equal(reader.feed(resp('+OK', '*1', ':1')), ['OK', [1]], implementation);
  }
});

test('reset() forgets a partial reply', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const reader = new RespReader({ implementation });
    assert.equal(reader.feed(Buffer.from('*2\r\n:1\r\n$5\r\nhe')), []);
    reader.reset();
    assert.equal(reader.feed(resp('+fresh')), ['fresh'], implementation);
  }
});

test('maxBufferedBytes counts the incomplete reply only', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const message = 'Incomplete reply exceeds maxBufferedBytes (10)';
    // Complete replies of any size pass, however much they add up to.
    const big = new RespReader({ implementation, maxBufferedBytes: 10 });
    assert.equal(big.feed(resp('$20', 'x'.repeat(20), '+OK')), ['x'.repeat(20), 'OK']);
    // 10 pending bytes are fine; the 11th is not.
    for (const input of ['$20\r\n01234', '+aaaaaaaaa', '*3\r\n:1\r\n:']) {
      const reader = new RespReader({ implementation, maxBufferedBytes: 10 });
      assert.equal(
        reader.feed(Buffer.from(input.padEnd(10, '0'))),
        [],
        `${implementation} ${input}`,
      );
      assert.throws(
        () => reader.feed(Buffer.from('0')),
        (err: Error) => err instanceof ProtocolError && err.message === message,
        `${implementation} ${input}`,
      );
    }
    // Bytes of finished replies in the same chunk do not count.
    const mixed = new RespReader({ implementation, maxBufferedBytes: 10 });
    assert.equal(mixed.feed(Buffer.from('+0123456789\r\n+abcdefghi')), ['0123456789']);
    // A pending attribute belongs to the reply it annotates.
    const attr = new RespReader({ implementation, maxBufferedBytes: 10 });
    assert.throws(() => attr.feed(resp('|1', '+k', '+v')), /maxBufferedBytes \(10\)/);
  }
});

test('maxBufferedBytes: a bulk delivered in slices fails at the same byte on both readers', () => {
  const input = resp('$100', 'y'.repeat(100));
  const at: number[] = [];
  for (const implementation of IMPLEMENTATIONS) {
    const got = decode(implementation, { maxBufferedBytes: 50 }, input, { seed: 7, max: 9 });
    expectProtocolError(
      got.error,
      'Incomplete reply exceeds maxBufferedBytes (50)',
      implementation,
    );
    at.push(got.failedAt);
  }
  assert.is(new Set(at).size, 1);
});

test('limits at their exact value are accepted', () => {
  for (const implementation of IMPLEMENTATIONS) {
    const options = { maxDepth: 2, maxBulkLength: 5, maxAggregateLength: 2 };
    const input = resp('*2', '*2', '$5', 'hello', '=5', 'txt:x', '%2', '+a', ':1', '+b', ':2');
    for (const split of ['whole', 'bytewise'] as const) {
      const got = decode(implementation, options, input, split);
      if (got.error) throw got.error;
      const d = diff(got.values, [[['hello', 'x'], { a: 1, b: 2 }]]);
      assert.ok(d === null, `${implementation} ${split}: ${d}`);
    }
  }
});

test('a malformed verbatim over maxBulkLength: whichever check hiredis reaches first', () => {
  // Complete in one chunk, hiredis checks the verbatim prefix before our callback sees the
  // length; arriving slowly, the header alone is over the limit. Both readers agree on each.
  const input = resp('=6', 'txt;ab');
  for (const implementation of IMPLEMENTATIONS) {
    const options = { maxBulkLength: 5 };
    expectProtocolError(
      decode(implementation, options, input, 'whole').error,
      VERBATIM,
      implementation,
    );
    expectProtocolError(
      decode(implementation, options, input, 'bytewise').error,
      'Bulk string length exceeds maxBulkLength (5)',
      implementation,
    );
  }
});

const badOptions: [string, unknown, string][] = [
  ['options.maxDepth', { maxDepth: -1 }, 'must be an integer from 0 to 256'],
  ['options.maxDepth', { maxDepth: 1.5 }, 'must be an integer from 0 to 256'],
  ['options.maxDepth', { maxDepth: '3' }, 'must be an integer from 0 to 256'],
  ['options.maxDepth', { maxDepth: 257 }, 'must be an integer from 0 to 256'],
  ['options.maxDepth', { maxDepth: NaN }, 'must be an integer from 0 to 256'],
  [
    'options.maxBulkLength',
    { maxBulkLength: MAX_BULK_LENGTH + 1 },
    `must be an integer from 0 to ${MAX_BULK_LENGTH}`,
  ],
  ['options.maxBufferedBytes', { maxBufferedBytes: -5 }, 'must be an integer from 0 to 603979776'],
  [
    'options.maxAggregateLength',
    { maxAggregateLength: 2 ** 32 },
    'must be an integer from 0 to 4294967295',
  ],
  ['options.returnBuffers', { returnBuffers: 'yes' }, 'must be a boolean'],
  ['options.mapAsMap', { mapAsMap: 1 }, 'must be a boolean'],
  ['options.attributes', { attributes: null }, 'must be a boolean'],
  ['options.maxdepth', { maxdepth: 3 }, 'is not a known option'],
  ['options.implementation', { implementation: 'wasm' }, "must be 'native' or 'ts'"],
];

for (const [field, options, problem] of badOptions) {
  test(`bad options: ${JSON.stringify(options)} names ${field}`, () => {
    assert.throws(
      () => new RespReader(options as ReaderOptions),
      (err: Error) =>
        err instanceof InvalidArgumentError &&
        err.field === field &&
        err.message === `${field} ${problem}` &&
        err.code === 'CYREDIS_ERR_INVALID_ARGUMENT',
    );
  });
}

test.run();
