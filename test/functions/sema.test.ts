import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisFunctions } from '../../functions/index.js';
import { InvalidArgumentError, LockNotHeldError, NotFoundError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll, fxClient, sleep } from './helpers.js';

test('semaphore: concurrent acquirers on several connections never exceed the limit', async () => {
  const name = keyPrefix('sema') + 'pool';
  const fxs = await Promise.all(
    Array.from({ length: 4 }, async () => new RedisFunctions(await client())),
  );
  await Promise.all(fxs.map((fx) => fx.loadLibrary('cy:sema')));
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      fxs[i % 4].sema.acquire(name, `h${i}`, 1 + (i % 2), 5000, { limit: 10 }),
    ),
  );
  const granted = results.map((r, i) => (r.acquired ? 1 + (i % 2) : 0)).reduce((a, b) => a + b, 0);
  assert.ok(granted <= 10 && granted >= 9, `granted ${granted} permits`);
  assert.is(await fxs[0].sema.available(name, 10), 10 - granted);
});

test('permits expire with their holder; release gives back some or all', async () => {
  const { fx } = await fxClient();
  const name = keyPrefix('sema') + 'exp';
  assert.equal(await fx.sema.acquire(name, 'short', 2, 80, { limit: 3 }), {
    acquired: true,
    remaining: 1,
  });
  assert.equal(await fx.sema.acquire(name, 'long', 2, 5000, { limit: 3 }), {
    acquired: false,
    remaining: 1,
  });
  await sleep(120);
  assert.ok((await fx.sema.acquire(name, 'long', 3, 5000, { limit: 3 })).acquired, 'expired');
  await rejects(() => fx.sema.release(name, 'short'), LockNotHeldError);
  await rejects(() => fx.sema.refresh(name, 'short', 1000), LockNotHeldError);
  assert.is(await fx.sema.release(name, 'long', 1), 2);
  assert.is(await fx.sema.available(name, 3), 1);
  await fx.sema.refresh(name, 'long', 10_000);
  assert.is(await fx.sema.release(name, 'long'), 0);
  assert.is(await fx.sema.available(name, 3), 3);
});

test('latch: await resolves when another client counts it down to 0', async () => {
  const { fx } = await fxClient();
  const other = new RedisFunctions(await client());
  const name = keyPrefix('latch') + 'go';
  assert.is(await fx.sema.latchInit(name, 3), true);
  assert.is(await fx.sema.latchInit(name, 9), false, 'exists: untouched');
  const waiting = fx.sema.await(name, 3000);
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    assert.is(await other.sema.countdown(name), 2 - i);
  }
  assert.is(await waiting, true);
  assert.ok(Date.now() - t0 < 1000, 'woken by the message, not by the poll');
  assert.is(await other.sema.countdown(name), 0, 'stays open');
  assert.is(await fx.sema.await(name, 10), true, 'already open');
  assert.is(await fx.sema.status(name), 0);
});

test('latch: await times out; missing latches are NotFound', async () => {
  const { fx } = await fxClient();
  const name = keyPrefix('latch') + 'slow';
  await fx.sema.latchInit(name, 1, { ttlMs: 10_000 });
  const t0 = Date.now();
  assert.is(await fx.sema.await(name, 80), false);
  assert.ok(Date.now() - t0 >= 75);
  const missing = keyPrefix('latch') + 'none';
  assert.is(await fx.sema.status(missing), null);
  await rejects(() => fx.sema.countdown(missing), NotFoundError);
  await rejects(() => fx.sema.await(missing, 50), NotFoundError);
});

test('bad arguments are refused and nothing is written', async () => {
  const { fx, redis } = await fxClient();
  const name = keyPrefix('sema') + 'bad';
  const cases: [() => Promise<unknown>, string][] = [
    [() => fx.sema.acquire(name, 'h', 0, 1000, { limit: 1 }), 'permits'],
    [() => fx.sema.acquire(name, 'h', 1, -1000, { limit: 1 }), 'ttlMs'],
    [() => fx.sema.acquire(name, 'h', 1, 1000, { limit: 0 }), 'options.limit'],
    [() => fx.sema.acquire(name, '', 1, 1000, { limit: 1 }), 'holder'],
    [() => fx.sema.acquire('', 'h', 1, 1000, { limit: 1 }), 'name'],
    [() => fx.sema.latchInit(name, -2), 'count'],
    [() => fx.sema.await(name, 0), 'timeoutMs'],
  ];
  for (const [fn, field] of cases)
    assert.is((await rejects(fn, InvalidArgumentError)).field, field);
  const raw = await rejects(
    () =>
      fx.call(
        'cy_sema_acquire',
        [`cy:sema:{${name}}`, `cy:sema:{${name}}:permits`],
        ['h', '1', 'x', '1'],
      ),
    InvalidArgumentError,
  );
  assert.is(raw.field, 'limit');
  assert.is(await redis.call('EXISTS', `cy:sema:{${name}}`, `cy:latch:{${name}}`), 0);
});

test.after(closeAll);
test.run();
