/**
 * Bounded mailboxes and backpressure: a sender on the same thread waits while the mailbox is
 * full; senders on other threads (and the main thread) are bounded by credits, acked once per
 * half window rather than once per message. A sender that gives up (timeout) leaves no waiter
 * behind, and a call that timed out waiting for room is never delivered later. Credits stay
 * exact across restarts of the target.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel } from 'node:worker_threads';
import { ActorCallError, TimeoutError } from '../../runtime/errors.js';
import { Link } from '../../runtime/actor/link.js';
import { Mailbox } from '../../runtime/actor/mailbox.js';
import type { Supervisor } from '../../runtime/actor/index.js';
import { rejects } from '../support/assert.js';
import { probe, sleep, stopAll, supervisor, waitFor, within } from './helpers.js';

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

test('a call that timed out waiting for room is never delivered later (remote: credit; local: mailbox)', async () => {
  // callTimeoutMs 100 and no timeoutMs of their own: the calls wait for room under the call's
  // timeout. Once they gave up, nothing of them may reach the actor when room comes.
  const sup = supervisor([probe('sink', { mailboxSize: 2 }), probe('src')], {
    threads: 1,
    creditWindow: 2,
    callTimeoutMs: 100,
  });
  await sup.start();
  const busy = sup.call('sink', { op: 'sleep', ms: 500 }, { timeoutMs: 5000 });
  await waitFor(async () => (await sup.stats()).actors[0].running === 1, 2000, 'sink busy');
  await sup.send('sink', { op: 'add', by: 1 });
  await sup.send('sink', { op: 'add', by: 1 }); // the mailbox (2) is full, main's credit spent
  const remote = Array.from({ length: 5 }, () => sup.call('sink', { op: 'add', by: 100 }));
  for (const p of remote) await rejects(() => p, TimeoutError, /call to sink timed out/);
  // From src, on sink's thread: each call waits for mailbox room, and times out (src fails).
  const local = await rejects(
    () =>
      sup.call(
        'src',
        { op: 'call', to: 'sink', msg: { op: 'add', by: 1000 } },
        { timeoutMs: 5000 },
      ),
    ActorCallError,
  );
  assert.is((local.cause as Error).name, 'TimeoutError');
  await busy;
  await waitFor(async () => (await sup.stats()).actors[0].handled >= 3, 2000, 'the queued adds');
  await sleep(100);
  assert.is(await sup.call('sink', { op: 'get' }), 2, 'only the two sends were handled');
  assert.is((await sup.stats()).actors[0].handled, 4);
});

test('credits stay exact across restarts of the target (serial and concurrent)', async () => {
  // src (thread 1) sends sink (thread 0) 200 messages through a window of 4; every 10th makes
  // sink fail and restart. Lost credits would stall src; credits granted twice would let more
  // than a window of its messages into sink's mailbox.
  for (const concurrency of [1, 3]) {
    const sup = supervisor([probe('sink', { concurrency, mailboxSize: 1000 }), probe('src')], {
      creditWindow: 4,
      supervision: {
        maxRestarts: 100,
        withinMs: 60_000,
        backoff: { minMs: 1, maxMs: 1, jitter: 0 },
      },
    });
    await sup.start();
    const sends = within(
      (async () => {
        for (let i = 0; i < 20; i++) {
          await sup.call('src', { op: 'send', to: 'sink', msg: { op: 'sleep', ms: 1 }, count: 9 });
          await sup.call('src', { op: 'send', to: 'sink', msg: { op: 'throw' } });
        }
      })(),
      20_000,
      'src sending through restarts',
    );
    const max = await deepest(sup, 'sink', sends);
    assert.ok(max <= 4, `concurrency ${concurrency}: sink's mailbox held ${max} (window 4)`);
    await waitFor(async () => (await sup.stats()).actors[0].restarts === 20, 5000, '20 restarts');
    if (concurrency === 1) {
      // In order, one at a time: every message before a throw was handled.
      await waitFor(async () => (await sup.stats()).actors[0].handled === 180, 5000, '180');
    }
    await sup.stop();
  }
});

test.run();
