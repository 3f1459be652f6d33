import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import {
  AbortError,
  ConnectionError,
  InvalidArgumentError,
  ReplyError,
  TimeoutError,
} from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { optionsFor, testClient } from '../support/client.js';
import { keyPrefix, startRedis } from '../support/redis-server.js';

test('falls back to RESP2 when the server does not know HELLO', async () => {
  const server = await startRedis('plain', ['--rename-command', 'HELLO', '']);
  const c = new HighPerformanceRedis({ ...optionsFor(server), name: 'fallback' });
  await c.connect();
  assert.is(c.protocol, 2);
  assert.is(await c.call('CLIENT', 'GETNAME'), 'fallback');
  const k = keyPrefix() + 'h';
  await c.call('HSET', k, 'f', 'v');
  assert.equal(await c.call('HGETALL', k), ['f', 'v'], 'RESP2 shape from call()');
  await c.close();
  await server.stop();
});

test('connect timeout against a server that accepts and never answers', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const c = new HighPerformanceRedis({
    port,
    connectTimeoutMs: 100,
    reconnect: false,
    lazyConnect: true,
  });
  const events: string[] = [];
  c.on('connect', () => events.push('connect'));
  c.on('error', (e) => events.push(`error:${e.name}`));
  c.on('end', () => events.push('end'));
  await rejects(() => c.connect(), TimeoutError, /Connection timeout after 100 ms/);
  assert.equal(events, ['connect', 'error:TimeoutError', 'end']);
  await rejects(() => c.call('PING'), Error);
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

test('connection refused, then the server appears: reconnecting events, then ready', async () => {
  const server = await startRedis('plain');
  await server.kill();
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    reconnect: { initialDelayMs: 20, maxDelayMs: 40 },
  });
  const attempts: number[] = [];
  c.on('error', () => {});
  c.on('reconnecting', ({ attempt }) => attempts.push(attempt));
  const ping = c.call('PING');
  await new Promise((r) => setTimeout(r, 150));
  await server.restart();
  assert.is(await ping, 'PONG', 'the queued command went out once connected');
  assert.ok(attempts.length >= 2 && attempts[0] === 1 && attempts[1] === 2);
  await c.close();
  await server.stop();
});

test('per-command timeout and abort on ordinary commands', async () => {
  const c = await testClient();
  await rejects(
    () => c.call('DEBUG', 'SLEEP', '0.3', { timeoutMs: 50 }),
    TimeoutError,
    /DEBUG timed out after 50 ms/,
  );
  // The late reply of the timed-out command is dropped, and the next replies stay matched.
  assert.is(await c.call('ECHO', 'next'), 'next');
  const ac = new AbortController();
  const slow = c.call('DEBUG', 'SLEEP', '0.2', { signal: ac.signal });
  ac.abort(new Error('user gave up'));
  const err = await rejects(() => slow, AbortError);
  assert.is((err.cause as Error).message, 'user gave up');
  const pre = new AbortController();
  pre.abort();
  await rejects(() => c.call('PING', { signal: pre.signal }), AbortError, /before it was sent/);
  assert.is(await c.call('ECHO', 'still-matched'), 'still-matched');
  await c.close();
});

test('a reply error rejects with ReplyError carrying the Redis code', async () => {
  const c = await testClient();
  const k = keyPrefix() + 'list';
  await c.call('RPUSH', k, 'a');
  const err = await rejects(() => c.call('GET', k), ReplyError);
  assert.is(err.redisCode, 'WRONGTYPE');
  assert.is(err.code, 'CYREDIS_ERR_REPLY');
  await c.close();
});

test('batchOperations runs the seed-style list in one pipeline', async () => {
  const c = await testClient();
  const p = keyPrefix();
  const results = await c.batchOperations([
    ['set', `${p}k1`, 'value1'],
    ['set', `${p}k2`, 'value2'],
    ['mget', [`${p}k1`, `${p}k2`]],
    ['incr', `${p}counter`],
    ['LPUSH', `${p}l`, 'x'],
  ]);
  assert.equal(results, ['OK', 'OK', ['value1', 'value2'], 1, 1]);
  await rejects(() => c.batchOperations([[42 as never]]), InvalidArgumentError, /operations\[0\]/);
  await c.close();
});

test('defineScript: EVALSHA, falling back to EVAL after SCRIPT FLUSH', async () => {
  const c = await testClient();
  const k = keyPrefix() + 's';
  const script = c.defineScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  assert.is(await script.run([k], [5]), 5);
  await c.call('SCRIPT', 'FLUSH');
  assert.is(await script.run([k], [2]), 7, 'NOSCRIPT fell back to EVAL');
  assert.is(await script.load(), script.sha);
  assert.equal(await c.call('SCRIPT', 'EXISTS', script.sha), [1]);
  await c.close();
});

test('duplicate() gives an independent client with the same options', async () => {
  const c = await testClient('plain', { name: 'dup-src', db: 2 });
  const d = c.duplicate();
  await d.connect();
  assert.is(await d.call('CLIENT', 'GETNAME'), 'dup-src');
  assert.match((await d.call('CLIENT', 'INFO')) as string, /db=2/);
  assert.ok((await d.call('CLIENT', 'ID')) !== (await c.call('CLIENT', 'ID')));
  await d.close();
  await c.close();
});

test('a server that dies for good: queued commands give up after maxRetriesPerCommand attempts', async () => {
  const server = await startRedis('plain');
  const c = new HighPerformanceRedis({
    ...optionsFor(server),
    maxRetriesPerCommand: 2,
    reconnect: { initialDelayMs: 5, maxDelayMs: 10 },
  });
  c.on('error', () => {});
  await c.connect();
  await server.stop();
  await new Promise((r) => setTimeout(r, 20));
  await rejects(() => c.call('PING'), ConnectionError, /gave up after 2 reconnect attempts/);
  c.disconnect();
});

test('blocking commands inside MULTI and pipelines stay in them (no dedicated-connection detour)', async () => {
  const c = await testClient();
  const k = keyPrefix();
  const multi = await c.multi().set(`${k}a`, 'x').blpop(`${k}empty`, 1).get(`${k}a`).exec();
  assert.equal(multi, ['OK', null, 'x']);
  await c.call('RPUSH', `${k}l`, 'v');
  const piped = await c.pipeline().blpop(`${k}l`, 1).get(`${k}a`).exec();
  assert.equal(piped, [{ key: `${k}l`, element: 'v' }, 'x']);
  await c.close();
});

test('a refused argument fails the whole pipeline before anything is sent', async () => {
  const c = await testClient();
  const k = keyPrefix();
  const p = c
    .pipeline()
    .set(`${k}x`, '1')
    .zadd(`${k}z`, { score: 'a' as never, value: 'm' })
    .get(`${k}x`);
  await rejects(() => p.exec(), InvalidArgumentError, /score/);
  assert.is(await c.get(`${k}x`), null, 'nothing was sent');
  await c.close();
});

test('WAIT runs on the connection that wrote: it sees a stopped replica', async () => {
  const primary = await startRedis('plain');
  const replica = await startRedis('plain', ['--replicaof', '127.0.0.1', String(primary.port)]);
  const c = new HighPerformanceRedis(optionsFor(primary));
  await c.connect();
  const k = keyPrefix() + 'w';
  for (let i = 0; i < 100 && (await c.wait(1, 100)) < 1; i++) await c.set(k, String(i)); // replica in sync
  await c.set(k, '1');
  assert.is(await c.wait(1, 2000), 1);
  process.kill(replica.pid!, 'SIGSTOP');
  try {
    await c.set(k, '2');
    const t0 = Date.now();
    assert.is(await c.wait(1, 300), 0, 'the write on this connection is not acknowledged');
    assert.ok(Date.now() - t0 >= 250);
  } finally {
    process.kill(replica.pid!, 'SIGCONT');
  }
  await c.close();
  await replica.stop();
  await primary.stop();
});

test('isolated() runs a sequence on a dedicated connection', async () => {
  const c = await testClient();
  const mainId = await c.clientId();
  const ids = await c.isolated(async (conn) => [await conn.clientId(), await conn.clientId()]);
  assert.is(ids[0], ids[1]);
  assert.ok(ids[0] !== mainId);
  await c.close();
});

test.run();
