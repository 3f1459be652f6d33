/**
 * Typed commands inside pipeline(), multi() and watch(): the same reply shapes as when called
 * on the client (their transforms run on EXEC's results too).
 */
import * as assert from 'uvu/assert';
import { ReplyError } from '../../runtime/errors.js';
import { forEachProtocol } from '../support/protocols.js';

forEachProtocol('typed commands in pipelines', (test) => {
  test('pipeline(): shaped results in order, errors as values', async (ctx) => {
    const { client } = ctx;
    const [h, z, s, x] = [ctx.key('h'), ctx.key('z'), ctx.key('s'), ctx.key('x')];
    const results = await client
      .pipeline()
      .hset(h, { a: 1, b: 'two' })
      .hgetall(h)
      .zadd(z, { value: 'm', score: 1.5 })
      .zrangeWithScores(z, 0, -1)
      .sismember(s, 'nope')
      .xadd(x, { f: 'v' }, '1-1')
      .xrange(x)
      .lpush(h, 'wrong type')
      .exec();
    assert.equal(results.slice(0, 7), [
      2,
      { a: '1', b: 'two' },
      1,
      [{ value: 'm', score: 1.5 }],
      false,
      '1-1',
      [{ id: '1-1', fields: { f: 'v' } }],
    ]);
    assert.instance(results[7], ReplyError);
  });

  test('multi(): EXEC results go through the same transforms', async (ctx) => {
    const { client } = ctx;
    const [h, z, x] = [ctx.key('h'), ctx.key('z'), ctx.key('x')];
    await client.xadd(x, { n: '1' }, '1-1');
    const results = await client
      .multi()
      .hset(h, 'f', 'v')
      .hgetall(h)
      .zadd(z, { value: 'm', score: Infinity })
      .zscore(z, 'm')
      .zpopmin(z)
      .xread({ [x]: '0' })
      .infoParsed('server')
      .exec();
    assert.equal(results.slice(0, 6), [
      1,
      { f: 'v' },
      1,
      Infinity,
      [{ value: 'm', score: Infinity }],
      [{ stream: x, messages: [{ id: '1-1', fields: { n: '1' } }] }],
    ]);
    const info = results[6] as Record<string, Record<string, string>>;
    assert.match(info.server.redis_version, /^7\./);
  });

  test('watch(): typed reads on the watching connection, then a typed MULTI', async (ctx) => {
    const { client } = ctx;
    const h = ctx.key('h');
    await client.hset(h, { n: '1' });
    const results = await client.watch([h], async (tx) => {
      const before = await tx.hgetall(h);
      assert.equal(before, { n: '1' });
      return tx.multi().hincrby(h, 'n', 10).hgetall(h);
    });
    assert.equal(results, [11, { n: '11' }]);
  });
});
