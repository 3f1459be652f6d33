// The smoke test's driver: round trips to the counter (another thread) and to the built-in
// echo kind, a Redis write, and an offloaded hash; it reports what it saw when it stops.
import { defineActor } from 'cyredis';

export default defineActor({
  init(ctx) {
    const state = { trips: 0, errors: 0, offloads: 0 };
    const key = `${ctx.options.prefix ?? 'example:smoke'}:pings`;
    ctx.every(ctx.options.everyMs ?? 50, async () => {
      try {
        const n = await ctx.call('counter', { add: 1 }, { timeoutMs: 1000 });
        const back = await ctx.call('echo', `ping ${n}`, { timeoutMs: 1000 });
        if (back !== `echo: ping ${n}`) throw new Error(`echo answered ${back}`);
        if (ctx.options.redis) await ctx.redis.incr(key);
        state.trips++;
      } catch (err) {
        state.errors++;
        ctx.log.warn(`round trip failed: ${err.message}`);
      }
    });
    ctx.every(250, async () => {
      const digest = await ctx.offload(
        async (text) =>
          (await import('node:crypto')).createHash('sha256').update(text).digest('hex'),
        `trip ${state.trips}`,
      );
      if (digest.length === 64) state.offloads++;
    });
    return state;
  },
  receive: () => undefined,
  stop(ctx, reason) {
    const { trips, errors, offloads } = ctx.state;
    ctx.log.info(`smoke: ${trips} round trips, ${errors} errors, ${offloads} offloads (${reason})`);
  },
});
