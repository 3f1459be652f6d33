/**
 * Redis Functions benchmark: each cy_* function against its naive multi-round-trip equivalent
 * (the same commands sent one by one, without atomicity), the ScriptHelper EVALSHA version where
 * one exists, and lock acquire+release against `redlock` (4.2.0 over ioredis with
 * auto-pipelining) on one Redis. Every measurement runs in its own process (this file re-run
 * with --run), on a private redis-server; repetitions are interleaved (the variant order
 * rotates), each with a warm-up; medians. Prints a table of ops/s at 1 and 16 concurrent
 * loops with the ratios, and one JSON line with the Node version, CPU and Redis version.
 *
 *   node dist/bench/functions.js [--reps 3] [--ms 400] [--only locks,rate-sw]
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RedisFunctions } from '../functions/index.js';
import { ScriptHelper } from '../lua/index.js';
import { HighPerformanceRedis } from '../runtime/client/index.js';
import { startRedis } from '../test/support/redis-server.js';

type Op = (loop: number, i: number) => Promise<unknown>;
interface Ctx {
  redis: HighPerformanceRedis;
  fx: RedisFunctions;
  scripts: ScriptHelper;
  port: number;
  /** Unique per process, so repetitions never see each other's keys. */
  p: string;
}
type Variant = 'function' | 'naive' | 'script' | 'redlock';
interface Case {
  name: string;
  /** Round trips of the naive version, for the table. */
  naiveRtt: string;
  variants: Partial<Record<Variant, (ctx: Ctx) => Promise<Op> | Op>>;
}

const BIG = 1_000_000_000; // limits no benchmark reaches: every call is admitted

// ---- the naive equivalents: what an application writes without scripts ----

async function naiveLockAcquire(
  r: HighPerformanceRedis,
  key: string,
  owner: string,
): Promise<number> {
  const holder = await r.call('HGET', key, 'owner');
  if (holder !== null && holder !== owner) return 0;
  const token = (await r.call('INCR', `${key}:fence`)) as number;
  await r.call('HSET', key, 'owner', owner, 'token', token, 'count', 1);
  await r.call('PEXPIRE', key, 10_000);
  return token;
}

async function naiveLockRelease(
  r: HighPerformanceRedis,
  key: string,
  owner: string,
): Promise<void> {
  if ((await r.call('HGET', key, 'owner')) !== owner) return;
  if (((await r.call('HINCRBY', key, 'count', -1)) as number) > 0) return;
  await r.call('DEL', key);
}

const cases: Case[] = [
  {
    name: 'locks: acquire+release',
    naiveRtt: '7',
    variants: {
      function:
        ({ fx, p }) =>
        async (loop) => {
          await fx.locks.acquire(`${p}l${loop}`, 'o', 10_000);
          await fx.locks.release(`${p}l${loop}`, 'o');
        },
      naive:
        ({ redis, p }) =>
        async (loop) => {
          await naiveLockAcquire(redis, `${p}nl${loop}`, 'o');
          await naiveLockRelease(redis, `${p}nl${loop}`, 'o');
        },
      script:
        ({ scripts, p }) =>
        async (loop) => {
          await scripts.acquireLock(`${p}sl${loop}`, 'o', 10_000);
          await scripts.releaseLock(`${p}sl${loop}`, 'o');
        },
      redlock: async ({ port, p }) => {
        const { Redis } = await import('ioredis');
        const io = new Redis({ port, enableAutoPipelining: true });
        const Redlock = createRequire(import.meta.url)('redlock') as new (
          clients: unknown[],
          o: object,
        ) => { lock(resource: string, ttl: number): Promise<{ unlock(): Promise<unknown> }> };
        const redlock = new Redlock([io], { retryCount: 0 });
        return async (loop) => {
          const lock = await redlock.lock(`${p}rl${loop}`, 10_000);
          await lock.unlock();
        };
      },
    },
  },
  {
    name: 'rate: sliding window',
    naiveRtt: '4',
    variants: {
      function:
        ({ fx, p }) =>
        (loop) =>
          fx.rate.slidingWindow(`${p}sw${loop}`, { limit: BIG, windowMs: 1000 }),
      naive:
        ({ redis, p }) =>
        async (loop, i) => {
          const key = `${p}nsw${loop}`;
          const now = Date.now();
          await redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 1000);
          if (((await redis.call('ZCARD', key)) as number) >= BIG) return;
          await redis.call('ZADD', key, now, `${now}-${i}`);
          await redis.call('PEXPIRE', key, 1000);
        },
      script:
        ({ scripts, p }) =>
        (loop) =>
          scripts.rateLimitSlidingWindow(`${p}ssw${loop}`, BIG, 1),
    },
  },
  {
    name: 'rate: token bucket',
    naiveRtt: '3',
    variants: {
      function:
        ({ fx, p }) =>
        (loop) =>
          fx.rate.tokenBucket(`${p}tb${loop}`, { capacity: BIG, refillRatePerMs: 1000 }),
      naive:
        ({ redis, p }) =>
        async (loop) => {
          const key = `${p}ntb${loop}`;
          const now = Date.now();
          const [tokens, ts] = (await redis.call('HMGET', key, 'tokens', 'ts')) as (
            string | null
          )[];
          const have =
            tokens === null ? BIG : Math.min(BIG, Number(tokens) + (now - Number(ts)) * 1000);
          if (have < 1) return;
          await redis.call('HSET', key, 'tokens', have - 1, 'ts', now);
          await redis.call('PEXPIRE', key, 1000);
        },
      script:
        ({ scripts, p }) =>
        (loop) =>
          scripts.rateLimitTokenBucket(`${p}stb${loop}`, BIG, 1e6),
    },
  },
  {
    name: 'queue: enqueue+pull+ack',
    naiveRtt: '14',
    variants: {
      function:
        ({ fx, p }) =>
        async (loop, i) => {
          const q = `${p}q${loop}`;
          await fx.queue.enqueue(q, `m${i}`, 'payload');
          const [m] = await fx.queue.pull(q, { visibilityMs: 30_000 });
          await fx.queue.ack(q, m.id, m.receipt);
        },
      naive:
        ({ redis, p }) =>
        async (loop, i) => {
          const q = `cy:nq:{${p}${loop}}:`;
          const id = `m${i}`;
          // enqueue: dedup, payload, meta, order
          if (((await redis.call('HSETNX', `${q}msg`, id, 'payload')) as number) === 0) return;
          await redis.call('HSET', `${q}meta`, `${id}:a`, 0, `${id}:p`, 0);
          const seq = (await redis.call('INCR', `${q}seq`)) as number;
          await redis.call('ZADD', `${q}ready`, seq, id);
          // pull: due delayed, expired in-flight, pop, count the attempt, hide, read
          const now = Date.now();
          await redis.call('ZRANGEBYSCORE', `${q}delayed`, '-inf', now, 'LIMIT', 0, 1000);
          await redis.call('ZRANGEBYSCORE', `${q}inflight`, '-inf', now, 'LIMIT', 0, 1000);
          const [next] = (await redis.call('ZRANGE', `${q}ready`, 0, 0)) as string[];
          await redis.call('ZREM', `${q}ready`, next);
          await redis.call('HINCRBY', `${q}meta`, `${next}:a`, 1);
          await redis.call('ZADD', `${q}inflight`, now + 30_000, next);
          await redis.call('HGET', `${q}msg`, next);
          // ack: remove everywhere
          await redis.call('ZREM', `${q}inflight`, next);
          await redis.call('HDEL', `${q}msg`, next);
          await redis.call('HDEL', `${q}meta`, `${next}:a`, `${next}:p`);
        },
    },
  },
  {
    name: 'sema: acquire+release',
    naiveRtt: '8',
    variants: {
      function:
        ({ fx, p }) =>
        async (loop) => {
          await fx.sema.acquire(`${p}s${loop}`, 'h', 1, 10_000, { limit: 10 });
          await fx.sema.release(`${p}s${loop}`, 'h');
        },
      naive:
        ({ redis, p }) =>
        async (loop) => {
          const z = `cy:nsema:{${p}${loop}}`;
          const h = `${z}:permits`;
          const now = Date.now();
          await redis.call('ZREMRANGEBYSCORE', z, '-inf', now);
          const holders = (await redis.call('ZRANGE', z, 0, -1)) as string[];
          if (holders.length > 0) await redis.call('HMGET', h, ...holders);
          await redis.call('HINCRBY', h, 'h', 1);
          await redis.call('ZADD', z, now + 10_000, 'h');
          await redis.call('PEXPIRE', z, 10_000);
          await redis.call('ZREM', z, 'h');
          await redis.call('HDEL', h, 'h');
        },
    },
  },
  {
    name: 'streamq: enqueue',
    naiveRtt: '3',
    variants: {
      function:
        ({ fx, p }) =>
        (loop, i) =>
          fx.streamq.enqueue(`${p}sq${loop}`, `b${i}`, 'payload', { maxLen: 10_000 }),
      naive:
        ({ redis, p }) =>
        async (loop, i) => {
          const q = `cy:nsq:{${p}${loop}}:`;
          if ((await redis.call('ZSCORE', `${q}dedup`, `b${i}`)) !== null) return;
          await redis.call(
            'XADD',
            `${q}stream`,
            'MAXLEN',
            '~',
            10_000,
            '*',
            'bid',
            `b${i}`,
            'payload',
            'payload',
          );
          await redis.call('ZADD', `${q}dedup`, Date.now(), `b${i}`);
        },
    },
  },
  {
    name: 'streamq: enqueue+read+ack',
    naiveRtt: '6',
    variants: {
      function:
        ({ fx, p }) =>
        async (loop, i) => {
          const q = `${p}sqa${loop}`;
          await fx.streamq.enqueue(q, `b${i}`, 'payload');
          const [m] = await fx.streamq.read(q, 'cy', `c${loop}`, { count: 1 });
          await fx.streamq.ack(q, 'cy', m);
        },
      naive: ({ redis, p }) => {
        const groups = new Set<number>();
        return async (loop, i) => {
          const q = `cy:nsqa:{${p}${loop}}:`;
          if (!groups.has(loop)) {
            groups.add(loop);
            await redis.call('XGROUP', 'CREATE', `${q}stream`, 'cy', '0', 'MKSTREAM');
          }
          if ((await redis.call('ZSCORE', `${q}dedup`, `b${i}`)) !== null) return;
          await redis.call('XADD', `${q}stream`, '*', 'bid', `b${i}`, 'payload', 'payload');
          await redis.call('ZADD', `${q}dedup`, Date.now(), `b${i}`);
          const r = (await redis.call(
            'XREADGROUP',
            'GROUP',
            'cy',
            `c${loop}`,
            'COUNT',
            1,
            'STREAMS',
            `${q}stream`,
            '>',
          )) as unknown;
          const entries = Array.isArray(r)
            ? ((r[0] as unknown[])[1] as [string, unknown][])
            : Object.values(r as Record<string, [string, unknown][]>)[0];
          await redis.call('XACK', `${q}stream`, 'cy', entries[0][0]);
          await redis.call('ZADD', `${q}done`, 'NX', Date.now(), `b${i}`);
        };
      },
    },
  },
  {
    name: 'cache: getOrSetJson (miss)',
    naiveRtt: '2',
    variants: {
      function:
        ({ fx, p }) =>
        (loop, i) =>
          fx.cache.getOrSetJson(`${p}c${loop}:${i}`, { i }, 2000),
      naive:
        ({ redis, p }) =>
        async (loop, i) => {
          const key = `${p}nc${loop}:${i}`;
          if ((await redis.call('GET', key)) === null)
            await redis.call('SET', key, JSON.stringify({ i }), 'PX', 2000);
        },
    },
  },
  {
    name: 'atomic: cas',
    naiveRtt: '2',
    variants: {
      // Each loop swaps its own key from the value it last set to the next one.
      function: ({ fx, p }) => {
        const last = new Map<number, string>();
        return async (loop, i) => {
          if (await fx.atomic.cas(`${p}cas${loop}`, last.get(loop) ?? null, String(i)))
            last.set(loop, String(i));
        };
      },
      naive: ({ redis, p }) => {
        const last = new Map<number, string>();
        return async (loop, i) => {
          const key = `${p}ncas${loop}`;
          if ((await redis.call('GET', key)) !== (last.get(loop) ?? null)) return;
          await redis.call('SET', key, String(i));
          last.set(loop, String(i));
        };
      },
    },
  },
  {
    name: 'atomic: incrWithTtl',
    naiveRtt: '2',
    variants: {
      function:
        ({ fx, p }) =>
        (loop) =>
          fx.atomic.incrWithTtl(`${p}inc${loop}`, 1, 60_000, BIG),
      naive:
        ({ redis, p }) =>
        async (loop) => {
          const key = `${p}ninc${loop}`;
          await redis.call('INCRBY', key, 1);
          if ((await redis.call('PTTL', key)) === -1) await redis.call('PEXPIRE', key, 60_000);
        },
    },
  },
  {
    name: 'tokens: ksortable',
    naiveRtt: '3',
    variants: {
      function:
        ({ fx, p }) =>
        (loop) =>
          fx.tokens.ksortable(`${p}k${loop}`),
      naive:
        ({ redis, p }) =>
        async (loop) => {
          const key = `${p}nk${loop}`;
          const [s, us] = (await redis.call('TIME')) as string[];
          const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
          const [ms, seq] = (await redis.call('HMGET', key, 'ms', 'seq')) as (string | null)[];
          const next = ms !== null && now <= Number(ms) ? [Number(ms), Number(seq) + 1] : [now, 0];
          await redis.call('HSET', key, 'ms', next[0], 'seq', next[1]);
        },
    },
  },
];

const CONCURRENCY = [1, 16];

// ---- one measurement, in its own process ----

async function runOne(caseName: string, variant: Variant, port: number, ms: number): Promise<void> {
  const c = cases.find((x) => x.name === caseName)!;
  const redis = new HighPerformanceRedis({ port });
  await redis.connect();
  const fx = new RedisFunctions(redis);
  await fx.loadAllLibraries();
  const ctx: Ctx = { redis, fx, scripts: new ScriptHelper(redis), port, p: `b${process.pid}:` };
  const op = await c.variants[variant]!(ctx);
  const out: { c: number; opsPerSec: number; cpuUsPerOp: number }[] = [];
  for (const conc of CONCURRENCY) {
    await measure(op, conc, Math.min(200, ms / 2)); // warm-up: JIT, scripts cached
    const r = await measure(op, conc, ms);
    out.push({ c: conc, opsPerSec: r.ops / r.seconds, cpuUsPerOp: r.cpuUs / r.ops });
  }
  console.log(JSON.stringify(out));
  await redis.close();
  process.exit(0); // ioredis keeps the process alive
}

/** Each measurement numbers its ops from a fresh range, so ids (dedup, queue) never repeat. */
let nextRange = 0;

async function measure(
  op: Op,
  conc: number,
  ms: number,
): Promise<{ ops: number; seconds: number; cpuUs: number }> {
  const offset = (nextRange += 10_000_000);
  let ops = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + ms;
  await Promise.all(
    Array.from({ length: conc }, async (_, loop) => {
      for (let i = offset; performance.now() < deadline; i++) {
        await op(loop, i);
        ops++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ops, seconds, cpuUs: cpu.user + cpu.system };
}

// ---- the driver ----

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function drive(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(name);
    return i === -1 ? def : Number(args[i + 1]) || def;
  };
  const reps = Math.max(3, opt('--reps', 3));
  const ms = opt('--ms', 400);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
  const selected = cases.filter((c) => !only || only.some((o) => c.name.includes(o)));

  const server = await startRedis('plain');
  const self = fileURLToPath(import.meta.url);
  const samples = new Map<string, { opsPerSec: number; cpuUsPerOp: number }[]>();
  let redisVersion = '';
  try {
    const info = spawnSync('redis-cli', ['-p', String(server.port), 'INFO', 'server'], {
      encoding: 'utf8',
    });
    redisVersion = /redis_version:(\S+)/.exec(info.stdout)?.[1] ?? '';
    for (let rep = 0; rep < reps; rep++) {
      for (const c of selected) {
        const variants = Object.keys(c.variants) as Variant[];
        // Rotate the order each repetition so no variant always runs first.
        const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
        for (const v of order) {
          const res = spawnSync(
            process.execPath,
            [self, '--run', c.name, v, String(server.port), String(ms)],
            { encoding: 'utf8', timeout: 120_000 },
          );
          if (res.status !== 0)
            throw new Error(`${c.name} / ${v}: ${res.stderr || String(res.error)}`);
          const rows = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
            c: number;
            opsPerSec: number;
            cpuUsPerOp: number;
          }[];
          for (const r of rows) {
            const key = `${c.name}|${v}|${r.c}`;
            samples.set(key, [...(samples.get(key) ?? []), r]);
          }
        }
        await server.restart(); // a clean server (memory, keys) for the next case
      }
    }
  } finally {
    await server.stop();
  }

  const ops = (name: string, v: Variant, conc: number): number =>
    median((samples.get(`${name}|${v}|${conc}`) ?? []).map((s) => s.opsPerSec));
  const spread = (name: string, v: Variant, conc: number): number => {
    const xs = (samples.get(`${name}|${v}|${conc}`) ?? []).map((s) => s.opsPerSec);
    return xs.length ? (Math.max(...xs) - Math.min(...xs)) / median(xs) : NaN;
  };
  const ratio = (a: number, b: number): string => (b > 0 && a > 0 ? `${(a / b).toFixed(2)}x` : '');
  const table: Record<string, string | number>[] = [];
  const json: Record<string, unknown>[] = [];
  for (const c of selected) {
    for (const v of Object.keys(c.variants) as Variant[]) {
      const [c1, c16] = CONCURRENCY.map((n) => ops(c.name, v, n)) as [number, number];
      const row: Record<string, string | number> = {
        case: c.name,
        variant: v === 'naive' ? `naive (${c.naiveRtt} RTT)` : v,
        'ops/s c=1': Math.round(c1),
        'ops/s c=16': Math.round(c16),
        'spread c=1': `±${((spread(c.name, v, 1) * 100) / 2).toFixed(0)}%`,
        'spread c=16': `±${((spread(c.name, v, 16) * 100) / 2).toFixed(0)}%`,
        'vs naive c=1': v === 'naive' ? '' : ratio(c1, ops(c.name, 'naive', 1)),
        'vs naive c=16': v === 'naive' ? '' : ratio(c16, ops(c.name, 'naive', 16)),
      };
      if (c.variants.redlock)
        row['vs redlock c=1 / c=16'] =
          v === 'redlock'
            ? ''
            : `${ratio(c1, ops(c.name, 'redlock', 1))} / ${ratio(c16, ops(c.name, 'redlock', 16))}`;
      table.push(row);
      json.push({ case: c.name, variant: v, opsPerSec: { c1, c16 } });
    }
  }
  console.table(table);
  console.log(
    JSON.stringify({
      bench: 'functions',
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      redis: redisVersion,
      reps,
      ms,
      results: json,
    }),
  );
}

if (process.argv[2] === '--run') {
  const [, , , name, variant, port, ms] = process.argv;
  await runOne(name, variant as Variant, Number(port), Number(ms));
} else {
  await drive();
}
