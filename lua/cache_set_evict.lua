-- version: 4
--[[ cache_set_evict.lua: ScriptHelper.cacheSetWithEviction (EVAL script).
  Set a cache entry and keep the cache at most max_size entries, evicting the least recently
  used ones (the index is shared with cache_get_lru.lua, which touches it on hits).
  KEYS[1] cache key   STRING value, PX ttl
  KEYS[2] LRU index   ZSET cache key -> last access ms (server TIME)
  KEYS[3] stats key   HASH {sets, evictions} (optional: omit to skip statistics)
  ARGV[1] value   ARGV[2] ttl_ms (positive integer; the facade turns ttl_seconds into ms)
  ARGV[3] max_size (positive integer)
  Returns the number of entries evicted by this call
  Evicted entries are DELeted by the names found in the index, which are not in KEYS: all
  cache keys must share the index's hash tag (one slot) in a cluster. Index entries of keys
  that expired meanwhile count towards max_size until they are evicted (a no-op DEL) or a
  cache_get_lru miss removes them.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md);
  'WRONGTYPE <key> ...' before any write when the index is not a ZSET or the stats key not a
  HASH (versions up to 3 SET the value first, then failed on the index: an entry the LRU never
  evicts). A cache key of another type is overwritten, as SET does. ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 2 and #KEYS ~= 3 then
  return bad('keys', 'must be the cache key, the LRU index and (optionally) the stats key')
end
if type(ARGV[1]) ~= 'string' then return bad('value', 'must be given') end
local ttl, max_size, err
ttl, err = pos_int(ARGV[2], 'ttl_ms'); if err then return err end
max_size, err = pos_int(ARGV[3], 'max_size'); if err then return err end

err = expect_types({KEYS[2], KEYS[3]}, {'zset', 'hash'})
if err then return err end

rcall('SET', KEYS[1], ARGV[1], 'PX', ttl)
rcall('ZADD', KEYS[2], now_ms(), KEYS[1])

-- Evict the oldest entries, never the one just written (it may tie with others on the ms),
-- in slices: unpack() fails beyond about 8000 values.
local over = rcall('ZCARD', KEYS[2]) - max_size
local evicted = 0
while over > 0 do
  local batch = math.min(over, 1000)
  local victims = {}
  for _, key in ipairs(rcall('ZRANGE', KEYS[2], 0, batch)) do
    if key ~= KEYS[1] and #victims < batch then victims[#victims + 1] = key end
  end
  rcall('ZREM', KEYS[2], unpack(victims))
  rcall('DEL', unpack(victims))
  evicted = evicted + #victims
  over = over - #victims
end
if KEYS[3] then
  rcall('HINCRBY', KEYS[3], 'sets', 1)
  if evicted > 0 then rcall('HINCRBY', KEYS[3], 'evictions', evicted) end
end
return evicted
