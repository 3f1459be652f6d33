#!lua name=cy_locks
-- version: 4
--[[ cy_locks: reentrant distributed locks with fencing tokens (Redis 7.0 Functions).

  Keys (the TypeScript facade builds them; one resource = one hash tag = one slot):
    cy:lock:{resource}         HASH {owner, token, count}, PEXPIRE = lease
    cy:fence:{resource}        STRING counter of issued fencing tokens; never expires, so a
                               token is never reused, also across expiry and release
    cy:lock:{resource}:fence   the version-1 fence counter: read once, to migrate (below)
  With a shared tag the resource follows the tag: cy:lock:{tag}res, cy:fence:{tag}res,
  cy:lock:{tag}res:fence.

  Why fences moved (version 2): version 1 kept the counter at <lock key>:fence, which is also
  the lock key of a resource named '<resource>:fence'. With a tag, locking 'a:fence' put a HASH
  on the fence of 'a', and try_multi then failed with WRONGTYPE after taking earlier locks.
  No lock key starts with cy:fence:, so the two can no longer meet. Migration: the first token
  issued from a new cy:fence: counter continues from the version-1 counter when that key holds
  one (and deletes it), so tokens keep increasing across the upgrade. Until a resource is
  acquired once after the upgrade, its version-1 counter still sits on the lock key of
  '<resource>:fence' (tag form), and locking that name fails with WRONGTYPE, nothing written.
  A version-1 caller (two keys per lock) is refused with ERR_CY_ARG keys rather than served
  from the old counter: every process using the locks must run a facade of this version.

  Fence keys must never be evicted. Under maxmemory-policy allkeys-lru / allkeys-lfu /
  allkeys-random an evicted counter restarts at 1 and tokens are issued twice; use noeviction
  or a volatile-* policy (fence keys have no TTL, so volatile policies never pick them). A
  function cannot read CONFIG, so the facade checks the policy once per client and warns.

  Every function checks its KEYS first (count and names, see register below): a hand-made key
  list through FCALL must not half-write.

  Shared reply codes (every cy_* library and lua/ script; also in functions/error-codes.md).
  Bad arguments are error replies 'ERR_CY_ARG <field> <problem>', sent before any write.
  Domain outcomes that are not errors are small negative integers in the reply:
    -1  not held / not the owner          (cy_locks release, refresh; cy_sema release, refresh;
                                          distributed_lock.lua release, extend)
    -2  lock held by another owner        (cy_locks acquire: {0, -2, pttl})
    -3  wrong receipt / delivery no longer valid (cy_queue ack, nack, extend; cy_streamq ack
                                          and nack of an entry pending for another consumer)
    -4  not found                         (cy_queue ack, nack, extend, requeue_dead;
                                          cy_sema countdown, latch_status; cy_streamq nack;
                                          job_queue.lua complete, fail)
    -5  queue message already exists      (cy_queue enqueue; cy_streamq enqueue: dedup)
    -6  quarantined / dead-lettered       (cy_queue nack; cy_streamq ack of a quarantined
                                          entry; job_queue.lua fail)
    -7  CAS mismatch                      (cy_atomic cas)
    -8  cap reached                       (cy_atomic incr_with_ttl version 1 only; version 2
                                          replies {0, current})
]]

--[[ cy_locks_acquire: take or re-enter a lock.
  KEYS[1] cy:lock:<r>   KEYS[2] cy:fence:<r>   KEYS[3] cy:lock:<r>:fence   (<r> = {resource}
          or {tag}resource)
  ARGV[1] owner (non-empty)    ARGV[2] ttl_ms (positive integer)
  Returns {1, token, holdCount} if acquired or re-entered (re-entry keeps the token of the
          current hold, increments holdCount and resets the TTL to ttl_ms),
          {0, -2, pttl} if held by another owner ]]

--[[ cy_locks_release: give back one hold.
  KEYS[1] cy:lock:<r>
  ARGV[1] owner
  Returns 1 released (hold count reached 0, key deleted), 0 still held (count decremented,
          TTL untouched), -1 not held or held by another owner ]]

--[[ cy_locks_refresh: reset the lease of a held lock.
  KEYS[1] cy:lock:<r>
  ARGV[1] owner   ARGV[2] ttl_ms
  Returns 1 refreshed, -1 not held or held by another owner ]]

--[[ cy_locks_try_multi: take several locks of one slot, all or nothing.
  KEYS    triples, one per resource, all with the same hash tag:
          cy:lock:{tag}res_i   cy:fence:{tag}res_i   cy:lock:{tag}res_i:fence
  ARGV[1] owner   ARGV[2] ttl_ms
  Returns {1, token_1, ..., token_n} if every lock was free or already ours (ours are
          re-entered as in acquire), {0, i} with i the 1-based index of the first resource
          held by another owner (nothing written). Every key is checked before the first
          write: a key of another type is an error reply with nothing written. ]]

--[[ cy_locks_status: inspect a lock (no-writes, usable with FCALL_RO).
  KEYS[1] cy:lock:<r>
  ARGV    none
  Returns {owner, token, pttl, holdCount} when held, {nil, 0, -2, 0} when free ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local LOCK, FENCE = 'cy:lock:', 'cy:fence:'

-- keys[i..i+2] are the three keys of one resource: cy:lock:<r>, cy:fence:<r>, cy:lock:<r>:fence.
local function is_resource(keys, i)
  local lock = keys[i]
  if type(lock) ~= 'string' or #lock <= #LOCK or lock:sub(1, #LOCK) ~= LOCK then return false end
  return keys[i + 1] == FENCE .. lock:sub(#LOCK + 1) and keys[i + 2] == lock .. ':fence'
end

local function one_resource(keys)
  if #keys ~= 3 or not is_resource(keys, 1) then
    return bad('keys', 'must be cy:lock:<r>, cy:fence:<r>, cy:lock:<r>:fence')
  end
end

local function resources(keys)
  if #keys == 0 or #keys % 3 ~= 0 then
    return bad('keys', 'must be triples cy:lock:<r>, cy:fence:<r>, cy:lock:<r>:fence')
  end
  for i = 1, #keys, 3 do
    if not is_resource(keys, i) then
      return bad('keys', 'must be triples cy:lock:<r>, cy:fence:<r>, cy:lock:<r>:fence')
    end
  end
end

local function lock_key(keys)
  local k = keys[1]
  if #keys ~= 1 or #k <= #LOCK or k:sub(1, #LOCK) ~= LOCK then
    return bad('keys', 'must be the one key cy:lock:<r>')
  end
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

-- The next fencing token. A counter that INCR just created (1) may follow a version-1 counter
-- of the same resource: continue from it so tokens never go back, and delete it, since that
-- key is also the lock key of '<resource>:fence' (a lock there would meet a STRING).
local function next_token(fence, legacy)
  local token = rcall('INCR', fence)
  if token == 1 and rcall('TYPE', legacy).ok == 'string' then
    local old = int(rcall('GET', legacy))
    if old and old >= 1 then
      token = old + 1
      rcall('SET', fence, token)
      rcall('DEL', legacy)
    end
  end
  return token
end

-- Take a free lock (a fresh token) or re-enter our own (same token, count + 1).
-- Caller has checked the lock is free or ours. k = index of the resource's lock key.
local function take(keys, k, owner, ttl)
  local lock = keys[k]
  local holder, token = unpack(rcall('HMGET', lock, 'owner', 'token'))
  local count
  if holder then
    count = rcall('HINCRBY', lock, 'count', 1)
  else
    token = next_token(keys[k + 1], keys[k + 2])
    count = 1
    rcall('HSET', lock, 'owner', owner, 'token', token, 'count', 1)
  end
  rcall('PEXPIRE', lock, ttl)
  return tonumber(token), count
end

-- Reads what take() will write, so that a key of another type fails here, before any write:
-- HGET on a non-hash and GET on a non-string raise WRONGTYPE; a fence that is not an integer
-- would make INCR fail.
local function holder_of(keys, k)
  local holder = rcall('HGET', keys[k], 'owner')
  local fence = rcall('GET', keys[k + 1])
  if fence and not int(fence) then
    return nil, redis.error_reply('ERR ' .. keys[k + 1] .. ' does not hold a fencing counter')
  end
  return holder
end

local function acquire(keys, args)
  local owner, ttl, err = owner_ttl(args)
  if err then return err end
  -- No pre-check of the fence here: the first write is its INCR, so a bad fence fails
  -- before anything is written.
  local holder = rcall('HGET', keys[1], 'owner')
  if holder and holder ~= owner then
    return {0, -2, rcall('PTTL', keys[1])}
  end
  local token, count = take(keys, 1, owner, ttl)
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
  -- A resource listed twice would be re-entered by its own second entry.
  local seen = {}
  for i = 1, #keys, 3 do
    if seen[keys[i]] then return bad('keys', 'must not repeat a resource') end
    seen[keys[i]] = true
  end
  -- Check everything (owners and key types) before writing anything.
  for i = 1, #keys, 3 do
    local holder
    holder, err = holder_of(keys, i)
    if err then return err end
    if holder and holder ~= owner then return {0, (i + 2) / 3} end
  end
  local reply = {1}
  for i = 1, #keys, 3 do
    reply[#reply + 1] = (take(keys, i, owner, ttl))
  end
  return reply
end

local function status(keys)
  local holder, token, count = unpack(rcall('HMGET', keys[1], 'owner', 'token', 'count'))
  if not holder then return {false, 0, -2, 0} end
  return {holder, tonumber(token), rcall('PTTL', keys[1]), tonumber(count)}
end

register{function_name = 'cy_locks_acquire', args = 2, keys = one_resource, callback = acquire,
  description = 'take or re-enter a lock: {1, token, holdCount} | {0, -2, pttl}'}
register{function_name = 'cy_locks_release', args = 1, keys = lock_key, callback = release,
  description = 'release one hold: 1 released, 0 still held, -1 not owner'}
register{function_name = 'cy_locks_refresh', args = 2, keys = lock_key, callback = refresh,
  description = 'reset the lease: 1 | -1 not owner'}
register{function_name = 'cy_locks_try_multi', args = 2, keys = resources, callback = try_multi,
  description = 'all-or-nothing multi-lock in one slot: {1, tokens...} | {0, index}'}
register{function_name = 'cy_locks_status', args = 0, keys = lock_key, callback = status,
  flags = {'no-writes'}, description = '{owner, token, pttl, holdCount}'}
