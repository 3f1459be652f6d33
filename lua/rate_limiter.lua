-- version: 2
--[[ rate_limiter.lua: sliding-window log with a burst allowance (EVAL script).
  KEYS[1] log key   ZSET one member per admission (see the log below)
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
  A denied call writes nothing.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer within 2^53 (tonumber alone accepts '0x10', '1e3', ' 5', 'inf').
local function int(s)
  if type(s) ~= 'string' or #s > 17 or not s:match('^%-?%d+$') then return nil end
  local n = tonumber(s)
  if n > 9007199254740991 or n < -9007199254740991 then return nil end
  return n
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
local limit, window, burst = int(ARGV[1]), int(ARGV[2]), int(ARGV[3])
if not limit or limit < 1 then return bad('limit', 'must be a positive integer') end
if limit > MAX_UNITS then return bad('limit', 'must be at most 1e12') end
if not window or window < 1 then return bad('window_ms', 'must be a positive integer') end
if not burst or burst < 0 then return bad('burst', 'must be a non-negative integer') end
if burst > MAX_UNITS then return bad('burst', 'must be at most 1e12') end
local cost = 1
if ARGV[4] ~= nil and ARGV[4] ~= '' then
  cost = int(ARGV[4])
  if not cost or cost < 1 then return bad('cost', 'must be a positive integer') end
  if cost > limit then return bad('cost', 'must not exceed limit') end
end

local key = KEYS[1]
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
