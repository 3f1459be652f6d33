#!lua name=cy_rate
-- version: 2
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
  `ts` field, so one shared key would mix their state without any error.
  Reply codes: none besides ERR_CY_ARG (see functions/error-codes.md).
]]

--[[ cy_rate_token_bucket: bucket of `capacity` tokens refilled continuously.
  KEYS[1] cy:rate:{key}:tb HASH {tokens (float), ts (ms of last refill)}
  ARGV[1] capacity (positive integer)
  ARGV[2] refill_per_ms (positive number, may be fractional: 0.001 = 1 token per second)
  ARGV[3] cost (positive integer <= capacity; '' or absent = 1)
  Returns {allowed, remaining tokens, retryAfterMs}. A new key starts full. ]]

--[[ cy_rate_sliding_window: at most `limit` units in any window of window_ms (exact log).
  KEYS[1] cy:rate:{key}:sw      ZSET one member per admitted unit, score = admission ms
  KEYS[2] cy:rate:{key}:sw:seq  STRING counter that makes members unique (two units in the
                             same ms are two members: '<ms>-<seq>')
  ARGV[1] limit (positive integer)   ARGV[2] window_ms (positive integer)
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
  local tokens = capacity
  if stored and ts then
    -- max(0, ...): a clock step backwards must not drain the bucket.
    tokens = math.min(capacity, tonumber(stored) + math.max(0, now - tonumber(ts)) * rate)
  end
  if tokens < cost then
    return {0, math.floor(tokens), ms((cost - tokens) / rate)}
  end
  tokens = tokens - cost
  rcall('HSET', keys[1], 'tokens', fmt(tokens), 'ts', now)
  -- Once full again the key may vanish: a missing key reads as a full bucket.
  rcall('PEXPIRE', keys[1], ms((capacity - tokens) / rate))
  return {1, math.floor(tokens), 0}
end

local ZADD_CHUNK = 1000 -- members per ZADD call

local function sliding_window(keys, args)
  local limit, window, cost, err
  limit, err = pos_int(args[1], 'limit'); if err then return err end
  window, err = pos_int(args[2], 'window_ms'); if err then return err end
  cost, err = cost_arg(args[3], limit); if err then return err end

  local now = now_ms()
  local floor = now - window -- entries scored <= floor have left the window
  -- Count without writing so a denied call writes nothing; the trim happens on admission.
  local used = rcall('ZCOUNT', keys[1], '(' .. floor, '+inf')
  if used + cost > limit then
    -- Admission needs the (used + cost - limit) oldest live units gone; the last of them
    -- leaves at its score + window.
    local k = used + cost - limit
    local nth = rcall('ZRANGEBYSCORE', keys[1], '(' .. floor, '+inf', 'WITHSCORES',
      'LIMIT', k - 1, 1)
    return {0, math.max(0, limit - used), math.max(1, tonumber(nth[2]) + window - now)}
  end
  rcall('ZREMRANGEBYSCORE', keys[1], '-inf', floor)
  local last = rcall('INCRBY', keys[2], cost)
  -- One member per unit. ZADD takes them in slices: unpack() fails beyond about 8000 values
  -- (Lua's LUAI_MAXCSTACK).
  for from = last - cost + 1, last, ZADD_CHUNK do
    local batch = {}
    for seq = from, math.min(from + ZADD_CHUNK - 1, last) do
      batch[#batch + 1] = now
      batch[#batch + 1] = now .. '-' .. seq
    end
    rcall('ZADD', keys[1], unpack(batch))
  end
  rcall('PEXPIRE', keys[1], window)
  rcall('PEXPIRE', keys[2], window)
  return {1, limit - used - cost, 0}
end

local function leaky_bucket(keys, args)
  local capacity, rate, cost, err = bucket_args(args, 'leak_per_ms')
  if err then return err end

  local now = now_ms()
  local stored, ts = unpack(rcall('HMGET', keys[1], 'level', 'ts'))
  local level = 0
  if stored and ts then
    level = math.max(0, tonumber(stored) - math.max(0, now - tonumber(ts)) * rate)
  end
  if level + cost > capacity then
    return {0, math.floor(capacity - level),
      ms((level + cost - capacity) / rate)}
  end
  level = level + cost
  rcall('HSET', keys[1], 'level', fmt(level), 'ts', now)
  -- Once drained the key may vanish: a missing key reads as an empty bucket.
  rcall('PEXPIRE', keys[1], ms(level / rate))
  return {1, math.floor(capacity - level), 0}
end

redis.register_function{function_name = 'cy_rate_token_bucket', callback = token_bucket,
  description = 'token bucket: {allowed, remaining, retryAfterMs}'}
redis.register_function{function_name = 'cy_rate_sliding_window', callback = sliding_window,
  description = 'sliding window log: {allowed, remaining, retryAfterMs}'}
redis.register_function{function_name = 'cy_rate_leaky_bucket', callback = leaky_bucket,
  description = 'leaky bucket (meter): {allowed, remaining, retryAfterMs}'}
