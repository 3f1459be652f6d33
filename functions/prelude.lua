--[[ prelude.lua: helpers shared by the cy_* libraries (functions/cy_*.lua) and the EVAL scripts
  (lua/*.lua). Never loaded by itself. Redis compiles each library (and each script) as a chunk
  of its own, so code can only be shared at load time: functions/assemble.ts splices into every
  source, just before its first line of code, the blocks of this file and of prelude-window.lua
  that the source uses (by name, and the blocks those use), in file order.

  A block is a run of non-blank lines after this header that defines top-level locals and may
  use the blocks above it. A source must not define a local of the same name.
  Editing a block changes the loaded code of every source that uses it: raise their versions
  (test/functions/versions.test.ts names them) and run `npm run lock-versions`. ]]

-- redis.call. A library's body runs at FUNCTION LOAD, where Redis 7.0 has no redis.call (only
-- register_function and log: reading redis.call there fails the load), so a library gets a
-- wrapper that looks it up when a function runs. An EVAL script (no register_function) gets
-- redis.call itself, so its errors name the line of the call rather than the wrapper's.
local rcall = redis.register_function and function(...) return redis.call(...) end or redis.call

local MAX_SAFE = 9007199254740991 -- 2^53 - 1: larger integers are not exact in a Lua number

-- Bad arguments are error replies 'ERR_CY_ARG <field> <problem>' (functions/error-codes.md),
-- sent before anything is written.
local function bad(field, problem)
  return redis.error_reply('ERR_CY_ARG ' .. field .. ' ' .. problem)
end

-- Plain decimal integer within +-(2^53 - 1), or nil: tonumber() alone accepts ' 5 ', '0x10',
-- '1e3' and 'inf', and 17 digits alone would let 99999999999999999 through.
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

-- An optional argument left out: '' or absent.
local function absent(s) return s == nil or s == '' end

-- Optional integer >= 0: '' or absent = 0.
local function opt_nonneg(s, field)
  if absent(s) then return 0 end
  local n = int(s)
  if not n or n < 0 then return nil, bad(field, 'must be a non-negative integer') end
  return n
end

local function name(s, field)
  if type(s) ~= 'string' or s == '' then return nil, bad(field, 'must be a non-empty string') end
  return s
end

-- Plain decimal (optionally with a fraction or exponent), finite and > 0.
local function pos_num(s, field)
  local n = type(s) == 'string' and s:match('^%d*%.?%d*[eE]?[-+]?%d*$') and tonumber(s)
  if not n or n ~= n or n <= 0 or n == math.huge then
    return nil, bad(field, 'must be a positive number')
  end
  return n
end

-- The server clock in ms (TIME).
local function now_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A duration in whole ms, at least 1 and at most 2^53 - 1. A tiny rate makes (x / rate) huge
-- or inf: unclamped, PEXPIRE refused it after an HSET (a partial write) and retryAfterMs
-- overflowed the integer reply (a version-1 bug). 2^53 ms is about 285,000 years: "never".
local function ms(x) return math.min(MAX_SAFE, math.max(1, math.ceil(x))) end

-- Floats are stored with 17 significant digits: tostring() keeps only 14.
local function fmt(x) return string.format('%.17g', x) end

-- Before the first write of a function that writes several keys: each of keys[i] must be
-- absent or of type types[i] ('hash', 'zset', 'list', 'stream', 'string', or 'counter': a
-- string that INCR accepts). Returns nil, or 'WRONGTYPE <key> ...' naming the first key that is
-- not: Redis would raise WRONGTYPE at that key's own write, after the earlier writes (a partial
-- write), where this refuses the call with nothing written.
local function expect_types(keys, types)
  for i, key in ipairs(keys) do
    local want, got = types[i], rcall('TYPE', key).ok
    if got ~= 'none' then
      if got ~= (want == 'counter' and 'string' or want) then
        return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. got .. ', not a ' .. want)
      end
      if want == 'counter' and not rcall('GET', key):match('^%-?%d+$') then
        return redis.error_reply('WRONGTYPE ' .. key .. ' holds a string that is not a counter')
      end
    end
  end
  return nil
end

-- Registers a library function behind its KEYS and ARGV checks: check(keys) returns an error
-- reply or nil, and spec.args is the most ARGV the function takes (nil: it checks a count that
-- depends on its keys itself). A key missing, extra or out of place would otherwise fail
-- half-way or write where nothing reads; a missing argument gets the error naming it; a
-- surplus one means a caller written for another contract, refused rather than half understood.
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

-- KEYS check for register: exactly n keys.
local function exactly(n, what)
  return function(keys)
    if #keys ~= n then return bad('keys', 'must be ' .. what) end
  end
end

-- KEYS check for register: at least one key.
local function some_keys(keys)
  if #keys == 0 then return bad('keys', 'must name at least one key') end
end

-- KEYS check for register: the keys of one structure, in order: <base><suffix_1>,
-- <base><suffix_2>, ...
local function family(suffixes, what)
  local first = suffixes[1]
  return function(keys)
    local k1 = keys[1]
    if #keys == #suffixes and type(k1) == 'string' and #k1 > #first
        and k1:sub(#k1 - #first + 1) == first then
      local base, ok = k1:sub(1, #k1 - #first), true
      for i = 2, #suffixes do
        if keys[i] ~= base .. suffixes[i] then ok = false; break end
      end
      if ok then return nil end
    end
    return bad('keys', 'must be ' .. what)
  end
end
