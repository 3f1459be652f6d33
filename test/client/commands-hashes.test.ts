/** Hash commands: same JS shapes under RESP3 and RESP2. */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

const BIN = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x41]);

forEachProtocol('hashes', (test) => {
  test('hset field/value, object, Map and pairs; hgetall is a plain object', async (ctx) => {
    const { client } = ctx;
    const k = ctx.key();
    assert.is(await client.hset(k, 'a', '1'), 1);
    assert.is(await client.hset(k, { b: 2, c: 'three' }), 2);
    assert.is(await client.hset(k, new Map([['d', '4']])), 1);
    assert.is(await client.hset(k, [['a', 'one']]), 0);
    assert.equal(await client.hgetall(k), { a: 'one', b: '2', c: 'three', d: '4' });
    assert.equal(await client.hgetall(ctx.key('missing')), {});
    // A field named __proto__ is an own property, as in a RESP3 map.
    await client.hset(k, '__proto__', 'p');
    const all = await client.hgetall(k);
    assert.is(Object.getOwnPropertyDescriptor(all, '__proto__')?.value, 'p');
    assert.is(Object.getPrototypeOf(all), Object.prototype);
  });

  test('hset rejects no fields, a missing value and malformed pairs', async ({ client, key }) => {
    const e1 = await rejects(() => client.hset(key(), {}), InvalidArgumentError);
    assert.is(e1.field, 'fields');
    const e2 = await rejects(() => client.hset(key(), 'f'), InvalidArgumentError);
    assert.is(e2.field, 'value');
    const e3 = await rejects(
      () => client.hset(key(), ['ab'] as unknown as [string, string][]),
      InvalidArgumentError,
    );
    assert.is(e3.field, 'fields[0]');
    const e4 = await rejects(() => client.hmget(key()), InvalidArgumentError);
    assert.is(e4.field, 'fields');
  });

  test('hsetnx / hget / hmget / hdel / hexists / hlen / hstrlen', async ({ client, key }) => {
    const k = key();
    assert.is(await client.hsetnx(k, 'a', 'x'), true);
    assert.is(await client.hsetnx(k, 'a', 'y'), false);
    await client.hset(k, { b: 'bee', c: '' });
    assert.is(await client.hget(k, 'a'), 'x');
    assert.is(await client.hget(k, 'zz'), null);
    assert.equal(await client.hmget(k, 'a', 'zz', 'c'), ['x', null, '']);
    assert.equal(await client.hmget(k, ['b']), ['bee']);
    assert.is(await client.hexists(k, 'b'), true);
    assert.is(await client.hexists(k, 'zz'), false);
    assert.is(await client.hlen(k), 3);
    assert.is(await client.hstrlen(k, 'b'), 3);
    assert.is(await client.hdel(k, 'a', ['b', 'zz']), 2);
    assert.equal(await client.hkeys(k), ['c']);
    assert.equal(await client.hvals(k), ['']);
  });

  test('hincrby / hincrbyfloat resolve numbers', async ({ client, key }) => {
    const k = key();
    assert.is(await client.hincrby(k, 'n', 5), 5);
    assert.is(await client.hincrby(k, 'n', -7), -2);
    assert.is(await client.hincrbyfloat(k, 'f', 1.5), 1.5);
    assert.is(await client.hincrbyfloat(k, 'f', -0.25), 1.25);
  });

  test('hrandfield, with count and with values', async ({ client, key }) => {
    const k = key();
    const fields = { a: '1', b: '2', c: '3' };
    await client.hset(k, fields);
    assert.ok(['a', 'b', 'c'].includes((await client.hrandfield(k))!));
    assert.is(await client.hrandfield(key('missing')), null);
    assert.equal((await client.hrandfieldCount(k, 10)).sort(), ['a', 'b', 'c']);
    assert.is((await client.hrandfieldCount(k, -5)).length, 5);
    const entries = await client.hrandfieldCountWithValues(k, 3);
    assert.equal(
      entries.sort((x, y) => x.field.localeCompare(y.field)),
      [
        { field: 'a', value: '1' },
        { field: 'b', value: '2' },
        { field: 'c', value: '3' },
      ],
    );
    assert.is((await client.hrandfieldCountWithValues(k, -4)).length, 4);
  });

  test('hscan pages and hscanIterator', async ({ client, key }) => {
    const k = key();
    const fields: Record<string, string> = {};
    for (let i = 0; i < 300; i++) fields[`f${i}`] = `v${i}`; // past listpack: a real cursor
    await client.hset(k, fields);
    const page = await client.hscan(k, '0', { count: 10 });
    assert.type(page.cursor, 'string');
    assert.ok(page.entries.every((e) => fields[e.field] === e.value));
    const seen: Record<string, string> = {};
    for await (const { field, value } of client.hscanIterator(k, { count: 50 }))
      seen[field] = value;
    assert.equal(seen, fields);
    const matched: string[] = [];
    for await (const e of client.hscanIterator(k, { match: 'f1?' })) matched.push(e.field);
    assert.equal(matched.sort(), [
      'f10',
      'f11',
      'f12',
      'f13',
      'f14',
      'f15',
      'f16',
      'f17',
      'f18',
      'f19',
    ]);
  });

  test('binary fields and values (string replies for text, Buffer keys)', async ({
    client,
    key,
  }) => {
    const k = Buffer.concat([Buffer.from(key()), BIN]);
    const field = Buffer.concat([Buffer.from('f'), BIN]);
    assert.is(await client.hset(k, field, 'text'), 1);
    assert.is(await client.hget(k, field), 'text');
    assert.is(await client.hexists(k, field), true);
    assert.is(await client.hlen(k), 1);
  });

  // Depends on per-call returnBuffers (CallOptions.returnBuffers, being wired in connection.ts).
  test('hgetBuffer round-trips bytes 0x00 and 0xff (per-call returnBuffers)', async (ctx) => {
    const { client } = ctx;
    const k = ctx.key();
    await client.hset(k, 'bin', BIN);
    const v = await client.hgetBuffer(k, 'bin');
    assert.ok(Buffer.isBuffer(v), 'hgetBuffer() resolves a Buffer');
    assert.equal(v, BIN);
    assert.is(await client.hgetBuffer(k, 'missing'), null);
  });
});
