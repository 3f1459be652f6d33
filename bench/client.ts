/**
 * Client benchmark: cyredis (native and TS transports) against node-redis and ioredis.
 * Each run is its own process, runs are interleaved (every client once per repetition, in a
 * rotating order), at least three repetitions, medians. Prints ops/s, client CPU µs per op and
 * the ratios to node-redis and ioredis, as a table and one JSON line.
 *
 *   node dist/bench/client.js [--reps 3] [--only conc,burst]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../test/support/redis-server.js';
import type { ClientName, Workload } from './client-worker.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1] || 3) || 3;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;

const clients: ClientName[] = ['cyredis', 'cyredis-ts', 'node-redis', 'ioredis'];
const threadCounts = Array.from({ length: availableParallelism() }, (_, i) => i + 1);
const workloads: [Workload, number][] = [
  ['seq', 1],
  ['conc', 1],
  ['burst', 1],
  ['pipe', 1],
  ['big', 1],
  ...threadCounts.map((n): [Workload, number] => ['threads', n]),
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const server = await startRedis('plain');
const port = server.port;
execFileSync('redis-cli', ['-p', String(port), 'SET', 'bench:small', 'x'.repeat(32)]);
execFileSync('redis-cli', ['-p', String(port), 'SET', 'bench:big', 'y'.repeat(100 * 1024)]);
const worker = fileURLToPath(new URL('./client-worker.js', import.meta.url));

type Sample = { opsPerSec: number; cpuUsPerOp: number };
const samples = new Map<string, Sample[]>();

try {
  for (let rep = 0; rep < reps; rep++) {
    for (const [w, threads] of workloads) {
      if (only && !only.includes(w)) continue;
      // Rotate the client order each repetition so no client always runs first.
      const order = clients.map((_, i) => clients[(i + rep) % clients.length]);
      for (const client of order) {
        const env = { ...process.env, ...(client === 'cyredis-ts' ? { CYREDIS_NATIVE: '0' } : {}) };
        const res = spawnSync(
          process.execPath,
          [worker, client, w, String(port), String(threads)],
          { env, encoding: 'utf8', timeout: 120_000 },
        );
        if (res.status !== 0) throw new Error(`${client} ${w}: ${res.stderr || res.error}`);
        const { ops, seconds, cpuUs } = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
          ops: number;
          seconds: number;
          cpuUs: number;
        };
        const key = `${w === 'threads' ? `threads x${threads}` : w}|${client}`;
        samples.set(key, [
          ...(samples.get(key) ?? []),
          { opsPerSec: ops / seconds, cpuUsPerOp: cpuUs / ops },
        ]);
      }
    }
  }
} finally {
  await server.stop();
}

const rows: Record<string, string | number>[] = [];
const json: Record<string, unknown>[] = [];
const names = [...new Set([...samples.keys()].map((k) => k.split('|')[0]))];
for (const w of names) {
  const get = (c: ClientName) => {
    const s = samples.get(`${w}|${c}`) ?? [];
    return { ops: median(s.map((x) => x.opsPerSec)), cpu: median(s.map((x) => x.cpuUsPerOp)) };
  };
  const nr = get('node-redis');
  const io = get('ioredis');
  for (const c of clients) {
    const r = get(c);
    rows.push({
      workload: w,
      client: c,
      'ops/s': Math.round(r.ops),
      'cpu µs/op': Number(r.cpu.toFixed(2)),
      'x node-redis': Number((r.ops / nr.ops).toFixed(2)),
      'x ioredis': Number((r.ops / io.ops).toFixed(2)),
      'cpu x node-redis': Number((r.cpu / nr.cpu).toFixed(2)),
    });
    json.push({ workload: w, client: c, opsPerSec: r.ops, cpuUsPerOp: r.cpu });
  }
}

const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `node ${process.version} | ${cpus()[0]?.model ?? 'cpu?'} x${availableParallelism()} | ${redisVersion}`,
);
console.log(`medians of ${reps} interleaved repetitions, each client in its own process`);
console.table(rows);
console.log(
  JSON.stringify({
    bench: 'client',
    node: process.version,
    cpu: cpus()[0]?.model,
    reps,
    results: json,
  }),
);
