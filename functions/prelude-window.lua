--[[ prelude-window.lua: the sliding-window log shared by cy_rate_sliding_window
  (functions/cy_rate.lua), lua/sliding_window.lua and lua/rate_limiter.lua. Spliced in like
  prelude.lua (same block rules; its blocks may use prelude.lua's). ]]

--[[ The sliding-window log, one ZSET member per admission (not per unit: earlier versions
  stored a member per unit, so one call with cost 2,000,000 wrote 2,000,000 members and
  blocked the server for seconds).

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

-- A score as ZRANGEBYSCORE takes it (no exponent).
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
