/** Helpers for the actor tests: fast supervisors on fixture actors, waiting, running the CLI. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { Supervisor } from '../../runtime/actor/index.js';
import type { PlacementHost } from '../../runtime/actor/placement.js';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import type {
  ActorConfig,
  CyredisConfig,
  GroupConfig,
  SupervisorOptions,
} from '../../runtime/actor/index.js';
import { PACKAGE_ROOT } from '../../runtime/paths.js';
import { sharedRedis } from '../support/redis-server.js';

// A hung test file would hold up the whole run (the runner waits 5 minutes): fail it sooner.
const FILE_TIMEOUT_MS = 90_000;
setTimeout(() => {
  console.error(`actor test file still running after ${FILE_TIMEOUT_MS} ms: giving up`);
  process.exit(1);
}, FILE_TIMEOUT_MS).unref();

export const PROBE = new URL('./fixtures/probe.js', import.meta.url).href;
export const SINGLETON = new URL('./fixtures/singleton.js', import.meta.url).href;
export const LEADER = new URL('./fixtures/leader.js', import.meta.url).href;
export const SLOW_LOAD = new URL('./fixtures/slow-load.js', import.meta.url).href;
export const JOBS = new URL('./fixtures/jobs.js', import.meta.url).href;
export const CLI = join(PACKAGE_ROOT, 'bin', 'cyredis.mjs');

/** Short timings so failures are detected and restarts happen within test budgets. */
export const FAST: Partial<CyredisConfig> = {
  threads: 2,
  heartbeatMs: 50,
  unresponsiveMs: 1500,
  shutdownTimeoutMs: 3000,
  callTimeoutMs: 5000,
  supervision: { maxRestarts: 10, withinMs: 5000, backoff: { minMs: 5, maxMs: 50, jitter: 0 } },
};

export function probe(name: string, more: Partial<ActorConfig> = {}): ActorConfig {
  return { name, module: PROBE, ...more };
}

const running = new Set<Supervisor>();

export function supervisor(
  actors: (ActorConfig | GroupConfig)[],
  more: Partial<CyredisConfig> = {},
  options: SupervisorOptions = {},
): Supervisor {
  const sup = new Supervisor({ ...FAST, ...more, actors }, { logger: null, ...options });
  running.add(sup);
  return sup;
}

/** Stops every supervisor a test left running (call from test.after.each). */
export async function stopAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((s) => s.stop({ timeoutMs: 500 }).catch(() => {})));
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function redisUrl(): Promise<string> {
  return (await sharedRedis()).url;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `cyredis` process; `result` settles when it exits. */
export interface CliProcess {
  child: ChildProcess;
  result: Promise<CliResult>;
  /** Resolves once stdout+stderr match `re`. */
  waitOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  output(): string;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return startNode(CLI, args, env);
}

/** Runs a Node script (the CLI, or a test app) with its output collected. */
export function startNode(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): CliProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  const notify = (): void => watchers.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), notify()));
  child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), notify()));
  const result = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    result,
    output: () => stdout + stderr,
    waitOutput(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no output matching ${re} within ${timeoutMs} ms:\n${stdout}${stderr}`),
            ),
          timeoutMs,
        );
        const check = (): void => {
          if (re.test(stdout + stderr)) {
            clearTimeout(timer);
            resolve();
          }
        };
        watchers.push(check);
        void result.then(() => {
          check();
          clearTimeout(timer);
          if (!re.test(stdout + stderr))
            reject(new Error(`exited without output matching ${re}:\n${stdout}${stderr}`));
        });
        check();
      });
    },
  };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).result;
}

/** A temporary folder with files written into it. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(process.env.CYREDIS_TEST_TMP ?? '/tmp', 'actor-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/**
 * A TCP proxy to Redis whose traffic can be frozen (held, not dropped; delivered on thaw): a
 * network partition. Connections are numbered in the order they were accepted; `freeze` may
 * spare some (a supervisor's main connection is its first, its threads' come later), and
 * freezes every connection accepted while frozen.
 */
export async function freezableProxy(host: string, port: number) {
  let frozen = false;
  let spared = new Set<number>();
  const held: [Socket, Buffer][] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  let sent = 0;
  const server = createServer((client) => {
    const n = accepted++;
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (to: Socket) => (data: Buffer) => {
      if (to === upstream) sent += data.length;
      if (frozen && !spared.has(n)) held.push([to, data]);
      else to.write(data);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    /** How many connections were accepted so far. */
    get connections() {
      return accepted;
    },
    /** Bytes the clients sent toward Redis so far (held ones included). */
    get sent() {
      return sent;
    },
    freeze: (except: number[] = []) => {
      spared = new Set(except);
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const [to, data] of held.splice(0)) to.write(data);
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Rejects when `p` has not settled within `ms` (a hang is a failure, not a stuck run). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A namespace from a test key prefix (no colons: it goes inside a hash tag). */
export const nsOf = (prefix: string): string => prefix.replace(/:$/, '').replace(/:/g, '-');

export const list = async (redis: HighPerformanceRedis, key: string): Promise<string[]> =>
  ((await redis.call('LRANGE', key, '0', '-1')) as unknown[]).map(String);

/** Fails if a lower token ticked after a higher one: two holders' code ran at once. */
export function assertNeverTwo(ticks: string[]): void {
  const tokens = ticks.map(Number);
  for (let i = 1; i < tokens.length; i++)
    assert.ok(
      tokens[i] >= tokens[i - 1],
      `token ${tokens[i]} ticked after ${tokens[i - 1]}: two holders at once (${tokens.join(' ')})`,
    );
}

/** A Placement host for tests that drive a Placement directly: `more` overrides. */
export function placementHost(more: Partial<PlacementHost> = {}): PlacementHost {
  return {
    activate: () => Promise.resolve(),
    deactivate: () => Promise.resolve(),
    snapshot: () =>
      Promise.resolve({
        id: 'p',
        file: 'x',
        startedAt: 0,
        state: 'running',
        threads: 1,
        actors: [],
      }),
    log: () => {},
    ...more,
  };
}
