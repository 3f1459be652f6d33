#!lua name=cy_streamq
-- version: 6
--[[ cy_streamq: exactly-once processing per business id on Redis Streams.

  Every function takes the same four keys, in this order (one hash tag per queue):
    KEYS[1] cy:sq:{name}:stream      STREAM entries {bid, payload}; consumer groups on it
    KEYS[2] cy:sq:{name}:dedup       ZSET business id -> enqueue ms (producer-side dedup)
    KEYS[3] cy:sq:{name}:done        ZSET business id -> completion ms (consumer-side record)
    KEYS[4] cy:sq:{name}:quarantine  STREAM poison messages: original fields + reason,
                                     deliveries, stream_id, group, consumer
  Redis 7.0 has no per-field TTL, so both id sets are ZSETs scored by time: a retention
  window (ARGV, 0 = keep forever) prunes entries older than it on each write. Ids must then
  not come back later than that window, or they count as new.
  The done set is per queue, not per group: run one consumer group per exactly-once queue (a
  second group would see every id as already done).

  Delivery is XREADGROUP from the client (a function cannot block):
    XREADGROUP GROUP <group> <consumer> COUNT n BLOCK ms STREAMS cy:sq:{name}:stream >
  Entries whose consumer died stay pending; cy_streamq_claim_stale hands them to a live
  consumer, or quarantines them once they were delivered max_deliveries times.
  Quarantine looks at idle time only: an entry on its last delivery that stays idle past
  min_idle_ms is quarantined even if a slow consumer is still working on it. That consumer's
  later ack replies -6 (not a first completion) and records nothing: choose min_idle_ms above
  the longest processing time, as for claiming.

  Processing exactly once (the consumer's side):
    1. FCALL_RO cy_streamq_is_done: 1 -> skip the work, call ack (it returns 0) and move on.
    2. Do the work so that its effects are not yet visible or are idempotent by business id
       (stage them, or write them keyed by the business id).
    3. FCALL cy_streamq_ack: 1 -> this delivery is the first completion: commit/publish the
       staged effects. 0 -> another delivery of the same business id completed first,
       -3 -> the entry was claimed by another consumer meanwhile (this one was too slow),
       -6 -> the entry was quarantined meanwhile: discard/compensate the staged effects.
    Because ack XACKs and records the id in one atomic step, and only the consumer the entry
    is pending for can record it, exactly one delivery per business id ever gets 1; that 1 is
    the gate for side effects that must happen once.

  Trimming (enqueue's maxlen) never drops an entry a group has not acknowledged: an entry
  trimmed before delivery would be lost while its business id stays in the dedup set, so a
  retry of the producer would be refused too (version 1 trimmed with XADD MAXLEN ~). Once the
  stream is longer than maxlen, enqueue trims with XTRIM MINID ~ below the oldest entry some
  group still needs (its oldest pending entry, else its last-delivered id): acknowledged
  history goes, undelivered and pending entries stay, so the stream may exceed maxlen while
  consumers lag. At-least-once and once-per-business-id win over the length bound.

  Groups: enqueue creates its group with the stream (XGROUP CREATE ... 0 MKSTREAM when XADD
  NOMKSTREAM finds no stream), and before it trims when the group does not exist yet (at id
  0: created then, it needs every entry, so nothing is trimmed that time). Otherwise it does
  not look at groups: versions up to 4 ran XINFO GROUPS on every enqueue, most of its cost.
  A group missing from an existing stream (destroyed, or named by a consumer only) is
  created by the consumer's first read (the facade runs XGROUP CREATE ... 0 on NOGROUP), at
  id 0, so it sees every entry still in the stream. The groups that keep entries from being
  trimmed are the groups that exist: a queue written by producers naming different groups
  (not the one-group-per-queue model above) protects a group only once it exists.

  Quarantine (KEYS[4]) is a plain stream, oldest first: each record is the entry's fields
  plus reason 'max_deliveries', deliveries, stream_id (its id in the main stream), group and
  consumer (its last holder). Nothing trims it and nothing reads it back by itself: inspect it
  (StreamQueue.quarantined / XRANGE), fix the cause, then XDEL/XTRIM records by hand. Its
  business id stays in the dedup set, so enqueueing it again with the same business id is
  refused (-5) until the dedup window passes: re-enqueue under a new business id.
  Only claim_stale counts deliveries against max_deliveries. A consumer that re-reads its own
  pending entries (XREADGROUP ... 0 after a restart) bumps their delivery count without a
  check: to stop a poison entry that crashes its consumer, give the restarted consumer a new
  name (its old entries go idle and claim_stale quarantines them) or check the delivery count
  (XPENDING) before processing a re-read entry.

  Every function checks its KEYS first (the four keys of one queue, in order). claim_stale
  and ack check, before their first write, that the key they write after the stream (the
  quarantine stream, the done set) is absent or of its type, else reply 'WRONGTYPE <key> ...'
  with nothing written: versions up to 5 XACKed first, so a quarantine key of another type
  left the entry acked but neither quarantined nor deleted, and a done key of another type
  left it acked but not recorded. A quarantine also XADDs its record before the XACK.
  Reply codes (functions/error-codes.md): -3 ack or nack of an entry pending for another
  consumer, -4 not pending, -5 business id already enqueued, -6 ack of an entry that was
  quarantined.
]]

--[[ cy_streamq_enqueue: add a message once per business id.
  KEYS    the four streamq keys
  ARGV[1] group (non-empty; created at id 0 with the stream, or before a trim if missing:
          see Groups above)
  ARGV[2] business_id (non-empty)   ARGV[3] payload (any string)
  ARGV[4] maxlen (integer >= 0; 0 = no trim, else trim acknowledged entries once the stream
          is longer than maxlen: see Trimming above)
  ARGV[5] dedup_window_ms (integer >= 0; '' or absent = 0 = remember ids forever)
  Returns the stream entry id (bulk string), or -5 if the business id was enqueued within the
          window (nothing written) ]]

--[[ cy_streamq_claim_stale: take over entries idle for min_idle_ms, quarantine poison ones.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] consumer (the claimer)
  ARGV[3] min_idle_ms (integer >= 0)   ARGV[4] count (1..1000)
  ARGV[5] max_deliveries (positive integer)
  Looks at the first `count` pending entries idle at least min_idle_ms (XPENDING IDLE, oldest
  first) and decides about exactly those: each is claimed, quarantined or reported deleted.
  Returns {claimed, quarantined, deleted}:
    claimed      entries {{streamId, {field, value, ...}}, ...} delivered fewer than
                 max_deliveries times, now owned by consumer (XCLAIM: delivery count + 1)
    quarantined  stream ids delivered >= max_deliveries times: copied to the quarantine
                 stream, XACKed and XDELed from the main stream
    deleted      stream ids that were pending but whose entry is gone from the stream; they
                 are removed from the pending list ]]

--[[ cy_streamq_ack: complete a delivery: XACK it and record its business id.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] stream_id ('<ms>-<seq>', each part at most 2^64 - 1)
  ARGV[3] business_id
  ARGV[4] done_retention_ms (integer >= 0; '' or absent = 0 = keep forever)
  ARGV[5] consumer (non-empty: the consumer the entry was delivered to, by XREADGROUP or
          claim_stale)
  Only the consumer that holds the entry now may complete it. An entry that is not pending
  for `consumer` is neither XACKed nor recorded: nothing at all is written (no prune either).
  Returns 1 first completion of this business id (XACKed, recorded in the done set),
          0 the business id was already done (a duplicate delivery; XACKed if it was ours),
          -3 the entry is pending for another consumer (claim_stale handed it over): this
             delivery is no longer valid,
          -6 the entry is not pending and its business id was never completed: it was
             quarantined (or dropped after its entry was deleted) ]]

--[[ cy_streamq_nack: hand a pending entry back for redelivery now.
  KEYS    the four streamq keys
  ARGV[1] group   ARGV[2] stream_id
  ARGV[3] consumer (non-empty: the consumer the entry was delivered to, as for ack)
  Only the consumer that holds the entry now may give it back: versions up to 3 took any id,
  so a consumer whose entry had been claimed by another could make the new holder's delivery
  claimable under it.
  Returns 1, -4 if the entry is not pending in the group, -3 if it is pending for another
          consumer (nothing written).
  The entry stays pending (with its delivery count) but its idle time is set as if delivered
  at the epoch (XCLAIM ... IDLE <now> JUSTID, same owner), so the next claim_stale with any
  min_idle_ms picks it up. ]]

--[[ cy_streamq_is_done: was this business id completed? (no-writes, FCALL_RO)
  KEYS    the four streamq keys
  ARGV[1] business_id
  Returns 1 done, 0 not done ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).

-- Stream ids are '<ms>-<seq>' with both parts unsigned 64-bit integers. Redis refuses larger
-- ones, and a refusal after the first write would leave a partial write, so check here.
local U64_MAX = '18446744073709551615'

local function u64(digits)
  digits = digits:gsub('^0+', '')
  return #digits < #U64_MAX or (#digits == #U64_MAX and digits <= U64_MAX)
end

local function stream_id(s)
  local stamp, seq
  if type(s) == 'string' then stamp, seq = s:match('^(%d+)%-(%d+)$') end
  if not stamp or not u64(stamp) or not u64(seq) then
    return nil, bad('stream_id', 'must be a stream id <ms>-<seq> (each part at most 2^64 - 1)')
  end
  return s
end

-- a < b for stream ids as Redis prints them (decimal, no leading zeros).
local function id_lt(a, b)
  local am, as = a:match('^(%d+)%-(%d+)$')
  local bm, bs = b:match('^(%d+)%-(%d+)$')
  if am ~= bm then return #am < #bm or (#am == #bm and am < bm) end
  return #as < #bs or (#as == #bs and as < bs)
end

local queue_keys = family({':stream', ':dedup', ':done', ':quarantine'},
  'the 4 keys <q>:stream, <q>:dedup, <q>:done, <q>:quarantine of one queue')

local MAX_CLAIM = 1000 -- count bound: one claim_stale must stay a short function

local STREAM, DEDUP, DONE, QUARANTINE = 1, 2, 3, 4

-- Forget ids older than the retention window (0 = keep forever).
local function prune(key, window, now)
  if window > 0 then rcall('ZREMRANGEBYSCORE', key, '-inf', now - window) end
end

-- The oldest entry some group may still need: its oldest pending entry, else its last-delivered
-- id (later entries are not delivered yet). Every entry below it is acknowledged by every group.
-- nil when `group` did not exist: it is created at id 0 now and needs every entry.
local function oldest_needed(stream, group)
  local floor, found
  for _, row in ipairs(rcall('XINFO', 'GROUPS', stream)) do
    local g = {} -- RESP2 rows are flat {'name', <name>, 'consumers', n, 'pending', n, ...}
    for i = 1, #row, 2 do g[row[i]] = row[i + 1] end
    found = found or g.name == group
    local need = g['last-delivered-id']
    if g.pending > 0 then need = rcall('XPENDING', stream, g.name)[2] end
    if not floor or id_lt(need, floor) then floor = need end
  end
  if not found then
    rcall('XGROUP', 'CREATE', stream, group, '0')
    return nil
  end
  return floor
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

  local stream = keys[STREAM]
  local id = rcall('XADD', stream, 'NOMKSTREAM', '*', 'bid', bid, 'payload', args[3])
  if not id then
    -- No stream yet: create it with the group at id 0, so the group sees this first entry.
    rcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
    id = rcall('XADD', stream, '*', 'bid', bid, 'payload', args[3])
  end
  if maxlen > 0 and rcall('XLEN', stream) > maxlen then
    local floor = oldest_needed(stream, group)
    -- '~': whole stream nodes only, never an entry at or above the bound.
    if floor then rcall('XTRIM', stream, 'MINID', '~', floor) end
  end
  prune(keys[DEDUP], window, now)
  rcall('ZADD', keys[DEDUP], now, bid)
  return id
end

-- Copy a poison entry to the quarantine stream, then drop it from the main stream. Returns
-- false when the entry was already gone from the stream (then it only leaves the pending list).
-- The record is written before the XACK, so a failing XADD leaves the entry pending.
local function quarantine(keys, group, id, owner, deliveries)
  local entry = rcall('XRANGE', keys[STREAM], id, id)[1]
  if not entry then
    rcall('XACK', keys[STREAM], group, id)
    return false
  end
  local fields = entry[2]
  fields[#fields + 1] = 'reason'; fields[#fields + 1] = 'max_deliveries'
  fields[#fields + 1] = 'deliveries'; fields[#fields + 1] = deliveries
  fields[#fields + 1] = 'stream_id'; fields[#fields + 1] = id
  fields[#fields + 1] = 'group'; fields[#fields + 1] = group
  fields[#fields + 1] = 'consumer'; fields[#fields + 1] = owner
  rcall('XADD', keys[QUARANTINE], '*', unpack(fields))
  rcall('XACK', keys[STREAM], group, id)
  rcall('XDEL', keys[STREAM], id)
  return true
end

local function claim_stale(keys, args)
  local group, consumer, min_idle, count, max_deliveries, err
  group, err = name(args[1], 'group'); if err then return err end
  consumer, err = name(args[2], 'consumer'); if err then return err end
  min_idle, err = opt_nonneg(args[3], 'min_idle_ms'); if err then return err end
  count, err = pos_int(args[4], 'count'); if err then return err end
  if count > MAX_CLAIM then return bad('count', 'must be at most 1000') end
  max_deliveries, err = pos_int(args[5], 'max_deliveries'); if err then return err end
  err = expect_types({keys[QUARANTINE]}, {'stream'})
  if err then return err end

  -- Decide about exactly the entries looked at (version 1 quarantined the first `count` idle
  -- entries, then XAUTOCLAIMed the next `count`, handing out entries past max_deliveries).
  -- XPENDING rows: {id, owner, idle ms, deliveries}.
  local to_claim, quarantined, deleted = {}, {}, {}
  for _, row in ipairs(rcall('XPENDING', keys[STREAM], group, 'IDLE', min_idle, '-', '+', count)) do
    if row[4] < max_deliveries then
      to_claim[#to_claim + 1] = row[1]
    elseif quarantine(keys, group, row[1], row[2], row[4]) then
      quarantined[#quarantined + 1] = row[1]
    else
      deleted[#deleted + 1] = row[1]
    end
  end
  local claimed = {}
  if #to_claim > 0 then
    -- Same idle bound as the XPENDING above (the function is atomic, so it still holds).
    -- Redis 7.0 XCLAIM drops ids whose entry was deleted from the pending list and returns
    -- nothing for them: those are reported as deleted.
    claimed = rcall('XCLAIM', keys[STREAM], group, consumer, min_idle, unpack(to_claim))
    local got = {}
    for _, e in ipairs(claimed) do got[e[1]] = true end
    for _, id in ipairs(to_claim) do
      if not got[id] then deleted[#deleted + 1] = id end
    end
  end
  return {claimed, quarantined, deleted}
end

-- Is bid in the done set, within the retention window (0 = forever)?
local function done(keys, bid, retention, now)
  local at = tonumber(rcall('ZSCORE', keys[DONE], bid))
  return at ~= nil and (retention == 0 or at > now - retention)
end

local function ack(keys, args)
  local group, id, bid, retention, consumer, err
  group, err = name(args[1], 'group'); if err then return err end
  id, err = stream_id(args[2]); if err then return err end
  bid, err = name(args[3], 'business_id'); if err then return err end
  retention, err = opt_nonneg(args[4], 'done_retention_ms'); if err then return err end
  consumer, err = name(args[5], 'consumer'); if err then return err end

  -- Look before writing (version 1 recorded the id first, then XACKed; an XACK alone would
  -- also take an entry from the consumer it was claimed by). XPENDING row: {id, owner, ...}.
  local now = now_ms()
  local row = rcall('XPENDING', keys[STREAM], group, id, id, 1)[1]
  if not row or row[2] ~= consumer then
    if done(keys, bid, retention, now) then return 0 end
    return row and -3 or -6
  end
  err = expect_types({keys[DONE]}, {'zset'})
  if err then return err end
  rcall('XACK', keys[STREAM], group, id)
  prune(keys[DONE], retention, now)
  return rcall('ZADD', keys[DONE], 'NX', now, bid)
end

local function nack(keys, args)
  local group, id, consumer, err
  group, err = name(args[1], 'group'); if err then return err end
  id, err = stream_id(args[2]); if err then return err end
  consumer, err = name(args[3], 'consumer'); if err then return err end

  local row = rcall('XPENDING', keys[STREAM], group, id, id, 1)[1]
  if not row then return -4 end
  if row[2] ~= consumer then return -3 end
  -- JUSTID: the delivery count is not incremented; IDLE now: as if delivered at the epoch.
  rcall('XCLAIM', keys[STREAM], group, row[2], 0, id, 'IDLE', now_ms(), 'JUSTID')
  return 1
end

local function is_done(keys, args)
  local bid, err = name(args[1], 'business_id')
  if err then return err end
  return rcall('ZSCORE', keys[DONE], bid) and 1 or 0
end

register{function_name = 'cy_streamq_enqueue', args = 5, keys = queue_keys, callback = enqueue,
  description = 'add once per business id: stream id | -5'}
register{function_name = 'cy_streamq_claim_stale', args = 5, keys = queue_keys,
  callback = claim_stale,
  description = 'claim idle entries, quarantine poison: {claimed, quarantined, deleted}'}
register{function_name = 'cy_streamq_ack', args = 5, keys = queue_keys, callback = ack,
  description = 'complete: 1 first completion | 0 duplicate | -3 not ours | -6 quarantined'}
register{function_name = 'cy_streamq_nack', args = 3, keys = queue_keys, callback = nack,
  description = 'make a pending entry of ours claimable now: 1 | -3 not ours | -4'}
register{function_name = 'cy_streamq_is_done', args = 1, keys = queue_keys, callback = is_done,
  flags = {'no-writes'}, description = '1 done | 0'}
