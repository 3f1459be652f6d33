#!lua name=cy_sema
-- version: 2
--[[ cy_sema: counting semaphore with per-holder expiring permits, and countdown latches.

  Semaphore keys (same hash tag):
    cy:sema:{name}            ZSET holder -> lease expiry, ms on the server clock (TIME)
    cy:sema:{name}:permits    HASH holder -> permits held
  A holder whose expiry is <= now is expired: writing functions purge it (both keys) first;
  the read-only `available` ignores it instead. Both keys get a PEXPIRE reaching the latest
  holder expiry, so an abandoned semaphore disappears by itself.
  The limit is not stored: every call passes it, so lowering it takes effect at once (holders
  above the new limit keep their permits until they release or expire).

  Latch key:
    cy:latch:{name}           STRING remaining count. countdown PUBLISHes '0' on the channel
                              named like the key (cy:latch:{name}) when it reaches 0; waiting
                              ("await") is client side: SUBSCRIBE that channel, then
                              FCALL_RO cy_sema_latch_status to close the race, wait for the
                              message (functions cannot block).
  Every function checks its KEYS first: a semaphore's two keys in order, or one latch key.
  Reply codes: see functions/error-codes.md (-1 not held, -4 not found).
]]

--[[ cy_sema_acquire: take permits (re-acquire adds permits and refreshes the expiry).
  KEYS[1] cy:sema:{name}   KEYS[2] cy:sema:{name}:permits
  ARGV[1] holder (non-empty)   ARGV[2] permits (positive integer)
  ARGV[3] limit (positive integer)   ARGV[4] ttl_ms (positive integer)
  Returns {1, remaining} if granted, {0, remaining} if total + permits > limit (nothing
          written except the purge of expired holders); remaining = limit - permits in use
          after the call, never below 0 ]]

--[[ cy_sema_release: give back permits.
  KEYS[1] cy:sema:{name}   KEYS[2] cy:sema:{name}:permits
  ARGV[1] holder   ARGV[2] permits (optional; '' or absent = all the holder has)
  Returns the number of permits the holder still has (0 = fully released, entry removed),
          -1 if the holder holds nothing (never acquired, released or expired) ]]

--[[ cy_sema_refresh: extend a holder's lease.
  KEYS[1] cy:sema:{name}   KEYS[2] cy:sema:{name}:permits
  ARGV[1] holder   ARGV[2] ttl_ms
  Returns 1 refreshed, -1 if the holder holds nothing (or already expired) ]]

--[[ cy_sema_available: permits free now (no-writes, FCALL_RO; does not purge).
  KEYS[1] cy:sema:{name}   KEYS[2] cy:sema:{name}:permits
  ARGV[1] limit
  Returns limit - permits held by unexpired holders, never below 0 ]]

--[[ cy_sema_latch_init: create a latch if it does not exist.
  KEYS[1] cy:latch:{name}
  ARGV[1] count (positive integer)   ARGV[2] ttl_ms (optional; '' or absent = no expiry)
  Returns 1 created, 0 already exists (untouched) ]]

--[[ cy_sema_countdown: count a latch down by one.
  KEYS[1] cy:latch:{name}
  ARGV    none
  Returns remaining count (>= 0; stays 0 once open), -4 if the latch does not exist.
          Publishes '0' on channel cy:latch:{name} on the call that reaches 0 ]]

--[[ cy_sema_latch_status: read a latch (no-writes, FCALL_RO).
  KEYS[1] cy:latch:{name}
  ARGV    none
  Returns remaining count, -4 if the latch does not exist ]]

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

local function name(s, field)
  if type(s) ~= 'string' or s == '' then return nil, bad(field, 'must be a non-empty string') end
  return s
end

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

-- The keys of one structure, in order: <base><suffix_1>, <base><suffix_2>, ...
local function family(suffixes, what)
  local first = suffixes[1]
  return function(keys)
    local k1 = keys[1]
    if #keys == #suffixes and type(k1) == 'string' and #k1 > #first
        and k1:sub(#k1 - #first + 1) == first then
      local base, ok = k1:sub(1, #k1 - #first), true
      for i = 2, #suffixes do
        if keys[i] ~= base .. suffixes[i] then ok = false; break end
      end
      if ok then return nil end
    end
    return bad('keys', 'must be ' .. what)
  end
end

-- Exactly n keys.
local function exactly(n, what)
  return function(keys)
    if #keys ~= n then return bad('keys', 'must be ' .. what) end
  end
end

local sema_keys = family({'', ':permits'}, 'the 2 keys <s>, <s>:permits of one semaphore')
local latch_key = exactly(1, 'the one key of a latch')

local function now_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- unpack() fails beyond about 8000 values (Lua's LUAI_MAXCSTACK), so holder lists are sent
-- in slices of CHUNK.
local CHUNK = 1000

local function slice(list, i)
  return unpack(list, i, math.min(i + CHUNK - 1, #list))
end

-- Drop holders whose lease has ended (score <= now) from both keys.
local function purge(zset, hash, now)
  local expired = rcall('ZRANGEBYSCORE', zset, '-inf', now)
  if #expired == 0 then return end
  rcall('ZREMRANGEBYSCORE', zset, '-inf', now)
  for i = 1, #expired, CHUNK do rcall('HDEL', hash, slice(expired, i)) end
end

-- Sum of permits of the given holders (all live ones after a purge).
local function in_use(hash, holders)
  local total = 0
  for i = 1, #holders, CHUNK do
    for _, v in ipairs(rcall('HMGET', hash, slice(holders, i))) do
      total = total + (tonumber(v) or 0)
    end
  end
  return total
end

-- Keep both keys alive until the last holder's lease ends, no longer.
local function expire_with_last(zset, hash, now)
  local last = rcall('ZRANGE', zset, -1, -1, 'WITHSCORES')
  if #last == 0 then
    rcall('DEL', zset, hash)
    return
  end
  local ttl = math.max(1, tonumber(last[2]) - now)
  rcall('PEXPIRE', zset, ttl)
  rcall('PEXPIRE', hash, ttl)
end

local function acquire(keys, args)
  local holder, permits, limit, ttl, err
  holder, err = name(args[1], 'holder'); if err then return err end
  permits, err = pos_int(args[2], 'permits'); if err then return err end
  limit, err = pos_int(args[3], 'limit'); if err then return err end
  ttl, err = pos_int(args[4], 'ttl_ms'); if err then return err end

  local now = now_ms()
  purge(keys[1], keys[2], now)
  local total = in_use(keys[2], rcall('ZRANGE', keys[1], 0, -1))
  if total + permits > limit then
    return {0, math.max(0, limit - total)}
  end
  rcall('HINCRBY', keys[2], holder, permits)
  rcall('ZADD', keys[1], now + ttl, holder)
  expire_with_last(keys[1], keys[2], now)
  return {1, math.max(0, limit - total - permits)}
end

local function release(keys, args)
  local holder, err = name(args[1], 'holder')
  if err then return err end
  local permits
  if args[2] ~= nil and args[2] ~= '' then
    permits, err = pos_int(args[2], 'permits'); if err then return err end
  end

  local now = now_ms()
  purge(keys[1], keys[2], now)
  local held = tonumber(rcall('HGET', keys[2], holder))
  if not held then return -1 end
  local left = permits and math.max(0, held - permits) or 0
  if left == 0 then
    rcall('ZREM', keys[1], holder)
    rcall('HDEL', keys[2], holder)
  else
    rcall('HSET', keys[2], holder, left)
  end
  return left
end

local function refresh(keys, args)
  local holder, ttl, err
  holder, err = name(args[1], 'holder'); if err then return err end
  ttl, err = pos_int(args[2], 'ttl_ms'); if err then return err end

  local now = now_ms()
  purge(keys[1], keys[2], now)
  if not rcall('ZSCORE', keys[1], holder) then return -1 end
  rcall('ZADD', keys[1], now + ttl, holder)
  expire_with_last(keys[1], keys[2], now)
  return 1
end

local function available(keys, args)
  local limit, err = pos_int(args[1], 'limit')
  if err then return err end
  local live = rcall('ZRANGEBYSCORE', keys[1], '(' .. now_ms(), '+inf')
  return math.max(0, limit - in_use(keys[2], live))
end

local function latch_init(keys, args)
  local count, err = pos_int(args[1], 'count')
  if err then return err end
  local ttl
  if args[2] ~= nil and args[2] ~= '' then
    ttl, err = pos_int(args[2], 'ttl_ms'); if err then return err end
  end
  local ok
  if ttl then
    ok = rcall('SET', keys[1], count, 'NX', 'PX', ttl)
  else
    ok = rcall('SET', keys[1], count, 'NX')
  end
  return ok and 1 or 0
end

local function countdown(keys)
  local remaining = tonumber(rcall('GET', keys[1]))
  if not remaining then return -4 end
  if remaining <= 0 then return 0 end
  remaining = rcall('DECR', keys[1])
  if remaining == 0 then
    -- PUBLISH takes a channel, not a key: nothing to declare in KEYS.
    rcall('PUBLISH', keys[1], '0')
  end
  return remaining
end

local function latch_status(keys)
  local remaining = rcall('GET', keys[1])
  if not remaining then return -4 end
  return tonumber(remaining)
end

register{function_name = 'cy_sema_acquire', args = 4, keys = sema_keys, callback = acquire,
  description = 'take permits: {1|0, remaining}'}
register{function_name = 'cy_sema_release', args = 2, keys = sema_keys, callback = release,
  description = 'give back permits: permits still held | -1 not held'}
register{function_name = 'cy_sema_refresh', args = 2, keys = sema_keys, callback = refresh,
  description = 'extend a holder lease: 1 | -1 not held'}
register{function_name = 'cy_sema_available', args = 1, keys = sema_keys, callback = available,
  flags = {'no-writes'}, description = 'free permits, ignoring expired holders'}
register{function_name = 'cy_sema_latch_init', args = 2, keys = latch_key, callback = latch_init,
  description = 'create a countdown latch: 1 created | 0 exists'}
register{function_name = 'cy_sema_countdown', args = 0, keys = latch_key, callback = countdown,
  description = 'count down: remaining | -4 missing; publishes at 0'}
register{function_name = 'cy_sema_latch_status', args = 0, keys = latch_key,
  callback = latch_status, flags = {'no-writes'}, description = 'remaining | -4 missing'}
