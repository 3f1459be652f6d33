import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { testClient } from '../support/client.js';
import { keyPrefix } from '../support/redis-server.js';
import { waitFor as until } from '../support/wait.js';

for (const protocol of [3, 2] as const) {
  test(`RESP${protocol}: subscribe, psubscribe, unsubscribe; the connection keeps serving commands`, async () => {
    const sub = await testClient('plain', { protocol });
    const pub = await testClient();
    const ch = keyPrefix('ch');
    const got: [string, string, string | undefined][] = [];
    await sub.subscribe(ch, (m, c) => got.push([String(m), c, undefined]));
    await sub.psubscribe(`${ch}*`, (m, c, p) => got.push([String(m), c, p]));
    // Ordinary commands still work on the subscribing client (RESP3: same connection).
    assert.is(await sub.call('PING'), 'PONG');
    assert.is(await pub.call('PUBLISH', ch, 'one'), 2);
    await until(() => got.length === 2);
    assert.equal(
      got.sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      [
        ['one', ch, `${ch}*`],
        ['one', ch, undefined],
      ].sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );
    await sub.unsubscribe(ch);
    await sub.punsubscribe(`${ch}*`);
    assert.is(await pub.call('PUBLISH', ch, 'two'), 0);
    await sub.close();
    await pub.close();
  });

  test(`RESP${protocol}: several listeners on one channel; removing one keeps the other`, async () => {
    const sub = await testClient('plain', { protocol });
    const pub = await testClient();
    const ch = keyPrefix('ch');
    const a: string[] = [];
    const b: string[] = [];
    const la = (m: string | Buffer) => a.push(String(m));
    await sub.subscribe(ch, la);
    await sub.subscribe(ch, (m) => b.push(String(m)));
    await pub.call('PUBLISH', ch, '1');
    await until(() => a.length === 1 && b.length === 1);
    await sub.unsubscribe(ch, la);
    await pub.call('PUBLISH', ch, '2');
    await until(() => b.length === 2);
    assert.equal(a, ['1']);
    await sub.close();
    await pub.close();
  });

  test(`RESP${protocol}: sharded pub/sub (SSUBSCRIBE / SPUBLISH)`, async () => {
    const sub = await testClient('plain', { protocol });
    const pub = await testClient();
    const ch = keyPrefix('sch');
    const got: string[] = [];
    await sub.ssubscribe(ch, (m) => got.push(String(m)));
    await pub.call('SPUBLISH', ch, 'sharded');
    await until(() => got.length === 1);
    assert.equal(got, ['sharded']);
    await sub.sunsubscribe(ch);
    await sub.close();
    await pub.close();
  });

  test(`RESP${protocol}: client tracking delivers invalidations as events`, async () => {
    const c = await testClient('plain', { protocol });
    const other = await testClient();
    const k = keyPrefix() + 'tracked';
    const seen: (string[] | null)[] = [];
    c.on('invalidate', (keys) => seen.push(keys));
    await c.enableTracking();
    await c.set(k, '1');
    await c.get(k); // now tracked
    await other.set(k, '2');
    await until(() => seen.some((keys) => keys?.includes(k) ?? false));
    await c.disableTracking();
    await c.close();
    await other.close();
  });

  test(`RESP${protocol}: broadcast tracking with a prefix`, async () => {
    const c = await testClient('plain', { protocol });
    const other = await testClient();
    const prefix = keyPrefix('bcast');
    const seen: string[] = [];
    c.on('invalidate', (keys) => seen.push(...(keys ?? [])));
    await c.enableTracking({ bcast: true, prefixes: [prefix] });
    await other.set(prefix + 'x', '1'); // never read by c, still invalidated in BCAST mode
    await until(() => seen.includes(prefix + 'x'));
    await c.close();
    await other.close();
  });
}

test('a listener that throws is reported as an error event and does not stop delivery', async () => {
  const sub = await testClient();
  const pub = await testClient();
  const ch = keyPrefix('ch');
  const errors: Error[] = [];
  sub.on('error', (e) => errors.push(e));
  const got: string[] = [];
  await sub.subscribe(ch, () => {
    throw new Error('listener bug');
  });
  await sub.subscribe(ch, (m) => got.push(String(m)));
  await pub.call('PUBLISH', ch, 'x');
  await until(() => got.length === 1);
  assert.is(errors[0]?.message, 'listener bug');
  await sub.close();
  await pub.close();
});

test('bad subscribe arguments reject with InvalidArgumentError', async () => {
  const c = await testClient();
  await rejects(() => c.subscribe([], () => {}), InvalidArgumentError, /channels/);
  await rejects(() => c.subscribe('x', undefined as never), InvalidArgumentError, /listener/);
  await c.close();
});

test.run();
