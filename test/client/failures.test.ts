/**
 * Failures caused for real: the server is SIGKILLed and restarted, the client's connection is
 * killed with CLIENT KILL, the offline queue overflows, blocked commands time out and are
 * aborted, transactions fail inside and are raced by a second client.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import {
  AbortError,
  ConnectionError,
  OfflineQueueFullError,
  ReplyError,
  TimeoutError,
  WatchError,
} from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { optionsFor, testClient } from '../support/client.js';
import { keyPrefix, startRedis } from '../support/redis-server.js';
import { settleWithin, sleep, waitFor } from '../support/wait.js';

for (const protocol of [3, 2] as const) {
  test(`RESP${protocol}: server killed and restarted mid-run: replies stay matched, queued commands go out, subscriptions and tracking return`, async () => {
    const server = await startRedis('plain');
    const client = new HighPerformanceRedis({
      ...optionsFor(server),
      protocol,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    await client.connect();
    const channel = keyPrefix('ch');
    const messages: string[] = [];
    await client.subscribe(channel, (m) => messages.push(String(m)));
    const invalidated: (string[] | null)[] = [];
    client.on('invalidate', (keys) => invalidated.push(keys));
    await client.enableTracking();
    const tracked = keyPrefix() + 'tracked';

    // A stream of ECHOs: each reply must be its own argument, whatever happens to the socket.
    const sent: Promise<unknown>[] = [];
    const expected: string[] = [];
    let stop = false;
    const pump = (async () => {
      for (let i = 0; !stop; i++) {
        expected.push(`e${i}`);
        const p = client.call('ECHO', `e${i}`);
        p.catch(() => {}); // examined below, once all settled
        sent.push(p);
        if (i % 20 === 0) await sleep(1);
      }
    })();
    await sleep(50);
    await server.kill();
    await sleep(150); // commands issued now wait in the offline queue
    await server.restart();
    await waitFor(() => client.status === 'ready');
    await sleep(50);
    stop = true;
    await pump;

    const results = await settleWithin(sent, 10_000);
    let ok = 0;
    let lost = 0;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        assert.is(r.value, expected[i], `reply ${i} belongs to its own command`);
        ok++;
      } else {
        const typed =
          r.reason instanceof ConnectionError || r.reason instanceof OfflineQueueFullError;
        assert.ok(typed, `command ${i} failed with ${String(r.reason)}`);
        lost++;
      }
    });
    assert.ok(ok > 0 && lost >= 0);
    assert.ok(errors.length > 0, 'the drop was reported as an error event');

    // Subscriptions came back: a message published after the restart arrives.
    const other = new HighPerformanceRedis(optionsFor(server));
    await waitFor(async () => {
      await other.call('PUBLISH', channel, 'after-restart');
      return messages.includes('after-restart');
    });
    // Tracking came back: read a key, change it elsewhere, get its invalidation.
    await client.call('SET', tracked, '1');
    await client.get(tracked);
    await other.call('SET', tracked, '2');
    await waitFor(() => invalidated.some((keys) => keys?.includes(tracked) ?? false));

    await other.close();
    await client.close();
    await server.stop();
  });
}

test('CLIENT KILL of the client own connection: a command caught in the drop fails typed, then it reconnects', async () => {
  const client = await testClient('plain', { reconnect: { initialDelayMs: 10 } });
  const killer = await testClient();
  let readies = 0;
  client.on('ready', () => readies++);
  const id = (await client.call('CLIENT', 'ID')) as number;
  await killer.call('CLIENT', 'KILL', 'ID', String(id));
  // Sent before the client saw the drop: written to a dead socket, so it must fail typed.
  const caught = await client.call('ECHO', 'during').catch((e: unknown) => e);
  assert.ok(caught === 'during' || caught instanceof ConnectionError, String(caught));
  await waitFor(() => readies === 1 && client.status === 'ready');
  assert.is(await client.call('ECHO', 'after'), 'after');
  assert.ok(((await client.call('CLIENT', 'ID')) as number) !== id, 'a new connection');
  await killer.close();
  await client.close();
});

test('offline queue overflow rejects at once with OfflineQueueFullError; the rest goes out after reconnect', async () => {
  const server = await startRedis('plain');
  const client = new HighPerformanceRedis({
    ...optionsFor(server),
    maxOfflineCommands: 5,
    reconnect: { initialDelayMs: 50, maxDelayMs: 50 },
  });
  client.on('error', () => {});
  await client.connect();
  await server.kill();
  await waitFor(() => client.status !== 'ready');
  const queued = Array.from({ length: 8 }, (_, i) => client.call('ECHO', `q${i}`));
  for (const p of queued) p.catch(() => {});
  const early = await settleWithin(queued.slice(5), 100);
  for (const r of early) {
    assert.is(r.status, 'rejected');
    assert.instance((r as PromiseRejectedResult).reason, OfflineQueueFullError);
  }
  await server.restart();
  assert.equal(await Promise.all(queued.slice(0, 5)), ['q0', 'q1', 'q2', 'q3', 'q4']);
  await client.close();
  await server.stop();
});

test('reconnect: false and a dead server: commands reject with ConnectionError, nothing hangs', async () => {
  const server = await startRedis('plain');
  const client = new HighPerformanceRedis({ ...optionsFor(server), reconnect: false });
  client.on('error', () => {});
  await client.connect();
  await server.stop();
  await waitFor(() => client.status === 'closed');
  await rejects(() => client.call('PING'), Error);
  client.disconnect();
});

test('a blocked BLPOP times out with TimeoutError, never stalls other commands, and pops nothing later', async () => {
  const client = await testClient();
  const list = keyPrefix() + 'list';
  const blocked = client.call('BLPOP', list, '0', { timeoutMs: 200 });
  assert.is(await client.call('PING'), 'PONG', 'the main connection is free while BLPOP blocks');
  await rejects(() => blocked, TimeoutError);
  await client.call('RPUSH', list, 'x');
  await sleep(50);
  assert.equal(
    await client.call('LRANGE', list, '0', '-1'),
    ['x'],
    'the abandoned BLPOP did not take it',
  );
  await client.close();
});

test('a blocked BLPOP is aborted with AbortError', async () => {
  const client = await testClient();
  const list = keyPrefix() + 'list';
  const ac = new AbortController();
  const blocked = client.call('BLPOP', list, '0', { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await rejects(() => blocked, AbortError);
  await client.call('RPUSH', list, 'y');
  await sleep(50);
  assert.equal(await client.call('LRANGE', list, '0', '-1'), ['y']);
  await client.close();
});

test('the command timeout of a blocking command is extended by its block time', async () => {
  const client = await testClient('plain', { commandTimeoutMs: 150 });
  const list = keyPrefix() + 'list';
  const blocked = client.call('BLPOP', list, '2');
  await sleep(400); // longer than commandTimeoutMs, shorter than 150 ms + 2 s
  await client.call('RPUSH', list, 'z');
  assert.equal(await blocked, [list, 'z']);
  await client.close();
});

test('MULTI with an error inside: the failing command is a ReplyError in its slot, the others apply', async () => {
  const client = await testClient();
  const k = keyPrefix() + 'm';
  const results = await client
    .multi()
    .set(k, 'text')
    .call('INCR', k)
    .call('APPEND', k, '!')
    .get(k)
    .exec();
  assert.is(results[0], 'OK');
  assert.instance(results[1], ReplyError);
  assert.is(results[2], 5);
  assert.is(results[3], 'text!');
  // An error at queue time aborts everything: EXECABORT, nothing applied.
  const k2 = keyPrefix() + 'm2';
  await rejects(
    () => client.multi().set(k2, 'v').call('NOSUCHCOMMAND').exec(),
    ReplyError,
    /EXECABORT/,
  );
  assert.is(await client.get(k2), null);
  await client.close();
});

test('WATCH conflict caused by a second client: the callback runs again; past maxAttempts, WatchError', async () => {
  const client = await testClient();
  const other = await testClient();
  const k = keyPrefix() + 'w';
  await client.set(k, '10');
  let runs = 0;
  const results = await client.watch([k], async (tx) => {
    runs++;
    const v = Number(await tx.get(k));
    if (runs === 1) await other.set(k, '100'); // changes the watched key mid-transaction
    return tx.multi().set(k, String(v + 1));
  });
  assert.is(runs, 2);
  assert.equal(results, ['OK']);
  assert.is(await client.get(k), '101');

  await rejects(
    () =>
      client.watch(
        [k],
        async (tx) => {
          await other.set(k, 'changed');
          return tx.multi().set(k, 'mine');
        },
        { maxAttempts: 1 },
      ),
    WatchError,
  );
  assert.is(await client.get(k), 'changed');
  await other.close();
  await client.close();
});

test.run();
