#!lua name=cy_streamq
-- version: 1
--[[ cy_streamq: exactly-once processing per business id on Redis Streams.

  Every function takes the same four keys, in this order (one hash tag per queue):
    KEYS[1] cy:sq:{name}:stream      STREAM entries {bid, payload}; consumer groups on it
    KEYS[2] cy:sq:{name}:dedup       ZSET business id -> enqueue ms (producer-side dedup)
    KEYS[3] cy:sq:{name}:done        ZSET business id -> completion ms (consumer-side record)
    KEYS[4] cy:sq:{name}:quarantine  STREAM poison messages: original fields + reason,
                                     deliveries, stream_id, group
  Redis 7.0 has no per-field TTL, so both id sets are ZSETs scored by time: a retention
  window (ARGV, 0 = keep forever) prunes entries older than it on each write. Ids must then
  not come back later than that window, or they count as new.
  The done set is per queue, not per group: run one consumer group per exactly-once queue (a
  second group would see every id as already done).

  Delivery is XREADGROUP from the client (a function cannot block):
    XREADGROUP GROUP <group> <consumer> COUNT n BLOCK ms STREAMS cy:sq:{name}:stream >
  Entries whose consumer died stay pending; cy_streamq_claim_stale hands them to a live
  consumer, or quarantines them once they were delivered max_deliveries times.

  Processing exactly once (the consumer's side):
    1. FCALL_RO cy_streamq_is_done: 1 -> skip the work, call ack (it returns 0) and move on.
    2. Do the work so that its effects are not yet visible or are idempotent by business id
       (stage them, or write them keyed by the business id).
    3. FCALL cy_streamq_ack: 1 -> this delivery is the first completion: commit/publish the
       staged effects. 0 -> another delivery of the same business id completed first (a stale
       claim raced with the original consumer): discard/compensate the staged effects.
    Because ack records the id and XACKs in one atomic step, exactly one delivery per business
    id ever gets 1; that 1 is the gate for side effects that must happen once.
  Reply codes (functions/error-codes.md): -4 not pending, -5 business id already enqueued.
]]

--[[ cy_streamq_enqueue: add a message once per business id.
  KEYS    the four streamq keys
  ARGV[1] group (non-empty; created at id 0 with MKSTREAM if missing)
  ARGV[2] business_id (non-empty)   ARGV[3] payload (any string)
  ARGV[4] maxlen (integer >= 0; 0 = no trim, else XADD MAXLEN ~ maxlen)
  ARGV[5] dedup_window_ms (integer >= 0; '' or absent = 0 = remember ids forever)
  Returns the stream entry id (bulk string), or -5 if the business id was enqueued within the
          window (nothing written) ]]

--[[ cy_streamq_claim_stale: take over entries idle for min_idle_ms, quarantine poison ones.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] consumer (the claimer)
  ARGV[3] min_idle_ms (integer >= 0)   ARGV[4] count (1..1000)
  ARGV[5] max_deliveries (positive integer)
  Returns {claimed, quarantined, deleted}:
    claimed      XAUTOCLAIM entries {{streamId, {field, value, ...}}, ...} now owned by
                 consumer (delivery count + 1)
    quarantined  stream ids delivered >= max_deliveries times and idle: copied to the
                 quarantine stream, XACKed and XDELed from the main stream
    deleted      stream ids that were pending but no longer in the stream (XAUTOCLAIM's third
                 element, Redis 7.0+); they are removed from the pending list ]]

--[[ cy_streamq_ack: record a completion and XACK.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] stream_id ('<ms>-<seq>')   ARGV[3] business_id
  ARGV[4] done_retention_ms (integer >= 0; '' or absent = 0 = keep forever)
  Returns 1 first completion of this business id, 0 already done (duplicate delivery; the
          entry is XACKed all the same) ]]

--[[ cy_streamq_nack: hand a pending entry back for redelivery now.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] stream_id
  Returns 1, -4 if the entry is not pending in the group.
  The entry stays pending (with its delivery count) but its idle time is set as if delivered
  at the epoch (XCLAIM ... IDLE <now> JUSTID, same owner), so the next claim_stale with any
  min_idle_ms picks it up. ]]

--[[ cy_streamq_is_done: was this business id completed? (no-writes, FCALL_RO)
  KEYS    the four streamq keys
  ARGV[1] business_id
  Returns 1 done, 0 not done ]]

-- redis.call does not exist while FUNCTION LOAD runs the library body (Redis 7.0), so it is
-- resolved when a function runs.
local function rcall(...) return redis.call(...) end

-- Validation helpers, repeated in every cy_* library (libraries cannot share code).
local MAX_SAFE = 9007199254740991 -- 2^53 - 1

local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Decimal digits only: tonumber() alone accepts ' 5 ', '0x10', '1e3' and 'inf'.
local function int(s)
  if type(s) ~= 'string' or #s > 17 or not s:match('^%-?%d+$') then return nil end
  local n = tonumber(s)
  if n > MAX_SAFE or n < -MAX_SAFE then return nil end
  return n
end

local function pos_int(s, field)
  local n = int(s)
  if not n or n < 1 then return nil, bad(field, 'must be a positive integer') end
  return n
end

-- Optional integer >= 0: '' or absent = 0.
local function opt_nonneg(s, field)
  if s == nil or s == '' then return 0 end
  local n = int(s)
  if not n or n < 0 then return nil, bad(field, 'must be a non-negative integer') end
  return n
end

local function name(s, field)
  if type(s) ~= 'string' or s == '' then return nil, bad(field, 'must be a non-empty string') end
  return s
end

local function stream_id(s)
  if type(s) ~= 'string' or not s:match('^%d+%-%d+$') then
    return nil, bad('stream_id', 'must be a stream id <ms>-<seq>')
  end
  return s
end

local function now_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local MAX_CLAIM = 1000 -- count bound: one claim_stale must stay a short function

local STREAM, DEDUP, DONE, QUARANTINE = 1, 2, 3, 4

-- Forget ids older than the retention window (0 = keep forever).
local function prune(key, window, now)
  if window > 0 then rcall('ZREMRANGEBYSCORE', key, '-inf', now - window) end
end

-- Create the group on first use, at id 0 with MKSTREAM so it sees every entry. Looking first
-- (instead of a pcall'd XGROUP CREATE that fails with BUSYGROUP) keeps a BUSYGROUP error out
-- of INFO errorstats on every enqueue; the function is atomic, so look-then-create is safe.
local function ensure_group(stream, group)
  if rcall('EXISTS', stream) == 1 then
    -- RESP2 rows are flat {'name', <name>, 'consumers', ...}.
    for _, row in ipairs(rcall('XINFO', 'GROUPS', stream)) do
      if row[2] == group then return end
    end
  end
  rcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
end

local function enqueue(keys, args)
  local group, bid, maxlen, window, err
  group, err = name(args[1], 'group'); if err then return err end
  bid, err = name(args[2], 'business_id'); if err then return err end
  if type(args[3]) ~= 'string' then return bad('payload', 'must be given') end
  maxlen, err = opt_nonneg(args[4], 'maxlen'); if err then return err end
  window, err = opt_nonneg(args[5], 'dedup_window_ms'); if err then return err end

  local now = now_ms()
  local seen = tonumber(rcall('ZSCORE', keys[DEDUP], bid))
  if seen and (window == 0 or seen > now - window) then return -5 end

  ensure_group(keys[STREAM], group)
  local id
  if maxlen > 0 then
    id = rcall('XADD', keys[STREAM], 'MAXLEN', '~', maxlen, '*', 'bid', bid, 'payload', args[3])
  else
    id = rcall('XADD', keys[STREAM], '*', 'bid', bid, 'payload', args[3])
  end
  prune(keys[DEDUP], window, now)
  rcall('ZADD', keys[DEDUP], now, bid)
  return id
end

-- Copy a poison entry to the quarantine stream, then drop it from the main stream.
local function quarantine(keys, group, id, deliveries)
  local entry = rcall('XRANGE', keys[STREAM], id, id)[1]
  if entry then
    local fields = entry[2]
    fields[#fields + 1] = 'reason'; fields[#fields + 1] = 'max_deliveries'
    fields[#fields + 1] = 'deliveries'; fields[#fields + 1] = deliveries
    fields[#fields + 1] = 'stream_id'; fields[#fields + 1] = id
    fields[#fields + 1] = 'group'; fields[#fields + 1] = group
    rcall('XADD', keys[QUARANTINE], '*', unpack(fields))
  end
  rcall('XACK', keys[STREAM], group, id)
  rcall('XDEL', keys[STREAM], id)
end

local function claim_stale(keys, args)
  local group, consumer, min_idle, count, max_deliveries, err
  group, err = name(args[1], 'group'); if err then return err end
  consumer, err = name(args[2], 'consumer'); if err then return err end
  min_idle, err = opt_nonneg(args[3], 'min_idle_ms'); if err then return err end
  count, err = pos_int(args[4], 'count'); if err then return err end
  if count > MAX_CLAIM then return bad('count', 'must be at most 1000') end
  max_deliveries, err = pos_int(args[5], 'max_deliveries'); if err then return err end

  -- Poison first: XAUTOCLAIM would bump their delivery count and hand them out again.
  -- XPENDING rows: {id, owner, idle ms, deliveries}.
  local quarantined = {}
  for _, row in ipairs(rcall('XPENDING', keys[STREAM], group, 'IDLE', min_idle, '-', '+', count)) do
    if row[4] >= max_deliveries then
      quarantine(keys, group, row[1], row[4])
      quarantined[#quarantined + 1] = row[1]
    end
  end
  -- Redis 7.0 XAUTOCLAIM: {next cursor, entries, ids deleted from the stream}. The function is
  -- atomic and claimed entries become idle 0, so scanning from 0-0 every time is correct.
  local res = rcall('XAUTOCLAIM', keys[STREAM], group, consumer, min_idle, '0-0', 'COUNT', count)
  return {res[2], quarantined, res[3]}
end

local function ack(keys, args)
  local group, id, bid, retention, err
  group, err = name(args[1], 'group'); if err then return err end
  id, err = stream_id(args[2]); if err then return err end
  bid, err = name(args[3], 'business_id'); if err then return err end
  retention, err = opt_nonneg(args[4], 'done_retention_ms'); if err then return err end

  local now = now_ms()
  prune(keys[DONE], retention, now)
  local first = rcall('ZADD', keys[DONE], 'NX', now, bid)
  rcall('XACK', keys[STREAM], group, id)
  return first
end

local function nack(keys, args)
  local group, id, err
  group, err = name(args[1], 'group'); if err then return err end
  id, err = stream_id(args[2]); if err then return err end

  local row = rcall('XPENDING', keys[STREAM], group, id, id, 1)[1]
  if not row then return -4 end
  -- JUSTID: the delivery count is not incremented; IDLE now: as if delivered at the epoch.
  rcall('XCLAIM', keys[STREAM], group, row[2], 0, id, 'IDLE', now_ms(), 'JUSTID')
  return 1
end

local function is_done(keys, args)
  local bid, err = name(args[1], 'business_id')
  if err then return err end
  return rcall('ZSCORE', keys[DONE], bid) and 1 or 0
end

redis.register_function{function_name = 'cy_streamq_enqueue', callback = enqueue,
  description = 'add once per business id: stream id | -5'}
redis.register_function{function_name = 'cy_streamq_claim_stale', callback = claim_stale,
  description = 'claim idle entries, quarantine poison: {claimed, quarantined, deleted}'}
redis.register_function{function_name = 'cy_streamq_ack', callback = ack,
  description = 'complete: 1 first completion | 0 duplicate'}
redis.register_function{function_name = 'cy_streamq_nack', callback = nack,
  description = 'make a pending entry claimable now: 1 | -4'}
redis.register_function{function_name = 'cy_streamq_is_done', callback = is_done,
  flags = {'no-writes'}, description = '1 done | 0'}
