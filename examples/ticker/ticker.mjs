// A ticker: ctx.every sends a tick to the sink; timers are cleared on stop and restart.
import { defineActor } from 'cyredis';

export default defineActor({
  init(ctx) {
    let n = 0;
    ctx.every(ctx.options.everyMs ?? 250, () => ctx.send('sink', { tick: ++n, at: Date.now() }));
  },
  receive: () => undefined,
});
