/**
 * One run of bench/actors.ts, in its own process:
 *   node dist/bench/actors-worker.js <cyredis|raw> <local|cross|roundtrip> <n>
 * Prints one JSON line: { seconds } for throughput, { count, totalUs, p50Us, p99Us } for the
 * round trip.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { Supervisor } from '../runtime/actor/index.js';

const [impl, scenario, nText] = process.argv.slice(2) as [
  'cyredis' | 'raw',
  'local' | 'cross' | 'roundtrip',
  string,
];
const n = Number(nText);
const fixtures = new URL('./actors-fixtures.js', import.meta.url).href;
const raw = new URL('./actors-raw.js', import.meta.url);

async function cyredis(): Promise<object> {
  const sup = new Supervisor(
    {
      threads: scenario === 'local' ? 1 : 2,
      actors: [
        { name: 'src', module: fixtures, export: 'src', handlerTimeoutMs: 0 },
        { name: 'sink', module: fixtures, export: 'sink', mailboxSize: 1000 },
      ],
    },
    { logger: null },
  );
  await sup.start();
  try {
    // warm-up, then the measured run
    await sup.call(
      'src',
      { op: scenario === 'roundtrip' ? 'ping' : 'blast', n: Math.min(n, 20_000) },
      { timeoutMs: 0 },
    );
    return await sup.call<unknown, object>(
      'src',
      { op: scenario === 'roundtrip' ? 'ping' : 'blast', n },
      { timeoutMs: 0 },
    );
  } finally {
    await sup.stop();
  }
}

function rawRun(): Promise<object> {
  const run = (): Promise<object> =>
    new Promise((resolve, reject) => {
      if (scenario === 'local') {
        const w = new Worker(raw, { workerData: { role: 'local', n } });
        w.once('message', (r: object) => void w.terminate().then(() => resolve(r)));
        w.once('error', reject);
        return;
      }
      const { port1, port2 } = new MessageChannel();
      const [a, b] = scenario === 'cross' ? ['sender', 'receiver'] : ['pinger', 'ponger'];
      const wb = new Worker(raw, {
        workerData: { role: b, n, port: port2 },
        transferList: [port2],
      });
      const wa = new Worker(raw, {
        workerData: { role: a, n, port: port1 },
        transferList: [port1],
      });
      wa.once(
        'message',
        (r: object) => void Promise.all([wa.terminate(), wb.terminate()]).then(() => resolve(r)),
      );
      wa.once('error', reject);
      wb.once('error', reject);
    });
  return run(); // each raw run starts fresh threads; warm-up is the JIT of this small code
}

/** Round trips come back as every latency: summarise here (a 64 KB line would be cut short). */
function summarise(r: object): object {
  const l = (r as { latenciesUs?: number[] }).latenciesUs;
  if (!l) return r;
  const s = [...l].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return {
    count: s.length,
    totalUs: s.reduce((a, b) => a + b, 0),
    p50Us: at(0.5),
    p99Us: at(0.99),
  };
}

const result = summarise(impl === 'cyredis' ? await cyredis() : await rawRun());
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
