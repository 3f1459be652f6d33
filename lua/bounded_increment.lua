-- version: 2
--[[ bounded_increment.lua: ScriptHelper.boundedIncrement (EVAL script).
  KEYS[1] counter key   STRING integer (missing = 0)
  ARGV[1] increment (integer, may be negative)   ARGV[2] min (integer)   ARGV[3] max (integer,
          >= min); all within +-(2^53 - 1), and so is a stored value read back
  Returns {1, new value} if min <= value + increment <= max (applied),
          {0, current value} otherwise (nothing written)
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer within 2^53 (tonumber alone accepts '0x10', '1e3', ' 5', 'inf'; 17
-- digits alone would let 99999999999999999 through, which a Lua number cannot hold exactly).
local function int(s)
  if type(s) ~= 'string' or #s > 17 or not s:match('^%-?%d+$') then return nil end
  local n = tonumber(s)
  if n > 9007199254740991 or n < -9007199254740991 then return nil end
  return n
end

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
