-- version: 3
--[[ distributed_lock.lua: single-instance lock step of Redlock (EVAL script).
  Redlock runs this on N independent primaries and holds the lock when a majority answered 1
  within the validity time; one instance alone is a plain lease.
  KEYS[1] lock key   STRING owner, PEXPIRE = lease
  ARGV[1] op: 'acquire' | 'release' | 'extend'
  ARGV[2] owner (non-empty)
  ARGV[3] ttl_ms (positive integer; acquire and extend only)
  Returns acquire: 1 acquired (or already ours: lease reset to ttl_ms), 0 held by another owner
          release: 1 released, -1 not held or held by another owner
          extend:  1 lease reset to ttl_ms, -1 not held or held by another owner
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one lock key') end
local op = ARGV[1]
if op ~= 'acquire' and op ~= 'release' and op ~= 'extend' then
  return bad('op', "must be 'acquire', 'release' or 'extend'")
end
local owner, ttl, err
owner, err = name(ARGV[2], 'owner'); if err then return err end
if op ~= 'release' then
  ttl, err = pos_int(ARGV[3], 'ttl_ms'); if err then return err end
end

if op == 'acquire' then
  if rcall('SET', KEYS[1], owner, 'NX', 'PX', ttl) then return 1 end
  if rcall('GET', KEYS[1]) ~= owner then return 0 end
  rcall('PEXPIRE', KEYS[1], ttl)
  return 1
end
if rcall('GET', KEYS[1]) ~= owner then return -1 end
if op == 'release' then
  rcall('DEL', KEYS[1])
else
  rcall('PEXPIRE', KEYS[1], ttl)
end
return 1
