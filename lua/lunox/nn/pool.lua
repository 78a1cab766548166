--- Pool, MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptivePool,
-- AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d, with equinox.nn's
-- constructors, fields and results (equinox/nn/_pool.py).
-- @module lunox.nn.pool
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local CU = require("lunox.nn.conv_util")

local M = {}

local unpack = table.unpack or unpack

-- The reduce_window ops Pool can run, by the function Equinox stores
-- (lax.max, lax.add) and the identity it must start from.
local function window_op(operation)
  if operation == core.maximum then return "max", -math.huge end
  if operation == core.add then return "sum", 0 end
  return nil
end

--- Pool(init, operation, num_spatial_dims, kernel_size [, stride = 1 [,
-- padding = 0 [, use_ceil = false]]]): lax.reduce_window over the spatial
-- axes of {channels, s_1, ..., s_n}. `operation` is lx.maximum (with init
-- -math.huge) or lx.add (with init 0): the windowed reductions lunox has.
local Pool = Module:extend("Pool", {
  fields = { "initial", "operation" },
  static = { "num_spatial_dims", "kernel_size", "stride", "padding", "use_ceil" },
})
M.Pool = Pool

local POOL_KEYWORDS = { stride = true, padding = true, use_ceil = true }

local function check_padding_valid(label, padding, kernel, level)
  for i, p in ipairs(padding) do
    if math.max(p[1], p[2]) > kernel[i] then
      error(("%s: padding must not exceed the kernel size: padding {%d,%d} for kernel size %d "
        .. "on spatial axis %d"):format(label, p[1], p[2], kernel[i], i), level + 1)
    end
  end
end

local function pool_init(self, cls, a)
  local n = U.size(cls, "num_spatial_dims", a.num_spatial_dims, 1)
  local op, identity = window_op(a.operation)
  if op == nil then
    error(("%s: operation must be lx.maximum or lx.add (lax.max, lax.add: the window "
      .. "reductions lunox has), got %s"):format(cls, tostring(a.operation)), 4)
  end
  if a.init ~= identity then
    error(("%s: init must be the identity of the operation (%s for lx.%s), got %s"):format(cls,
      tostring(identity), op == "max" and "maximum" or "add", tostring(a.init)), 4)
  end
  if a.kernel_size == nil then error(("%s: kernel_size is required"):format(cls), 4) end
  local kernel = CU.ntuple(cls, "kernel_size", a.kernel_size, n, 1)
  local stride = CU.ntuple(cls, "stride", a.stride == nil and 1 or a.stride, n, 1)
  local padding = CU.padding_init(cls, a.padding, n, 0, false)
  check_padding_valid(cls, padding, kernel, 4)
  self.initial = a.init
  self.operation = a.operation
  self.num_spatial_dims = n
  self.kernel_size = kernel
  self.stride = stride
  self.padding = padding
  self.use_ceil = U.flag(cls, "use_ceil", a.use_ceil, false)
end

function Pool:init(...)
  pool_init(self, "Pool", U.bind("Pool", { "init", "operation", "num_spatial_dims",
    "kernel_size", "stride", "padding", "use_ceil" }, POOL_KEYWORDS, ...))
end

local function pool_label(self)
  return ("%s(kernel_size=%s, stride=%s)"):format(getmetatable(self).__name,
    CU.list_str(self.kernel_size), CU.list_str(self.stride))
end

-- The window reduction of Pool.__call__, without AvgPool's division.
local function pool_apply(self, label, x, opts)
  U.call_opts(label, opts)
  local n = self.num_spatial_dims
  CU.check_input(label, x, n, nil, 2)
  local padding = self.padding
  if self.use_ceil then
    -- Equinox's _update_padding_for_ceil: one more stride of padding above
    -- where the windows do not fit exactly.
    local p = {}
    for i = 1, n do
      local lo, hi = padding[i][1], padding[i][2]
      if (x.shape[i + 1] + lo + hi - self.kernel_size[i]) % self.stride[i] ~= 0 then
        hi = hi + self.stride[i]
      end
      p[i] = { lo, hi }
    end
    padding = p
  end
  check_padding_valid(label, padding, self.kernel_size, 3)
  local op = window_op(self.operation)
  return core.reduce_window(x, op, { 1, unpack(self.kernel_size) }, { 1, unpack(self.stride) },
    { { 0, 0 }, unpack(padding) })
end

function Pool:__call(x, opts)
  return pool_apply(self, pool_label(self), x, opts)
end

local function fixed_pool(name, n, operation, init, average)
  local cls = Pool:extend(name, {})
  function cls:init(...)
    local a = U.bind(name, { "kernel_size", "stride", "padding", "use_ceil" }, POOL_KEYWORDS,
      ...)
    a.init, a.operation, a.num_spatial_dims = init, operation, n
    pool_init(self, name, a)
  end
  if average then
    function cls:__call(x, opts)
      local size = 1
      for _, k in ipairs(self.kernel_size) do size = size * k end
      return pool_apply(self, pool_label(self), x, opts) / size
    end
  end
  return cls
end

--- MaxPool1d/2d/3d(kernel_size [, stride = 1 [, padding = 0 [, use_ceil =
-- false]]]): the maximum over each window (padding counts as -inf).
-- AvgPool1d/2d/3d(...): the sum over each window divided by the full window
-- size prod(kernel_size), padding included, as Equinox.
for n = 1, 3 do
  M["MaxPool" .. n .. "d"] = fixed_pool("MaxPool" .. n .. "d", n, core.maximum, -math.huge)
  M["AvgPool" .. n .. "d"] = fixed_pool("AvgPool" .. n .. "d", n, core.add, 0, true)
end

---------------------------------------------------------------------------
-- Adaptive pools

--- AdaptivePool(target_shape, num_spatial_dims, operation): reduces each
-- spatial axis of size d to t entries as Equinox's _adaptive_pool1d: the
-- first d % t bins hold floor(d/t) + 1 consecutive elements, the others
-- floor(d/t). `operation(a, axis)` reduces `a` along `axis` (lx.mean,
-- lx.max; Equinox's takes a 1-d array and is vmapped).
local AdaptivePool = Module:extend("AdaptivePool", {
  fields = { "operation" },
  static = { "target_shape" },
})
M.AdaptivePool = AdaptivePool

local function adaptive_init(self, cls, target_shape, n, operation)
  n = U.size(cls, "num_spatial_dims", n, 1)
  if type(operation) ~= "function" and not (getmetatable(operation)
      and getmetatable(operation).__call) then
    error(("%s: operation must be a function(array, axis) such as lx.mean or lx.max, got %s")
      :format(cls, type(operation)), 4)
  end
  if target_shape == nil then error(("%s: target_shape is required"):format(cls), 4) end
  self.target_shape = CU.ntuple(cls, "target_shape", target_shape, n, 1)
  self.operation = operation
end

function AdaptivePool:init(...)
  local a = U.bind("AdaptivePool", { "target_shape", "num_spatial_dims", "operation" }, {}, ...)
  adaptive_init(self, "AdaptivePool", a.target_shape, a.num_spatial_dims, a.operation)
end

-- x[..., lo..hi (axis), ...] reduced in bins of `size` along `axis`.
local function reduce_bins(x, axis, lo, hi, size, operation)
  local idx = {}
  for i = 1, x.ndim do idx[i] = {} end
  idx[axis] = { lo, hi }
  local part = x[idx]:copy()
  local shape = part.shape
  local bins = (hi - lo + 1) / size
  shape[axis] = size
  table.insert(shape, axis, bins)
  return operation(part:reshape(shape), axis + 1)
end

function AdaptivePool:__call(x, opts)
  local label = ("%s(target_shape=%s)"):format(getmetatable(self).__name,
    CU.list_str(self.target_shape))
  U.call_opts(label, opts)
  local n = #self.target_shape
  CU.check_input(label, x, n, nil)
  for i = 1, n do
    local axis = i + 1
    local d, t = x.shape[axis], self.target_shape[i]
    if t > d then
      error(("%s: spatial axis %d has size %d, smaller than the target size %d (input shape %s)")
        :format(label, i, d, t, U.shape_str(x.shape)), 2)
    end
    local q, h = math.floor(d / t), d % t
    if h ~= 0 then
      local head_end = h * (q + 1)
      local head = reduce_bins(x, axis, 1, head_end, q + 1, self.operation)
      local tail = reduce_bins(x, axis, head_end + 1, d, q, self.operation)
      x = core.concatenate({ head, tail }, axis)
    else
      x = reduce_bins(x, axis, 1, d, q, self.operation)
    end
  end
  return x
end

local function fixed_adaptive(name, n, operation)
  local cls = AdaptivePool:extend(name, {})
  function cls:init(...)
    local a = U.bind(name, { "target_shape" }, {}, ...)
    adaptive_init(self, name, a.target_shape, n, operation)
  end
  return cls
end

--- AdaptiveAvgPool1d/2d/3d(target_shape), AdaptiveMaxPool1d/2d/3d(target_shape).
for n = 1, 3 do
  M["AdaptiveAvgPool" .. n .. "d"] = fixed_adaptive("AdaptiveAvgPool" .. n .. "d", n, core.mean)
  M["AdaptiveMaxPool" .. n .. "d"] = fixed_adaptive("AdaptiveMaxPool" .. n .. "d", n, core.max)
end

return M
