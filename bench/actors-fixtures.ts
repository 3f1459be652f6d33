/** Actors for bench/actors.ts: a source that blasts or pings, a sink that counts. */
import { defineActor } from '../runtime/actor/index.js';

type SrcMsg = { op: 'blast'; n: number } | { op: 'ping'; n: number };

export const src = defineActor<
  Record<string, never>,
  SrcMsg,
  { seconds: number } | { latenciesUs: number[] }
>({
  async receive(msg, ctx) {
    if (msg.op === 'blast') {
      const t0 = performance.now();
      for (let i = 0; i < msg.n; i++) await ctx.send('sink', i);
      // The sink handles in order: its reply to this call comes after every message before it.
      await ctx.call('sink', -1);
      return { seconds: (performance.now() - t0) / 1000 };
    }
    const latenciesUs: number[] = [];
    for (let i = 0; i < msg.n; i++) {
      const t = performance.now();
      await ctx.call('sink', i);
      latenciesUs.push((performance.now() - t) * 1000);
    }
    return { latenciesUs };
  },
});

export const sink = defineActor<{ n: number }, number, number>({
  init: () => ({ n: 0 }),
  receive(msg, ctx) {
    return msg === -1 ? ctx.state.n : ++ctx.state.n;
  },
});
