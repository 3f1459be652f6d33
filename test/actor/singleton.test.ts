/**
 * Many hosts, one Redis: three supervisor processes share a singleton, placed by a lease with
 * a fencing token. A clean shutdown releases the lease at once; after `kill -9` of the holder
 * another takes over once the lease expires; never two at once — checked by the singleton's
 * own ticks in Redis: their fencing tokens, in the server's order, never go down.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testClient } from '../support/client.js';
import { keyPrefix } from '../support/redis-server.js';
import { SINGLETON, redisUrl, runCli, startCli, tempDir, waitFor } from './helpers.js';
import type { CliProcess } from './helpers.js';

const TTL = 1000;

test('singleton: clean handoff at once, kill -9 takeover within the lease TTL, never two at once', async () => {
  const url = await redisUrl();
  const redis = await testClient();
  const prefix = keyPrefix('solo');
  const namespace = prefix.replace(/:$/, '').replace(/:/g, '-');
  const dir = tempDir({
    'cyredis.config.mjs': `export default ${JSON.stringify({
      redis: url,
      namespace,
      threads: 1,
      heartbeatMs: 50,
      placement: { heartbeatMs: 200, leaseTtlMs: TTL },
      actors: [{ name: 'solo', module: SINGLETON, singleton: true, options: { prefix } }],
    })};`,
  });
  const events = async (): Promise<string[]> =>
    ((await redis.call('LRANGE', `${prefix}:events`, '0', '-1')) as unknown[]).map(String);
  const starts = async (): Promise<string[]> =>
    (await events()).filter((e) => e.startsWith('start'));
  const holderOf = (event: string): number => Number(event.split(' ')[2].split(':').at(-2));

  const procs: CliProcess[] = [];
  try {
    procs.push(startCli(['run', dir]));
    await waitFor(async () => (await starts()).length === 1, 10_000, 'the first holder');
    procs.push(startCli(['run', dir]), startCli(['run', dir]));
    await Promise.all(procs.map((p) => p.waitOutput(/running /)));
    const byPid = (pid: number): CliProcess => procs.find((p) => p.child.pid === pid)!;

    // status shows three supervisors, exactly one holding the lease
    const st = await runCli(['status', '--redis', url, '--namespace', namespace, '--json']);
    const sups = JSON.parse(st.stdout) as {
      actors: { singleton: string; fencingToken: number | null }[];
    }[];
    assert.is(sups.length, 3);
    assert.equal(sups.map((s) => s.actors[0].singleton).sort(), ['held', 'standby', 'standby']);

    // 1. clean shutdown of the holder: the lease is released at once, another takes over fast
    const first = byPid(holderOf((await starts())[0]));
    first.child.kill('SIGTERM');
    assert.is((await first.result).code, 0);
    const released = Date.now();
    await waitFor(async () => (await starts()).length === 2, 5000, 'the second holder');
    const handoff = Date.now() - released;
    assert.ok(handoff < TTL, `clean handoff took ${handoff} ms (lease TTL ${TTL} ms)`);

    // 2. kill -9 of the new holder: nobody releases; the third takes over after expiry
    const second = byPid(holderOf((await starts())[1]));
    await new Promise((r) => setTimeout(r, 100)); // let it tick
    second.child.kill('SIGKILL');
    await second.result;
    const killed = Date.now();
    await waitFor(async () => (await starts()).length === 3, 5000, 'the third holder');
    const takeover = Date.now() - killed;
    assert.ok(takeover <= TTL + 700, `takeover took ${takeover} ms (lease TTL ${TTL} ms)`);
    console.log(
      `clean handoff ${handoff} ms, takeover after kill -9 ${takeover} ms (TTL ${TTL} ms)`,
    );

    const third = byPid(holderOf((await starts())[2]));
    assert.ok(third !== first && third !== second);
    await new Promise((r) => setTimeout(r, 100));
    third.child.kill('SIGTERM');
    assert.is((await third.result).code, 0);

    // The record: tokens increase, the clean ones stopped, and the ticks never interleave.
    const ev = await events();
    const tokens = ev.filter((e) => e.startsWith('start')).map((e) => Number(e.split(' ')[1]));
    assert.ok(tokens[0] < tokens[1] && tokens[1] < tokens[2], `tokens ${tokens.join(', ')}`);
    assert.ok(ev.some((e) => e.startsWith(`stop ${tokens[0]} `) && e.endsWith(' shutdown')));
    assert.not.ok(
      ev.some((e) => e.startsWith(`stop ${tokens[1]} `)),
      'the killed holder never stopped',
    );
    const ticks = ((await redis.call('LRANGE', `${prefix}:ticks`, '0', '-1')) as unknown[]).map(
      Number,
    );
    assert.ok(ticks.length > 10);
    for (let i = 1; i < ticks.length; i++) {
      assert.ok(
        ticks[i] >= ticks[i - 1],
        `two holders at once: token ${ticks[i - 1]} ticked after ${ticks[i]}`,
      );
    }
    assert.equal([...new Set(ticks)], tokens);
    // Released on the last clean shutdown: no lease left behind.
    assert.is(await redis.call('EXISTS', `cy:lock:{${namespace}}singleton:solo`), 0);
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    await redis.close();
  }
});

test.run();
