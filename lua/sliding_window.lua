-- version: 4
--[[ sliding_window.lua: ScriptHelper.rateLimitSlidingWindow (EVAL script).
  At most `limit` units in any window of window_ms (exact log on the server clock).
  KEYS[1] log key   ZSET one member per admission (the log: functions/prelude-window.lua)
  ARGV[1] limit (positive integer, at most 1e12)   ARGV[2] window_ms (positive integer; the
          facade turns window_seconds into ms)   ARGV[3] cost (positive integer <= limit;
          '' or absent = 1)
  Returns {allowed (0|1), remaining, retryAfterMs}; a denied call writes nothing, except the
          one-time renumbering of a version-1 log (members '<ms>-<n>').
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one log key') end
local limit, window, err
limit, err = pos_int(ARGV[1], 'limit'); if err then return err end
if limit > MAX_UNITS then return bad('limit', 'must be at most 1e12') end
window, err = pos_int(ARGV[2], 'window_ms'); if err then return err end
local cost = 1
if not absent(ARGV[3]) then
  cost, err = pos_int(ARGV[3], 'cost'); if err then return err end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local key = KEYS[1]
local now = now_ms()
local floor = now - window -- members scored <= floor have left the window

local used, base = log_after(key, floor, (log_newest(key)))
if used + cost > limit then
  -- The (used + cost - limit)-th oldest unit leaves last, with its member.
  local at = log_unit_time(key, floor, base + used + cost - limit)
  return {0, math.max(0, limit - used), ms(at + window - now)}
end
local ts = log_add(key, now, floor, cost)
rcall('PEXPIRE', key, ms(ts - now + window))
return {1, limit - used - cost, 0}
