/**
 * Supervision strategies, restart policies, restart intensity, escalation in nested
 * supervisors, backoff, and ordered shutdown — each observed through supervisor events.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShutdownError, SupervisorFailedError } from '../../runtime/errors.js';
import type { Strategy, Supervisor } from '../../runtime/actor/index.js';
import { rejects } from '../support/assert.js';
import { probe, sleep, stopAll, supervisor, waitFor } from './helpers.js';

test.after.each(stopAll);

function log(sup: Supervisor) {
  const out: string[] = [];
  sup.on('actor:started', (e) => out.push(`start ${e.id}`));
  sup.on('actor:stopped', (e) => out.push(`stop ${e.id} ${e.reason}`));
  sup.on('actor:failed', (e) => out.push(`fail ${e.id}`));
  return out;
}

async function crash(strategy: Strategy, victim = 'b'): Promise<string[]> {
  const sup = supervisor([probe('a'), probe('b'), probe('c')], {
    supervision: { strategy, maxRestarts: 5, backoff: { minMs: 1, maxMs: 1, jitter: 0 } },
  });
  await sup.start();
  const out = log(sup);
  await sup.call(victim, { op: 'throw' }).catch(() => {});
  await waitFor(async () => (await sup.stats()).actors.every((a) => a.state === 'running'));
  await sleep(20);
  return out;
}

test('one-for-one: only the failed child restarts', async () => {
  assert.equal(await crash('one-for-one'), ['fail b', 'start b']);
});

test('one-for-all: the others stop in reverse order, then all start in order', async () => {
  assert.equal(await crash('one-for-all'), [
    'fail b',
    'stop c restart',
    'stop a restart',
    'start a',
    'start b',
    'start c',
  ]);
});

test('rest-for-one: the failed child and those started after it', async () => {
  assert.equal(await crash('rest-for-one'), ['fail b', 'stop c restart', 'start b', 'start c']);
  assert.equal(await crash('rest-for-one', 'c'), ['fail c', 'start c']);
});

test('temporary children are never restarted; siblings are untouched even under one-for-all', async () => {
  const sup = supervisor([probe('a'), probe('tmp', { restart: 'temporary' })], {
    supervision: { strategy: 'one-for-all', backoff: { minMs: 1, jitter: 0 } },
  });
  await sup.start();
  const out = log(sup);
  await sup.call('tmp', { op: 'throw' }).catch(() => {});
  await waitFor(() => out.includes('stop tmp failed'));
  await sleep(30);
  assert.equal(out, ['fail tmp', 'stop tmp failed']);
  assert.is(await sup.call('a', { op: 'add', by: 1 }), 1);
});

test('transient children restart after a failure', async () => {
  const sup = supervisor([probe('t', { restart: 'transient' })], {
    supervision: { backoff: { minMs: 1 } },
  });
  await sup.start();
  const out = log(sup);
  await sup.call('t', { op: 'throw' }).catch(() => {});
  await waitFor(() => out.includes('start t'));
});

test('intensity exceeded: the supervisor stops its children and fails with a clear error', async () => {
  const sup = supervisor([probe('a'), probe('b')], {
    supervision: { maxRestarts: 2, withinMs: 10_000, backoff: { minMs: 1, jitter: 0 } },
  });
  const failed: SupervisorFailedError[] = [];
  sup.on('failed', (e) => failed.push(e));
  await sup.start();
  const out = log(sup);
  for (let i = 0; i < 3; i++) {
    await sup.call('b', { op: 'throw', message: `crash ${i}` }).catch(() => {});
    await waitFor(
      () => out.filter((l) => l === 'start b').length === Math.min(i + 1, 2) || failed.length > 0,
    );
  }
  const err = await rejects(
    () => sup.done,
    SupervisorFailedError,
    /supervisor root failed: more than 2 restarts within 10000 ms \(last: crash 2\)/,
  );
  assert.is(err.code, 'CYREDIS_ERR_SUPERVISOR_FAILED');
  assert.is(failed.length, 1);
  assert.is(sup.state, 'failed');
  assert.ok(out.includes('stop a removed'), 'the other child was stopped');
  await rejects(() => sup.call('a', { op: 'get' }), ShutdownError);
});

test('nested supervisors: a group past its intensity escalates; the parent restarts it, then fails', async () => {
  const sup = supervisor(
    [
      probe('top'),
      {
        name: 'pipeline',
        supervision: {
          strategy: 'one-for-all',
          maxRestarts: 1,
          withinMs: 10_000,
          backoff: { minMs: 1, jitter: 0 },
        },
        actors: [probe('g1'), probe('g2')],
      },
      probe('tail'),
    ],
    {
      supervision: {
        strategy: 'one-for-one',
        maxRestarts: 1,
        withinMs: 10_000,
        backoff: { minMs: 1, jitter: 0 },
      },
    },
  );
  const failed: SupervisorFailedError[] = [];
  sup.on('failed', (e) => failed.push(e));
  await sup.start();
  await sup.call('top', { op: 'add', by: 5 });
  await sup.call('g2', { op: 'add', by: 5 });
  const out = log(sup);

  // 1st failure of g1: the group restarts g1 and g2 (one-for-all), within its intensity.
  await sup.call('g1', { op: 'throw' }).catch(() => {});
  await waitFor(() => out.includes('start g2'));
  // 2nd: past the group's intensity (1): it stops g2, g1 and escalates; root restarts the group.
  out.length = 0;
  await sup.call('g1', { op: 'throw' }).catch(() => {});
  await waitFor(() => out.filter((l) => l.startsWith('start')).length === 2);
  assert.equal(out, ['fail g1', 'stop g2 removed', 'stop g1 removed', 'start g1', 'start g2']);
  assert.is(await sup.call('g2', { op: 'get' }), 0, 'the group restarted fresh');
  assert.is(await sup.call('top', { op: 'get' }), 5, 'top was not touched');
  assert.is(failed.length, 0);

  // The group fails twice more: its second escalation exceeds the root's intensity (1).
  await sup.call('g1', { op: 'throw' }).catch(() => {});
  await waitFor(() => out.filter((l) => l === 'start g1').length === 2);
  await sup.call('g1', { op: 'throw' }).catch(() => {});
  const err = await rejects(() => sup.done, SupervisorFailedError, /supervisor root failed/);
  assert.match((err.cause as Error).message, /supervisor pipeline failed: more than 1 restarts/);
  assert.is(failed.length, 1);
});

test('one-for-all with a nested group: stop in reverse (into the group), start in order', async () => {
  const order = async (victim: string): Promise<string[]> => {
    const sup = supervisor(
      [
        probe('a'),
        {
          name: 'g',
          supervision: {
            strategy: 'one-for-all',
            maxRestarts: 0,
            backoff: { minMs: 1, jitter: 0 },
          },
          actors: [probe('g1'), probe('g2')],
        },
        probe('c'),
      ],
      {
        supervision: {
          strategy: 'one-for-all',
          maxRestarts: 5,
          backoff: { minMs: 1, maxMs: 1, jitter: 0 },
        },
      },
    );
    await sup.start();
    const out = log(sup);
    await sup.call(victim, { op: 'throw' }).catch(() => {});
    await waitFor(() => out.filter((l) => l.startsWith('start')).length === 4);
    await sleep(20);
    await sup.stop();
    return out.filter((l) => !l.endsWith(' shutdown'));
  };
  // A root child fails: the rest stop in reverse start order (the group stops its own children
  // in reverse first), then everything starts again in start order.
  assert.equal(await order('a'), [
    'fail a',
    'stop c restart',
    'stop g2 restart',
    'stop g1 restart',
    'stop g restart',
    'start a',
    'start g1',
    'start g2',
    'start c',
  ]);
  // A group child fails past the group's intensity (0): the group stops its children and
  // escalates; the root stops its other children in reverse, then starts all in order.
  assert.equal(await order('g1'), [
    'fail g1',
    'stop g2 removed',
    'stop g1 removed',
    'stop c restart',
    'stop a restart',
    'start a',
    'start g1',
    'start g2',
    'start c',
  ]);
});

test('backoff grows per consecutive failure and resets after a calm run', async () => {
  const sup = supervisor([probe('a')], {
    supervision: {
      maxRestarts: 20,
      withinMs: 10_000,
      backoff: { minMs: 10, maxMs: 40, jitter: 0, resetAfterMs: 300 },
    },
  });
  const delays: number[] = [];
  sup.on('actor:restarting', (e) => delays.push(e.delayMs));
  await sup.start();
  for (let i = 0; i < 4; i++) {
    await sup.call('a', { op: 'throw' }).catch(() => {});
    await waitFor(() => delays.length === i + 1);
    await sleep(60);
  }
  assert.equal(delays, [10, 20, 40, 40]);
  await sleep(350);
  await sup.call('a', { op: 'throw' }).catch(() => {});
  await waitFor(() => delays.length === 5);
  assert.is(delays[4], 10);
});

test('ordered shutdown: stop() runs in reverse start order', async () => {
  const sup = supervisor([
    probe('a'),
    probe('b'),
    { name: 'g', actors: [probe('c'), probe('d')] },
    probe('e'),
  ]);
  await sup.start();
  const out = log(sup);
  await sup.stop();
  assert.equal(
    out.filter((l) => l.startsWith('stop')),
    [
      'stop e shutdown',
      'stop d shutdown',
      'stop c shutdown',
      'stop g shutdown',
      'stop b shutdown',
      'stop a shutdown',
    ],
  );
});

test.run();
