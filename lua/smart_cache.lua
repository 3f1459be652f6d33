-- version: 2
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
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
local rcall = redis.call

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer >= 1 within 2^53 (tonumber alone accepts '0x10', '1e3', 'inf').
local function pos(s)
  local n = type(s) == 'string' and #s <= 17 and s:match('^%d+$') and tonumber(s)
  if n and n >= 1 and n <= 9007199254740991 then return n end
  return nil
end

if #KEYS ~= 2 then return bad('keys', 'must be the cache key and the stats key') end
local op = ARGV[1]
if op == 'get' then
  local value = rcall('GET', KEYS[1])
  rcall('HINCRBY', KEYS[2], value and 'hits' or 'misses', 1)
  return value
elseif op == 'set' then
  if type(ARGV[2]) ~= 'string' then return bad('value', 'must be given') end
  local ttl = pos(ARGV[3])
  if not ttl then return bad('ttl_ms', 'must be a positive integer') end
  rcall('SET', KEYS[1], ARGV[2], 'PX', ttl)
  rcall('HINCRBY', KEYS[2], 'sets', 1)
  return 1
elseif op == 'stats' then
  local s = rcall('HMGET', KEYS[2], 'hits', 'misses', 'sets')
  return {tonumber(s[1]) or 0, tonumber(s[2]) or 0, tonumber(s[3]) or 0}
end
return bad('op', "must be 'get', 'set' or 'stats'")
