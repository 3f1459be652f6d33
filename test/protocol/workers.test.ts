/**
 * The native addon in several worker threads at once: each thread loads its own addon
 * instance and decodes random replies; some are terminated mid-decode, every round creates
 * new ones, and the main thread keeps decoding correctly throughout.
 */
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { native } from '../../runtime/protocol/index.js';
import type { WorkerReport, WorkerTask } from './fixtures/reader-worker.js';
import { checkRandomBatch } from './generator.js';
import { noteNativeSkipped } from './helpers.js';

const WORKER = new URL('./fixtures/reader-worker.js', import.meta.url);
const ROUNDS = 5;
const WORKERS = 4; // per round; half of them are terminated mid-decode
const BATCHES = 40; // batches a finishing worker decodes

interface Running {
  worker: Worker;
  reports: WorkerReport[];
  exited: Promise<number>;
  progressed: Promise<void>; // resolves at the first progress report
}

function start(task: WorkerTask): Running {
  const worker = new Worker(WORKER, { workerData: task });
  const reports: WorkerReport[] = [];
  let onProgress!: () => void;
  const progressed = new Promise<void>((resolve) => (onProgress = resolve));
  worker.on('message', (r: WorkerReport) => {
    reports.push(r);
    if (r.type === 'progress') onProgress();
  });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  return { worker, reports, exited, progressed };
}

/** Decodes on the main thread until `until` settles; returns how many batches it checked. */
async function decodeMeanwhile(until: Promise<unknown>, seed: number): Promise<number> {
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => {});
  let batches = 0;
  while (!settled) {
    const result = checkRandomBatch(seed + batches, 'native');
    assert.is(result.mismatch, null, 'main thread');
    batches++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return batches;
}

noteNativeSkipped(test);

test(`${ROUNDS} rounds of ${WORKERS} worker threads, half terminated mid-decode`, async () => {
  if (!native) return;
  let mainBatches = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const running = Array.from({ length: WORKERS }, (_, i) =>
      start({ seed: 1000 * round + 100 * i, batches: BATCHES, forever: i % 2 === 1 }),
    );
    // Terminate the endless ones once they are busy decoding; let the others finish.
    const work = Promise.all(
      running.map(async (r, i) => {
        if (i % 2 === 1) {
          await r.progressed;
          await r.worker.terminate();
        }
        return r.exited;
      }),
    );
    mainBatches += await decodeMeanwhile(work, 7_000_000 + round * 10_000);
    const codes = await work;
    running.forEach((r, i) => {
      const label = `round ${round}, worker ${i}`;
      assert.equal(r.reports[0], { type: 'ready', native: true }, label);
      const mismatch = r.reports.find((x) => x.type === 'mismatch');
      assert.is(mismatch, undefined, `${label}: ${JSON.stringify(mismatch)}`);
      if (i % 2 === 1) {
        assert.is(codes[i], 1, `${label}: terminated`); // terminate() makes the exit code 1
      } else {
        assert.is(codes[i], 0, `${label}: exit code`);
        const done = r.reports.at(-1);
        assert.is(done?.type, 'done', label);
        assert.is(done?.type === 'done' && done.batches, BATCHES, label);
      }
    });
  }
  assert.ok(mainBatches > 0, 'the main thread decoded while workers ran');
});

test('a worker terminated right after it starts does not take the addon down', async () => {
  if (!native) return;
  for (let i = 0; i < 8; i++) {
    const r = start({ seed: i, batches: 1, forever: true });
    await r.worker.terminate();
    await r.exited;
  }
  assert.is(checkRandomBatch(42, 'native').mismatch, null);
});

test.run();
