/**
 * Edge cases found in review, each caused for real: closes racing a connect, transactions
 * that must go out whole or not at all, throwing listeners, refused commands, dedicated
 * connections under pressure, handshakes that cannot succeed.
 */
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import {
  AbortError,
  ClosedError,
  InvalidArgumentError,
  OfflineQueueFullError,
  ReplyError,
  TimeoutError,
} from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { optionsFor, testClient } from '../support/client.js';
import { keyPrefix, sharedRedis, startRedis } from '../support/redis-server.js';
import { settleWithin, sleep, waitFor } from '../support/wait.js';

/** Runs `fn` catching what listeners threw (rethrown by the client as uncaught exceptions). */
async function catchingUncaught(fn: (thrown: unknown[]) => Promise<void>): Promise<void> {
  const thrown: unknown[] = [];
  const onUncaught = (err: unknown): void => void thrown.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    await fn(thrown);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

test('disconnect() and close() while the host name is being resolved', async () => {
  const info = await sharedRedis();
  const events: string[] = [];
  const a = new HighPerformanceRedis({ host: 'localhost', port: info.port });
  a.on('ready', () => events.push('ready'));
  a.disconnect();
  await rejects(() => a.get('k'), ClosedError);
  const b = new HighPerformanceRedis({ host: 'localhost', port: info.port });
  b.on('ready', () => events.push('ready'));
  await settleWithin([b.close()], 2000);
  await sleep(100);
  assert.equal(events, []);
  assert.is(a.status, 'closed');
  assert.is(b.status, 'closed');
});

test('MULTI goes out whole or not at all: a bad argument sends nothing', async () => {
  const c = await testClient();
  const k = keyPrefix();
  await rejects(
    () =>
      c
        .multi()
        .set(`${k}1`, '1')
        .call('SET', `${k}2`, undefined as never)
        .set(`${k}3`, '3')
        .exec(),
    InvalidArgumentError,
  );
  assert.equal(await c.mget([`${k}1`, `${k}2`, `${k}3`]), [null, null, null]);
  assert.is(await c.set(`${k}x`, 'y'), 'OK', 'the connection is not stuck in MULTI');
  await c.close();
});

test('MULTI with no room in the offline queue: rejected whole, later commands unaffected', async () => {
  const server = await startRedis();
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    maxOfflineCommands: 2,
    reconnect: { initialDelayMs: 30, maxDelayMs: 30 },
  });
  c.on('error', () => {});
  await c.connect();
  await server.kill();
  await waitFor(() => c.status !== 'ready');
  await rejects(() => c.multi().set('a', '1').exec(), OfflineQueueFullError); // MULTI + SET + EXEC
  const later = c.set('b', 'Y');
  await server.restart();
  assert.is(await later, 'OK');
  assert.is(await c.get('b'), 'Y');
  await c.close();
  await server.stop();
});

test('a throwing invalidate listener does not shift replies onto other commands', async () => {
  await catchingUncaught(async (thrown) => {
    const c = await testClient();
    const other = await testClient();
    const k = keyPrefix();
    await c.set(`${k}x`, 'X');
    await c.set(`${k}y`, 'Y');
    await c.enableTracking();
    c.on('invalidate', () => {
      throw new Error('listener bug');
    });
    await c.get(`${k}x`);
    await other.set(`${k}x`, 'X2'); // invalidation pushed to c
    const [x, y] = await Promise.all([c.get(`${k}x`), c.get(`${k}y`)]);
    assert.is(x, 'X2');
    assert.is(y, 'Y');
    await waitFor(() => thrown.length > 0);
    assert.is((thrown[0] as Error).message, 'listener bug');
    await c.close();
    await other.close();
  });
});

test('a throwing error listener does not stop reconnecting', async () => {
  await catchingUncaught(async (thrown) => {
    const server = await startRedis();
    const c = new HighPerformanceRedis({
      ...optionsFor(server),
      reconnect: { initialDelayMs: 20, maxDelayMs: 40 },
    });
    await c.connect();
    c.on('error', () => {
      throw new Error('error listener bug');
    });
    await server.kill();
    await sleep(50);
    const ping = c.call('PING');
    await server.restart();
    assert.is(await ping, 'PONG');
    assert.ok(thrown.length > 0);
    await c.close();
    await server.stop();
  });
});

test('commands that would break the shared connection are refused by name', async () => {
  const c = await testClient();
  for (const name of [
    'SUBSCRIBE',
    'psubscribe',
    'MONITOR',
    'SELECT',
    'QUIT',
    'HELLO',
    'AUTH',
    'RESET',
  ]) {
    await rejects(() => c.call(name, 'x'), InvalidArgumentError, /cannot be sent with call/);
  }
  await rejects(() => c.sendCommand(['SUBSCRIBE', 'x']), InvalidArgumentError);
  await rejects(() => c.batchOperations([['subscribe', 'x']]), InvalidArgumentError);
  await rejects(() => c.isolated((tx) => tx.call('SUBSCRIBE', 'x')), InvalidArgumentError);
  assert.is(await c.call('ECHO', 'still fine'), 'still fine');
  await c.close();
});

test('native connections are released once closed (run with --expose-gc)', async () => {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      new URL('./fixtures/release-check.js', import.meta.url).pathname,
      JSON.stringify(optionsFor(await sharedRedis())),
    ],
    { encoding: 'utf8' },
  );
  const { created, finalized } = JSON.parse(out) as { created: number; finalized: number };
  assert.ok(finalized >= created * 0.9, `only ${finalized} of ${created} clients were collected`);
});

test('waiting for a dedicated connection honours the timeout and the signal', async () => {
  const c = await testClient('plain', { maxDedicatedConnections: 1 });
  const list = keyPrefix() + 'l';
  const first = c.call('BLPOP', list, '0'); // takes the only dedicated connection
  first.catch(() => {});
  await sleep(50);
  await rejects(() => c.call('BLPOP', list, '0', { timeoutMs: 150 }), TimeoutError);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await rejects(() => c.call('BLPOP', list, '0', { signal: ac.signal }), AbortError);
  await c.call('RPUSH', list, 'v');
  assert.equal(await first, [list, 'v']);
  await c.close();
});

test('watch() drops a connection whose blocking command timed out; isolated() extends blocking timeouts', async () => {
  const c = await testClient('plain', { commandTimeoutMs: 300 });
  const q = keyPrefix() + 'q';
  await rejects(
    () => c.watch([q], async (tx) => void (await tx.call('BLPOP', q, '0', { timeoutMs: 100 }))),
    TimeoutError,
  );
  await sleep(50);
  await c.call('RPUSH', q, 'kept');
  await sleep(50);
  assert.is(await c.call('LLEN', q), 1, 'no abandoned BLPOP took it');
  setTimeout(() => void c.call('RPUSH', q, 'later'), 600);
  const got = await c.isolated(async (tx) => {
    await tx.call('DEL', q);
    return tx.blpop(q, 2); // 2 s block, 300 ms base timeout: extended
  });
  assert.equal(got, { key: q, element: 'later' });
  await c.close();
});

test('MULTI returns Buffers for a command that asked for them, strings for the others', async () => {
  const c = await testClient();
  const k = keyPrefix();
  const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
  const [ok, buf, text] = await c
    .multi()
    .set(`${k}b`, bytes)
    .getBuffer(`${k}b`)
    .set(`${k}s`, 'héllo', { GET: true })
    .exec();
  assert.is(ok, 'OK');
  assert.ok(Buffer.isBuffer(buf) && buf.equals(bytes));
  assert.is(text, null);
  const [s] = await c.multi().get(`${k}s`).getBuffer(`${k}b`).exec();
  assert.is(s, 'héllo');
  await c.close();
});

test('a refused SUBSCRIBE fails every caller waiting on it and does not skew reply modes', async () => {
  const server = await startRedis();
  const admin = new HighPerformanceRedis(optionsFor(server));
  await admin.call(
    'ACL',
    'SETUSER',
    'limited',
    'on',
    '>pw',
    '~*',
    'resetchannels',
    '&ok*',
    '+@all',
  );
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    username: 'limited',
    password: 'pw',
  });
  await c.connect();
  const k = keyPrefix() + 'bin';
  await c.set(k, Buffer.from([0xff, 0x01]));
  const a = c.subscribe('nope', () => {});
  const b = c.subscribe('nope', () => {});
  const buf = c.getBuffer(k); // written while the refused SUBSCRIBE is unanswered
  await rejects(() => a, ReplyError, /NOPERM/);
  await rejects(() => b, ReplyError, /NOPERM/);
  const got = await buf;
  assert.ok(Buffer.isBuffer(got) && got.equals(Buffer.from([0xff, 0x01])));
  await c.subscribe('ok1', () => {});
  await c.close();
  await admin.close();
  await server.stop();
});

test('close() during the handshake, and with a blocked command borrowed, resolves at once', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const a = new HighPerformanceRedis({ port, connectTimeoutMs: 5000 });
  a.on('error', () => {});
  await waitFor(() => a.status === 'handshake');
  await settleWithin([a.close()], 1000);
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));

  const c = await testClient();
  const blocked = c.call('BLPOP', keyPrefix() + 'never', '0');
  blocked.catch(() => {}); // examined below
  await sleep(50);
  await settleWithin([c.close()], 1000);
  await rejects(() => blocked, ClosedError);
});

test('an ACL user without CLIENT ID connects; a handshake that cannot succeed gives up at once', async () => {
  const server = await startRedis();
  const admin = new HighPerformanceRedis(optionsFor(server));
  await admin.call('ACL', 'SETUSER', 'narrow', 'on', '>pw', '~*', '+get', '+set', '+hello');
  const narrow = new HighPerformanceRedis({
    ...optionsFor(server),
    username: 'narrow',
    password: 'pw',
    protocol: 2,
  });
  await narrow.connect();
  assert.is(await narrow.set('k', 'v'), 'OK');
  await narrow.close();
  const acl = await sharedRedis('acl'); // a nopass default user accepts any password
  for (const target of [
    { ...optionsFor(server), db: 99 },
    { ...optionsFor(acl), password: 'wrong' },
  ]) {
    const c = new HighPerformanceRedis(target);
    c.on('error', () => {});
    await rejects(() => c.connect(), ReplyError);
    await rejects(() => c.get('k'), Error);
    assert.is(c.status, 'closed');
  }
  await admin.close();
  await server.stop();
});

test('RESP2 tracking keeps its invalidation channel through unsubscribe() and reconnects', async () => {
  const server = await startRedis();
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    protocol: 2,
    reconnect: { initialDelayMs: 20, maxDelayMs: 40 },
  });
  c.on('error', () => {});
  const other = new HighPerformanceRedis(optionsFor(server));
  const seen: string[] = [];
  c.on('invalidate', (keys) => seen.push(...(keys ?? [])));
  await c.enableTracking();
  await c.subscribe('some', () => {});
  await c.unsubscribe(); // all of the user's channels; not the invalidation channel
  await server.kill();
  await server.restart();
  await waitFor(() => c.status === 'ready');
  await c.set('t', '1');
  await waitFor(async () => {
    await c.get('t');
    await other.set('t', String(Math.random()));
    await sleep(20);
    return seen.includes('t');
  });
  await c.close();
  await other.close();
  await server.stop();
});

test('bad per-call and TLS options are refused with the field named', async () => {
  const c = await testClient();
  await rejects(
    () => c.call('PING', { timeoutMs: Infinity }),
    InvalidArgumentError,
    /options\.timeoutMs/,
  );
  await rejects(
    () => c.call('PING', { timeoutMs: 2 ** 31 }),
    InvalidArgumentError,
    /options\.timeoutMs/,
  );
  await c.close();
  for (const [opts, field] of [
    [{ tls: [] }, 'options.tls'],
    [{ tls: { rejectUnauthorized: 'no' } }, 'options.tls.rejectUnauthorized'],
    [{ tls: { host: 'elsewhere' } }, 'options.tls.host'],
    [{ tls: true, transport: 'native' }, 'options.transport'],
    [{ host: '' }, 'options.host'],
    [{ username: 'u' }, 'options.password'],
    [{ name: 'has space' }, 'options.name'],
  ] as const) {
    try {
      new HighPerformanceRedis(opts as never);
      assert.unreachable(JSON.stringify(opts));
    } catch (err) {
      assert.instance(err, InvalidArgumentError);
      assert.is((err as InvalidArgumentError).field, field);
    }
  }
});

test('many offline commands timing out are dropped in linear time', async () => {
  const server = await startRedis();
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    maxOfflineCommands: 100_000,
    reconnect: { initialDelayMs: 10_000 },
  });
  c.on('error', () => {});
  await c.connect();
  await server.kill();
  await waitFor(() => c.status !== 'ready');
  const n = 30_000;
  const all = Array.from({ length: n }, () => c.call('PING', { timeoutMs: 100 }));
  const results = await settleWithin(all, 5000);
  assert.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof TimeoutError));
  c.disconnect();
  await server.stop();
});

test.run();
