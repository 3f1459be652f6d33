/**
 * EVAL scripts and Redis Functions. Library and function names are random per test: function
 * names are global across libraries. FUNCTION FLUSH / DUMP / RESTORE and SCRIPT FLUSH touch the
 * whole server: they are tested in commands-server.test.ts on a dedicated server.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as assert from 'uvu/assert';
import { InvalidArgumentError, ReplyError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { forEachProtocol } from '../support/protocols.js';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const uniqueName = (): string => 'cytest_' + randomUUID().replaceAll('-', '');

function library(name: string): string {
  return [
    `#!lua name=${name}`,
    `redis.register_function('${name}_echo', function(keys, args) return {keys[1], args[1]} end)`,
    `redis.register_function{function_name='${name}_get', callback=function(keys)`,
    `  return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}`,
  ].join('\n');
}

forEachProtocol('scripting', (test) => {
  test('eval / evalRo with KEYS and ARGV', async ({ client, key }) => {
    const k = key();
    assert.equal(await client.eval('return {KEYS[1], ARGV[1], ARGV[2]}', [k], ['a', 2]), [
      k,
      'a',
      '2',
    ]);
    assert.is(await client.eval("return redis.call('SET', KEYS[1], ARGV[1])", [k], ['v']), 'OK');
    assert.is(await client.evalRo("return redis.call('GET', KEYS[1])", [k]), 'v');
    assert.is(await client.eval('return 42'), 42);
    const err = await rejects(
      () => client.evalRo("return redis.call('SET', KEYS[1], 'x')", [k]),
      ReplyError,
    );
    assert.match(err.message, /write command/i);
    const bad = await rejects(
      () => client.eval('return 1', 'k' as unknown as string[]),
      InvalidArgumentError,
    );
    assert.is(bad.field, 'keys');
  });

  test('scriptLoad / scriptExists / evalsha / evalshaRo', async ({ client, key }) => {
    const tag = randomUUID();
    const source = `return ARGV[1] .. '${tag}'`;
    const sha = await client.scriptLoad(source);
    assert.is(sha, sha1(source));
    assert.equal(await client.scriptExists(sha, ['f'.repeat(40)]), [true, false]);
    assert.is(await client.evalsha(sha, [], ['!']), `!${tag}`);
    assert.is(await client.evalshaRo(sha, [key()], ['?']), `?${tag}`);
    const err = await rejects(() => client.evalsha('f'.repeat(40)), ReplyError);
    assert.is(err.redisCode, 'NOSCRIPT');
    await rejects(() => client.scriptExists(), InvalidArgumentError, /sha1s/);
  });

  test('functionLoad / fcall / fcallRo / functionList / functionDelete', async (ctx) => {
    const { client } = ctx;
    const lib = uniqueName();
    const k = ctx.key();
    assert.is(await client.functionLoad(library(lib)), lib);
    await rejects(() => client.functionLoad(library(lib)), ReplyError, /already exists/);
    assert.is(await client.functionLoad(library(lib), { replace: true }), lib);
    assert.equal(await client.fcall(`${lib}_echo`, [k], ['x']), [k, 'x']);
    await client.set(k, 'stored');
    assert.is(await client.fcallRo(`${lib}_get`, [k]), 'stored');

    const listed = await client.functionList({ libraryName: lib });
    // The server lists a library's functions in no set order.
    listed[0]?.functions.sort((a, b) => a.name.localeCompare(b.name));
    assert.equal(listed, [
      {
        libraryName: lib,
        engine: 'LUA',
        functions: [
          { name: `${lib}_echo`, description: null, flags: [] },
          { name: `${lib}_get`, description: 'reads a key', flags: ['no-writes'] },
        ],
      },
    ]);
    const [withCode] = await client.functionList({ libraryName: lib, withCode: true });
    assert.is(withCode.libraryCode, library(lib));
    assert.ok((await client.functionList()).some((l) => l.libraryName === lib));

    assert.is(await client.functionDelete(lib), 'OK');
    assert.equal(await client.functionList({ libraryName: lib }), []);
    await rejects(() => client.fcall(`${lib}_echo`), ReplyError, /function not found/i);
  });

  test('functionStats: { runningScript, engines }', async ({ client }) => {
    const lib = uniqueName();
    await client.functionLoad(library(lib));
    try {
      const stats = await client.functionStats();
      assert.is(stats.runningScript, null);
      assert.type(stats.engines.LUA?.librariesCount, 'number');
      assert.ok(stats.engines.LUA.functionsCount >= 2);
    } finally {
      await client.functionDelete(lib);
    }
  });

  test('scriptKill / functionKill with nothing running: NOTBUSY', async ({ client }) => {
    const e1 = await rejects(() => client.scriptKill(), ReplyError);
    assert.is(e1.redisCode, 'NOTBUSY');
    const e2 = await rejects(() => client.functionKill(), ReplyError);
    assert.is(e2.redisCode, 'NOTBUSY');
  });
});
