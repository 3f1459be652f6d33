// A singleton: one leader across every supervisor of the namespace. The runtime stops a leader
// before its lease can expire (killing its thread if need be), but a leader can still be
// deposed while a write of its own is on the wire (a pause, a partition). So its writes are
// fenced: the data key carries the fencing token of the leader that wrote it, and a write
// with a lower token than that is refused by Redis itself, atomically, in the script below.
import { defineActor } from 'cyredis';

const FENCED_SET = `--[[ Set a value unless a newer leader has written it.
  KEYS[1] the data key (a hash: value, token)
  ARGV[1] the writer's fencing token   ARGV[2] the value
  Returns 1 written, 0 refused: a higher token wrote it already ]]
local last = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tonumber(ARGV[1]) < last then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[2], 'token', ARGV[1])
return 1`;

/** A fenced write on `redis`: (key, token, value) resolves false when a newer leader wrote. */
export function fencedSet(redis) {
  const script = redis.defineScript(FENCED_SET);
  return async (key, token, value) => (await script.run([key], [String(token), value])) === 1;
}

export default defineActor({
  init(ctx) {
    const key = `${ctx.options.prefix ?? 'example:writer'}:leader`;
    const write = fencedSet(ctx.redis);
    ctx.log.info(`leading with fencing token ${ctx.fencingToken}`);
    ctx.every(1000, async () => {
      const value = `${ctx.supervisorId} at ${new Date().toISOString()}`;
      if (!(await write(key, ctx.fencingToken, value)))
        ctx.log.warn(`deposed: a leader with a newer token than ${ctx.fencingToken} wrote ${key}`);
    });
  },
  receive: () => undefined,
});
