/**
 * Config validation names the file and the field of every problem, before anything starts;
 * config files load from .json, .mjs/.js and .ts (transpiled with the typescript package).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinKinds } from '../../actors/index.js';
import { ConfigError, InvalidArgumentError } from '../../runtime/errors.js';
import { Supervisor, findConfig, loadConfig, validateConfig } from '../../runtime/actor/index.js';
import { checkModules } from '../../runtime/actor/loader.js';
import { rejects } from '../support/assert.js';
import { PROBE, tempDir } from './helpers.js';

const ok = { name: 'a', module: PROBE };
const kinds = builtinKinds();

function problems(config: unknown): { field: string; problem: string }[] {
  try {
    validateConfig(config, { file: '/x/cyredis.config.mjs', baseDir: '/x', kinds });
  } catch (err) {
    assert.instance(err, ConfigError);
    return [...(err as ConfigError).issues];
  }
  return [];
}

const cases: [string, unknown, string, RegExp][] = [
  ['an unknown top-level key', { actors: [ok], treads: 2 }, 'treads', /is not a known field/],
  ['no actors', {}, 'actors', /is required/],
  ['an empty actor list', { actors: [] }, 'actors', /at least one actor/],
  ['actors not an array', { actors: {} }, 'actors', /must be an array/],
  ['an actor without a name', { actors: [{ module: PROBE }] }, 'actors[0].name', /is required/],
  ['a name used twice', { actors: [ok, ok] }, 'actors[1].name', /"a" is used twice/],
  ['a bad name', { actors: [{ ...ok, name: 'a#1' }] }, 'actors[0].name', /letters, digits/],
  [
    'neither module nor kind',
    { actors: [{ name: 'a' }] },
    'actors[0]',
    /needs a module .* or a kind/,
  ],
  [
    'both module and kind',
    { actors: [{ ...ok, kind: 'echo' }] },
    'actors[0]',
    /has both module and kind/,
  ],
  [
    'a missing module file',
    { actors: [{ name: 'a', module: './nope.mjs' }] },
    'actors[0].module',
    /file not found: \.\/nope\.mjs/,
  ],
  [
    'a bare module specifier',
    { actors: [{ name: 'a', module: 'nope' }] },
    'actors[0].module',
    /relative to the config file/,
  ],
  [
    'an unknown kind',
    { actors: [{ name: 'a', kind: 'nope' }] },
    'actors[0].kind',
    /not a known kind: "nope" \(known: echo\)/,
  ],
  [
    'a bad option of a kind',
    { actors: [{ name: 'a', kind: 'echo', options: { x: 1 } }] },
    'actors[0].options',
    /unknown option "x"/,
  ],
  [
    'negative instances',
    { actors: [{ ...ok, instances: -1 }] },
    'actors[0].instances',
    /integer from 1 to 1024/,
  ],
  [
    'fractional instances',
    { actors: [{ ...ok, instances: 1.5 }] },
    'actors[0].instances',
    /integer/,
  ],
  [
    'a bad restart policy',
    { actors: [{ ...ok, restart: 'always' }] },
    'actors[0].restart',
    /one of 'permanent', 'transient', 'temporary'/,
  ],
  [
    'a misspelt actor field',
    { actors: [{ ...ok, modul: 'x' }] },
    'actors[0].modul',
    /is not a known field/,
  ],
  [
    'a singleton without redis',
    { actors: [{ ...ok, singleton: true }] },
    'actors[0].singleton',
    /needs `redis`/,
  ],
  [
    'a singleton with 2 instances',
    { redis: 'redis://h', actors: [{ ...ok, singleton: true, instances: 2 }] },
    'actors[0].instances',
    /must be 1 for a singleton/,
  ],
  [
    'options not an object',
    { actors: [{ ...ok, options: 3 }] },
    'actors[0].options',
    /must be an object/,
  ],
  [
    'a zero mailbox',
    { actors: [{ ...ok, mailboxSize: 0 }] },
    'actors[0].mailboxSize',
    /integer >= 1/,
  ],
  [
    'a bad strategy',
    { actors: [ok], supervision: { strategy: 'all' } },
    'supervision.strategy',
    /one of 'one-for-one'/,
  ],
  [
    'negative maxRestarts',
    { actors: [ok], supervision: { maxRestarts: -1 } },
    'supervision.maxRestarts',
    /integer >= 0/,
  ],
  [
    'a jitter over 1',
    { actors: [ok], supervision: { backoff: { jitter: 2 } } },
    'supervision.backoff.jitter',
    /from 0 to 1/,
  ],
  ['zero threads', { threads: 0, actors: [ok] }, 'threads', /from 1 to 256/],
  [
    'a negative shutdownTimeoutMs',
    { shutdownTimeoutMs: -5, actors: [ok] },
    'shutdownTimeoutMs',
    /integer >= 0/,
  ],
  [
    'a bad redis URL',
    { redis: 'http://x', actors: [ok] },
    'redis.url',
    /must start with redis:\/\//,
  ],
  ['a bad redis port', { redis: { port: 70000 }, actors: [ok] }, 'redis.port', /0 to 65535/],
  [
    'a bad nested actor',
    { actors: [ok, { name: 'g', actors: [{ ...ok, name: 'b', instances: 0 }] }] },
    'actors[1].actors[0].instances',
    /integer/,
  ],
  [
    'a bad nested strategy',
    { actors: [{ name: 'g', supervision: { strategy: 'x' }, actors: [ok] }] },
    'actors[0].supervision.strategy',
    /one of/,
  ],
  [
    'an unknown resource limit',
    { resourceLimits: { maxOld: 1 }, actors: [ok] },
    'resourceLimits.maxOld',
    /not a known field/,
  ],
  [
    'unresponsiveMs under heartbeatMs',
    { heartbeatMs: 500, unresponsiveMs: 400, actors: [ok] },
    'unresponsiveMs',
    /must be at least 2 × heartbeatMs \(1000\)/,
  ],
  [
    'heartbeatMs over half the default unresponsiveMs',
    { heartbeatMs: 6000, actors: [ok] },
    'heartbeatMs',
    /must be at most half of unresponsiveMs \(5000, the default\)/,
  ],
  [
    'a resource limit no thread can boot with',
    { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 }, actors: [ok] },
    'resourceLimits.maxOldGenerationSizeMb',
    /must be at least 16: with less a worker thread dies while it boots/,
  ],
  [
    'redis options that cannot be copied to a thread',
    {
      redis: { url: 'rediss://h:6380', tls: { checkServerIdentity: () => undefined } },
      actors: [ok],
    },
    'redis.tls.checkServerIdentity',
    /must be plain data \(it is copied to every worker thread\)/,
  ],
  ['a config that is not an object', [], '(config)', /must be an object/],
];

for (const [what, config, field, problem] of cases) {
  test(`ConfigError names the field: ${what}`, () => {
    const found = problems(config);
    const hit = found.find((i) => i.field === field);
    assert.ok(hit, `expected a problem at ${field}, got ${JSON.stringify(found)}`);
    assert.match(hit.problem, problem);
  });
}

test('every problem is reported at once, each naming the file', () => {
  try {
    validateConfig(
      { threads: -1, actors: [{ name: 'a', instances: 0 }], bogus: 1 },
      { file: '/x/c.json' },
    );
    assert.unreachable();
  } catch (err) {
    const e = err as ConfigError;
    assert.is(e.code, 'CYREDIS_ERR_CONFIG');
    assert.is(e.file, '/x/c.json');
    assert.equal(e.issues.map((i) => i.field).sort(), [
      'actors[0]',
      'actors[0].instances',
      'bogus',
      'threads',
    ]);
    assert.match(e.message, /^4 problems:\n {2}\/x\/c\.json: bogus is not a known field/);
    assert.is(e.field, 'bogus');
  }
});

test('the Supervisor constructor validates before anything starts', () => {
  assert.throws(
    () => new Supervisor({ actors: [] }),
    (e: Error) => e instanceof ConfigError && /actors must list/.test(e.message),
  );
});

test('odd values anywhere: always a ConfigError naming the field, never a TypeError', () => {
  const dir = tempDir({ 'ok.mjs': 'export default { receive() {} }' });
  const odd: unknown[] = [
    null,
    NaN,
    Infinity,
    -1,
    1.5,
    2 ** 60,
    'x',
    '',
    {},
    [],
    true,
    10n,
    Symbol('s'),
    () => 1,
    Object.create(null),
  ];
  const paths = [
    ['redis'],
    ['namespace'],
    ['threads'],
    ['heartbeatMs'],
    ['unresponsiveMs'],
    ['creditWindow'],
    ['resourceLimits'],
    ['resourceLimits', 'stackSizeMb'],
    ['placement'],
    ['placement', 'leaseTtlMs'],
    ['supervision'],
    ['supervision', 'backoff'],
    ['supervision', 'strategy'],
    ['actors'],
    ['actors', 0],
    ['actors', 0, 'name'],
    ['actors', 0, 'module'],
    ['actors', 0, 'options'],
    ['actors', 0, 'instances'],
    ['actors', 0, 'kind'],
    ['actors', 0, 'restart'],
    ['actors', 0, 'singleton'],
  ];
  const wrong: string[] = [];
  for (const path of paths)
    for (const v of odd) {
      const cfg: Record<string, unknown> = { actors: [{ name: 'a', module: './ok.mjs' }] };
      let at = cfg as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) at = (at[k] ??= {}) as Record<string | number, unknown>;
      at[path.at(-1)!] = v;
      try {
        validateConfig(cfg, { baseDir: dir, kinds });
      } catch (err) {
        if (!(err instanceof ConfigError))
          wrong.push(`${path.join('.')} = ${String(v)}: ${String(err)}`);
      }
    }
  for (const input of [null, undefined, 'x', 5, { tree: {}, file: 'x', actors: [] }])
    try {
      new Supervisor(input as never, { logger: null });
      wrong.push(`new Supervisor(${JSON.stringify(input)}) accepted it`);
    } catch (err) {
      if (!(err instanceof ConfigError))
        wrong.push(`new Supervisor(${JSON.stringify(input)}): ${String(err)}`);
    }
  assert.equal(wrong, []);
});

test('bad supervisor options: InvalidArgumentError naming the option, never a TypeError', () => {
  const config = { actors: [{ name: 'a', module: PROBE }] };
  const cases: [unknown, string][] = [
    [null, 'options'],
    [5, 'options'],
    [{ logger: 5 }, 'options.logger'],
    [{ logger: { info() {} } }, 'options.logger'],
    [{ id: 5n }, 'options.id'],
    [{ id: '' }, 'options.id'],
    [{ kinds: {} }, 'options.kinds'],
    [{ file: 3 }, 'options.file'],
  ];
  for (const [options, field] of cases) {
    let caught: unknown = null;
    try {
      new Supervisor(config, options as never);
    } catch (err) {
      caught = err;
    }
    assert.instance(caught, InvalidArgumentError, `${String(options)}: ${String(caught)}`);
    assert.is((caught as InvalidArgumentError).field, field);
  }
  assert.throws(
    () => validateConfig(config, { kinds: 5 as never }),
    (e: Error) => e instanceof InvalidArgumentError && e.field === 'options.kinds',
  );
});

test('a config whose parts throw when read (a getter, a Proxy): still a ConfigError', () => {
  const hostile = new Proxy(
    {},
    {
      ownKeys() {
        throw new TypeError('no keys for you');
      },
    },
  );
  const configs: unknown[] = [
    { actors: [{ name: 'a', module: PROBE }], placement: hostile },
    { actors: [hostile] },
    {
      get actors(): never {
        throw new RangeError('boom');
      },
    },
  ];
  for (const config of configs)
    assert.throws(
      () => validateConfig(config),
      (e: Error) =>
        e instanceof ConfigError &&
        /^\(config\) could not be read: /.test(e.issues[0].field + ' ' + e.issues[0].problem),
    );
});

test('a valid config resolves defaults, instances and module URLs', () => {
  const dir = tempDir({ 'a.mjs': 'export default { receive() {} }' });
  const c = validateConfig(
    {
      actors: [
        { name: 'a', module: './a.mjs', instances: 2 },
        { name: 'e', kind: 'echo' },
      ],
      threads: 3,
    },
    { file: join(dir, 'cyredis.config.mjs'), kinds },
  );
  assert.equal(
    c.actors.map((a) => a.id),
    ['a#0', 'a#1', 'e'],
  );
  assert.is(c.actors[0].module, pathToFileURL(join(dir, 'a.mjs')).href);
  assert.is(c.actors[2].kind, 'echo');
  assert.is(c.threads, 3);
  assert.is(c.tree.strategy, 'one-for-one');
  assert.is(c.tree.maxRestarts, 3);
  assert.is(c.shutdownTimeoutMs, 10_000);
  assert.is(c.actors[0].concurrency, 1);
  assert.is(c.namespace, 'default');
});

test('files: .json, .mjs and .ts load; relative modules start at the config folder', async () => {
  const actor = `export default { receive: (m) => m };\n`;
  const json = tempDir({
    'cyredis.config.json': JSON.stringify({ actors: [{ name: 'a', module: './a.mjs' }] }),
    'a.mjs': actor,
  });
  assert.is((await loadConfig(json)).actors[0].module, pathToFileURL(join(json, 'a.mjs')).href);
  const mjs = tempDir({
    'cyredis.config.mjs': `export default { threads: 1, actors: [{ name: 'a', module: './a.mjs' }] };`,
    'a.mjs': actor,
  });
  assert.is((await loadConfig(mjs)).threads, 1);
  const ts = tempDir({
    'cyredis.config.ts': `interface Cfg { threads: number; actors: { name: string; module: string }[] }\nconst threads: number = 2;\nconst config: Cfg = { threads, actors: [{ name: 'a', module: './a.mjs' }] };\nexport default config;\n`,
    'a.mjs': actor,
  });
  const c = await loadConfig(ts);
  assert.is(c.threads, 2);
  assert.is(c.file, join(ts, 'cyredis.config.ts'));
});

test('files: bad JSON, no default export, a throwing module, a missing file or folder', async () => {
  const bad = tempDir({ 'cyredis.config.json': '{ "actors": [ }' });
  const e1 = await rejects(() => loadConfig(bad), ConfigError, /is not valid JSON/);
  assert.is(e1.file, join(bad, 'cyredis.config.json'));
  assert.is(e1.field, '(file)');
  const noDefault = tempDir({ 'cyredis.config.mjs': 'export const x = 1;' });
  await rejects(() => loadConfig(noDefault), ConfigError, /no default export/);
  const throws = tempDir({ 'cyredis.config.mjs': 'throw new Error("kaput");' });
  await rejects(() => loadConfig(throws), ConfigError, /failed to load: kaput/);
  const empty = tempDir();
  assert.throws(
    () => findConfig(empty),
    /no config here \(looked for cyredis\.config\.ts, cyredis\.config\.mjs/,
  );
  assert.throws(() => findConfig(join(empty, 'nope.mjs')), /does not exist/);
  const ts = tempDir({
    'cyredis.config.ts': `export default { actors: [{ name: 'a', module: './missing.mjs' }] };`,
  });
  const e2 = await rejects(() => loadConfig(ts), ConfigError);
  assert.is(e2.file, join(ts, 'cyredis.config.ts'));
  assert.is(e2.field, 'actors[0].module');
});

test('checkModules: a module that exports no actor is reported under its entry', async () => {
  const dir = tempDir({
    'none.mjs': 'export const x = 1;',
    'two.mjs': 'export const a = { receive() {} }; export const b = { receive() {} };',
    'good.mjs': 'export default { receive() {} };',
  });
  const c = validateConfig(
    {
      actors: [
        { name: 'n', module: './none.mjs' },
        { name: 't', module: './two.mjs' },
        { name: 'g', module: './good.mjs' },
        { name: 'x', module: './good.mjs', export: 'nope' },
      ],
    },
    { file: join(dir, 'cyredis.config.json') },
  );
  const issues = await checkModules(c.actors);
  assert.equal(
    issues.map((i) => i.field),
    ['actors[0].module', 'actors[1].module', 'actors[3].export'],
  );
  assert.match(issues[0].problem, /exports no actor/);
  assert.match(issues[1].problem, /exports 2 actors \(a, b\)/);
  assert.match(issues[2].problem, /export "nope" does not exist/);
});

test.run();
