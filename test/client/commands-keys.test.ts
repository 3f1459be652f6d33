/** Generic key commands: same JS shapes under RESP3 and RESP2. */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

const BIN = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x41]);

forEachProtocol('keys', (test) => {
  test('del / delete / exists / unlink / touch take lists or arrays', async ({ client, key }) => {
    const [a, b, c] = [key('a'), key('b'), key('c')];
    await client.mset({ [a]: '1', [b]: '2', [c]: '3' });
    assert.is(await client.exists(a, b, key('missing')), 2);
    assert.is(await client.exists([a, a]), 2);
    assert.is(await client.touch(a, [b, c]), 3);
    assert.is(await client.del(a), 1);
    assert.is(await client.delete([b]), 1);
    assert.is(await client.unlink(c, a), 1);
    assert.is(await client.exists(a, b, c), 0);
  });

  test('variadic key commands reject an empty list before sending', async ({ client }) => {
    const err = await rejects(() => client.del(), InvalidArgumentError);
    assert.is(err.field, 'keys');
    await rejects(() => client.exists([]), InvalidArgumentError, /keys must not be empty/);
  });

  test('expire / ttl / persist with NX, XX, GT, LT', async ({ client, key }) => {
    const k = key();
    assert.is(await client.expire(k, 100), false, 'no such key');
    await client.set(k, 'v');
    assert.is(await client.ttl(k), -1);
    assert.is(await client.expire(k, 100, 'XX'), false, 'XX: no timeout yet');
    assert.is(await client.expire(k, 100, 'NX'), true);
    assert.is(await client.expire(k, 50, 'GT'), false);
    assert.is(await client.expire(k, 50, 'LT'), true);
    const ttl = await client.ttl(k);
    assert.ok(ttl > 40 && ttl <= 50, `ttl ${ttl}`);
    assert.is(await client.pexpire(k, 20_000), true);
    const pttl = await client.pttl(k);
    assert.ok(pttl > 19_000 && pttl <= 20_000, `pttl ${pttl}`);
    assert.is(await client.persist(k), true);
    assert.is(await client.persist(k), false);
    assert.is(await client.ttl(key('missing')), -2);
  });

  test('expireat / pexpireat with numbers and Dates; expiretime', async ({ client, key }) => {
    const k = key();
    await client.set(k, 'v');
    const at = Math.floor(Date.now() / 1000) + 1000;
    assert.is(await client.expireat(k, at), true);
    assert.is(await client.expiretime(k), at);
    const date = new Date((at + 500) * 1000 + 123);
    assert.is(await client.pexpireat(k, date), true);
    assert.is(await client.pexpiretime(k), date.getTime());
    assert.is(await client.expireat(k, new Date(at * 1000), 'GT'), false);
    assert.is(await client.expiretime(k), at + 500);
    assert.is(await client.expiretime(key('missing')), -2);
  });

  test('type / rename / renamenx / copy / randomkey / object', async ({ client, key }) => {
    const [a, b, c] = [key('a'), key('b'), key('c')];
    await client.set(a, '12345');
    assert.is(await client.type(a), 'string');
    assert.is(await client.type(key('missing')), 'none');
    assert.is(await client.objectEncoding(a), 'int');
    assert.is(await client.objectEncoding(key('missing')), null);
    assert.is(typeof (await client.objectIdletime(a)), 'number');
    assert.is(typeof (await client.objectRefcount(a)), 'number');
    assert.is(await client.rename(a, b), 'OK');
    await client.set(c, 'other');
    assert.is(await client.renamenx(b, c), false);
    assert.is(await client.copy(b, c), false);
    assert.is(await client.copy(b, c, { REPLACE: true }), true);
    assert.is(await client.get(c), '12345');
    assert.is(typeof (await client.randomkey()), 'string');
  });

  test('keys(pattern), scan pages and scanIterator with match, count, type', async (ctx) => {
    const { client } = ctx;
    const prefix = ctx.key('scan:');
    const names = Array.from({ length: 30 }, (_, i) => `${prefix}${i}`);
    await client.mset(names.map((n) => [n, 'v'] as [string, string]));
    await client.hset(`${prefix}h`, 'f', 'v');
    assert.equal((await client.keys(`${prefix}*`)).sort(), [...names, `${prefix}h`].sort());

    const page = await client.scan(0, { match: `${prefix}*`, count: 5 });
    assert.type(page.cursor, 'string');
    assert.ok(Array.isArray(page.keys));

    const seen = new Set<string>();
    for await (const k of client.scanIterator({ match: `${prefix}*`, count: 7, type: 'string' }))
      seen.add(k);
    assert.equal([...seen].sort(), [...names].sort());

    const hashes: string[] = [];
    for await (const k of client.scanIterator({ match: `${prefix}*`, type: 'hash' }))
      hashes.push(k);
    assert.equal(hashes, [`${prefix}h`]);
  });

  test('binary keys with 0x00 and 0xff', async ({ client, key }) => {
    const k = Buffer.concat([Buffer.from(key()), BIN]);
    const k2 = Buffer.concat([k, Buffer.from([0xfe])]);
    await client.set(k, 'value');
    assert.is(await client.exists(k), 1);
    assert.is(await client.get(k), 'value');
    assert.is(await client.rename(k, k2), 'OK');
    assert.is(await client.exists(k), 0);
    assert.is(await client.type(k2), 'string');
    assert.is(await client.del(k2), 1);
  });

  // Depends on per-call returnBuffers (CallOptions.returnBuffers, being wired in connection.ts).
  test('dump / restore round-trip a value (per-call returnBuffers)', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.rpush(a, 'x', 'y');
    const dumped = await client.dump(a);
    assert.ok(Buffer.isBuffer(dumped), 'dump() resolves a Buffer');
    assert.is(await client.restore(b, 0, dumped), 'OK');
    assert.equal(await client.lrange(b, 0, -1), ['x', 'y']);
    assert.is(await client.restore(b, 0, dumped, { REPLACE: true, IDLETIME: 10 }), 'OK');
    assert.is(await client.dump(key('missing')), null);
  });

  test('restore rejects a non-Buffer payload', async ({ client, key }) => {
    const err = await rejects(
      () => client.restore(key(), 0, 'not a dump' as unknown as Buffer),
      InvalidArgumentError,
    );
    assert.is(err.field, 'serialized');
  });
});
