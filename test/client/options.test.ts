import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { parseUrl, resolveOptions } from '../../runtime/client/options.js';
import { HighPerformanceRedis } from '../../runtime/client/index.js';

test('redis:// URL maps to host, port, credentials and db', () => {
  const o = resolveOptions('redis://alice:s%40cret@example.com:6380/4');
  assert.is(o.host, 'example.com');
  assert.is(o.port, 6380);
  assert.is(o.username, 'alice');
  assert.is(o.password, 's@cret');
  assert.is(o.db, 4);
  assert.is(o.tls, null);
});

test('rediss:// turns TLS on; unix:// gives a socket path with ?db', () => {
  assert.equal(resolveOptions('rediss://h:1').tls, {});
  const u = resolveOptions('unix:///tmp/redis.sock?db=2');
  assert.is(u.path, '/tmp/redis.sock');
  assert.is(u.db, 2);
});

test('explicit options override the URL', () => {
  const o = resolveOptions({ url: 'redis://a:1/1', port: 2, db: 3 });
  assert.is(o.host, 'a');
  assert.is(o.port, 2);
  assert.is(o.db, 3);
});

test('defaults', () => {
  const o = resolveOptions();
  assert.is(o.host, '127.0.0.1');
  assert.is(o.port, 6379);
  assert.is(o.protocol, 3);
  assert.is(o.maxOfflineCommands, 10_000);
  assert.ok(o.reconnect);
  assert.is(resolveOptions({ reconnect: false }).reconnect, null);
});

// Every bad option: a typed error naming the field, thrown before anything connects.
const bad: [unknown, string, RegExp][] = [
  [{ port: -1 }, 'options.port', /integer from 0 to 65535/],
  [{ port: '6379' }, 'options.port', /integer/],
  [{ db: 1.5 }, 'options.db', /integer/],
  [{ protocol: 4 }, 'options.protocol', /2 or 3/],
  [{ host: 5 }, 'options.host', /string/],
  [{ lazyConnect: 'yes' }, 'options.lazyConnect', /boolean/],
  [{ transport: 'udp' }, 'options.transport', /auto/],
  [{ tls: 'on' }, 'options.tls', /boolean or an object/],
  [{ reconnect: { factor: 0 } }, 'options.reconnect.factor', /number from 1/],
  [{ reconnect: { jitter: 2 } }, 'options.reconnect.jitter', /number from 0 to 1/],
  [{ maxOfflineCommands: -5 }, 'options.maxOfflineCommands', /integer/],
  [{ commandTimeoutMs: NaN }, 'options.commandTimeoutMs', /integer/],
  [{ reader: { maxDepth: -1 } }, 'options.reader.maxDepth', /integer/],
  [{ prot: 3 }, 'options.prot', /not a known option/],
  [{ url: 'http://x' }, 'options.url', /redis:\/\//],
  [{ url: 'redis://h/abc' }, 'options.url', /bad database/],
  [{ url: 'not a url' }, 'options.url', /not a valid URL/],
];

for (const [input, field, message] of bad) {
  test(`rejects ${JSON.stringify(input)} naming ${field}`, () => {
    try {
      new HighPerformanceRedis(input as never);
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, InvalidArgumentError);
      assert.is((err as InvalidArgumentError).field, field);
      assert.is((err as InvalidArgumentError).code, 'CYREDIS_ERR_INVALID_ARGUMENT');
      assert.match((err as Error).message, message);
    }
  });
}

test('parseUrl keeps IPv6 hosts', () => {
  assert.is(parseUrl('redis://[::1]:7000').host, '::1');
});

test.run();
