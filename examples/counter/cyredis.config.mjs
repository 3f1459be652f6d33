// npx cyredis run examples/counter
import { defineConfig } from 'cyredis';

export default defineConfig({
  threads: 2,
  actors: [
    { name: 'counter', module: './counter.mjs' },
    { name: 'driver', module: './driver.mjs', options: { everyMs: 500 } },
  ],
});
