#!/usr/bin/env node
// The `cyredis` command. The CLI is TypeScript (bin/cli.ts), compiled to dist/bin/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('cyredis: dist/bin/cli.js is missing: build first (npm run build)');
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(process.argv.slice(2));
process.exit(code);
