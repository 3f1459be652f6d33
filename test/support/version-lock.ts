/**
 * functions/versions.lock.json: every bundled library (functions/cy_*.lua) and EVAL script
 * (lua/*.lua) with its version and the SHA-256 of its assembled code, the code Redis runs
 * (the source with the prelude blocks it uses, functions/assemble.ts).
 *
 * Why: loading replaces a library only when ours is newer, and a server keeps the first code it
 * got for a version. Two builds with one version and different code would each leave the other's
 * in place. Since a prelude edit changes every source that uses the block, a change is easy to
 * miss by reading the diff of one file: test/functions/versions.test.ts fails until the version
 * of every changed source is raised and the lock rewritten (`npm run lock-versions`, which
 * refuses to record changed code under an unchanged version).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, preludeBlocks } from '../../functions/assemble.js';
import type { PreludeBlock } from '../../functions/assemble.js';
import { BUNDLED_LIBRARIES, parseVersion } from '../../functions/loader.js';
import { BUNDLED_SCRIPTS } from '../../lua/scripts.js';
import { PACKAGE_ROOT } from '../../runtime/paths.js';

export const LOCK_FILE = 'functions/versions.lock.json';
const HOW = 'npm run lock-versions';

export interface LockEntry {
  version: number;
  sha256: string;
}

export interface VersionLock {
  libraries: Record<string, LockEntry>;
  scripts: Record<string, LockEntry>;
}

type Section = keyof VersionLock;
const FILE: Record<Section, (name: string) => string> = {
  libraries: (n) => `functions/${n}.lua`,
  scripts: (n) => `lua/${n}.lua`,
};

/** Versions and hashes of the sources as they are now (with `blocks`, an edited prelude). */
export function currentLock(blocks: readonly PreludeBlock[] = preludeBlocks()): VersionLock {
  const section = (kind: Section, names: readonly string[]): Record<string, LockEntry> => {
    const out: Record<string, LockEntry> = {};
    for (const name of [...names].sort()) {
      const file = FILE[kind](name);
      const { code } = assemble(readFileSync(join(PACKAGE_ROOT, file), 'utf8'), file, blocks);
      const version = parseVersion(code);
      if (version === null) throw new Error(`${file} has no "-- version: N" line`);
      out[name] = { version, sha256: createHash('sha256').update(code).digest('hex') };
    }
    return out;
  };
  return {
    libraries: section('libraries', BUNDLED_LIBRARIES),
    scripts: section('scripts', BUNDLED_SCRIPTS),
  };
}

export function readLock(): VersionLock {
  const raw = JSON.parse(readFileSync(join(PACKAGE_ROOT, LOCK_FILE), 'utf8')) as VersionLock;
  return { libraries: raw.libraries ?? {}, scripts: raw.scripts ?? {} };
}

/**
 * What keeps `current` from matching `locked`, one message per source; [] when they match.
 * `refusals` are the changes `npm run lock-versions` will not record (code changed under the
 * same or a lower version); `stale` the lock entries it just has to rewrite.
 */
export function compareLock(
  current: VersionLock,
  locked: VersionLock,
): { refusals: string[]; stale: string[] } {
  const refusals: string[] = [];
  const stale: string[] = [];
  for (const kind of ['libraries', 'scripts'] as const) {
    const names = new Set([...Object.keys(current[kind]), ...Object.keys(locked[kind])]);
    for (const name of [...names].sort()) {
      const file = FILE[kind](name);
      const now = current[kind][name];
      const then = locked[kind][name];
      if (!now) stale.push(`${file} is in ${LOCK_FILE} but no longer bundled: run ${HOW}`);
      else if (!then) stale.push(`${file} is not in ${LOCK_FILE} yet: run ${HOW}`);
      else if (now.version < then.version)
        refusals.push(
          `${file}: version ${now.version} is below the locked ${then.version} (versions never go down)`,
        );
      else if (now.version === then.version && now.sha256 !== then.sha256)
        refusals.push(
          `${file}: its loaded code changed (its own lines or a prelude block it uses) but its ` +
            `version is still ${now.version}: raise its "-- version:" line, then run ${HOW}`,
        );
      else if (now.version > then.version)
        stale.push(`${file}: version ${now.version} is not recorded yet: run ${HOW}`);
    }
  }
  return { refusals, stale };
}

/**
 * Rewrites the lock from the sources (what `npm run lock-versions` runs). Writes nothing and
 * returns the refusals when some source changed without a version bump.
 */
export function writeLock(): string[] {
  const current = currentLock();
  const { refusals } = compareLock(current, readLock());
  if (refusals.length > 0) return refusals;
  writeFileSync(join(PACKAGE_ROOT, LOCK_FILE), `${JSON.stringify(current, null, 2)}\n`);
  return [];
}
