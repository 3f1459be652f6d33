import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as errors from '../runtime/errors.js';

// Every error class: its name and its stable code. Codes are a public contract.
const table: [Error, string, string][] = [
  [new errors.ProtocolError('x'), 'ProtocolError', 'CYREDIS_ERR_PROTOCOL'],
  [new errors.ReplyError('WRONGTYPE Operation'), 'ReplyError', 'CYREDIS_ERR_REPLY'],
  [
    new errors.InvalidArgumentError('options.port', 'must be an integer'),
    'InvalidArgumentError',
    'CYREDIS_ERR_INVALID_ARGUMENT',
  ],
  [new errors.ConnectionError('x'), 'ConnectionError', 'CYREDIS_ERR_CONNECTION'],
  [new errors.TimeoutError('x'), 'TimeoutError', 'CYREDIS_ERR_TIMEOUT'],
  [new errors.AbortError(), 'AbortError', 'CYREDIS_ERR_ABORTED'],
  [new errors.WatchError(), 'WatchError', 'CYREDIS_ERR_WATCH'],
  [new errors.ClosedError(), 'ClosedError', 'CYREDIS_ERR_CLOSED'],
  [new errors.OfflineQueueFullError(10), 'OfflineQueueFullError', 'CYREDIS_ERR_OFFLINE_QUEUE_FULL'],
  [new errors.LockNotHeldError('x'), 'LockNotHeldError', 'CYREDIS_ERR_LOCK_NOT_HELD'],
  [new errors.StaleReceiptError('x'), 'StaleReceiptError', 'CYREDIS_ERR_STALE_RECEIPT'],
  [new errors.NotFoundError('x'), 'NotFoundError', 'CYREDIS_ERR_NOT_FOUND'],
  [new errors.LibraryLoadError('cy_x', 'x'), 'LibraryLoadError', 'CYREDIS_ERR_LIBRARY_LOAD'],
  [new errors.ScriptError('x', 3), 'ScriptError', 'CYREDIS_ERR_SCRIPT'],
];

for (const [err, name, code] of table) {
  test(`${name} has code ${code}`, () => {
    assert.instance(err, errors.CyRedisError);
    assert.instance(err, Error);
    assert.is(err.name, name);
    assert.is((err as errors.CyRedisError).code, code);
  });
}

test('codes are unique', () => {
  const codes = table.map(([e]) => (e as errors.CyRedisError).code);
  assert.is(new Set(codes).size, codes.length);
});

test('ReplyError carries the Redis error code', () => {
  assert.is(new errors.ReplyError('WRONGTYPE Operation against a key').redisCode, 'WRONGTYPE');
  assert.is(new errors.ReplyError('NOSCRIPT').redisCode, 'NOSCRIPT');
});

test('InvalidArgumentError names the field', () => {
  const err = new errors.InvalidArgumentError('options.port', 'must be an integer');
  assert.is(err.field, 'options.port');
  assert.is(err.message, 'options.port must be an integer');
});

test.run();
