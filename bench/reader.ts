/**
 * Reader throughput: the native reader (hiredis), the TypeScript reader and redis-parser
 * (node-redis's RESP2 parser) on the same byte streams, fed in 64 KiB slices as a socket
 * delivers them. One row per workload and reader: median replies/s and MB/s (10^6 bytes/s)
 * over interleaved repetitions after a warm-up, the spread, and the ratio to redis-parser.
 *
 *   node dist/bench/reader.js [--reps=5] [--only=mixed] [--readers=native,ts]
 *
 * redis-parser reads RESP2 only: rows marked RESP3 (maps) compare native and TS only.
 */
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RespReader, native } from '../runtime/protocol/index.js';
import { RedisParser } from './support/redis-parser.js';

type ReaderName = 'native' | 'ts' | 'redis-parser';

interface Workload {
  name: string;
  resp3: boolean; // uses RESP3 types, so redis-parser cannot read it
  bytes: Buffer;
  replies: number;
}

const CHUNK = 64 * 1024;
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    return [k, v];
  }),
);
const REPS = Math.max(3, Number(args.get('reps') ?? 5));
const WARMUP = 2;

// --- corpora: what Redis sends for common commands -----------------------------------------

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** GET/SET-style replies: short bulks and +OK. */
const smallString = (i: number): string => (i % 2 ? '+OK\r\n' : bulk(`value:${i % 10007}`));
/** INCR-style replies, some past 32 bits. */
const integer = (i: number): string => `:${i % 3 ? (i * 7919) % 1000003 : 1e12 + i}\r\n`;
/** LRANGE of 100 short members. */
const array100 = (i: number): string => {
  let s = '*100\r\n';
  for (let j = 0; j < 100; j++) s += bulk(`member:${i}:${j}`);
  return s;
};
const BIG = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2845).slice(0, 100 * 1024);
/** GET of a 100 KiB value. */
const bulk100k = (): string => bulk(BIG);
/** HGETALL of 10 fields: a RESP3 map, or the flat array RESP2 sends. */
const hash10 = (i: number, resp3: boolean): string => {
  let s = resp3 ? '%10\r\n' : '*20\r\n';
  for (let j = 0; j < 10; j++) s += bulk(`field${j}`) + bulk(`v${i}:${j}`);
  return s;
};

function workload(
  name: string,
  resp3: boolean,
  count: number,
  make: (i: number) => string,
): Workload {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(make(i));
  return { name, resp3, bytes: Buffer.from(parts.join('')), replies: count };
}

/** 50 small strings, 30 integers, 10 arrays of 100, 10 hashes and one 100 KiB bulk per cycle. */
function mixed(resp3: boolean, cycles: number): Workload {
  const parts: string[] = [];
  let replies = 0;
  for (let c = 0; c < cycles; c++) {
    for (let i = 0; i < 101; i++) {
      const k = c * 101 + i;
      if (i < 50) parts.push(smallString(k));
      else if (i < 80) parts.push(integer(k));
      else if (i < 90) parts.push(array100(k));
      else if (i < 100) parts.push(hash10(k, resp3));
      else parts.push(bulk100k());
      replies++;
    }
  }
  return {
    name: `mixed (${resp3 ? 'RESP3 maps' : 'RESP2'})`,
    resp3,
    bytes: Buffer.from(parts.join('')),
    replies,
  };
}

const WORKLOADS: Workload[] = [
  mixed(false, 60),
  mixed(true, 60),
  workload('small strings', false, 200_000, smallString),
  workload('integers', false, 200_000, integer),
  workload('arrays of 100', false, 2_000, array100),
  workload('100 KiB bulks', false, 400, bulk100k),
  workload('hashes as RESP2 arrays', false, 20_000, (i) => hash10(i, false)),
  workload('RESP3 maps', true, 20_000, (i) => hash10(i, true)),
].filter((w) => !args.has('only') || w.name.includes(args.get('only')!));

// --- measurement ---------------------------------------------------------------------------

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function slices(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) out.push(bytes.subarray(i, i + CHUNK));
  return out;
}

/** Feeds every slice to a fresh reader; returns the elapsed nanoseconds. */
function runOnce(reader: ReaderName, w: Workload, chunks: Buffer[]): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  if (reader === 'redis-parser') {
    const parser = new RedisParser({
      returnReply: () => n++,
      returnError: () => n++,
      returnFatalError: (err) => {
        throw err;
      },
    });
    for (const chunk of chunks) parser.execute(chunk);
  } else {
    const r = new RespReader({ implementation: reader });
    for (const chunk of chunks) n += r.feed(chunk).length;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (n !== w.replies)
    throw new Error(`${reader} read ${n} replies of ${w.name}, not ${w.replies}`);
  return ns;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Result {
  workload: string;
  reader: ReaderName;
  replies: number;
  bytes: number;
  medianMs: number;
  opsPerSec: number;
  mbPerSec: number;
  spreadPct: number; // (max - min) / median
  samplesMs: number[];
}

const available: ReaderName[] = [...(native ? (['native'] as const) : []), 'ts', 'redis-parser'];
const chosen = args.has('readers')
  ? available.filter((r) => args.get('readers')!.split(',').includes(r))
  : available;

const results: Result[] = [];
for (const w of WORKLOADS) {
  const readers = chosen.filter((r) => !(w.resp3 && r === 'redis-parser'));
  const chunks = slices(w.bytes);
  const samples = new Map<ReaderName, number[]>(readers.map((r) => [r, []]));
  for (let rep = -WARMUP; rep < REPS; rep++) {
    // Interleaved, and rotated so that no reader always runs right after another.
    const order = readers.map((_, i) => readers[(i + Math.max(rep, 0)) % readers.length]);
    for (const reader of order) {
      gc();
      const ns = runOnce(reader, w, chunks);
      if (rep >= 0) samples.get(reader)!.push(ns / 1e6);
    }
  }
  for (const [reader, ms] of samples) {
    const med = median(ms);
    results.push({
      workload: w.name,
      reader,
      replies: w.replies,
      bytes: w.bytes.length,
      medianMs: med,
      opsPerSec: w.replies / (med / 1e3),
      mbPerSec: w.bytes.length / 1e6 / (med / 1e3),
      spreadPct: ((Math.max(...ms) - Math.min(...ms)) / med) * 100,
      samplesMs: ms,
    });
  }
}

// --- report --------------------------------------------------------------------------------

const fmt = (x: number): string =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`reader throughput: Node ${process.version}, ${cpu} (${cpus().length} cores)`);
console.log(
  `hiredis ${native?.hiredisVersion ?? '(native addon not loaded)'}; ${CHUNK / 1024} KiB slices; ` +
    `${WARMUP} warm-up + ${REPS} interleaved repetitions, medians`,
);
console.log('redis-parser reads RESP2 only: RESP3 rows compare native and TS.');
console.table(
  results.map((r) => {
    const base = results.find((x) => x.workload === r.workload && x.reader === 'redis-parser');
    return {
      workload: r.workload,
      reader: r.reader,
      'replies/s': fmt(r.opsPerSec),
      'MB/s': r.mbPerSec.toFixed(1),
      spread: `${r.spreadPct.toFixed(0)}%`,
      'vs redis-parser': base ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}x` : 'n/a (RESP3)',
    };
  }),
);
console.log(
  JSON.stringify({
    bench: 'reader',
    node: process.version,
    cpu,
    hiredis: native?.hiredisVersion ?? null,
    chunkBytes: CHUNK,
    reps: REPS,
    results,
  }),
);
