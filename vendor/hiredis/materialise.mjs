// Materialises the hiredis 1.2.0 sources into vendor/hiredis/src/ at install time.
//
// The sources are never committed. They come from a pinned npm registry package whose tarball
// carries an unmodified hiredis 1.2.0 (see PROVENANCE.md and source.json):
//   1. `npm pack <package>@<version>` fetches the tarball through npm (its cache and registry);
//   2. the tarball's sha512 must equal source.json `integrity`, else we stop (IntegrityError);
//   3. each listed file is extracted and its sha256 must equal source.json `files[name]`;
//   4. patches.mjs is applied (each snippet must match exactly once);
//   5. a stamp records what was materialised, so a second install is a no-op.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { PATCH_LEVEL, patches } from './patches.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const source = JSON.parse(readFileSync(join(here, 'source.json'), 'utf8'));
export const SRC_DIR = join(here, 'src');
const STAMP = join(SRC_DIR, '.materialised.json');

export class IntegrityError extends Error {
  constructor(message) {
    super(message);
    this.name = 'IntegrityError';
  }
}

const stampText = () =>
  JSON.stringify({ integrity: source.integrity, patchLevel: PATCH_LEVEL, files: source.files });

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Reads a ustar archive: yields [path, contents] for regular files. */
function* untar(tar) {
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) return;
    const field = (start, len) =>
      header.toString('latin1', start, start + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const body = tar.subarray(off + 512, off + 512 + size);
    if (type === '0' || type === '') yield [name, body];
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

function fetchTarball(workDir) {
  const npm = process.env.npm_execpath;
  const spec = `${source.package}@${source.packageVersion}`;
  const [cmd, args] = npm
    ? [process.execPath, [npm, 'pack', spec, '--silent', '--pack-destination', workDir]]
    : ['npm', ['pack', spec, '--silent', '--pack-destination', workDir]];
  const name = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .trim()
    .split('\n')
    .pop();
  return readFileSync(join(workDir, name));
}

export function isMaterialised() {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stampText();
}

export function materialise({ log = () => {} } = {}) {
  if (isMaterialised()) return SRC_DIR;
  const workDir = mkdtempSync(join(tmpdir(), 'cyredis-hiredis-'));
  try {
    const tgz = fetchTarball(workDir);
    const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
    if (integrity !== source.integrity) {
      throw new IntegrityError(
        `${source.package}@${source.packageVersion} tarball integrity mismatch: expected ${source.integrity}, got ${integrity}`,
      );
    }
    const wanted = new Map(Object.entries(source.files));
    const files = new Map();
    for (const [path, body] of untar(gunzipSync(tgz))) {
      if (!path.startsWith(source.pathInPackage)) continue;
      const name = path.slice(source.pathInPackage.length);
      if (!wanted.has(name)) continue;
      if (sha256(body) !== wanted.get(name)) {
        throw new IntegrityError(`hiredis file ${name} does not match its pinned sha256`);
      }
      files.set(name, body.toString('latin1'));
    }
    const missing = [...wanted.keys()].filter((n) => !files.has(n));
    if (missing.length)
      throw new IntegrityError(`hiredis files missing from the tarball: ${missing}`);

    for (const { file, find, replace } of patches) {
      const text = files.get(file);
      const at = text.indexOf(find);
      if (at === -1 || text.indexOf(find, at + 1) !== -1) {
        throw new IntegrityError(
          `patch for ${file} does not apply: ${JSON.stringify(find.slice(0, 60))}`,
        );
      }
      files.set(file, text.slice(0, at) + replace + text.slice(at + find.length));
    }

    rmSync(SRC_DIR, { recursive: true, force: true });
    mkdirSync(SRC_DIR, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(SRC_DIR, name), text, 'latin1');
    writeFileSync(STAMP, stampText());
    log(
      `hiredis ${source.version} materialised from ${source.package}@${source.packageVersion} (${integrity.slice(0, 22)}...)`,
    );
    return SRC_DIR;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  materialise({ log: console.log });
}
