/**
 * One benchmark run in its own process: one client, one workload, a warm-up, then the
 * measured part. Prints one JSON line { ops, seconds, cpuUs }.
 *
 *   node dist/bench/client-worker.js <client> <workload> <port> [threads]
 *
 * Clients: cyredis (native transport), cyredis-ts (CYREDIS_NATIVE=0 is set by the parent),
 * ioredis (auto-pipelining on: its fastest mode), node-redis (v5+ `redis`).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { HighPerformanceRedis } from '../runtime/client/index.js';

export type ClientName = 'cyredis' | 'cyredis-ts' | 'ioredis' | 'node-redis';
export type Workload = 'seq' | 'conc' | 'burst' | 'pipe' | 'big' | 'threads';

interface Driver {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  pipeline(keys: string[]): Promise<unknown>;
  close(): Promise<unknown>;
}

async function driver(name: ClientName, port: number): Promise<Driver> {
  if (name === 'cyredis' || name === 'cyredis-ts') {
    const c = new HighPerformanceRedis({ port });
    await c.connect();
    return {
      get: (k) => c.get(k),
      set: (k, v) => c.set(k, v),
      pipeline: (keys) => {
        const p = c.pipeline();
        for (const k of keys) p.get(k);
        return p.exec();
      },
      close: () => c.close(),
    };
  }
  if (name === 'ioredis') {
    const { Redis } = await import('ioredis');
    const c = new Redis({ port, enableAutoPipelining: true, lazyConnect: true });
    await c.connect();
    return {
      get: (k) => c.get(k),
      set: (k, v) => c.set(k, v),
      pipeline: (keys) => {
        const p = c.pipeline();
        for (const k of keys) p.get(k);
        return p.exec();
      },
      close: () => c.quit(),
    };
  }
  const { createClient } = await import('redis');
  const c = createClient({ socket: { port, host: '127.0.0.1' } });
  await c.connect();
  return {
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v),
    pipeline: (keys) => {
      const m = c.multi();
      for (const k of keys) m.get(k);
      return m.execAsPipeline();
    },
    close: () => c.quit(),
  };
}

/** Counts per workload; sized so that one run takes about a second on a 2-core machine. */
export const SIZES: Record<Workload, number> = {
  seq: 20_000,
  conc: 200_000,
  burst: 200_000,
  pipe: 200_000,
  big: 6_000,
  threads: 200_000,
};

async function workload(d: Driver, w: Workload, n: number): Promise<void> {
  const key = w === 'big' ? 'bench:big' : 'bench:small';
  switch (w) {
    case 'seq':
      for (let i = 0; i < n; i++) await d.get(key);
      return;
    case 'conc':
    case 'threads':
    case 'big': {
      const inflight = w === 'big' ? 16 : 100;
      let issued = 0;
      const loop = async (): Promise<void> => {
        while (issued < n) {
          issued++;
          await d.get(key);
        }
      };
      await Promise.all(Array.from({ length: inflight }, loop));
      return;
    }
    case 'burst':
      for (let done = 0; done < n; done += 1000) {
        const batch: Promise<unknown>[] = new Array<Promise<unknown>>(1000);
        for (let i = 0; i < 1000; i++) batch[i] = d.get(key);
        await Promise.all(batch);
      }
      return;
    case 'pipe': {
      const keys = new Array<string>(1000).fill(key);
      for (let done = 0; done < n; done += 1000) await d.pipeline(keys);
      return;
    }
  }
}

async function measure(
  name: ClientName,
  w: Workload,
  port: number,
  n: number,
): Promise<{ ops: number; seconds: number; cpuUs: number }> {
  const d = await driver(name, port);
  await workload(d, w, Math.max(1, Math.floor(n / 10))); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await workload(d, w, n);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await d.close();
  return { ops: n, seconds, cpuUs: cpu.user + cpu.system };
}

if (isMainThread && process.argv[1]?.endsWith('client-worker.js')) {
  const [name, w, portText, threadsText] = process.argv.slice(2) as [
    ClientName,
    Workload,
    string,
    string?,
  ];
  const port = Number(portText);
  if (w === 'threads') {
    // N worker threads, each with its own client (and, for cyredis, its own native connection).
    const threads = Number(threadsText ?? 1);
    const per = Math.floor(SIZES.threads / threads);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { name, port, n: per },
            });
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    console.log(JSON.stringify({ ops: per * threads, seconds, cpuUs: cpu.user + cpu.system }));
  } else {
    console.log(JSON.stringify(await measure(name, w, port, SIZES[w])));
  }
} else if (!isMainThread) {
  const { name, port, n } = workerData as { name: ClientName; port: number; n: number };
  const d = await driver(name, port);
  await workload(d, 'conc', Math.floor(n / 10));
  await workload(d, 'conc', n);
  await d.close();
  parentPort!.postMessage('done');
}
