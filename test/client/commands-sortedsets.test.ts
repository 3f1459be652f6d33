/**
 * Sorted set commands: scores are numbers under RESP3 (doubles) and RESP2 (bulk strings, with
 * "inf"), scored results are [{ value, score }] both ways.
 */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

forEachProtocol('zsets', (test) => {
  test('zadd with NX / XX / GT / LT / CH; zscore / zmscore / zincrby', async ({ client, key }) => {
    const k = key();
    assert.is(
      await client.zadd(k, [
        { score: 1, value: 'a' },
        { score: 2.5, value: 'b' },
      ]),
      2,
    );
    assert.is(await client.zadd(k, { score: 3, value: 'c' }), 1);
    assert.is(await client.zadd(k, { score: 9, value: 'a' }, { NX: true }), 0);
    assert.is(await client.zadd(k, { score: 9, value: 'z' }, { XX: true }), 0);
    assert.is(await client.zadd(k, { score: 0, value: 'a' }, { GT: true, CH: true }), 0);
    assert.is(await client.zadd(k, { score: 0.5, value: 'a' }, { LT: true, CH: true }), 1);
    assert.is(await client.zscore(k, 'a'), 0.5);
    assert.is(await client.zscore(k, 'b'), 2.5);
    assert.is(await client.zscore(k, 'nope'), null);
    assert.equal(await client.zmscore(k, 'a', ['nope', 'c']), [0.5, null, 3]);
    assert.is(await client.zincrby(k, 1.25, 'a'), 1.75);
    assert.is(await client.zaddIncr(k, { score: 1, value: 'a' }), 2.75);
    assert.is(await client.zaddIncr(k, { score: 1, value: 'a' }, { NX: true }), null);
  });

  test('infinite scores both ways', async ({ client, key }) => {
    const k = key();
    await client.zadd(k, [
      { score: Infinity, value: 'top' },
      { score: -Infinity, value: 'bottom' },
    ]);
    assert.is(await client.zscore(k, 'top'), Infinity);
    assert.equal(await client.zrangeWithScores(k, 0, -1), [
      { value: 'bottom', score: -Infinity },
      { value: 'top', score: Infinity },
    ]);
    assert.is(await client.zcount(k, -Infinity, Infinity), 2);
    assert.is(await client.zcount(k, '(-inf', '+inf'), 1);
    assert.is(await client.zcount(k, '(-inf', '(+inf'), 0);
  });

  test('zadd rejects a non-numeric score and an empty list', async ({ client, key }) => {
    const e1 = await rejects(
      () => client.zadd(key(), [{ score: '1' as unknown as number, value: 'a' }]),
      InvalidArgumentError,
    );
    assert.is(e1.field, 'members[0].score');
    const e2 = await rejects(
      () => client.zadd(key(), { score: NaN, value: 'a' }),
      InvalidArgumentError,
    );
    assert.is(e2.field, 'member.score');
    const e3 = await rejects(() => client.zadd(key(), []), InvalidArgumentError);
    assert.is(e3.field, 'members');
  });

  test('zrange by index, score and lex, REV and LIMIT; zrangeWithScores', async (ctx) => {
    const { client } = ctx;
    const k = ctx.key();
    await client.zadd(
      k,
      ['a', 'b', 'c', 'd', 'e'].map((value, i) => ({ value, score: i + 1 })),
    );
    assert.equal(await client.zrange(k, 0, -1), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(await client.zrange(k, 0, 1, { REV: true }), ['e', 'd']);
    assert.equal(await client.zrange(k, 2, '(4', { BY: 'SCORE' }), ['b', 'c']);
    assert.equal(await client.zrange(k, Infinity, 3, { BY: 'SCORE', REV: true }), ['e', 'd', 'c']);
    assert.equal(
      await client.zrange(k, -Infinity, Infinity, {
        BY: 'SCORE',
        LIMIT: { offset: 1, count: 2 },
      }),
      ['b', 'c'],
    );
    assert.equal(await client.zrange(k, '[b', '(d', { BY: 'LEX' }), ['b', 'c']);
    assert.equal(await client.zrangeWithScores(k, 0, 1), [
      { value: 'a', score: 1 },
      { value: 'b', score: 2 },
    ]);
    assert.equal(await client.zrangeWithScores(k, 5, 4, { BY: 'SCORE', REV: true }), [
      { value: 'e', score: 5 },
      { value: 'd', score: 4 },
    ]);
    const dst = ctx.key('dst');
    assert.is(await client.zrangestore(dst, k, 1, 3), 3);
    assert.equal(await client.zrange(dst, 0, -1), ['b', 'c', 'd']);
  });

  test('zcard / zcount / zlexcount / zrank / zrevrank / zrem', async ({ client, key }) => {
    const k = key();
    await client.zadd(k, [
      { value: 'a', score: 0 },
      { value: 'b', score: 0 },
      { value: 'c', score: 0 },
    ]);
    assert.is(await client.zcard(k), 3);
    assert.is(await client.zcount(k, 0, 0), 3);
    assert.is(await client.zlexcount(k, '[b', '+'), 2);
    assert.is(await client.zrank(k, 'c'), 2);
    assert.is(await client.zrevrank(k, 'c'), 0);
    assert.is(await client.zrank(k, 'nope'), null);
    assert.is(await client.zrem(k, 'a', ['nope']), 1);
    assert.is(await client.zcard(k), 2);
  });

  test('zpopmin / zpopmax always give [{ value, score }]', async ({ client, key }) => {
    const k = key();
    await client.zadd(k, [
      { value: 'a', score: 1 },
      { value: 'b', score: 2 },
      { value: 'c', score: 3 },
      { value: 'd', score: 4 },
    ]);
    assert.equal(await client.zpopmin(k), [{ value: 'a', score: 1 }]);
    assert.equal(await client.zpopmax(k), [{ value: 'd', score: 4 }]);
    assert.equal(await client.zpopmin(k, 1), [{ value: 'b', score: 2 }]);
    assert.equal(await client.zpopmax(k, 5), [{ value: 'c', score: 3 }]);
    assert.equal(await client.zpopmin(k), []);
    assert.equal(await client.zpopmax(k, 2), []);
  });

  test('bzpopmin / bzpopmax / zmpop / bzmpop', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.zadd(b, [
      { value: 'x', score: 1 },
      { value: 'y', score: 2 },
      { value: 'z', score: 3 },
    ]);
    assert.equal(await client.bzpopmin([a, b], 1), { key: b, value: 'x', score: 1 });
    assert.equal(await client.bzpopmax(b, 1), { key: b, value: 'z', score: 3 });
    assert.is(await client.bzpopmin(a, 0.05), null);
    assert.equal(await client.zmpop([a, b], 'MIN'), {
      key: b,
      members: [{ value: 'y', score: 2 }],
    });
    assert.is(await client.zmpop([a, b], 'MAX'), null);
    await client.zadd(a, [
      { value: 'p', score: 1.5 },
      { value: 'q', score: 2.5 },
    ]);
    assert.equal(await client.bzmpop([a], 'MAX', 1, { COUNT: 5 }), {
      key: a,
      members: [
        { value: 'q', score: 2.5 },
        { value: 'p', score: 1.5 },
      ],
    });
    assert.is(await client.bzmpop(a, 'MIN', 0.05), null);
  });

  test('zremrangebyrank / byscore / bylex', async ({ client, key }) => {
    const k = key();
    const members = ['a', 'b', 'c', 'd', 'e', 'f'].map((value, i) => ({ value, score: i }));
    await client.zadd(k, members);
    assert.is(await client.zremrangebyrank(k, 0, 1), 2);
    assert.is(await client.zremrangebyscore(k, '(2', Infinity), 3);
    assert.equal(await client.zrange(k, 0, -1), ['c']);
    const l = key('lex');
    await client.zadd(
      l,
      ['a', 'b', 'c'].map((value) => ({ value, score: 0 })),
    );
    assert.is(await client.zremrangebylex(l, '-', '[b'), 2);
  });

  test('zunionstore / zinterstore with weights and AGGREGATE', async ({ client, key }) => {
    const [a, b, d] = [key('a'), key('b'), key('d')];
    await client.zadd(a, [
      { value: 'x', score: 1 },
      { value: 'y', score: 2 },
    ]);
    await client.zadd(b, [
      { value: 'y', score: 10 },
      { value: 'z', score: 20 },
    ]);
    assert.is(await client.zunionstore(d, [a, b]), 3);
    assert.equal(await client.zrangeWithScores(d, 0, -1), [
      { value: 'x', score: 1 },
      { value: 'y', score: 12 },
      { value: 'z', score: 20 },
    ]);
    assert.is(await client.zinterstore(d, [{ key: a, weight: 3 }, b], { AGGREGATE: 'MAX' }), 1);
    assert.equal(await client.zrangeWithScores(d, 0, -1), [{ value: 'y', score: 10 }]);
    await rejects(() => client.zunionstore(d, []), InvalidArgumentError, /keys/);
  });

  test('zrandmember, with count and with scores', async ({ client, key }) => {
    const k = key();
    await client.zadd(k, [
      { value: 'a', score: 1 },
      { value: 'b', score: 2 },
    ]);
    assert.ok(['a', 'b'].includes((await client.zrandmember(k))!));
    assert.is(await client.zrandmember(key('missing')), null);
    assert.equal((await client.zrandmemberCount(k, 5)).sort(), ['a', 'b']);
    const withScores = await client.zrandmemberCountWithScores(k, 2);
    assert.equal(
      withScores.sort((x, y) => x.score - y.score),
      [
        { value: 'a', score: 1 },
        { value: 'b', score: 2 },
      ],
    );
    assert.is((await client.zrandmemberCountWithScores(k, -3)).length, 3);
  });

  test('zscan pages and zscanIterator', async ({ client, key }) => {
    const k = key();
    const members = Array.from({ length: 200 }, (_, i) => ({ value: `m${i}`, score: i / 2 }));
    await client.zadd(k, members);
    const page = await client.zscan(k, 0, { count: 10 });
    assert.type(page.cursor, 'string');
    assert.type(page.members[0]?.score, 'number');
    const seen = new Map<string, number>();
    for await (const { value, score } of client.zscanIterator(k, { count: 50 }))
      seen.set(value, score);
    assert.is(seen.size, 200);
    assert.is(seen.get('m7'), 3.5);
  });

  test('binary members with 0x00 and 0xff', async ({ client, key }) => {
    const k = key();
    const bin = Buffer.from([0x00, 0xff, 0x7f]);
    await client.zadd(k, { value: bin, score: 4 });
    assert.is(await client.zscore(k, bin), 4);
    assert.is(await client.zrank(k, bin), 0);
  });
});
