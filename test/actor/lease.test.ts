/**
 * A singleton holder that cannot renew its lease (its Redis traffic is frozen by a proxy) must
 * stop the singleton before the lease can expire — here stop() itself hangs on Redis, so the
 * holder kills the singleton's thread — and only then may another supervisor take over. Also
 * when the wall clock steps back (NTP) while a renewal is on its way: lease deadlines run on a
 * monotonic clock (counted on the wall clock, that renewal would seem to have been answered 3 s
 * earlier than it was, and the holder would stop 3 s after the lease lapsed).
 * Both supervisors run in this process, so their events share one clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { SINGLETON, freezableProxy, sleep, stopAll, supervisor, waitFor } from './helpers.js';

test.after.each(stopAll);

/** The holder is cut off; with `stepMs`, the wall clock (Date.now) steps back that much while
 * a renewal is in flight, just before. */
async function cutOff(stepMs: number): Promise<void> {
  const TTL = stepMs ? 2400 : 1200;
  const redis = await sharedRedis();
  const direct = await testClient();
  const proxy = await freezableProxy(redis.host, redis.port);
  const prefix = keyPrefix('lease');
  const namespace = prefix.replace(/:$/, '').replace(/:/g, '-');
  const config = (url: string) => ({
    redis: url,
    namespace,
    threads: 1,
    placement: { heartbeatMs: 200, leaseTtlMs: TTL },
  });
  const actor = {
    name: 'solo',
    module: SINGLETON,
    singleton: true,
    stopTimeoutMs: 5000,
    options: { prefix },
  };
  const a = supervisor([actor], config(proxy.url));
  const b = supervisor([actor], config(redis.url));
  const t: Record<string, number> = {};
  const now = (): number => performance.now();
  a.on('singleton:acquired', () => (t.aAcquired ??= now()));
  a.on('singleton:lost', () => (t.aLost ??= now()));
  a.on('thread:exit', (e) => {
    if (e.error.reason === 'lease') t.aKilled ??= now();
  });
  b.on('singleton:acquired', () => (t.bAcquired ??= now()));
  const realNow = Date.now;
  try {
    await a.start();
    await waitFor(() => t.aAcquired, 5000, 'a to hold the lease');
    await b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.is(t.bAcquired, undefined, 'b waits on standby');

    if (stepMs) {
      // Right after a renewal (the lease's PTTL is back to the TTL), the next one leaves ttl/3
      // later: freeze before it, hold it on its way, step the clock back, let it through.
      const lease = `cy:lock:{${namespace}}singleton:solo`;
      await waitFor(
        async () => Number(await direct.call('PTTL', lease)) > TTL - 50,
        TTL,
        'a renewal',
      );
      await sleep(TTL / 6);
      proxy.freeze();
      await sleep(TTL / 6 + 100); // the renewal was sent 100 ms ago: held, not timed out
      Date.now = () => realNow() - stepMs;
      proxy.thaw();
      await sleep(50);
    }
    proxy.freeze();
    const frozenAt = now();
    await waitFor(() => t.bAcquired, 5000 + stepMs, 'b to take over');
    assert.ok(t.aLost < t.bAcquired, 'a gave the singleton up first');
    assert.ok(
      t.aKilled < t.bAcquired,
      `a's singleton thread was gone ${t.bAcquired - t.aKilled} ms before b started it`,
    );
    assert.ok(
      t.bAcquired - frozenAt <= TTL + 600,
      `takeover ${t.bAcquired - frozenAt} ms after the freeze`,
    );
    console.log(
      `freeze→lost ${t.aLost - frozenAt} ms, →killed ${t.aKilled - frozenAt} ms, →b acquired ${t.bAcquired - frozenAt} ms`,
    );
    const sb = await b.stats();
    assert.is(sb.actors[0].singleton, 'held');
    assert.is(sb.actors[0].state, 'running');
    const sa = await a.stats();
    assert.is(sa.actors[0].singleton, 'standby');
  } finally {
    Date.now = realNow;
    proxy.thaw();
    await stopAll();
    proxy.close();
    await direct.close();
  }
}

test('a holder that cannot renew stops its singleton (killing its thread) before anyone takes over', () =>
  cutOff(0));

test('... also when the wall clock steps back 3 s during a renewal (lease deadlines are monotonic)', () =>
  cutOff(3000));

test.run();
