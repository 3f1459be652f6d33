-- version: 4
--[[ job_queue.lua: FIFO job queue with retries (EVAL script).
  KEYS[1] pending     LIST job ids, popped from the head, pushed at the tail
  KEYS[2] processing  ZSET job id -> ms it was popped (find stuck jobs with ZRANGEBYSCORE)
  KEYS[3] jobs        HASH job id -> payload (kept while the job is pending, processing or
                      failed)
  KEYS[4] attempts    HASH job id -> failures so far
  KEYS[5] failed      LIST job ids whose retries are used up, newest first
  KEYS[6] seq         STRING job id counter
  (all six keys share one hash tag)
  ARGV[1] op: 'push' | 'pop' | 'complete' | 'fail'
    push      ARGV[2] payload                  Returns the new job id (integer)
    pop       ARGV[2] count (1..1000; '' = 1)  Returns flat {id, payload, failures, ...}
    complete  ARGV[2] id                       Returns 1 done (job forgotten), -4 not processing
    fail      ARGV[2] id   ARGV[3] max_retries (integer >= 0)
              Returns 1 back at the tail of pending (failures + 1 <= max_retries),
                      -6 moved to the failed list (retries used up), -4 not processing
  A job therefore runs at most 1 + max_retries times.
  Errors: 'ERR_CY_ARG <field> <problem>' before any write (functions/error-codes.md);
  'WRONGTYPE <key> ...' before any write when a key an op writes holds another type (seq: not
  an integer). Versions up to 3 could INCR seq and then fail on the jobs hash (push), or pop
  an id and then fail on the processing set (pop): the job was lost. ]]
-- rcall, bad and the other helpers used below come from functions/prelude.lua, spliced in
-- here when the script is built (lua/scripts.ts).
local PENDING, PROCESSING, JOBS, ATTEMPTS, FAILED, SEQ = 1, 2, 3, 4, 5, 6
local MAX_POP = 1000 -- one pop must stay a short script
if #KEYS ~= 6 then return bad('keys', 'must be the 6 keys of one job queue') end
local op, arg = ARGV[1], ARGV[2]

if op == 'push' then
  if type(arg) ~= 'string' then return bad('payload', 'must be given') end
  local err = expect_types({KEYS[SEQ], KEYS[JOBS], KEYS[PENDING]}, {'counter', 'hash', 'list'})
  if err then return err end
  local id = rcall('INCR', KEYS[SEQ])
  rcall('HSET', KEYS[JOBS], id, arg)
  rcall('RPUSH', KEYS[PENDING], id)
  return id
end

if op == 'pop' then
  local count = 1
  if not absent(arg) then
    count = int(arg)
    if not count or count < 1 or count > MAX_POP then
      return bad('count', 'must be an integer from 1 to 1000')
    end
  end
  local err = expect_types({KEYS[PENDING], KEYS[PROCESSING], KEYS[JOBS], KEYS[ATTEMPTS]},
    {'list', 'zset', 'hash', 'hash'})
  if err then return err end
  local now = now_ms()
  local reply = {}
  for _ = 1, count do
    local id = rcall('LPOP', KEYS[PENDING])
    if not id then break end
    rcall('ZADD', KEYS[PROCESSING], now, id)
    reply[#reply + 1] = id
    reply[#reply + 1] = rcall('HGET', KEYS[JOBS], id) or ''
    reply[#reply + 1] = tonumber(rcall('HGET', KEYS[ATTEMPTS], id)) or 0
  end
  return reply
end

if op ~= 'complete' and op ~= 'fail' then
  return bad('op', "must be 'push', 'pop', 'complete' or 'fail'")
end
local _, err = name(arg, 'id')
if err then return err end
local max_retries
if op == 'fail' then
  max_retries = int(ARGV[3])
  if not max_retries or max_retries < 0 then
    return bad('max_retries', 'must be a non-negative integer')
  end
end

err = expect_types({KEYS[PROCESSING], KEYS[JOBS], KEYS[ATTEMPTS], KEYS[PENDING],
  KEYS[FAILED]}, {'zset', 'hash', 'hash', 'list', 'list'})
if err then return err end
if rcall('ZREM', KEYS[PROCESSING], arg) == 0 then return -4 end
if op == 'complete' then
  rcall('HDEL', KEYS[JOBS], arg)
  rcall('HDEL', KEYS[ATTEMPTS], arg)
  return 1
end
if rcall('HINCRBY', KEYS[ATTEMPTS], arg, 1) <= max_retries then
  rcall('RPUSH', KEYS[PENDING], arg)
  return 1
end
rcall('LPUSH', KEYS[FAILED], arg)
return -6
