import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import type { RateResult } from '../../functions/index.js';
import { ScriptHelper } from '../../lua/index.js';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
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

// ---- regressions (review of cy_rate version 2 and the lua/ limiters) ----

test('sliding windows: one member per admission whatever its cost; limits above 1e12 refused', async () => {
  const { fx, redis } = await fxClient();
  const scripts = new ScriptHelper(redis);
  const big = 200_000;
  const k = keyPrefix('rate') + 'huge';
  assert.ok((await fx.rate.slidingWindow(k, { limit: big, windowMs: 60_000, cost: big })).allowed);
  const sk = keyPrefix('rate') + 'shuge';
  assert.ok(await scripts.rateLimitSlidingWindow(sk, big, 60, big));
  const bk = keyPrefix('rate') + 'bhuge';
  assert.ok((await scripts.rateLimitWithBurst(bk, big, 60_000, 0, big)).allowed);
  assert.is(await redis.call('ZCARD', `cy:rate:{${k}}:sw`), 1);
  assert.is(await redis.call('ZCARD', sk), 1);
  assert.is(await redis.call('ZCARD', bk), 1);
  const denied = await fx.rate.slidingWindow(k, { limit: big, windowMs: 60_000 });
  assert.equal([denied.allowed, denied.remaining], [false, 0]);
  assert.ok(denied.retryAfterMs > 58_000 && denied.retryAfterMs <= 60_000);

  await rejects(
    () => fx.rate.slidingWindow(k, { limit: 1e13, windowMs: 10 }),
    InvalidArgumentError,
  );
  const keys = [`cy:rate:{${k}}:sw`];
  const raw = await rejects(
    () => fx.call('cy_rate_sliding_window', keys, ['10000000000000', '10', '']),
    InvalidArgumentError,
  );
  assert.is(raw.field, 'limit');
  const lua = await rejects(
    () => scripts.rateLimitSlidingWindow(sk, 1e13, 1),
    InvalidArgumentError,
  );
  assert.is(lua.field, 'limit');
});

test('sliding window with costs: exact retryAfterMs, and a concurrent burst never passes the limit', async () => {
  const { fx, redis } = await fxClient();
  const k = keyPrefix('rate') + 'costs';
  // Times are read before and after each call (Redis runs on this host, same clock): the
  // server's stamp lies between them, whatever the scheduling delays on a loaded machine.
  const o = { limit: 10, windowMs: 2000 };
  assert.ok((await fx.rate.slidingWindow(k, { ...o, cost: 3 })).allowed); // units 1-3
  await sleep(300); // the first and second admissions are told apart by 300 ms
  const secondFrom = Date.now();
  assert.ok((await fx.rate.slidingWindow(k, { ...o, cost: 4 })).allowed); // units 4-7
  const secondTo = Date.now();
  assert.ok((await fx.rate.slidingWindow(k, { ...o, cost: 2 })).allowed); // units 8-9
  // cost 5 needs 4 units gone: 1-3 and 4, which leaves with the second admission.
  const deniedFrom = Date.now();
  const denied = await fx.rate.slidingWindow(k, { ...o, cost: 5 });
  const deniedTo = Date.now();
  assert.equal([denied.allowed, denied.remaining], [false, 1]);
  // retryAfterMs = second + window - now(denied), rounded up to whole ms.
  const lo = secondFrom + o.windowMs - deniedTo;
  const hi = secondTo + o.windowMs - deniedFrom + 1;
  assert.ok(
    denied.retryAfterMs >= lo && denied.retryAfterMs <= hi,
    `retryAfterMs ${denied.retryAfterMs} not in [${lo}, ${hi}]`,
  );
  await sleep(denied.retryAfterMs + 5);
  assert.ok((await fx.rate.slidingWindow(k, { ...o, cost: 5 })).allowed);

  const burstKey = keyPrefix('rate') + 'costburst';
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  const costs = Array.from({ length: 40 }, (_, i) => 1 + (i % 4));
  const results = await Promise.all(
    costs.map((cost, i) =>
      fxs[i % 4].rate.slidingWindow(burstKey, { limit: 50, windowMs: 60_000, cost }),
    ),
  );
  const admitted = costs.filter((_, i) => results[i].allowed);
  assert.ok(admitted.reduce((a, b) => a + b, 0) <= 50, 'never above the limit');
  assert.ok(admitted.reduce((a, b) => a + b, 0) >= 47, 'denied only when it did not fit');
  assert.is(await redis.call('ZCARD', `cy:rate:{${burstKey}}:sw`), admitted.length);
});

test('burst limiter: at most 2 * limit over any two windows (concurrent bursts on 4 connections)', async () => {
  const scriptsOn = await Promise.all(
    Array.from({ length: 4 }, async () => new ScriptHelper(await client())),
  );
  const key = keyPrefix('rate') + 'burst2';
  // 1.5 s windows, and times read before and after each burst (Redis runs on this host, same
  // clock): the server's stamps lie between them however late a call runs.
  const [limit, windowMs, burst] = [5, 1500, 5];
  const fire = async (): Promise<RateResult[]> =>
    Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        scriptsOn[i % 4].rateLimitWithBurst(key, limit, windowMs, burst),
      ),
    );
  const firstFrom = Date.now();
  assert.is(
    (await fire()).filter((r) => r.allowed).length,
    10,
    'limit + burst after a quiet window',
  );
  const firstTo = Date.now();
  // Once every unit of the first burst has left the current window (but not the two-window
  // span: that takes until firstFrom + 2 * windowMs, 1.4 s later).
  await sleep(windowMs + 100 - (Date.now() - firstTo));
  // The previous window took limit + burst = 2 * limit: nothing fits until it slides out.
  const secondFrom = Date.now();
  const second = await fire();
  const secondTo = Date.now();
  assert.is(second.filter((r) => r.allowed).length, 0, 'version 1 admitted limit more');
  // The first unit leaves the span 2 * windowMs after its admission (in [firstFrom, firstTo]);
  // the first denied call of the second burst ran in [secondFrom, secondTo].
  const wait = Math.max(...second.map((r) => r.retryAfterMs));
  const lo = firstFrom + 2 * windowMs - secondTo;
  const hi = firstTo + 2 * windowMs - secondFrom + 1;
  assert.ok(wait >= lo && wait <= hi, `retryAfterMs ${wait} not in [${lo}, ${hi}]`);
  await sleep(wait + 10);
  assert.ok((await scriptsOn[0].rateLimitWithBurst(key, limit, windowMs, burst)).allowed);
});

type Entry = { score: number; units: number };

/** ZRANGE ... WITHSCORES rows as [member, score]: RESP3 nests pairs, RESP2 is flat. */
function rowsOf(reply: unknown[]): [string, number][] {
  const rows = (
    Array.isArray(reply[0]) ? reply : reply.flatMap((v, i) => (i % 2 ? [] : [[v, reply[i + 1]]]))
  ) as [string, string | number][];
  return rows.map(([member, score]) => [member, Number(score)]);
}

/** Units of a log member: '<c>:<cost>' since version 2 (c unique on the key), one before. */
function unitsOf(member: string): number {
  const m = /^\d+:(\d+)$/.exec(member);
  return m ? Number(m[1]) : 1;
}

/**
 * Runs `call` from 4 connections without pause for `ms`, while another connection samples the
 * log `key` (a member stays at least one window after its score). Returns the log's history
 * {score, units} as sampled, the units the calls were told admitted, and the log members the
 * calls report for their own admissions (`logged`: read in the same transaction), if they do.
 */
async function hammer(
  key: string,
  windowMs: number,
  ms: number,
  caller: (
    c: HighPerformanceRedis,
  ) => (
    i: number,
  ) => Promise<{ allowed: boolean; cost: number; logged?: [string, number] | undefined }>,
): Promise<{ history: Entry[]; admitted: number; sampled: Set<string>; logged: string[] }> {
  const conns = await Promise.all(Array.from({ length: 4 }, () => client()));
  const calls = conns.map(caller);
  const sampler = await client();
  const seen = new Map<string, Entry>();
  const sample = async (): Promise<void> => {
    const reply = (await sampler.call('ZRANGE', key, 0, -1, 'WITHSCORES')) as unknown[];
    for (const [member, score] of rowsOf(reply))
      seen.set(`${member}@${score}`, { score, units: unitsOf(member) });
  };
  let admitted = 0;
  const logged: string[] = [];
  const until = Date.now() + ms;
  const load = Promise.all(
    calls.map(async (call, n) => {
      for (let i = n; Date.now() < until; i += calls.length) {
        const r = await call(i);
        if (r.allowed) admitted += r.cost;
        if (r.allowed && r.logged) logged.push(`${r.logged[0]}@${r.logged[1]}`);
      }
    }),
  );
  let running = true;
  const sampling = (async () => {
    while (running) {
      await sample();
      await sleep(windowMs / 5);
    }
  })();
  await load;
  running = false;
  await sampling;
  await sample();
  const history = [...seen.values()].sort((a, b) => a.score - b.score);
  return { history, admitted, sampled: new Set(seen.keys()), logged };
}

/** The most units in any span (t - span, t] that ends at an admission. */
function mostIn(history: { score: number; units: number }[], span: number): number {
  let most = 0;
  for (const end of history) {
    let sum = 0;
    for (const h of history) if (h.score > end.score - span && h.score <= end.score) sum += h.units;
    most = Math.max(most, sum);
  }
  return most;
}

test('burst limiter under continuous load from 4 connections: never above limit + burst in a window, 2 * limit in two', async () => {
  const key = keyPrefix('rate') + 'hammer-burst';
  // Windows long enough that the sampler sees every member even if its timer runs late.
  const [limit, windowMs, burstUnits] = [6, 250, 4];
  const { history, admitted } = await hammer(key, windowMs, 1500, (c) => {
    const scripts = new ScriptHelper(c);
    return async (i) => {
      const cost = 1 + (i % 3);
      const r = await scripts.rateLimitWithBurst(key, limit, windowMs, burstUnits, cost);
      return { allowed: r.allowed, cost };
    };
  });
  assert.is(
    history.reduce((a, h) => a + h.units, 0),
    admitted,
    'the samples saw every admission',
  );
  assert.ok(admitted > 3 * limit, `${admitted} units admitted over 6 windows`);
  const one = mostIn(history, windowMs);
  const two = mostIn(history, 2 * windowMs);
  assert.ok(one <= limit + burstUnits, `${one} units in one window`);
  assert.ok(
    two <= 2 * limit,
    `${two} units in two windows (version 1 let limit + burst + limit in)`,
  );
});

test('sliding window with costs under continuous load from 4 connections: never above the limit in any window', async () => {
  const key = keyPrefix('rate') + 'hammer-sw';
  const log = `cy:rate:{${key}}:sw`;
  const [limit, windowMs] = [10, 250];
  // Each call reads the newest log member in the same MULTI as its FCALL: for an admission,
  // its own member with the server's stamp. So the history is complete even where a sampler
  // (on the same, possibly busy, event loop) would miss members that lived one window.
  const { fx } = await fxClient();
  await fx.loadLibrary('cy_rate');
  const { admitted, sampled, logged } = await hammer(log, windowMs, 1250, (c) => async (i) => {
    const cost = 1 + (i % 4);
    const [r, newest] = await c
      .multi()
      .call('FCALL', 'cy_rate_sliding_window', 1, log, limit, windowMs, cost)
      .call('ZRANGE', log, -1, -1, 'WITHSCORES')
      .exec();
    const allowed = (r as number[])[0] === 1;
    return { allowed, cost, logged: allowed ? rowsOf(newest as unknown[])[0] : undefined };
  });
  assert.is(new Set(logged).size, logged.length, 'each admission wrote a member of its own');
  const history = logged
    .map((e) => {
      const at = e.lastIndexOf('@');
      return { score: Number(e.slice(at + 1)), units: unitsOf(e.slice(0, at)) };
    })
    .sort((a, b) => a.score - b.score);
  assert.is(
    history.reduce((a, h) => a + h.units, 0),
    admitted,
    'every admission in the log, with its cost',
  );
  const strays = [...sampled].filter((m) => !logged.includes(m));
  assert.equal(strays, [], 'the log holds no member no call admitted');
  assert.ok(admitted > 3 * limit, `${admitted} units admitted`);
  const one = mostIn(history, windowMs);
  assert.ok(one <= limit, `${one} units in one window`);
});

test('token and leaky buckets never rewind ts when the server clock steps back', async () => {
  const { fx, redis } = await fxClient();
  const scripts = new ScriptHelper(redis);
  const [sec, usec] = (await redis.call('TIME')) as string[];
  const ahead = Number(sec) * 1000 + Math.floor(Number(usec) / 1000) + 60_000;
  // A bucket written while the clock was a minute ahead (the clock stepped back since).
  const tb = keyPrefix('rate') + 'clk';
  await redis.call('HSET', `cy:rate:{${tb}}:tb`, 'tokens', 5, 'ts', ahead);
  // A burst from 4 connections at 1 token/ms: the 5 stored tokens and not one more (version 2
  // rewound ts to now on the first admission and refilled the rest of the burst from there).
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  const burstResults = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      fxs[i % 4].rate.tokenBucket(tb, { capacity: 10, refillRatePerMs: 1 }),
    ),
  );
  assert.is(burstResults.filter((r) => r.allowed).length, 5, 'no token minted');
  for (const r of burstResults) assert.ok(r.remaining >= 0, `remaining ${r.remaining}`);
  assert.is(Number(await redis.call('HGET', `cy:rate:{${tb}}:tb`, 'tokens')), 0, 'never negative');
  await sleep(20); // 20 tokens' worth of time, all of it still before ts
  const denied = await fx.rate.tokenBucket(tb, { capacity: 10, refillRatePerMs: 1, cost: 5 });
  assert.equal(
    [denied.allowed, denied.remaining],
    [false, 0],
    'no refill before the clock passes ts again',
  );
  assert.ok(denied.retryAfterMs > 55_000);
  assert.is(Number(await redis.call('HGET', `cy:rate:{${tb}}:tb`, 'ts')), ahead, 'cy_rate tb');

  await redis.call('HSET', `cy:rate:{${tb}}:lb`, 'level', 1, 'ts', ahead);
  assert.ok((await fx.rate.leakyBucket(tb, { capacity: 10, leakRatePerMs: 1 })).allowed);
  assert.is(Number(await redis.call('HGET', `cy:rate:{${tb}}:lb`, 'ts')), ahead, 'cy_rate lb');

  const sk = keyPrefix('rate') + 'sclk';
  await redis.call('HSET', sk, 'tokens', 5, 'ts', ahead);
  assert.ok(await scripts.rateLimitTokenBucket(sk, 10, 1000));
  assert.is(Number(await redis.call('HGET', sk, 'ts')), ahead, 'token_bucket.lua');
});

test('sliding-window logs of earlier versions and counters near 2^52 are renumbered, not misread', async () => {
  const { fx, redis } = await fxClient();
  const [sec, usec] = (await redis.call('TIME')) as string[];
  const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  // cy_rate version 2 left one member per unit: '<ms>-<seq>'.
  const k = keyPrefix('rate') + 'legacy';
  const key = `cy:rate:{${k}}:sw`;
  for (let i = 1; i <= 5; i++) await redis.call('ZADD', key, now - 10, `${now - 10}-${i + 90}`);
  const o = { limit: 6, windowMs: 60_000 };
  const denied = await fx.rate.slidingWindow(k, { ...o, cost: 2 });
  assert.equal([denied.allowed, denied.remaining], [false, 1], 'five units already used');
  assert.ok((await fx.rate.slidingWindow(k, o)).allowed);
  assert.is(await redis.call('ZCARD', key), 6);
  assert.is((await fx.rate.slidingWindow(k, o)).allowed, false);
  const members = (await redis.call('ZRANGE', key, 0, -1)) as string[];
  assert.equal(members.at(-1), '0000000000000006:1');

  // A log whose unit counter reached 2^52 starts again from 1 (exact counting).
  const k2 = keyPrefix('rate') + 'rebase';
  const key2 = `cy:rate:{${k2}}:sw`;
  await redis.call('ZADD', key2, now - 10, `${2 ** 52 - 1}:3`);
  const r = await fx.rate.slidingWindow(k2, { limit: 10, windowMs: 60_000, cost: 4 });
  assert.equal([r.allowed, r.remaining], [true, 3]);
  assert.equal(await redis.call('ZRANGE', key2, 0, -1), [
    '0000000000000003:3',
    '0000000000000007:4',
  ]);
});

test.after(closeAll);
test.run();
