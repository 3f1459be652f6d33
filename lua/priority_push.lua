-- version: 3
--[[ priority_push.lua: ScriptHelper.pushPriorityQueue (EVAL script).
  KEYS[1] queue key   ZSET item -> priority; LOWER priority pops first (1 before 5)
  ARGV[1] priority (number)   ARGV[2] item (non-empty string)
  Returns 1 added, 0 the item was already queued (its priority is updated to ARGV[1])
  Items are set members: pushing an item twice keeps one copy. Within one priority items pop
  in byte order of the item (ZSET tie rule), not in push order; callers that need FIFO put a
  sortable prefix (a cy_tokens_ksortable id) in the item.
  Errors: 'ERR_CY_ARG <field> <problem>' (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one queue key') end
-- A plain decimal number, finite (tonumber alone accepts '0x10', ' 5', 'inf', 'nan').
local p = ARGV[1]
local priority = type(p) == 'string' and p:match('^%-?%d*%.?%d*[eE]?[-+]?%d*$') and tonumber(p)
if not priority or priority ~= priority or priority == math.huge or priority == -math.huge then
  return bad('priority', 'must be a number')
end
if type(ARGV[2]) ~= 'string' or ARGV[2] == '' then
  return bad('item', 'must be a non-empty string')
end

return rcall('ZADD', KEYS[1], priority, ARGV[2])
