#!lua name=cy_queue
-- version: 4
--[[ cy_queue: reliable queue with visibility timeouts, priorities, delays, dedup by id and a
  dead-letter set. At-least-once: a pulled message comes back when its visibility ends.

  Every function takes the same seven keys, in this order (one hash tag per queue):
    KEYS[1] cy:q:{name}:ready     ZSET id -> -priority * 1e12 + seq  (pop lowest first)
    KEYS[2] cy:q:{name}:delayed   ZSET id -> due ms
    KEYS[3] cy:q:{name}:inflight  ZSET id -> visibility deadline ms
    KEYS[4] cy:q:{name}:msg       HASH id -> payload (present while the id is anywhere here)
    KEYS[5] cy:q:{name}:meta      HASH '<id>:a' -> attempts, '<id>:r' -> current receipt,
                                       '<id>:p' -> priority
    KEYS[6] cy:q:{name}:dead      ZSET id -> dead-lettered ms
    KEYS[7] cy:q:{name}:seq       STRING counter (FIFO order and receipts)

  Where a message moves:
    enqueue        -> delayed (delay_ms > 0) or ready
    pull           delayed (due) -> ready;  inflight (visibility over) -> ready, or dead when
                   no attempt is left;  ready -> inflight (or dead when no attempt is left)
    ack            anywhere -> removed
    nack           inflight -> delayed (retry_delay_ms > 0) or ready, or dead (no attempt left)
    extend         inflight -> inflight with a later deadline
    requeue_dead   dead -> ready

  Ready order: higher priority first, FIFO within a priority. Priority is an integer in
  [-1000, 1000] and seq stays below 1e12, so |score| < 2^53 and every score is exact.
  A message that goes back to ready (visibility expired, nack, requeue_dead) takes a new seq:
  it queues behind messages of its priority that are already waiting.
  Attempts count deliveries: pull increments them. A message whose attempts already equal
  max_attempts is dead-lettered instead of being delivered again (on the requeue of an expired
  delivery, or on pop). Each pull moves at most 1000 due delayed and 1000 expired inflight
  messages (MOVE_BATCH) so one call stays short; the rest move on the next pulls.
  Receipts are '<sec><usec>-<seq>': unique per queue, so a consumer whose visibility expired
  (and whose message was pulled again by someone else) gets -3 on ack/nack/extend.
  Every function checks its KEYS first: the seven keys of one queue, in this order (a call
  with four keys used to write the payload, then fail). Every function that writes checks,
  before its first write, that the keys it writes are absent or of their type above (seq: an
  integer), else replies 'WRONGTYPE <key> ...' with nothing written: versions up to 3 let
  enqueue store the payload, then fail on a later key, leaving a message that was never ready
  and whose id was refused as a duplicate from then on.
  Reply codes (functions/error-codes.md): -3 wrong receipt / not in flight, -4 not found,
  -5 id already in the queue, -6 dead-lettered.
]]

--[[ cy_queue_enqueue: add a message.
  KEYS    the seven queue keys
  ARGV[1] id (non-empty)   ARGV[2] payload (any string, may be empty)
  ARGV[3] delay_ms (integer >= 0; '' = 0)
  ARGV[4] priority (integer in [-1000, 1000], higher first; '' = 0)
  Returns 1 added, -5 an id that is still anywhere in the queue (ready, delayed, inflight or
          dead): nothing written ]]

--[[ cy_queue_pull: deliver up to max_messages messages.
  KEYS    the seven queue keys
  ARGV[1] visibility_ms (positive integer)   ARGV[2] max_messages (1..1000)
  ARGV[3] max_attempts (positive integer)
  Returns flat {id_1, payload_1, attempts_1, receipt_1, id_2, ...} (empty when nothing is
          ready); attempts counts this delivery (1 on the first) ]]

--[[ cy_queue_ack: finish a message (removes it from every structure).
  KEYS    the seven queue keys
  ARGV[1] id   ARGV[2] receipt ('' = skip the receipt check: delete wherever it is)
  Returns 1 done, -3 receipt is not the current one (late ack: the delivery expired and was
          requeued, re-pulled or dead-lettered), -4 unknown id ]]

--[[ cy_queue_nack: give a delivery back.
  KEYS    the seven queue keys
  ARGV[1] id   ARGV[2] receipt ('' = skip the check, but the message must be in flight)
  ARGV[3] retry_delay_ms (integer >= 0; '' = 0: straight back to ready)
  ARGV[4] max_attempts (positive integer)
  Returns 1 requeued, -6 attempts >= max_attempts: dead-lettered instead, -3 wrong receipt or
          not in flight, -4 unknown id ]]

--[[ cy_queue_extend: push the visibility deadline of a delivery to now + visibility_ms.
  KEYS    the seven queue keys
  ARGV[1] id   ARGV[2] receipt ('' = skip the check, but the message must be in flight)
  ARGV[3] visibility_ms (positive integer)
  Returns 1 extended, -3 wrong receipt or not in flight, -4 unknown id ]]

--[[ cy_queue_stats: sizes (no-writes, FCALL_RO).
  KEYS    the seven queue keys
  ARGV    none
  Returns {ready, delayed, inflight, dead} (delayed includes due messages not yet moved) ]]

--[[ cy_queue_dead_list: page through dead letters, oldest first (no-writes, FCALL_RO).
  KEYS    the seven queue keys
  ARGV[1] start   ARGV[2] stop (integers, ZRANGE semantics: 0 -1 = all)
  Returns flat {id, payload, attempts, deadAtMs, ...} ]]

--[[ cy_queue_requeue_dead: move a dead letter back to ready with attempts reset to 0.
  KEYS    the seven queue keys
  ARGV[1] id
  Returns 1 requeued, -4 not in the dead-letter set ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local queue_keys = family({':ready', ':delayed', ':inflight', ':msg', ':meta', ':dead', ':seq'},
  'the 7 keys <q>:ready, :delayed, :inflight, :msg, :meta, :dead, :seq of one queue')

local MAX_PRIORITY = 1000  -- |priority| bound that keeps ready scores exact (see header)
local PRIORITY_STEP = 1e12 -- seq range inside one priority
local MAX_PULL = 1000      -- max_messages bound: one pull must stay a short function
local MOVE_BATCH = 1000    -- due delayed / expired inflight messages moved per pull

-- Key positions, so the code reads by role.
local READY, DELAYED, INFLIGHT, MSG, META, DEAD, SEQ = 1, 2, 3, 4, 5, 6, 7

-- Types of the keys, by position (expect_types: 'counter' = a string holding an integer).
local TYPES = {'zset', 'zset', 'zset', 'hash', 'hash', 'zset', 'counter'}

-- The keys at positions ... and their types, checked before a function's first write.
local function check_types(keys, ...)
  local ks, ts = {}, {}
  for i, k in ipairs({...}) do ks[i], ts[i] = keys[k], TYPES[k] end
  return expect_types(ks, ts)
end

local function to_ready(keys, id)
  local priority = tonumber(rcall('HGET', keys[META], id .. ':p')) or 0
  local seq = rcall('INCR', keys[SEQ])
  rcall('ZADD', keys[READY], -priority * PRIORITY_STEP + seq, id)
end

-- Caller has removed id from ready/inflight. Keeps payload, attempts and priority.
local function to_dead(keys, id, now)
  rcall('HDEL', keys[META], id .. ':r')
  rcall('ZADD', keys[DEAD], now, id)
end

local function attempts_of(keys, id)
  return tonumber(rcall('HGET', keys[META], id .. ':a')) or 0
end

local function enqueue(keys, args)
  local id, delay, priority, err
  id, err = name(args[1], 'id'); if err then return err end
  if type(args[2]) ~= 'string' then return bad('payload', 'must be given') end
  delay, err = opt_nonneg(args[3], 'delay_ms'); if err then return err end
  if absent(args[4]) then
    priority = 0
  else
    priority = int(args[4])
    if not priority or priority < -MAX_PRIORITY or priority > MAX_PRIORITY then
      return bad('priority', 'must be an integer from -1000 to 1000')
    end
  end

  if rcall('HEXISTS', keys[MSG], id) == 1 then return -5 end
  if delay > 0 then
    err = check_types(keys, META, DELAYED)
  else
    err = check_types(keys, META, READY, SEQ)
  end
  if err then return err end
  rcall('HSET', keys[MSG], id, args[2])
  rcall('HSET', keys[META], id .. ':a', 0, id .. ':p', priority)
  if delay > 0 then
    rcall('ZADD', keys[DELAYED], now_ms() + delay, id)
  else
    to_ready(keys, id)
  end
  return 1
end

local function pull(keys, args)
  local visibility, max, max_attempts, err
  visibility, err = pos_int(args[1], 'visibility_ms'); if err then return err end
  max, err = pos_int(args[2], 'max_messages'); if err then return err end
  if max > MAX_PULL then return bad('max_messages', 'must be at most 1000') end
  max_attempts, err = pos_int(args[3], 'max_attempts'); if err then return err end
  err = check_types(keys, READY, DELAYED, INFLIGHT, MSG, META, DEAD, SEQ)
  if err then return err end

  -- One TIME read gives both the clock and the receipt stamp '<sec><usec>-'.
  local t = rcall('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local stamp = t[1] .. string.format('%06d', tonumber(t[2])) .. '-'
  -- 1. Delayed messages that are due become ready.
  local due = rcall('ZRANGEBYSCORE', keys[DELAYED], '-inf', now, 'LIMIT', 0, MOVE_BATCH)
  for _, id in ipairs(due) do
    rcall('ZREM', keys[DELAYED], id)
    to_ready(keys, id)
  end
  -- 2. Deliveries whose visibility ended come back (their receipt dies), or die when no
  --    attempt is left.
  local expired = rcall('ZRANGEBYSCORE', keys[INFLIGHT], '-inf', now, 'LIMIT', 0, MOVE_BATCH)
  for _, id in ipairs(expired) do
    rcall('ZREM', keys[INFLIGHT], id)
    if attempts_of(keys, id) >= max_attempts then
      to_dead(keys, id, now)
    else
      rcall('HDEL', keys[META], id .. ':r')
      to_ready(keys, id)
    end
  end
  -- 3. Pop by priority; skip (dead-letter) messages with no attempt left.
  local reply, delivered = {}, 0
  while delivered < max do
    local ids = rcall('ZRANGE', keys[READY], 0, max - delivered - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      rcall('ZREM', keys[READY], id)
      local attempts = attempts_of(keys, id)
      if attempts >= max_attempts then
        to_dead(keys, id, now)
      else
        attempts = attempts + 1
        local receipt = stamp .. rcall('INCR', keys[SEQ])
        rcall('HSET', keys[META], id .. ':a', attempts, id .. ':r', receipt)
        rcall('ZADD', keys[INFLIGHT], now + visibility, id)
        local n = #reply
        reply[n + 1] = id
        reply[n + 2] = rcall('HGET', keys[MSG], id) or ''
        reply[n + 3] = attempts
        reply[n + 4] = receipt
        delivered = delivered + 1
      end
    end
  end
  return reply
end

-- Shared checks of nack and extend: the message exists, is in flight, and (unless receipt
-- is '') carries this receipt. Returns nil when the caller may proceed, else the code.
local function check_delivery(keys, id, receipt)
  if rcall('HEXISTS', keys[MSG], id) == 0 then return -4 end
  if not rcall('ZSCORE', keys[INFLIGHT], id) then return -3 end
  if receipt ~= '' and rcall('HGET', keys[META], id .. ':r') ~= receipt then return -3 end
  return nil
end

local function receipt_arg(s)
  if type(s) ~= 'string' then return nil, bad('receipt', "must be given ('' skips the check)") end
  return s
end

local function ack(keys, args)
  local id, receipt, err
  id, err = name(args[1], 'id'); if err then return err end
  receipt, err = receipt_arg(args[2]); if err then return err end

  if rcall('HEXISTS', keys[MSG], id) == 0 then return -4 end
  if receipt ~= '' and rcall('HGET', keys[META], id .. ':r') ~= receipt then return -3 end
  err = check_types(keys, READY, DELAYED, INFLIGHT, DEAD, META)
  if err then return err end
  rcall('ZREM', keys[READY], id)
  rcall('ZREM', keys[DELAYED], id)
  rcall('ZREM', keys[INFLIGHT], id)
  rcall('ZREM', keys[DEAD], id)
  rcall('HDEL', keys[MSG], id)
  rcall('HDEL', keys[META], id .. ':a', id .. ':r', id .. ':p')
  return 1
end

local function nack(keys, args)
  local id, receipt, delay, max_attempts, err
  id, err = name(args[1], 'id'); if err then return err end
  receipt, err = receipt_arg(args[2]); if err then return err end
  delay, err = opt_nonneg(args[3], 'retry_delay_ms'); if err then return err end
  max_attempts, err = pos_int(args[4], 'max_attempts'); if err then return err end

  local code = check_delivery(keys, id, receipt)
  if code then return code end
  err = check_types(keys, META, DEAD, DELAYED, READY, SEQ)
  if err then return err end
  local now = now_ms()
  rcall('ZREM', keys[INFLIGHT], id)
  if attempts_of(keys, id) >= max_attempts then
    to_dead(keys, id, now)
    return -6
  end
  rcall('HDEL', keys[META], id .. ':r')
  if delay > 0 then
    rcall('ZADD', keys[DELAYED], now + delay, id)
  else
    to_ready(keys, id)
  end
  return 1
end

local function extend(keys, args)
  local id, receipt, visibility, err
  id, err = name(args[1], 'id'); if err then return err end
  receipt, err = receipt_arg(args[2]); if err then return err end
  visibility, err = pos_int(args[3], 'visibility_ms'); if err then return err end

  local code = check_delivery(keys, id, receipt)
  if code then return code end
  rcall('ZADD', keys[INFLIGHT], 'XX', now_ms() + visibility, id)
  return 1
end

local function stats(keys)
  return {rcall('ZCARD', keys[READY]), rcall('ZCARD', keys[DELAYED]),
    rcall('ZCARD', keys[INFLIGHT]), rcall('ZCARD', keys[DEAD])}
end

local function dead_list(keys, args)
  local start, stop = int(args[1]), int(args[2])
  if not start then return bad('start', 'must be an integer') end
  if not stop then return bad('stop', 'must be an integer') end
  local rows = rcall('ZRANGE', keys[DEAD], start, stop, 'WITHSCORES')
  local reply = {}
  for i = 1, #rows, 2 do
    local id = rows[i]
    local n = #reply
    reply[n + 1] = id
    reply[n + 2] = rcall('HGET', keys[MSG], id) or ''
    reply[n + 3] = attempts_of(keys, id)
    reply[n + 4] = tonumber(rows[i + 1])
  end
  return reply
end

local function requeue_dead(keys, args)
  local id, err = name(args[1], 'id')
  if err then return err end
  if not rcall('ZSCORE', keys[DEAD], id) then return -4 end
  err = check_types(keys, META, READY, SEQ)
  if err then return err end
  rcall('ZREM', keys[DEAD], id)
  rcall('HSET', keys[META], id .. ':a', 0)
  to_ready(keys, id)
  return 1
end

register{function_name = 'cy_queue_enqueue', args = 4, keys = queue_keys, callback = enqueue,
  description = 'add a message: 1 | -5 duplicate id'}
register{function_name = 'cy_queue_pull', args = 3, keys = queue_keys, callback = pull,
  description = 'deliver: {id, payload, attempts, receipt, ...}'}
register{function_name = 'cy_queue_ack', args = 2, keys = queue_keys, callback = ack,
  description = 'finish: 1 | -3 wrong receipt | -4 not found'}
register{function_name = 'cy_queue_nack', args = 4, keys = queue_keys, callback = nack,
  description = 'give back: 1 | -6 dead-lettered | -3 | -4'}
register{function_name = 'cy_queue_extend', args = 3, keys = queue_keys, callback = extend,
  description = 'extend visibility: 1 | -3 | -4'}
register{function_name = 'cy_queue_stats', args = 0, keys = queue_keys, callback = stats,
  flags = {'no-writes'}, description = '{ready, delayed, inflight, dead}'}
register{function_name = 'cy_queue_dead_list', args = 2, keys = queue_keys, callback = dead_list,
  flags = {'no-writes'}, description = '{id, payload, attempts, deadAtMs, ...}'}
register{function_name = 'cy_queue_requeue_dead', args = 1, keys = queue_keys,
  callback = requeue_dead, description = 'dead letter back to ready: 1 | -4'}
