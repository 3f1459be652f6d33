#!/usr/bin/env node
// `npm run lock-versions` (builds first): rewrites functions/versions.lock.json, the version and
// SHA-256 of the assembled code of every library in functions/ and script in lua/ (see
// test/support/version-lock.ts). Refuses, writing nothing, when a source's code changed while
// its version did not: raise its `-- version: N` line first.
import { writeLock } from '../dist/test/support/version-lock.js';

const refusals = writeLock();
if (refusals.length > 0) {
  console.error(`functions/versions.lock.json not written:\n  ${refusals.join('\n  ')}`);
  process.exit(1);
}
console.log('functions/versions.lock.json written');
