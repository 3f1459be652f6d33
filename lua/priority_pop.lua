-- version: 3
--[[ priority_pop.lua: ScriptHelper.popPriorityQueue (EVAL script).
  KEYS[1] queue key   ZSET item -> priority (see priority_push.lua)
  ARGV[1] count (integer 1..1000; '' or absent = 1)
  Returns the popped items, lowest priority first (empty when the queue is empty)
  Errors: 'ERR_CY_ARG <field> <problem>' (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one queue key') end
local count = 1
if not absent(ARGV[1]) then
  count = int(ARGV[1])
  if not count or count < 1 or count > 1000 then
    return bad('count', 'must be an integer from 1 to 1000')
  end
end

local popped = rcall('ZPOPMIN', KEYS[1], count) -- flat {item, score, item, score, ...}
local items = {}
for i = 1, #popped, 2 do items[#items + 1] = popped[i] end
return items
