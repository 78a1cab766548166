--- lunox.random: JAX's random numbers, bit for bit (threefry2x32).
-- `local jr = lx.random`. Keys are uint32 arrays of shape {2}; every
-- function takes a key and never changes it: split it to get fresh ones.
-- `lx.config.threefry_partitionable` (default true, JAX >= 0.5) picks how
-- counters are laid out; false gives JAX's original scheme. The kernels are
-- in C (runtime/core/random.c and each backend); this module checks
-- arguments and composes the samplers exactly as jax/_src/random.py does.
-- See docs/random.md.
-- @module lunox.random
local core = require("lunox.core")

local M = {}

local THIS_FILE = debug.getinfo(1, "S").source

-- The error level of the first caller outside this file (and outside C),
-- seen from the function that calls this one.
local function user_level()
  local level = 3
  while true do
    local info = debug.getinfo(level, "S")
    if not info then return 1 end
    if info.source ~= THIS_FILE and info.what ~= "C" then return level - 1 end
    level = level + 1
  end
end

-- The C kernels (core._random_*), each wrapped so that its error (which
-- already names the function: "split: ...") is raised at the user's call,
-- not inside this file.
local C = setmetatable({}, {
  __index = function(self, name)
    local f = core[name]
    local wrapped = function(...)
      local ok, result = pcall(f, ...)
      if ok then return result end
      if type(result) == "string" then result = result:gsub("^[^\n]-:%d+: ", "", 1) end
      error(result, user_level())
    end
    rawset(self, name, wrapped)
    return wrapped
  end,
})

local FLOATS = { float32 = true, float64 = true, float16 = true, bfloat16 = true }
local SQRT2 = math.sqrt(2)

-- The scheme flag the C functions take last: true for the original one.
local function original()
  local config = package.loaded["lunox"] and package.loaded["lunox"].config
  return config ~= nil and config.threefry_partitionable == false
end

local function check_float_dtype(fn, dtype)
  dtype = dtype or "float32"
  if not FLOATS[dtype] then
    error(fn .. ": dtype must be a float type (float32, float64, float16, bfloat16), got "
      .. tostring(dtype), 3)
  end
  return dtype
end

local function is_array(x) return core.is_array(x) end

--- A key from an integer seed: {seed >> 32, seed & 0xffffffff}, as
-- jax.random.PRNGKey with a 64-bit seed (docs/random.md: negative seeds).
function M.PRNGKey(seed, device)
  if type(seed) ~= "number" then
    error("PRNGKey: seed must be an integer, got " .. type(seed), 2)
  end
  return C._random_key(seed, device)
end
--- jax.random.key's raw data: lunox has only raw uint32 keys.
M.key = M.PRNGKey

--- n new keys (default 2) as a uint32 array {n, 2}; `keys[i]` is one,
-- `keys:unpack()` gives them all.
function M.split(key, n)
  return C._random_split(key, n == nil and 2 or n, original())
end

--- A new key from key and an integer (taken modulo 2^32, as jnp.uint32).
function M.fold_in(key, data)
  return C._random_fold_in(key, data)
end

--- The Threefry-2x32 block cipher on one counter pair: a uint32 {2} array
-- (JAX's prng.threefry_2x32 on two counters).
function M.threefry2x32(key, x0, x1)
  return C._random_threefry(key, x0, x1)
end

--- Raw random bits: dtype "uint8", "uint16", "uint32" (default) or
-- "uint64".
function M.bits(key, shape, dtype)
  return C._random_bits(key, shape or {}, dtype or "uint32", original())
end

local function shape_of(x)
  if is_array(x) then return x.shape end
  return {}
end

local function shape_str(s)
  return "{" .. table.concat(s, ",") .. "}"
end

-- Whether `from` broadcasts to `to` (NumPy's rule, trailing axes aligned).
local function broadcasts_to(from, to)
  if #from > #to then return false end
  for i = 1, #from do
    local f, t = from[#from - i + 1], to[#to - i + 1]
    if f ~= 1 and f ~= t then return false end
  end
  return true
end

-- A number, or the value of a 0-d array (a {1} array is not a scalar: it
-- must broadcast to the shape like any other array bound).
local function scalar_value(x)
  if type(x) == "number" then return x end
  if is_array(x) and x.ndim == 0 then return x:item() end
  return nil
end

--- Uniform floats in [minval, maxval) (defaults 0 and 1), as
-- jax.random.uniform: minval and maxval may be numbers or arrays that
-- broadcast to shape.
function M.uniform(key, shape, dtype, minval, maxval)
  dtype = check_float_dtype("uniform", dtype)
  shape = shape or {}
  minval = minval == nil and 0 or minval
  maxval = maxval == nil and 1 or maxval
  local lo, hi = scalar_value(minval), scalar_value(maxval)
  if lo and hi then
    return C._random_uniform(key, shape, dtype, lo, hi, original())
  end
  -- Array bounds: floats in [0, 1) (exactly those of the scalar path with
  -- 0 and 1), then JAX's max(minval, floats * (maxval - minval) + minval)
  -- as separate ops in dtype.
  local floats = C._random_uniform(key, shape, dtype, 0, 1, original())
  local lo_a = core.array(minval, dtype):to(floats.device)
  local hi_a = core.array(maxval, dtype):to(floats.device)
  if not (broadcasts_to(lo_a.shape, floats.shape) and broadcasts_to(hi_a.shape, floats.shape)) then
    error("uniform: minval and maxval (shapes " .. shape_str(lo_a.shape) .. " and "
      .. shape_str(hi_a.shape) .. ") must broadcast to shape " .. shape_str(floats.shape), 2)
  end
  return core.maximum(lo_a, floats * (hi_a - lo_a) + lo_a)
end

--- Standard normal floats, as jax.random.normal: sqrt(2) erf_inv(u) for u
-- uniform in (-1, 1).
function M.normal(key, shape, dtype)
  dtype = check_float_dtype("normal", dtype)
  local lo = core._nextafter(-1, 0, dtype)
  local u = C._random_uniform(key, shape or {}, dtype, lo, 1, original())
  return core.erf_inv(u) * SQRT2
end

-- nextafter toward `toward` of every element of the dtype array a.
local function nextafter_of(a, toward, dtype)
  if a.ndim == 0 then return core.array(core._nextafter(a:item(), toward, dtype), dtype) end
  local flat = a:reshape({ a.size }):tolist()
  for i = 1, #flat do flat[i] = core._nextafter(flat[i], toward, dtype) end
  return core.array(flat, dtype):reshape(a.shape)
end

--- Normal floats truncated to (lower, upper), as jax.random.truncated_normal.
-- shape defaults to the broadcast shape of lower and upper.
function M.truncated_normal(key, lower, upper, shape, dtype)
  dtype = check_float_dtype("truncated_normal", dtype)
  if lower == nil or upper == nil then
    error("truncated_normal: lower and upper are required", 2)
  end
  local lower_a, upper_a = core.array(lower, dtype), core.array(upper, dtype)
  if shape == nil then
    shape = (lower_a + upper_a).shape
  end
  local a = core.erf(lower_a / SQRT2)
  local b = core.erf(upper_a / SQRT2)
  local u = M.uniform(key, shape, dtype, a, b)
  local out = core.erf_inv(u) * SQRT2
  local lo = nextafter_of(lower_a, math.huge, dtype):to(out.device)
  local hi = nextafter_of(upper_a, -math.huge, dtype):to(out.device)
  return core.minimum(core.maximum(out, lo), hi)
end

--- Booleans, true with probability p (default 0.5), as jax.random.bernoulli:
-- uniform(shape, dtype of p) < p. shape defaults to p's shape.
function M.bernoulli(key, p, shape)
  if p == nil then p = 0.5 end
  local dtype = "float32"
  if is_array(p) then
    dtype = p.dtype
    if not FLOATS[dtype] then
      error("bernoulli: p must be a float or a float array, got a " .. dtype .. " array", 2)
    end
  elseif type(p) ~= "number" then
    error("bernoulli: p must be a number or an array, got " .. type(p), 2)
  end
  shape = shape or shape_of(p)
  local u = C._random_uniform(key, shape, dtype, 0, 1, original())
  if is_array(p) then
    if not broadcasts_to(p.shape, u.shape) then
      error("bernoulli: p (shape " .. shape_str(p.shape) .. ") must broadcast to shape "
        .. shape_str(u.shape), 2)
    end
    p = p:to(u.device)
  end
  return core.lt(u, p)
end

local function integer_bound(fn, what, v)
  local x = scalar_value(v)
  if x == nil then
    error(fn .. ": " .. what .. " must be a number or a 0-d array, got "
      .. (is_array(v) and ("an array of shape " .. shape_str(v.shape)) or type(v)), 3)
  end
  if x ~= x then error(fn .. ": " .. what .. " is NaN", 3) end
  -- Lua 5.4 integers are exact int64 values: pass them through.
  if math.type and math.type(x) == "integer" then return x end
  -- jax: float bounds are cast to int (toward zero). Beyond the int64 range
  -- they are clipped (the dtype clips again); on LuaJIT, where every number
  -- is a double, a bound that large has no exact int64 value: refuse it.
  if x >= 2 ^ 63 or x < -2 ^ 63 then
    if math.maxinteger then return x > 0 and math.maxinteger or math.mininteger end
    error(("%s: %s %.17g is outside the int64 range"):format(fn, what, x), 3)
  end
  x = x < 0 and math.ceil(x) or math.floor(x)
  return math.tointeger and math.tointeger(x) or x
end

--- Integers in [minval, maxval), as jax.random.randint (dtype default
-- "int32"; bounds clipped to the dtype; maxval <= minval gives minval).
-- The bounds are numbers or arrays that broadcast to shape.
function M.randint(key, shape, minval, maxval, dtype)
  dtype = dtype or "int32"
  shape = shape or {}
  local array_bounds = (is_array(minval) and minval.ndim > 0)
    or (is_array(maxval) and maxval.ndim > 0)
  if array_bounds then
    local function as_array(what, v)
      if is_array(v) then return v end
      if type(v) ~= "number" then
        error("randint: " .. what .. " must be a number or an array, got " .. type(v), 3)
      end
      return core.array(integer_bound("randint", what, v), "int64")
    end
    return C._random_randint_arrays(key, shape, dtype, as_array("minval", minval),
      as_array("maxval", maxval), original())
  end
  local lo = integer_bound("randint", "minval", minval)
  local hi = integer_bound("randint", "maxval", maxval)
  return C._random_randint(key, shape, dtype, lo, hi, original())
end

-- The axes permutation that moves `axis` last, and its inverse.
local function axis_last(ndim, axis)
  local perm, inv = {}, {}
  for i = 1, ndim do if i ~= axis then perm[#perm + 1] = i end end
  perm[#perm + 1] = axis
  for i, a in ipairs(perm) do inv[a] = i end
  return perm, inv
end

-- jax's _shuffle with independent=True: rounds of a stable sort of every
-- slice along `axis` by fresh 32-bit keys drawn for the whole shape.
local function shuffle_independent(key, x, axis)
  local perm, inv = axis_last(x.ndim, axis)
  local n = x.shape[axis]
  local rows = math.floor(x.size / n)
  local xt = core.transpose(x, perm):reshape({ rows, n })
  local order = {} -- order[r][j]: the source position of slot j in row r
  for r = 1, rows do
    local o = {}
    for j = 1, n do o[j] = j end
    order[r] = o
  end
  local nrounds = math.ceil(3 * math.log(math.max(1, x.size)) / math.log(4294967295))
  for _ = 1, nrounds do
    local subkey
    key, subkey = M.split(key):unpack()
    local bits = core.transpose(M.bits(subkey, x.shape), perm):reshape({ rows, n }):tolist()
    for r = 1, rows do
      local o, k = order[r], bits[r]
      local slots = {}
      for j = 1, n do slots[j] = j end
      table.sort(slots, function(a, b)
        if k[a] ~= k[b] then return k[a] < k[b] end
        return a < b
      end)
      local new = {}
      for j = 1, n do new[j] = o[slots[j]] end
      order[r] = new
    end
  end
  local out = {}
  for r = 1, rows do
    out[r] = core.take(xt[r], core.array(order[r], "int64"):to(x.device))
  end
  local shaped = {}
  for i, a in ipairs(perm) do shaped[i] = x.shape[a] end
  return core.stack(out, 1):reshape(shaped):transpose(inv)
end

--- A random permutation, as jax.random.permutation(key, x, axis,
-- independent): of 0..n-1 when x is an integer (int32 unless {dtype = ...};
-- the values are JAX's, 0-based: add 1 for Lua positions), or of an array
-- along `axis` (1-based, default 1; negative counts from the end). With
-- `independent`, each slice along the axis is shuffled on its own.
function M.permutation(key, x, axis, independent, opts)
  if type(axis) == "table" and independent == nil and opts == nil then
    opts, axis = axis, nil
  elseif type(independent) == "table" and opts == nil then
    opts, independent = independent, nil
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "dtype" then
      error("permutation: unknown option '" .. tostring(k) .. "' (expected dtype)", 2)
    end
  end
  if type(x) == "number" then
    if axis ~= nil and axis ~= 1 and axis ~= -1 then
      error("permutation: an integer x has one axis, got axis " .. tostring(axis), 2)
    end
    return C._random_permutation(key, x, opts.dtype or "int32", original())
  end
  if not is_array(x) then
    error("permutation: x must be an integer or an array, got " .. type(x), 2)
  end
  if x.ndim == 0 then
    error("permutation: x must be an integer or at least 1-dimensional", 2)
  end
  axis = axis or 1
  if type(axis) ~= "number" or axis ~= math.floor(axis) or axis == 0
      or math.abs(axis) > x.ndim then
    error(("permutation: axis must be a non-zero integer within x's %d dimensions, got %s")
      :format(x.ndim, tostring(axis)), 2)
  end
  if axis < 0 then axis = x.ndim + axis + 1 end
  local n = x.shape[axis]
  if n == 0 or x.size == 0 then return x end
  if independent and x.ndim > 1 then return shuffle_independent(key, x, axis) end
  -- jax: the permutation of arange(n), then take along the axis (for 1-d x
  -- the same as sorting x itself by the same keys).
  local perm = C._random_permutation(key, n, "int64", original())
  return core.take(x, (perm + 1):to(x.device), axis)
end

return M
