/**
 * Bounded mailboxes and backpressure: a sender on the same thread waits while the mailbox is
 * full; senders on other threads (and the main thread) are bounded by credits, acked once per
 * half window rather than once per message. A sender that gives up (timeout) leaves no waiter
 * behind.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel } from 'node:worker_threads';
import { ActorCallError, TimeoutError } from '../../runtime/errors.js';
import { Link } from '../../runtime/actor/link.js';
import { Mailbox } from '../../runtime/actor/mailbox.js';
import type { Supervisor } from '../../runtime/actor/index.js';
import { rejects } from '../support/assert.js';
import { probe, stopAll, supervisor, waitFor, within } from './helpers.js';

test.after.each(stopAll);

/** Polls the sink's mailbox depth while `work` runs; returns the deepest seen. */
async function deepest(sup: Supervisor, id: string, work: Promise<unknown>): Promise<number> {
  let max = 0;
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    const a = (await sup.stats()).actors.find((x) => x.id === id)!;
    max = Math.max(max, a.mailbox);
  }
  await work;
  return max;
}

test('same thread: the sender waits while the mailbox is full', async () => {
  // threads: 1, so src and sink share a thread and the mailbox bound applies directly.
  const sup = supervisor([probe('sink', { mailboxSize: 8 }), probe('src')], { threads: 1 });
  await sup.start();
  const work = (async () => {
    await sup.call('src', { op: 'send', to: 'sink', msg: { op: 'sleep', ms: 1 }, count: 150 });
    await waitFor(
      async () => (await sup.stats()).actors.find((x) => x.id === 'sink')!.handled >= 150,
    );
  })();
  const max = await deepest(sup, 'sink', work);
  assert.ok(max <= 8, `mailbox reached ${max}`);
  assert.ok(max >= 4, `the mailbox should have filled up (max ${max})`);
});

test('across threads: credits bound what one sender has in flight, with few acks', async () => {
  const sup = supervisor([probe('sink', { mailboxSize: 10_000 }), probe('src')], {
    creditWindow: 16,
  });
  await sup.start();
  const work = (async () => {
    await sup.call('src', { op: 'send', to: 'sink', msg: { op: 'sleep', ms: 1 }, count: 300 });
    await waitFor(
      async () => (await sup.stats()).actors.find((x) => x.id === 'sink')!.handled >= 300,
    );
  })();
  const max = await deepest(sup, 'sink', work);
  assert.ok(max <= 16, `one sender had ${max} messages queued (window 16)`);
  const s = await sup.stats();
  const sinkThread = s.threads[0];
  assert.is(s.threads[1].sent, 300);
  // One credit grant per 8 messages consumed (half the window), not one per message.
  assert.ok(sinkThread.acks <= 300 / 8 + 1, `acks ${sinkThread.acks}`);
  assert.ok(sinkThread.acks >= 300 / 8 - 1, `acks ${sinkThread.acks}`);
});

test('from the main thread: supervisor.send waits for credit too', async () => {
  const sup = supervisor([probe('sink', { mailboxSize: 10_000 })], { creditWindow: 8 });
  await sup.start();
  const work = Promise.all(
    Array.from({ length: 100 }, () => sup.send('sink', { op: 'sleep', ms: 1 })),
  );
  const max = await deepest(sup, 'sink', work);
  assert.ok(max <= 8, `mailbox reached ${max} (window 8)`);
});

test('a send with timeoutMs rejects with TimeoutError when no room comes in time', async () => {
  // Same thread: src's call to a full mailbox times out inside src.
  const sup = supervisor([probe('sink', { mailboxSize: 2 }), probe('src')], {
    threads: 1,
    creditWindow: 2,
  });
  await sup.start();
  void sup.call('sink', { op: 'sleep', ms: 400 });
  await sup.send('sink', { op: 'get' });
  await sup.send('sink', { op: 'get' }); // the mailbox (2) is full now; main's credit is spent
  const inside = await rejects(
    () => sup.call('src', { op: 'call', to: 'sink', msg: { op: 'get' }, timeoutMs: 50 }),
    ActorCallError,
  );
  assert.is((inside.cause as Error).name, 'TimeoutError');
  // From the main thread: its credit (window 2) is spent, the third send waits, then gives up.
  await rejects(
    () => sup.send('sink', { op: 'get' }, { timeoutMs: 50 }),
    TimeoutError,
    /did not take the message/,
  );
});

test('a wait that timed out leaves nothing behind (a producer retrying against a stuck actor)', async () => {
  const box = new Mailbox(1);
  box.push({ msg: 1, cid: 0, rs: 0, via: null });
  for (let i = 0; i < 200; i++)
    await box.waitSpace(1, () => new TimeoutError('full')).catch(() => {});
  assert.is(box.waiting, 0, 'mailbox waiters');
  const woken = box.waitSpace(1000);
  assert.is(box.waiting, 1);
  box.shift();
  await woken; // room: the one still waiting is woken, in order
  assert.is(box.waiting, 0);

  const { port1, port2 } = new MessageChannel();
  const noop = { onMessage() {}, onReply() {}, onUndeliverable() {} };
  const link = new Link(port1, 0, 1, 2, noop);
  assert.ok(link.trySpend('sink') && link.trySpend('sink') && !link.trySpend('sink'));
  for (let i = 0; i < 200; i++) await within(link.waitCredit('sink', 1), 1000, 'a timed wait');
  assert.is(link.waiting, 0, 'credit waiters');
  const credited = link.waitCredit('sink');
  link.refund('sink');
  await credited;
  assert.is(link.waiting, 0);
  link.close();
  port2.close();
});

test.run();
