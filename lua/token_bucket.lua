-- version: 4
--[[ token_bucket.lua: ScriptHelper.rateLimitTokenBucket (EVAL script).
  KEYS[1] bucket key   HASH {tokens (float), ts (ms of last refill, server TIME)}
  ARGV[1] capacity (positive integer)
  ARGV[2] refill_per_sec (positive number, fractions allowed: 10.0 = 10 tokens per second)
  ARGV[3] cost (positive integer <= capacity; '' or absent = 1)
  Returns {allowed (0|1), remaining tokens (floor), retryAfterMs}. A new bucket starts full;
  a denied call writes nothing; the key expires once the bucket would be full again. ts never
  goes back (a server clock step backwards keeps the later ts).
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md). ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
if #KEYS ~= 1 then return bad('keys', 'must be the one bucket key') end
local capacity, rate, err
capacity, err = pos_int(ARGV[1], 'capacity'); if err then return err end
rate, err = pos_num(ARGV[2], 'refill_per_sec'); if err then return err end
rate = rate / 1000 -- per ms
local cost = 1
if not absent(ARGV[3]) then
  cost, err = pos_int(ARGV[3], 'cost'); if err then return err end
  if cost > capacity then return bad('cost', 'must not exceed capacity') end
end

local now = now_ms()
local stored, ts = unpack(rcall('HMGET', KEYS[1], 'tokens', 'ts'))
local tokens, last = capacity, now
if stored and ts then
  -- max: a clock step backwards neither drains the bucket nor rewinds ts (rewinding would
  -- count the same interval twice once the clock catches up: version 2 did). Refill resumes
  -- when the clock passes ts again.
  last = math.max(now, tonumber(ts))
  tokens = math.min(capacity, tonumber(stored) + math.max(0, now - tonumber(ts)) * rate)
end
if tokens < cost then
  return {0, math.floor(tokens), ms(last - now + (cost - tokens) / rate)}
end
tokens = tokens - cost
rcall('HSET', KEYS[1], 'tokens', fmt(tokens), 'ts', last)
rcall('PEXPIRE', KEYS[1], ms(last - now + (capacity - tokens) / rate))
return {1, math.floor(tokens), 0}
