// A singleton: one leader across every supervisor of the namespace. It stamps its writes
// with the lease's fencing token, so a deposed leader's late write can be refused.
import { defineActor } from 'cyredis';

export default defineActor({
  init(ctx) {
    ctx.log.info(`leading with fencing token ${ctx.fencingToken}`);
    ctx.every(1000, () =>
      ctx.redis.call(
        'SET',
        `${ctx.options.prefix ?? 'example:writer'}:leader`,
        `${ctx.supervisorId} token ${ctx.fencingToken}`,
      ),
    );
  },
  receive: () => undefined,
});
