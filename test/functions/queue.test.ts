import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import type { QueueMessage } from '../../functions/index.js';
import { InvalidArgumentError, NotFoundError, StaleReceiptError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll, fxClient, keysLike, sleep } from './helpers.js';

test('every message is acked exactly once across consumers, some of which stop without acking', async () => {
  const queue = keyPrefix('q') + 'work';
  const { fx, redis } = await fxClient();
  const total = 80;
  for (let i = 0; i < total; i++) assert.ok(await fx.queue.enqueue(queue, `m${i}`, `payload-${i}`));

  const acked = new Map<string, number>();
  const redelivered = new Set<string>();
  const pull = { visibilityMs: 250, maxMessages: 4, maxAttempts: 10 };

  /** A consumer that acks what it pulls; `abandon` decides to drop a delivery instead. */
  async function consumer(
    fxc: RedisFunctions,
    abandon: (m: QueueMessage) => boolean,
    stopAfter = Infinity,
  ): Promise<void> {
    let pulls = 0;
    let idle = 0;
    while (idle < 12 && pulls < stopAfter) {
      const msgs = await fxc.queue.pull(queue, pull);
      pulls++;
      if (msgs.length === 0) {
        idle++;
        await sleep(50);
        continue;
      }
      idle = 0;
      for (const m of msgs) {
        assert.is(m.payload, `payload-${m.id.slice(1)}`);
        if (m.attempts > 1) redelivered.add(m.id);
        if (abandon(m)) continue; // "crashed" while holding it: visibility will expire
        try {
          await fxc.queue.ack(queue, m.id, m.receipt);
        } catch (err) {
          // Too slow (a loaded machine): the delivery ended and another consumer has it.
          if (err instanceof StaleReceiptError || err instanceof NotFoundError) continue;
          throw err;
        }
        acked.set(m.id, (acked.get(m.id) ?? 0) + 1);
      }
    }
  }

  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  await Promise.all([
    consumer(fxs[0], () => false),
    consumer(fxs[1], () => false),
    // Drops every first delivery of every 5th message.
    consumer(fxs[2], (m) => m.attempts === 1 && Number(m.id.slice(1)) % 5 === 0),
    // Pulls twice, then stops for good without acking anything.
    consumer(fxs[3], () => true, 2),
  ]);

  assert.is(acked.size, total, 'every message acked');
  for (const [id, n] of acked) if (n !== 1) assert.unreachable(`${id} acked ${n} times`);
  assert.ok(redelivered.size > 0, 'abandoned deliveries came back');
  assert.equal(await fx.queue.stats(queue), { ready: 0, delayed: 0, inflight: 0, dead: 0 });
  assert.equal(await keysLike(redis, `cy:q:{${queue}}:msg`), [], 'payloads gone');
});

test('dedup: an id still in the queue is refused; after ack it may come again', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'dedup';
  assert.is(await fx.queue.enqueue(queue, 'order-1', 'a'), true);
  assert.is(await fx.queue.enqueue(queue, 'order-1', 'b'), false);
  const [m] = await fx.queue.pull(queue);
  assert.is(m.payload, 'a');
  assert.is(
    await fx.queue.enqueue(queue, 'order-1', 'c'),
    false,
    'in flight is still in the queue',
  );
  await fx.queue.ack(queue, 'order-1', m.receipt);
  assert.is(await fx.queue.enqueue(queue, 'order-1', 'd'), true);
});

test('a late ack with a stale receipt is refused; the current one wins', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'late';
  await fx.queue.enqueue(queue, 'x', 'p');
  const [slow] = await fx.queue.pull(queue, { visibilityMs: 80 });
  await sleep(120);
  const [fast] = await fx.queue.pull(queue, { visibilityMs: 5000 });
  assert.is(fast.id, 'x');
  assert.is(fast.attempts, 2);
  assert.is.not(fast.receipt, slow.receipt);
  const err = await rejects(() => fx.queue.ack(queue, 'x', slow.receipt), StaleReceiptError);
  assert.is(err.code, 'CYREDIS_ERR_STALE_RECEIPT');
  await rejects(() => fx.queue.extend(queue, 'x', 1000, slow.receipt), StaleReceiptError);
  await rejects(() => fx.queue.nack(queue, 'x', slow.receipt), StaleReceiptError);
  assert.equal(await fx.queue.stats(queue), { ready: 0, delayed: 0, inflight: 1, dead: 0 });
  await fx.queue.ack(queue, 'x', fast.receipt);
  await rejects(() => fx.queue.ack(queue, 'x', fast.receipt), NotFoundError);
});

test('nack with a retry delay, then dead-letter after maxAttempts; requeueDead', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'dlq';
  const opts = { maxAttempts: 2, visibilityMs: 5000 };
  await fx.queue.enqueue(queue, 'poison', 'boom');
  const [a] = await fx.queue.pull(queue, opts);
  assert.is(
    await fx.queue.nack(queue, 'poison', a.receipt, { retryDelayMs: 100, maxAttempts: 2 }),
    'requeued',
  );
  assert.equal(await fx.queue.pull(queue, opts), [], 'delayed');
  assert.is((await fx.queue.stats(queue)).delayed, 1);
  await sleep(130);
  const [b] = await fx.queue.pull(queue, opts);
  assert.is(b.attempts, 2);
  assert.is(await fx.queue.nack(queue, 'poison', b.receipt, { maxAttempts: 2 }), 'dead-lettered');
  assert.equal(await fx.queue.stats(queue), { ready: 0, delayed: 0, inflight: 0, dead: 1 });
  const dead = await fx.queue.deadLetters(queue);
  assert.is(dead.length, 1);
  assert.equal([dead[0].id, dead[0].payload, dead[0].attempts], ['poison', 'boom', 2]);
  assert.is(await fx.queue.enqueue(queue, 'poison', 'again'), false, 'dead letters still dedup');
  await fx.queue.requeueDead(queue, 'poison');
  const [c] = await fx.queue.pull(queue, opts);
  assert.is(c.attempts, 1, 'attempts reset');
  await rejects(() => fx.queue.requeueDead(queue, 'poison'), NotFoundError);
});

test('a delivery whose visibility ends on its last attempt is dead-lettered, not redelivered', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'expire';
  await fx.queue.enqueue(queue, 'm', 'p');
  await fx.queue.pull(queue, { visibilityMs: 50, maxAttempts: 1 });
  await sleep(80);
  assert.equal(await fx.queue.pull(queue, { visibilityMs: 50, maxAttempts: 1 }), []);
  assert.is((await fx.queue.deadLetters(queue))[0].id, 'm');
});

test('priority first, FIFO within a priority; delayMs; extend keeps a delivery', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'prio';
  await fx.queue.enqueue(queue, 'low', '', { priority: -5 });
  await fx.queue.enqueue(queue, 'n1', '');
  await fx.queue.enqueue(queue, 'high', '', { priority: 10 });
  await fx.queue.enqueue(queue, 'n2', '');
  await fx.queue.enqueue(queue, 'later', '', { delayMs: 150, priority: 1000 });
  const got = await fx.queue.pull(queue, { maxMessages: 10, visibilityMs: 100 });
  assert.equal(
    got.map((m) => m.id),
    ['high', 'n1', 'n2', 'low'],
  );
  await fx.queue.extend(queue, 'n1', 5000, got[1].receipt);
  await sleep(170);
  const again = await fx.queue.pull(queue, { maxMessages: 10, visibilityMs: 5000 });
  assert.equal(
    again.map((m) => m.id),
    ['later', 'high', 'n2', 'low'],
    'n1 was extended; the others came back after 100 ms, behind the newly due one',
  );
});

test('bad arguments are refused and nothing is written', async () => {
  const { fx, redis } = await fxClient();
  const queue = keyPrefix('q') + 'bad';
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.queue.enqueue(queue, '', 'p'), 'id'],
    [() => fx.queue.enqueue('', 'id', 'p'), 'queue'],
    [() => fx.queue.enqueue(queue, 'id', 42 as unknown as string), 'payload'],
    [() => fx.queue.enqueue(queue, 'id', 'p', { delayMs: -1 }), 'options.delayMs'],
    [() => fx.queue.enqueue(queue, 'id', 'p', { priority: 1001 }), 'options.priority'],
    [() => fx.queue.enqueue(queue, 'id', 'p', { priority: 0.5 }), 'options.priority'],
    [() => fx.queue.pull(queue, { visibilityMs: 0 }), 'options.visibilityMs'],
    [() => fx.queue.pull(queue, { maxMessages: 1001 }), 'options.maxMessages'],
    [() => fx.queue.pull(queue, { maxAttempts: -3 }), 'options.maxAttempts'],
    [() => fx.queue.ack(queue, 'id', ''), 'receipt'],
    [() => fx.queue.nack(queue, 'id', undefined, { retryDelayMs: -5 }), 'options.retryDelayMs'],
    [() => fx.queue.extend(queue, 'id', Number.POSITIVE_INFINITY), 'visibilityMs'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  assert.equal(await keysLike(redis, `cy:q:{${queue}}*`), []);
  // The Lua checks stand behind the TypeScript ones: a raw call gets the same typed error.
  const keys = ['ready', 'delayed', 'inflight', 'msg', 'meta', 'dead', 'seq'].map(
    (s) => `cy:q:{${queue}}:${s}`,
  );
  const raw = await rejects(
    () => fx.call('cy:queue:enqueue', keys, ['id', 'p', '1e3', '']),
    InvalidArgumentError,
  );
  assert.is(raw.field, 'delayMs');
  assert.equal(await keysLike(redis, `cy:q:{${queue}}*`), []);
});

test('binary payloads: byte-exact with { binary: true } (pull, deadLetters), strings by default', async () => {
  const { fx } = await fxClient();
  const queue = keyPrefix('q') + 'bin';
  // Every byte value, invalid UTF-8 sequences (0xff, a lone 0x80, 0xc3 0x28) and NULs included.
  const body = Buffer.concat([
    Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80]),
    Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
  ]);
  await fx.queue.enqueue(queue, 'm1', body);
  const [m] = await fx.queue.pull(queue, { binary: true, maxAttempts: 1 });
  assert.ok(Buffer.isBuffer(m.payload) && m.payload.equals(body), 'pull');
  assert.type(m.id, 'string');
  assert.type(m.receipt, 'string');
  assert.is(await fx.queue.nack(queue, 'm1', m.receipt, { maxAttempts: 1 }), 'dead-lettered');
  const [dead] = await fx.queue.deadLetters(queue, 0, -1, { binary: true });
  assert.ok(dead.payload.equals(body), 'deadLetters');
  await fx.queue.enqueue(queue, 'm2', 'plain text é');
  const [t] = await fx.queue.pull(queue);
  assert.is(t.payload, 'plain text é', 'strings by default');
});

test.after(closeAll);
test.run();
