#!/usr/bin/env node
// `npm test`: typecheck (and build), lint, format check, then every test file against real
// servers, each file in its own process. Files under test/client/ and test/actor/ run twice:
// on the native addon and with CYREDIS_NATIVE=0 (the TypeScript reader and Node sockets).
// Ends with the line `N passed, M failed` and exits non-zero if anything failed.
//
//   npm test                 everything
//   npm test -- protocol     only test files whose path contains "protocol" (checks still run)
//   npm test -- --no-checks  skip typecheck/lint/format (the build must exist)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const skipChecks = args.includes('--no-checks');
const FILE_TIMEOUT_MS = 5 * 60_000;
const TWICE = /^test\/(client|actor)\//;

let passed = 0;
let failed = 0;
const failures = [];

function run(cmd, argv, { env = {}, timeoutMs = FILE_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[runner] killed after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), out });
    });
  });
}

async function check(name, cmd, argv) {
  const t0 = Date.now();
  const { code, out } = await run(cmd, argv);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (code === 0) {
    passed++;
    console.log(`ok   ${name} (${secs}s)`);
  } else {
    failed++;
    failures.push(name);
    console.log(`FAIL ${name} (${secs}s)\n${out}`);
  }
}

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) found.push(p);
  }
  return found.sort();
}

/** Sums uvu's "Total:" / "Passed:" lines (Total excludes skipped tests); a crash or a non-zero
 *  exit counts as a failure. */
function count(out, code) {
  const num = (label) =>
    [...out.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
  const total = num('Total');
  const ok = num('Passed');
  const skipped = num('Skipped');
  let bad = total - ok;
  if (code !== 0 && bad === 0) bad = 1;
  if (total === 0 && code === 0) bad = 1; // a file that ran no test is a broken file
  return { ok, bad, skipped };
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!skipChecks) {
  await check('typecheck + build (tsc)', process.execPath, [tsc, '-p', 'tsconfig.json']);
  await check('lint (eslint)', process.execPath, [
    join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'),
    '.',
  ]);
  await check('format (prettier --check)', process.execPath, [
    join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
    '--check',
    '--log-level',
    'warn',
    '.',
  ]);
}

const tmp = mkdtempSync(join(tmpdir(), 'cyredis-test-'));
process.env.CYREDIS_TEST_TMP = tmp;
const servers = {};
const started = [];
try {
  const support = await import(join(root, 'dist', 'test', 'support', 'redis-server.js'));
  for (const kind of ['plain', 'unix', 'tls', 'acl']) {
    if (kind === 'plain' && process.env.REDIS_URL) continue;
    const s = await support.startRedis(kind);
    started.push(s);
    const { kill: _k, restart: _r, stop: _s, ...info } = s;
    servers[kind] = info;
  }
} catch (err) {
  failed++;
  failures.push('test servers');
  console.log(`FAIL starting test servers: ${err.stack ?? err}`);
}

try {
  const files = findTests(join(root, 'dist', 'test')).filter((f) => {
    const rel = relative(join(root, 'dist'), f);
    return filters.length === 0 || filters.some((x) => rel.includes(x));
  });
  for (const file of files) {
    const rel = relative(join(root, 'dist'), file).replace(/\.js$/, '.ts');
    const variants = TWICE.test(rel)
      ? [
          ['native', {}],
          ['ts', { CYREDIS_NATIVE: '0' }],
        ]
      : [[null, {}]];
    for (const [label, env] of variants) {
      const name = label ? `${rel} [${label}]` : rel;
      const t0 = Date.now();
      const res = await run(process.execPath, ['--enable-source-maps', file], {
        env: { ...env, CYREDIS_TEST_SERVERS: JSON.stringify(servers), CYREDIS_TEST_TMP: tmp },
      });
      const { ok, bad, skipped } = count(res.out, res.code);
      passed += ok;
      failed += bad;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (bad === 0) {
        console.log(
          `ok   ${name}: ${ok} passed${skipped ? `, ${skipped} skipped` : ''} (${secs}s)`,
        );
      } else {
        failures.push(name);
        console.log(`FAIL ${name}: ${ok} passed, ${bad} failed (${secs}s)\n${res.out}`);
      }
    }
  }
} finally {
  for (const s of started) await s.stop();
  // Sweep servers a crashed test process left behind: every one wrote a pidfile under tmp.
  const sweep = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) sweep(p);
      else if (e.name === 'redis.pid') {
        try {
          process.kill(Number(readFileSync(p, 'utf8')), 'SIGKILL');
        } catch {}
      }
    }
  };
  sweep(tmp);
  rmSync(tmp, { recursive: true, force: true });
}

if (failures.length) console.log(`\nfailed: ${failures.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
