#!lua name=cy_locks
-- version: 1
--[[ cy_locks: reentrant distributed locks with fencing tokens (Redis 7.0 Functions).

  Keys (the TypeScript facade builds them; one resource = one hash tag = one slot):
    cy:lock:{resource}         HASH {owner, token, count}, PEXPIRE = lease
    cy:lock:{resource}:fence   STRING counter of issued fencing tokens; never expires, so a
                               token is never reused, also across expiry and release

  Shared reply codes (every cy_* library and lua/ script; also in functions/error-codes.md).
  Bad arguments are error replies 'ERR_CY_ARG <field> <problem>', sent before any write.
  Domain outcomes that are not errors are small negative integers in the reply:
    -1  not held / not the owner          (cy_locks release, refresh; cy_sema release, refresh;
                                          distributed_lock.lua release, extend)
    -2  lock held by another owner        (cy_locks acquire: {0, -2, pttl})
    -3  wrong receipt / delivery no longer valid (cy_queue ack, nack, extend)
    -4  not found                         (cy_queue ack, nack, extend, requeue_dead;
                                          cy_sema countdown, latch_status; cy_streamq nack;
                                          job_queue.lua complete, fail)
    -5  queue message already exists      (cy_queue enqueue; cy_streamq enqueue: dedup)
    -6  quarantined / dead-lettered       (cy_queue nack; job_queue.lua fail)
    -7  CAS mismatch                      (cy_atomic cas)
    -8  cap reached                       (cy_atomic incr_with_ttl)
]]

--[[ cy_locks_acquire: take or re-enter a lock.
  KEYS[1] cy:lock:{resource}   KEYS[2] cy:lock:{resource}:fence
  ARGV[1] owner (non-empty)    ARGV[2] ttl_ms (positive integer)
  Returns {1, token, holdCount} if acquired or re-entered (re-entry keeps the token of the
          current hold, increments holdCount and resets the TTL to ttl_ms),
          {0, -2, pttl} if held by another owner ]]

--[[ cy_locks_release: give back one hold.
  KEYS[1] cy:lock:{resource}
  ARGV[1] owner
  Returns 1 released (hold count reached 0, key deleted), 0 still held (count decremented,
          TTL untouched), -1 not held or held by another owner ]]

--[[ cy_locks_refresh: reset the lease of a held lock.
  KEYS[1] cy:lock:{resource}
  ARGV[1] owner   ARGV[2] ttl_ms
  Returns 1 refreshed, -1 not held or held by another owner ]]

--[[ cy_locks_try_multi: take several locks of one slot, all or nothing.
  KEYS    pairs, one per resource, all with the same hash tag:
          KEYS[2i-1] cy:lock:{tag}res_i   KEYS[2i] cy:lock:{tag}res_i:fence
  ARGV[1] owner   ARGV[2] ttl_ms
  Returns {1, token_1, ..., token_n} if every lock was free or already ours (ours are
          re-entered as in acquire), {0, i} with i the 1-based index of the first resource
          held by another owner (nothing written) ]]

--[[ cy_locks_status: inspect a lock (no-writes, usable with FCALL_RO).
  KEYS[1] cy:lock:{resource}
  ARGV    none
  Returns {owner, token, pttl, holdCount} when held, {nil, 0, -2, 0} when free ]]

-- redis.call does not exist while FUNCTION LOAD runs the library body (Redis 7.0 exposes
-- only register_function/log there), so `local rcall = redis.call` fails to load; this
-- wrapper resolves redis.call when a function runs.
local function rcall(...) return redis.call(...) end

-- Each FUNCTION LOAD runs in its own Lua sandbox, so libraries cannot share code: these
-- validation helpers are repeated (identically) at the top of every cy_* library.
local MAX_SAFE = 9007199254740991 -- 2^53 - 1: larger integers are not exact in a Lua number

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

-- Owner and ttl are validated the same way by acquire, refresh and try_multi.
local function owner_ttl(args)
  local owner, err = name(args[1], 'owner')
  if err then return nil, nil, err end
  local ttl
  ttl, err = pos_int(args[2], 'ttl_ms')
  if err then return nil, nil, err end
  return owner, ttl
end

-- Take a free lock (a fresh token) or re-enter our own (same token, count + 1).
-- Caller has checked the lock is free or ours.
local function take(lock, fence, owner, ttl)
  local holder, token = unpack(rcall('HMGET', lock, 'owner', 'token'))
  local count
  if holder then
    count = rcall('HINCRBY', lock, 'count', 1)
  else
    token = rcall('INCR', fence)
    count = 1
    rcall('HSET', lock, 'owner', owner, 'token', token, 'count', 1)
  end
  rcall('PEXPIRE', lock, ttl)
  return tonumber(token), count
end

local function acquire(keys, args)
  local owner, ttl, err = owner_ttl(args)
  if err then return err end
  local holder = rcall('HGET', keys[1], 'owner')
  if holder and holder ~= owner then
    return {0, -2, rcall('PTTL', keys[1])}
  end
  local token, count = take(keys[1], keys[2], owner, ttl)
  return {1, token, count}
end

local function release(keys, args)
  local owner, err = name(args[1], 'owner')
  if err then return err end
  if rcall('HGET', keys[1], 'owner') ~= owner then return -1 end
  if rcall('HINCRBY', keys[1], 'count', -1) > 0 then return 0 end
  rcall('DEL', keys[1])
  return 1
end

local function refresh(keys, args)
  local owner, ttl, err = owner_ttl(args)
  if err then return err end
  if rcall('HGET', keys[1], 'owner') ~= owner then return -1 end
  rcall('PEXPIRE', keys[1], ttl)
  return 1
end

local function try_multi(keys, args)
  local owner, ttl, err = owner_ttl(args)
  if err then return err end
  if #keys == 0 or #keys % 2 ~= 0 then
    return bad('keys', 'must be pairs of lock key and fence key')
  end
  -- A resource listed twice would be re-entered by its own second entry.
  local seen = {}
  for i = 1, #keys, 2 do
    if seen[keys[i]] then return bad('keys', 'must not repeat a resource') end
    seen[keys[i]] = true
  end
  -- Check everything before writing anything.
  for i = 1, #keys, 2 do
    local holder = rcall('HGET', keys[i], 'owner')
    if holder and holder ~= owner then return {0, (i + 1) / 2} end
  end
  local reply = {1}
  for i = 1, #keys, 2 do
    reply[#reply + 1] = (take(keys[i], keys[i + 1], owner, ttl))
  end
  return reply
end

local function status(keys)
  local holder, token, count = unpack(rcall('HMGET', keys[1], 'owner', 'token', 'count'))
  if not holder then return {false, 0, -2, 0} end
  return {holder, tonumber(token), rcall('PTTL', keys[1]), tonumber(count)}
end

redis.register_function{function_name = 'cy_locks_acquire', callback = acquire,
  description = 'take or re-enter a lock: {1, token, holdCount} | {0, -2, pttl}'}
redis.register_function{function_name = 'cy_locks_release', callback = release,
  description = 'release one hold: 1 released, 0 still held, -1 not owner'}
redis.register_function{function_name = 'cy_locks_refresh', callback = refresh,
  description = 'reset the lease: 1 | -1 not owner'}
redis.register_function{function_name = 'cy_locks_try_multi', callback = try_multi,
  description = 'all-or-nothing multi-lock in one slot: {1, tokens...} | {0, index}'}
redis.register_function{function_name = 'cy_locks_status', callback = status,
  flags = {'no-writes'}, description = '{owner, token, pttl, holdCount}'}
