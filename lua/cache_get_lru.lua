-- version: 4
--[[ cache_get_lru.lua: ScriptHelper.cacheGetLru (EVAL script).
  Read a cache entry and mark it most recently used (see cache_set_evict.lua).
  KEYS[1] cache key   STRING
  KEYS[2] LRU index   ZSET cache key -> last access ms ("access log"; same hash tag)
  KEYS[3] stats key   HASH {hits, misses}
  ARGV    none
  Returns the value, or nil on a miss (a miss also drops the key from the index, so expired
          entries stop counting towards max_size)
  Errors: 'ERR_CY_ARG keys ...' when not given exactly these three keys; 'WRONGTYPE <key> ...'
  before any write when the index is not a ZSET or the stats key not a HASH (versions up to 3
  touched the index, then failed on the stats key). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 3 then
  return bad('keys', 'must be the cache key, the LRU index and the stats key')
end

local value = rcall('GET', KEYS[1])
local err = expect_types({KEYS[2], KEYS[3]}, {'zset', 'hash'})
if err then return err end
if value then
  rcall('ZADD', KEYS[2], now_ms(), KEYS[1])
  rcall('HINCRBY', KEYS[3], 'hits', 1)
else
  rcall('ZREM', KEYS[2], KEYS[1])
  rcall('HINCRBY', KEYS[3], 'misses', 1)
end
return value
