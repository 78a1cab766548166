--- Skeletons without memory: lx.ShapeDtypeStruct and lx.filter_eval_shape.
--
-- `filter_eval_shape(fn, ...)` runs fn with abstract evaluation on (see
-- runtime/core/abstract.c): every array made meanwhile records its shape
-- and dtype and allocates nothing, and ops check shapes as usual. The arrays
-- in fn's result become ShapeDtypeStructs; other leaves are returned as they
-- are, as in Equinox. The skeleton is what `tree_deserialise_leaves` and
-- `lx.safetensors.load` fill.
-- @module lunox.eval_shape
local core = require("lunox.core")
local tree = require("lunox.tree")

local M = {}

local is_array = core.is_array
local type, error, setmetatable, getmetatable, rawequal = type, error, setmetatable,
  getmetatable, rawequal
local select, tostring = select, tostring
local unpack = table.unpack or unpack

local DTYPES = { float32 = true, float64 = true, float16 = true, bfloat16 = true, int32 = true,
  int64 = true, uint8 = true, uint16 = true, uint32 = true, uint64 = true, bool = true }

local SHORT = { float32 = "f32", float64 = "f64", float16 = "f16", bfloat16 = "bf16",
  int32 = "i32", int64 = "i64", uint8 = "u8", uint16 = "u16", uint32 = "u32", uint64 = "u64",
  bool = "bool" }

local SDS = {}
SDS.__name = "ShapeDtypeStruct"

local FIELDS = { shape = true, dtype = true, ndim = true, size = true }

-- Fields live in a private table so that assignment always reaches __newindex.
local DATA = setmetatable({}, { __mode = "k" })

SDS.__index = function(self, k)
  local d = DATA[self]
  if FIELDS[k] then
    if k == "shape" then
      local copy = {}
      for i = 1, #d.shape do copy[i] = d.shape[i] end
      return copy
    end
    return d[k]
  end
  return nil
end

SDS.__newindex = function(self, k)
  error(("ShapeDtypeStruct is immutable (cannot set '%s'); make a new one"):format(tostring(k)), 2)
end

local function shape_str(shape, sep)
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  return table.concat(parts, sep)
end

SDS.__tostring = function(self)
  local d = DATA[self]
  return ("ShapeDtypeStruct(shape={%s}, dtype=%s)"):format(shape_str(d.shape, ","), d.dtype)
end

SDS.__eq = function(a, b)
  local da, db = DATA[a], DATA[b]
  if not da or not db or da.dtype ~= db.dtype or #da.shape ~= #db.shape then return false end
  for i = 1, #da.shape do
    if da.shape[i] ~= db.shape[i] then return false end
  end
  return true
end

-- The short form tree_pformat prints, as for arrays: "f32[3,4]".
SDS.__lx_short_repr = function(x)
  local d = DATA[x]
  return SHORT[d.dtype] .. "[" .. shape_str(d.shape, ",") .. "]"
end

local function is_integer(v)
  return type(v) == "number" and v == v and v >= 0 and v % 1 == 0 and v < 2 ^ 63
end

--- A shape and a dtype, with no values: the leaves of a skeleton.
-- `shape` is a list of non-negative integers (or one integer); `dtype`
-- defaults to "float32".
function M.ShapeDtypeStruct(shape, dtype)
  if type(shape) == "number" then shape = { shape } end
  if type(shape) ~= "table" then
    error(("lx.ShapeDtypeStruct: shape must be a list of integers, got %s"):format(type(shape)), 2)
  end
  local copy, size = {}, 1
  local n = #shape
  if n > 32 then
    error(("lx.ShapeDtypeStruct: %d dimensions (at most 32 are supported)"):format(n), 2)
  end
  for i = 1, n do
    local v = shape[i]
    if not is_integer(v) then
      error(("lx.ShapeDtypeStruct: shape[%d] must be a non-negative integer, got %s"):format(i,
        tostring(v)), 2)
    end
    copy[i] = math.tointeger and math.tointeger(v) or v
    size = size * v
  end
  for k in pairs(shape) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      error("lx.ShapeDtypeStruct: shape must be a list (keys 1..n)", 2)
    end
  end
  dtype = dtype or "float32"
  if not DTYPES[dtype] then
    error(("lx.ShapeDtypeStruct: unknown dtype %s"):format(tostring(dtype)), 2)
  end
  local self = setmetatable({}, SDS)
  DATA[self] = { shape = copy, dtype = dtype, ndim = n, size = size }
  return self
end

--- True when x is an lx.ShapeDtypeStruct.
function M.is_shape_dtype_struct(x)
  return rawequal(getmetatable(x), SDS)
end

local function to_struct(x)
  if is_array(x) then return M.ShapeDtypeStruct(x.shape, x.dtype) end
  return x
end

local function finish(...)
  local n = select("#", ...)
  if n <= 1 then return tree.map(to_struct, (...)) end
  local out = {}
  for i = 1, n do out[i] = tree.map(to_struct, (select(i, ...))) end
  return unpack(out, 1, n)
end

--- Runs fn(...) without allocating array memory and returns its result with
-- every array replaced by a ShapeDtypeStruct (other leaves unchanged).
-- Inside fn, arrays have shapes and dtypes but no values: reading one
-- (`item`, `tolist`, printing values) is an error.
function M.filter_eval_shape(fn, ...)
  local mt = getmetatable(fn)
  if type(fn) ~= "function" and not (type(mt) == "table" and mt.__call) then
    error(("lx.filter_eval_shape: fn must be a function, got %s"):format(type(fn)), 2)
  end
  return finish(core._eval_abstract(fn, ...))
end

return M
