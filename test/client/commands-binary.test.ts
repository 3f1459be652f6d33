/**
 * Binary keys and values (bytes 0x00, 0xff, CR, LF, invalid UTF-8) round-trip byte for byte
 * through a client with `returnBuffers: true`: every bulk string comes back as a Buffer, while
 * the typed replies keep their shape (numbers stay numbers, stream ids and names stay text).
 */
import * as assert from 'uvu/assert';
import { forEachProtocol } from '../support/protocols.js';

const BIN = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0xc3, 0x28, 0x00]);
const bin = (tag: string): Buffer => Buffer.concat([Buffer.from(tag), BIN]);

forEachProtocol(
  'binary',
  (test) => {
    test('strings: set / get / mget / getdel', async ({ client, key }) => {
      const k = Buffer.concat([Buffer.from(key()), BIN]);
      await client.set(k, bin('v'));
      assert.equal(await client.get(k), bin('v'));
      assert.equal(await client.getBuffer(k), bin('v'));
      assert.equal(await client.mget([k, key('missing')]), [bin('v'), null]);
      assert.equal(await client.getdel(k), bin('v'));
    });

    test('hashes: hset / hget / hmget / hgetall / hvals / hscan', async ({ client, key }) => {
      const k = key();
      await client.hset(k, { text: bin('a') });
      await client.hset(k, bin('f'), bin('b'));
      assert.equal(await client.hget(k, bin('f')), bin('b'));
      assert.equal(await client.hmget(k, 'text', bin('f')), [bin('a'), bin('b')]);
      const all = await client.hgetall(k);
      assert.equal(all.text, bin('a'));
      assert.is(Object.keys(all).length, 2);
      assert.equal((await client.hvals(k)).length, 2);
      const { entries } = await client.hscan(k, 0);
      assert.equal(entries.find((e) => e.field === 'text')?.value, bin('a'));
    });

    test('lists and sets: push / range / pop / members', async ({ client, key }) => {
      const [l, s] = [key('l'), key('s')];
      await client.rpush(l, bin('1'), bin('2'));
      assert.equal(await client.lrange(l, 0, -1), [bin('1'), bin('2')]);
      const popped = await client.blpop(l, 1);
      assert.is(popped?.key, l);
      assert.equal(popped?.element, bin('1'));
      assert.equal(await client.lmpop(l, 'LEFT'), { key: l, elements: [bin('2')] });
      await client.sadd(s, bin('m'));
      assert.equal(await client.smembers(s), [bin('m')]);
      assert.equal(await client.spop(s), bin('m'));
    });

    test('sorted sets: members are Buffers, scores stay numbers', async ({ client, key }) => {
      const k = key();
      await client.zadd(k, [
        { value: bin('a'), score: 1.5 },
        { value: bin('b'), score: Infinity },
      ]);
      assert.is(await client.zscore(k, bin('a')), 1.5);
      assert.equal(await client.zrangeWithScores(k, 0, -1), [
        { value: bin('a'), score: 1.5 },
        { value: bin('b'), score: Infinity },
      ]);
      assert.equal(await client.zpopmin(k), [{ value: bin('a'), score: 1.5 }]);
      const popped = await client.bzpopmax(k, 1);
      assert.equal(popped, { key: k, value: bin('b'), score: Infinity });
    });

    test('streams: ids and stream names as text, field values as Buffers', async (ctx) => {
      const { client } = ctx;
      const s = ctx.key();
      const id = await client.xadd(s, { payload: bin('p') });
      assert.type(id, 'string');
      assert.equal(await client.xrange(s), [{ id, fields: { payload: bin('p') } }]);
      assert.equal(await client.xread({ [s]: '0' }), [
        { stream: s, messages: [{ id, fields: { payload: bin('p') } }] },
      ]);
      const info = await client.xinfoStream(s);
      assert.is(info.lastGeneratedId, id);
      assert.equal(info.firstEntry, { id, fields: { payload: bin('p') } });
    });

    test('server replies parsed from text stay text', async ({ client }) => {
      assert.is(await client.ping(), 'PONG');
      assert.match(await client.info('server'), /redis_version/);
      assert.type((await client.time()).seconds, 'number');
      assert.type((await client.clientInfo()).id, 'string');
    });
  },
  { client: { returnBuffers: true } },
);
