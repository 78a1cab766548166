--- Helpers shared by the convolution and pooling layers (nn/conv.lua,
-- nn/pool.lua): Equinox's argument parsing (_ntuple, _padding_init),
-- lax.padtype_to_pads, jnp.pad's non-zero modes, and input checks.
-- Not part of lx.nn.
-- @module lunox.nn.conv_util
local core = require("lunox.core")
local U = require("lunox.nn.util")

local M = {}

local function list_str(t)
  if type(t) ~= "table" then return tostring(t) end
  local parts = {}
  for i = 1, #t do parts[i] = list_str(t[i]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function is_list(v)
  return type(v) == "table" and not core.is_array(v) and getmetatable(v) == nil
end

--- Equinox's _ntuple(n): an integer repeated n times, or a list of n
-- entries; each entry an integer >= min.
local function ntuple(cls, what, v, n, min)
  local out = {}
  if is_list(v) then
    if #v ~= n then
      error(("%s: %s must be an integer or a list of %d integers, got %s (length %d)")
        :format(cls, what, n, list_str(v), #v), 4)
    end
    for i = 1, n do out[i] = v[i] end
  else
    for i = 1, n do out[i] = v end
  end
  for i = 1, n do
    if not U.is_int(out[i]) or out[i] < min then
      error(("%s: %s must be integers >= %d, got %s"):format(cls, what, min,
        list_str(v)), 4)
    end
  end
  return out
end

--- Equinox's _padding_init: "SAME", "SAME_LOWER", "VALID" (any case), an
-- integer, a list of n integers, or a list of n {lo, hi} pairs. Returns the
-- upper-cased string or a list of n {lo, hi} pairs. `min` bounds the
-- integers (nil: any integer, as lax accepts negative padding).
local function padding_init(cls, padding, n, min, strings_ok)
  if padding == nil then padding = 0 end
  local function bad()
    error(("%s: padding must be %san integer, a list of %d integers or a list of %d "
      .. "{lo, hi} pairs%s, got %s"):format(cls,
      strings_ok and '"SAME", "SAME_LOWER", "VALID", ' or "", n, n,
      min and (" (integers >= " .. min .. ")") or "", list_str(padding)), 4)
  end
  local function int_ok(v) return U.is_int(v) and (min == nil or v >= min) end
  if type(padding) == "string" then
    local p = padding:upper()
    if not strings_ok or (p ~= "SAME" and p ~= "SAME_LOWER" and p ~= "VALID") then bad() end
    return p
  end
  local out = {}
  if int_ok(padding) then
    for i = 1, n do out[i] = { padding, padding } end
    return out
  end
  if not is_list(padding) or #padding ~= n then bad() end
  local pairs_given = is_list(padding[1])
  for i = 1, n do
    local p = padding[i]
    if pairs_given then
      if not is_list(p) or #p ~= 2 or not int_ok(p[1]) or not int_ok(p[2]) then bad() end
      out[i] = { p[1], p[2] }
    else
      if not int_ok(p) then bad() end
      out[i] = { p, p }
    end
  end
  return out
end

local MODES = { ZEROS = true, REFLECT = true, REPLICATE = true, CIRCULAR = true }

local function padding_mode_init(cls, mode)
  if mode == nil then return "ZEROS" end
  local m = type(mode) == "string" and mode:upper() or nil
  if not MODES[m] then
    error(('%s: padding_mode must be "ZEROS", "REFLECT", "REPLICATE" or "CIRCULAR", got %s')
      :format(cls, tostring(mode)), 4)
  end
  return m
end

--- lax.padtype_to_pads for "SAME" / "SAME_LOWER" / "VALID".
local function padtype_to_pads(in_sizes, window, stride, padding)
  local out = {}
  for i = 1, #in_sizes do
    if padding == "VALID" then
      out[i] = { 0, 0 }
    else
      local n, s = in_sizes[i], stride[i]
      local o = math.ceil(n / s)
      local total = math.max((o - 1) * s + window[i] - n, 0)
      local half = math.floor(total / 2)
      if padding == "SAME" then out[i] = { half, total - half }
      else out[i] = { total - half, half } end
    end
  end
  return out
end

--- The source index (0-based) of position j (0-based, may be outside 0..n-1)
-- of an axis of size n padded in `mode`, as jnp.pad's "reflect", "edge" and
-- "wrap" (large pads repeat the pattern).
local function source_index(mode, j, n)
  if mode == "REPLICATE" or (mode == "REFLECT" and n == 1) then
    return math.max(0, math.min(n - 1, j))
  elseif mode == "CIRCULAR" then
    return j % n
  else -- REFLECT
    local period = 2 * (n - 1)
    local m = j % period
    if m >= n then m = period - m end
    return m
  end
end

--- Pads the spatial axes (2..) of x by `pads` ({lo, hi} per spatial axis) in
-- `mode` (REFLECT, REPLICATE or CIRCULAR), as jnp.pad with "reflect",
-- "edge" or "wrap": a gather along each padded axis.
local function mode_pad(label, x, pads, mode)
  for i, p in ipairs(pads) do
    local lo, hi = p[1], p[2]
    if lo < 0 or hi < 0 then
      error(("%s: padding_mode %s needs non-negative padding, got {%d,%d} on spatial axis %d")
        :format(label, mode, lo, hi, i), 4)
    end
    if lo > 0 or hi > 0 then
      local n = x.shape[i + 1]
      local idx = {}
      for j = -lo, n + hi - 1 do idx[#idx + 1] = source_index(mode, j, n) + 1 end
      x = core.take(x, idx, i + 1)
    end
  end
  return x
end

--- Checks a layer input {C, s_1, ..., s_n}; `level` as error's.
function M.check_input(label, x, n, channels, level)
  level = (level or 1) + 2
  if not core.is_array(x) then
    error(("%s: the input must be an array, got %s"):format(label, type(x)), level)
  end
  local s = x.shape
  if #s ~= n + 1 then
    error(("%s: the input must have rank %d {channels, %d spatial axes} (a single example, "
      .. "no batch axis), got shape %s"):format(label, n + 1, n, U.shape_str(s)), level)
  end
  if channels and s[1] ~= channels then
    error(("%s: the input must have %d channels (axis 1), got shape %s"):format(label,
      channels, U.shape_str(s)), level)
  end
end

M.list_str = list_str
M.is_list = is_list
M.ntuple = ntuple
M.padding_init = padding_init
M.padtype_to_pads = padtype_to_pads
M.source_index = source_index
M.mode_pad = mode_pad
M.padding_mode_init = padding_mode_init

return M
