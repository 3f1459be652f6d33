#!lua name=cy_rate
-- version: 3
--[[ cy_rate: rate limiters on the server clock (TIME, ms), one round trip each.

  Every function returns {allowed (0|1), remaining, retryAfterMs}:
    remaining     whole units still available after this call (floor)
    retryAfterMs  0 when allowed; otherwise how long until `cost` units would be admitted if
                  nothing else is admitted meanwhile (ceil, >= 1)
  A denied call writes nothing. `cost` larger than the capacity/limit can never be admitted
  and is an ERR_CY_ARG error rather than a permanent denial.
  Keys expire once idle: the TTL is the time after which a missing key means exactly the same
  as the stored state (full bucket, empty window, drained bucket).
  Each algorithm has its own key suffix (:tb, :sw, :lb): the two buckets are both hashes with a
  `ts` field, so one shared key would mix their state without any error. Every function checks
  its KEYS first (count and suffix).
  The buckets never move `ts` back: after a server clock step backwards they keep the later ts
  (no refill / leak until the clock passes it again) rather than rewind it, which would count
  the same interval twice once the clock catches up (version 2 did).
  Reply codes: none besides ERR_CY_ARG (see functions/error-codes.md).
]]

--[[ cy_rate_token_bucket: bucket of `capacity` tokens refilled continuously.
  KEYS[1] cy:rate:{key}:tb HASH {tokens (float), ts (ms of last refill)}
  ARGV[1] capacity (positive integer)
  ARGV[2] refill_per_ms (positive number, may be fractional: 0.001 = 1 token per second)
  ARGV[3] cost (positive integer <= capacity; '' or absent = 1)
  Returns {allowed, remaining tokens, retryAfterMs}. A new key starts full. ]]

--[[ cy_rate_sliding_window: at most `limit` units in any window of window_ms (exact log).
  KEYS[1] cy:rate:{key}:sw   ZSET one member per admission (see the log below)
          (version 2 also took cy:rate:{key}:sw:seq: still accepted as KEYS[2], and ignored)
  ARGV[1] limit (positive integer, at most 1e12)   ARGV[2] window_ms (positive integer)
  ARGV[3] cost (positive integer <= limit; '' or absent = 1)
  Returns {allowed, remaining in the current window, retryAfterMs}.
  A unit admitted at t counts while now < t + window_ms. ]]

--[[ cy_rate_leaky_bucket: bucket of `capacity` that leaks continuously (meter form:
  a request adds `cost` to the level; it is admitted while the level stays <= capacity).
  KEYS[1] cy:rate:{key}:lb HASH {level (float), ts (ms of last leak)}
  ARGV[1] capacity (positive integer)
  ARGV[2] leak_per_ms (positive number, may be fractional)
  ARGV[3] cost (positive integer <= capacity; '' or absent = 1)
  Returns {allowed, remaining room (capacity - level, floor), retryAfterMs}. ]]

-- redis.call does not exist while FUNCTION LOAD runs the library body (Redis 7.0), so it is
-- resolved when a function runs.
local function rcall(...) return redis.call(...) end

-- Validation helpers, repeated in every cy_* library (libraries cannot share code).
local MAX_SAFE = 9007199254740991 -- 2^53 - 1

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Decimal digits only: tonumber() alone accepts ' 5 ', '0x10', '1e3' and 'inf'.
local function int(s)
  if type(s) ~= 'string' or #s > 17 or not s:match('^%-?%d+$') then return nil end
  local n = tonumber(s)
  if n > MAX_SAFE or n < -MAX_SAFE then return nil end
  return n
end

local function pos_int(s, field)
  local n = int(s)
  if not n or n < 1 then return nil, bad(field, 'must be a positive integer') end
  return n
end

-- Plain decimal (optionally with a fraction or exponent), finite and > 0.
local function pos_num(s, field)
  local n = type(s) == 'string' and s:match('^%d*%.?%d*[eE]?[-+]?%d*$') and tonumber(s)
  if not n or n ~= n or n <= 0 or n == math.huge then
    return nil, bad(field, 'must be a positive number')
  end
  return n
end

-- Optional cost: '' or absent = 1; never above what the limiter can ever hold.
local function cost_arg(s, max)
  if s == nil or s == '' then return 1 end
  local n, err = pos_int(s, 'cost')
  if err then return nil, err end
  if n > max then return nil, bad('cost', 'must not exceed the capacity or limit') end
  return n
end

local function now_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A duration in whole ms, at least 1 and at most 2^53 - 1. A tiny rate makes (x / rate) huge
-- or inf: unclamped, PEXPIRE refused it after the HSET (a partial write) and retryAfterMs
-- overflowed the integer reply (version 1 bug). 2^53 ms is about 285,000 years: "never".
local function ms(x) return math.min(MAX_SAFE, math.max(1, math.ceil(x))) end

-- Floats are stored with 17 significant digits: tostring() keeps only 14.
local function fmt(x) return string.format('%.17g', x) end

-- Registers a function behind its KEYS and ARGV checks: check(keys) returns an error reply or
-- nil, and spec.args is the most ARGV the function takes (nil: it checks a count that depends
-- on its keys itself). A key missing, extra or out of place would otherwise fail half-way or
-- write where nothing reads; a missing argument gets the error naming it; a surplus one means
-- a caller written for another contract, refused rather than half understood.
local function register(spec)
  local check, callback, most = spec.keys, spec.callback, spec.args
  redis.register_function{function_name = spec.function_name, flags = spec.flags,
    description = spec.description,
    callback = function(keys, args)
      local err = check(keys)
      if err then return err end
      if most and #args > most then
        return bad('args', 'must be at most ' .. most .. ' values (got ' .. #args .. ')')
      end
      return callback(keys, args)
    end}
end

-- One key with the algorithm's suffix (a version-2 sliding-window caller adds <k>:seq).
local function rate_key(suffix)
  return function(keys)
    local k = keys[1]
    if type(k) == 'string' and #k > #suffix and k:sub(-#suffix) == suffix
        and (#keys == 1 or (suffix == ':sw' and #keys == 2 and keys[2] == k .. ':seq')) then
      return nil
    end
    return bad('keys', 'must be the one key <k>' .. suffix)
  end
end

--[[ The sliding-window log, one ZSET member per admission (not per unit: earlier versions
  stored a member per unit, so one call with cost 2,000,000 wrote 2,000,000 members and
  blocked the server for seconds). The same code is in lua/sliding_window.lua and
  lua/rate_limiter.lua.

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

-- Common argument shape of the two buckets: capacity, rate, cost.
local function bucket_args(args, rate_field)
  local capacity, rate, cost, err
  capacity, err = pos_int(args[1], 'capacity'); if err then return nil, nil, nil, err end
  rate, err = pos_num(args[2], rate_field); if err then return nil, nil, nil, err end
  cost, err = cost_arg(args[3], capacity); if err then return nil, nil, nil, err end
  return capacity, rate, cost
end

local function token_bucket(keys, args)
  local capacity, rate, cost, err = bucket_args(args, 'refill_per_ms')
  if err then return err end

  local now = now_ms()
  local stored, ts = unpack(rcall('HMGET', keys[1], 'tokens', 'ts'))
  local tokens, last = capacity, now
  if stored and ts then
    -- max: a clock step backwards neither drains the bucket nor rewinds ts (see the header).
    last = math.max(now, tonumber(ts))
    tokens = math.min(capacity, tonumber(stored) + math.max(0, now - tonumber(ts)) * rate)
  end
  if tokens < cost then
    return {0, math.floor(tokens), ms(last - now + (cost - tokens) / rate)}
  end
  tokens = tokens - cost
  rcall('HSET', keys[1], 'tokens', fmt(tokens), 'ts', last)
  -- Once full again the key may vanish: a missing key reads as a full bucket.
  rcall('PEXPIRE', keys[1], ms(last - now + (capacity - tokens) / rate))
  return {1, math.floor(tokens), 0}
end

local function sliding_window(keys, args)
  local limit, window, cost, err
  limit, err = pos_int(args[1], 'limit'); if err then return err end
  if limit > MAX_UNITS then return bad('limit', 'must be at most 1e12') end
  window, err = pos_int(args[2], 'window_ms'); if err then return err end
  cost, err = cost_arg(args[3], limit); if err then return err end

  local key = keys[1]
  local now = now_ms()
  local floor = now - window -- members scored <= floor have left the window
  -- Count without writing so a denied call writes nothing; the trim happens on admission.
  local used, base = log_after(key, floor, (log_newest(key)))
  if used + cost > limit then
    -- Admission needs the (used + cost - limit) oldest units of the window gone: they leave
    -- with the member holding the last of them.
    local t = log_unit_time(key, floor, base + used + cost - limit)
    return {0, math.max(0, limit - used), ms(t + window - now)}
  end
  local ts = log_add(key, now, floor, cost)
  rcall('PEXPIRE', key, ms(ts - now + window))
  return {1, limit - used - cost, 0}
end

local function leaky_bucket(keys, args)
  local capacity, rate, cost, err = bucket_args(args, 'leak_per_ms')
  if err then return err end

  local now = now_ms()
  local stored, ts = unpack(rcall('HMGET', keys[1], 'level', 'ts'))
  local level, last = 0, now
  if stored and ts then
    last = math.max(now, tonumber(ts)) -- never rewound (see the header)
    level = math.max(0, tonumber(stored) - math.max(0, now - tonumber(ts)) * rate)
  end
  if level + cost > capacity then
    return {0, math.floor(capacity - level),
      ms(last - now + (level + cost - capacity) / rate)}
  end
  level = level + cost
  rcall('HSET', keys[1], 'level', fmt(level), 'ts', last)
  -- Once drained the key may vanish: a missing key reads as an empty bucket.
  rcall('PEXPIRE', keys[1], ms(last - now + level / rate))
  return {1, math.floor(capacity - level), 0}
end

register{function_name = 'cy_rate_token_bucket', args = 3, keys = rate_key(':tb'),
  callback = token_bucket, description = 'token bucket: {allowed, remaining, retryAfterMs}'}
register{function_name = 'cy_rate_sliding_window', args = 3, keys = rate_key(':sw'),
  callback = sliding_window, description = 'sliding window log: {allowed, remaining, retryAfterMs}'}
register{function_name = 'cy_rate_leaky_bucket', args = 3, keys = rate_key(':lb'),
  callback = leaky_bucket, description = 'leaky bucket (meter): {allowed, remaining, retryAfterMs}'}
