// A counter answering calls: ctx.call(counter, { add: 2 }) resolves the new total.
import { defineActor } from 'cyredis';

export default defineActor({
  init: () => ({ total: 0 }),
  receive(msg, ctx) {
    if (msg === 'get') return ctx.state.total;
    if (typeof msg?.add !== 'number') throw new TypeError('expected { add: number } or "get"');
    ctx.state.total += msg.add;
    return ctx.state.total;
  },
});
