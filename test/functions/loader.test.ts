import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUNDLED_LIBRARIES,
  bundledLibrary,
  codeError,
  CyCode,
  libraryName,
  loadLibraryOn,
  parseLibrary,
  parseVersion,
  RedisFunctions,
  versionKeyInSlot,
  versionKeyOf,
} from '../../functions/index.js';
import type { LibrarySource, LoaderNode } from '../../functions/index.js';
import type { CommandArg } from '../../runtime/protocol/index.js';
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import {
  CyRedisError,
  InvalidArgumentError,
  LibraryLoadError,
  LockNotHeldError,
  NotFoundError,
  ReplyError,
  StaleReceiptError,
} from '../../runtime/errors.js';
import { PACKAGE_ROOT } from '../../runtime/paths.js';
import { rejects } from '../support/assert.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServer } from '../support/redis-server.js';
import { sleep, slotOf } from './helpers.js';

// A dedicated server: these tests flush functions, replace libraries and restart it.
let server: RedisServer;
const clients: HighPerformanceRedis[] = [];
async function connect(): Promise<HighPerformanceRedis> {
  const c = new HighPerformanceRedis({ host: server.host, port: server.port });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}
const libraries = async (c: HighPerformanceRedis): Promise<string[]> =>
  ((await c.call('FUNCTION', 'LIST')) as { library_name: string }[])
    .map((l) => l.library_name)
    .sort();

test.before(async () => {
  server = await startRedis();
});
test.after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

test('the bundled libraries parse: name, version, functions', () => {
  for (const name of BUNDLED_LIBRARIES) {
    const lib = bundledLibrary(name);
    assert.is(lib.name, name);
    assert.ok(Number.isInteger(lib.version) && lib.version >= 1);
    assert.ok(lib.functions.length >= 2);
    for (const f of lib.functions) assert.ok(f.startsWith(`${name}_`), f);
  }
  assert.is(bundledLibrary('cy:locks'), bundledLibrary('cy_locks'), 'both spellings, read once');
  assert.is(libraryName('cy:streamq'), 'cy_streamq');
  assert.throws(
    () => bundledLibrary('cy_nope'),
    (e: unknown) => e instanceof InvalidArgumentError,
  );
  assert.throws(
    () => parseLibrary('return 1'),
    (e: unknown) => e instanceof InvalidArgumentError,
  );
  assert.throws(
    () => parseLibrary('#!lua name=cy_x\nredis.register_function("f", function() end)'),
    (e: unknown) => e instanceof LibraryLoadError,
  );
});

test('loading is automatic on first use; getLibraryInfo reports { version, functions }', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  const fx = new RedisFunctions(c);
  assert.is(await fx.getLibraryInfo('cy:tokens'), null);
  // Concurrent first uses share one load.
  const values = await Promise.all([fx.tokens.next('a'), fx.tokens.next('a'), fx.tokens.next('a')]);
  assert.equal(values.sort(), [1, 2, 3]);
  assert.equal(await libraries(c), ['cy_tokens'], 'only the library that was used');
  const info = await fx.getLibraryInfo('cy:tokens');
  assert.is(info!.version, bundledLibrary('cy_tokens').version);
  assert.equal(info!.functions, ['cy_tokens_ksortable', 'cy_tokens_next'], 'sorted');
  assert.equal(await fx.getLibraryInfo('cy_tokens'), info);
});

test('the server holds the assembled code (prelude included): FUNCTION LIST WITHCODE, version line', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  const fx = new RedisFunctions(c);
  await fx.loadAllLibraries();
  for (const name of BUNDLED_LIBRARIES) {
    const lib = bundledLibrary(name);
    const [entry] = (await c.call('FUNCTION', 'LIST', 'LIBRARYNAME', name, 'WITHCODE')) as {
      library_code: string;
    }[];
    assert.is(entry.library_code, lib.code, name);
    assert.ok(lib.code.includes('local function register(spec)'), 'the prelude is in it');
    assert.is(parseVersion(entry.library_code), lib.version);
    assert.is((await fx.getLibraryInfo(name))!.version, lib.version);
  }
  for (const r of Object.values(await new RedisFunctions(await connect()).loadAllLibraries()))
    assert.is(r.action, 'unchanged', r.library);
});

test('loadLibrary accepts both spellings; loadAllLibraries loads the rest', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  const fx = new RedisFunctions(c);
  assert.is((await fx.loadLibrary('cy:locks')).action, 'loaded');
  assert.is((await fx.loadLibrary('cy_locks')).action, 'unchanged');
  const all = await fx.loadAllLibraries();
  assert.equal(Object.keys(all).sort(), [...BUNDLED_LIBRARIES].sort());
  assert.is(all.cy_locks.action, 'unchanged');
  assert.is(all.cy_queue.action, 'loaded');
  assert.equal(await libraries(c), [...BUNDLED_LIBRARIES].sort());
  await rejects(() => fx.loadLibrary('cy:nope'), InvalidArgumentError);
  await rejects(() => fx.loadLibrary('bad name!'), InvalidArgumentError);
});

test('many clients loading at once on a fresh server: one loads, the others find it', async () => {
  const cs = await Promise.all(Array.from({ length: 5 }, () => connect()));
  await cs[0].call('FUNCTION', 'FLUSH');
  const results = await Promise.all(cs.map((c) => loadLibraryOn(c, bundledLibrary('cy_queue'))));
  assert.is(results.filter((r) => r.action === 'loaded').length, 1);
  assert.is(results.filter((r) => r.action === 'unchanged').length, 4);
});

test('a newer version replaces through FUNCTION LOAD REPLACE; an equal or older one is left alone', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  const fx = new RedisFunctions(c);
  const v1 = bundledLibrary('cy_locks');
  assert.is((await fx.loadLibrary('cy_locks')).action, 'loaded');
  const token = await fx.locks.acquire('upgrade-res', 'o', 60_000);

  // Version 2: one more function, the rest unchanged.
  const v2code =
    v1.code.replace(/^-- version: \d+$/m, `-- version: ${v1.version + 1}`) +
    "\nredis.register_function{function_name = 'cy_locks_v2_probe', callback = function() return 'v2' end}\n";
  const v2 = parseLibrary(v2code);
  const up = await fx.loadLibrary(v2);
  assert.equal(up, {
    library: 'cy_locks',
    action: 'replaced',
    version: v1.version + 1,
    previousVersion: v1.version,
  });
  assert.is(await c.call('FCALL', 'cy_locks_v2_probe', 0), 'v2');
  // Data and the fence counter survive the replace.
  const st = await fx.locks.status('upgrade-res');
  assert.ok(st.held && st.fencingToken === token.fencingToken);

  // Loading version 1 again (another client, an older deployment) leaves version 2 in place.
  const old = new RedisFunctions(await connect());
  assert.equal(await old.loadLibrary('cy:locks'), {
    library: 'cy_locks',
    action: 'unchanged',
    version: v1.version + 1,
    previousVersion: v1.version + 1,
  });
  await old.locks.acquire('other-res', 'o', 1000); // first use does not downgrade either
  assert.is((await old.getLibraryInfo('cy_locks'))!.version, v1.version + 1);
  assert.is(await c.call('FCALL', 'cy_locks_v2_probe', 0), 'v2');
});

test('a library the server refuses is a LibraryLoadError naming it', async () => {
  const c = await connect();
  const broken = parseLibrary('#!lua name=cy_broken_test\n-- version: 1\nthis is not lua\n');
  const err = await rejects(() => loadLibraryOn(c, broken), LibraryLoadError);
  assert.is(err.library, 'cy_broken_test');
  assert.match(err.message, /Error compiling/);
});

test('"Function not found" after FUNCTION FLUSH or a server restart: loaded again and retried once', async () => {
  const c = await connect();
  const fx = new RedisFunctions(c);
  assert.ok((await fx.locks.acquire('r-flush', 'o', 1000)).acquired);
  await c.call('FUNCTION', 'FLUSH');
  assert.ok((await fx.locks.acquire('r-flush-2', 'o', 1000)).acquired, 'after FUNCTION FLUSH');

  await server.restart(); // no persistence: functions and data are gone
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    ready = await c.call('PING').then(
      () => true,
      () => false,
    );
    if (!ready) await sleep(50);
  }
  assert.ok(ready, 'the client reconnected by itself');
  assert.equal(await libraries(c), []);
  const [a, b] = await Promise.all([fx.tokens.next('after-restart'), fx.locks.status('r-flush')]);
  assert.is(a, 1);
  assert.equal(b, { held: false });
});

test('an ACL user without FUNCTION rights uses libraries an admin loaded', async () => {
  const admin = await connect();
  await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-pw', '~*', '&*', '+@all', '-function');
  await admin.call('FUNCTION', 'FLUSH');
  const app = new HighPerformanceRedis({
    host: server.host,
    port: server.port,
    username: 'app',
    password: 'app-pw',
  });
  app.on('error', () => {});
  clients.push(app);
  const fx = new RedisFunctions(app);
  // Not loaded, and the app may not load it: the FCALL error, not a NOPERM from the loader.
  await rejects(() => fx.tokens.next('acl'), ReplyError, /Function not found/);
  await rejects(() => fx.loadLibrary('cy_tokens'), LibraryLoadError, /NOPERM/);
  await new RedisFunctions(admin).loadLibrary('cy_tokens');
  assert.is(await fx.tokens.next('acl'), 1);
});

test('call() runs any function by either spelling, with the same error mapping', async () => {
  const fx = new RedisFunctions(await connect());
  assert.is(await fx.call('cy:tokens:next', ['cy:token:{raw}'], ['5']), 5);
  assert.is(await fx.call('cy_tokens_next', ['cy:token:{raw}']), 6);
  const err = await rejects(() => fx.call('cy:tokens:next', ['k'], ['-1']), InvalidArgumentError);
  assert.is(err.field, 'by');
  assert.is(err.message, 'by must be a positive integer');
  await rejects(() => fx.call('other_lib_fn'), InvalidArgumentError);
});

test('one enum of reply codes; the error ones map to typed errors', () => {
  assert.equal(
    [
      CyCode.NotHeld,
      CyCode.HeldByOther,
      CyCode.WrongReceipt,
      CyCode.NotFound,
      CyCode.Duplicate,
      CyCode.DeadLettered,
      CyCode.CasMismatch,
      CyCode.CapReached,
    ],
    [-1, -2, -3, -4, -5, -6, -7, -8],
  );
  assert.instance(codeError(-1, 'x'), LockNotHeldError);
  assert.instance(codeError(-3, 'x'), StaleReceiptError);
  assert.instance(codeError(-4, 'x'), NotFoundError);
  const other = codeError(-7, 'cy_atomic_cas k');
  assert.is(other.constructor, CyRedisError);
  assert.match(other.message, /cy_atomic_cas k: unexpected reply code -7 \(CasMismatch\)/);
});

// ---- regressions (review of the version-1 loader) ----

/** A library whose one function returns its version. */
const probe = (v: number): LibrarySource =>
  parseLibrary(
    `#!lua name=cy_probe_test\n-- version: ${v}\nredis.register_function('cy_probe_test_v', function() return ${v} end)\n`,
  );

test('an older loader whose replace arrives late never downgrades a newer library', async () => {
  const [a, b] = [await connect(), await connect()];
  await a.call('FUNCTION', 'LOAD', 'REPLACE', probe(1).code); // deployed: v1
  // Loader O (v2) looks, sees v1, and its replace is held back until N (v3) has loaded.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow: LoaderNode = {
    _send: async <T>(cmd: CommandArg[]): Promise<T> => {
      if (cmd[0] === 'FUNCTION' && cmd[1] === 'LOAD') await gate; // a look-then-load loader
      return a._send<T>(cmd);
    },
    watch: (keys, fn, opts) =>
      a.watch(
        keys,
        async (tx) => {
          const multi = await fn(tx);
          if (multi) await gate; // the compare-and-replace: EXEC held back
          return multi;
        },
        opts,
      ),
  };
  const pO = loadLibraryOn(slow, probe(2));
  await sleep(50);
  const n = await loadLibraryOn(b, probe(3));
  assert.equal([n.action, n.version], ['replaced', 3]);
  release();
  const o = await pO;
  assert.equal(o, {
    library: 'cy_probe_test',
    action: 'unchanged',
    version: 3,
    previousVersion: 3,
  });
  assert.is(await a.call('FCALL', 'cy_probe_test_v', 0), 3);
  await a.call('FUNCTION', 'DELETE', 'cy_probe_test');
});

test('loaders of versions 1..6 racing on 6 connections: the newest wins, none downgrades', async () => {
  const cs = await Promise.all(Array.from({ length: 6 }, () => connect()));
  for (let round = 0; round < 5; round++) {
    await cs[0].call('FUNCTION', 'DELETE', 'cy_probe_test').catch(() => null);
    const results = await Promise.all(cs.map((c, i) => loadLibraryOn(c, probe(i + 1))));
    assert.is(await cs[0].call('FCALL', 'cy_probe_test_v', 0), 6, `round ${round}`);
    for (const r of results) assert.ok(r.version !== null && r.version >= 1);
    assert.ok(results[5].action !== 'unchanged', 'v6 loaded it');
  }
  await cs[0].call('FUNCTION', 'DELETE', 'cy_probe_test');
});

test('a client whose library was replaced by a newer version keeps working with it', async () => {
  const [c1, c2] = [await connect(), await connect()];
  await c1.call('FUNCTION', 'FLUSH');
  const older = new RedisFunctions(c1);
  assert.is(await older.tokens.next('kw'), 1); // loads the bundled version
  const v = bundledLibrary('cy_tokens');
  const newer = parseLibrary(
    v.code.replace(/^-- version: \d+$/m, `-- version: ${v.version + 1}`) +
      "\nregister{function_name = 'cy_tokens_newer_probe', keys = function() end, callback = function() return 1 end}\n",
  );
  assert.is((await new RedisFunctions(c2).loadLibrary(newer)).action, 'replaced');
  assert.is(await older.tokens.next('kw'), 2, 'the newer library serves the older client');
  assert.equal(await older.loadLibrary('cy_tokens'), {
    library: 'cy_tokens',
    action: 'unchanged',
    version: v.version + 1,
    previousVersion: v.version + 1,
  });
  assert.is(await c1.call('FCALL', 'cy_tokens_newer_probe', 0), 1);
});

test('incrWithTtl against a server whose cy_atomic still replies the version-1 shape: -8 is refused, not guessed', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  // Version 1 replied the new value, or -8 for "cap reached", and a counter may hold -8 too.
  const v1shape = parseLibrary(
    "#!lua name=cy_atomic\n-- version: 99\nredis.register_function('cy_atomic_incr_with_ttl', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\n",
  );
  const fx = new RedisFunctions(c);
  await fx.loadLibrary(v1shape);
  await c.call('SET', 'v1-counter', '-10');
  assert.is(await fx.atomic.incrWithTtl('v1-counter', 1, 1000), -9);
  await rejects(
    () => fx.atomic.incrWithTtl('v1-counter', 1, 1000),
    CyRedisError,
    /cy_atomic version 1/,
  );
  await c.call('FUNCTION', 'DELETE', 'cy_atomic');
});

test('upgrading from the released libraries through FUNCTION LOAD REPLACE keeps their data', async () => {
  const c = await connect();
  await c.call('FUNCTION', 'FLUSH');
  const released = (file: string): LibrarySource =>
    parseLibrary(
      readFileSync(join(PACKAGE_ROOT, 'test/functions/fixtures/released', file), 'utf8'),
    );
  const [locks1, rate2] = [released('cy_locks.v1.lua'), released('cy_rate.v2.lua')];
  assert.equal([locks1.version, rate2.version], [1, 2]);
  await loadLibraryOn(c, locks1);
  await loadLibraryOn(c, rate2);
  // Written by the released libraries, with their own key lists.
  for (const owner of ['a', 'b', 'c']) {
    await c.call(
      'FCALL',
      'cy_locks_acquire',
      2,
      'cy:lock:{up}',
      'cy:lock:{up}:fence',
      owner,
      60_000,
    );
    await c.call('FCALL', 'cy_locks_release', 1, 'cy:lock:{up}', owner);
  }
  const sw = ['cy:rate:{up}:sw', 'cy:rate:{up}:sw:seq'];
  assert.equal(await c.call('FCALL', 'cy_rate_sliding_window', 2, ...sw, 10, 60_000, 4), [1, 6, 0]);

  const fx = new RedisFunctions(c);
  const all = await fx.loadAllLibraries();
  for (const [lib, from] of [
    [locks1, 1],
    [rate2, 2],
  ] as const)
    assert.equal(all[lib.name as 'cy_locks'], {
      library: lib.name,
      action: 'replaced',
      version: bundledLibrary(lib.name).version,
      previousVersion: from,
    });
  assert.is((await fx.locks.acquire('up', 'd', 60_000)).fencingToken, 4, 'tokens go on');
  const o = { limit: 10, windowMs: 60_000 };
  const denied = await fx.rate.slidingWindow('up', { ...o, cost: 7 });
  assert.equal([denied.allowed, denied.remaining], [false, 6], 'the 4 units before still count');
  assert.equal((await fx.rate.slidingWindow('up', { ...o, cost: 6 })).allowed, true);
});

test('versionKeyInSlot: a version key in a given slot, for loading on one cluster primary', () => {
  for (const slot of [0, 1, 5461, 10923, 16383]) {
    const key = versionKeyInSlot('cy:locks', slot);
    assert.match(key, /^cy:fnver:\{cy_locks:\d+\}$/);
    assert.is(slotOf(key), slot);
  }
  assert.is(versionKeyOf('cy:locks'), 'cy:fnver:{cy_locks}');
  assert.throws(
    () => versionKeyInSlot('cy_locks', 16384),
    (e: unknown) => e instanceof InvalidArgumentError,
  );
});

test.run();
