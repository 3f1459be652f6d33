import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import { InvalidArgumentError, LockNotHeldError, ReplyError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { contend, CURSOR, sharedState, VIOLATIONS, views, WINS } from './fixtures/contend.js';
import { client, closeAll, fxClient, hashTag, keysLike, sleep } from './helpers.js';

test('acquire, re-enter, status, release in steps; tokens never reused', async () => {
  const { redis, fx } = await fxClient();
  const res = keyPrefix('lock') + 'a';
  const first = await fx.locks.acquire(res, 'w1', 5000);
  assert.equal(first, { acquired: true, fencingToken: 1, holdCount: 1, pttl: 5000 });
  const again = await fx.locks.acquire(res, 'w1', 5000);
  assert.equal(again, { acquired: true, fencingToken: 1, holdCount: 2, pttl: 5000 });
  const other = await fx.locks.acquire(res, 'w2', 5000);
  assert.is(other.acquired, false);
  assert.is(other.fencingToken, null);
  assert.ok(other.pttl > 4000 && other.pttl <= 5000);

  const st = await fx.locks.status(res);
  assert.ok(st.held);
  if (st.held) {
    assert.is(st.owner, 'w1');
    assert.is(st.fencingToken, 1);
    assert.is(st.holdCount, 2);
  }
  assert.is(await fx.locks.release(res, 'w1'), false, 'one hold left');
  assert.is(await fx.locks.release(res, 'w1'), true, 'free now');
  assert.equal(await fx.locks.status(res), { held: false });
  // The fence counter outlives the lock: the next holder gets a larger token.
  assert.is((await fx.locks.acquire(res, 'w2', 5000)).fencingToken, 2);
  assert.ok(await redis.call('EXISTS', `cy:lock:{${res}}`));
  await redis.close();
});

test("a non-owner's release and refresh are refused with LockNotHeldError", async () => {
  const { fx, redis } = await fxClient();
  const res = keyPrefix('lock') + 'b';
  await fx.locks.acquire(res, 'owner', 5000);
  const err = await rejects(() => fx.locks.release(res, 'intruder'), LockNotHeldError);
  assert.is(err.code, 'CYREDIS_ERR_LOCK_NOT_HELD');
  await rejects(() => fx.locks.refresh(res, 'intruder', 5000), LockNotHeldError);
  await rejects(() => fx.locks.release(keyPrefix('lock') + 'never', 'x'), LockNotHeldError);
  const st = await fx.locks.status(res);
  assert.ok(st.held && st.owner === 'owner' && st.holdCount === 1, 'untouched');
  await fx.locks.refresh(res, 'owner', 60_000);
  const after = await fx.locks.status(res);
  assert.ok(after.held && after.pttl > 50_000);
  await redis.close();
});

test('a lease that really expires hands over, with a larger token; the late owner learns it', async () => {
  const { fx, redis } = await fxClient();
  const res = keyPrefix('lock') + 'exp';
  const a = await fx.locks.acquire(res, 'A', 120);
  assert.ok(a.acquired);
  assert.is((await fx.locks.acquire(res, 'B', 5000)).acquired, false);
  await sleep(200);
  const b = await fx.locks.acquire(res, 'B', 5000);
  assert.ok(b.acquired);
  assert.ok(b.fencingToken! > a.fencingToken!, 'token strictly increases across expiry');
  await rejects(() => fx.locks.release(res, 'A'), LockNotHeldError);
  await rejects(() => fx.locks.refresh(res, 'A', 1000), LockNotHeldError);
  assert.is(await fx.locks.release(res, 'B'), true);
  await redis.close();
});

test('tryMulti takes all resources of one tag or none', async () => {
  const { fx, redis } = await fxClient();
  const tag = keyPrefix('tag');
  const got = await fx.locks.tryMulti(['r1', 'r2', 'r3'], 'A', 5000, { tag });
  assert.equal(got, { acquired: true, fencingTokens: [1, 1, 1] });
  // The same resource through acquire with the same tag is the same lock.
  assert.is((await fx.locks.acquire('r2', 'B', 5000, { tag })).acquired, false);
  const blocked = await fx.locks.tryMulti(['r4', 'r2'], 'B', 5000, { tag });
  assert.equal(blocked, { acquired: false, blockedBy: 'r2' });
  assert.equal(await fx.locks.status('r4', { tag }), { held: false }, 'nothing written');
  // Re-entry by the owner counts as a hold.
  const again = await fx.locks.tryMulti(['r1', 'r4'], 'A', 5000, { tag });
  assert.equal(again, { acquired: true, fencingTokens: [1, 1] });
  const r1 = await fx.locks.status('r1', { tag });
  assert.ok(r1.held && r1.holdCount === 2);
  // One slot: every key carries the tag.
  const locks = await keysLike(redis, `cy:lock:{${tag}}*`);
  const fences = await keysLike(redis, `cy:fence:{${tag}}*`);
  assert.is(locks.length, 4, 'four locks');
  assert.is(fences.length, 4, 'four fences');
  assert.equal(new Set([...locks, ...fences].map(hashTag)), new Set([tag]));
  await rejects(() => fx.locks.tryMulti(['x', 'y'], 'A', 5000), InvalidArgumentError);
  await rejects(() => fx.locks.tryMulti(['x', 'x'], 'A', 5000, { tag }), InvalidArgumentError);
  await rejects(() => fx.locks.tryMulti(['x'], 'A', 5000, { tag: 'a}b' }), InvalidArgumentError);
  await redis.close();
});

test('contention: 4 clients and 2 worker threads, never two holders, tokens strictly increase', async () => {
  const info = await sharedRedis();
  const res = keyPrefix('lock') + 'hot';
  const perContender = 40;
  const mainClients = 4;
  const workers = 2;
  const total = perContender * (mainClients + workers);
  const sab = sharedState(total);

  const clients = await Promise.all(Array.from({ length: mainClients }, () => client()));
  const threads = Array.from(
    { length: workers },
    (_, i) =>
      new Worker(new URL('./fixtures/lock-worker.js', import.meta.url), {
        workerData: {
          url: info.url,
          resource: res,
          owner: `thread-${i}`,
          rounds: perContender,
          sab,
        },
      }),
  );
  const threadDone = threads.map(
    (w) =>
      new Promise<void>((resolve, reject) => {
        w.once('error', reject);
        w.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker exit ${code}`)),
        );
      }),
  );
  await Promise.all([
    ...clients.map((c, i) => contend(new RedisFunctions(c), res, `client-${i}`, perContender, sab)),
    ...threadDone,
  ]);

  const { header, tokens } = views(sab);
  assert.is(header[VIOLATIONS], 0, 'never two holders at once');
  assert.is(header[WINS], total);
  assert.is(header[CURSOR], total);
  for (let i = 1; i < total; i++) {
    if (!(tokens[i] > tokens[i - 1]))
      assert.unreachable(`token ${tokens[i]} after ${tokens[i - 1]} at entry ${i}`);
  }
  assert.is(tokens[total - 1], total, 'one token per acquisition, none skipped or reused');
});

test('bad arguments are refused before anything is sent', async () => {
  const { fx, redis } = await fxClient();
  const res = keyPrefix('lock') + 'bad';
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.locks.acquire(res, 'o', -1), 'ttlMs'],
    [() => fx.locks.acquire(res, 'o', 1.5), 'ttlMs'],
    [() => fx.locks.acquire(res, 'o', Number.NaN), 'ttlMs'],
    [() => fx.locks.acquire(res, '', 1000), 'owner'],
    [() => fx.locks.acquire('', 'o', 1000), 'resource'],
    [() => fx.locks.acquire(res, 'o', '1000' as unknown as number), 'ttlMs'],
    [() => fx.locks.acquire(res, 'o', 1000, { tag: '' }), 'options.tag'],
    [() => fx.locks.refresh(res, 'o', 0), 'ttlMs'],
    [() => fx.locks.tryMulti([], 'o', 1000, { tag: 't' }), 'resources'],
  ];
  for (const [fn, field] of cases) {
    const err = await rejects(fn, InvalidArgumentError);
    assert.is(err.field, field);
  }
  assert.is(await redis.call('EXISTS', `cy:lock:{${res}}`, `cy:lock:{${res}}:fence`), 0);
  await redis.close();
});

// ---- regressions (review of cy_locks version 1) ----

test('a resource named "<r>:fence" no longer collides with the fence of <r> (4 connections at once)', async () => {
  const { fx, redis } = await fxClient();
  const tag = keyPrefix('fence');
  // Version 1: the lock HASH of "a:fence" sat on the fence of "a"; tryMulti([b, a]) then took
  // b and failed with WRONGTYPE on a's fence.
  assert.ok((await fx.locks.acquire('a:fence', 'w1', 60_000, { tag })).acquired);
  const got = await fx.locks.tryMulti(['b', 'a'], 'w2', 60_000, { tag });
  assert.equal(got, { acquired: true, fencingTokens: [1, 1] });
  await fx.locks.release('b', 'w2', { tag });
  await fx.locks.release('a', 'w2', { tag });
  await fx.locks.release('a:fence', 'w1', { tag });

  // Contention on both names from four connections: never an error, tokens strictly increase.
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  const seen: Record<string, number[]> = { a: [], 'a:fence': [] };
  await Promise.all(
    fxs.map(async (f, i) => {
      for (let won = 0; won < 10;) {
        const r = await f.locks.tryMulti(['a', 'a:fence'], `w${i}`, 5000, { tag });
        if (!r.acquired) {
          await sleep(1);
          continue;
        }
        seen.a.push(r.fencingTokens[0]);
        seen['a:fence'].push(r.fencingTokens[1]);
        await f.locks.release('a', `w${i}`, { tag });
        await f.locks.release('a:fence', `w${i}`, { tag });
        won++;
      }
    }),
  );
  for (const tokens of Object.values(seen)) {
    assert.is(tokens.length, 40);
    for (let i = 1; i < tokens.length; i++)
      if (!(tokens[i] > tokens[i - 1]))
        assert.unreachable(`token ${tokens[i]} after ${tokens[i - 1]}`);
  }
  const keys = [
    ...(await keysLike(redis, `cy:lock:{${tag}}*`)),
    ...(await keysLike(redis, `cy:fence:{${tag}}*`)),
  ];
  assert.equal(new Set(keys.map(hashTag)), new Set([tag]), 'one slot');
});

test('tryMulti checks every key before writing: a key of another type leaves nothing taken', async () => {
  const { fx, redis } = await fxClient();
  const tag = keyPrefix('types');
  await redis.call('SET', `cy:fence:{${tag}}c`, 'not a counter');
  await rejects(() => fx.locks.tryMulti(['d', 'c'], 'w', 5000, { tag }), ReplyError);
  await redis.call('SET', `cy:lock:{${tag}}e`, 'a string, not a lock');
  await rejects(() => fx.locks.tryMulti(['d', 'e'], 'w', 5000, { tag }), ReplyError, /WRONGTYPE/);
  assert.equal(await fx.locks.status('d', { tag }), { held: false }, 'nothing written');
  assert.equal(await keysLike(redis, `cy:fence:{${tag}}d`), []);
});

test('upgrade from version 1: tokens continue from the old counter at <lock key>:fence', async () => {
  const { fx, redis } = await fxClient();
  const res = keyPrefix('lock') + 'upgraded';
  await redis.call('SET', `cy:lock:{${res}}:fence`, '41'); // what version 1 left behind
  assert.is((await fx.locks.acquire(res, 'w', 5000)).fencingToken, 42);
  await fx.locks.release(res, 'w');
  assert.is((await fx.locks.acquire(res, 'w', 5000)).fencingToken, 43);
  assert.is(await redis.call('GET', `cy:fence:{${res}}`), '43');
  // A version-1 caller (lock key and <lock key>:fence) is refused, not served from the old counter.
  const err = await rejects(
    () =>
      fx.call('cy_locks_acquire', [`cy:lock:{${res}}`, `cy:lock:{${res}}:fence`], ['v1', '1000']),
    InvalidArgumentError,
  );
  assert.is(err.field, 'keys');
  // With a tag the old counter of "x" sat on the lock key of "x:fence": the migration deletes
  // it, so "x:fence" can be locked once "x" was acquired after the upgrade.
  const tag = keyPrefix('lock');
  await redis.call('SET', `cy:lock:{${tag}}x:fence`, '7');
  assert.is((await fx.locks.acquire('x', 'w', 5000, { tag })).fencingToken, 8);
  assert.is(await redis.call('EXISTS', `cy:lock:{${tag}}x:fence`), 0, 'the old counter is gone');
  assert.is((await fx.locks.acquire('x:fence', 'w', 5000, { tag })).fencingToken, 1);
  await fx.locks.release('x', 'w', { tag });
  assert.is((await fx.locks.acquire('x', 'w2', 5000, { tag })).fencingToken, 9);
});

test('maxmemory-policy allkeys-*: the first acquire warns that fences could be evicted', async () => {
  const admin = await client();
  const before = (
    (await admin.call('CONFIG', 'GET', 'maxmemory-policy')) as Record<string, string>
  )['maxmemory-policy'];
  await admin.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
  try {
    const warned = new Promise<Error & { code?: string }>((resolve) => {
      const on = (w: Error & { code?: string }): void => {
        if (w.code !== 'CYREDIS_FENCE_EVICTION') return;
        process.off('warning', on);
        resolve(w);
      };
      process.on('warning', on);
    });
    const { fx } = await fxClient();
    assert.ok((await fx.locks.acquire(keyPrefix('lock') + 'evict', 'w', 1000)).acquired);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), 2000)));
    const w = await Promise.race([warned, timeout]);
    clearTimeout(timer);
    assert.ok(w, 'warned');
    assert.match(w.message, /allkeys-lru/);
  } finally {
    await admin.call('CONFIG', 'SET', 'maxmemory-policy', before ?? 'noeviction');
  }
});

test.after(closeAll);
test.run();
