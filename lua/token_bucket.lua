-- version: 3
--[[ token_bucket.lua: ScriptHelper.rateLimitTokenBucket (EVAL script).
  KEYS[1] bucket key   HASH {tokens (float), ts (ms of last refill, server TIME)}
  ARGV[1] capacity (positive integer)
  ARGV[2] refill_per_sec (positive number, fractions allowed: 10.0 = 10 tokens per second)
  ARGV[3] cost (positive integer <= capacity; '' or absent = 1)
  Returns {allowed (0|1), remaining tokens (floor), retryAfterMs}. A new bucket starts full;
  a denied call writes nothing; the key expires once the bucket would be full again. ts never
  goes back (a server clock step backwards keeps the later ts).
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

if #KEYS ~= 1 then return bad('keys', 'must be the one bucket key') end
local capacity = pos(ARGV[1])
if not capacity then return bad('capacity', 'must be a positive integer') end
-- A plain decimal (fraction and exponent allowed), finite and > 0.
local r = ARGV[2]
local rate = type(r) == 'string' and r:match('^%d*%.?%d*[eE]?[-+]?%d*$') and tonumber(r)
if not rate or rate ~= rate or rate <= 0 or rate == math.huge then
  return bad('refill_per_sec', 'must be a positive number')
end
rate = rate / 1000 -- per ms
local cost = 1
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  cost = pos(ARGV[3])
  if not cost then return bad('cost', 'must be a positive integer') end
  if cost > capacity then return bad('cost', 'must not exceed capacity') end
end

-- A duration in whole ms, at least 1 and at most 2^53 - 1: a tiny rate makes x / rate huge or
-- inf, which PEXPIRE refused after the HSET and the integer reply overflowed (version 1 bug).
local function ms(x) return math.min(9007199254740991, math.max(1, math.ceil(x))) end

local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
-- %.17g: tostring() keeps only 14 significant digits.
rcall('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', last)
rcall('PEXPIRE', KEYS[1], ms(last - now + (capacity - tokens) / rate))
return {1, math.floor(tokens), 0}
