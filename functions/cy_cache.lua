#!lua name=cy_cache
-- version: 3
--[[ cy_cache: read-or-fill helpers for shared cache entries (cy:cache:{...} string keys).
  Values are opaque strings (JSON is not parsed). A fill sets the value with PX ttl_ms; a hit
  leaves the value and its TTL untouched.
  Every function checks its KEYS first (count).
  Reply codes: none besides ERR_CY_ARG (see functions/error-codes.md).
]]

--[[ cy_cache_get_or_set_json: return the cached value, or store the given one.
  KEYS[1] cy:cache:{...}
  ARGV[1] value (any string)   ARGV[2] ttl_ms (positive integer)
  Returns {1, existing value} on a hit, {0, value} after storing value ]]

--[[ cy_cache_mget_or_mset: the same for several keys of one slot in one call.
  KEYS[1..n] cy:cache:{tag}...  (same hash tag)
  ARGV[1] ttl_ms   ARGV[1 + i] value for KEYS[i]  (exactly n values)
  Returns flat {hit_1, value_1, ..., hit_n, value_n}: hit 1 with the existing value, 0 with
          the value just stored. A key listed twice is filled once, then hits. ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local one_key = exactly(1, 'the one key of the entry')

local function get_or_set_json(keys, args)
  if type(args[1]) ~= 'string' then return bad('value', 'must be given') end
  local ttl, err = pos_int(args[2], 'ttl_ms')
  if err then return err end
  local existing = rcall('GET', keys[1])
  if existing then return {1, existing} end
  rcall('SET', keys[1], args[1], 'PX', ttl)
  return {0, args[1]}
end

local function mget_or_mset(keys, args)
  local ttl, err = pos_int(args[1], 'ttl_ms')
  if err then return err end
  if #args ~= #keys + 1 then return bad('values', 'must give one value per key') end
  -- Read every key before the first write: GET raises WRONGTYPE on a key of another type,
  -- and that must fail the call with nothing written. (MGET would return nil instead.)
  local found = {}
  for i, key in ipairs(keys) do found[i] = rcall('GET', key) end
  -- filled: a key listed twice is stored by its first occurrence; later ones hit that value.
  local filled, reply = {}, {}
  for i, key in ipairs(keys) do
    local value = found[i] or filled[key]
    if value then
      reply[2 * i - 1], reply[2 * i] = 1, value
    else
      rcall('SET', key, args[i + 1], 'PX', ttl)
      filled[key] = args[i + 1]
      reply[2 * i - 1], reply[2 * i] = 0, args[i + 1]
    end
  end
  return reply
end

register{function_name = 'cy_cache_get_or_set_json', args = 2, keys = one_key,
  callback = get_or_set_json, description = 'read or fill one entry: {hit, value}'}
register{function_name = 'cy_cache_mget_or_mset', keys = some_keys, callback = mget_or_mset,
  description = 'read or fill several entries: {hit, value, ...}'}
