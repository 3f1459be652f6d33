import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ActorCallError,
  ActorNotFoundError,
  ConfigError,
  InvalidArgumentError,
  ShutdownError,
  TimeoutError,
} from '../../runtime/errors.js';
import { Supervisor, defineActor } from '../../runtime/actor/index.js';
import type { RefOf } from '../../runtime/actor/index.js';
import type probeDef from './fixtures/probe.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { FAST, PROBE, probe, redisUrl, stopAll, supervisor, waitFor, within } from './helpers.js';

test.after.each(stopAll);

test('start runs every init, calls reply with what receive returns, stop drains and reports', async () => {
  const sup = supervisor([probe('a'), probe('b', { instances: 2 })]);
  const started: string[] = [];
  sup.on('actor:started', (e) => started.push(e.id));
  await sup.start();
  assert.equal(started.sort(), ['a', 'b#0', 'b#1']);
  assert.is(sup.state, 'running');
  assert.is(await sup.call('a', { op: 'add', by: 2 }), 2);
  assert.is(await sup.call('a', { op: 'add', by: 3 }), 5);
  // b#1 calls a across threads; a's state answers
  assert.is(await sup.call('b#1', { op: 'call', to: 'a', msg: { op: 'get' } }), 5);
  const report = await sup.stop();
  assert.is(report.drained, true);
  assert.is(report.leftover, 0);
  assert.is(sup.state, 'stopped');
  assert.equal(await sup.done, report);
});

test('typed refs: ctx.call resolves the reply type of the callee', async () => {
  const sup = supervisor([probe('a')]);
  await sup.start();
  const ref: RefOf<typeof probeDef> = sup.ref<typeof probeDef>('a');
  const n = await sup.call(ref, { op: 'add', by: 1 });
  assert.is(n, 1);
  assert.equal(ref, { name: 'a', instance: null });
});

test('messages to one actor are handled in order (concurrency 1), across threads too', async () => {
  const sup = supervisor([probe('sink'), probe('src', { instances: 2 })]);
  await sup.start();
  // Each src instance sends 300 numbered messages; one of them shares sink's thread, one does not.
  await Promise.all(
    [0, 1].map((i) =>
      sup.call(`src#${i}`, { op: 'send', to: 'sink', msg: { op: 'seq', i }, count: 300 }),
    ),
  );
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => sup.send('sink', { op: 'seq', i: 1000 + i })),
  );
  const seen = await waitFor(async () => {
    const s = await sup.call<unknown, number[]>('sink', { op: 'seen' });
    return s.length === 900 ? s : null;
  });
  assert.equal(
    seen.filter((x) => x >= 1000),
    Array.from({ length: 300 }, (_, i) => 1000 + i),
  );
  assert.is(seen.filter((x) => x === 0).length, 300);
  assert.is(seen.filter((x) => x === 1).length, 300);
});

test('concurrency > 1 runs handlers at once (p-queue)', async () => {
  const sup = supervisor([probe('par', { concurrency: 4 }), probe('seq')]);
  await sup.start();
  let t0 = Date.now();
  await Promise.all(Array.from({ length: 4 }, () => sup.call('par', { op: 'sleep', ms: 150 })));
  const par = Date.now() - t0;
  t0 = Date.now();
  await Promise.all(Array.from({ length: 4 }, () => sup.call('seq', { op: 'sleep', ms: 50 })));
  const seq = Date.now() - t0;
  assert.ok(par < 450, `4 x 150 ms at concurrency 4 took ${par} ms`);
  assert.ok(seq >= 195, `4 x 50 ms at concurrency 1 took only ${seq} ms`);
});

test('round-robin over instances when the ref names no instance', async () => {
  const sup = supervisor([probe('w', { instances: 3 })]);
  await sup.start();
  const ids = new Set<string>();
  for (let i = 0; i < 6; i++)
    ids.add((await sup.call<unknown, { id: string }>('w', { op: 'info' })).id);
  assert.equal([...ids].sort(), ['w#0', 'w#1', 'w#2']);
});

test('ctx.offload runs a self-contained function on the piscina pool', async () => {
  const sup = supervisor([probe('a')]);
  await sup.start();
  assert.is(await sup.call('a', { op: 'offload', value: 21 }), 42);
  assert.is(await sup.call('a', { op: 'offloadModule', value: 5 }), 15, 'or a module export');
});

test('transferables cross threads without a copy', async () => {
  const sup = supervisor([probe('a')]);
  await sup.start();
  const buf = new ArrayBuffer(1024);
  assert.is(await sup.call('a', { op: 'bytes', buf }, { transfer: [buf] }), 1024);
  assert.is(buf.byteLength, 0, 'the buffer was transferred (detached here)');
});

test('typed errors: unknown actor, call timeout, handler failure, intake closed', async () => {
  const sup = supervisor([probe('a', { stopTimeoutMs: 100 })]);
  await sup.start();
  await rejects(() => sup.call('nope', {}), ActorNotFoundError);
  assert.throws(
    () => sup.ref('a', 3),
    (e: Error) => e instanceof ActorNotFoundError,
  );
  const t = await sup.call('a', { op: 'hang' }, { timeoutMs: 50 }).catch((e: unknown) => e);
  assert.instance(t, TimeoutError);
  const stopping = sup.stop({ timeoutMs: 100 });
  await rejects(() => sup.call('a', { op: 'get' }), ShutdownError);
  await stopping;
});

test("a message that cannot be cloned: supervisor.send rejects naming it; an actor's is counted as dropped", async () => {
  const sup = supervisor([probe('a'), probe('b')]); // a on thread 0, b on thread 1
  await sup.start();
  const bad = { op: 'get', fn: () => 1 } as never;
  await rejects(
    () => sup.send('a', bad),
    InvalidArgumentError,
    /^msg cannot be sent to another thread/,
  );
  await rejects(() => sup.call('a', bad), InvalidArgumentError, /^msg cannot be sent/);
  // With a transfer list (no test clone possible): posted at once, so the failure still rejects.
  const buf = new ArrayBuffer(8);
  const badWithTransfer = { op: 'bytes', buf, fn: () => 1 } as never;
  await rejects(
    () => sup.call('a', badWithTransfer, { transfer: [buf] }),
    InvalidArgumentError,
    /^msg cannot be sent to another thread/,
  );
  // More failed sends than the credit window (256): each gave its credit back.
  for (let i = 0; i < 300; i++)
    await rejects(
      () => sup.send('a', badWithTransfer, { transfer: [buf] }),
      InvalidArgumentError,
      /^msg cannot be sent to another thread/,
    );
  assert.is(buf.byteLength, 8, 'nothing was transferred');
  assert.is(
    await within(sup.call('a', { op: 'bytes', buf }, { transfer: [buf] }), 2000, 'a good call'),
    8,
    'credits refunded',
  );
  assert.is((await sup.stats()).actors.find((x) => x.id === 'a')!.dropped, 0, 'none dropped');
  // From an actor to another thread: its send resolved already when the batch fails to clone.
  await sup.call('a', { op: 'sendUncloneable', to: 'b' });
  await waitFor(async () => (await sup.stats()).actors.find((x) => x.id === 'b')!.dropped === 1);
  assert.is(await sup.call('b', { op: 'get' }), 0, 'b is fine');
});

test('a call whose handler throws rejects with ActorCallError carrying the cause', async () => {
  const sup = supervisor([probe('a')]);
  await sup.start();
  const err = (await sup
    .call('a', { op: 'throw', message: 'nope' })
    .catch((e: unknown) => e)) as ActorCallError;
  assert.instance(err, ActorCallError);
  assert.is(err.code, 'CYREDIS_ERR_ACTOR_CALL');
  assert.is(err.actor, 'a');
  assert.is((err.cause as Error).message, 'nope');
});

test('stats: handled, failed, restarts, mailbox and latency percentiles per actor', async () => {
  const sup = supervisor([probe('a'), probe('b')]);
  await sup.start();
  for (let i = 0; i < 50; i++) await sup.call('a', { op: 'add', by: 1 });
  await sup.call('b', { op: 'throw' }).catch(() => {});
  await waitFor(async () => (await sup.stats()).actors.find((x) => x.id === 'b')!.restarts === 1);
  const s = await sup.stats();
  const a = s.actors.find((x) => x.id === 'a')!;
  const b = s.actors.find((x) => x.id === 'b')!;
  assert.is(a.handled, 50);
  assert.is(a.failed, 0);
  assert.is(a.state, 'running');
  assert.ok(
    a.latencyMs.p50 > 0 && a.latencyMs.p50 <= a.latencyMs.p90 && a.latencyMs.p90 <= a.latencyMs.p99,
  );
  assert.is(b.failed, 1);
  assert.is(b.restarts, 1);
  assert.is(b.lastError, 'thrown on purpose');
  assert.is(s.totals.handled, 50);
  assert.is(s.threads.length, 2);
});

test('ctx.options, ctx.thread and the incarnation reach the actor', async () => {
  const sup = supervisor([probe('a', { options: { failInit: false, initMs: 1 } })]);
  await sup.start();
  const info = await sup.call<unknown, { options: object; incarnation: number; thread: number }>(
    'a',
    { op: 'info' },
  );
  assert.equal(info.options, { failInit: false, initMs: 1 });
  assert.is(info.incarnation, 1);
  assert.is(info.thread, 0);
});

test('a built-in kind comes from the registry handed to the supervisor', async () => {
  const { builtinKinds } = await import('../../actors/index.js');
  const sup = supervisor(
    [{ name: 'e', kind: 'echo', options: { prefix: '> ' } }],
    {},
    { kinds: builtinKinds() },
  );
  await sup.start();
  assert.is(await sup.call('e', 'hi'), '> hi');
  const s = await sup.stats();
  assert.is(s.actors[0].counters.echoed, 1);
  assert.throws(
    () => new Supervisor({ ...FAST, actors: [{ name: 'e', kind: 'echo' }] }),
    (e: Error) => e instanceof ConfigError && /unknown|not a known kind/.test(e.message),
  );
});

test('defineActor validates the definition and names the field', () => {
  assert.throws(() => defineActor({} as never), /actor.receive must be a function/);
  assert.throws(
    () => defineActor({ receive() {}, init: 3 } as never),
    /actor.init must be a function/,
  );
  assert.throws(
    () => defineActor({ receive() {}, recieve() {} } as never),
    /actor.recieve is not a known field/,
  );
  const def = defineActor({ receive: (m: number) => m + 1 });
  assert.is(def.receive(1, undefined as never), 2);
  assert.ok(Object.isFrozen(def));
});

test('ctx.redis is the thread client; ctx.blockingRedis() a dedicated one for blocking reads', async () => {
  const key = keyPrefix('blk');
  const sup = supervisor([probe('reader'), probe('writer')], {
    threads: 1,
    redis: await redisUrl(),
  });
  await sup.start();
  const popped = sup.call('reader', { op: 'blpop', key, seconds: 5 });
  // The writer shares the reader's thread; the blocked read holds neither the thread nor its client.
  assert.is(await sup.call('writer', { op: 'incr', key: `${key}:n` }), 1);
  assert.is(await sup.call('writer', { op: 'push', key, value: 'hello' }), 1);
  assert.equal(await popped, [key, 'hello']);
});

test('a module path that is a file URL works (fixtures live in dist)', () => {
  assert.ok(PROBE.startsWith('file:'));
});

test.run();
