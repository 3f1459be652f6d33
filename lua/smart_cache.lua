-- version: 4
--[[ smart_cache.lua: the shared (Redis) level of a multi-level cache, with statistics
  (EVAL script). The local level lives in the client (LocalCache); this script counts what
  reaches Redis.
  KEYS[1] cache key   STRING value, PX ttl
  KEYS[2] stats key   HASH {hits, misses, sets}; same hash tag as the cache key
  ARGV[1] op: 'get' | 'set' | 'stats'
  ARGV[2] value (set)   ARGV[3] ttl_ms (set; positive integer)
  Returns get:   the value, or nil on a miss (counts hits / misses)
          set:   1 (counts sets)
          stats: {hits, misses, sets} (KEYS[1] is not read)
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md); set:
  'WRONGTYPE <stats key> ...' before the SET when the stats key is not a HASH (versions up to
  3 stored the value, then failed). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 2 then return bad('keys', 'must be the cache key and the stats key') end
local op = ARGV[1]
if op == 'get' then
  local value = rcall('GET', KEYS[1])
  rcall('HINCRBY', KEYS[2], value and 'hits' or 'misses', 1)
  return value
elseif op == 'set' then
  if type(ARGV[2]) ~= 'string' then return bad('value', 'must be given') end
  local ttl, err = pos_int(ARGV[3], 'ttl_ms')
  if err then return err end
  err = expect_types({KEYS[2]}, {'hash'})
  if err then return err end
  rcall('SET', KEYS[1], ARGV[2], 'PX', ttl)
  rcall('HINCRBY', KEYS[2], 'sets', 1)
  return 1
elseif op == 'stats' then
  local s = rcall('HMGET', KEYS[2], 'hits', 'misses', 'sets')
  return {tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0}
end
return bad('op', "must be 'get', 'set' or 'stats'")
