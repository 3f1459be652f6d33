import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import { CyRedisError, InvalidArgumentError, ReplyError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll, fxClient, keysLike } from './helpers.js';

test('cache: getOrSetJson fills once; a loader runs only on a miss; TTL applies', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('cache') + 'user:1';
  const first = await fx.cache.getOrSetJson(key, { name: 'Ada', tags: ['x'] }, 5000);
  assert.equal(first, { hit: false, value: { name: 'Ada', tags: ['x'] } });
  let loads = 0;
  const second = await fx.cache.getOrSetJson(key, () => ({ name: 'other', n: ++loads }), 5000);
  assert.equal(second, { hit: true, value: { name: 'Ada', tags: ['x'] } });
  assert.is(loads, 0);
  const ttl = (await redis.call('PTTL', `cy:cache:{${key}}`)) as number;
  assert.ok(ttl > 4000 && ttl <= 5000);
  const miss = await fx.cache.getOrSetJson(
    keyPrefix('cache') + 'u2',
    () => Promise.resolve(++loads),
    5000,
  );
  assert.equal(miss, { hit: false, value: 1 });
});

test('cache: concurrent fillers of one key all see the first value', async () => {
  const key = keyPrefix('cache') + 'race';
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fxs[i % 4].cache.getOrSetJson(key, { by: i }, 5000)),
  );
  assert.is(results.filter((r) => !r.hit).length, 1);
  assert.is(new Set(results.map((r) => JSON.stringify(r.value))).size, 1);
});

test('cache: mgetOrMset with values or a loader of the missing keys', async () => {
  const { fx } = await fxClient();
  const tag = keyPrefix('cache');
  await fx.cache.getOrSetJson('b', 'B0', 5000, { tag });
  const r = await fx.cache.mgetOrMset(['a', 'b', 'c'], ['A', 'B', 'C'], 5000, { tag });
  assert.equal(r, [
    { hit: false, value: 'A' },
    { hit: true, value: 'B0' },
    { hit: false, value: 'C' },
  ]);
  const asked: string[][] = [];
  const r2 = await fx.cache.mgetOrMset(
    ['a', 'd', 'e'],
    (missing) => (asked.push(missing), missing.map((m) => ({ k: m }))),
    5000,
    { tag },
  );
  assert.equal(asked, [['d', 'e']]);
  assert.equal(r2, [
    { hit: true, value: 'A' },
    { hit: false, value: { k: 'd' } },
    { hit: false, value: { k: 'e' } },
  ]);
  await rejects(() => fx.cache.mgetOrMset(['a', 'b'], [1, 2], 5000), InvalidArgumentError);
  await rejects(() => fx.cache.mgetOrMset(['a', 'b'], [1], 5000, { tag }), InvalidArgumentError);
});

test('cache: a value that is not JSON is a clear error, not a crash', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('cache') + 'raw';
  await redis.call('SET', `cy:cache:{${key}}`, 'not json{');
  await rejects(() => fx.cache.getOrSetJson(key, 1, 1000), CyRedisError, /not JSON/);
  await rejects(() => fx.cache.getOrSetJson(key, undefined, 1000), InvalidArgumentError);
});

test('atomic: cas on value and on absence, with and without TTL', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('atomic') + 'version';
  assert.is(await fx.atomic.cas(key, '1.0', '1.1'), false, 'missing key is a mismatch');
  assert.is(await fx.atomic.cas(key, null, '1.0', { ttlMs: 5000 }), true);
  assert.is(await fx.atomic.cas(key, null, '2.0'), false, 'exists');
  assert.is(await fx.atomic.cas(key, '1.0', '1.1'), true);
  assert.is(await redis.call('GET', key), '1.1');
  assert.ok(((await redis.call('PTTL', key)) as number) > 0, 'TTL kept');
  assert.is(await fx.atomic.cas(key, '1.0', 'x'), false);
  // Concurrent CAS from one value: exactly one wins.
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  const wins = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fxs[i % 4].atomic.cas(key, '1.1', `w${i}`)),
  );
  assert.is(wins.filter(Boolean).length, 1);
});

test('atomic: incrWithTtl is capped and keeps its first expiry; msetnxTtl is all or nothing', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('atomic') + 'req';
  assert.is(await fx.atomic.incrWithTtl(key, 3, 5000, 10), 3);
  assert.is(await fx.atomic.incrWithTtl(key, 7, 60_000, 10), 10);
  assert.is(await fx.atomic.incrWithTtl(key, 1, 60_000, 10), null, 'cap reached');
  assert.ok(((await redis.call('PTTL', key)) as number) <= 5000, 'first expiry kept');
  assert.is(await fx.atomic.incrWithTtl(key, 100, 5000), 110, 'no cap');

  const p = `{${keyPrefix('atomic')}}`; // one slot for the keys of one call
  assert.is(await fx.atomic.msetnxTtl({ [`${p}a`]: '1', [`${p}b`]: '2' }, 5000), true);
  assert.is(await fx.atomic.msetnxTtl({ [`${p}c`]: '3', [`${p}b`]: 'x' }, 5000), false);
  assert.is(await redis.call('EXISTS', `${p}c`), 0, 'nothing written');
  assert.is(await redis.call('GET', `${p}b`), '2');
});

test('tokens: ksortable ids strictly increase under concurrency; next counts', async () => {
  const { fx } = await fxClient();
  const name = keyPrefix('tok');
  const fxs = await Promise.all(
    Array.from({ length: 3 }, async () => new RedisFunctions(await client())),
  );
  const ids = await Promise.all(
    Array.from({ length: 300 }, (_, i) => fxs[i % 3].tokens.ksortable(name)),
  );
  assert.is(new Set(ids).size, 300);
  for (const id of ids) assert.match(id, /^\d{13}-\d{6}$/);
  const sorted = [...ids].sort();
  assert.ok((await fx.tokens.ksortable(name)) > sorted[sorted.length - 1]);
  const seq = keyPrefix('seq');
  const values = await Promise.all(
    Array.from({ length: 50 }, (_, i) => fxs[i % 3].tokens.next(seq)),
  );
  assert.equal(
    [...values].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.is(await fx.tokens.next(seq, 10), 60);
});

test('bad arguments are refused and nothing is written', async () => {
  const { fx, redis } = await fxClient();
  const p = keyPrefix('bad');
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.cache.getOrSetJson(`${p}c`, 1, 0), 'ttlMs'],
    [() => fx.cache.getOrSetJson('', 1, 10), 'key'],
    [() => fx.atomic.cas(`${p}a`, 'x', 5 as unknown as string), 'next'],
    [() => fx.atomic.cas(`${p}a`, 'x', 'y', { ttlMs: -1 }), 'options.ttlMs'],
    [() => fx.atomic.incrWithTtl(`${p}n`, 0, 1000), 'by'],
    [() => fx.atomic.incrWithTtl(`${p}n`, 1, 1000, -1), 'cap'],
    [() => fx.atomic.msetnxTtl({}, 1000), 'entries'],
    [() => fx.atomic.msetnxTtl({ [`${p}m`]: 'v' }, 1.5), 'ttlMs'],
    [() => fx.tokens.next(`${p}s`, -1), 'by'],
    [() => fx.tokens.nextBigInt(`${p}s`, 2 ** 53), 'by'],
    [() => fx.tokens.ksortable(''), 'name'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  const raw = await rejects(
    () => fx.call('cy:atomic:incr_with_ttl', [`${p}n`], ['1', '0x10', '']),
    InvalidArgumentError,
  );
  assert.is(raw.field, 'ttlMs');
  assert.equal(await keysLike(redis, `*${p}*`), []);
});

test('atomic: incrWithTtl tells "cap reached" apart from a counter holding -8', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('atomic') + 'neg';
  await redis.call('SET', key, '-9'); // a counter someone DECRBY'd
  assert.is(await fx.atomic.incrWithTtl(key, 1, 60_000), -8, 'version 1 said null: "cap reached"');
  assert.is(await redis.call('GET', key), '-8');
  assert.is(await fx.atomic.incrWithTtl(key, 20, 60_000, 5), null, 'cap reached');
  assert.is(await redis.call('GET', key), '-8', 'nothing written');
  assert.equal(await fx.call('cy_atomic_incr_with_ttl', [key], ['20', '1000', '5']), [0, -8]);
  assert.equal(await fx.call('cy_atomic_incr_with_ttl', [key], ['1', '1000', '']), [1, -7]);
});

test('tokens: next is an exact number or a refusal; nextBigInt is exact past 2^53 and up to 2^63 - 1', async () => {
  const { fx, redis } = await fxClient();
  const name = keyPrefix('seqbig');
  const key = `cy:token:{${name}}`;
  await redis.call('SET', key, String(Number.MAX_SAFE_INTEGER - 2));
  const last = await fx.tokens.next(name);
  assert.is(typeof last, 'number');
  assert.is(last, Number.MAX_SAFE_INTEGER - 1);
  assert.is(await fx.tokens.next(name), Number.MAX_SAFE_INTEGER, '2^53 - 1: still exact');
  // Version 3 replied 2^53 (a bigint, typed number) and went on rounding.
  const err = await rejects(() => fx.tokens.next(name), InvalidArgumentError, /nextBigInt/);
  assert.is(err.field, 'sequence');
  await rejects(() => fx.tokens.next(name, 5), InvalidArgumentError);
  assert.is(await redis.call('GET', key), String(Number.MAX_SAFE_INTEGER), 'nothing written');

  // nextBigInt: every value exact, where a Lua number would round (2^53 + 1 -> 2^53 + 2).
  const big = await fx.tokens.nextBigInt(name);
  assert.is(typeof big, 'bigint');
  assert.is(big, 2n ** 53n);
  assert.is(await fx.tokens.nextBigInt(name), 2n ** 53n + 1n);
  assert.is(await fx.tokens.nextBigInt(name, 2), 2n ** 53n + 3n);
  assert.is(await redis.call('GET', key), String(2n ** 53n + 3n));
  await rejects(() => fx.tokens.next(name), InvalidArgumentError, /sequence would pass/);
  // Up to the end of Redis's 64-bit range (version 3 replied a negative number there).
  await redis.call('SET', key, String(2n ** 63n - 2n));
  assert.is(await fx.tokens.nextBigInt(name), 2n ** 63n - 1n);
  await rejects(() => fx.tokens.nextBigInt(name), ReplyError, /overflow/);
  assert.is(await redis.call('GET', key), String(2n ** 63n - 1n), 'nothing written');
  // A sequence below -(2^53 - 1) cannot be counted exactly as a number either.
  await redis.call('SET', key, String(-(2n ** 60n)));
  await rejects(() => fx.tokens.next(name), InvalidArgumentError);
  assert.is(await fx.tokens.nextBigInt(name), -(2n ** 60n) + 1n);
  // A sequence that is not an integer: Redis's own error, nothing written.
  await redis.call('SET', key, 'abc');
  await rejects(() => fx.tokens.next(name), ReplyError, /not an integer/);
  await rejects(() => fx.tokens.nextBigInt(name), ReplyError, /not an integer/);
  assert.is(await redis.call('GET', key), 'abc');
  // Raw FCALL: an integer by default, the digits with reply 'string'.
  const raw = `cy:token:{${name}:raw}`;
  assert.is(await fx.call('cy_tokens_next', [raw], ['2']), 2);
  assert.is(await fx.call('cy_tokens_next', [raw], ['', 'string']), '3');
  const bad = await rejects(
    () => fx.call('cy_tokens_next', [raw], ['1', 'bigint']),
    InvalidArgumentError,
  );
  assert.is(bad.field, 'reply');
  assert.is(await redis.call('GET', raw), '3');
});

test.after(closeAll);
test.run();
