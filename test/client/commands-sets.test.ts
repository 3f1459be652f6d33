/** Set commands: same JS shapes under RESP3 (sets) and RESP2 (arrays). */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

const sorted = (a: string[]): string[] => [...a].sort();

forEachProtocol('sets', (test) => {
  test('sadd / srem / smembers / sismember / smismember / scard', async ({ client, key }) => {
    const k = key();
    assert.is(await client.sadd(k, 'a', 'b', ['c', 'a']), 3);
    assert.equal(sorted(await client.smembers(k)), ['a', 'b', 'c']);
    assert.equal(await client.smembers(key('missing')), []);
    assert.is(await client.sismember(k, 'a'), true);
    assert.is(await client.sismember(k, 'z'), false);
    assert.equal(await client.smismember(k, 'a', 'z', 'c'), [true, false, true]);
    assert.is(await client.srem(k, 'a', 'z'), 1);
    assert.is(await client.scard(k), 2);
    const err = await rejects(() => client.sadd(k), InvalidArgumentError);
    assert.is(err.field, 'members');
  });

  test('spop / srandmember / smove', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.sadd(a, '1', '2', '3', '4');
    assert.ok(['1', '2', '3', '4'].includes((await client.srandmember(a))!));
    assert.is((await client.srandmemberCount(a, 10)).length, 4);
    assert.is((await client.srandmemberCount(a, -6)).length, 6);
    const popped = await client.spop(a);
    assert.type(popped, 'string');
    assert.is((await client.spopCount(a, 2)).length, 2);
    assert.is(await client.spop(key('missing')), null);
    assert.equal(await client.spopCount(key('missing'), 2), []);
    const [last] = await client.smembers(a);
    assert.is(await client.smove(a, b, last), true);
    assert.is(await client.smove(a, b, last), false);
    assert.equal(await client.smembers(b), [last]);
  });

  test('sinter / sunion / sdiff, their *store and sintercard', async ({ client, key }) => {
    const [a, b, d] = [key('a'), key('b'), key('d')];
    await client.sadd(a, '1', '2', '3');
    await client.sadd(b, '2', '3', '4');
    assert.equal(sorted(await client.sinter(a, b)), ['2', '3']);
    assert.equal(sorted(await client.sunion([a, b])), ['1', '2', '3', '4']);
    assert.equal(await client.sdiff(a, b), ['1']);
    assert.is(await client.sinterstore(d, a, b), 2);
    assert.is(await client.sunionstore(d, [a, b]), 4);
    assert.is(await client.sdiffstore(d, b, a), 1);
    assert.equal(await client.smembers(d), ['4']);
    assert.is(await client.sintercard([a, b]), 2);
    assert.is(await client.sintercard([a, b], { LIMIT: 1 }), 1);
    await rejects(() => client.sinter(), InvalidArgumentError, /keys/);
    await rejects(() => client.sintercard([]), InvalidArgumentError, /keys/);
  });

  test('sscan pages and sscanIterator', async ({ client, key }) => {
    const k = key();
    const members = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await client.sadd(k, members);
    const page = await client.sscan(k, 0, { count: 10 });
    assert.type(page.cursor, 'string');
    assert.ok(page.members.length > 0);
    const seen = new Set<string>();
    for await (const m of client.sscanIterator(k, { count: 40 })) seen.add(m);
    assert.equal(sorted([...seen]), sorted(members));
    const some: string[] = [];
    for await (const m of client.sscanIterator(k, { match: 'm19?' })) some.push(m);
    assert.is(some.length, 10);
  });

  test('binary members with 0x00 and 0xff', async ({ client, key }) => {
    const k = key();
    const bin = Buffer.from([0xff, 0x00, 0x01]);
    assert.is(await client.sadd(k, bin, Buffer.from([0xff, 0x00])), 2);
    assert.is(await client.sismember(k, bin), true);
    assert.is(await client.sismember(k, Buffer.from([0xff])), false);
  });
});
