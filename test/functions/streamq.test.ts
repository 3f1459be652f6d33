import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_GROUP, RedisFunctions } from '../../functions/index.js';
import type { StreamQueueMessage } from '../../functions/index.js';
import { InvalidArgumentError, NotFoundError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll, fxClient, keysLike, sleep } from './helpers.js';

const G = DEFAULT_GROUP;

test('a business id is enqueued once; the group is created on the first enqueue', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'dedup';
  const id = await fx.streamq.enqueue(q, 'order-1', '{"qty":1}');
  assert.match(id!, /^\d+-\d+$/);
  assert.is(await fx.streamq.enqueue(q, 'order-1', '{"qty":2}'), null);
  assert.is(await redis.call('XLEN', `cy:sq:{${q}}:stream`), 1);
  const [m] = await fx.streamq.read(q, G, 'c1', { count: 10 });
  assert.equal(m, { streamId: id!, businessId: 'order-1', payload: '{"qty":1}' });
  // A dedup window lets an id come back once it has passed.
  const q2 = keyPrefix('sq') + 'window';
  assert.ok(await fx.streamq.enqueue(q2, 'x', 'a', { dedupWindowMs: 50 }));
  assert.is(await fx.streamq.enqueue(q2, 'x', 'b', { dedupWindowMs: 50 }), null);
  await sleep(70);
  assert.ok(await fx.streamq.enqueue(q2, 'x', 'c', { dedupWindowMs: 50 }));
});

test('a crashed consumer: its entry is claimed by another; exactly one ack completes it', async () => {
  const { fx } = await fxClient();
  const q = keyPrefix('sq') + 'crash';
  await fx.streamq.enqueue(q, 'pay-7', 'p');
  const [held] = await fx.streamq.read(q, G, 'dies', { count: 1 });
  assert.ok(held);
  assert.is(
    (await fx.streamq.claimStale(q, G, 'rescuer', { minIdleMs: 60_000, maxDeliveries: 5 })).claimed
      .length,
    0,
  );
  await sleep(60);
  const { claimed } = await fx.streamq.claimStale(q, G, 'rescuer', {
    minIdleMs: 50,
    maxDeliveries: 5,
  });
  assert.equal(claimed, [held]);
  assert.is(await fx.streamq.isDone(q, 'pay-7'), false);
  assert.is(await fx.streamq.ack(q, G, claimed[0]), true, 'first completion');
  assert.is(await fx.streamq.isDone(q, 'pay-7'), true);
  assert.is(await fx.streamq.ack(q, G, held), false, 'the late original is a duplicate');
  assert.is(await fx.streamq.enqueue(q, 'pay-7', 'again'), null);
});

test('many consumers, duplicates and a crash: every business id completes exactly once', async () => {
  const { fx } = await fxClient();
  const q = keyPrefix('sq') + 'many';
  const ids = Array.from({ length: 40 }, (_, i) => `biz-${i}`);
  const enq = await Promise.all(
    [...ids, ...ids.slice(0, 10)].map((b) => fx.streamq.enqueue(q, b, b)),
  );
  assert.is(enq.filter((x) => x !== null).length, 40, 'duplicates refused');

  const completions = new Map<string, number>();
  const process = async (fxc: RedisFunctions, m: StreamQueueMessage): Promise<void> => {
    if (await fxc.streamq.isDone(q, m.businessId)) {
      await fxc.streamq.ack(q, G, m);
      return;
    }
    if (await fxc.streamq.ack(q, G, m))
      completions.set(m.businessId, (completions.get(m.businessId) ?? 0) + 1);
  };
  const consumers = await Promise.all(
    Array.from({ length: 3 }, async () => new RedisFunctions(await client())),
  );
  // One consumer reads a batch and dies without acking.
  const lost = await consumers[0].streamq.read(q, G, 'dies', { count: 7 });
  assert.is(lost.length, 7);
  await Promise.all(
    consumers.slice(1).map(async (fxc, i) => {
      for (;;) {
        const batch = await fxc.streamq.read(q, G, `c${i}`, { count: 5, blockMs: 30 });
        if (batch.length === 0) break;
        for (const m of batch) await process(fxc, m);
      }
    }),
  );
  await sleep(30);
  const { claimed } = await consumers[1].streamq.claimStale(q, G, 'c0', {
    minIdleMs: 20,
    maxDeliveries: 5,
  });
  assert.is(claimed.length, 7);
  for (const m of claimed) await process(consumers[1], m);
  // The dead consumer comes back and acks its old batch: every ack is a duplicate.
  for (const m of lost) assert.is(await consumers[0].streamq.ack(q, G, m), false);

  assert.is(completions.size, 40);
  for (const [b, n] of completions) if (n !== 1) assert.unreachable(`${b} completed ${n} times`);
});

test('poison pill: quarantined after maxDeliveries, out of the stream and the pending list', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'poison';
  await fx.streamq.enqueue(q, 'bad', 'crashes-the-worker');
  const opts = { minIdleMs: 0, maxDeliveries: 3 };
  const [first] = await fx.streamq.read(q, G, 'w1'); // delivery 1
  assert.equal((await fx.streamq.claimStale(q, G, 'w2', opts)).claimed, [first]); // 2
  assert.equal((await fx.streamq.claimStale(q, G, 'w3', opts)).claimed, [first]); // 3
  const r = await fx.streamq.claimStale(q, G, 'w4', opts);
  assert.equal(r.claimed, []);
  assert.equal(r.quarantined, [first.streamId]);
  const [quarantined] = await fx.streamq.quarantined(q);
  assert.equal(
    {
      businessId: quarantined.businessId,
      payload: quarantined.payload,
      originalId: quarantined.originalId,
      deliveries: quarantined.deliveries,
      group: quarantined.group,
      reason: quarantined.reason,
    },
    {
      businessId: 'bad',
      payload: 'crashes-the-worker',
      originalId: first.streamId,
      deliveries: 3,
      group: G,
      reason: 'max_deliveries',
    },
  );
  assert.is(await redis.call('XLEN', `cy:sq:{${q}}:stream`), 0);
  const pending = (await redis.call('XPENDING', `cy:sq:{${q}}:stream`, G)) as unknown[];
  assert.is(pending[0], 0);
});

test('nack makes a pending entry claimable at once; nack of a non-pending entry is NotFound', async () => {
  const { fx } = await fxClient();
  const q = keyPrefix('sq') + 'nack';
  await fx.streamq.enqueue(q, 'n', 'p');
  const [m] = await fx.streamq.read(q, G, 'w1');
  await fx.streamq.nack(q, G, m.streamId);
  const { claimed } = await fx.streamq.claimStale(q, G, 'w2', {
    minIdleMs: 3_600_000,
    maxDeliveries: 9,
  });
  assert.equal(claimed, [m]);
  await fx.streamq.ack(q, G, m);
  await rejects(() => fx.streamq.nack(q, G, m.streamId), NotFoundError);
});

test('read before any enqueue creates the group; blockMs waits for a new entry', async () => {
  const { fx } = await fxClient();
  const producer = new RedisFunctions(await client());
  const q = keyPrefix('sq') + 'block';
  assert.equal(await fx.streamq.read(q, G, 'early'), []);
  const waiting = fx.streamq.read(q, G, 'early', { blockMs: 2000 });
  await sleep(30);
  await producer.streamq.enqueue(q, 'late', 'x');
  const got = await waiting;
  assert.is(got[0].businessId, 'late');
  // The consumer's own pending entries can be read again after a restart.
  const again = await fx.streamq.read(q, G, 'early', { pending: true });
  assert.equal(again, got);
});

test('bad arguments are refused and nothing is written', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'bad';
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.streamq.enqueue(q, '', 'p'), 'businessId'],
    [() => fx.streamq.enqueue(q, 'b', 'p', { group: '' }), 'options.group'],
    [() => fx.streamq.enqueue(q, 'b', 'p', { maxLen: -1 }), 'options.maxLen'],
    [() => fx.streamq.enqueue(q, 'b', 'p', { dedupWindowMs: 0.5 }), 'options.dedupWindowMs'],
    [() => fx.streamq.read(q, G, 'c', { count: 0 }), 'options.count'],
    [
      () => fx.streamq.claimStale(q, G, 'c', { minIdleMs: -1, maxDeliveries: 1 }),
      'options.minIdleMs',
    ],
    [
      () => fx.streamq.claimStale(q, G, 'c', { minIdleMs: 1, maxDeliveries: 0 }),
      'options.maxDeliveries',
    ],
    [() => fx.streamq.ack(q, G, { streamId: '', businessId: 'b' }), 'message.streamId'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  const keys = ['stream', 'dedup', 'done', 'quarantine'].map((s) => `cy:sq:{${q}}:${s}`);
  const raw = await rejects(
    () => fx.call('cy_streamq_ack', keys, [G, 'not-an-id', 'b', '']),
    InvalidArgumentError,
  );
  assert.is(raw.field, 'streamId');
  assert.equal(await keysLike(redis, `cy:sq:{${q}}*`), []);
});

test.after(closeAll);
test.run();
