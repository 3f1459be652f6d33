import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assemble, parsePrelude, PRELUDE_FILES } from '../../functions/assemble.js';
import { BUNDLED_LIBRARIES, bundledLibrary } from '../../functions/index.js';
import { BUNDLED_SCRIPTS, bundledScript } from '../../lua/index.js';
import { PACKAGE_ROOT } from '../../runtime/paths.js';
import { compareLock, currentLock, LOCK_FILE, readLock } from '../support/version-lock.js';
import type { VersionLock } from '../support/version-lock.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const read = (file: string): string => readFileSync(join(PACKAGE_ROOT, file), 'utf8');

test(`every library and script has the version and code recorded in ${LOCK_FILE}`, () => {
  const { refusals, stale } = compareLock(currentLock(), readLock());
  const problems = [...refusals, ...stale];
  assert.equal(problems, [], `\n  ${problems.join('\n  ')}\n`);
});

test('the lock hashes exactly the code that is loaded (FUNCTION LOAD) and run (EVAL)', () => {
  const lock = readLock();
  assert.equal(Object.keys(lock.libraries).sort(), [...BUNDLED_LIBRARIES].sort());
  assert.equal(Object.keys(lock.scripts).sort(), [...BUNDLED_SCRIPTS].sort());
  for (const name of BUNDLED_LIBRARIES) {
    const lib = bundledLibrary(name);
    assert.equal(lock.libraries[name], { version: lib.version, sha256: sha256(lib.code) }, name);
  }
  for (const name of BUNDLED_SCRIPTS) {
    const s = bundledScript(name);
    assert.equal(lock.scripts[name], { version: s.version, sha256: sha256(s.source) }, name);
  }
});

test('a prelude edit is refused for exactly the sources that use the edited block', () => {
  // Edit the `family` block (one character of its error message).
  const files = PRELUDE_FILES.map((file) => ({ file, text: read(file) }));
  const prelude = files[0];
  const before = "return bad('keys', 'must be ' .. what)\n  end\nend";
  assert.ok(prelude.text.includes(`    ${before}`), 'the family block as this test knows it');
  const edited = prelude.text.replace(`    ${before}`, `    ${before.replace('be ', 'be: ')}`);
  assert.is.not(edited, prelude.text);
  const blocks = parsePrelude([{ ...prelude, text: edited }, ...files.slice(1)]);

  const users = BUNDLED_LIBRARIES.filter((n) =>
    bundledLibrary(n).code.includes('local function family'),
  );
  assert.equal(users, ['cy_sema', 'cy_queue', 'cy_streamq']);
  const { refusals, stale } = compareLock(currentLock(blocks), readLock());
  assert.equal(stale, []);
  assert.equal(
    refusals.map((r) => r.slice(0, r.indexOf(':'))),
    users.map((n) => `functions/${n}.lua`).sort(),
  );
  assert.match(refusals[0], /version is still \d+: raise its "-- version:" line, then run npm/);

  // Raising the versions of those sources turns the refusals into lock entries to rewrite.
  const bumped: VersionLock = currentLock(blocks);
  for (const n of users) bumped.libraries[n].version++;
  const after = compareLock(bumped, readLock());
  assert.equal(after.refusals, []);
  assert.equal(after.stale.length, users.length);
  assert.match(after.stale[0], /is not recorded yet: run npm run lock-versions/);
});

test('the lock check: versions never go down; new and removed sources need a lock rewrite', () => {
  const locked = readLock();
  const current = currentLock();
  const lower: VersionLock = structuredClone(current);
  lower.scripts.priority_pop.version--;
  assert.match(compareLock(lower, locked).refusals[0], /^lua\/priority_pop\.lua: version .* below/);
  const added: VersionLock = structuredClone(current);
  added.scripts.brand_new = { version: 1, sha256: 'x' };
  delete added.libraries.cy_cache;
  assert.equal(compareLock(added, locked), {
    refusals: [],
    stale: [
      `functions/cy_cache.lua is in ${LOCK_FILE} but no longer bundled: run npm run lock-versions`,
      `lua/brand_new.lua is not in ${LOCK_FILE} yet: run npm run lock-versions`,
    ],
  });
  // A source's own edit counts as much as a prelude edit, a comment too (WITHCODE shows it).
  const file = 'functions/cy_tokens.lua';
  const own = assemble(`${read(file)}-- one more comment\n`, file).code;
  const edited: VersionLock = structuredClone(current);
  edited.libraries.cy_tokens.sha256 = sha256(own);
  assert.is.not(edited.libraries.cy_tokens.sha256, current.libraries.cy_tokens.sha256);
  assert.match(compareLock(edited, locked).refusals[0], /^functions\/cy_tokens\.lua: its loaded/);
});

test.run();
