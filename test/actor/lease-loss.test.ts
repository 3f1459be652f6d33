/**
 * A singleton's code never outlives its lease. Supervisor A holds the lease through a proxy
 * that then cuts A's main connection off (its lease cannot be renewed) while the singleton's
 * own connection keeps working: a handler or an init still running when A must give the lease
 * up gets A's thread killed before B (straight to Redis) can take over. The singleton ticks its
 * fencing token into a list from every piece of its code: in the server's order the tokens
 * never go down. Also: a lease lost while the module still loads, won during a shutdown, or
 * given up (unwant) while it is being lost, or lost while its start waits for a replacement
 * thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import { ActorDiedError } from '../../runtime/errors.js';
import { Placement } from '../../runtime/actor/placement.js';
import { testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { rejects } from '../support/assert.js';
import {
  LEADER,
  assertNeverTwo,
  list,
  nsOf,
  placementHost,
  PROBE,
  SLOW_LOAD,
  freezableProxy,
  probe,
  sleep,
  stopAll,
  supervisor,
  waitFor,
  within,
} from './helpers.js';

test.after.each(stopAll);

/** A holds the leader's lease with `code` running (a job, or init), then is cut off. */
async function cutOffWhileRunning(options: { initTicks?: number; job?: number }): Promise<void> {
  // Losing starts at validUntil - ttl/4; the thread is killed anyway at validUntil - ttl/8 if
  // still stopping: stopTimeoutMs is well inside that, so only code left running gets it killed.
  const TTL = 1200;
  const server = await sharedRedis();
  const redis = await testClient();
  const proxy = await freezableProxy(server.host, server.port);
  const prefix = keyPrefix('loss');
  const config = (url: string) => ({
    redis: url,
    namespace: nsOf(prefix),
    threads: 1,
    placement: { heartbeatMs: 200, leaseTtlMs: TTL },
  });
  const leader = {
    name: 'leader',
    module: LEADER,
    singleton: true,
    stopTimeoutMs: 40,
    handlerTimeoutMs: 0,
    initTimeoutMs: 0,
    options: { prefix, initTicks: options.initTicks ?? 0 },
  };
  const a = supervisor([leader], config(proxy.url));
  const b = supervisor([leader], config(server.url));
  const kills: string[] = [];
  a.on('thread:exit', (e) => kills.push(e.error.reason));
  try {
    await a.start();
    await b.start();
    if (options.job) {
      await waitFor(async () => (await a.stats()).actors[0].singleton === 'held');
      void a.send('leader', { ticks: options.job }).catch(() => {});
    }
    const ticks = `${prefix}:ticks`;
    await waitFor(async () => (await list(redis, ticks)).length >= 4, 5000, 'a ticking');
    // A's first connection is its main thread's (placement); the later ones its thread's.
    proxy.freeze(Array.from({ length: proxy.connections - 1 }, (_, i) => i + 1));
    const starts = async (): Promise<number> =>
      (await list(redis, `${prefix}:events`)).filter((e) => e.startsWith('start')).length;
    await waitFor(async () => (await starts()) === 2, 5000, 'b to take over');
    await sleep(250); // A's code would still be ticking now (3 s of it)
    assertNeverTwo(await list(redis, ticks));
    assert.equal(kills, ['lease'], 'its thread was killed: its code would not stop');
  } finally {
    proxy.thaw();
    await stopAll();
    proxy.close();
    await redis.close();
  }
}

test('lease lost while a handler outlives stopTimeoutMs: its thread dies before another holder starts', () =>
  cutOffWhileRunning({ job: 120 }));

test('lease lost while init still runs: the same', () => cutOffWhileRunning({ initTicks: 120 }));

test('a lease lost while the module is still loading: that start is cancelled, it never runs unleased', async () => {
  const redis = await testClient();
  const prefix = keyPrefix('slowload');
  const namespace = nsOf(prefix);
  const sup = supervisor(
    [{ name: 'slow', module: SLOW_LOAD, singleton: true, options: { prefix } }],
    {
      redis: (await sharedRedis()).url,
      namespace,
      threads: 1,
      placement: { heartbeatMs: 200, leaseTtlMs: 600 },
    },
  );
  const failed: string[] = [];
  sup.on('actor:failed', (e) => failed.push(e.error.message));
  // Taken away (as by an operator) before its first renewal, while the module loads (800 ms).
  sup.once('singleton:acquired', () => {
    void redis.call('DEL', `cy:lock:{${namespace}}singleton:slow`);
  });
  try {
    await sup.start();
    await waitFor(async () => (await list(redis, `${prefix}:events`)).length > 0, 5000, 'a start');
    await sleep(100);
    const events = await list(redis, `${prefix}:events`);
    assert.equal(events, ['start 2'], 'the start under token 1 was cancelled');
    const ticks = await list(redis, `${prefix}:ticks`);
    assert.ok(ticks.length > 0 && ticks.every((t) => t === '2'), ticks.join(' '));
    assert.equal(failed, [], 'a lease lost while starting is not a failure');
  } finally {
    await stopAll();
    await redis.close();
  }
});

test('a lease won while the supervisor drains for shutdown goes straight back; nothing starts', async () => {
  const redis = await testClient();
  const server = await sharedRedis();
  const prefix = keyPrefix('drainwin');
  const namespace = nsOf(prefix);
  const config = {
    redis: server.url,
    namespace,
    threads: 1,
    placement: { heartbeatMs: 200, leaseTtlMs: 600 },
  };
  const leader = { name: 'leader', module: LEADER, singleton: true, options: { prefix } };
  const b = supervisor([leader], config);
  const a = supervisor([leader, probe('busy')], config);
  const aStarted: string[] = [];
  a.on('actor:started', (e) => aStarted.push(e.id));
  try {
    await b.start();
    await waitFor(async () => (await b.stats()).actors[0].singleton === 'held');
    await a.start();
    // A drains for a while (a handler runs 3 s); meanwhile B goes and frees the lease.
    void a.call('busy', { op: 'sleep', ms: 3000 }).catch(() => {});
    await sleep(20);
    aStarted.length = 0;
    const stopping = a.stop({ timeoutMs: 8000 });
    let drained = false;
    void stopping.then(() => (drained = true));
    await b.stop();
    // A retries every 200 ms: it wins the lease during its drain, and gives it back.
    await sleep(700);
    assert.equal(aStarted, [], 'the singleton did not start during the shutdown');
    // One read may fall between a win and its release: the lease must be seen free soon,
    // and while A still drains (a lease kept through the drain is only freed at its end).
    const lease = `cy:lock:{${namespace}}singleton:leader`;
    await waitFor(async () => (await redis.call('EXISTS', lease)) === 0, 1000, 'a free lease');
    assert.is(drained, false, 'the lease was seen free while A still drained');
    await within(stopping, 8000, 'a.stop()');
    assert.equal(aStarted, [], 'the singleton did not start during the shutdown');
    assert.is(await redis.call('EXISTS', lease), 0, 'the lease is free after the shutdown');
    assert.equal(await list(redis, `${prefix}:events`), ['start 1', 'stop 1 shutdown']);
  } finally {
    await stopAll();
    await redis.close();
  }
});

test('unwant of a lease being lost releases it only once the singleton is stopped', async () => {
  const TTL = 1200;
  const server = await sharedRedis();
  const proxy = await freezableProxy(server.host, server.port);
  const redis = await testClient();
  const namespace = nsOf(keyPrefix('unwant'));
  const lease = `cy:lock:{${namespace}}singleton:x`;
  const client = new HighPerformanceRedis({ url: proxy.url, commandTimeoutMs: 200 });
  client.on('error', () => {});
  let stopped!: () => void;
  let deactivating = false;
  const host = placementHost({
    activate: () => Promise.resolve(),
    deactivate: () => {
      deactivating = true;
      return new Promise((r) => (stopped = r)); // the singleton takes its time to stop
    },
  });
  const placement = new Placement(
    client,
    { namespace, supervisorId: 'p', heartbeatMs: 1000, leaseTtlMs: TTL },
    host,
  );
  try {
    await placement.start();
    placement.want('x');
    await waitFor(() => placement.token('x') !== null, 3000, 'the lease');
    proxy.freeze(); // renewals hang: by validUntil - ttl/4 it must give the singleton up
    await waitFor(() => deactivating, 3000, 'deactivate');
    proxy.thaw();
    let released = false;
    const unwanted = placement.unwant('x').then(() => (released = true));
    await sleep(100);
    assert.is(released, false, 'unwant waits for the singleton to stop');
    assert.is(await redis.call('EXISTS', lease), 1, 'not released while it may still run');
    stopped();
    await within(unwanted, 3000, 'unwant');
    assert.is(await redis.call('EXISTS', lease), 0, 'released once stopped');
  } finally {
    proxy.thaw();
    await placement.stop();
    client.disconnect();
    proxy.close();
    await redis.close();
  }
});

test('want again while the acquire of an unwanted lease is in flight: the new hold survives the give-back', async () => {
  // The lock is reentrant for one owner: a second acquire landing before the first one's
  // give-back would re-enter that hold, and the give-back (every hold) would take it away.
  const redis = await testClient();
  const namespace = nsOf(keyPrefix('rewant'));
  const lease = `cy:lock:{${namespace}}singleton:x`;
  let activations = 0;
  const host = placementHost({
    activate: () => {
      activations++;
      return Promise.resolve();
    },
    deactivate: () => Promise.resolve(),
  });
  const placement = new Placement(
    redis,
    { namespace, supervisorId: 'p', heartbeatMs: 1000, leaseTtlMs: 3000 },
    host,
  );
  try {
    await placement.start();
    placement.want('x'); // its acquire is on the wire...
    void placement.unwant('x'); // ...unwanted before the reply...
    placement.want('x'); // ...and wanted again at once
    await waitFor(() => placement.token('x') !== null, 3000, 'the lease');
    await sleep(300); // any give-back in flight lands
    assert.is(await redis.call('EXISTS', lease), 1, 'the lease we hold exists');
    assert.is(placement.token('x') !== null, true);
    assert.is(activations, 1);
  } finally {
    await placement.stop();
    await redis.close();
  }
});

test('a lease lost while its start waits for a replacement thread: it never starts unleased', async () => {
  // One thread, replaced after a 1.5 s backoff once it died twice in a row. The singleton wins
  // its lease during that backoff, so its start waits for the new thread; meanwhile the lease
  // is taken away (renewal refused) and held by someone else. Losing it finds nothing to stop
  // and releases at once; the start waiting for the thread must not go ahead on the old token.
  const redis = await testClient();
  const namespace = nsOf(keyPrefix('respawn'));
  const lease = `cy:lock:{${namespace}}singleton:leader`;
  const other = new RedisFunctions(redis);
  const holdElsewhere = () =>
    other.locks.acquire('singleton:leader', 'someone-else', 60_000, { tag: namespace });
  const sup = supervisor([probe('killer'), { name: 'leader', module: PROBE, singleton: true }], {
    redis: (await sharedRedis()).url,
    namespace,
    threads: 1,
    placement: { heartbeatMs: 200, leaseTtlMs: 600 },
    supervision: {
      maxRestarts: 10,
      withinMs: 20_000,
      backoff: { minMs: 1500, maxMs: 1500, jitter: 0 },
    },
  });
  const started: string[] = [];
  const lost: string[] = [];
  sup.on('actor:started', (e) => started.push(e.id));
  try {
    assert.ok((await holdElsewhere()).acquired);
    await sup.start();
    const state = async (id: string) => (await sup.stats()).actors.find((a) => a.id === id)!;
    assert.is((await state('leader')).state, 'standby');
    // First death: replaced at once; killer restarts after its backoff. Second: 1.5 s backoff.
    await rejects(() => sup.call('killer', { op: 'exit' }), ActorDiedError);
    await waitFor(async () => (await state('killer')).state === 'running', 5000, 'killer back');
    await rejects(() => sup.call('killer', { op: 'exit' }), ActorDiedError);
    assert.is((await sup.stats()).threads[0].alive, false, 'the thread waits out its backoff');
    started.length = 0;
    const acquired = new Promise<void>((r) => sup.once('singleton:acquired', () => r()));
    sup.once('singleton:lost', (e) => {
      lost.push(e.id);
      void holdElsewhere(); // taken over elsewhere as soon as it is given up
    });
    await redis.call('DEL', lease); // the lease is free: the singleton wins it, its start waits
    await within(acquired, 2000, 'the lease won during the backoff');
    await redis.call('DEL', lease); // and taken away again: the next renewal is refused
    await waitFor(() => lost.length === 1, 2000, 'the lease lost');
    await waitFor(async () => (await state('killer')).state === 'running', 5000, 'killer again');
    await sleep(200);
    assert.equal(started, ['killer'], 'the singleton did not start on a lease it no longer held');
    assert.is((await state('leader')).state, 'standby');
    assert.is((await state('leader')).failed, 0, 'a lease lost while starting is not a failure');
  } finally {
    await stopAll();
    await redis.close();
  }
});

test.run();
