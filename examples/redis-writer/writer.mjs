// Writes to Redis on its thread's native connection: INCR a counter, XADD an event.
import { defineActor } from 'cyredis';

export default defineActor({
  init(ctx) {
    const prefix = ctx.options.prefix ?? 'example:writer';
    ctx.every(ctx.options.everyMs ?? 200, async () => {
      const n = await ctx.redis.incr(`${prefix}:count`);
      await ctx.redis.call(
        'XADD',
        `${prefix}:events`,
        'MAXLEN',
        '~',
        '1000',
        '*',
        'by',
        ctx.id,
        'n',
        String(n),
      );
      if (n % 10 === 0) ctx.log.info(`${prefix}:count = ${n}`);
    });
  },
  receive: () => undefined,
});
