import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The cyredis package root (where package.json, native/, lua/ and functions/ live), found by
 * walking up from this file, so it is right both from the sources and from dist/.
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cyredis'
    ) {
      return dir;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cyredis: package root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
})();
