-- version: 3
--[[ batch_set_ttl.lua: ScriptHelper.batchSetWithTtl (EVAL script).
  KEYS[1..n] keys (one hash tag in a cluster)
  ARGV[1] ttl_ms (positive integer; the facade turns ttl_seconds into ms)
  ARGV[1 + i] value for KEYS[i] (exactly n values)
  Returns n, the number of keys set (each SET ... PX ttl_ms, overwriting)
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
local ttl, err = pos_int(ARGV[1], 'ttl_ms')
if err then return err end
if #KEYS == 0 then return bad('keys', 'must name at least one key') end
if #ARGV ~= #KEYS + 1 then return bad('values', 'must give one value per key') end

for i, key in ipairs(KEYS) do
  rcall('SET', key, ARGV[i + 1], 'PX', ttl)
end
return #KEYS
