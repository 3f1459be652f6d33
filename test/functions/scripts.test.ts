import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUNDLED_SCRIPTS,
  bundledScript,
  lruKeysOf,
  LuaScriptManager,
  OptimizedLuaScriptManager,
  ScriptHelper,
} from '../../lua/index.js';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import type { BundledScript } from '../../lua/index.js';
import {
  CyRedisError,
  InvalidArgumentError,
  NotFoundError,
  ReplyError,
  ScriptError,
} from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix, startRedis } from '../support/redis-server.js';
import { client, closeAll, keysLike, sleep, slotOf } from './helpers.js';

const COUNTER = `
local key = KEYS[1]
local operation = ARGV[1]

if operation == "INCR" then
    return redis.call('INCR', key)
elseif operation == "GET" then
    return redis.call('GET', key) or 0
end

return 0
`;

test('every bundled script reads with its version', () => {
  for (const name of BUNDLED_SCRIPTS) {
    const s = bundledScript(name);
    assert.ok(s.version !== null && s.version >= 1, name);
    assert.ok(s.source.includes('KEYS'), name);
  }
  assert.is(bundledScript('rate_limiter.lua').name, 'rate_limiter');
  assert.throws(
    () => bundledScript('nope'),
    (e: unknown) => e instanceof InvalidArgumentError,
  );
});

test('every bundled script, assembled with its prelude blocks, compiles and runs under LuaScriptManager', async () => {
  const redis = await client();
  const m = new LuaScriptManager(redis, keyPrefix('scripts'));
  for (const name of BUNDLED_SCRIPTS) {
    const { source } = bundledScript(name);
    assert.equal(await m.validateScript(source), { valid: true, error: null, line: null }, name);
  }
  await m.registerScript('lock', bundledScript('distributed_lock').source, '3');
  const key = keyPrefix('mgrlock');
  assert.is(await m.executeScript('lock', [key], ['acquire', 'me', 1000]), 1);
  const err = await rejects(
    () => m.executeScript('lock', [key], ['acquire', '', 1000]),
    InvalidArgumentError,
  );
  assert.is(err.field, 'owner');
});

test('ScriptHelper: locks, bounded counters, batches, priority queue, LRU cache', async () => {
  const redis = await client();
  const s = new ScriptHelper(redis);
  const p = keyPrefix('sh');

  assert.is(await s.acquireLock(`${p}lock`, 'w1', 5000), true);
  assert.is(await s.acquireLock(`${p}lock`, 'w2', 5000), false);
  assert.is(await s.releaseLock(`${p}lock`, 'w2'), false, "not w2's to release");
  assert.is(await s.extendLock(`${p}lock`, 'w1', 9000), true);
  assert.is(await s.releaseLock(`${p}lock`, 'w1'), true);

  assert.equal(await s.boundedIncrement(`${p}inv`, 5, 0, 8), { applied: true, value: 5 });
  assert.equal(await s.boundedIncrement(`${p}inv`, 5, 0, 8), { applied: false, value: 5 });
  assert.equal(await s.boundedIncrement(`${p}inv`, -5, 0, 8), { applied: true, value: 0 });

  const n = await s.batchSetWithTtl({ [`${p}{s}1`]: 'user_123', [`${p}{s}2`]: 'user_456' }, 3600);
  assert.is(n, 2);
  assert.ok(((await redis.call('TTL', `${p}{s}1`)) as number) > 3500);

  assert.is(await s.pushPriorityQueue(`${p}jobs`, 5, 'later'), true);
  assert.is(await s.pushPriorityQueue(`${p}jobs`, 1, 'urgent'), true);
  assert.is(await s.pushPriorityQueue(`${p}jobs`, 3, 'urgent'), false, 'updated');
  assert.is(await s.pushPriorityQueue(`${p}jobs`, 2, 'soon'), true);
  assert.equal(await s.popPriorityQueue(`${p}jobs`, 5), ['soon', 'urgent', 'later']);

  const idx = `${p}{lru}:idx`;
  const stats = `${p}{lru}:stats`;
  for (const k of ['a', 'b', 'c'])
    await s.cacheSetWithEviction(`${p}{lru}${k}`, k, 300, 3, idx, stats);
  await sleep(2);
  assert.is(await s.cacheGetLru(`${p}{lru}a`, idx, stats), 'a', 'a is now the most recent');
  await sleep(2);
  assert.is(await s.cacheSetWithEviction(`${p}{lru}d`, 'd', 300, 3, idx, stats), 1);
  assert.is(await s.cacheGetLru(`${p}{lru}b`, idx, stats), null, 'b was the least recently used');
  assert.is(await s.cacheGetLru(`${p}{lru}a`, idx, stats), 'a');
  assert.equal(await redis.call('HGETALL', stats), {
    sets: '4',
    evictions: '1',
    hits: '2',
    misses: '1',
  });

  await s.smartCacheSet(`${p}{sc}`, 'v', 5000, `${p}{sc}:stats`);
  assert.is(await s.smartCacheGet(`${p}{sc}`, `${p}{sc}:stats`), 'v');
  assert.is(await s.smartCacheGet(`${p}{sc}2`, `${p}{sc}:stats`), null);
  assert.equal(await s.smartCacheStats(`${p}{sc}:stats`), { hits: 1, misses: 1, sets: 1 });

  const q = `${p}jq`;
  const id = await s.jobPush(q, 'job-a');
  const [job] = await s.jobPop(q);
  assert.equal(job, { id, payload: 'job-a', failures: 0 });
  assert.is(await s.jobFail(q, id, 1), 'retrying');
  assert.is((await s.jobPop(q))[0].failures, 1);
  assert.is(await s.jobFail(q, id, 1), 'failed');
  await rejects(() => s.jobComplete(q, id), NotFoundError);
});

test('ScriptHelper: bad arguments are typed errors; Lua argument errors too', async () => {
  const redis = await client();
  const s = new ScriptHelper(redis);
  const p = keyPrefix('shbad');
  const cases: [() => Promise<unknown>, string][] = [
    [() => s.acquireLock(`${p}l`, 'o', 0), 'ttlMs'],
    [() => s.rateLimitSlidingWindow(`${p}r`, 10, 0), 'windowSeconds'],
    [() => s.rateLimitTokenBucket(`${p}r`, 10, -1), 'refillRate'],
    [() => s.boundedIncrement(`${p}b`, 1, 5, 1), 'maxVal'],
    [() => s.batchSetWithTtl({}, 10), 'entries'],
    [() => s.pushPriorityQueue(`${p}q`, Number.NaN, 'x'), 'priority'],
    [() => s.popPriorityQueue(`${p}q`, 0), 'count'],
    [() => s.cacheSetWithEviction(`${p}{c}x`, 'v', 10, 0), 'maxSize'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  // cost above the limit passes the TypeScript checks and is refused by the script.
  const err = await rejects(
    () => s.rateLimitSlidingWindow(`${p}r`, 2, 10, 3),
    InvalidArgumentError,
  );
  assert.is(err.field, 'cost');
  assert.equal(await keysLike(redis, `${p}*`), []);
});

test('LuaScriptManager: register, execute, info, list, validate with line numbers', async () => {
  const redis = await client();
  const ns = keyPrefix('scripts');
  const m = new LuaScriptManager(redis, ns);
  const sha = await m.registerScript('counter', COUNTER, '1.0.0');
  assert.match(sha, /^[0-9a-f]{40}$/);
  const k = keyPrefix('ctr');
  assert.is(await m.executeScript('counter', [k], ['GET']), 0);
  assert.is(await m.executeScript('counter', [k], ['INCR']), 1);
  const info = await m.getScriptInfo('counter');
  assert.is(info!.version, '1.0.0');
  assert.is(info!.sha, sha);
  assert.is(info!.calls, 2);
  assert.is(info!.loaded, true);
  assert.equal(Object.keys(m.listScripts()), ['counter']);
  assert.is(await m.getScriptInfo('nope'), null);
  await rejects(() => m.executeScript('nope'), InvalidArgumentError);

  // Another process (another manager on the same namespace) runs it by name.
  const other = new LuaScriptManager(redis, ns);
  assert.is(await other.executeScript('counter', [k], ['INCR']), 2);

  const ok = await m.validateScript(COUNTER);
  assert.equal(ok, { valid: true, error: null, line: null });
  const bad = await m.validateScript('local a = 1\nlocal b = 2\nlocal c =\nreturn a');
  assert.is(bad.valid, false);
  assert.is(bad.line, 4);
  assert.match(bad.error!, /unexpected symbol/);
  const shebang = await m.validateScript('#!lua flags=no-writes\nreturn 1 +');
  assert.is(shebang.line, 2);
  // Validation compiles without caching the script.
  const probe = 'return "validate-only ' + keyPrefix() + '"';
  assert.ok((await m.validateScript(probe)).valid);
  const { createHash } = await import('node:crypto');
  const probeSha = createHash('sha1').update(probe).digest('hex');
  assert.equal(await redis.call('SCRIPT', 'EXISTS', probeSha), [0]);

  const err = await rejects(() => m.registerScript('broken', 'return (', '1'), ScriptError);
  assert.is(err.line, 1);
  assert.is(err.code, 'CYREDIS_ERR_SCRIPT');
});

test('OptimizedLuaScriptManager.atomicLoadAndTest: registers only when every case passes', async () => {
  const redis = await client();
  const m = new OptimizedLuaScriptManager(redis, keyPrefix('scripts'));
  const result = await m.atomicLoadAndTest('counter', COUNTER, '1.0.0', {
    initial_value: { keys: ['test_counter'], args: ['GET'], expected: 0 },
    increment: { keys: ['test_counter'], args: ['INCR'], expected: 1 },
    bad_op: { keys: ['test_counter'], args: ['NOPE'], check: (r) => r === 0 },
  });
  assert.is(result.success, true, result.error ?? '');
  assert.is(result.error, null);
  assert.equal(
    result.results.map((r) => r.passed),
    [true, true, true],
  );
  const live = keyPrefix('live');
  assert.is(await result.functions!.execute([live], ['GET']), 0);
  assert.is(await result.functions!.execute([live], ['INCR']), 1);
  assert.equal(await keysLike(redis, 'cy:scripttest:*'), [], 'scratch keys cleaned');
  assert.is(await redis.call('EXISTS', 'test_counter'), 0, 'the real key was never touched');

  const failing = await m.atomicLoadAndTest('counter2', COUNTER, '1.0.0', [
    { keys: ['c'], args: ['INCR'], expected: 1 },
    { keys: ['c'], args: ['INCR'], expected: 1 },
  ]);
  assert.is(failing.success, false);
  assert.is(failing.functions, null);
  assert.match(failing.error!, /test cases failed: 1 \(got 2\)/);
  assert.is(await m.getScriptInfo('counter2'), null, 'not registered');
  assert.equal(await keysLike(redis, 'cy:scripttest:*'), []);

  const invalid = await m.atomicLoadAndTest('x', 'return +', '1', {});
  assert.is(invalid.success, false);
  assert.match(invalid.error!, /invalid script: script:1:/);

  const errors = await m.atomicLoadAndTest('thrower', "return redis.error_reply('nope')", '1', {
    fails: { expectError: /nope/ },
  });
  assert.is(errors.success, true);
});

test('scripts survive a server restart: reloadAllScripts and the NOSCRIPT fallback', async () => {
  const server = await startRedis();
  const redis = new HighPerformanceRedis({ host: server.host, port: server.port });
  redis.on('error', () => {});
  try {
    const m = new LuaScriptManager(redis);
    const helper = new ScriptHelper(redis);
    await m.registerScript('counter', COUNTER, '1');
    await m.registerScript('echo', 'return ARGV[1]', '1');
    assert.is(await helper.acquireLock('l', 'o', 60_000), true);

    const restart = async (): Promise<void> => {
      await server.restart();
      for (let i = 0; i < 100; i++) {
        if (
          await redis.call('PING').then(
            () => true,
            () => false,
          )
        )
          return;
        await sleep(50);
      }
      throw new Error('no reconnect');
    };
    await restart();
    assert.equal(
      await redis.call('SCRIPT', 'EXISTS', (await m.getScriptInfo('counter'))!.sha),
      [0],
    );
    const reloaded = await m.reloadAllScripts();
    assert.equal(Object.keys(reloaded).sort(), ['counter', 'echo']);
    assert.ok(reloaded.counter.ok && reloaded.echo.ok);
    assert.is((await m.getScriptInfo('echo'))!.loaded, true);
    assert.is(await m.executeScript('echo', [], ['hi']), 'hi');
    const adopter = new LuaScriptManager(redis);
    assert.is(await adopter.executeScript('echo', [], ['shared']), 'shared', 'copy rewritten');

    await restart();
    assert.is(await m.executeScript('counter', ['c'], ['INCR']), 1, 'NOSCRIPT: loaded again');
    assert.is((await m.getScriptInfo('counter'))!.reloads, 1);
    assert.is(await helper.acquireLock('l', 'o2', 1000), true, 'ScriptHelper after a restart');

    assert.is(await m.cleanupScripts(true), 2);
    assert.equal(m.listScripts(), {});
    await rejects(() => m.cleanupScripts(false), InvalidArgumentError);
  } finally {
    await redis.close();
    await server.stop();
  }
});

// ---- regressions (review of lua/ version 1) ----

test('a script registered again by another process is seen at the next execute (and after NOSCRIPT)', async () => {
  const [a, b] = [await client(), await client()];
  const ns = keyPrefix('scripts');
  const A = new LuaScriptManager(a, ns);
  const B = new LuaScriptManager(b, ns);
  await A.registerScript('greet', "return 'v1'", '1');
  assert.is(await B.executeScript('greet'), 'v1', 'adopted from the namespace');
  await A.registerScript('greet', "return 'v2'", '2');
  assert.is(await B.executeScript('greet'), 'v2', 'version 1 kept running v1');
  assert.is((await B.getScriptInfo('greet'))!.version, '2');
  // B registers v3; A (which registered v2 itself) runs v3 too.
  await B.registerScript('greet', "return 'v3'", '3');
  assert.is(await A.executeScript('greet'), 'v3');
  // After SCRIPT FLUSH the NOSCRIPT reload sends the current source, not the first one seen.
  await a.call('SCRIPT', 'FLUSH');
  assert.is(await B.executeScript('greet'), 'v3');
  assert.is((await B.getScriptInfo('greet'))!.reloads, 1);
  // Concurrent executes from both while the script changes: only v3 or v4, never v1/v2.
  const [runs] = await Promise.all([
    Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? A : B).executeScript('greet'))),
    A.registerScript('greet', "return 'v4'", '4'),
  ]);
  for (const r of runs) assert.ok(r === 'v3' || r === 'v4', JSON.stringify(r));
  assert.is(await B.executeScript('greet'), 'v4');
  // A reload after a restart does not put an older copy back over a newer one.
  const C = new LuaScriptManager(b, ns);
  await C.registerScript('greet', "return 'v5'", '5');
  await A.reloadAllScripts();
  assert.is(await C.executeScript('greet'), 'v5');
});

test('after a restart lost the namespace, a manager that missed a registration never brings back the older copy', async () => {
  const server = await startRedis();
  const conns = [0, 1].map(() => {
    const c = new HighPerformanceRedis({ host: server.host, port: server.port });
    c.on('error', () => {});
    return c;
  });
  try {
    const [A, B] = conns.map((c) => new LuaScriptManager(c, 'cy:scripts:{restart}'));
    await A.registerScript('greet', "return 'old'", '1');
    await sleep(2); // registeredAt is in ms: B's registration comes strictly later
    await B.registerScript('greet', "return 'new'", '2');
    // A never ran the script since: it holds the old copy in memory.
    await server.restart(); // no persistence: the namespace hash and the script cache are gone
    for (let i = 0; i < 100; i++) {
      const up = await Promise.all(
        conns.map((c) =>
          c.call('PING').then(
            () => true,
            () => false,
          ),
        ),
      );
      if (up.every(Boolean)) break;
      await sleep(50);
    }
    assert.ok((await A.reloadAllScripts()).greet.ok, 'A writes back what it has');
    // B still runs its newer copy and puts it back; A adopts it at its next execute.
    assert.is(await B.executeScript('greet'), 'new', 'version 1 adopted the older copy');
    assert.is(await A.executeScript('greet'), 'new');
    assert.is((await A.getScriptInfo('greet'))!.version, '2');
    // Another reload from A (older) does not replace it either.
    await A.reloadAllScripts();
    assert.is(
      await new LuaScriptManager(conns[1], 'cy:scripts:{restart}').executeScript('greet'),
      'new',
    );
    // A copy whose SHA is not its source's is refused instead of run.
    const forged = JSON.stringify({
      version: '3',
      sha: '0'.repeat(40),
      registeredAt: Date.now() + 1e6,
      source: "return 'x'",
    });
    await conns[0].call('HSET', 'cy:scripts:{restart}', 'greet', forged);
    await rejects(() => A.executeScript('greet'), CyRedisError, /not its source's/);
  } finally {
    await Promise.all(conns.map((c) => c.close()));
    await server.stop();
  }
});

test('ScriptHelper keys: one cluster slot per call, derived keys follow the key hash tag', async () => {
  const redis = await client();
  const s = new ScriptHelper(redis);
  const p = keyPrefix('slots');
  // rateLimitWithBurst: version 1 also wrote <key>:seq, in another slot.
  await s.rateLimitWithBurst(`${p}api:user1`, 5, 1000, 1);
  const written = await keysLike(redis, `${p}*`);
  assert.equal(written, [`${p}api:user1`]);
  // LRU defaults: in the slot of the key's tag (version 1: cy:lru:{default}:..., elsewhere).
  const key = `${p}page:{${p}pages}:/home`;
  await s.cacheSetWithEviction(key, 'v', 60, 10);
  assert.is(await s.cacheGetLru(key), 'v');
  const lru = await keysLike(redis, `cy:lru:{${p}pages}:*`);
  assert.equal(lru.sort(), [`cy:lru:{${p}pages}:index`, `cy:lru:{${p}pages}:stats`]);
  assert.equal(new Set([key, ...lru].map(slotOf)).size, 1);
  assert.equal(lruKeysOf(key), {
    indexKey: `cy:lru:{${p}pages}:index`,
    statsKey: `cy:lru:{${p}pages}:stats`,
  });
  // Keys that cannot share a slot are refused before anything is sent.
  const refusals: [() => Promise<unknown>, string][] = [
    [() => s.cacheSetWithEviction(`${p}untagged`, 'v', 60, 10), 'key'],
    [() => s.cacheGetLru(`${p}untagged`), 'key'],
    [
      () => s.cacheSetWithEviction(key, 'v', 60, 10, 'cy:lru:{other}:i', 'cy:lru:{other}:s'),
      'indexKey',
    ],
    [() => s.smartCacheGet(`${p}{a}k`, `${p}{b}stats`), 'statsKey'],
    [() => s.smartCacheSet(`${p}{a}k`, 'v', 1000, `${p}{b}stats`), 'statsKey'],
    [() => s.batchSetWithTtl({ [`${p}x`]: '1', [`${p}y`]: '2' }, 10), 'entries'],
    [() => s.jobPush('}x', 'x'), 'queue'],
  ];
  for (const [fn, field] of refusals)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  assert.equal(await keysLike(redis, `*{${p}a}*`), []);
  assert.equal(await keysLike(redis, `${p}x`), []);
});

test('EVAL scripts refuse integers past 2^53 before any write', async () => {
  const redis = await client();
  const p = `{${keyPrefix('clamp')}}`;
  const evalScript = (name: BundledScript, keys: string[], args: string[]): Promise<unknown> =>
    redis.call('EVAL', bundledScript(name).source, keys.length, ...keys, ...args);
  const huge = '99999999999999999'; // 17 digits: passed the old length check, not exact in Lua
  const cases: [BundledScript, string[], string[], string][] = [
    ['bounded_increment', [`${p}n`], [huge, '0', '1'], 'increment'],
    ['bounded_increment', [`${p}n`], ['1', '0', huge], 'max'],
    ['rate_limiter', [`${p}r`], [huge, '1000', '0', ''], 'limit'],
    ['rate_limiter', [`${p}r`], ['5', huge, '0', ''], 'window_ms'],
    [
      'job_queue',
      ['pending', 'processing', 'jobs', 'attempts', 'failed', 'seq'].map((s) => p + s),
      ['fail', '1', huge],
      'max_retries',
    ],
    ['token_bucket', [`${p}t`], [huge, '1', ''], 'capacity'],
    ['sliding_window', [`${p}w`], ['5', huge, ''], 'window_ms'],
  ];
  for (const [name, keys, args, field] of cases) {
    const err = await rejects(() => evalScript(name, keys, args), ReplyError);
    assert.match(err.message, new RegExp(`^ERR_CY_ARG ${field} `), `${name} ${field}`);
  }
  assert.equal(await keysLike(redis, `${p}*`), []);
});

test('EVAL scripts check their KEYS count first: a wrong count is ERR_CY_ARG keys, nothing written', async () => {
  const redis = await client();
  const t = `{${keyPrefix('evalkeys')}}`;
  const k = (n: number): string[] => Array.from({ length: n }, (_, i) => `${t}k${i}`);
  // Each script with arguments that would write if its keys were accepted.
  const calls: Record<BundledScript, { keys: number[]; args: string[] }> = {
    rate_limiter: { keys: [0, 2], args: ['5', '1000', '0', ''] },
    distributed_lock: { keys: [0, 2], args: ['acquire', 'o', '1000'] },
    smart_cache: { keys: [0, 1, 3], args: ['set', 'v', '1000'] },
    job_queue: { keys: [0, 5, 7], args: ['push', 'p'] },
    sliding_window: { keys: [0, 2], args: ['5', '1000', ''] },
    token_bucket: { keys: [0, 2], args: ['5', '1', ''] },
    bounded_increment: { keys: [0, 2], args: ['1', '0', '10'] },
    batch_set_ttl: { keys: [0], args: ['1000'] },
    priority_push: { keys: [0, 2], args: ['1', 'item'] },
    priority_pop: { keys: [0, 2], args: ['1'] },
    cache_set_evict: { keys: [0, 1, 4], args: ['v', '1000', '5'] },
    cache_get_lru: { keys: [0, 2, 4], args: [] },
  };
  assert.equal(Object.keys(calls).sort(), [...BUNDLED_SCRIPTS].sort(), 'every script');
  for (const [name, { keys, args }] of Object.entries(calls)) {
    for (const n of keys) {
      const err = await rejects(
        () => redis.call('EVAL', bundledScript(name).source, n, ...k(n), ...args),
        ReplyError,
      );
      assert.match(err.message, /^ERR_CY_ARG keys /, `${name} with ${n} keys: ${err.message}`);
      assert.equal(await keysLike(redis, `${t}*`), [], `${name} with ${n} keys wrote`);
    }
  }
});

test('bounded_increment: a stored counter past 2^53 is refused, not rounded', async () => {
  const redis = await client();
  const s = new ScriptHelper(redis);
  const key = keyPrefix('clamp') + 'stored';
  await redis.call('SET', key, '9007199254740993'); // 2^53 + 1: a Lua number would read 2^53
  await rejects(
    () => s.boundedIncrement(key, -1, 0, 1e15),
    ReplyError,
    /not an integer or out of range/,
  );
  assert.is(await redis.call('GET', key), '9007199254740993', 'nothing written');
  await redis.call('SET', key, String(Number.MAX_SAFE_INTEGER - 1));
  assert.equal(await s.boundedIncrement(key, 1, 0, Number.MAX_SAFE_INTEGER), {
    applied: true,
    value: Number.MAX_SAFE_INTEGER,
  });
  assert.equal(await s.boundedIncrement(key, 1, 0, Number.MAX_SAFE_INTEGER), {
    applied: false,
    value: Number.MAX_SAFE_INTEGER,
  });
  await rejects(() => s.boundedIncrement(key, 1, 0, 2 ** 53), InvalidArgumentError);
});

test.after(closeAll);
test.run();
