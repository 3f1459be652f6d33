-- version: 4
--[[ rate_limiter.lua: sliding-window log with a burst allowance (EVAL script).
  KEYS[1] log key   ZSET one member per admission (the log: functions/prelude-window.lua)
  ARGV[1] limit (positive integer, at most 1e12): units per window in steady state
  ARGV[2] window_ms (positive integer)
  ARGV[3] burst (integer >= 0, at most 1e12): extra units a window may take when the window
          before it left capacity unused
  ARGV[4] cost (positive integer <= limit; '' or absent = 1)
  Returns {allowed (0|1), remaining, retryAfterMs}

  Burst model: cur = units in (now - window, now], prev = units in (now - 2 window,
  now - window]. A request is admitted while cur + cost <= cap, with
      cap = min(limit + burst, 2 * limit - prev)      (= limit + carry, carry = limit - prev,
                                                       at most burst, possibly negative)
  So any window holds at most limit + burst units, and any two consecutive windows at most
  2 * limit: a window after a burst has less room than limit. (Version 1 floored the carry at
  0 and admitted limit + burst + limit over two windows.) Every admission checks the span
  (now - 2 window, now] that ends with it, so the bound holds for every span of 2 windows.
  remaining = cap - cur after the call (0 at least). retryAfterMs is exact if nothing else is
  admitted meanwhile: the later of the times when enough units leave the current window
  (cur + cost <= limit + burst) and leave the two-window span (cur + prev + cost <= 2 limit).
  A denied call writes nothing, except the one-time renumbering of a version-1 log (members
  '<ms>-<n>', functions/prelude-window.lua).
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one log key') end
local limit, window, burst, err
limit, err = pos_int(ARGV[1], 'limit'); if err then return err end
if limit > MAX_UNITS then return bad('limit', 'must be at most 1e12') end
window, err = pos_int(ARGV[2], 'window_ms'); if err then return err end
burst = int(ARGV[3])
if not burst or burst < 0 then return bad('burst', 'must be a non-negative integer') end
if burst > MAX_UNITS then return bad('burst', 'must be at most 1e12') end
local cost = 1
if not absent(ARGV[4]) then
  cost, err = pos_int(ARGV[4], 'cost'); if err then return err end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local key = KEYS[1]
local now = now_ms()
local cur_floor, prev_floor = now - window, now - 2 * window

local c = log_newest(key)
local cur, cur_base = log_after(key, cur_floor, c)
local span, span_base = log_after(key, prev_floor, c) -- cur + prev
local cap = math.min(limit + burst, 2 * limit - (span - cur))

if cur + cost > cap then
  -- Admitted once both hold: cur + cost <= limit + burst and span + cost <= 2 * limit.
  local at = now
  if cur + cost > limit + burst then
    at = math.max(at, log_unit_time(key, cur_floor, cur_base + cur + cost - limit - burst) + window)
  end
  if span + cost > 2 * limit then
    at = math.max(at, log_unit_time(key, prev_floor, span_base + span + cost - 2 * limit)
      + 2 * window)
  end
  return {0, math.max(0, cap - cur), ms(at - now)}
end

local ts = log_add(key, now, prev_floor, cost)
-- Two windows of history feed the carry.
rcall('PEXPIRE', key, ms(ts - now + 2 * window))
return {1, cap - cur - cost, 0}
