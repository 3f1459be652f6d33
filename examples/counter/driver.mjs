// Calls the counter every `options.everyMs` (typed request/reply across threads) and logs it.
import { defineActor } from 'cyredis';

export default defineActor({
  init(ctx) {
    const counter = ctx.ref('counter');
    ctx.every(ctx.options.everyMs ?? 500, async () => {
      const total = await ctx.call(counter, { add: 1 }, { timeoutMs: 1000 });
      ctx.log.info(`counter is at ${total}`);
    });
  },
  receive: () => undefined,
});
