/**
 * Shutdown against what is still starting: an init that never ends (also inside a nested
 * group), a start() waiting on a slow Redis; the exit code of handleSignals() after a failure
 * and after a clean stop; and a clean stop that reports no thread exits, also when it has to
 * kill a singleton's thread.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ShutdownError } from '../../runtime/errors.js';
import { testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import {
  PROBE,
  freezableProxy,
  probe,
  sleep,
  startNode,
  stopAll,
  supervisor,
  tempDir,
  waitFor,
  within,
} from './helpers.js';

test.after.each(stopAll);

test('stop() cuts short an init that never ends (initTimeoutMs 0): stopTimeoutMs, not forever', async () => {
  const sup = supervisor(
    [
      probe('a'),
      probe('stuck', { initTimeoutMs: 0, stopTimeoutMs: 200, options: { initMs: 60_000 } }),
    ],
    { threads: 1 },
  );
  const started: string[] = [];
  sup.on('actor:started', (e) => started.push(e.id));
  const starting = sup.start().then(
    () => null,
    (e: unknown) => e,
  );
  await waitFor(() => started.includes('a'), 5000, 'a to start');
  await sleep(100); // stuck's init runs now
  const t0 = performance.now();
  const report = await within(sup.stop(), 5000, 'stop()');
  const took = performance.now() - t0;
  assert.ok(took < 2000, `stop() took ${took} ms`);
  assert.is(report.drained, true);
  assert.instance(await within(starting, 1000, 'start()'), ShutdownError);
  assert.is(sup.state, 'stopped');
});

test('stop() cuts short a hanging init inside a nested group: no restarts, no failures', async () => {
  // The group's start is what the root waits on; the stop queued behind it must not let the
  // group take the cut-short start for a failure and restart it (backoff 300 ms, 10 times).
  const slow = {
    maxRestarts: 10,
    withinMs: 10_000,
    backoff: { minMs: 300, maxMs: 300, jitter: 0 },
  };
  const sup = supervisor(
    [
      probe('a'),
      {
        name: 'g',
        supervision: slow,
        actors: [
          probe('stuck', { initTimeoutMs: 0, stopTimeoutMs: 100, options: { initMs: 60_000 } }),
        ],
      },
    ],
    { threads: 1, supervision: slow },
  );
  const events: string[] = [];
  sup.on('actor:started', (e) => events.push(`start ${e.id}`));
  sup.on('actor:restarting', (e) => events.push(`restart ${e.id}`));
  sup.on('actor:failed', (e) => events.push(`fail ${e.id}`));
  sup.on('actor:stopped', (e) => events.push(`stop ${e.id} ${e.reason}`));
  const starting = sup.start().then(
    () => null,
    (e: unknown) => e,
  );
  await waitFor(() => events.includes('start a'), 5000, 'a to start');
  await sleep(100); // stuck's init runs now
  await within(sup.stop(), 5000, 'stop()');
  assert.instance(await within(starting, 1000, 'start()'), ShutdownError);
  assert.equal(events, ['start a', 'stop stuck shutdown', 'stop g shutdown', 'stop a shutdown']);
});

test('stop() while start() waits on a slow Redis: start rejects, nothing starts or registers after', async () => {
  const server = await sharedRedis();
  const proxy = await freezableProxy(server.host, server.port);
  const redis = await testClient();
  const namespace = keyPrefix('slowstart').replace(/:$/, '').replace(/:/g, '-');
  // Every log line: a heartbeat that kept running after the stop would fail (and say so)
  // once the client is closed, or re-register (and send) while it is open.
  const logs: string[] = [];
  const log = (m: string): number => logs.push(m);
  // A spy on the placement heartbeat: when each one is scheduled (a setTimeout of
  // heartbeatMs from placement.js; other timers in the process do not count).
  const HEARTBEAT_MS = 100;
  const beats: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
    if (ms === HEARTBEAT_MS && /placement\.js/.test(new Error().stack ?? ''))
      beats.push(Date.now());
    return (realSetTimeout as (...a: unknown[]) => NodeJS.Timeout)(fn, ms, ...args);
  }) as unknown as typeof setTimeout;
  const sup = supervisor(
    [probe('a')],
    { redis: proxy.url, namespace, placement: { heartbeatMs: HEARTBEAT_MS, leaseTtlMs: 4000 } },
    { logger: { info: log, warn: log, error: log } },
  );
  const started: string[] = [];
  sup.on('actor:started', (e) => started.push(e.id));
  try {
    proxy.freeze(); // Redis answers late (a failover, a busy server)
    const starting = sup.start().then(
      () => null,
      (e: unknown) => e,
    );
    await sleep(50);
    const stopping = sup.stop(); // SIGINT meanwhile
    await sleep(200);
    proxy.thaw(); // the registration goes through now, after the stop
    await within(stopping, 5000, 'stop()');
    const stoppedAt = Date.now();
    assert.instance(await within(starting, 5000, 'start()'), ShutdownError);
    await sleep(400); // heartbeats (100 ms) would re-register; threads would start
    assert.equal(started, [], 'nothing started after the stop');
    // Over 5 heartbeat periods: nothing more goes to Redis, no heartbeat is scheduled, and
    // none ran (or failed).
    const sentBefore = proxy.sent;
    await sleep(500);
    assert.is(proxy.sent, sentBefore, 'nothing sent to Redis after the stop');
    assert.equal(
      beats.filter((t) => t >= stoppedAt),
      [],
      'no placement heartbeat was scheduled after the stop',
    );
    assert.equal(
      logs.filter((m) => /heartbeat|registration/.test(m)),
      [],
      'no heartbeat ran after the stop',
    );
    assert.is(sup.state, 'stopped');
    assert.ok(
      (await sup.stats()).threads.every((t) => !t.alive && t.generation === 0),
      'no thread was ever started',
    );
    assert.is(await redis.call('EXISTS', `cy:sup:{${namespace}}:${sup.id}`), 0);
    assert.is(await redis.call('ZSCORE', `cy:sups:{${namespace}}`, sup.id), null);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    proxy.thaw();
    await stopAll();
    proxy.close();
    await redis.close();
  }
});

test('handleSignals(): SIGTERM after the supervisor failed exits 1 (from done), once closed', async () => {
  const index = new URL('../../index.js', import.meta.url).href;
  const dir = tempDir({
    'app.mjs': `
import { Supervisor } from ${JSON.stringify(index)};
const sup = new Supervisor(
  { threads: 1, heartbeatMs: 50, supervision: { maxRestarts: 0 }, actors: [{ name: 'a', module: ${JSON.stringify(PROBE)} }] },
  { logger: null },
);
sup.handleSignals();
sup.done.catch(() => {});
sup.on('failed', () => console.log('failed'));
await sup.start();
setInterval(() => {}, 1000); // the app's own server keeps the process up
await sup.call('a', { op: 'throw' }).catch(() => {});
`,
  });
  const app = startNode(join(dir, 'app.mjs'));
  try {
    await app.waitOutput(/failed/);
    app.child.kill('SIGTERM');
    assert.is((await within(app.result, 10_000, 'exit')).code, 1, app.output());
  } finally {
    app.child.kill('SIGKILL');
  }
});

test('handleSignals(): SIGTERM after a clean run exits 0, once stopped', async () => {
  const index = new URL('../../index.js', import.meta.url).href;
  const dir = tempDir({
    'app.mjs': `
import { Supervisor } from ${JSON.stringify(index)};
const sup = new Supervisor(
  { threads: 1, heartbeatMs: 50, actors: [{ name: 'a', module: ${JSON.stringify(PROBE)}, options: { stopMs: 200 } }] },
  { logger: null },
);
sup.handleSignals();
sup.on('stopped', () => console.log('stopped'));
await sup.start();
setInterval(() => {}, 1000); // the app's own server keeps the process up
console.log('running');
`,
  });
  const app = startNode(join(dir, 'app.mjs'));
  try {
    await app.waitOutput(/running/);
    app.child.kill('SIGTERM');
    assert.is((await within(app.result, 10_000, 'exit')).code, 0, app.output());
    assert.match(app.output(), /stopped/, 'it exited once the stop was done (stop() ran: 200 ms)');
  } finally {
    app.child.kill('SIGKILL');
  }
});

test('a clean stop reports no thread exits (they are not failures)', async () => {
  const sup = supervisor([probe('a'), probe('b')]);
  const exits: string[] = [];
  sup.on('thread:exit', (e) => exits.push(e.error.message));
  await sup.start();
  await sup.stop();
  assert.equal(exits, []);
});

test("... also when it has to kill a singleton's thread (its stop() overran): logged, not a thread:exit", async () => {
  const namespace = keyPrefix('killstop').replace(/:$/, '').replace(/:/g, '-');
  const warnings: string[] = [];
  const sup = supervisor(
    [probe('solo', { singleton: true, stopTimeoutMs: 100, options: { stopMs: 2000 } })],
    { redis: (await sharedRedis()).url, namespace, threads: 1 },
    { logger: { info() {}, warn: (m) => warnings.push(m), error() {} } },
  );
  const exits: string[] = [];
  sup.on('thread:exit', (e) => exits.push(e.error.message));
  const running = new Promise<void>((r) => sup.once('actor:started', () => r()));
  await sup.start();
  await within(running, 5000, 'the singleton to run (its lease won)');
  const report = await within(sup.stop(), 5000, 'stop()');
  assert.equal(exits, []);
  assert.ok(
    warnings.some((w) =>
      /singleton solo: still running after its stop .*killing its thread/.test(w),
    ),
    warnings.join('\n'),
  );
  assert.is(report.drained, true);
});

test.run();
