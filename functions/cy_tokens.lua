#!lua name=cy_tokens
-- version: 4
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
  KEYS[1] cy:token:{name}   STRING counter (a signed 64-bit integer, as INCRBY keeps it)
  ARGV[1] by (optional positive integer; '' or absent = 1)
  ARGV[2] reply: '' or absent = an integer, 'string' = the decimal digits (bulk string)
  Returns the incremented value (1 for the first call with by = 1).
  An integer reply goes through a Lua number, exact only up to 2^53 - 1: where the new value
  would pass it, the call is refused (ERR_CY_ARG sequence ..., nothing written) rather than
  answered with a rounded value (versions up to 3 replied 2^53 + 2 for 2^53 + 1 + 1, and a
  negative number near 2^63). The 'string' reply is read back with GET after INCRBY: exact
  over the whole 64-bit range; past 2^63 - 1 INCRBY itself refuses, nothing written. ]]

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
  local by, err = 1, nil
  if not absent(args[1]) then
    by, err = pos_int(args[1], 'by'); if err then return err end
  end
  local reply = args[2] or ''
  if reply ~= '' and reply ~= 'string' then return bad('reply', "must be '' or 'string'") end

  if reply == 'string' then
    rcall('INCRBY', keys[1], by)
    return rcall('GET', keys[1])
  end
  -- GET is exact (a string); a stored value beyond 2^53 - 1 is not an int() and refused.
  local raw = rcall('GET', keys[1])
  local current = 0
  if raw then
    current = int(raw)
    if not current and not raw:match('^%-?%d+$') then
      return redis.error_reply('ERR value is not an integer or out of range')
    end
  end
  if not current or current + by > MAX_SAFE then
    return bad('sequence', "would leave +-(2^53 - 1), where numbers are exact: ask reply 'string'")
  end
  return rcall('INCRBY', keys[1], by)
end

register{function_name = 'cy_tokens_ksortable', args = 0, keys = one_key, callback = ksortable,
  description = "time-sortable id '<13-digit ms>-<6-digit seq>'"}
register{function_name = 'cy_tokens_next', args = 2, keys = one_key, callback = next_value,
  description = "named sequence: INCRBY by (default 1); integer, or string with reply 'string'"}
