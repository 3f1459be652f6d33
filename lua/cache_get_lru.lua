-- version: 2
--[[ cache_get_lru.lua: ScriptHelper.cacheGetLru (EVAL script).
  Read a cache entry and mark it most recently used (see cache_set_evict.lua).
  KEYS[1] cache key   STRING
  KEYS[2] LRU index   ZSET cache key -> last access ms ("access log"; same hash tag)
  KEYS[3] stats key   HASH {hits, misses}
  ARGV    none
  Returns the value, or nil on a miss (a miss also drops the key from the index, so expired
          entries stop counting towards max_size)
  Errors: 'ERR_CY_ARG keys ...' when not given exactly these three keys. ]]
local rcall = redis.call

if #KEYS ~= 3 then
  return redis.error_reply('ERR_CY_ARG keys must be the cache key, the LRU index and the stats key')
end

local value = rcall('GET', KEYS[1])
if value then
  local t = rcall('TIME')
  rcall('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), KEYS[1])
  rcall('HINCRBY', KEYS[3], 'hits', 1)
else
  rcall('ZREM', KEYS[2], KEYS[1])
  rcall('HINCRBY', KEYS[3], 'misses', 1)
end
return value
