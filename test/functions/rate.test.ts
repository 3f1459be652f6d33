import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import type { RateResult } from '../../functions/index.js';
import { ScriptHelper } from '../../lua/index.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll, fxClient, sleep } from './helpers.js';

const CLIENTS = 4;
const BURST = 60;

/** Fires BURST requests at once, spread over CLIENTS connections; counts the admitted ones. */
async function burst(call: (fx: RedisFunctions, i: number) => Promise<boolean>): Promise<number> {
  const fxs = await Promise.all(
    Array.from({ length: CLIENTS }, async () => new RedisFunctions(await client())),
  );
  await Promise.all(fxs.map((fx) => fx.loadLibrary('cy_rate'))); // not part of the burst
  const results = await Promise.all(
    Array.from({ length: BURST }, (_, i) => call(fxs[i % CLIENTS], i)),
  );
  return results.filter(Boolean).length;
}

const allowed = (r: RateResult): boolean => r.allowed;

test('token bucket: a concurrent burst admits exactly the capacity', async () => {
  const key = keyPrefix('rate') + 'tb';
  // 1 token per 100 s: no refill can sneak in during the burst.
  const admitted = await burst((fx) =>
    fx.rate.tokenBucket(key, { capacity: 10, refillRatePerMs: 0.00001 }).then(allowed),
  );
  assert.is(admitted, 10);
  const { fx } = await fxClient();
  const denied = await fx.rate.tokenBucket(key, { capacity: 10, refillRatePerMs: 0.00001 });
  assert.is(denied.allowed, false);
  assert.is(denied.remaining, 0);
  assert.ok(denied.retryAfterMs > 90_000 && denied.retryAfterMs <= 100_000);
});

test('token bucket refills over time, and cost takes several tokens', async () => {
  const { fx } = await fxClient();
  const key = keyPrefix('rate') + 'tb2';
  const o = { capacity: 4, refillRatePerMs: 0.05 }; // one token per 20 ms
  assert.equal(await fx.rate.tokenBucket(key, { ...o, cost: 4 }), {
    allowed: true,
    remaining: 0,
    retryAfterMs: 0,
  });
  const denied = await fx.rate.tokenBucket(key, { ...o, cost: 2 });
  assert.is(denied.allowed, false);
  assert.ok(denied.retryAfterMs >= 1 && denied.retryAfterMs <= 40);
  await sleep(denied.retryAfterMs + 5);
  assert.ok((await fx.rate.tokenBucket(key, { ...o, cost: 2 })).allowed);
});

test('sliding window: a concurrent burst admits exactly the limit', async () => {
  const key = keyPrefix('rate') + 'sw';
  const o = { limit: 12, windowMs: 60_000 };
  assert.is(await burst((fx) => fx.rate.slidingWindow(key, o).then(allowed)), 12);
  const { fx } = await fxClient();
  const denied = await fx.rate.slidingWindow(key, o);
  assert.equal([denied.allowed, denied.remaining], [false, 0]);
  assert.ok(denied.retryAfterMs > 50_000 && denied.retryAfterMs <= 60_000);
});

test('sliding window: units leave with the window', async () => {
  const { fx } = await fxClient();
  const key = keyPrefix('rate') + 'sw2';
  const o = { limit: 2, windowMs: 150 };
  assert.ok((await fx.rate.slidingWindow(key, { ...o, cost: 2 })).allowed);
  const denied = await fx.rate.slidingWindow(key, o);
  assert.is(denied.allowed, false);
  assert.ok(denied.retryAfterMs >= 1 && denied.retryAfterMs <= 150);
  await sleep(denied.retryAfterMs + 10);
  assert.ok((await fx.rate.slidingWindow(key, o)).allowed);
});

test('leaky bucket: a concurrent burst admits exactly the capacity', async () => {
  const key = keyPrefix('rate') + 'lb';
  const o = { capacity: 7, leakRatePerMs: 0.00001 };
  assert.is(await burst((fx) => fx.rate.leakyBucket(key, o).then(allowed)), 7);
  const { fx } = await fxClient();
  const denied = await fx.rate.leakyBucket(key, o);
  assert.equal([denied.allowed, denied.remaining], [false, 0]);
});

test('a tiny rate is clamped, not a failed PEXPIRE after a write (cy_rate v2 fix)', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('rate') + 'tiny';
  const first = await fx.rate.tokenBucket(key, { capacity: 1, refillRatePerMs: 1e-20 });
  assert.ok(first.allowed);
  const second = await fx.rate.tokenBucket(key, { capacity: 1, refillRatePerMs: 1e-20 });
  assert.equal(second, { allowed: false, remaining: 0, retryAfterMs: Number.MAX_SAFE_INTEGER });
  assert.ok(((await redis.call('PTTL', `cy:rate:{${key}}:tb`)) as number) > 1e15);
  const leaky = await fx.rate.leakyBucket(key, { capacity: 1, leakRatePerMs: 1e-300 });
  assert.ok(leaky.allowed);
});

test('ScriptHelper limiters: bursts admit exactly the limit too', async () => {
  const redis = await client();
  const scripts = new ScriptHelper(redis);
  const sw = keyPrefix('rate') + 'ssw';
  const tb = keyPrefix('rate') + 'stb';
  const [a, b] = await Promise.all([
    Promise.all(Array.from({ length: 30 }, () => scripts.rateLimitSlidingWindow(sw, 9, 60))),
    Promise.all(Array.from({ length: 30 }, () => scripts.rateLimitTokenBucket(tb, 5, 0.001))),
  ]);
  assert.is(a.filter(Boolean).length, 9);
  assert.is(b.filter(Boolean).length, 5);
  const burstKey = keyPrefix('rate') + 'burst';
  const r = await Promise.all(
    Array.from({ length: 20 }, () => scripts.rateLimitWithBurst(burstKey, 5, 60_000, 3)),
  );
  // A first window follows a quiet one: limit + burst.
  assert.is(r.filter((x) => x.allowed).length, 8);
});

test('bad options are refused before anything is sent', async () => {
  const { fx, redis } = await fxClient();
  const key = keyPrefix('rate') + 'bad';
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.rate.tokenBucket(key, { capacity: 0, refillRatePerMs: 1 }), 'options.capacity'],
    [
      () => fx.rate.tokenBucket(key, { capacity: 5, refillRatePerMs: -1 }),
      'options.refillRatePerMs',
    ],
    [
      () => fx.rate.tokenBucket(key, { capacity: 5, refillRatePerMs: Infinity }),
      'options.refillRatePerMs',
    ],
    [() => fx.rate.tokenBucket(key, { capacity: 5, refillRatePerMs: 1, cost: 6 }), 'options.cost'],
    [() => fx.rate.slidingWindow(key, { limit: 5, windowMs: 0 }), 'options.windowMs'],
    [() => fx.rate.slidingWindow(key, { limit: 5, windowMs: 10, cost: 0 }), 'options.cost'],
    [() => fx.rate.leakyBucket('', { capacity: 5, leakRatePerMs: 1 }), 'key'],
    [() => fx.rate.leakyBucket(key, undefined as never), 'options.capacity'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  assert.is(await redis.call('EXISTS', `cy:rate:{${key}}:tb`, `cy:rate:{${key}}:sw`), 0);
});

test.after(closeAll);
test.run();
