/**
 * A crashed worker thread releases the leases of the singletons that ran on it (DESIGN.md,
 * reliability contract): another supervisor may take over at once, and the local restart then
 * competes for the lease like any standby. The singleton ticks its fencing token into a list
 * every 20 ms: in the server's order the tokens never go down (never two holders at once).
 * Both supervisors run in this process.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Supervisor } from '../../runtime/actor/index.js';
import { testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { SINGLETON, assertNeverTwo, list, nsOf, stopAll, supervisor, waitFor } from './helpers.js';

test.after.each(stopAll);

const TTL = 1500;
/** The crashed holder's restart backoff: far longer than a takeover needs (B retries every
 * ttl/3 while the lease is held elsewhere, at once once it sees it free). */
const RESTART_MS = 4000;

async function solo(sup: Supervisor) {
  return (await sup.stats()).actors[0];
}

function setup(prefix: string, url: string, restartMs: number) {
  const actor = { name: 'solo', module: SINGLETON, singleton: true, options: { prefix } };
  return supervisor([actor], {
    redis: url,
    namespace: nsOf(prefix),
    threads: 1,
    placement: { heartbeatMs: 200, leaseTtlMs: TTL },
    supervision: {
      maxRestarts: 10,
      withinMs: 20_000,
      backoff: { minMs: restartMs, maxMs: restartMs, jitter: 0 },
    },
  });
}

test('a holder whose thread crashes releases the lease at once: another supervisor takes over before the local restart', async () => {
  const url = (await sharedRedis()).url;
  const redis = await testClient();
  const prefix = keyPrefix('crash');
  const a = setup(prefix, url, RESTART_MS);
  const b = setup(prefix, url, 5);
  const starts = async (): Promise<string[]> =>
    (await list(redis, `${prefix}:events`)).filter((e) => e.startsWith('start'));
  try {
    await a.start();
    await waitFor(async () => (await solo(a)).singleton === 'held', 5000, 'a to hold the lease');
    await b.start();
    await waitFor(async () => (await list(redis, `${prefix}:ticks`)).length >= 3, 5000, 'ticks');
    assert.is((await solo(b)).singleton, 'standby');
    const aToken = (await solo(a)).fencingToken!;

    let aRestartsAtTakeover = -1;
    b.once('singleton:acquired', () => {
      void solo(a).then((s) => (aRestartsAtTakeover = s.restarts));
    });
    await a.send('solo', { exit: 1 }); // process.exit in the handler: the thread dies
    await waitFor(async () => (await solo(b)).state === 'running', 10_000, 'b to take over');
    await waitFor(() => aRestartsAtTakeover >= 0, 2000, "a's stats");
    assert.is(aRestartsAtTakeover, 0, 'b took over while a waited out its restart backoff');
    const bToken = (await solo(b)).fencingToken!;
    assert.ok(bToken > aToken, `tokens ${aToken} then ${bToken}`);

    // A's restart finds the lease held: it stays on standby (and keeps trying).
    await waitFor(async () => (await solo(a)).restarts === 1, RESTART_MS + 5000, "a's restart");
    await new Promise((r) => setTimeout(r, TTL / 2));
    const sa = await solo(a);
    assert.is(sa.state, 'standby');
    assert.is(sa.singleton, 'standby');
    const sb = await solo(b);
    assert.is(sb.singleton, 'held');
    assert.is(sb.fencingToken, bToken);

    // ... so it takes over again once B lets go.
    await b.stop();
    await waitFor(async () => (await solo(a)).state === 'running', 5000, 'a to take over again');
    const cToken = (await solo(a)).fencingToken!;
    assert.ok(cToken > bToken, `tokens ${bToken} then ${cToken}`);
    await waitFor(async () => (await list(redis, `${prefix}:ticks`)).at(-1) === String(cToken));

    const tokens = (await starts()).map((e) => Number(e.split(' ')[1]));
    assert.equal(tokens, [aToken, bToken, cToken]);
    assertNeverTwo(await list(redis, `${prefix}:ticks`));
  } finally {
    await stopAll();
    await redis.close();
  }
});

test('alone: the singleton comes back after its thread crashed, under a new lease', async () => {
  const url = (await sharedRedis()).url;
  const redis = await testClient();
  const prefix = keyPrefix('crash1');
  const a = setup(prefix, url, 5);
  const exits: string[] = [];
  a.on('thread:exit', (e) => exits.push(e.error.reason));
  try {
    await a.start();
    // Ticking: its init is done, so it takes messages.
    await waitFor(async () => (await list(redis, `${prefix}:ticks`)).length > 0, 5000, 'ticks');
    const first = (await solo(a)).fencingToken!;
    await a.send('solo', { exit: 1 });
    await waitFor(
      async () => (await solo(a)).restarts === 1 && (await solo(a)).state === 'running',
      10_000,
      'the singleton back',
    );
    const s = await solo(a);
    assert.is(s.singleton, 'held');
    assert.ok(s.fencingToken! > first, `a new lease: tokens ${first} then ${s.fencingToken}`);
    assert.equal(exits, ['exit']);
    await waitFor(
      async () => (await list(redis, `${prefix}:ticks`)).at(-1) === String(s.fencingToken),
    );
    assertNeverTwo(await list(redis, `${prefix}:ticks`));
  } finally {
    await stopAll();
    await redis.close();
  }
});

test.run();
