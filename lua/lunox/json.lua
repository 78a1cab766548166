--- JSON: strict decoding and compact, deterministic encoding.
-- Decoding is the C runtime's RFC 8259 parser (`lunox.core.json_decode`);
-- encoding writes one line with no spaces and object keys sorted by bytes,
-- so the same value always gives the same text (checkpoint headers,
-- hyperparameter lines).
--
-- Mapping: object <-> table with string keys, array <-> list (keys 1..n),
-- null <-> `lx.none`, numbers <-> numbers (integers stay integers on Lua
-- 5.4), strings <-> strings (UTF-8).
-- @module lunox.json
local core = require("lunox.core")

local M = {}

local json_decode, is_array, none = core.json_decode, core.is_array, core.none
local type, next, error, rawequal, rawget, tonumber, pcall = type, next, error, rawequal,
  rawget, tonumber, pcall
local format, byte, find, gsub, sub = string.format, string.byte, string.find, string.gsub,
  string.sub
local concat, sort = table.concat, table.sort
local floor, huge = math.floor, math.huge
local math_type = math.type -- nil on LuaJIT, which has no integer subtype

local MAX_DEPTH = 512
local FN = "lx.json.encode"

--- Decodes one JSON text.
-- Strict RFC 8259: trailing text, invalid UTF-8, NaN/Infinity, leading
-- zeros, duplicate keys, control characters in strings and nesting deeper
-- than 512 are errors naming the line, column and byte.
-- @tparam string text the JSON text
-- @tparam[opt] string name names the text in error messages (a file name)
-- @return the value: tables for objects and arrays, `lx.none` for null
function M.decode(text, name)
  if type(text) ~= "string" then
    error(("lx.json.decode: text must be a string, got %s"):format(type(text)), 2)
  end
  if name ~= nil and type(name) ~= "string" then
    error(("lx.json.decode: name must be a string, got %s"):format(type(name)), 2)
  end
  return json_decode(text, name)
end

-- Position of the first byte that does not start a valid UTF-8 sequence
-- (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or nil.
local function utf8_error(s)
  local pos = 1
  while true do
    local i = find(s, "[\128-\255]", pos)
    if not i then return nil end
    local c = byte(s, i)
    local n, lo, hi = 0, 0x80, 0xBF
    if c < 0xC2 then return i
    elseif c < 0xE0 then n = 1
    elseif c < 0xF0 then
      n = 2
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c < 0xF5 then
      n = 3
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    else
      return i
    end
    local b = byte(s, i + 1)
    if not b or b < lo or b > hi then return i end
    for j = i + 2, i + n do
      b = byte(s, j)
      if not b or b < 0x80 or b > 0xBF then return i end
    end
    pos = i + n + 1
  end
end

-- ------------------------------------------------------------ key paths

local keystr = core.tree_keystr
local unpack = table.unpack or unpack

-- The path of the value at `depth`, as lunox's key paths print it
-- (".layers[2].weight", "the root").
local function path_string(path, depth)
  if depth == 0 then return "the root" end
  return keystr({ unpack(path, 1, depth) })
end

local function fail(st, depth, fmt, ...)
  error(FN .. ": " .. fmt:format(path_string(st.path, depth), ...), 0)
end

-- ---------------------------------------------------------------- strings

-- Escapes for `"`, `\` and the control characters JSON requires escaped;
-- bytes missing here (DEL, and whatever else a locale's %c matches) stay.
local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
for c = 0, 31 do
  local ch = string.char(c)
  if not ESCAPES[ch] then ESCAPES[ch] = format("\\u%04x", c) end
end

local function encode_string(st, depth, s, what)
  local bad = utf8_error(s)
  if bad then
    fail(st, depth, what .. " at %s is not valid UTF-8 (byte %d is 0x%02X)", bad, byte(s, bad))
  end
  return '"' .. gsub(s, '[%c"\\]', ESCAPES) .. '"'
end

-- ---------------------------------------------------------------- numbers

local MIN_NORMAL = 2.2250738585072014e-308

-- The shortest of %.14g..%.17g that reads back as x, with a '.' decimal
-- point whatever the C locale says, and ".0" when it would look like an
-- integer (3.0 -> "3.0", as Python's json writes floats). Subnormals hold
-- fewer digits, so they start from %.1g (5e-324, not 4.9406564584125e-324).
local function float_text(x)
  local s
  local first = (x ~= 0 and x > -MIN_NORMAL and x < MIN_NORMAL) and 1 or 14
  for digits = first, 17 do
    s = gsub(format("%." .. digits .. "g", x), ",", ".")
    if tonumber(s) == x then break end
  end
  if not find(s, "[.eE]") then s = s .. ".0" end
  return s
end

local TWO53 = 2 ^ 53

local function number_text(st, depth, x)
  if math_type and math_type(x) == "integer" then return format("%d", x) end
  if x ~= x then fail(st, depth, "NaN at %s cannot be written (JSON has no NaN or infinities)") end
  if x == huge or x == -huge then
    fail(st, depth, (x > 0 and "inf" or "-inf") ..
      " at %s cannot be written (JSON has no NaN or infinities)")
  end
  -- LuaJIT has no integer subtype: integral values that a double holds
  -- exactly are written as integers (but -0.0 keeps its sign).
  if not math_type and x == floor(x) and x > -TWO53 and x < TWO53 and not (x == 0 and 1 / x < 0) then
    return format("%.0f", x)
  end
  return float_text(x)
end

-- ------------------------------------------------------------------ tables

-- Whether `<` on strings compares bytes: LuaJIT always does; Lua 5.4 uses
-- strcoll, which is byte order only in the C locale.
local function native_order_is_bytes()
  if not math_type then return true end
  local ok, collate = pcall(function() return os.setlocale(nil, "collate") end)
  return ok and (collate == "C" or collate == "POSIX")
end

local function bytes_less(a, b)
  local n = #a < #b and #a or #b
  local i = 1
  -- Skip equal prefixes in blocks before comparing bytes.
  while i <= n do
    local j = i + 63
    if j > n then j = n end
    if sub(a, i, j) ~= sub(b, i, j) then
      for k = i, j do
        local x, y = byte(a, k), byte(b, k)
        if x ~= y then return x < y end
      end
    end
    i = j + 1
  end
  return #a < #b
end

-- A number key as a message shows it: 0, -3, 1.5.
local function key_text(k)
  if math_type and math_type(k) == "integer" then return format("%d", k) end
  if k == floor(k) and k > -2 ^ 63 and k < 2 ^ 63 then return format("%.0f", k) end
  return float_text(k)
end

local encode_value

local function encode_table(st, depth, t)
  if depth >= MAX_DEPTH then
    fail(st, depth, "table at %s is nested deeper than " .. MAX_DEPTH .. " levels")
  end
  if st.active[t] then fail(st, depth, "table at %s contains itself (a cycle)") end
  local nstr, nint, maxint = 0, 0, 0
  for k in next, t do
    local kt = type(k)
    if kt == "string" then
      nstr = nstr + 1
    elseif kt == "number" and k >= 1 and k == floor(k) and k < huge then
      nint = nint + 1
      if k > maxint then maxint = k end
    elseif kt == "number" then
      fail(st, depth, "table at %s has the number key %s (a list has keys 1..n, an object " ..
        "string keys)", key_text(k))
    else
      fail(st, depth, "table at %s has a key of type %s (JSON object keys are strings)", kt)
    end
  end
  if nint > 0 and nstr > 0 then fail(st, depth, "table at %s mixes list and string keys") end
  local path, buf = st.path, st.buf
  st.active[t] = true
  if nint > 0 then
    if maxint ~= nint then
      fail(st, depth, "table at %s is a sparse list (%d keys, the largest %s); a JSON list " ..
        "needs keys 1..n", nint, format("%.0f", maxint))
    end
    buf[#buf + 1] = "["
    for i = 1, nint do
      if i > 1 then buf[#buf + 1] = "," end
      path[depth + 1] = i
      encode_value(st, depth + 1, rawget(t, i))
    end
    buf[#buf + 1] = "]"
  elseif nstr > 0 then
    local keys, n = {}, 0
    for k in next, t do
      n = n + 1
      keys[n] = k
    end
    if st.byte_order then sort(keys) else sort(keys, bytes_less) end
    buf[#buf + 1] = "{"
    for i = 1, n do
      local k = keys[i]
      path[depth + 1] = k
      if i > 1 then buf[#buf + 1] = "," end
      buf[#buf + 1] = encode_string(st, depth + 1, k, "key")
      buf[#buf + 1] = ":"
      encode_value(st, depth + 1, rawget(t, k))
    end
    buf[#buf + 1] = "}"
  else
    buf[#buf + 1] = "{}"
  end
  st.active[t] = nil
  path[depth + 1] = nil
end

encode_value = function(st, depth, v)
  local t = type(v)
  local buf = st.buf
  if t == "string" then
    buf[#buf + 1] = encode_string(st, depth, v, "string")
  elseif t == "number" then
    buf[#buf + 1] = number_text(st, depth, v)
  elseif t == "boolean" then
    buf[#buf + 1] = v and "true" or "false"
  elseif t == "table" then
    encode_table(st, depth, v)
  elseif rawequal(v, none) then
    buf[#buf + 1] = "null"
  elseif t == "nil" then
    fail(st, depth, "nil at %s cannot be written (use lx.none for null)")
  elseif is_array(v) then
    fail(st, depth, "lunox array at %s cannot be written as JSON (convert it with a:tolist() first)")
  else
    fail(st, depth, t .. " at %s cannot be written as JSON")
  end
end

--- Encodes a value as one line of JSON: no spaces, object keys sorted by
-- bytes, floats as the shortest of %.14g..%.17g that reads back exactly
-- (with ".0" when integral: 3.0 -> `3.0`), Lua 5.4 integers as integers.
-- Errors name the key path of the offending value: mixed or sparse keys,
-- cycles, NaN and infinities, invalid UTF-8, functions, userdata (arrays:
-- use a:tolist()), nesting deeper than 512.
-- @param value a string, number, boolean, `lx.none` or table of those
-- @treturn string
function M.encode(value)
  local st = { buf = {}, path = {}, active = {}, byte_order = native_order_is_bytes() }
  encode_value(st, 0, value)
  return concat(st.buf)
end

return M
