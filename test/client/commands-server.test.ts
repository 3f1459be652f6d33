/**
 * Server and connection commands, and UNWATCH. Commands that change the whole server (FLUSHALL,
 * CONFIG SET, CLIENT PAUSE, SWAPDB, SCRIPT/FUNCTION FLUSH, FUNCTION RESTORE) run against a
 * dedicated server started for this file, never the shared one.
 */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { optionsFor, testClient } from '../support/client.js';
import { forEachProtocol } from '../support/protocols.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServer } from '../support/redis-server.js';

forEachProtocol('server', (test, protocol) => {
  test('ping / echo', async ({ client }) => {
    assert.is(await client.ping(), 'PONG');
    assert.is(await client.ping('hello'), 'hello');
    assert.is(await client.echo('echoed'), 'echoed');
  });

  test('info as text and infoParsed as sections', async ({ client }) => {
    assert.match(await client.info('server'), /redis_version:7\./);
    const all = await client.infoParsed();
    assert.match(all.server.redis_version, /^7\./);
    assert.ok('memory' in all && 'keyspace' in all, Object.keys(all).join());
    assert.is(all.server.redis_mode, 'standalone');
    const two = await client.infoParsed(['server', 'clients']);
    assert.equal(Object.keys(two), ['server', 'clients']);
    assert.match(two.clients.connected_clients, /^\d+$/);
  });

  test('dbsize / time / lastsave / commandCount / memoryUsage', async ({ client, key }) => {
    assert.type(await client.dbsize(), 'number');
    const t = await client.time();
    assert.ok(Math.abs(t.seconds - Date.now() / 1000) < 60, `server time ${t.seconds}`);
    assert.ok(t.microseconds >= 0 && t.microseconds < 1e6);
    assert.type(await client.lastsave(), 'number');
    assert.ok((await client.commandCount()) > 200);
    const k = key();
    await client.set(k, 'x'.repeat(100));
    assert.ok((await client.memoryUsage(k, { SAMPLES: 0 }))! >= 100);
    assert.is(await client.memoryUsage(key('missing')), null);
  });

  test('configGet: an object under both protocols', async ({ client }) => {
    const one = await client.configGet('maxmemory-policy');
    assert.equal(Object.keys(one), ['maxmemory-policy']);
    assert.type(one['maxmemory-policy'], 'string');
    const many = await client.configGet(['timeout', 'maxmemory*']);
    assert.ok('timeout' in many && 'maxmemory' in many && 'maxmemory-samples' in many);
    await rejects(() => client.configGet([]), InvalidArgumentError, /pattern/);
  });

  test('clientId / clientSetname / clientGetname / clientInfo / clientList', async ({ client }) => {
    const id = await client.clientId();
    assert.type(id, 'number');
    assert.is(await client.clientGetname(), null);
    const name = `cmds-${protocol}-${process.pid}`;
    assert.is(await client.clientSetname(name), 'OK');
    assert.is(await client.clientGetname(), name);
    const info = await client.clientInfo();
    assert.is(info.id, String(id));
    assert.is(info.name, name);
    assert.is(info.resp, String(protocol));
    const all = await client.clientList();
    assert.ok(all.some((c) => c.id === String(id) && c.name === name));
    assert.equal(
      (await client.clientList({ ID: id })).map((c) => c.id),
      [String(id)],
    );
    assert.ok((await client.clientList({ TYPE: 'NORMAL' })).length >= 1);
  });

  test('clientKill by id; an empty filter is refused', async ({ client }) => {
    const victim = await testClient('plain', { protocol, reconnect: false });
    try {
      const id = await victim.clientId();
      assert.is(await client.clientKill({ id, skipme: true }), 1);
      assert.is(await client.clientKill({ id }), 0);
    } finally {
      victim.disconnect();
    }
    const err = await rejects(() => client.clientKill({ skipme: false }), InvalidArgumentError);
    assert.is(err.field, 'filter');
  });

  test('wait with no replicas resolves 0', async ({ client }) => {
    assert.is(await client.wait(0, 100), 0);
  });

  test('unwatch inside a watch() callback', async ({ client, key }) => {
    const k = key();
    const result = await client.watch([k], async (tx) => {
      assert.is(await tx.unwatch(), 'OK');
      return null;
    });
    assert.is(result, null);
  });
});

// ---- commands that change the whole server: a dedicated one ----

let server: Promise<RedisServer> | null = null;
const dedicated = (): Promise<RedisServer> => (server ??= startRedis('plain'));

forEachProtocol(
  'server (dedicated)',
  (test) => {
    test('flushdb / flushall with and without async; swapdb', async ({ client, key }) => {
      const k = key();
      await client.set(k, '1');
      assert.is(await client.flushdb(), 'OK');
      assert.is(await client.dbsize(), 0);
      await client.set(k, '1');
      assert.is(await client.flushdb({ async: true }), 'OK');
      assert.is(await client.flushall({ async: false }), 'OK');
      assert.is(await client.dbsize(), 0);
      await client.set(k, 'in db0');
      assert.is(await client.swapdb(0, 1), 'OK');
      assert.is(await client.get(k), null);
      assert.is(await client.swapdb(0, 1), 'OK');
      assert.is(await client.get(k), 'in db0');
      assert.is(await client.flushall(), 'OK');
    });

    test('configSet name/value and object; configResetstat', async ({ client }) => {
      assert.is(await client.configSet('maxmemory-samples', '7'), 'OK');
      assert.is(await client.configSet({ 'maxmemory-samples': 6, timeout: '0' }), 'OK');
      assert.equal(await client.configGet(['maxmemory-samples', 'timeout']), {
        'maxmemory-samples': '6',
        timeout: '0',
      });
      assert.is(await client.configResetstat(), 'OK');
      await rejects(() => client.configSet({}), InvalidArgumentError, /parameters/);
      await rejects(() => client.configSet('timeout'), InvalidArgumentError, /value/);
    });

    test('slowlogGet / slowlogLen / slowlogReset', async ({ client }) => {
      await client.configSet('slowlog-log-slower-than', '0');
      try {
        await client.slowlogReset();
        await client.echo('slow-marker');
        const entries = await client.slowlogGet(10);
        const e = entries.find((x) => x.args[0] === 'ECHO' || x.args[0] === 'echo');
        assert.ok(e, JSON.stringify(entries));
        assert.equal(e.args.slice(1), ['slow-marker']);
        assert.type(e.id, 'number');
        assert.type(e.timestamp, 'number');
        assert.type(e.durationMicros, 'number');
        assert.type(e.clientAddr, 'string');
        assert.ok((await client.slowlogLen()) >= 1);
      } finally {
        await client.configSet('slowlog-log-slower-than', '10000');
        await client.slowlogReset();
      }
    });

    test('clientPause WRITE / clientUnpause', async ({ client, key }) => {
      // A paused client's later commands wait behind its paused write: unpause from another.
      const other = client.duplicate();
      try {
        assert.is(await other.clientPause(5000, 'WRITE'), 'OK');
        let written = false;
        const write = client.set(key(), 'v').then((r) => ((written = true), r));
        await new Promise((r) => setTimeout(r, 30));
        assert.is(written, false, 'the write waits while clients are paused');
        assert.is(await other.clientUnpause(), 'OK');
        assert.is(await write, 'OK');
      } finally {
        await other.close();
      }
    });

    test('scriptFlush empties the script cache', async ({ client }) => {
      const sha = await client.scriptLoad('return 1');
      assert.is(await client.scriptFlush({ async: false }), 'OK');
      assert.equal(await client.scriptExists(sha), [false]);
      assert.is(await client.scriptFlush(), 'OK');
    });

    test('functionFlush', async ({ client }) => {
      await client.functionLoad(
        "#!lua name=flushme\nredis.register_function('flushme_f', function() return 1 end)",
      );
      assert.is(await client.functionFlush({ async: true }), 'OK');
      assert.equal(await client.functionList(), []);
    });

    // Depends on per-call returnBuffers (CallOptions.returnBuffers, being wired in connection.ts).
    test('functionDump / functionRestore (per-call returnBuffers)', async ({ client }) => {
      await client.functionLoad(
        "#!lua name=dumped\nredis.register_function('dumped_f', function() return 7 end)",
        { replace: true },
      );
      const payload = await client.functionDump();
      assert.ok(Buffer.isBuffer(payload), 'functionDump() resolves a Buffer');
      await client.functionFlush();
      assert.is(await client.functionRestore(payload), 'OK');
      assert.is(await client.fcall('dumped_f'), 7);
      assert.is(await client.functionRestore(payload, { policy: 'REPLACE' }), 'OK');
      await client.functionFlush();
      await rejects(
        () => client.functionRestore('x' as unknown as Buffer),
        InvalidArgumentError,
        /payload/,
      );
    });
  },
  {
    client: async () => optionsFor(await dedicated()),
    teardown: async () => (await dedicated()).stop(),
  },
);
