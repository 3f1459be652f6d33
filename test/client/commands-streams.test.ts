/**
 * Stream commands: messages are { id, fields } and XREAD gives [{ stream, messages }] under
 * RESP3 (a map) and RESP2 (an array of pairs) alike.
 */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

const ID = /^\d+-\d+$/;

forEachProtocol('streams', (test) => {
  test('xadd with an id, fields as object / Map / pairs; xrange / xrevrange / xlen', async (ctx) => {
    const { client } = ctx;
    const s = ctx.key();
    const id1 = await client.xadd(s, { a: '1', b: 2 });
    assert.match(id1, ID);
    assert.is(await client.xadd(s, new Map([['c', '3']]), '9999999999999-1'), '9999999999999-1');
    assert.is(await client.xadd(s, [['d', '4']], '9999999999999-*'), '9999999999999-2');
    assert.is(await client.xlen(s), 3);
    assert.equal(await client.xrange(s), [
      { id: id1, fields: { a: '1', b: '2' } },
      { id: '9999999999999-1', fields: { c: '3' } },
      { id: '9999999999999-2', fields: { d: '4' } },
    ]);
    assert.equal(await client.xrange(s, '-', '+', { count: 1 }), [
      { id: id1, fields: { a: '1', b: '2' } },
    ]);
    assert.equal(await client.xrevrange(s, '+', '(9999999999999-1'), [
      { id: '9999999999999-2', fields: { d: '4' } },
    ]);
    assert.equal(await client.xrange(ctx.key('missing')), []);
  });

  test('xadd rejects empty or non-object fields and bad trim options', async ({ client, key }) => {
    const e1 = await rejects(() => client.xadd(key(), {}), InvalidArgumentError);
    assert.is(e1.field, 'fields');
    const e2 = await rejects(
      () => client.xadd(key(), 'f' as unknown as Record<string, string>),
      InvalidArgumentError,
    );
    assert.is(e2.field, 'fields');
    await rejects(
      () => client.xadd(key(), { a: 1 }, '*', { MAXLEN: 1, MINID: '0' }),
      InvalidArgumentError,
      /not both/,
    );
    await rejects(() => client.xtrim(key(), {}), InvalidArgumentError, /MAXLEN or MINID/);
    await rejects(
      () => client.xtrim(key(), { MAXLEN: 1, LIMIT: 10 }),
      InvalidArgumentError,
      /approximate/,
    );
  });

  test('xadd trimming (MAXLEN, MINID, approximate), xaddNomkstream, xtrim, xdel', async (ctx) => {
    const { client } = ctx;
    const s = ctx.key();
    for (let i = 1; i <= 5; i++) await client.xadd(s, { i }, `${i}-0`);
    assert.match(await client.xadd(s, { i: 6 }, '6-0', { MAXLEN: 3 }), /^6-0$/);
    assert.equal(
      (await client.xrange(s)).map((m) => m.id),
      ['4-0', '5-0', '6-0'],
    );
    await client.xadd(s, { i: 7 }, '7-0', { MINID: '6-0' });
    assert.equal(
      (await client.xrange(s)).map((m) => m.id),
      ['6-0', '7-0'],
    );
    await client.xadd(s, { i: 8 }, '8-0', { MAXLEN: 0, approximate: true, LIMIT: 10 });
    assert.is(await client.xaddNomkstream(ctx.key('missing'), { a: 1 }), null);
    assert.match((await client.xaddNomkstream(s, { a: 1 }))!, ID);
    assert.is(await client.xtrim(s, { MAXLEN: 1 }), (await client.xlen(s)) - 1);
    assert.is(await client.xlen(s), 1);
    const [last] = await client.xrange(s);
    assert.is(await client.xdel(s, last.id, '1-1'), 1);
    await rejects(() => client.xdel(s), InvalidArgumentError, /ids/);
  });

  test('xread: [{ stream, messages }] or null, several streams in order', async (ctx) => {
    const { client } = ctx;
    const [a, b] = [ctx.key('a'), ctx.key('b')];
    await client.xadd(a, { n: '1' }, '1-1');
    await client.xadd(a, { n: '2' }, '1-2');
    await client.xadd(b, { m: 'x' }, '2-1');
    assert.equal(await client.xread({ [a]: '0', [b]: '0' }), [
      {
        stream: a,
        messages: [
          { id: '1-1', fields: { n: '1' } },
          { id: '1-2', fields: { n: '2' } },
        ],
      },
      { stream: b, messages: [{ id: '2-1', fields: { m: 'x' } }] },
    ]);
    assert.equal(await client.xread([[a, '1-1']], { count: 5 }), [
      { stream: a, messages: [{ id: '1-2', fields: { n: '2' } }] },
    ]);
    assert.is(await client.xread({ [a]: '$' }), null);
    await rejects(() => client.xread({}), InvalidArgumentError, /streams/);
  });

  test('xread with block: null on timeout, woken by an xadd', async ({ client, key }) => {
    const s = key();
    assert.is(await client.xread({ [s]: '$' }, { block: 50 }), null);
    const waiting = client.xread({ [s]: '$' }, { block: 2000, count: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const id = await client.xadd(s, { hello: 'world' });
    assert.equal(await waiting, [{ stream: s, messages: [{ id, fields: { hello: 'world' } }] }]);
  });

  test('consumer groups: create, readgroup, ack, pending, setid, destroy', async (ctx) => {
    const { client } = ctx;
    const s = ctx.key();
    assert.is(await client.xgroupCreate(s, 'g', '0', { MKSTREAM: true }), 'OK');
    const ids = [await client.xadd(s, { n: 1 }), await client.xadd(s, { n: 2 })];
    assert.is(await client.xgroupCreateConsumer(s, 'g', 'idle'), true);
    assert.is(await client.xgroupCreateConsumer(s, 'g', 'idle'), false);
    const read = await client.xreadgroup('g', 'c1', { [s]: '>' }, { count: 10 });
    assert.equal(read, [
      {
        stream: s,
        messages: [
          { id: ids[0], fields: { n: '1' } },
          { id: ids[1], fields: { n: '2' } },
        ],
      },
    ]);
    assert.is(await client.xreadgroup('g', 'c1', { [s]: '>' }), null);
    assert.is(await client.xreadgroup('g', 'c1', { [s]: '>' }, { block: 50 }), null);

    assert.equal(await client.xpending(s, 'g'), {
      pending: 2,
      firstId: ids[0],
      lastId: ids[1],
      consumers: [{ name: 'c1', pending: 2 }],
    });
    const detail = await client.xpendingRange(s, 'g', { count: 10, consumer: 'c1' });
    assert.is(detail.length, 2);
    assert.is(detail[0].id, ids[0]);
    assert.is(detail[0].consumer, 'c1');
    assert.is(detail[0].deliveriesCounter, 1);
    assert.type(detail[0].millisecondsSinceLastDelivery, 'number');
    assert.equal(await client.xpendingRange(s, 'g', { count: 10, idle: 60_000 }), []);

    assert.is(await client.xack(s, 'g', ids[0], ['0-1']), 1);
    // The consumer's history: an entry deleted since it was delivered has fields: null.
    await client.xdel(s, ids[1]);
    assert.equal(await client.xreadgroup('g', 'c1', { [s]: '0' }), [
      { stream: s, messages: [{ id: ids[1], fields: null }] },
    ]);
    assert.equal(await client.xpending(s, 'g'), {
      pending: 1,
      firstId: ids[1],
      lastId: ids[1],
      consumers: [{ name: 'c1', pending: 1 }],
    });

    assert.is(await client.xgroupSetId(s, 'g', '0', { ENTRIESREAD: 0 }), 'OK');
    assert.is(await client.xgroupDelConsumer(s, 'g', 'c1'), 1);
    assert.equal(await client.xpending(s, 'g'), {
      pending: 0,
      firstId: null,
      lastId: null,
      consumers: [],
    });
    assert.is(await client.xgroupDestroy(s, 'g'), true);
    assert.is(await client.xgroupDestroy(s, 'g'), false);
    await rejects(
      () => client.xpendingRange(s, 'g', {} as { count: number }),
      InvalidArgumentError,
      /count/,
    );
  });

  test('xreadgroup noack, xclaim / xclaimJustId, xautoclaim with deletedIds', async (ctx) => {
    const { client } = ctx;
    const s = ctx.key();
    await client.xgroupCreate(s, 'g', '$', { MKSTREAM: true });
    const ids = [
      await client.xadd(s, { n: 1 }),
      await client.xadd(s, { n: 2 }),
      await client.xadd(s, { n: 3 }),
    ];
    await client.xreadgroup('g', 'a', { [s]: '>' }, { count: 3 });
    assert.equal(await client.xclaim(s, 'g', 'b', 0, ids[0]), [{ id: ids[0], fields: { n: '1' } }]);
    assert.equal(await client.xclaim(s, 'g', 'b', 3_600_000, [ids[1]]), []);
    assert.equal(await client.xclaimJustId(s, 'g', 'b', 0, [ids[1]], { RETRYCOUNT: 5 }), [ids[1]]);
    await client.xdel(s, ids[2]);
    const auto = await client.xautoclaim(s, 'g', 'c', 0, '0-0', { COUNT: 10 });
    assert.equal(auto, {
      nextId: '0-0',
      messages: [
        { id: ids[0], fields: { n: '1' } },
        { id: ids[1], fields: { n: '2' } },
      ],
      deletedIds: [ids[2]],
    });
    assert.equal(await client.xautoclaimJustId(s, 'g', 'd', 0), {
      nextId: '0-0',
      messages: [ids[0], ids[1]],
      deletedIds: [],
    });
    const id4 = await client.xadd(s, { n: 4 });
    await client.xreadgroup('g', 'e', { [s]: '>' }, { noack: true });
    assert.is((await client.xpending(s, 'g')).pending, 2, `${id4} was read without an ack`);
  });

  test('xinfoStream / xinfoGroups / xinfoConsumers give camelCase objects', async (ctx) => {
    const { client } = ctx;
    const s = ctx.key();
    const first = await client.xadd(s, { a: '1' }, '5-1');
    const last = await client.xadd(s, { b: '2' }, '5-2');
    await client.xgroupCreate(s, 'g', '0');
    await client.xreadgroup('g', 'c', { [s]: '>' }, { count: 1 });
    const info = await client.xinfoStream(s);
    assert.is(info.length, 2);
    assert.is(info.groups, 1);
    assert.is(info.lastGeneratedId, last);
    assert.is(info.entriesAdded, 2);
    assert.is(info.recordedFirstEntryId, first);
    assert.type(info.radixTreeKeys, 'number');
    assert.equal(info.firstEntry, { id: first, fields: { a: '1' } });
    assert.equal(info.lastEntry, { id: last, fields: { b: '2' } });
    assert.equal(await client.xinfoGroups(s), [
      { name: 'g', consumers: 1, pending: 1, lastDeliveredId: first, entriesRead: 1, lag: 1 },
    ]);
    const consumers = await client.xinfoConsumers(s, 'g');
    assert.is(consumers.length, 1);
    assert.is(consumers[0].name, 'c');
    assert.is(consumers[0].pending, 1);
    assert.type(consumers[0].idle, 'number');
    await client.xgroupSetId(s, 'g', '$');
    const [group] = await client.xinfoGroups(s);
    assert.is(group.lastDeliveredId, last);
  });

  test('binary field values and a binary stream key', async ({ client, key }) => {
    const s = Buffer.concat([Buffer.from(key()), Buffer.from([0x00, 0xff])]);
    const id = await client.xadd(s, { text: 'plain', bin: Buffer.from([0x00, 0xff]) });
    assert.is(await client.xlen(s), 1);
    const [m] = await client.xrange(s);
    assert.is(m.id, id);
    assert.is(m.fields.text, 'plain');
  });
});
