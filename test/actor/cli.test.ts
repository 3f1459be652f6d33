/**
 * The cyredis CLI as a real child process: usage and exit codes, check, run --for, a runtime
 * failure, status, and graceful shutdown on SIGTERM with messages in flight.
 *
 * "None lost", precisely: jobs live in a Redis list; the app pulls them into actor mailboxes
 * and marks each done in a hash. After SIGTERM the process must exit 0, and then every job the
 * producer enqueued is either done exactly once or still in the list (left for later): none
 * is in neither place (pulled, then dropped), none in both, none done twice.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import { testClient } from '../support/client.js';
import { freePort, keyPrefix } from '../support/redis-server.js';
import { JOBS, PROBE, redisUrl, runCli, startCli, tempDir, waitFor, within } from './helpers.js';

const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, FORCED: 130 };

function configDir(config: object): string {
  return tempDir({ 'cyredis.config.mjs': `export default ${JSON.stringify(config, null, 2)};\n` });
}

const fast = { threads: 2, heartbeatMs: 50, supervision: { backoff: { minMs: 5, jitter: 0 } } };

test('usage: help, version, unknown command or flag, bad --for', async () => {
  const help = await runCli(['--help']);
  assert.is(help.code, EXIT.OK);
  assert.match(help.stdout, /Usage: cyredis <command>/);
  assert.match(help.stdout, /Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 130/);
  const none = await runCli([]);
  assert.is(none.code, EXIT.USAGE);
  const bogus = await runCli(['bogus']);
  assert.is(bogus.code, EXIT.USAGE);
  assert.match(bogus.stderr, /unknown command "bogus"/);
  const flag = await runCli(['run', '--nope']);
  assert.is(flag.code, EXIT.USAGE);
  assert.match(flag.stderr, /Unknown option '--nope'/);
  const dur = await runCli([
    'run',
    configDir({ actors: [{ name: 'a', module: PROBE }] }),
    '--for',
    'soon',
  ]);
  assert.is(dur.code, EXIT.USAGE);
  assert.match(dur.stderr, /--for must be a duration/);
  const v = await runCli(['--version']);
  assert.is(v.code, EXIT.OK);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});

test('check: 0 for a good config, 2 naming the file and field of each problem', async () => {
  const good = configDir({
    threads: 2,
    actors: [
      { name: 'a', module: PROBE, instances: 2 },
      { name: 'e', kind: 'echo' },
    ],
  });
  const ok = await runCli(['check', good]);
  assert.is(ok.code, EXIT.OK, ok.stderr);
  assert.match(
    ok.stdout,
    /^ok: .*cyredis\.config\.mjs: 2 actor\(s\), 3 instance\(s\) on 2 thread\(s\)/,
  );
  const bad = configDir({
    actors: [
      { name: 'a', module: './missing.mjs', instances: -1 },
      { name: 'b', kind: 'nope' },
    ],
  });
  const res = await runCli(['check', bad]);
  assert.is(res.code, EXIT.USAGE);
  const file = join(bad, 'cyredis.config.mjs');
  assert.ok(
    res.stderr.includes(`${file}: actors[0].module file not found: ./missing.mjs`),
    res.stderr,
  );
  assert.ok(
    res.stderr.includes(`${file}: actors[0].instances must be an integer from 1 to 1024`),
    res.stderr,
  );
  assert.ok(
    res.stderr.includes(`${file}: actors[1].kind is not a known kind: "nope" (known: echo)`),
    res.stderr,
  );
  const noActor = tempDir({
    'cyredis.config.json': JSON.stringify({ actors: [{ name: 'a', module: './a.mjs' }] }),
    'a.mjs': 'export const notAnActor = 1;',
  });
  const res2 = await runCli(['check', noActor]);
  assert.is(res2.code, EXIT.USAGE);
  assert.match(res2.stderr, /actors\[0\]\.module .*exports no actor/);
  const missing = await runCli(['check', tempDir()]);
  assert.is(missing.code, EXIT.USAGE);
  assert.match(missing.stderr, /no config here/);
});

test('run --for: starts, runs, stops gracefully, exits 0', async () => {
  const dir = configDir({
    ...fast,
    actors: [
      { name: 'a', module: PROBE },
      { name: 'e', kind: 'echo' },
    ],
  });
  // --for counts from the launch (it also cuts a start short: the next test), and starting
  // takes up to ~1 s on a loaded 2-core machine (it took longer than the 300 ms this test once
  // had): the run must outlast the start by far for the actors to be seen started.
  const res = await runCli(['run', dir, '--for', '4s']);
  assert.is(res.code, EXIT.OK, res.stdout + res.stderr);
  assert.match(res.stdout, /started a on thread 0/);
  assert.match(res.stdout, /started e on thread 1/);
  assert.match(res.stdout, /running .*cyredis\.config\.mjs for 4s/);
  assert.match(res.stdout, /--for 4s elapsed: stopping/);
  assert.match(res.stdout, /stopped in \d+ ms/);
});

test('run --for fires while start() is still pending (an init that keeps failing): exit 0', async () => {
  const dir = configDir({
    ...fast,
    supervision: { maxRestarts: 50, withinMs: 1000, backoff: { minMs: 200, maxMs: 200 } },
    actors: [
      { name: 'ok', module: PROBE },
      { name: 'flaky', module: PROBE, options: { failInit: true } },
    ],
  });
  const app = startCli(['run', dir, '--for', '500ms']);
  try {
    const res = await within(app.result, 8000, 'cyredis run --for 500ms');
    assert.is(res.code, EXIT.OK, res.stdout + res.stderr);
    assert.match(res.stdout, /--for 500ms elapsed: stopping/);
    assert.match(res.stdout, /stopped in \d+ ms/);
  } finally {
    app.child.kill('SIGKILL');
  }
});

test('bad input is one line and exit 2: a bad --redis, a malformed REDIS_URL, a throwing or invalid config', async () => {
  const noStack = (text: string): void => assert.not.match(text, /\n\s+at /, text);
  const flag = await runCli(['status', '--redis', 'http://nope']);
  assert.is(flag.code, EXIT.USAGE, flag.stderr);
  assert.match(flag.stderr, /^cyredis: --redis: options\.url must start with redis:\/\//);
  noStack(flag.stderr);
  const env = await runCli(['status'], { REDIS_URL: 'garbage' });
  assert.is(env.code, EXIT.USAGE, env.stderr);
  assert.match(env.stderr, /^cyredis: REDIS_URL: options\.url is not a valid URL/);
  noStack(env.stderr);
  const factory = tempDir({
    'cyredis.config.mjs': `export default () => { throw new Error('REDIS_URL is not set'); };`,
  });
  const invalid = configDir({ threads: 0, actors: [{ name: 'a', module: PROBE }] });
  for (const cmd of ['check', 'run']) {
    const res = await runCli([cmd, factory]);
    assert.is(res.code, EXIT.USAGE, res.stderr);
    assert.is(
      res.stderr,
      `cyredis: invalid config: ${join(factory, 'cyredis.config.mjs')}: (file) its config function threw: REDIS_URL is not set\n`,
    );
    const bad = await runCli([cmd, invalid]);
    assert.is(bad.code, EXIT.USAGE, bad.stderr);
    assert.is(
      bad.stderr,
      `cyredis: invalid config: ${join(invalid, 'cyredis.config.mjs')}: threads must be an integer from 1 to 256\n`,
      'one line',
    );
    assert.is(bad.stdout, '');
  }
});

test('run checks actor modules first: one that exports no actor or fails to import is a config error (2), nothing starts', async () => {
  const cases: [string, string][] = [
    [
      'export const notAnActor = 1;\n',
      'actors[0].module the module exports no actor: export default defineActor({ receive(msg, ctx) { ... } })',
    ],
    ["throw new Error('boom at import');\n", 'actors[0].module boom at import'],
  ];
  for (const [source, problem] of cases) {
    const dir = tempDir({
      'cyredis.config.json': JSON.stringify({
        ...fast,
        actors: [{ name: 'a', module: './a.mjs' }],
      }),
      'a.mjs': source,
    });
    const res = await runCli(['run', dir, '--for', '5s']);
    assert.is(res.code, EXIT.USAGE, res.stdout + res.stderr);
    assert.is(
      res.stderr,
      `cyredis: invalid config: ${join(dir, 'cyredis.config.json')}: ${problem}\n`,
      'one line',
    );
    assert.is(res.stdout, '', 'nothing started');
  }
});

test('run: exit 1 when the actors cannot start, or when the supervisor gives up later', async () => {
  const never = configDir({
    ...fast,
    supervision: { maxRestarts: 1, backoff: { minMs: 1 } },
    actors: [{ name: 'a', module: PROBE, options: { failInit: true } }],
  });
  const r1 = await runCli(['run', never, '--for', '5s']);
  assert.is(r1.code, EXIT.FAILURE);
  assert.match(r1.stderr, /could not start: supervisor root failed: more than 1 restarts/);
  const later = configDir({
    ...fast,
    supervision: { maxRestarts: 2, backoff: { minMs: 1 } },
    actors: [{ name: 'a', module: PROBE, options: { throwEveryMs: 40 } }],
  });
  const r2 = await runCli(['run', later, '--for', '5s']);
  assert.is(r2.code, EXIT.FAILURE);
  assert.match(
    r2.stderr,
    /supervisor failed: supervisor root failed: more than 2 restarts .*timer failed on purpose/,
  );
});

test('run: exit 1 when the configured Redis is unreachable (registration fails)', async () => {
  const down = `redis://127.0.0.1:${await freePort()}`;
  const dir = configDir({
    ...fast,
    redis: down,
    placement: { leaseTtlMs: 400 },
    actors: [{ name: 'a', module: PROBE }],
  });
  const res = await runCli(['run', dir, '--for', '5s']);
  assert.is(res.code, EXIT.FAILURE);
  assert.match(res.stderr, /could not start: /);
});

test('status: lists running supervisors and their actors from Redis; 1 when Redis is unreachable', async () => {
  const url = await redisUrl();
  const namespace = keyPrefix('ns').replace(/:$/, '');
  const dir = configDir({
    ...fast,
    redis: url,
    namespace,
    placement: { heartbeatMs: 100 },
    actors: [{ name: 'a', module: PROBE, instances: 2 }],
  });
  const sup = startCli(['run', dir]);
  await sup.waitOutput(/running /);
  const res = await runCli(['status', '--redis', url, '--namespace', namespace, '--json']);
  assert.is(res.code, EXIT.OK, res.stderr);
  const list = JSON.parse(res.stdout) as {
    id: string;
    pid: number;
    actors: { id: string; state: string }[];
  }[];
  assert.is(list.length, 1);
  assert.is(list[0].pid, sup.child.pid);
  assert.equal(
    list[0].actors.map((a) => [a.id, a.state]),
    [
      ['a#0', 'running'],
      ['a#1', 'running'],
    ],
  );
  const text = await runCli(['status', '--redis', url, '--namespace', namespace]);
  assert.match(text.stdout, /SUPERVISOR\s+NAMESPACE\s+HOST\s+PID/);
  assert.match(text.stdout, /a#1 +\S+ +running/);
  sup.child.kill('SIGTERM');
  assert.is((await sup.result).code, EXIT.OK);
  const after = await runCli(['status', '--redis', url, '--namespace', namespace]);
  assert.match(after.stdout, /no supervisors registered/);
  const down = await runCli(['status', '--redis', `redis://127.0.0.1:${await freePort()}`]);
  assert.is(down.code, EXIT.FAILURE);
  assert.match(down.stderr, /cannot reach Redis/);
});

test('SIGTERM with messages in flight: exit 0 and none lost (done exactly once, or still queued)', async () => {
  const url = await redisUrl();
  const prefix = keyPrefix('jobs');
  const redis: HighPerformanceRedis = await testClient();
  const N = 2000;
  await redis.call('RPUSH', `${prefix}:source`, ...Array.from({ length: N }, (_, i) => `job-${i}`));
  const dir = configDir({
    ...fast,
    redis: url,
    shutdownTimeoutMs: 10_000,
    actors: [
      { name: 'puller', module: JOBS, export: 'puller', options: { prefix, batch: 20 } },
      {
        name: 'worker',
        module: JOBS,
        export: 'worker',
        instances: 2,
        mailboxSize: 50,
        options: { prefix, workMs: 1 },
      },
    ],
  });
  const app = startCli(['run', dir]);
  await app.waitOutput(/running /);
  await waitFor(
    async () => ((await redis.call('HLEN', `${prefix}:done`)) as number) >= 200,
    10_000,
    '200 jobs done',
  );
  app.child.kill('SIGTERM');
  const res = await app.result;
  assert.is(res.code, EXIT.OK, res.stdout + res.stderr);
  assert.match(res.stdout, /SIGTERM: shutting down gracefully/);
  const drained = Number(/drained (\d+) message/.exec(res.stdout)?.[1]);
  assert.ok(
    drained > 0,
    `messages were in mailboxes at SIGTERM and got handled (drained ${drained})`,
  );

  const left = ((await redis.call('LRANGE', `${prefix}:source`, '0', '-1')) as string[]).map(
    String,
  );
  const doneFlat = (await redis.call('HGETALL', `${prefix}:done`)) as unknown as
    string[] | Map<string, string> | Record<string, string>;
  const done = new Map<string, string>(
    doneFlat instanceof Map
      ? [...doneFlat].map(([k, v]) => [String(k), String(v)])
      : Array.isArray(doneFlat)
        ? Array.from(
            { length: doneFlat.length / 2 },
            (_, i) => [String(doneFlat[2 * i]), String(doneFlat[2 * i + 1])] as [string, string],
          )
        : Object.entries(doneFlat),
  );
  assert.ok(left.length > 0, 'SIGTERM came while jobs were still queued in Redis');
  assert.ok(done.size >= 200);
  const twice = [...done].filter(([, n]) => n !== '1');
  assert.equal(twice, [], 'no job handled twice');
  const both = left.filter((j) => done.has(j));
  assert.equal(both, [], 'no job both done and still queued');
  assert.is(done.size + left.length, N, `${N - done.size - left.length} job(s) lost`);
  await redis.close();
});

test('a second SIGTERM forces the exit (130) while the first drains', async () => {
  const url = await redisUrl();
  const prefix = keyPrefix('slow');
  const redis = await testClient();
  await redis.call(
    'RPUSH',
    `${prefix}:source`,
    ...Array.from({ length: 400 }, (_, i) => `job-${i}`),
  );
  const dir = configDir({
    ...fast,
    redis: url,
    shutdownTimeoutMs: 30_000,
    actors: [
      { name: 'puller', module: JOBS, export: 'puller', options: { prefix, batch: 50 } },
      {
        name: 'worker',
        module: JOBS,
        export: 'worker',
        mailboxSize: 100,
        options: { prefix, workMs: 200 },
      },
    ],
  });
  const app = startCli(['run', dir]);
  await app.waitOutput(/running /);
  await waitFor(
    async () => ((await redis.call('LLEN', `${prefix}:source`)) as number) < 400,
    5000,
    'jobs pulled',
  );
  app.child.kill('SIGTERM');
  await app.waitOutput(/shutting down gracefully/);
  const t0 = Date.now();
  app.child.kill('SIGTERM');
  const res = await app.result;
  assert.is(res.code, EXIT.FORCED);
  // At once, not after the drain (its 100 queued jobs of 200 ms take 20 s); generous for load.
  assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after the second signal`);
  assert.match(res.stderr, /SIGTERM again: exiting now/);
  await redis.close();
});

test('stopTimeoutMs 0 is no limit: the stop waits on an init that never ends, and a second SIGINT forces the exit (130)', async () => {
  const runtime = new URL('../../runtime/actor/index.js', import.meta.url).href;
  const dir = tempDir({
    'cyredis.config.json': JSON.stringify({
      ...fast,
      shutdownTimeoutMs: 200,
      actors: [{ name: 'stuck', module: './stuck.mjs', initTimeoutMs: 0, stopTimeoutMs: 0 }],
    }),
    'stuck.mjs': `import { defineActor } from '${runtime}';
export default defineActor({
  async init(ctx) {
    ctx.log.info('init begins, never to end');
    await new Promise(() => {});
  },
  receive: () => undefined,
});
`,
  });
  const app = startCli(['run', dir]);
  try {
    await app.waitOutput(/init begins, never to end/);
    app.child.kill('SIGINT');
    await app.waitOutput(/SIGINT: shutting down gracefully/);
    await app.waitOutput(/stopTimeoutMs is 0 \(no limit\) for stuck: this stop waits/);
    // Well past the drain (200 ms) and what a bounded stop would take: still waiting, as chosen.
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(app.child.exitCode, null, `still stopping:\n${app.output()}`);
    app.child.kill('SIGINT');
    const res = await within(app.result, 5000, 'the forced exit');
    assert.is(res.code, EXIT.FORCED, res.stdout + res.stderr);
    assert.match(res.stderr, /SIGINT again: exiting now/);
  } finally {
    app.child.kill('SIGKILL');
  }
});

test.run();
