/**
 * The registration in Redis: the index of a namespace (cy:sups:{ns}) expires with its last
 * member instead of living forever, and expiry scores are the server's clock, so hosts whose
 * clocks disagree (here: this one's steps an hour ahead) still agree on who is alive.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listSupervisors } from '../../runtime/actor/index.js';
import { testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { probe, stopAll, supervisor, waitFor } from './helpers.js';

test.after.each(stopAll);

test('the namespace index expires, and its scores are the server clock', async () => {
  const redis = await testClient();
  const namespace = keyPrefix('reg').replace(/:$/, '').replace(/:/g, '-');
  const index = `cy:sups:{${namespace}}`;
  const realNow = Date.now;
  const sup = supervisor([probe('a')], {
    redis: (await sharedRedis()).url,
    namespace,
    threads: 1,
    placement: { heartbeatMs: 100 },
  });
  try {
    Date.now = () => realNow() + 3_600_000; // this host's clock is an hour ahead
    await sup.start();
    const pttl = Number(await redis.call('PTTL', index));
    assert.ok(pttl > 0 && pttl <= 300, `the index expires (PTTL ${pttl}, 3 heartbeats 300)`);
    const [sec, usec] = (await redis.call('TIME')) as unknown[];
    const serverNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const score = Number(await redis.call('ZSCORE', index, sup.id));
    assert.ok(
      Math.abs(score - (serverNow + 300)) < 1000,
      `expiry ${score - serverNow} ms after the server's now (want ~300)`,
    );
    const listed = await listSupervisors(redis, namespace);
    assert.equal(
      listed.map((s) => s.id),
      [sup.id],
      'listed, whatever the clock of the host that asks',
    );
    await sup.stop();
    Date.now = realNow;
    await waitFor(async () => (await redis.call('EXISTS', index)) === 0, 2000, 'no index left');
  } finally {
    Date.now = realNow;
    await redis.close();
  }
});

test.run();
