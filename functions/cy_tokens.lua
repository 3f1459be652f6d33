#!lua name=cy_tokens
-- version: 2
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

-- Registers a function behind its KEYS and ARGV checks: check(keys) returns an error reply or
-- nil, and spec.args is the most ARGV the function takes (nil: it checks a count that depends
-- on its keys itself). A key missing, extra or out of place would otherwise fail half-way or
-- write where nothing reads; a missing argument gets the error naming it; a surplus one means
-- a caller written for another contract, refused rather than half understood.
local function register(spec)
  local check, callback, most = spec.keys, spec.callback, spec.args
  redis.register_function{function_name = spec.function_name, flags = spec.flags,
    description = spec.description,
    callback = function(keys, args)
      local err = check(keys)
      if err then return err end
      if most and #args > most then
        return bad('args', 'must be at most ' .. most .. ' values (got ' .. #args .. ')')
      end
      return callback(keys, args)
    end}
end

-- Exactly n keys.
local function exactly(n, what)
  return function(keys)
    if #keys ~= n then return bad('keys', 'must be ' .. what) end
  end
end

local one_key = exactly(1, 'the one key of the id source')

local function now_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local MAX_SEQ = 999999 -- six digits per ms keeps the ids fixed-width, hence string-sortable

local function ksortable(keys)
  local now = now_ms()
  local last_ms, last_seq = unpack(rcall('HMGET', keys[1], 'ms', 'seq'))
  local ms, seq = now, 0
  last_ms = tonumber(last_ms)
  if last_ms and now <= last_ms then
    ms, seq = last_ms, (tonumber(last_seq) or 0) + 1
    if seq > MAX_SEQ then ms, seq = last_ms + 1, 0 end
  end
  rcall('HSET', keys[1], 'ms', ms, 'seq', seq)
  return string.format('%013d-%06d', ms, seq)
end

local function next_value(keys, args)
  local by = 1
  if args[1] ~= nil and args[1] ~= '' then
    local err
    by, err = pos_int(args[1], 'by'); if err then return err end
  end
  return rcall('INCRBY', keys[1], by)
end

register{function_name = 'cy_tokens_ksortable', args = 0, keys = one_key, callback = ksortable,
  description = "time-sortable id '<13-digit ms>-<6-digit seq>'"}
register{function_name = 'cy_tokens_next', args = 1, keys = one_key, callback = next_value,
  description = 'named sequence: INCRBY by (default 1)'}
