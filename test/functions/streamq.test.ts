import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_GROUP, RedisFunctions } from '../../functions/index.js';
import type { StreamQueueMessage } from '../../functions/index.js';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import { InvalidArgumentError, NotFoundError, StaleReceiptError } from '../../runtime/errors.js';
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
  assert.equal(m, { streamId: id!, businessId: 'order-1', payload: '{"qty":1}', consumer: 'c1' });
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
  assert.equal(claimed, [{ ...held, consumer: 'rescuer' }]);
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
  const as = (consumer: string): StreamQueueMessage[] => [{ ...first, consumer }];
  assert.equal((await fx.streamq.claimStale(q, G, 'w2', opts)).claimed, as('w2')); // 2
  assert.equal((await fx.streamq.claimStale(q, G, 'w3', opts)).claimed, as('w3')); // 3
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
      consumer: quarantined.consumer,
    },
    {
      businessId: 'bad',
      payload: 'crashes-the-worker',
      originalId: first.streamId,
      deliveries: 3,
      group: G,
      reason: 'max_deliveries',
      consumer: 'w3',
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
  await fx.streamq.nack(q, G, m);
  const { claimed } = await fx.streamq.claimStale(q, G, 'w2', {
    minIdleMs: 3_600_000,
    maxDeliveries: 9,
  });
  assert.equal(claimed, [{ ...m, consumer: 'w2' }]);
  await fx.streamq.ack(q, G, claimed[0]);
  await rejects(() => fx.streamq.nack(q, G, claimed[0]), NotFoundError);
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
    [
      () => fx.streamq.ack(q, G, { streamId: '', businessId: 'b', consumer: 'c' }),
      'message.streamId',
    ],
    [
      () => fx.streamq.ack(q, G, { streamId: '1-1', businessId: 'b', consumer: '' }),
      'message.consumer',
    ],
    [() => fx.streamq.nack(q, G, { streamId: '1-1', consumer: '' }), 'message.consumer'],
    [() => fx.streamq.nack(q, G, { streamId: '1', consumer: 'c' }), 'streamId'],
    [() => fx.streamq.nack(q, G, '1-1' as unknown as StreamQueueMessage), 'message'],
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

// ---- regressions (review of cy_streamq version 1) ----

const streamOf = (q: string): string => `cy:sq:{${q}}:stream`;

/** XPENDING rows [id, owner, idle, deliveries] of the default group. */
async function pendingRows(
  redis: HighPerformanceRedis,
  q: string,
): Promise<[string, string, number, number][]> {
  return (await redis.call('XPENDING', streamOf(q), G, '-', '+', 1000)) as [
    string,
    string,
    number,
    number,
  ][];
}

test('claimStale decides about exactly the entries it looked at: none past maxDeliveries is handed out', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'exact';
  await fx.streamq.enqueue(q, 'A', 'a');
  await fx.streamq.enqueue(q, 'B', 'b');
  const [a, b] = await fx.streamq.read(q, G, 'c1', { count: 10 });
  // maxDeliveries 1 and count 1: A is looked at and quarantined; B was not looked at, so it is
  // neither claimed nor quarantined (version 1 XAUTOCLAIMed it: a second delivery past the limit).
  const r = await fx.streamq.claimStale(q, G, 'c2', { minIdleMs: 0, maxDeliveries: 1, count: 1 });
  assert.equal([r.claimed, r.quarantined, r.deleted], [[], [a.streamId], []]);
  assert.equal(
    (await pendingRows(redis, q)).map(([id, owner, , n]) => [id, owner, n]),
    [[b.streamId, 'c1', 1]],
  );
  // Entries deleted from the stream while pending are reported as deleted, under the limit or not.
  await fx.streamq.enqueue(q, 'C', 'c');
  const [c] = await fx.streamq.read(q, G, 'c1');
  await redis.call('XCLAIM', streamOf(q), G, 'c1', 0, c.streamId); // C: 2 deliveries
  await redis.call('XDEL', streamOf(q), b.streamId, c.streamId);
  const d = await fx.streamq.claimStale(q, G, 'c2', { minIdleMs: 0, maxDeliveries: 2, count: 5 });
  assert.equal(
    [d.claimed, d.quarantined, d.deleted.sort()],
    [[], [], [b.streamId, c.streamId].sort()],
  );
  assert.equal(await pendingRows(redis, q), []);
});

test('claimStale from three connections at once: claimed at most once, never past maxDeliveries', async () => {
  const { redis } = await fxClient();
  const q = keyPrefix('sq') + 'claimrace';
  const producer = new RedisFunctions(await client());
  for (let i = 0; i < 30; i++) await producer.streamq.enqueue(q, `b${i}`, 'p');
  const read = await producer.streamq.read(q, G, 'dies', { count: 100 });
  assert.is(read.length, 30);
  // Every other entry was delivered twice already: poison with maxDeliveries 2, interleaved
  // with entries that may be claimed once more.
  const even = read.filter((_, i) => i % 2 === 0);
  for (const m of even) await redis.call('XCLAIM', streamOf(q), G, 'dies', 0, m.streamId);
  const claimers = await Promise.all(
    Array.from({ length: 3 }, async () => new RedisFunctions(await client())),
  );
  const claimedTimes = new Map<string, number>();
  const quarantined: string[] = [];
  const opts = { minIdleMs: 0, maxDeliveries: 2, count: 4 };
  for (let round = 0; round < 40 && quarantined.length < 30; round++) {
    const results = await Promise.all(
      claimers.map((fxc, i) => fxc.streamq.claimStale(q, G, `c${i}`, opts)),
    );
    for (const r of results) {
      for (const m of r.claimed)
        claimedTimes.set(m.businessId, (claimedTimes.get(m.businessId) ?? 0) + 1);
      quarantined.push(...r.quarantined);
    }
    for (const [id, , , n] of await pendingRows(redis, q))
      if (n > opts.maxDeliveries) assert.unreachable(`${id} delivered ${n} times`);
  }
  assert.is(quarantined.length, 30, 'all quarantined in the end');
  assert.is(new Set(quarantined).size, 30, 'each once');
  for (const m of even)
    if (claimedTimes.has(m.businessId)) assert.unreachable(`poison ${m.businessId} was claimed`);
  assert.is(claimedTimes.size, 15, 'the others were claimed');
  for (const [b, n] of claimedTimes) if (n !== 1) assert.unreachable(`${b} claimed ${n} times`);
});

test('maxLen never trims entries the group has not acknowledged (concurrent producers and consumers)', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'maxlen';
  for (let i = 0; i < 300; i++) await fx.streamq.enqueue(q, `early-${i}`, 'p', { maxLen: 10 });
  const early = await fx.streamq.read(q, G, 'c', { count: 1000 });
  assert.is(early.length, 300, 'nothing undelivered was trimmed');
  for (const m of early) assert.ok(await fx.streamq.ack(q, G, m));

  // Three producers and two consumers at once; every business id completes exactly once.
  const producers = await Promise.all(
    Array.from({ length: 3 }, async () => new RedisFunctions(await client())),
  );
  const consumers = await Promise.all(
    Array.from({ length: 2 }, async () => new RedisFunctions(await client())),
  );
  const completed = new Map<string, number>();
  let producing = true;
  const produce = Promise.all(
    producers.map(async (p, i) => {
      for (let j = 0; j < 120; j++)
        assert.ok(await p.streamq.enqueue(q, `p${i}-${j}`, 'x', { maxLen: 20 }));
    }),
  ).finally(() => (producing = false));
  const consume = Promise.all(
    consumers.map(async (c, i) => {
      for (;;) {
        const batch = await c.streamq.read(q, G, `w${i}`, { count: 16, blockMs: 20 });
        if (batch.length === 0 && !producing) break;
        for (const m of batch)
          if (await c.streamq.ack(q, G, m))
            completed.set(m.businessId, (completed.get(m.businessId) ?? 0) + 1);
      }
    }),
  );
  await Promise.all([produce, consume]);
  assert.is(completed.size, 360, 'every business id was delivered');
  for (const [b, n] of completed) if (n !== 1) assert.unreachable(`${b} completed ${n} times`);
  assert.is(await fx.streamq.enqueue(q, 'early-0', 'again', { maxLen: 10 }), null, 'still deduped');
  // Everything is acknowledged now: the next enqueue trims the history (whole stream nodes).
  assert.ok(await fx.streamq.enqueue(q, 'last', 'x', { maxLen: 20 }));
  const left = (await redis.call('XLEN', streamOf(q))) as number;
  assert.ok(left <= 101, `${left} entries left of the 661 added`);
});

test('maxLen keeps entries pending for a dead consumer and entries a lagging group has not read', async () => {
  const { fx, redis } = await fxClient();
  const worker = new RedisFunctions(await client());
  const q = keyPrefix('sq') + 'trimpending';
  /** `n` enqueues with maxLen 10 while `worker` reads and acks them in the default group. */
  const traffic = async (prefix: string, n: number): Promise<void> => {
    let producing = true;
    await Promise.all([
      (async () => {
        for (let i = 0; i < n; i++)
          await fx.streamq.enqueue(q, `${prefix}${i}`, 'x', { maxLen: 10 });
      })().finally(() => (producing = false)),
      (async () => {
        for (;;) {
          const batch = await worker.streamq.read(q, G, 'live', { count: 50, blockMs: 50 });
          if (batch.length === 0 && !producing) return;
          for (const m of batch) assert.ok(await worker.streamq.ack(q, G, m));
        }
      })(),
    ]);
  };
  for (let i = 0; i < 5; i++) await fx.streamq.enqueue(q, `held-${i}`, `p${i}`, { maxLen: 10 });
  const held = await fx.streamq.read(q, G, 'dies', { count: 5 }); // never acked
  await traffic('n-', 400);
  await sleep(5);
  const { claimed, deleted } = await worker.streamq.claimStale(q, G, 'rescuer', {
    minIdleMs: 1,
    maxDeliveries: 5,
  });
  assert.equal(deleted, [], 'version 1 trimmed them: they came back as deleted');
  assert.equal(
    claimed.map((m) => [m.businessId, m.payload]),
    held.map((m) => [m.businessId, m.payload]),
  );
  for (const m of claimed) assert.ok(await worker.streamq.ack(q, G, m));
  // Everything acknowledged: the next enqueue trims the history (whole stream nodes).
  await fx.streamq.enqueue(q, 'after', 'x', { maxLen: 10 });
  assert.ok(((await redis.call('XLEN', streamOf(q))) as number) <= 110, 'history trimmed');
  // A second group that reads nothing: none of the entries it has not read is trimmed.
  await redis.call('XGROUP', 'CREATE', streamOf(q), 'audit', '$');
  await traffic('m-', 300);
  const reply = (await redis.call(
    'XREADGROUP',
    'GROUP',
    'audit',
    'a',
    'COUNT',
    1000,
    'STREAMS',
    streamOf(q),
    '>',
  )) as unknown;
  const entries = Array.isArray(reply)
    ? ((reply[0] as unknown[])[1] as unknown[])
    : Object.values(reply as Record<string, unknown[]>)[0];
  assert.is(entries.length, 300, 'the audit group gets every entry added after it was created');
});

/** Calls of `command` the server has run so far (INFO commandstats counts calls from Lua). */
async function calls(redis: HighPerformanceRedis, command: string): Promise<number> {
  const info = (await redis.call('INFO', 'commandstats')) as string;
  const line = info.split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:calls=`));
  return line ? Number(/calls=(\d+)/.exec(line)![1]) : 0;
}

test('enqueue looks at consumer groups only to trim: no XINFO GROUPS on the common path', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'cheap';
  const before = {
    xinfo: await calls(redis, 'xinfo|groups'),
    create: await calls(redis, 'xgroup|create'),
  };
  for (let i = 0; i < 50; i++)
    assert.ok(await fx.streamq.enqueue(q, `b${i}`, 'x', { maxLen: 100 }));
  assert.is(await calls(redis, 'xinfo|groups'), before.xinfo, 'version 4 ran it 50 times');
  assert.is(await calls(redis, 'xgroup|create'), before.create + 1, 'once, with the stream');
  // Past maxLen it looks, to find what every group has acknowledged: the 10 enqueues that
  // find more than 100 entries.
  for (let i = 50; i < 110; i++) await fx.streamq.enqueue(q, `b${i}`, 'x', { maxLen: 100 });
  assert.is(await calls(redis, 'xinfo|groups'), before.xinfo + 10);
  assert.is(await calls(redis, 'xgroup|create'), before.create + 1);
  assert.is(await redis.call('XLEN', streamOf(q)), 110, 'nothing read yet: nothing trimmed');
  const all = await fx.streamq.read(q, G, 'c', { count: 1000 });
  assert.is(all.length, 110);
});

test('a group named by enqueue on an existing stream is created before a trim: it misses nothing', async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'latergroup';
  // Group 'first' reads and acknowledges 300 entries: all of them are trimmable for it.
  for (let i = 0; i < 300; i++) await fx.streamq.enqueue(q, `a${i}`, 'x', { group: 'first' });
  for (const m of await fx.streamq.read(q, 'first', 'c', { count: 1000 }))
    assert.ok(await fx.streamq.ack(q, 'first', m));
  // A producer for group 'second' trims: 'second' is created at 0 first, so nothing goes.
  assert.ok(await fx.streamq.enqueue(q, 'b0', 'x', { group: 'second', maxLen: 10 }));
  assert.is(await redis.call('XLEN', streamOf(q)), 301);
  for (let i = 1; i < 200; i++)
    await fx.streamq.enqueue(q, `b${i}`, 'x', { group: 'second', maxLen: 10 });
  const seen = await fx.streamq.read(q, 'second', 'd', { count: 1000 });
  assert.is(seen.length, 500, "every entry, 'first' acknowledged or not");
  // A group that only a consumer names is created by its first read, at 0: it sees them all.
  const late = await fx.streamq.read(q, 'third', 'e', { count: 1000 });
  assert.is(late.length, 500);
  // Once every group acknowledged them, the history goes (whole stream nodes).
  for (const [g, ms] of [
    ['first', await fx.streamq.read(q, 'first', 'c', { count: 1000 })],
    ['second', seen],
    ['third', late],
  ] as const)
    for (const m of ms) await fx.streamq.ack(q, g, m);
  await fx.streamq.enqueue(q, 'last', 'x', { group: 'second', maxLen: 10 });
  assert.ok(((await redis.call('XLEN', streamOf(q))) as number) <= 110, 'history trimmed');
});

test('ack validates the stream id fully and XACKs before recording: a refused ack records nothing', async () => {
  const { fx } = await fxClient();
  const q = keyPrefix('sq') + 'ackid';
  await fx.streamq.enqueue(q, 'order-7', 'x');
  const [m] = await fx.streamq.read(q, G, 'c1');
  for (const bad of [
    '99999999999999999999999-0',
    '18446744073709551616-0',
    '1-18446744073709551616',
  ]) {
    const err = await rejects(
      () => fx.streamq.ack(q, G, { ...m, streamId: bad }),
      InvalidArgumentError,
    );
    assert.is(err.field, 'streamId');
  }
  assert.is(await fx.streamq.isDone(q, 'order-7'), false, 'nothing recorded');
  assert.is(await fx.streamq.ack(q, G, m), true, 'the real ack is the first completion');
  // The largest valid id is accepted (not pending: nothing to complete).
  assert.is(
    await fx.streamq.ack(q, G, {
      streamId: '18446744073709551615-18446744073709551615',
      consumer: 'c1',
      businessId: 'z',
    }),
    false,
  );
  assert.is(await fx.streamq.isDone(q, 'z'), false);
});

test('an entry quarantined while a slow consumer holds it: the late ack is not a first completion', async () => {
  const { fx } = await fxClient();
  const slow = new RedisFunctions(await client());
  const q = keyPrefix('sq') + 'slowq';
  await fx.streamq.enqueue(q, 'pay-1', 'p');
  const [held] = await slow.streamq.read(q, G, 'slow'); // its last delivery (maxDeliveries 1)
  await sleep(15);
  const r = await fx.streamq.claimStale(q, G, 'rescuer', { minIdleMs: 10, maxDeliveries: 1 });
  assert.equal(r.quarantined, [held.streamId]);
  assert.is(await slow.streamq.ack(q, G, held), false, 'quarantined: discard the effects');
  assert.is(await fx.streamq.isDone(q, 'pay-1'), false, 'not recorded as done');
  assert.is((await fx.streamq.quarantined(q))[0].businessId, 'pay-1');
});

/**
 * `n` entries read by consumer A on a connection of its own, then claimed by B on another
 * (A stalled): A still holds its messages, but the entries are pending for B.
 */
async function claimedAway(
  fx: RedisFunctions,
  q: string,
  prefix: string,
  n: number,
): Promise<{
  a: RedisFunctions;
  b: RedisFunctions;
  held: StreamQueueMessage[];
  claimed: StreamQueueMessage[];
}> {
  const [a, b] = await Promise.all(
    [client(), client()].map(async (c) => new RedisFunctions(await c)),
  );
  for (let i = 0; i < n; i++) await fx.streamq.enqueue(q, `${prefix}${i}`, 'p');
  const held = await a.streamq.read(q, G, 'A', { count: 1000 });
  assert.is(held.length, n);
  await sleep(15);
  const { claimed } = await b.streamq.claimStale(q, G, 'B', { minIdleMs: 10, maxDeliveries: 5 });
  assert.is(claimed.length, n);
  return { a, b, held, claimed };
}

test("ack only from the consumer the entry is pending for: another consumer's ack writes nothing", async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'owner';
  const done = `cy:sq:{${q}}:done`;
  const { a, b, held, claimed } = await claimedAway(fx, q, 'pay-', 20);
  // A stale completion record: any prune with a 60 s retention would drop it.
  await redis.call('ZADD', done, 1, 'long-ago');
  const state = async (): Promise<unknown[]> => [
    (await pendingRows(redis, q)).map(([id, owner, , n]) => [id, owner, n]),
    await redis.call('ZRANGE', done, 0, -1, 'WITHSCORES'),
    await redis.call('XLEN', streamOf(q)),
  ];
  const before = await state();
  const retention = { doneRetentionMs: 60_000 };
  const late = await Promise.all(held.map((m) => a.streamq.ack(q, G, m, retention)));
  assert.equal(
    late,
    held.map(() => false),
    'the original holder lost them to the claim',
  );
  assert.equal(await state(), before, 'no XACK, no record, no prune');
  // Both consumers ack at once from their own connections: only B's acks complete.
  const [fromA, fromB] = await Promise.all([
    Promise.all(held.map((m) => a.streamq.ack(q, G, m, retention))),
    Promise.all(claimed.map((m) => b.streamq.ack(q, G, m, retention))),
  ]);
  assert.equal(
    fromA,
    held.map(() => false),
  );
  assert.equal(
    fromB,
    claimed.map(() => true),
  );
  assert.equal(await pendingRows(redis, q), []);
  assert.is(await redis.call('ZCARD', done), 20, 'the 20 completions; long-ago pruned by them');
  // A raw ack naming no consumer is refused before anything is read or written.
  const keys = ['stream', 'dedup', 'done', 'quarantine'].map((x) => `cy:sq:{${q}}:${x}`);
  const err = await rejects(
    () => fx.call('cy_streamq_ack', keys, [G, held[0].streamId, 'pay-0', '']),
    InvalidArgumentError,
  );
  assert.is(err.field, 'consumer');
});

test("nack only from the consumer the entry is pending for: another consumer's nack writes nothing", async () => {
  const { fx, redis } = await fxClient();
  const q = keyPrefix('sq') + 'nackowner';
  const { a, b, held, claimed } = await claimedAway(fx, q, 'job-', 10);
  // What a nack would change: who holds each entry, its delivery count, and whether it is
  // claimable at once (its idle time: a nacked entry is idle since the epoch).
  const owners = async (): Promise<unknown> =>
    (await pendingRows(redis, q)).map(([id, owner, , n]) => [id, owner, n]);
  const claimableNow = (): Promise<unknown> =>
    redis.call('XPENDING', streamOf(q), G, 'IDLE', 3_600_000, '-', '+', 100);
  const before = await owners();
  for (const m of held) await rejects(() => a.streamq.nack(q, G, m), StaleReceiptError);
  assert.equal(await owners(), before, 'A lost them to the claim: nothing written');
  assert.equal(await claimableNow(), [], 'none made claimable under B');
  // Both nack at once from their own connections: only B's nacks take effect.
  const [fromA, fromB] = await Promise.all([
    Promise.allSettled(held.map((m) => a.streamq.nack(q, G, m))),
    Promise.allSettled(claimed.map((m) => b.streamq.nack(q, G, m))),
  ]);
  for (const r of fromA)
    assert.ok(r.status === 'rejected' && r.reason instanceof StaleReceiptError, String(r.status));
  assert.equal(
    fromB.map((r) => r.status),
    claimed.map(() => 'fulfilled'),
  );
  assert.equal(await owners(), before, 'still pending for B, delivery counts unchanged');
  const again = await fx.streamq.claimStale(q, G, 'C', {
    minIdleMs: 3_600_000,
    maxDeliveries: 5,
  });
  assert.equal(
    again.claimed.map((m) => m.streamId),
    claimed.map((m) => m.streamId),
    "B's nacks made them claimable at once",
  );
  // A raw nack naming no consumer (a version-2 caller) is refused before anything is read.
  const keys = ['stream', 'dedup', 'done', 'quarantine'].map((x) => `cy:sq:{${q}}:${x}`);
  const err = await rejects(
    () => fx.call('cy_streamq_nack', keys, [G, held[0].streamId]),
    InvalidArgumentError,
  );
  assert.is(err.field, 'consumer');
});

test('binary payloads: byte-exact with { binary: true }, strings by default', async () => {
  const { fx } = await fxClient();
  const q = keyPrefix('sq') + 'bin';
  // Every byte value, invalid UTF-8 sequences (0xff, a lone 0x80, 0xc3 0x28) and NULs included.
  const body = Buffer.concat([
    Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80]),
    Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
  ]);
  await fx.streamq.enqueue(q, 'b1', body);
  const [m] = await fx.streamq.read(q, G, 'c', { binary: true });
  assert.ok(Buffer.isBuffer(m.payload) && m.payload.equals(body), 'read');
  assert.is(m.businessId, 'b1');
  assert.type(m.streamId, 'string');
  const { claimed } = await fx.streamq.claimStale(q, G, 'c2', {
    minIdleMs: 0,
    maxDeliveries: 5,
    binary: true,
  });
  assert.ok(claimed[0].payload.equals(body), 'claimStale');
  await fx.streamq.claimStale(q, G, 'c3', { minIdleMs: 0, maxDeliveries: 2 });
  const [dead] = await fx.streamq.quarantined(q, 10, { binary: true });
  assert.ok(dead.payload.equals(body), 'quarantined');
  const [text] = await fx.streamq.quarantined(q);
  assert.type(text.payload, 'string');
  await rejects(
    () => fx.streamq.read(q, G, 'c', { binary: 'yes' as unknown as boolean }),
    InvalidArgumentError,
  );
});

test.after(closeAll);
test.run();
