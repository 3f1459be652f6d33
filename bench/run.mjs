#!/usr/bin/env node
// `npm run bench`: builds, then runs every benchmark in turn (each prints a table and a JSON line).
//   npm run bench                 all of them
//   npm run bench -- client       only those whose name contains "client"
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passOn = process.argv.slice(2).filter((a) => a.startsWith('--'));
const benches = ['reader', 'client', 'functions', 'actors'];

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

let failed = 0;
for (const name of benches) {
  if (filters.length && !filters.some((f) => name.includes(f))) continue;
  const file = join(root, 'dist', 'bench', `${name}.js`);
  if (!existsSync(file)) continue;
  console.log(`\n=== bench/${name}.ts ===`);
  const res = spawnSync(process.execPath, [file, ...passOn], { stdio: 'inherit', cwd: root });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
