// REDIS_URL=redis://127.0.0.1:6379 npx cyredis run examples/redis-writer
// Start it twice (two terminals): the leader runs in one; kill that one and the other leads.
import { defineConfig } from 'cyredis';

export default defineConfig({
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  namespace: 'examples',
  threads: 2,
  actors: [
    { name: 'writer', module: './writer.mjs', instances: 2, options: { everyMs: 200 } },
    { name: 'leader', module: './leader.mjs', singleton: true },
  ],
  placement: { leaseTtlMs: 5000 },
});
