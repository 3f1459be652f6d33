-- version: 2
--[[ sliding_window.lua: ScriptHelper.rateLimitSlidingWindow (EVAL script).
  At most `limit` units in any window of window_ms (exact log on the server clock).
  KEYS[1] log key   ZSET one member per admission (see the log below)
  ARGV[1] limit (positive integer, at most 1e12)   ARGV[2] window_ms (positive integer; the
          facade turns window_seconds into ms)   ARGV[3] cost (positive integer <= limit;
          '' or absent = 1)
  Returns {allowed (0|1), remaining, retryAfterMs}; a denied call writes nothing.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer >= 1 within 2^53 (tonumber alone accepts '0x10', '1e3', 'inf').
local function pos(s)
  local n = type(s) == 'string' and #s <= 17 and s:match('^%d+$') and tonumber(s)
  if n and n >= 1 and n <= 9007199254740991 then return n end
  return nil
end

-- A duration in whole ms, at least 1 and at most 2^53 - 1.
local function ms(x) return math.min(9007199254740991, math.max(1, math.ceil(x))) end

--[[ The sliding-window log, one ZSET member per admission (not per unit: earlier versions
  stored a member per unit, so one call with cost 2,000,000 wrote 2,000,000 members and
  blocked the server for seconds). The same code is in functions/cy_rate.lua and the other
  lua/ limiter.

  member '<c>:<cost>', score = admission ms. c counts the units admitted on the key, this
  admission's included: its units are c - cost + 1 .. c. c is zero-padded to 16 digits, so
  members with one score sort by c, and scores never go down (an admission is stamped with
  max(now, newest score), also when the clock steps back), so c grows with the rank:

      rank     0                    1                    2          ...   newest
      member   0000000000000002:2   0000000000000005:3   0000000000000006:1   ...
      units    1-2                  3-5                  6

  Units after time t: c(newest) - base, base = c - cost of the first member scored > t
  (O(log n)). The k-th oldest of them sits in the first member with c >= base + k, found by
  binary search over ranks (O(log^2 n), denied calls only). c restarts from 0 when the log
  empties and is renumbered from 1 past 2^52 (REBASE_AT), so it stays exact. A log written by
  an earlier version (members '<ms>-<n>', one unit each) is renumbered once on first use:
  that one-time rewrite may happen on a denied call too. ]]
local REBASE_AT = 2 ^ 52
local MAX_UNITS = 1e12 -- bound of limit (and burst): c and 2 * limit + burst stay exact

local function num(x) return string.format('%.0f', x) end

local function log_member(c, cost) return string.format('%016d:%d', c, cost) end

-- c and cost of a member; nil for a member written by an earlier version.
local function log_entry(m)
  local c, cost = m:match('^(%d+):(%d+)$')
  if not c then return nil end
  return tonumber(c), tonumber(cost)
end

-- Renumbers the log from c = 1 in rank order, scores unchanged (an earlier version's member
-- counts as one unit). A renamed member keeps its rank: within its score it sorts after the
-- members renamed before it (smaller c) and before those still to rename (larger c, or a
-- '<ms>-<n>' member: '0' < '1'). Returns the new c of the newest member.
local function log_renumber(key)
  local c, rank = 0, 0
  while true do
    local rows = rcall('ZRANGE', key, rank, rank + 999, 'WITHSCORES')
    if #rows == 0 then return c end
    for i = 1, #rows, 2 do
      local _, cost = log_entry(rows[i])
      cost = cost or 1
      c = c + cost
      rcall('ZREM', key, rows[i])
      rcall('ZADD', key, rows[i + 1], log_member(c, cost))
    end
    rank = rank + #rows / 2
  end
end

-- c and score of the newest member ({0, nil} when empty), renumbering an earlier version's log.
local function log_newest(key)
  local row = rcall('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #row == 0 then return 0, nil end
  local c = log_entry(row[1])
  if not c then c = log_renumber(key) end
  return c, tonumber(row[2])
end

-- Units admitted after time t, and base: those units are base + 1 .. c_last.
local function log_after(key, t, c_last)
  local first = rcall('ZRANGEBYSCORE', key, '(' .. num(t), '+inf', 'LIMIT', 0, 1)[1]
  if not first then return 0, c_last end
  local c, cost = log_entry(first)
  return c_last - (c - cost), c - cost
end

-- Score of the member holding unit number `target` (the first member with c >= target), among
-- the members scored > t. The caller knows that unit is in the log.
local function log_unit_time(key, t, target)
  local lo, hi = rcall('ZCOUNT', key, '-inf', num(t)), rcall('ZCARD', key) - 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if log_entry(rcall('ZRANGE', key, mid, mid)[1]) >= target then hi = mid else lo = mid + 1 end
  end
  return tonumber(rcall('ZRANGE', key, lo, lo, 'WITHSCORES')[2])
end

-- Drops the members scored <= drop_to, then records `cost` units at max(now, newest score).
-- Returns that score.
local function log_add(key, now, drop_to, cost)
  rcall('ZREMRANGEBYSCORE', key, '-inf', num(drop_to))
  local c, ts = log_newest(key) -- 0 when everything left: c restarts
  if c + cost > REBASE_AT then c = log_renumber(key) end
  ts = math.max(now, ts or now)
  rcall('ZADD', key, ts, log_member(c + cost, cost))
  return ts
end

if #KEYS ~= 1 then return bad('keys', 'must be the one log key') end
local limit, window = pos(ARGV[1]), pos(ARGV[2])
if not limit then return bad('limit', 'must be a positive integer') end
if limit > MAX_UNITS then return bad('limit', 'must be at most 1e12') end
if not window then return bad('window_ms', 'must be a positive integer') end
local cost = 1
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  cost = pos(ARGV[3])
  if not cost then return bad('cost', 'must be a positive integer') end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local key = KEYS[1]
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
