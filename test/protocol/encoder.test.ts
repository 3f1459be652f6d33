/**
 * The command encoder: the native one (hiredis redisFormatSdsCommandArgv) and the TypeScript
 * one give identical bytes for every argument type; bad arguments name their index.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import {
  encodeCommand,
  encodeCommandTs,
  encodeStrings,
  native,
} from '../../runtime/protocol/index.js';
import type { CommandArg } from '../../runtime/protocol/index.js';
import { noteNativeSkipped, prng } from './helpers.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const backing = Buffer.from('..\r\n$3\r\nabc..');

const commands: [string, CommandArg[]][] = [
  ['plain strings', ['SET', 'key', 'value']],
  ['empty string', ['SET', 'k', '']],
  ['multi-byte UTF-8', ['SET', 'ключ', '値🎉', 'é']],
  ['lone surrogates (sent as U+FFFD)', ['SET', '\ud800', 'a\udfffb']],
  ['CRLF and NUL inside', ['SET', 'a\r\nb', '\0']],
  ['Buffer with every byte', ['SET', 'bin', ALL_BYTES]],
  ['empty Buffer', ['SET', Buffer.alloc(0), 'x']],
  [
    'Uint8Array view at an offset',
    ['SET', new Uint8Array(backing.buffer, backing.byteOffset + 2, 8)],
  ],
  ['Buffer slice', ['SET', ALL_BYTES.subarray(250)]],
  ['numbers', ['ZADD', 'z', 0, -0, 1.5, -2.25, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, -1]],
  ['bigints', ['INCRBY', 'k', 2n ** 64n, -1n, 0n]],
  ['mixed', ['HSET', 'h', 'f', ALL_BYTES.subarray(0, 4), 1, 2n, '⚡']],
  ['one large argument', ['SET', 'big', 'z'.repeat(1 << 20)]],
  ['many arguments', ['RPUSH', 'l', ...Array.from({ length: 1000 }, (_, i) => `v${i}`)]],
];

noteNativeSkipped(test);

test('the TypeScript encoder writes RESP arrays of bulk strings', () => {
  assert.is(
    encodeCommandTs(['SET', 'k€', Buffer.from([0, 255]), 12, 3n]).toString('latin1'),
    '*5\r\n$3\r\nSET\r\n$4\r\nk\xe2\x82\xac\r\n$2\r\n\x00\xff\r\n$2\r\n12\r\n$1\r\n3\r\n',
  );
});

for (const [name, args] of commands) {
  test(`native and TS encoders agree: ${name}`, () => {
    const ts = encodeCommandTs(args);
    assert.ok(encodeCommand(args).equals(ts), 'encodeCommand');
    if (native) assert.ok(native.encodeCommand(args).equals(ts), 'native.encodeCommand');
  });
}

test('encodeStrings gives the same bytes for string-only commands', () => {
  for (const [, args] of commands) {
    if (!args.every((a) => typeof a === 'string')) continue;
    assert.ok(Buffer.from(encodeStrings(args)).equals(encodeCommandTs(args)));
  }
});

test('random commands encode identically (seeded)', () => {
  if (!native) return;
  const seed = 20240601;
  const rand = prng(seed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const arg = (): CommandArg => {
    switch (pick(5)) {
      case 0:
        return Buffer.from(Array.from({ length: pick(40) }, () => pick(256)));
      case 1:
        return String.fromCodePoint(...Array.from({ length: pick(20) }, () => pick(0x10ffff)));
      case 2:
        return (rand() - 0.5) * 10 ** pick(30);
      case 3:
        return BigInt(pick(2 ** 31)) ** BigInt(pick(4));
      default:
        return 'k'.repeat(pick(10));
    }
  };
  for (let i = 0; i < 2000; i++) {
    const args = Array.from({ length: 1 + pick(8) }, arg);
    assert.ok(
      native.encodeCommand(args).equals(encodeCommandTs(args)),
      `seed ${seed}, command ${i}: ${JSON.stringify(args.map(String))}`,
    );
  }
});

const invalid: [string, unknown, string][] = [
  ['args[1]', ['GET', null], 'must be a string, Buffer, number or bigint (got null)'],
  ['args[1]', ['GET', undefined], 'must be a string, Buffer, number or bigint (got undefined)'],
  ['args[2]', ['SET', 'k', {}], 'must be a string, Buffer, number or bigint (got object)'],
  ['args[2]', ['SET', 'k', [1]], 'must be a string, Buffer, number or bigint (got object)'],
  ['args[1]', ['SET', true], 'must be a string, Buffer, number or bigint (got boolean)'],
  ['args[1]', ['SET', Symbol('s')], 'must be a string, Buffer, number or bigint (got symbol)'],
  ['args[1]', ['SET', () => 1], 'must be a string, Buffer, number or bigint (got function)'],
  [
    'args[1]',
    ['SET', new Uint16Array(1)],
    'must be a string, Buffer, number or bigint (got object)',
  ],
  ['args[2]', ['SET', 'k', NaN], 'must be a finite number (got NaN)'],
  ['args[2]', ['SET', 'k', Infinity], 'must be a finite number (got Infinity)'],
  ['args[0]', [-Infinity], 'must be a finite number (got -Infinity)'],
  ['args', 'GET key', 'must be an array'],
  ['args', [], 'must not be empty'],
];

for (const [field, args, problem] of invalid) {
  test(`invalid arguments name ${field}: ${problem}`, () => {
    assert.throws(
      () => encodeCommand(args as CommandArg[]),
      (err: Error) =>
        err instanceof InvalidArgumentError &&
        err.field === field &&
        err.message === `${field} ${problem}` &&
        err.code === 'CYREDIS_ERR_INVALID_ARGUMENT',
    );
  });
}

test.run();
