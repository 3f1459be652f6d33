/**
 * Failures caused for real: a throw and a rejection in receive, a failing init, process.exit
 * in a worker, a worker killed by resourceLimits, a handler past its timeout (async: the actor
 * fails; a CPU loop: the watchdog terminates its thread), a thread that stops beating.
 * Calls pending on a dead actor reject with ActorDiedError; none hangs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ActorCallError,
  ActorDiedError,
  HandlerTimeoutError,
  SupervisorFailedError,
  WorkerExitError,
} from '../../runtime/errors.js';
import type { Supervisor } from '../../runtime/actor/index.js';
import { rejects } from '../support/assert.js';
import { probe, sleep, stopAll, supervisor, waitFor, within } from './helpers.js';

test.after.each(stopAll);

function record(sup: Supervisor) {
  const failed: { id: string; error: Error; phase: string }[] = [];
  const exits: WorkerExitError[] = [];
  const restarting: { id: string; delayMs: number; attempt: number }[] = [];
  sup.on('actor:failed', (e) => failed.push(e));
  sup.on('thread:exit', (e) => exits.push(e.error));
  sup.on('actor:restarting', (e) => restarting.push(e));
  return { failed, exits, restarting };
}

const info = async (sup: Supervisor, id: string) =>
  await sup.call<unknown, { incarnation: number; thread: number }>(id, { op: 'info' });

test('a throw in receive: the call rejects, the actor restarts fresh, queued messages survive', async () => {
  const sup = supervisor([probe('a')]);
  const ev = record(sup);
  await sup.start();
  await sup.call('a', { op: 'add', by: 5 });
  const boom = sup.call('a', { op: 'throw' });
  const after = [sup.call('a', { op: 'add', by: 1 }), sup.call('a', { op: 'add', by: 1 })];
  await rejects(() => boom, ActorCallError, /thrown on purpose/);
  // The two messages queued behind the failing one are handled by the next incarnation.
  assert.equal(await Promise.all(after), [1, 2]);
  assert.is((await info(sup, 'a')).incarnation, 2);
  assert.equal(
    ev.failed.map((f) => [f.id, f.phase]),
    [['a', 'receive']],
  );
});

test('a rejected promise in receive fails the actor the same way', async () => {
  const sup = supervisor([probe('a')]);
  const ev = record(sup);
  await sup.start();
  await rejects(() => sup.call('a', { op: 'reject' }), ActorCallError, /rejected on purpose/);
  await waitFor(() => ev.restarting.length === 1);
  assert.is(await sup.call('a', { op: 'add', by: 1 }), 1);
});

test('a failing init restarts with growing backoff until the intensity is exceeded', async () => {
  const sup = supervisor([probe('bad', { options: { failInit: true } })], {
    supervision: { maxRestarts: 3, withinMs: 5000, backoff: { minMs: 20, maxMs: 1000, jitter: 0 } },
  });
  const ev = record(sup);
  const err = await rejects(
    () => sup.start(),
    SupervisorFailedError,
    /more than 3 restarts within 5000 ms/,
  );
  assert.match(String((err.cause as Error).message), /init failed on purpose/);
  assert.equal(
    ev.restarting.map((r) => r.delayMs),
    [20, 40, 80],
  );
  assert.is(ev.failed.length, 4);
  assert.ok(ev.failed.every((f) => f.phase === 'init'));
  assert.is(sup.state, 'failed');
  await rejects(() => sup.done, SupervisorFailedError);
});

test('process.exit in a worker: calls pending on its actors reject, they restart on a new thread', async () => {
  const sup = supervisor([probe('a'), probe('other'), probe('c')]); // a and c share thread 0
  const ev = record(sup);
  await sup.start();
  await sup.call('c', { op: 'add', by: 7 });
  await sup.call('other', { op: 'add', by: 3 });
  const pending = Array.from({ length: 20 }, () => sup.call('c', { op: 'sleep', ms: 2000 }));
  const exit = sup.call('a', { op: 'exit', code: 3 });
  for (const p of [exit, ...pending]) await rejects(() => p, ActorDiedError, /exited with code 3/);
  assert.is(ev.exits[0].reason, 'exit');
  assert.is(ev.exits[0].exitCode, 3);
  await waitFor(() => ev.restarting.length === 2);
  assert.is(await sup.call('c', { op: 'add', by: 1 }), 1, 'c restarted fresh');
  assert.is(await sup.call('other', { op: 'add', by: 1 }), 4, 'the other thread was not touched');
  const s = await sup.stats();
  assert.equal(
    s.threads.map((t) => [t.slot, t.generation, t.alive]),
    [
      [0, 2, true],
      [1, 1, true],
    ],
  );
  assert.equal(ev.failed.map((f) => f.id).sort(), ['a', 'c']);
});

test('a worker killed by resourceLimits (out of memory): its actors restart', async () => {
  const sup = supervisor([probe('hog')], {
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
  });
  const ev = record(sup);
  await sup.start();
  await rejects(() => sup.call('hog', { op: 'oom' }), ActorDiedError);
  assert.is(ev.exits[0].reason, 'out-of-memory');
  assert.instance(ev.exits[0], WorkerExitError);
  await waitFor(() => ev.restarting.length === 1);
  assert.is(await sup.call('hog', { op: 'add', by: 1 }), 1);
});

test('an async handler past handlerTimeoutMs fails the actor, not its thread; the next incarnation works', async () => {
  const sup = supervisor([
    probe('slow', { handlerTimeoutMs: 100 }),
    probe('x'),
    probe('neighbour'),
  ]);
  const ev = record(sup);
  await sup.start();
  await sup.call('neighbour', { op: 'add', by: 9 });
  const t0 = Date.now();
  const err = await rejects(() => sup.call('slow', { op: 'hang' }), ActorCallError);
  assert.ok(Date.now() - t0 < 1000);
  assert.instance(err.cause, Error);
  assert.is((err.cause as HandlerTimeoutError).code, 'CYREDIS_ERR_HANDLER_TIMEOUT');
  assert.is(ev.exits.length, 0, 'no thread was killed');
  await waitFor(() => ev.restarting.length === 1);
  assert.is(await sup.call('neighbour', { op: 'add', by: 1 }), 10, 'the neighbour kept its state');
  assert.is(
    await sup.call('slow', { op: 'add', by: 1 }),
    1,
    'the abandoned handler does not block the new one',
  );
});

test('a CPU-bound handler past its timeout: the watchdog terminates the thread', async () => {
  const sup = supervisor([probe('spinner', { handlerTimeoutMs: 200 }), probe('x'), probe('mate')]);
  const ev = record(sup);
  await sup.start();
  const t0 = Date.now();
  await rejects(
    () => sup.call('spinner', { op: 'spin' }),
    ActorDiedError,
    /handler timeout of 200 ms/,
  );
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  assert.is(ev.exits[0].reason, 'unresponsive');
  const spinner = ev.failed.find((f) => f.id === 'spinner')!;
  assert.instance(spinner.error, HandlerTimeoutError);
  assert.instance(ev.failed.find((f) => f.id === 'mate')!.error, WorkerExitError);
  await waitFor(() => ev.restarting.length === 2);
  assert.is(await sup.call('spinner', { op: 'add', by: 1 }), 1);
  assert.is(await sup.call('mate', { op: 'add', by: 1 }), 1);
});

test('a thread that stops beating (no handler timeout set) is terminated after unresponsiveMs', async () => {
  const sup = supervisor([probe('spinner', { handlerTimeoutMs: 0 })], { unresponsiveMs: 400 });
  const ev = record(sup);
  await sup.start();
  await rejects(() => sup.call('spinner', { op: 'spin' }), ActorDiedError, /no heartbeat/);
  assert.is(ev.exits[0].reason, 'unresponsive');
  await waitFor(() => ev.restarting.length === 1);
  assert.is(await sup.call('spinner', { op: 'get' }), 0);
});

test('a control call pending on a thread that dies rejects (comlink guarded), then restarts', async () => {
  // One thread: `killer` exits it 100 ms after its first init, while `a`'s init (400 ms) is
  // still pending on it. Plain comlink would leave that spawn hanging; start() must finish.
  const sup = supervisor(
    [probe('killer', { options: { exitInMs: 100 } }), probe('a', { options: { initMs: 400 } })],
    {
      threads: 1,
    },
  );
  const ev = record(sup);
  const t0 = Date.now();
  await sup.start();
  assert.ok(Date.now() - t0 < 3000);
  const a = ev.failed.find((f) => f.id === 'a');
  assert.ok(a, 'a failed with its thread');
  assert.instance(a.error, WorkerExitError);
  assert.is((await info(sup, 'a')).incarnation, 2);
  assert.is((await info(sup, 'killer')).incarnation, 2);
});

test('ctx.stop(): transient actors end for good, permanent ones come back', async () => {
  const sup = supervisor([
    probe('t', { restart: 'transient' }),
    probe('p', { restart: 'permanent' }),
  ]);
  const stopped: { id: string; reason: string }[] = [];
  sup.on('actor:stopped', (e) => stopped.push(e));
  await sup.start();
  assert.is(await sup.call('t', { op: 'stopSelf' }), 'bye');
  await waitFor(() => stopped.some((s) => s.id === 't' && s.reason === 'normal'));
  await rejects(() => sup.call('t', { op: 'get' }), ActorDiedError, /stopped/);
  assert.is(await sup.call('p', { op: 'stopSelf' }), 'bye');
  await sleep(50);
  assert.is((await info(sup, 'p')).incarnation, 2);
  const s = await sup.stats();
  assert.is(s.actors.find((a) => a.id === 't')!.state, 'stopped');
});

test('ctx.stop() from init, or from an async timer run, ends the actor (it does not wedge)', async () => {
  const sup = supervisor([
    probe('fromInit', { restart: 'transient', options: { stopInInit: true } }),
    probe('fromTimer', { restart: 'transient', options: { stopFromTimerRun: 3 } }),
  ]);
  const stopped: string[] = [];
  sup.on('actor:stopped', (e) => e.reason === 'normal' && stopped.push(e.id));
  await sup.start();
  await waitFor(() => stopped.length === 2, 3000, 'both to end');
  assert.equal(stopped.sort(), ['fromInit', 'fromTimer']);
  for (const id of ['fromInit', 'fromTimer'])
    await rejects(() => within(sup.call(id, { op: 'get' }), 1000, id), ActorDiedError, /stopped/);
});

test('a dead thread is replaced at once, then after a growing backoff (per slot)', async () => {
  // A long backoff (3 s) so "still dead while the backoff runs" has seconds of margin on a
  // loaded machine; every other step waits for the state it needs instead of sleeping.
  const BACKOFF_MS = 3000;
  const sup = supervisor([probe('a')], {
    threads: 1,
    supervision: { maxRestarts: 10, backoff: { minMs: BACKOFF_MS, maxMs: BACKOFF_MS, jitter: 0 } },
  });
  const ev = record(sup);
  await sup.start();
  const alive = async () => (await sup.stats()).threads[0];
  const running = async () => (await sup.stats()).actors[0].state === 'running';
  await rejects(() => sup.call('a', { op: 'exit' }), ActorDiedError);
  const first = await alive();
  assert.ok(first.alive && first.generation === 2, 'the first death: replaced at once');
  await waitFor(() => ev.restarting.length === 1);
  // The actor itself comes back after its own restart backoff (3 s) on the new thread.
  await waitFor(running, BACKOFF_MS + 5000, 'a to run again after its restart backoff');
  const killedAt = Date.now();
  await rejects(() => sup.call('a', { op: 'exit' }), ActorDiedError);
  await sleep(500);
  const during = await alive();
  assert.is(during.alive, false, 'the second death in a row waits out the backoff (3 s)');
  await waitFor(async () => (await alive()).alive, BACKOFF_MS + 5000, 'the replacement');
  const waited = Date.now() - killedAt;
  // Timers do not fire early (allow a little clock rounding); a late one only makes it longer.
  assert.ok(waited >= BACKOFF_MS - 50, `the replacement came after ${waited} ms, not the backoff`);
  assert.is((await alive()).generation, 3);
  await waitFor(running, BACKOFF_MS + 5000, 'a again');
});

test('a replaced thread counts toward the root intensity, with no actor running on it too', async () => {
  // `t` is temporary: its death is not restarted; only the thread is replaced.
  const sup = supervisor([probe('t', { restart: 'temporary' })], {
    threads: 1,
    supervision: { maxRestarts: 0, withinMs: 5000 },
  });
  await sup.start();
  await rejects(() => sup.call('t', { op: 'exit' }), ActorDiedError);
  const err = await rejects(() => within(sup.done, 3000, 'done'), SupervisorFailedError);
  assert.match(err.message, /more than 0 restarts .*exited with code 1/);
});

test('long synchronous init or handler within its timeout is not taken for a hang', async () => {
  // unresponsiveMs 200 (heartbeat 50): the heartbeat cannot run while they do, for 500 ms.
  const sup = supervisor(
    [
      probe('slowInit', { initTimeoutMs: 5000, options: { initSpinMs: 500 } }),
      probe('slowHandler', { handlerTimeoutMs: 5000 }),
    ],
    { threads: 1, unresponsiveMs: 200 },
  );
  const ev = record(sup);
  await sup.start();
  assert.is(await sup.call('slowHandler', { op: 'spinFor', ms: 500 }), 500);
  assert.equal(ev.exits, []);
  assert.equal(ev.failed, []);
});

test('many calls pending when an actor dies: every one rejects, none hangs', async () => {
  // a and killA share thread 0, b and killB thread 1.
  const sup = supervisor([probe('a'), probe('b'), probe('killA'), probe('killB')]);
  await sup.start();
  const calls = Array.from({ length: 200 }, (_, i) =>
    sup.call(i % 2 ? 'a' : 'b', { op: 'sleep', ms: 5000 }).then(
      () => 'ok',
      (e: Error) => e.name,
    ),
  );
  await sleep(20);
  void sup.call('killA', { op: 'exit' }).catch(() => {});
  void sup.call('killB', { op: 'exit' }).catch(() => {});
  const t0 = Date.now();
  const results = await Promise.all(calls);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal([...new Set(results)], ['ActorDiedError']);
});

test("calls from other threads pending on a dying thread's actors reject (ActorDiedError), none hangs", async () => {
  // target and killer share thread 0; caller (thread 1) has 20 calls to target pending.
  const sup = supervisor([probe('target'), probe('caller', { concurrency: 20 }), probe('killer')]);
  await sup.start();
  const calls = Array.from({ length: 20 }, () =>
    sup.call<unknown, { value?: unknown; error?: string }>(
      'caller',
      { op: 'callCatch', to: 'target', msg: { op: 'sleep', ms: 10_000 }, timeoutMs: 20_000 },
      { timeoutMs: 20_000 },
    ),
  );
  await waitFor(async () => (await sup.stats()).actors[0].running === 1, 3000, 'target busy');
  await sleep(50);
  void sup.call('killer', { op: 'exit' }).catch(() => {});
  const results = await within(Promise.all(calls), 3000, 'the pending calls');
  assert.equal([...new Set(results.map((r) => r.error))], ['ActorDiedError']);
  assert.is(
    await sup
      .call('caller', { op: 'callCatch', to: 'target', msg: { op: 'get' } })
      .then((r) => (r as { value: unknown }).value),
    0,
    'target restarted',
  );
});

test.run();
