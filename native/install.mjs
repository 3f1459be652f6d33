// `npm install` for cyredis: materialise hiredis, build the native addon, build the TypeScript.
//
// The native addon is optional: if it cannot be built (no compiler, no headers) the install
// still succeeds, the pure-TypeScript reader and transport are used, and one warning line says
// so (the full build log is kept in native/build-error.log). A hiredis tarball whose integrity
// does not match its pin is different: that fails the install loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntegrityError, materialise } from '../vendor/hiredis/materialise.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeOnly = process.argv.includes('--native-only');
const errorLog = join(root, 'native', 'build-error.log');

function nodeGypCommand() {
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  for (const candidate of [process.env.npm_config_node_gyp, bundled]) {
    if (candidate && existsSync(candidate)) return [process.execPath, [candidate]];
  }
  return ['node-gyp', []];
}

function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function buildNative() {
  try {
    materialise({ log: (line) => console.log(`cyredis: ${line}`) });
  } catch (err) {
    if (err instanceof IntegrityError) {
      console.error(`cyredis: ${err.message}`);
      process.exit(1);
    }
    return `hiredis sources unavailable (${err.message.split('\n')[0]})`;
  }
  const [cmd, pre] = nodeGypCommand();
  const res = spawnSync(
    cmd,
    [...pre, 'rebuild', '--directory', join(root, 'native'), ...nodeDirArgs()],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (res.status === 0) {
    rmSync(errorLog, { force: true });
    return null;
  }
  writeFileSync(errorLog, `${res.error ?? ''}\n${res.stdout ?? ''}\n${res.stderr ?? ''}`);
  return `node-gyp failed (log: native/build-error.log)`;
}

function buildTypeScript() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return; // installed as a dependency: dist/ ships in the package
  const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

const problem = buildNative();
if (problem) {
  console.warn(
    `cyredis: WARNING native addon not built, using the TypeScript fallback: ${problem}`,
  );
} else {
  console.log('cyredis: native addon built (hiredis 1.2.0)');
}
if (!nativeOnly) buildTypeScript();
