import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { optionsFor, testClient } from '../support/client.js';
import { keyPrefix, sharedRedis } from '../support/redis-server.js';

const native = process.env.CYREDIS_NATIVE !== '0';
const fixture = new URL('./fixtures/worker-client.js', import.meta.url);

function runWorker(data: object): {
  worker: Worker;
  done: Promise<{ transport: string; mismatches: number }>;
  exited: Promise<unknown>;
} {
  const worker = new Worker(fixture, { workerData: data });
  const exited = new Promise((res) => worker.once('exit', res));
  const done = new Promise<{ transport: string; mismatches: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, done, exited };
}

test('clients in several worker threads at once, each on its own connection', async () => {
  const options = optionsFor(await sharedRedis());
  const runs = Array.from({ length: 4 }, (_, i) =>
    runWorker({ options, prefix: keyPrefix(`w${i}`), count: 2000 }),
  );
  const results = await Promise.all(runs.map((r) => r.done));
  for (const r of results) {
    assert.is(r.transport, native ? 'native' : 'node-net');
    assert.is(r.mismatches, 0);
  }
  await Promise.all(runs.map((r) => r.exited));
});

test('worker threads terminated mid-flight, repeatedly: no crash, the main thread keeps working', async () => {
  const options = optionsFor(await sharedRedis());
  const main = await testClient();
  for (let round = 0; round < 5; round++) {
    const runs = Array.from({ length: 3 }, (_, i) =>
      runWorker({ options, prefix: keyPrefix(`t${round}${i}`), count: 50_000 }),
    );
    for (const r of runs) r.done.catch(() => {});
    await new Promise((res) => setTimeout(res, 30 + round * 10));
    await Promise.all(runs.map((r) => r.worker.terminate()));
    assert.is(await main.call('ECHO', `round${round}`), `round${round}`);
  }
  await main.close();
});

test('setThreaded / getThreaded / xaddThreaded run on the worker pool', async () => {
  const client = await testClient('plain', { maxWorkers: 2 });
  const p = keyPrefix('thr');
  const sets = await Promise.all(
    Array.from({ length: 100 }, (_, i) => client.setThreaded(`${p}${i}`, `value:${i}`)),
  );
  assert.ok(sets.every((r) => r === 'OK'));
  assert.is(await client.getThreaded(`${p}42`), 'value:42');
  assert.is(await client.get(`${p}99`), 'value:99');
  const id = await client.xaddThreaded(`${p}stream`, { field: 'value' });
  assert.match(id, /^\d+-\d+$/);
  assert.is(await client.call('XLEN', `${p}stream`), 1);
  await client.close();
});

test.run();
