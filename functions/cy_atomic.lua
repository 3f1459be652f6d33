#!lua name=cy_atomic
-- version: 3
--[[ cy_atomic: atomic string-key operations that plain commands do not combine.
  Every function checks its KEYS first (count).
  Reply codes (functions/error-codes.md): -7 CAS mismatch. (Version 1 replied -8 for "cap
  reached" from incr_with_ttl, which a counter holding -8 also replied: version 2 replies
  {0, current} / {1, value}.)
]]

--[[ cy_atomic_cas: compare-and-set a string key.
  KEYS[1] key
  ARGV[1] expected (ignored in mode 'absent')   ARGV[2] next value
  ARGV[3] mode: '' or 'value' = the key must hold exactly `expected`;
                'absent'      = the key must not exist ("expected nothing")
  ARGV[4] ttl_ms (optional): positive integer = set with PX ttl_ms;
          '' or absent = keep the key's current TTL (a key created in mode 'absent' then has
          none)
  Returns 1 swapped, -7 mismatch (other value, missing key in mode 'value', existing key in
          mode 'absent'); nothing written on -7 ]]

--[[ cy_atomic_incr_with_ttl: capped counter for fixed windows.
  KEYS[1] key
  ARGV[1] by (positive integer)   ARGV[2] ttl_ms (positive integer)
  ARGV[3] cap (optional integer >= 0; '' or absent = no cap)
  Returns {1, new value} if incremented, {0, current value} if value + by would exceed cap
          (nothing written). The counter may hold any integer (a DECRBY or SET elsewhere),
          so the outcome is the first element, never a value that could also be a counter.
  The TTL is set only when the key is created (or found without a TTL): later increments keep
  the original expiry, so the counter covers one fixed window from its first increment. ]]

--[[ cy_atomic_msetnx_ttl: set several keys of one slot with a TTL, only if none exists.
  KEYS[1..n] keys (same hash tag)
  ARGV[1] ttl_ms   ARGV[1 + i] value for KEYS[i]  (exactly n values)
  Returns 1 all set, 0 at least one key existed (nothing written) ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local one_key = exactly(1, 'the one key it works on')

local function cas(keys, args)
  if type(args[1]) ~= 'string' then return bad('expected', 'must be given') end
  if type(args[2]) ~= 'string' then return bad('next', 'must be given') end
  local mode = args[3] or ''
  if mode ~= '' and mode ~= 'value' and mode ~= 'absent' then
    return bad('mode', "must be 'value' or 'absent'")
  end
  local ttl, err
  if not absent(args[4]) then
    ttl, err = pos_int(args[4], 'ttl_ms'); if err then return err end
  end

  local current = rcall('GET', keys[1])
  if mode == 'absent' then
    if current then return -7 end
  elseif current ~= args[1] then
    return -7
  end
  if ttl then
    rcall('SET', keys[1], args[2], 'PX', ttl)
  else
    rcall('SET', keys[1], args[2], 'KEEPTTL')
  end
  return 1
end

local function incr_with_ttl(keys, args)
  local by, ttl, cap, err
  by, err = pos_int(args[1], 'by'); if err then return err end
  ttl, err = pos_int(args[2], 'ttl_ms'); if err then return err end
  if not absent(args[3]) then
    cap = int(args[3])
    if not cap or cap < 0 then return bad('cap', 'must be a non-negative integer') end
  end

  local raw = rcall('GET', keys[1])
  local current = 0
  if raw then
    current = int(raw)
    if not current then return redis.error_reply('ERR value is not an integer or out of range') end
  end
  if cap and current + by > cap then return {0, current} end
  if not raw then
    rcall('SET', keys[1], by, 'PX', ttl)
    return {1, by}
  end
  local value = rcall('INCRBY', keys[1], by)
  -- A counter left without a TTL (PERSIST, plain SET) would never reset: give it one.
  if rcall('PTTL', keys[1]) == -1 then rcall('PEXPIRE', keys[1], ttl) end
  return {1, value}
end

local function msetnx_ttl(keys, args)
  local ttl, err = pos_int(args[1], 'ttl_ms')
  if err then return err end
  if #args ~= #keys + 1 then return bad('values', 'must give one value per key') end

  -- One EXISTS per key: unpack() of a long key list would hit Lua's ~8000 value limit.
  for _, key in ipairs(keys) do
    if rcall('EXISTS', key) == 1 then return 0 end
  end
  for i, key in ipairs(keys) do
    rcall('SET', key, args[i + 1], 'PX', ttl)
  end
  return 1
end

register{function_name = 'cy_atomic_cas', args = 4, keys = one_key, callback = cas,
  description = 'compare-and-set: 1 | -7 mismatch'}
register{function_name = 'cy_atomic_incr_with_ttl', args = 3, keys = one_key,
  callback = incr_with_ttl,
  description = 'capped increment, TTL on creation: {1, value} | {0, current}'}
register{function_name = 'cy_atomic_msetnx_ttl', keys = some_keys, callback = msetnx_ttl,
  description = 'set all with TTL if none exists: 1 | 0'}
