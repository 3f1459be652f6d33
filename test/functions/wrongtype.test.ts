/**
 * A key of the wrong type at a key written late in a function or script: the call is refused
 * with a WRONGTYPE error reply naming that key, and NOTHING is written (before, Redis raised
 * WRONGTYPE at that key's own write, after the earlier writes: a partial write).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import type { RedisFunctions } from '../../functions/index.js';
import { bundledScript } from '../../lua/index.js';
import { ReplyError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { closeAll, fxClient, keysLike } from './helpers.js';

type Snapshot = Record<string, unknown>;

/** Every key of tag `t` with its type and whole contents (streams: entries and groups). */
async function snapshot(redis: HighPerformanceRedis, t: string): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const key of (await keysLike(redis, `*{${t}}*`)).sort()) {
    const type = (await redis.call('TYPE', key)) as string;
    let value: unknown;
    if (type === 'string') value = await redis.call('GET', key);
    else if (type === 'hash') value = await redis.call('HGETALL', key);
    else if (type === 'zset') value = await redis.call('ZRANGE', key, 0, -1, 'WITHSCORES');
    else if (type === 'list') value = await redis.call('LRANGE', key, 0, -1);
    else if (type === 'stream') {
      const groups = (await redis.call('XINFO', 'GROUPS', key)) as unknown[];
      const pending = [];
      for (const g of groups) {
        // A flat RESP2 row {'name', <name>, ...} or a RESP3 map.
        const name: unknown = Array.isArray(g)
          ? (g as unknown[])[g.indexOf('name') + 1]
          : g instanceof Map
            ? g.get('name')
            : (g as Record<string, unknown>).name;
        // Rows {id, consumer, idle ms, deliveries}: the idle time moves on by itself.
        const rows = (await redis.call(
          'XPENDING',
          key,
          String(name),
          '-',
          '+',
          100,
        )) as unknown[][];
        pending.push(rows.map((r) => [r[0], r[1], r[3]]));
      }
      value = [await redis.call('XRANGE', key, '-', '+'), groups, pending];
    }
    // A TTL counts down meanwhile: compare whether there is one.
    const ttl = (await redis.call('PTTL', key)) as number;
    out[key] = { type, value, expires: ttl >= 0 };
  }
  return out;
}

/**
 * Runs `call` with a wrong-type key in place and asserts the WRONGTYPE reply naming `bad` and
 * that every key of tag `t` is as it was.
 */
async function refusedUnchanged(
  redis: HighPerformanceRedis,
  t: string,
  bad: string,
  call: () => Promise<unknown>,
  what: string,
): Promise<void> {
  const before = await snapshot(redis, t);
  const err = await rejects(call, ReplyError, /WRONGTYPE/);
  assert.is(err.redisCode, 'WRONGTYPE', what);
  assert.ok(err.message.includes(bad), `${what}: names ${bad}: ${err.message}`);
  assert.equal(await snapshot(redis, t), before, `${what}: nothing written`);
}

const SUFFIXES = [':ready', ':delayed', ':inflight', ':msg', ':meta', ':dead', ':seq'];

function queueKeys(t: string): string[] {
  return SUFFIXES.map((s) => `cy:q:{${t}}q${s}`);
}

async function clean(redis: HighPerformanceRedis, t: string): Promise<void> {
  const keys = await keysLike(redis, `*{${t}}*`);
  if (keys.length > 0) await redis.call('DEL', ...keys);
}

async function setup(): Promise<{ redis: HighPerformanceRedis; fx: RedisFunctions; t: string }> {
  const { redis, fx } = await fxClient();
  await fx.loadAllLibraries();
  return { redis, fx, t: keyPrefix('wt') };
}

test('cy_queue_enqueue: a wrong-type meta, ready, delayed or seq key is refused, nothing written', async () => {
  const { redis, fx, t } = await setup();
  const keys = queueKeys(t);
  const [ready, delayed, , , meta, , seq] = keys;
  const cases: [string, string[], string[]][] = [
    [meta, ['SET', meta, 'x'], ['m1', 'p', '', '']],
    [ready, ['SET', ready, 'x'], ['m1', 'p', '', '']],
    [seq, ['HSET', seq, 'f', 'v'], ['m1', 'p', '', '']],
    [seq, ['SET', seq, 'not-a-number'], ['m1', 'p', '', '']],
    [delayed, ['SET', delayed, 'x'], ['m1', 'p', '5000', '']],
  ];
  for (const [bad, make, args] of cases) {
    await redis.call(make[0], ...make.slice(1));
    await refusedUnchanged(
      redis,
      t,
      bad,
      () => fx.call('cy_queue_enqueue', keys, args),
      `enqueue, ${make[0]} at ${bad}`,
    );
    await redis.call('DEL', bad);
    // The message was not stored: the same id goes in (no -5 Duplicate) once the key is fixed.
    assert.is(await fx.call('cy_queue_enqueue', keys, args), 1);
    await clean(redis, t);
  }
});

test('cy_queue pull, ack, nack, requeue_dead: a wrong-type key written later is refused, nothing written', async () => {
  const { redis, fx, t } = await setup();
  const keys = queueKeys(t);
  const [ready, , inflight, , , dead, seq] = keys;
  const pull = (maxAttempts = '5'): Promise<unknown> =>
    fx.call('cy_queue_pull', keys, ['30000', '10', maxAttempts]);

  // pull: ready -> inflight; a string at inflight (or dead, or a non-counter seq).
  for (const bad of [inflight, dead, seq]) {
    assert.is(await fx.call('cy_queue_enqueue', keys, ['m1', 'p', '', '']), 1);
    await redis.call('SET', bad, bad === seq ? 'x' : 'y');
    await refusedUnchanged(redis, t, bad, () => pull(), `pull, string at ${bad}`);
    await clean(redis, t);
  }

  // ack: removes from ready, delayed, inflight and dead; a string at dead.
  assert.is(await fx.call('cy_queue_enqueue', keys, ['m1', 'p', '', '']), 1);
  const [, , , receipt] = (await pull()) as string[];
  await redis.call('SET', dead, 'x');
  await refusedUnchanged(
    redis,
    t,
    dead,
    () => fx.call('cy_queue_ack', keys, ['m1', receipt]),
    'ack, string at dead',
  );
  await redis.call('DEL', dead);
  assert.is(await fx.call('cy_queue_ack', keys, ['m1', receipt]), 1);
  await clean(redis, t);

  // nack: inflight -> ready; a string at ready.
  assert.is(await fx.call('cy_queue_enqueue', keys, ['m1', 'p', '', '']), 1);
  const [, , , r2] = (await pull()) as string[];
  await redis.call('SET', ready, 'x');
  await refusedUnchanged(
    redis,
    t,
    ready,
    () => fx.call('cy_queue_nack', keys, ['m1', r2, '', '5']),
    'nack, string at ready',
  );
  await redis.call('DEL', ready);
  assert.is(await fx.call('cy_queue_nack', keys, ['m1', r2, '', '5']), 1);
  await clean(redis, t);

  // requeue_dead: dead -> ready; a string at ready.
  assert.is(await fx.call('cy_queue_enqueue', keys, ['m1', 'p', '', '']), 1);
  const [, , , r3] = (await pull('1')) as string[];
  assert.is(await fx.call('cy_queue_nack', keys, ['m1', r3, '', '1']), -6);
  await redis.call('SET', ready, 'x');
  await refusedUnchanged(
    redis,
    t,
    ready,
    () => fx.call('cy_queue_requeue_dead', keys, ['m1']),
    'requeue_dead, string at ready',
  );
  await redis.call('DEL', ready);
  assert.is(await fx.call('cy_queue_requeue_dead', keys, ['m1']), 1);
  await clean(redis, t);
});

test('cy_streamq claim_stale and ack: a wrong-type quarantine or done key is refused, the entry stays pending', async () => {
  const { redis, fx, t } = await setup();
  const keys = [':stream', ':dedup', ':done', ':quarantine'].map((s) => `cy:sq:{${t}}s${s}`);
  const [stream, , done, quarantine] = keys;
  const deliver = async (): Promise<string> => {
    const id = (await fx.call('cy_streamq_enqueue', keys, ['g', 'b1', 'p', '', ''])) as string;
    await redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', stream, '>');
    return id;
  };

  // claim_stale quarantines an entry delivered max_deliveries times: XADD to quarantine, XACK.
  await deliver();
  await redis.call('SET', quarantine, 'x');
  await refusedUnchanged(
    redis,
    t,
    quarantine,
    () => fx.call('cy_streamq_claim_stale', keys, ['g', 'c2', '0', '10', '1']),
    'claim_stale, string at quarantine',
  );
  await redis.call('DEL', quarantine);
  const [, quarantined] = (await fx.call('cy_streamq_claim_stale', keys, [
    'g',
    'c2',
    '0',
    '10',
    '1',
  ])) as string[][];
  assert.is(quarantined.length, 1, 'quarantined once the key is fixed');
  assert.is(await redis.call('XLEN', quarantine), 1);
  await clean(redis, t);

  // ack: XACK, then ZADD done.
  const id = await deliver();
  await redis.call('SET', done, 'x');
  await refusedUnchanged(
    redis,
    t,
    done,
    () => fx.call('cy_streamq_ack', keys, ['g', id, 'b1', '', 'c1']),
    'ack, string at done',
  );
  await redis.call('DEL', done);
  assert.is(await fx.call('cy_streamq_ack', keys, ['g', id, 'b1', '', 'c1']), 1);
  await clean(redis, t);
});

test('cy_sema acquire, release, refresh: a wrong-type permits hash is refused before the purge', async () => {
  const { redis, fx, t } = await setup();
  const keys = [`cy:sema:{${t}}s`, `cy:sema:{${t}}s:permits`];
  const calls: [string, string[]][] = [
    ['cy_sema_acquire', ['h', '1', '5', '10000']],
    ['cy_sema_release', ['old', '']],
    ['cy_sema_refresh', ['old', '10000']],
  ];
  for (const [fn, args] of calls) {
    // An expired holder in the ZSET: the purge would remove it, then HDEL the string.
    await redis.call('ZADD', keys[0], 1, 'old');
    await redis.call('SET', keys[1], 'x');
    await refusedUnchanged(redis, t, keys[1], () => fx.call(fn, keys, args), `${fn}`);
    await clean(redis, t);
  }
});

/** EVAL of a bundled script. */
function evalScript(
  redis: HighPerformanceRedis,
  name: string,
  keys: string[],
  args: string[],
): Promise<unknown> {
  return redis.call('EVAL', bundledScript(name).source, keys.length, ...keys, ...args);
}

test('cache_set_evict.lua, cache_get_lru.lua, smart_cache.lua: a wrong-type index or stats key is refused, nothing written', async () => {
  const { redis, t } = await setup();
  const [cache, index, stats] = ['c', 'idx', 'stats'].map((s) => `{${t}}${s}`);
  const evict = (): Promise<unknown> =>
    evalScript(redis, 'cache_set_evict', [cache, index, stats], ['v', '10000', '10']);
  for (const [bad, make] of [
    [index, ['HSET', index, 'f', 'v']],
    [stats, ['SET', stats, 'x']],
  ] as const) {
    await redis.call(make[0], ...make.slice(1));
    await refusedUnchanged(redis, t, bad, evict, `cache_set_evict, ${make[0]} at ${bad}`);
    await clean(redis, t);
  }
  assert.is(await evict(), 0);

  // cache_get_lru on a hit: ZADD index, then HINCRBY stats.
  await redis.call('SET', stats, 'x');
  await refusedUnchanged(
    redis,
    t,
    stats,
    () => evalScript(redis, 'cache_get_lru', [cache, index, stats], []),
    'cache_get_lru, string at stats',
  );
  await clean(redis, t);

  // smart_cache set: SET, then HINCRBY stats.
  await redis.call('SET', stats, 'x');
  await refusedUnchanged(
    redis,
    t,
    stats,
    () => evalScript(redis, 'smart_cache', [cache, stats], ['set', 'v', '10000']),
    'smart_cache set, string at stats',
  );
  await clean(redis, t);
});

test('job_queue.lua push, pop, fail: a wrong-type key written later is refused, nothing written', async () => {
  const { redis, t } = await setup();
  const keys = ['pending', 'processing', 'jobs', 'attempts', 'failed', 'seq'].map(
    (s) => `{${t}}jq:${s}`,
  );
  const [pending, processing, jobs, , failed, seq] = keys;
  const jq = (...args: string[]): Promise<unknown> => evalScript(redis, 'job_queue', keys, args);

  // push: INCR seq, HSET jobs, RPUSH pending.
  for (const [bad, make] of [
    [jobs, ['SET', jobs, 'x']],
    [pending, ['SET', pending, 'x']],
    [seq, ['SET', seq, 'abc']],
  ] as const) {
    await redis.call(make[0], ...make.slice(1));
    await refusedUnchanged(redis, t, bad, () => jq('push', 'p'), `push, ${make[0]} at ${bad}`);
    await clean(redis, t);
  }
  assert.is(await jq('push', 'p'), 1, 'the seq was not advanced by the refused pushes');

  // pop: LPOP pending, then ZADD processing.
  await redis.call('SET', processing, 'x');
  await refusedUnchanged(redis, t, processing, () => jq('pop', ''), 'pop, string at processing');
  await redis.call('DEL', processing);
  assert.equal(await jq('pop', ''), ['1', 'p', 0]);

  // fail with no retry left: ZREM processing, HINCRBY attempts, LPUSH failed.
  await redis.call('SET', failed, 'x');
  await refusedUnchanged(redis, t, failed, () => jq('fail', '1', '0'), 'fail, string at failed');
  await redis.call('DEL', failed);
  assert.is(await jq('fail', '1', '0'), -6);
  await clean(redis, t);
});

test.after(closeAll);
test.run();
