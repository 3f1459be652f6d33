// Receives ticks (from another thread) and reports the delivery lag now and then.
import { defineActor } from 'cyredis';

export default defineActor({
  init: () => ({ seen: 0 }),
  receive(msg, ctx) {
    ctx.state.seen++;
    ctx.counter('ticks').inc();
    if (msg.tick % 4 === 0)
      ctx.log.info(`tick ${msg.tick}, ${Date.now() - msg.at} ms after it left`);
  },
  stop(ctx, reason) {
    ctx.log.info(`saw ${ctx.state.seen} ticks (${reason})`);
  },
});
