/** List commands, blocking ones included: same JS shapes under RESP3 and RESP2. */
import * as assert from 'uvu/assert';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

forEachProtocol('lists', (test) => {
  test('push / pop / llen / lrange / lindex / lset', async ({ client, key }) => {
    const k = key();
    assert.is(await client.rpush(k, 'b', 'c'), 2);
    assert.is(await client.lpush(k, ['a']), 3);
    assert.is(await client.rpushx(k, 'd'), 4);
    assert.is(await client.lpushx(key('missing'), 'x'), 0);
    assert.equal(await client.lrange(k, 0, -1), ['a', 'b', 'c', 'd']);
    assert.is(await client.llen(k), 4);
    assert.is(await client.lindex(k, -1), 'd');
    assert.is(await client.lindex(k, 99), null);
    assert.is(await client.lset(k, 1, 'B'), 'OK');
    assert.is(await client.lpop(k), 'a');
    assert.is(await client.rpop(k), 'd');
    assert.equal(await client.lpopCount(k, 5), ['B', 'c']);
    assert.is(await client.lpop(k), null);
    assert.is(await client.rpopCount(k, 2), null);
    await rejects(() => client.rpush(k), InvalidArgumentError, /elements must not be empty/);
  });

  test('linsert / lrem / ltrim / lpos', async ({ client, key }) => {
    const k = key();
    await client.rpush(k, 'a', 'x', 'b', 'x', 'c', 'x');
    assert.is(await client.linsert(k, 'BEFORE', 'b', 'a2'), 7);
    assert.is(await client.linsert(k, 'AFTER', 'nope', 'z'), -1);
    assert.is(await client.lpos(k, 'x'), 1);
    assert.is(await client.lpos(k, 'x', { RANK: -1 }), 6);
    assert.is(await client.lpos(k, 'nope'), null);
    assert.equal(await client.lposCount(k, 'x', 0), [1, 4, 6]);
    assert.equal(await client.lposCount(k, 'x', 2, { MAXLEN: 5 }), [1, 4]);
    assert.is(await client.lrem(k, -2, 'x'), 2);
    assert.equal(await client.lrange(k, 0, -1), ['a', 'x', 'a2', 'b', 'c']);
    assert.is(await client.ltrim(k, 1, 2), 'OK');
    assert.equal(await client.lrange(k, 0, -1), ['x', 'a2']);
  });

  test('lmove / lmpop', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.rpush(a, '1', '2', '3');
    assert.is(await client.lmove(a, b, 'LEFT', 'RIGHT'), '1');
    assert.is(await client.lmove(key('missing'), b, 'LEFT', 'LEFT'), null);
    assert.equal(await client.lmpop([key('missing'), a], 'RIGHT', { COUNT: 5 }), {
      key: a,
      elements: ['3', '2'],
    });
    assert.equal(await client.lmpop(b, 'LEFT'), { key: b, elements: ['1'] });
    assert.is(await client.lmpop([a, b], 'LEFT'), null);
    await rejects(() => client.lmpop([], 'LEFT'), InvalidArgumentError, /keys/);
  });

  test('blpop / brpop: { key, element } or null on timeout', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.rpush(b, 'x', 'y');
    assert.equal(await client.blpop([a, b], 1), { key: b, element: 'x' });
    assert.equal(await client.brpop(b, 1), { key: b, element: 'y' });
    assert.is(await client.blpop(a, 0.05), null);
    // A push from the auto-pipelined connection wakes a BLPOP waiting on a dedicated one.
    const waiting = client.blpop(a, 2);
    await new Promise((r) => setTimeout(r, 20));
    await client.rpush(a, 'late');
    assert.equal(await waiting, { key: a, element: 'late' });
    await rejects(() => client.blpop([], 1), InvalidArgumentError);
  });

  test('blmove / blmpop / brpoplpush', async ({ client, key }) => {
    const [a, b] = [key('a'), key('b')];
    await client.rpush(a, '1', '2', '3', '4');
    assert.is(await client.blmove(a, b, 'RIGHT', 'LEFT', 1), '4');
    assert.is(await client.brpoplpush(a, b, 1), '3');
    assert.equal(await client.lrange(b, 0, -1), ['3', '4']);
    assert.equal(await client.blmpop([a], 'LEFT', 1, { COUNT: 10 }), {
      key: a,
      elements: ['1', '2'],
    });
    assert.is(await client.blmpop(a, 'LEFT', 0.05), null);
    assert.is(await client.blmove(a, b, 'LEFT', 'LEFT', 0.05), null);
    assert.is(await client.brpoplpush(a, b, 0.05), null);
  });

  test('binary elements with 0x00 and 0xff are stored byte for byte', async ({ client, key }) => {
    const k = key();
    const bin = Buffer.from([0x00, 0xff, 0xfe, 0x0a]);
    await client.rpush(k, bin, 'text');
    assert.is(await client.lpos(k, bin), 0);
    assert.is(await client.lrem(k, 0, bin), 1);
    assert.equal(await client.lrange(k, 0, -1), ['text']);
  });
});
