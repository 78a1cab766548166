--- Shared pieces of the nn layers: Equinox's argument conventions in Lua
-- (positional parameters in Equinox's order, keyword ones in a trailing
-- options table), the checks every constructor makes, and input checks.
-- @module lunox.nn.util
local core = require("lunox.core")

local M = {}

-- A trailing plain table is the options table unless it has a list part:
-- then it is a positional value such as a kernel size {3, 3}.
local function is_options(v)
  return type(v) == "table" and not core.is_array(v) and getmetatable(v) == nil
    and v[1] == nil
end

--- Binds a constructor's arguments: `names` lists Equinox's parameters in
-- order (positional ones first); `keywords` (name -> true) are those that
-- may also come in the options table, with "key" always allowed. A
-- parameter given both ways is an error. Returns a table name -> value.
function M.bind(cls, names, keywords, ...)
  local n = select("#", ...)
  local args = { ... }
  local opts = {}
  while n > 0 and args[n] == nil do n = n - 1 end
  if n > 0 and is_options(args[n]) then
    opts = args[n]
    n = n - 1
  end
  if n > #names then
    error(("%s: takes at most %d positional arguments (%s), got %d"):format(cls, #names,
      table.concat(names, ", "), n), 4)
  end
  local out = {}
  for i = 1, n do out[names[i]] = args[i] end
  for k, v in pairs(opts) do
    if k ~= "key" and not keywords[k] then
      local allowed = { "key" }
      for name in pairs(keywords) do allowed[#allowed + 1] = name end
      table.sort(allowed)
      error(("%s: unknown option '%s' (expected %s)"):format(cls, tostring(k),
        table.concat(allowed, ", ")), 4)
    end
    if out[k] ~= nil then
      error(("%s: '%s' given both as an argument and as an option"):format(cls, k), 4)
    end
    out[k] = v
  end
  return out
end

--- Raises Equinox's "key required" error unless `key` is a PRNG key.
function M.need_key(cls, key, level)
  if key == nil then
    error(("%s: a PRNG key is required: pass {key = lx.random.PRNGKey(seed)} (or a key from "
      .. "lx.random.split)"):format(cls), (level or 1) + 2)
  end
  if not core.is_array(key) or key.dtype ~= "uint32" or key.ndim ~= 1 or key.shape[1] ~= 2 then
    error(("%s: key must be a PRNG key (a uint32 array of shape {2}), got %s"):format(cls,
      core.is_array(key) and ("an array " .. key.dtype .. "{" .. table.concat(key.shape, ",")
      .. "}") or type(key)), (level or 1) + 2)
  end
  return key
end

local function is_int(v)
  return type(v) == "number" and v == math.floor(v) and v > -math.huge and v < math.huge
end
M.is_int = is_int

--- Checks a size argument: an integer >= `min` (default 1), or "scalar"
-- when `scalar_ok`. Returns it.
function M.size(cls, what, v, min, scalar_ok)
  min = min or 1
  if scalar_ok and v == "scalar" then return v end
  if not is_int(v) or v < min then
    error(("%s: %s must be an integer >= %d%s, got %s"):format(cls, what, min,
      scalar_ok and ' or "scalar"' or "", tostring(v)), 3)
  end
  return v
end

local FLOATS = { float32 = true, float64 = true, float16 = true, bfloat16 = true }

--- The dtype of new parameters: float32 unless given (Equinox's
-- default_floating_dtype without x64).
function M.float_dtype(cls, dtype)
  if dtype == nil then return "float32" end
  if not FLOATS[dtype] then
    error(("%s: dtype must be a float dtype (float32, float64, float16, bfloat16), got %s")
      :format(cls, tostring(dtype)), 3)
  end
  return dtype
end

--- Checks a boolean flag; nil gives `default`.
function M.flag(cls, what, v, default)
  if v == nil then return default end
  if type(v) ~= "boolean" then
    error(("%s: %s must be a boolean, got %s"):format(cls, what, type(v)), 3)
  end
  return v
end

function M.shape_str(shape)
  return "{" .. table.concat(shape, ",") .. "}"
end

--- Raises unless x is an array of exactly `shape`; `label` describes the layer.
function M.check_input(label, x, shape)
  if not core.is_array(x) then
    error(("%s: the input must be an array, got %s"):format(label, type(x)), 3)
  end
  local s = x.shape
  local ok = #s == #shape
  for i = 1, #shape do ok = ok and s[i] == shape[i] end
  if not ok then
    error(("%s: expected an input of shape %s, got %s"):format(label, M.shape_str(shape),
      M.shape_str(s)), 3)
  end
end

--- The options of a layer call: `layer(x [, {key = k, ...}])`.
function M.call_opts(label, opts, allowed)
  if opts == nil then return {} end
  if not is_options(opts) then
    error(("%s: call options must be a table such as {key = k}, got %s"):format(label,
      core.is_array(opts) and "an array" or type(opts)), 3)
  end
  for k in pairs(opts) do
    if not (allowed or { key = true })[k] then
      error(("%s: unknown call option '%s'"):format(label, tostring(k)), 3)
    end
  end
  return opts
end

--- Equinox's default_init: uniform in [-lim, lim) (jax.random.uniform).
function M.uniform_init(key, shape, dtype, lim)
  return require("lunox.random").uniform(key, shape, dtype, -lim, lim)
end

return M
