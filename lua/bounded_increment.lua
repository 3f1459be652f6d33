-- version: 3
--[[ bounded_increment.lua: ScriptHelper.boundedIncrement (EVAL script).
  KEYS[1] counter key   STRING integer (missing = 0)
  ARGV[1] increment (integer, may be negative)   ARGV[2] min (integer)   ARGV[3] max (integer,
          >= min); all within +-(2^53 - 1), and so is a stored value read back
  Returns {1, new value} if min <= value + increment <= max (applied),
          {0, current value} otherwise (nothing written)
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one counter key') end
local by, min, max = int(ARGV[1]), int(ARGV[2]), int(ARGV[3])
if not by then return bad('increment', 'must be an integer') end
if not min then return bad('min', 'must be an integer') end
if not max then return bad('max', 'must be an integer') end
if max < min then return bad('max', 'must not be below min') end

local raw = rcall('GET', KEYS[1])
local current = 0
if raw then
  current = int(raw)
  if not current then return redis.error_reply('ERR value is not an integer or out of range') end
end
local value = current + by
if value < min or value > max then return {0, current} end
rcall('SET', KEYS[1], value, 'KEEPTTL')
return {1, value}
