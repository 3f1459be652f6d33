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
  [
    new errors.ConfigError('c.mjs', [{ field: 'threads', problem: 'must be an integer' }]),
    'ConfigError',
    'CYREDIS_ERR_CONFIG',
  ],
  [new errors.ActorDiedError('a', 'x'), 'ActorDiedError', 'CYREDIS_ERR_ACTOR_DIED'],
  [new errors.ActorCallError('a', new Error('x')), 'ActorCallError', 'CYREDIS_ERR_ACTOR_CALL'],
  [new errors.ActorNotFoundError('a'), 'ActorNotFoundError', 'CYREDIS_ERR_ACTOR_NOT_FOUND'],
  [
    new errors.HandlerTimeoutError('a', 'receive', 10),
    'HandlerTimeoutError',
    'CYREDIS_ERR_HANDLER_TIMEOUT',
  ],
  [new errors.WorkerExitError(0, 'exit', 1, 'x'), 'WorkerExitError', 'CYREDIS_ERR_WORKER_EXIT'],
  [
    new errors.SupervisorFailedError('root', 'x'),
    'SupervisorFailedError',
    'CYREDIS_ERR_SUPERVISOR_FAILED',
  ],
  [new errors.ShutdownError(), 'ShutdownError', 'CYREDIS_ERR_SHUTDOWN'],
];

for (const [err, name, code] of table) {
  test(`${name} has code ${code}`, () => {
    assert.instance(err, errors.CyRedisError);
    assert.instance(err, Error);
    assert.is(err.name, name);
    assert.is((err as errors.CyRedisError).code, code);
  });
}

test('ConfigError names the file and the field of every problem', () => {
  const err = new errors.ConfigError('/app/cyredis.config.mjs', [
    { field: 'actors[0].instances', problem: 'must be an integer from 1 to 1024' },
    { field: 'threads', problem: 'must be an integer from 1 to 256' },
  ]);
  assert.is(err.file, '/app/cyredis.config.mjs');
  assert.is(err.field, 'actors[0].instances');
  assert.is(err.issues.length, 2);
  assert.match(err.message, /\/app\/cyredis\.config\.mjs: actors\[0\]\.instances must be/);
  assert.match(err.message, /\/app\/cyredis\.config\.mjs: threads must be/);
});

test('actor errors carry the actor and the reason', () => {
  const died = new errors.ActorDiedError('counter#1', 'its thread exited');
  assert.is(died.actor, 'counter#1');
  assert.is(died.reason, 'its thread exited');
  const call = new errors.ActorCallError('counter', new TypeError('bad'));
  assert.instance(call.cause, TypeError);
  assert.match(call.message, /counter failed handling the call: bad/);
  const exit = new errors.WorkerExitError(2, 'out-of-memory', 1, 'heap');
  assert.is(exit.thread, 2);
  assert.is(exit.reason, 'out-of-memory');
  assert.is(exit.exitCode, 1);
});

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
