// A smoke test that ends by itself:
//   npx cyredis run examples/smoke --for 5s       (or CYREDIS_RUN_FOR=5s)
// Set REDIS_URL to include Redis writes.
import { defineConfig } from 'cyredis';

const redis = process.env.REDIS_URL;

export default defineConfig({
  ...(redis ? { redis } : {}),
  threads: 2,
  actors: [
    { name: 'counter', module: '../counter/counter.mjs' },
    { name: 'echo', kind: 'echo', options: { prefix: 'echo: ' } },
    { name: 'pinger', module: './pinger.mjs', options: { everyMs: 50, redis: Boolean(redis) } },
  ],
});
