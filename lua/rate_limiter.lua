-- version: 1
--[[ rate_limiter.lua: sliding-window log with a burst allowance (EVAL script).
  KEYS[1] log key   ZSET one member per admitted unit, score = admission ms (server TIME)
  KEYS[2] seq key   STRING counter making members unique ('<ms>-<seq>'); same hash tag
  ARGV[1] limit (positive integer): units per window in steady state
  ARGV[2] window_ms (positive integer)
  ARGV[3] burst (integer >= 0): extra units a window may take when the previous window left
          capacity unused
  ARGV[4] cost (positive integer <= limit; '' or absent = 1)
  Returns {allowed (0|1), remaining, retryAfterMs}

  Burst model: cur = units in (now - window, now], prev = units in (now - 2 window,
  now - window]. A request is admitted while cur + cost <= limit + carry, with
  carry = min(burst, limit - prev) (never below 0). So any one window holds at most
  limit + burst units, and any two consecutive windows at most 2 * limit: bursts are paid
  back by the quiet window before them.
  remaining = limit + carry - cur after the call. retryAfterMs is when enough units leave the
  current window for cur + cost <= limit; that bound holds whatever the carry does, and an
  earlier retry may already pass when older units free up carry. A denied call writes nothing.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer within 2^53 (tonumber alone accepts '0x10', '1e3', ' 5', 'inf').
local function int(s)
  if type(s) ~= 'string' or #s > 17 or not s:match('^%-?%d+$') then return nil end
  return tonumber(s)
end

local limit, window, burst = int(ARGV[1]), int(ARGV[2]), int(ARGV[3])
if not limit or limit < 1 then return bad('limit', 'must be a positive integer') end
if not window or window < 1 then return bad('window_ms', 'must be a positive integer') end
if not burst or burst < 0 then return bad('burst', 'must be a non-negative integer') end
local cost = 1
if ARGV[4] ~= nil and ARGV[4] ~= '' then
  cost = int(ARGV[4])
  if not cost or cost < 1 then return bad('cost', 'must be a positive integer') end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur_floor, prev_floor = now - window, now - 2 * window

local cur = rcall('ZCOUNT', KEYS[1], '(' .. cur_floor, '+inf')
local prev = rcall('ZCOUNT', KEYS[1], '(' .. prev_floor, cur_floor)
local cap = limit + math.min(burst, math.max(0, limit - prev))

if cur + cost > cap then
  -- cur + cost > cap >= limit, so k >= 1 units must leave; the k-th oldest leaves last.
  local k = cur + cost - limit
  local nth = rcall('ZRANGEBYSCORE', KEYS[1], '(' .. cur_floor, '+inf', 'WITHSCORES',
    'LIMIT', k - 1, 1)
  return {0, math.max(0, cap - cur), math.max(1, tonumber(nth[2]) + window - now)}
end

rcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', prev_floor)
local last = rcall('INCRBY', KEYS[2], cost)
-- One member per unit, ZADDed in slices: unpack() fails beyond about 8000 values.
local CHUNK = 1000
for from = last - cost + 1, last, CHUNK do
  local batch = {}
  for seq = from, math.min(from + CHUNK - 1, last) do
    batch[#batch + 1] = now
    batch[#batch + 1] = now .. '-' .. seq
  end
  rcall('ZADD', KEYS[1], unpack(batch))
end
-- Two windows of history feed the carry.
rcall('PEXPIRE', KEYS[1], 2 * window)
rcall('PEXPIRE', KEYS[2], 2 * window)
return {1, cap - cur - cost, 0}
