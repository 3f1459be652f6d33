#!/usr/bin/env node
// The `cyredis` command. The CLI is TypeScript (bin/cli.ts), compiled to dist/bin/cli.js.
// main() never throws; anything escaping it anyway is one line and exit 1, not a stack trace.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('cyredis: dist/bin/cli.js is missing: build first (npm run build)');
  process.exit(1);
}
let code = 1;
try {
  const { main } = await import(cli.href);
  code = await main(process.argv.slice(2));
} catch (err) {
  console.error(`cyredis: unexpected error: ${String(err?.message ?? err).split('\n')[0]}`);
}
process.exit(code);
