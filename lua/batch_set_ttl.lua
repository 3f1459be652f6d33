-- version: 2
--[[ batch_set_ttl.lua: ScriptHelper.batchSetWithTtl (EVAL script).
  KEYS[1..n] keys (one hash tag in a cluster)
  ARGV[1] ttl_ms (positive integer; the facade turns ttl_seconds into ms)
  ARGV[1 + i] value for KEYS[i] (exactly n values)
  Returns n, the number of keys set (each SET ... PX ttl_ms, overwriting)
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

local ttl = pos(ARGV[1])
if not ttl then return bad('ttl_ms', 'must be a positive integer') end
if #KEYS == 0 then return bad('keys', 'must name at least one key') end
if #ARGV ~= #KEYS + 1 then return bad('values', 'must give one value per key') end

for i, key in ipairs(KEYS) do
  rcall('SET', key, ARGV[i + 1], 'PX', ttl)
end
return #KEYS
