#!lua name=cy_rate
-- version: 5
--[[ cy_rate: rate limiters on the server clock (TIME, ms), one round trip each.

  Every function returns {allowed (0|1), remaining, retryAfterMs}:
    remaining     whole units still available after this call (floor)
    retryAfterMs  0 when allowed; otherwise how long until `cost` units would be admitted if
                  nothing else is admitted meanwhile (ceil, >= 1)
  A denied call writes nothing, except the one-time renumbering of a version-2 log
  (sliding_window: members '<ms>-<n>', functions/prelude-window.lua). `cost` larger than the
  capacity/limit can never be admitted and is an ERR_CY_ARG error rather than a permanent
  denial.
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
  KEYS[1] cy:rate:{key}:sw   ZSET one member per admission (the log: functions/prelude-window.lua)
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

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).

-- Optional cost: '' or absent = 1; never above what the limiter can ever hold.
local function cost_arg(s, max)
  if absent(s) then return 1 end
  local n, err = pos_int(s, 'cost')
  if err then return nil, err end
  if n > max then return nil, bad('cost', 'must not exceed the capacity or limit') end
  return n
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
  -- Count without trimming so a denied call writes nothing (but for the one-time renumbering
  -- of a version-2 log); the trim happens on admission.
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
