/**
 * A singleton holder that cannot renew its lease (its Redis traffic is frozen by a proxy) must
 * stop the singleton before the lease can expire — here stop() itself hangs on Redis, so the
 * holder kills the singleton's thread — and only then may another supervisor take over.
 * Both supervisors run in this process, so their events share one clock.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';
import { SINGLETON, stopAll, supervisor, waitFor } from './helpers.js';

test.after.each(stopAll);

/** A TCP proxy to Redis whose traffic can be frozen (held, not dropped) and thawed. */
async function freezableProxy(host: string, port: number) {
  let frozen = false;
  const held: [Socket, Buffer][] = [];
  const sockets = new Set<Socket>();
  const forward = (to: Socket) => (data: Buffer) => {
    if (frozen) held.push([to, data]);
    else to.write(data);
  };
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      for (const [to, data] of held.splice(0)) to.write(data);
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('a holder that cannot renew stops its singleton (killing its thread) before anyone takes over', async () => {
  const TTL = 1200;
  const redis = await sharedRedis();
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
  a.on('singleton:acquired', () => (t.aAcquired ??= Date.now()));
  a.on('singleton:lost', () => (t.aLost ??= Date.now()));
  a.on('thread:exit', (e) => {
    if (e.error.reason === 'lease') t.aKilled ??= Date.now();
  });
  b.on('singleton:acquired', () => (t.bAcquired ??= Date.now()));
  try {
    await a.start();
    await waitFor(() => t.aAcquired, 5000, 'a to hold the lease');
    await b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.is(t.bAcquired, undefined, 'b waits on standby');

    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor(() => t.bAcquired, 5000, 'b to take over');
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
    proxy.thaw();
    await stopAll();
    proxy.close();
  }
});

test.run();
