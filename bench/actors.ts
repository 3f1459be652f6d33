/**
 * Actor benchmark: messages/s actor-to-actor within one worker thread and across two, and the
 * round-trip latency of ctx.call across threads (p50/p99), against plain worker_threads
 * postMessage (one message per postMessage over a MessageChannel) as the baseline, with the
 * ratio. Each run is its own process; runs are interleaved (rotating order), at least three
 * repetitions, medians. Prints a console.table and one JSON line.
 *
 *   node dist/bench/actors.js [--reps 3] [--n 200000] [--pings 5000]
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : Number(args[i + 1]) || def;
};
const reps = Math.max(3, flag('reps', 3));
const n = flag('n', 200_000);
const pings = flag('pings', 5000);
const worker = fileURLToPath(new URL('./actors-worker.js', import.meta.url));

type Impl = 'cyredis' | 'raw';
type Scenario = 'local' | 'cross' | 'roundtrip';
const impls: Impl[] = ['cyredis', 'raw'];
const scenarios: Scenario[] = ['local', 'cross', 'roundtrip'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Sample {
  rate?: number;
  p50?: number;
  p99?: number;
}
const samples = new Map<string, Sample[]>();

for (let rep = 0; rep < reps; rep++) {
  for (const scenario of scenarios) {
    const order = rep % 2 ? [...impls].reverse() : impls;
    for (const impl of order) {
      const count = scenario === 'roundtrip' ? pings : n;
      const res = spawnSync(process.execPath, [worker, impl, scenario, String(count)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (res.status !== 0)
        throw new Error(`${impl} ${scenario}: ${res.stderr || String(res.error)}`);
      const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
        seconds?: number;
        count?: number;
        totalUs?: number;
        p50Us?: number;
        p99Us?: number;
      };
      const s: Sample =
        out.seconds !== undefined
          ? { rate: count / out.seconds }
          : { p50: out.p50Us!, p99: out.p99Us!, rate: out.count! / (out.totalUs! / 1e6) };
      const key = `${scenario}|${impl}`;
      samples.set(key, [...(samples.get(key) ?? []), s]);
    }
  }
}

const label: Record<Scenario, string> = {
  local: 'actor→actor, same thread',
  cross: 'actor→actor, across threads',
  roundtrip: 'call round trip, across threads',
};
const rows: Record<string, string | number>[] = [];
const json: Record<string, unknown>[] = [];
for (const scenario of scenarios) {
  const get = (impl: Impl) => {
    const s = samples.get(`${scenario}|${impl}`)!;
    return {
      rate: median(s.map((x) => x.rate!)),
      p50: scenario === 'roundtrip' ? median(s.map((x) => x.p50!)) : null,
      p99: scenario === 'roundtrip' ? median(s.map((x) => x.p99!)) : null,
    };
  };
  const base = get('raw');
  for (const impl of impls) {
    const r = get(impl);
    rows.push({
      scenario: label[scenario],
      impl: impl === 'raw' ? 'worker_threads postMessage' : 'cyredis actors',
      'msgs/s': Math.round(r.rate),
      'p50 µs': r.p50 === null ? '' : Number(r.p50.toFixed(1)),
      'p99 µs': r.p99 === null ? '' : Number(r.p99.toFixed(1)),
      'x baseline': Number((r.rate / base.rate).toFixed(2)),
    });
    json.push({
      scenario,
      impl,
      msgsPerSec: r.rate,
      p50Us: r.p50,
      p99Us: r.p99,
      ratio: r.rate / base.rate,
    });
  }
}

console.log(
  `node ${process.version} | ${cpus()[0]?.model ?? 'cpu?'} x${availableParallelism()} | n=${n} pings=${pings}`,
);
console.log(`medians of ${reps} interleaved repetitions, each run in its own process`);
console.table(rows);
console.log(
  JSON.stringify({
    bench: 'actors',
    node: process.version,
    cpu: cpus()[0]?.model,
    reps,
    n,
    pings,
    results: json,
  }),
);
