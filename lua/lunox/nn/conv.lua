--- Conv, Conv1d/2d/3d, ConvTranspose, ConvTranspose1d/2d/3d, with
-- equinox.nn's constructors, fields and initialisation (equinox/nn/_conv.py):
-- the same key gives the same weights as Python Equinox.
-- @module lunox.nn.conv
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local CU = require("lunox.nn.conv_util")

local M = {}

local unpack = table.unpack or unpack

local function check_channels(cls, in_channels, out_channels, groups)
  if in_channels % groups ~= 0 or out_channels % groups ~= 0 then
    error(("%s: groups (=%d) must divide in_channels (=%d) and out_channels (=%d)")
      :format(cls, groups, in_channels, out_channels), 4)
  end
end

local function add_batch(x)
  local s = x.shape
  table.insert(s, 1, 1)
  return x:reshape(s)
end

local function drop_batch(y)
  local s = y.shape
  table.remove(s, 1)
  return y:reshape(s)
end

local function weight_init(self, cls, n, a, key)
  local dtype = U.float_dtype(cls, a.dtype)
  local wkey, bkey = require("lunox.random").split(key, 2):unpack()
  local grouped_in = a.in_channels / a.groups
  local fan_in = grouped_in
  for i = 1, n do fan_in = fan_in * a.kernel_size[i] end
  local lim = 1 / math.sqrt(fan_in)
  local wshape = { a.out_channels, grouped_in, unpack(a.kernel_size) }
  local bshape = { a.out_channels }
  for i = 1, n do bshape[i + 1] = 1 end
  self.weight = U.uniform_init(wkey, wshape, dtype, lim)
  self.bias = a.use_bias and U.uniform_init(bkey, bshape, dtype, lim) or nil
end

-- The arguments every conv constructor shares, checked.
local function common_args(cls, a, n)
  U.size(cls, "num_spatial_dims", n, 1)
  a.in_channels = U.size(cls, "in_channels", a.in_channels, 1)
  a.out_channels = U.size(cls, "out_channels", a.out_channels, 1)
  if a.kernel_size == nil then
    error(("%s: kernel_size is required"):format(cls), 4)
  end
  a.kernel_size = CU.ntuple(cls, "kernel_size", a.kernel_size, n, 1)
  a.stride = CU.ntuple(cls, "stride", a.stride == nil and 1 or a.stride, n, 1)
  a.dilation = CU.ntuple(cls, "dilation", a.dilation == nil and 1 or a.dilation, n, 1)
  a.groups = U.size(cls, "groups", a.groups == nil and 1 or a.groups, 1)
  check_channels(cls, a.in_channels, a.out_channels, a.groups)
  a.use_bias = U.flag(cls, "use_bias", a.use_bias, true)
  a.padding = CU.padding_init(cls, a.padding, n, nil, true)
  a.padding_mode = CU.padding_mode_init(cls, a.padding_mode)
end

local CONV_KEYWORDS = { stride = true, padding = true, dilation = true, groups = true,
  use_bias = true, padding_mode = true, dtype = true }

---------------------------------------------------------------------------
-- Conv

--- Conv(num_spatial_dims, in_channels, out_channels, kernel_size [, stride = 1
-- [, padding = 0 [, dilation = 1 [, groups = 1 [, use_bias = true [,
-- padding_mode = "ZEROS" [, dtype]]]]]]] [, {key = k}]): weight
-- {out, in/groups, k_1..k_n} and bias {out, 1, ..., 1}, both uniform in
-- +-1/sqrt(in/groups * prod(kernel_size)) from split(key, 2) (weight from the
-- first key).
local Conv = Module:extend("Conv", {
  fields = { "weight", "bias" },
  static = { "num_spatial_dims", "in_channels", "out_channels", "kernel_size", "stride",
    "padding", "dilation", "groups", "use_bias", "padding_mode" },
})
M.Conv = Conv

local CONV_NAMES = { "num_spatial_dims", "in_channels", "out_channels", "kernel_size",
  "stride", "padding", "dilation", "groups", "use_bias", "padding_mode", "dtype" }

local function conv_init(self, cls, a)
  local n = a.num_spatial_dims
  common_args(cls, a, n)
  local key = U.need_key(cls, a.key, 3)
  weight_init(self, cls, n, a, key)
  self.num_spatial_dims = n
  self.in_channels = a.in_channels
  self.out_channels = a.out_channels
  self.kernel_size = a.kernel_size
  self.stride = a.stride
  self.padding = a.padding
  self.dilation = a.dilation
  self.groups = a.groups
  self.use_bias = a.use_bias
  self.padding_mode = a.padding_mode
end

function Conv:init(...)
  conv_init(self, "Conv", U.bind("Conv", CONV_NAMES, CONV_KEYWORDS, ...))
end

local function layer_label(self)
  local name = getmetatable(self).__name
  return ("%s(%d -> %d, kernel_size=%s)"):format(name, self.in_channels, self.out_channels,
    CU.list_str(self.kernel_size))
end

function Conv:__call(x, opts)
  local label = layer_label(self)
  U.call_opts(label, opts)
  local n = self.num_spatial_dims
  CU.check_input(label, x, n, self.in_channels)
  local padding = self.padding
  if self.padding_mode ~= "ZEROS" then
    if type(padding) == "string" then
      local window, sizes = {}, {}
      for i = 1, n do
        window[i] = self.dilation[i] * (self.kernel_size[i] - 1) + 1
        sizes[i] = x.shape[i + 1]
      end
      padding = CU.padtype_to_pads(sizes, window, self.stride, padding)
    end
    x = CU.mode_pad(label, x, padding, self.padding_mode)
    padding = "VALID"
  end
  local y = core.conv(add_batch(x), self.weight, { stride = self.stride, padding = padding,
    rhs_dilation = self.dilation, groups = self.groups })
  y = drop_batch(y)
  if self.bias ~= nil then y = y + self.bias end
  return y
end

-- A subclass of `base` with n spatial dimensions fixed: its constructor
-- takes `names` (the base's without num_spatial_dims) and calls `init`.
local function fixed_dims(base, name, n, names, keywords, init)
  local cls = base:extend(name, {})
  function cls:init(...)
    local a = U.bind(name, names, keywords, ...)
    a.num_spatial_dims = n
    init(self, name, a)
  end
  return cls
end

local function fixed_conv(name, n)
  return fixed_dims(Conv, name, n, { unpack(CONV_NAMES, 2) }, CONV_KEYWORDS, conv_init)
end

--- Conv1d/2d/3d(in_channels, out_channels, kernel_size [, stride [, padding [,
-- dilation [, groups [, use_bias [, padding_mode [, dtype]]]]]]] [, {key}]).
M.Conv1d = fixed_conv("Conv1d", 1)
M.Conv2d = fixed_conv("Conv2d", 2)
M.Conv3d = fixed_conv("Conv3d", 3)

---------------------------------------------------------------------------
-- ConvTranspose

--- ConvTranspose(num_spatial_dims, in_channels, out_channels, kernel_size [,
-- stride = 1 [, padding = 0 [, output_padding = 0 [, dilation = 1 [, groups =
-- 1 [, use_bias [, padding_mode [, dtype]]]]]]]] [, {key}]): the same weight
-- layout and initialisation as Conv ({out, in/groups, k...}); the call is
-- lax.conv_general_dilated with lhs_dilation = stride and Equinox's
-- transposed padding.
local ConvTranspose = Module:extend("ConvTranspose", {
  fields = { "weight", "bias" },
  static = { "num_spatial_dims", "in_channels", "out_channels", "kernel_size", "stride",
    "padding", "output_padding", "dilation", "groups", "use_bias", "padding_mode" },
})
M.ConvTranspose = ConvTranspose

local CT_NAMES = { "num_spatial_dims", "in_channels", "out_channels", "kernel_size",
  "stride", "padding", "output_padding", "dilation", "groups", "use_bias", "padding_mode",
  "dtype" }
-- ConvTranspose1d/2d/3d take output_padding before padding, as Equinox's do.
local CT_FIXED_NAMES = { "in_channels", "out_channels", "kernel_size", "stride",
  "output_padding", "padding", "dilation", "groups", "use_bias", "padding_mode", "dtype" }
local CT_KEYWORDS = { output_padding = true }
for k in pairs(CONV_KEYWORDS) do CT_KEYWORDS[k] = true end

local function conv_transpose_init(self, cls, a)
  local n = a.num_spatial_dims
  common_args(cls, a, n)
  local op = CU.ntuple(cls, "output_padding", a.output_padding == nil and 0 or a.output_padding,
    n, 0)
  for i = 1, n do
    if op[i] >= a.stride[i] then
      error(("%s: output_padding must be < stride on every axis, got output_padding %s "
        .. "and stride %s"):format(cls, CU.list_str(op), CU.list_str(a.stride)), 3)
    end
  end
  local mode = a.padding_mode
  if mode == "REFLECT" or mode == "REPLICATE" then
    error(("%s: padding_mode %s is not implemented for transposed convolutions (as in "
      .. 'Equinox): use "ZEROS" or "CIRCULAR"'):format(cls, mode), 3)
  elseif mode == "CIRCULAR" then
    for i = 1, n do
      if op[i] ~= 0 then
        error(("%s: padding_mode CIRCULAR needs output_padding 0, got %s (as in Equinox)")
          :format(cls, CU.list_str(op)), 3)
      end
    end
    if a.padding ~= "SAME" and a.padding ~= "SAME_LOWER" then
      error(('%s: padding_mode CIRCULAR needs padding "SAME" or "SAME_LOWER", got %s (as '
        .. "in Equinox)"):format(cls, CU.list_str(a.padding)), 3)
    end
  end
  local key = U.need_key(cls, a.key, 3)
  weight_init(self, cls, n, a, key)
  self.num_spatial_dims = n
  self.in_channels = a.in_channels
  self.out_channels = a.out_channels
  self.kernel_size = a.kernel_size
  self.stride = a.stride
  self.padding = a.padding
  self.output_padding = op
  self.dilation = a.dilation
  self.groups = a.groups
  self.use_bias = a.use_bias
  self.padding_mode = mode
end

function ConvTranspose:init(...)
  conv_transpose_init(self, "ConvTranspose", U.bind("ConvTranspose", CT_NAMES, CT_KEYWORDS,
    ...))
end

--- Equinox's _padding_transpose: the {lo, hi} padding of the dilated input
-- (relationship 14 of Dumoulin & Visin, arXiv:1603.07285).
function ConvTranspose:padding_transpose()
  local out = {}
  for i = 1, self.num_spatial_dims do
    local k, s, d = self.kernel_size[i], self.stride[i], self.dilation[i]
    local a = self.output_padding[i]
    local p0, p1
    if self.padding == "VALID" then
      p0, p1 = 0, 0
    elseif type(self.padding) == "string" then
      local p_sum = d * (k - 1) - s + a + 1
      if p_sum < 0 then a, p_sum = -p_sum, 0 else a = 0 end
      local lower = self.padding == "SAME_LOWER" and 1 or 0
      p0 = math.floor((p_sum + lower) / 2)
      p1 = p_sum - p0
    else
      p0, p1 = self.padding[i][1], self.padding[i][2]
    end
    out[i] = { d * (k - 1) - p0, d * (k - 1) - p1 + a }
  end
  return out
end

function ConvTranspose:__call(x, opts)
  local label = layer_label(self)
  U.call_opts(label, opts)
  local n = self.num_spatial_dims
  CU.check_input(label, x, n, self.in_channels)
  local padding = self:padding_transpose()
  if self.padding_mode == "CIRCULAR" then
    -- Equinox's _circular_pad: whole strides of the padding become wrapped
    -- input elements, the remainder stays zero padding.
    local wrap, rest = {}, {}
    for i = 1, n do
      local s = self.stride[i]
      wrap[i] = { math.floor(padding[i][1] / s), math.floor(padding[i][2] / s) }
      rest[i] = { padding[i][1] % s, padding[i][2] % s }
    end
    x = CU.mode_pad(label, x, wrap, "CIRCULAR")
    padding = rest
  end
  local y = core.conv(add_batch(x), self.weight, { stride = 1, padding = padding,
    lhs_dilation = self.stride, rhs_dilation = self.dilation, groups = self.groups })
  y = drop_batch(y)
  if self.bias ~= nil then y = y + self.bias end
  return y
end

local function fixed_conv_transpose(name, n)
  return fixed_dims(ConvTranspose, name, n, CT_FIXED_NAMES, CT_KEYWORDS, conv_transpose_init)
end

--- ConvTranspose1d/2d/3d(in_channels, out_channels, kernel_size [, stride [,
-- output_padding [, padding [, dilation [, groups [, use_bias [, padding_mode
-- [, dtype]]]]]]]] [, {key}]) (output_padding before padding, as Equinox).
M.ConvTranspose1d = fixed_conv_transpose("ConvTranspose1d", 1)
M.ConvTranspose2d = fixed_conv_transpose("ConvTranspose2d", 2)
M.ConvTranspose3d = fixed_conv_transpose("ConvTranspose3d", 3)

return M
