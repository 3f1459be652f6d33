import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import { ClosedError, InvalidArgumentError, ReplyError } from '../../runtime/errors.js';
import { runtimeInfo } from '../../runtime/info.js';
import { rejects } from '../support/assert.js';
import { optionsFor, testClient } from '../support/client.js';
import { ACL_USER, keyPrefix, sharedRedis } from '../support/redis-server.js';

const native = process.env.CYREDIS_NATIVE !== '0';

test('plain TCP: the transport this variant should use, RESP3 by default', async () => {
  const c = await testClient('plain');
  assert.is(c.transport, native ? 'native' : 'node-net');
  assert.is(c.protocol, 3);
  assert.is(runtimeInfo().transport, native ? 'native' : 'node-net');
  const k = keyPrefix() + 'a';
  assert.is(await c.set(k, 'v'), 'OK');
  assert.is(await c.get(k), 'v');
  await c.close();
});

test('unix socket', async () => {
  const c = await testClient('unix');
  assert.is(c.transport, native ? 'native' : 'node-net');
  assert.is(await c.call('PING'), 'PONG');
  await c.close();
});

test('TLS with a CA, client certificate and servername (Node tls transport)', async () => {
  const c = await testClient('tls');
  assert.is(c.transport, 'node-tls');
  const k = keyPrefix() + 'tls';
  await c.set(k, 'secure');
  assert.is(await c.get(k), 'secure');
  await c.close();
});

test('rediss:// URL with tls options', async () => {
  const info = await sharedRedis('tls');
  const c = new HighPerformanceRedis({
    url: `rediss://localhost:${info.port}`,
    tls: { ca: info.tls!.ca, cert: info.tls!.cert, key: info.tls!.key },
  });
  assert.is(await c.call('PING'), 'PONG');
  await c.close();
});

test('ACL: default user with password, and a named user', async () => {
  const a = await testClient('acl');
  assert.is(await a.call('ACL', 'WHOAMI'), 'default');
  await a.close();
  const info = await sharedRedis('acl');
  const u = new HighPerformanceRedis({ host: info.host, port: info.port, ...ACL_USER });
  assert.is(await u.call('ACL', 'WHOAMI'), ACL_USER.username);
  // The user lacks @dangerous commands: a NOPERM reply, not a dropped connection.
  try {
    await u.call('FLUSHALL');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplyError);
    assert.is((err as ReplyError).redisCode, 'NOPERM');
  }
  assert.is(await u.call('PING'), 'PONG');
  await u.close();
});

test('a wrong password rejects connect() with the server error', async () => {
  const info = await sharedRedis('acl');
  const c = new HighPerformanceRedis({
    host: info.host,
    port: info.port,
    password: 'wrong',
    lazyConnect: true,
    reconnect: false,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /WRONGPASS|invalid/i);
  }
  c.disconnect();
});

test('protocol 2, db and client name are applied on connect', async () => {
  const c = await testClient('plain', { protocol: 2, db: 3, name: 'cy-test-name' });
  assert.is(c.protocol, 2);
  assert.is(await c.call('CLIENT', 'GETNAME'), 'cy-test-name');
  const info = (await c.call('CLIENT', 'INFO')) as string;
  assert.match(info, /db=3/);
  assert.match(info, /resp=2/);
  await c.close();
});

test('call() takes a trailing options object; sendCommand takes an array', async () => {
  const c = await testClient();
  const k = keyPrefix() + 'c';
  assert.is(await c.call('set', k, 'x', { timeoutMs: 1000 }), 'OK');
  assert.is(await c.sendCommand(['GET', k]), 'x');
  await c.close();
});

test('bad arguments reject with InvalidArgumentError naming the argument, before sending', async () => {
  const c = await testClient();
  const k = keyPrefix() + 'bad';
  for (const [args, field] of [
    [['SET', k, undefined], 'args[2]'],
    [['SET', k, { a: 1 }], 'args[2]'],
    [['SET', k, NaN], 'args[2]'],
    [['SET', null, 'v'], 'args[1]'],
  ] as const) {
    try {
      await c.sendCommand(args as never);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, InvalidArgumentError);
      assert.is((err as InvalidArgumentError).field, field);
    }
  }
  assert.is(await c.call('EXISTS', k), 0, 'nothing was written');
  await rejects(() => c.call(''), InvalidArgumentError);
  await c.close();
});

test('close() waits for in-flight replies; later commands reject with ClosedError', async () => {
  const c = await testClient();
  const k = keyPrefix() + 'close';
  const pending = Array.from({ length: 500 }, (_, i) => c.call('RPUSH', k, String(i)));
  const closed = c.close();
  const results = await Promise.all(pending);
  assert.is(results[499], 500);
  await closed;
  await rejects(() => c.get(k), ClosedError);
});

test('disconnect() rejects what is in flight with ClosedError at once', async () => {
  const c = await testClient();
  const p = c.call('DEBUG', 'SLEEP', '0.2');
  c.disconnect();
  await rejects(() => p, ClosedError);
});

test('await using closes the client', async () => {
  let client: HighPerformanceRedis | null = null;
  {
    await using c = await testClient();
    client = c;
    assert.is(await c.call('PING'), 'PONG');
  }
  assert.is(client.status, 'closed');
});

test('lazyConnect: nothing connects until the first command', async () => {
  const info = await sharedRedis('plain');
  const c = new HighPerformanceRedis({ ...optionsFor(info), lazyConnect: true });
  assert.is(c.status, 'idle');
  assert.is(await c.call('PING'), 'PONG');
  assert.is(c.status, 'ready');
  await c.close();
});

test.run();
