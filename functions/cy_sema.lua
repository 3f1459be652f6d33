#!lua name=cy_sema
-- version: 4
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
  acquire, release and refresh check before their first write that the semaphore's keys are
  absent or a ZSET and a HASH, else reply 'WRONGTYPE <key> ...' with nothing written
  (versions up to 3 could purge expired holders from the ZSET, then fail on the HASH).
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

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local sema_keys = family({'', ':permits'}, 'the 2 keys <s>, <s>:permits of one semaphore')
local latch_key = exactly(1, 'the one key of a latch')

-- unpack() fails beyond about 8000 values (Lua's LUAI_MAXCSTACK), so holder lists are sent
-- in slices of CHUNK.
local CHUNK = 1000

local SEMA_TYPES = {'zset', 'hash'} -- KEYS[1], KEYS[2] of a semaphore (expect_types)

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

  err = expect_types(keys, SEMA_TYPES)
  if err then return err end
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
  if not absent(args[2]) then
    permits, err = pos_int(args[2], 'permits'); if err then return err end
  end

  err = expect_types(keys, SEMA_TYPES)
  if err then return err end
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

  err = expect_types(keys, SEMA_TYPES)
  if err then return err end
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
  if not absent(args[2]) then
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
