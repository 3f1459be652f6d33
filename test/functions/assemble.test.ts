import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble, parsePrelude, preludeBlocks, scanLua } from '../../functions/assemble.js';
import { FunctionCaller } from '../../functions/caller.js';
import {
  assembleLibrary,
  BUNDLED_LIBRARIES,
  bundledLibrary,
  loadLibraryOn,
  parseVersion,
} from '../../functions/index.js';
import { BUNDLED_SCRIPTS, bundledScript, ScriptHelper } from '../../lua/index.js';
import { LibraryLoadError, ReplyError } from '../../runtime/errors.js';
import { PACKAGE_ROOT } from '../../runtime/paths.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { client, closeAll } from './helpers.js';

test.after(closeAll);

const fileLines = new Map<string, string[]>();
const lineOf = (file: string, line: number): string => {
  let lines = fileLines.get(file);
  if (!lines) {
    lines = readFileSync(join(PACKAGE_ROOT, file), 'utf8').split('\n');
    fileLines.set(file, lines);
  }
  return lines[line - 1];
};

test('a source gets only the prelude blocks it uses, and those they use, in prelude order', () => {
  const a = assemble("-- version: 1\nlocal n, err = pos_int(ARGV[1], 'n')\nreturn n", 'x.lua');
  assert.equal(a.prelude, ['MAX_SAFE', 'bad', 'int', 'pos_int']);
  const lines = a.code.split('\n');
  assert.is(lines[0], '-- version: 1', 'the header stays first');
  assert.is(parseVersion(a.code), 1);
  assert.is(lines.at(-2), "local n, err = pos_int(ARGV[1], 'n')");
  // Comments, strings and field names are not uses; `..name` is.
  const b = assemble(
    "-- bad int now_ms\nlocal t = {}\nreturn 'register' .. t.family .. t:absent()",
    'y.lua',
  );
  assert.equal(b.prelude, []);
  assert.is(b.code, "-- bad int now_ms\nlocal t = {}\nreturn 'register' .. t.family .. t:absent()");
  assert.equal(assemble("return 'x'..name('a', 'b')", 'z.lua').prelude, ['bad', 'name']);
  // The sliding-window log comes with what it needs from prelude.lua.
  const w = assemble('return log_add(KEYS[1], 1, 0, 1)', 'w.lua');
  for (const n of ['rcall', 'REBASE_AT', 'log_newest', 'log_renumber', 'log_add'])
    assert.ok(w.prelude.includes(n), n);
  assert.not.ok(w.prelude.includes('bad'));
});

test('the bundled sources: scripts carry only what they use; libraries the KEYS wrapper', () => {
  assert.equal(bundledScript('priority_push').source.includes('local function register'), false);
  assert.equal(bundledScript('priority_push').source.includes('log_add'), false);
  assert.ok(bundledScript('sliding_window').source.includes('local function log_add'));
  for (const name of BUNDLED_LIBRARIES)
    assert.ok(bundledLibrary(name).code.includes('local function register(spec)'), name);
});

test('every line of assembled code maps back to the line it was copied from', () => {
  const sources = [
    ...BUNDLED_LIBRARIES.map((n) => bundledLibrary(n)),
    ...BUNDLED_SCRIPTS.map((n) => ({ ...bundledScript(n), code: bundledScript(n).source })),
  ];
  for (const { code, origin } of sources) {
    const lines = code.split('\n');
    let fromPrelude = 0;
    lines.forEach((text, i) => {
      const o = origin!(i + 1);
      if (o === null) {
        assert.match(text, /^(-- ---- .* ----)?$/, 'only splice markers and blank lines');
        return;
      }
      if (o.file.startsWith('functions/prelude')) fromPrelude++;
      assert.is(lineOf(o.file, o.line), text, `${o.file}:${o.line}`);
    });
    assert.ok(fromPrelude > 0);
  }
});

test('the prelude rules: no shadowing, blocks only use blocks above them, every block defines', () => {
  assert.throws(
    () => assemble('local function bad() end\nreturn bad()', 'lua/mine.lua'),
    /lua\/mine\.lua:1: defines bad, which the prelude provides/,
  );
  const file = (text: string) => [{ file: 'p.lua', text: `--[[ header ]]\n\n${text}` }];
  assert.throws(
    () => parsePrelude(file('local function a() return b() end\n\nlocal function b() end')),
    /p\.lua:3: uses b, which a later block defines/,
  );
  assert.throws(() => parsePrelude(file('x = 1')), /p\.lua:3: a prelude block must define/);
  assert.throws(
    () => parsePrelude(file('-- version: 2\nlocal a = 1')),
    /must not hold a "-- version:" line/,
  );
  // A blank line inside a long comment does not end the block.
  const [block] = parsePrelude(file('--[[ two\n\nparagraphs ]]\nlocal a = 1'));
  assert.equal([block.line, block.defines, block.text.length], [3, ['a'], 4]);
  assert.equal(preludeBlocks().length > 10, true);
  assert.equal(scanLua("a = '--[[' -- x\nb = [[\n\n]] c").inLong, [false, false, true, true]);
});

test('a compile error in an assembled library names the file and line it comes from', async () => {
  const redis = await client();
  const lib = `cy_asm_test_${keyPrefix('').replace(/\W/g, '')}`;
  const source = `#!lua name=${lib}\n-- version: 1\nlocal a = pos_int('1', 'a')\nlocal x = = a\n`;
  const err = await rejects(
    () => loadLibraryOn(redis, assembleLibrary(source, 'test/broken.lua')),
    LibraryLoadError,
  );
  assert.match(err.message, /user_function:\d+ \(test\/broken\.lua:4\)/);
});

test('a Lua error at run time names the file and line of the library or of the prelude', async () => {
  const redis = await client();
  const lib = `cy_asm_test_${keyPrefix('').replace(/\W/g, '')}`;
  const source = [
    `#!lua name=${lib}`,
    '-- version: 1',
    `register{function_name = '${lib}_own', keys = some_keys, callback = function(keys)`,
    '  return nosuch.field',
    'end}',
    `register{function_name = '${lib}_prelude', callback = function() return 1 end}`,
    '',
  ].join('\n');
  const fx = new FunctionCaller(redis);
  await fx.load(assembleLibrary(source, 'test/probe.lua'));
  try {
    const own = await rejects(() => fx.fcall(lib, `${lib}_own`, ['k'], []), ReplyError);
    assert.match(own.message, /user_function:\d+ \(test\/probe\.lua:4\)/);
    // No keys check given: register's wrapper calls nil, a line of the prelude.
    const inPrelude = await rejects(() => fx.fcall(lib, `${lib}_prelude`, [], []), ReplyError);
    const m = /user_function:\d+ \((functions\/prelude\.lua):(\d+)\)/.exec(inPrelude.message);
    assert.ok(m, inPrelude.message);
    assert.match(lineOf(m[1], Number(m[2])), /check\(keys\)/);
  } finally {
    await redis.call('FUNCTION', 'DELETE', lib);
  }
});

test('an EVAL script error names its own line: rcall is redis.call itself in scripts', async () => {
  const redis = await client();
  const s = new ScriptHelper(redis);
  const key = `${keyPrefix('asm')}{q}`;
  await redis.call('SET', key, 'not a zset');
  const err = await rejects(() => s.pushPriorityQueue(key, 1, 'x'), ReplyError, /WRONGTYPE/);
  const m = /user_script:\d+ \((lua\/priority_push\.lua):(\d+)\)/.exec(err.message);
  assert.ok(m, err.message);
  assert.match(lineOf(m[1], Number(m[2])), /rcall\('ZADD'/);
});

test.run();
