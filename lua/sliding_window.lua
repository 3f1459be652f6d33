-- version: 1
--[[ sliding_window.lua: ScriptHelper.rateLimitSlidingWindow (EVAL script).
  At most `limit` units in any window of window_ms (exact log on the server clock).
  KEYS[1] log key   ZSET one member per admitted unit, score = admission ms
  ARGV[1] limit (positive integer)   ARGV[2] window_ms (positive integer; the facade turns
          window_seconds into ms)   ARGV[3] cost (positive integer <= limit; '' or absent = 1)
  Returns {allowed (0|1), remaining, retryAfterMs}; a denied call writes nothing.
  Members are '<microseconds since epoch>-<n>' with the first n that ZADD NX accepts, so
  two units in the same ms (or microsecond) are two members without a second key.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer >= 1 within 2^53 (tonumber alone accepts '0x10', '1e3', 'inf').
local function pos(s)
  local n = type(s) == 'string' and #s <= 17 and s:match('^%d+$') and tonumber(s)
  if n and n >= 1 then return n end
  return nil
end

local limit, window = pos(ARGV[1]), pos(ARGV[2])
if not limit then return bad('limit', 'must be a positive integer') end
if not window then return bad('window_ms', 'must be a positive integer') end
local cost = 1
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  cost = pos(ARGV[3])
  if not cost then return bad('cost', 'must be a positive integer') end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local floor = now - window -- units scored <= floor have left the window

local used = rcall('ZCOUNT', KEYS[1], '(' .. floor, '+inf')
if used + cost > limit then
  -- The (used + cost - limit)-th oldest unit leaves last, at its score + window.
  local nth = rcall('ZRANGEBYSCORE', KEYS[1], '(' .. floor, '+inf', 'WITHSCORES',
    'LIMIT', used + cost - limit - 1, 1)
  return {0, math.max(0, limit - used), math.max(1, tonumber(nth[2]) + window - now)}
end

rcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', floor)
local stamp, n = t[1] .. string.format('%06d', tonumber(t[2])) .. '-', 0
for _ = 1, cost do
  while rcall('ZADD', KEYS[1], 'NX', now, stamp .. n) == 0 do n = n + 1 end
  n = n + 1
end
rcall('PEXPIRE', KEYS[1], window)
return {1, limit - used - cost, 0}
