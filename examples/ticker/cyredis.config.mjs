// npx cyredis run examples/ticker
import { defineConfig } from 'cyredis';

export default defineConfig({
  threads: 2,
  actors: [
    { name: 'ticker', module: './ticker.mjs', options: { everyMs: 250 } },
    { name: 'sink', module: './sink.mjs' },
  ],
});
