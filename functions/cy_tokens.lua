#!lua name=cy_tokens
-- version: 3
--[[ cy_tokens: id generation on the server clock.
  Every function checks its KEYS first (exactly one key).
  Reply codes: none besides ERR_CY_ARG (see functions/error-codes.md).
]]

--[[ cy_tokens_ksortable: unique, time-sortable id.
  KEYS[1] cy:token:{name}:ks   HASH {ms, seq}: the last id issued (no TTL: it is what keeps
                               ids increasing when the server clock steps back)
  ARGV    none
  Returns a string '<ms, 13 digits zero-padded>-<seq, 6 digits zero-padded>', e.g.
          '1712345678901-000000'. Ids from one key strictly increase, both as strings and as
          (ms, seq): seq counts ids within one ms; past 999999 in one ms, or while the clock
          is behind the last id, ids continue from the last ms (borrowing the next ms when seq
          overflows), so the ms part may run slightly ahead of the clock. ]]

--[[ cy_tokens_next: named sequence.
  KEYS[1] cy:token:{name}   STRING counter
  ARGV[1] by (optional positive integer; '' or absent = 1)
  Returns the incremented value (1 for the first call with by = 1) ]]

-- Helpers from functions/prelude.lua (rcall, bad, int, pos_int, register, ...) are spliced
-- in here when the library is loaded (functions/assemble.ts).
local one_key = exactly(1, 'the one key of the id source')

local MAX_SEQ = 999999 -- six digits per ms keeps the ids fixed-width, hence string-sortable

local function ksortable(keys)
  local now = now_ms()
  local last_ms, last_seq = unpack(rcall('HMGET', keys[1], 'ms', 'seq'))
  local at, seq = now, 0
  last_ms = tonumber(last_ms)
  if last_ms and now <= last_ms then
    at, seq = last_ms, (tonumber(last_seq) or 0) + 1
    if seq > MAX_SEQ then at, seq = last_ms + 1, 0 end
  end
  rcall('HSET', keys[1], 'ms', at, 'seq', seq)
  return string.format('%013d-%06d', at, seq)
end

local function next_value(keys, args)
  local by = 1
  if not absent(args[1]) then
    local err
    by, err = pos_int(args[1], 'by'); if err then return err end
  end
  return rcall('INCRBY', keys[1], by)
end

register{function_name = 'cy_tokens_ksortable', args = 0, keys = one_key, callback = ksortable,
  description = "time-sortable id '<13-digit ms>-<6-digit seq>'"}
register{function_name = 'cy_tokens_next', args = 1, keys = one_key, callback = next_value,
  description = 'named sequence: INCRBY by (default 1)'}
