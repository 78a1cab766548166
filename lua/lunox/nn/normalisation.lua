--- LayerNorm, RMSNorm, GroupNorm and BatchNorm, with equinox.nn's
-- constructors, fields, initial values and call semantics (Equinox's
-- _normalisation.py and _batch_norm.py; see docs/nn.md for the few
-- differences, chiefly BatchNorm's batch statistics without vmap).
-- @module lunox.nn.normalisation
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local S = require("lunox.nn.state")

local M = {}

local function is_state(v) return S.is_state(v) end

-- jnp.result_type(dtype, float32) under standard promotion: the dtype the
-- norms compute in (16-bit floats and integers go through float32).
local function compute_dtype(dtype)
  if dtype == "float64" then return "float64" end
  return "float32"
end

local function check_eps(cls, eps)
  if eps == nil then return 1e-5 end
  if type(eps) ~= "number" or eps ~= eps or eps < 0 or eps == math.huge then
    error(("%s: eps must be a finite number >= 0, got %s"):format(cls, tostring(eps)), 3)
  end
  return eps
end

-- A LayerNorm/RMSNorm shape: an integer or a list of integers (>= 0).
local function check_shape(cls, shape)
  if U.is_int(shape) then shape = { shape } end
  if type(shape) ~= "table" or core.is_array(shape) or getmetatable(shape) ~= nil then
    error(("%s: shape must be an integer or a list of integers, got %s"):format(cls,
      core.is_array(shape) and "an array" or tostring(shape)), 3)
  end
  local out = {}
  for i = 1, #shape do
    local n = shape[i]
    if not U.is_int(n) or n < 0 then
      error(("%s: shape[%d] must be an integer >= 0, got %s"):format(cls, i, tostring(n)), 3)
    end
    out[i] = n
  end
  for k in pairs(shape) do
    if type(k) ~= "number" or k < 1 or k > #shape or k ~= math.floor(k) then
      error(("%s: shape must be a list of integers, got a table with key %s"):format(cls,
        tostring(k)), 3)
    end
  end
  return out
end

-- layer(x [, state] [, opts]): the norms other than BatchNorm take an
-- optional State and return it unchanged (Equinox's interchangeability
-- with BatchNorm).
local function split_call(label, a, b)
  if is_state(a) then
    U.call_opts(label, b)
    return a
  end
  if b ~= nil then
    error(("%s: expected layer(x [, state] [, {key = k}]), got a %s as second argument")
      :format(label, type(a)), 3)
  end
  U.call_opts(label, a)
  return nil
end

-- U.bind takes a trailing plain table for the options table, but a shape
-- given as a list ({3, 4}, or {} for a scalar) is a plain table too: the
-- first argument, when it is a list, is the shape.
local function is_list(t)
  if type(t) ~= "table" or core.is_array(t) or getmetatable(t) ~= nil then return false end
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
  end
  return true
end

local function bind_shape(cls, names, keywords, ...)
  local first = ...
  if select("#", ...) > 0 and is_list(first) then
    local rest = {}
    for i = 2, #names do rest[#rest + 1] = names[i] end
    local a = U.bind(cls, rest, keywords, select(2, ...))
    a.shape = first
    return a
  end
  return U.bind(cls, names, keywords, ...)
end

local function need_array(label, x)
  if not core.is_array(x) then
    error(("%s: the input must be an array, got %s"):format(label, type(x)), 3)
  end
end

-------------------------------------------------------------------------------
-- LayerNorm

--- LayerNorm(shape [, eps = 1e-5 [, use_weight = true [, use_bias = true [,
-- dtype]]]] [, {elementwise_affine = bool}]): weight ones and bias zeros of
-- `shape`; normalises the whole input (of exactly `shape`) by its mean and
-- variance, then applies weight and bias.
local LayerNorm = Module:extend("LayerNorm", {
  fields = { "weight", "bias" },
  static = { "shape", "eps", "use_weight", "use_bias" },
})
M.LayerNorm = LayerNorm

function LayerNorm:init(...)
  local a = bind_shape("LayerNorm", { "shape", "eps", "use_weight", "use_bias", "dtype" },
    { shape = true, eps = true, use_weight = true, use_bias = true, dtype = true,
      elementwise_affine = true },
    ...)
  local shape = check_shape("LayerNorm", a.shape)
  local eps = check_eps("LayerNorm", a.eps)
  local use_weight = U.flag("LayerNorm", "use_weight", a.use_weight, true)
  local use_bias = U.flag("LayerNorm", "use_bias", a.use_bias, true)
  if a.elementwise_affine ~= nil then
    -- Equinox's deprecated spelling of use_weight = use_bias = value.
    local ea = U.flag("LayerNorm", "elementwise_affine", a.elementwise_affine)
    use_weight, use_bias = ea, ea
  end
  local dtype = U.float_dtype("LayerNorm", a.dtype)
  self.shape = shape
  self.eps = eps
  self.use_weight = use_weight
  self.use_bias = use_bias
  self.weight = use_weight and core.ones(shape, dtype) or nil
  self.bias = use_bias and core.zeros(shape, dtype) or nil
end

local function shape_label(cls, shape) return cls .. "(" .. U.shape_str(shape) .. ")" end

-- LayerNorm's and RMSNorm's ending: weight and bias (in the compute dtype
-- dt), back to the input's dtype, and the state passed through if given.
local function affine(self, out, dt, orig, state)
  if self.use_weight then out = self.weight:astype(dt) * out end
  if self.use_bias then out = out + self.bias:astype(dt) end
  out = out:astype(orig)
  if state ~= nil then return out, state end
  return out
end

function LayerNorm:__call(x, a, b)
  local label = shape_label("LayerNorm", self.shape)
  local state = split_call(label, a, b)
  U.check_input(label, x, self.shape)
  local orig = x.dtype
  local dt = compute_dtype(orig)
  x = x:astype(dt)
  local centred = x - core.mean(x)
  local var = core.maximum(core.mean(centred * centred), 0)
  local out = centred * (1 / core.sqrt(var + self.eps))
  return affine(self, out, dt, orig, state)
end

-------------------------------------------------------------------------------
-- RMSNorm

--- RMSNorm(shape [, eps = 1e-5 [, use_weight = true [, use_bias = true [,
-- dtype]]]]): x / sqrt(mean(x^2) + eps), times weight (ones), plus bias
-- (zeros), over an input of exactly `shape`.
local RMSNorm = Module:extend("RMSNorm", {
  fields = { "weight", "bias" },
  static = { "shape", "eps", "use_weight", "use_bias" },
})
M.RMSNorm = RMSNorm

function RMSNorm:init(...)
  local a = bind_shape("RMSNorm", { "shape", "eps", "use_weight", "use_bias", "dtype" },
    { shape = true, eps = true, use_weight = true, use_bias = true, dtype = true }, ...)
  local shape = check_shape("RMSNorm", a.shape)
  local dtype = U.float_dtype("RMSNorm", a.dtype)
  self.shape = shape
  self.eps = check_eps("RMSNorm", a.eps)
  self.use_weight = U.flag("RMSNorm", "use_weight", a.use_weight, true)
  self.use_bias = U.flag("RMSNorm", "use_bias", a.use_bias, true)
  self.weight = self.use_weight and core.ones(shape, dtype) or nil
  self.bias = self.use_bias and core.zeros(shape, dtype) or nil
end

function RMSNorm:__call(x, a, b)
  local label = shape_label("RMSNorm", self.shape)
  local state = split_call(label, a, b)
  U.check_input(label, x, self.shape)
  local orig = x.dtype
  local dt = compute_dtype(orig)
  x = x:astype(dt)
  local inv_rms = 1 / core.sqrt(core.mean(x * x) + self.eps)
  local out = inv_rms * x
  return affine(self, out, dt, orig, state)
end

-------------------------------------------------------------------------------
-- GroupNorm

--- GroupNorm(groups [, channels [, eps = 1e-5 [, channelwise_affine = true [,
-- dtype]]]]): splits the first axis (channels) of the input into `groups`
-- groups, normalises each by its own mean and variance, then applies the
-- per-channel weight (ones) and bias (zeros). `groups` must divide
-- `channels`; `channels` may be nil only without the affine part.
local GroupNorm = Module:extend("GroupNorm", {
  fields = { "weight", "bias" },
  static = { "groups", "channels", "eps", "channelwise_affine" },
})
M.GroupNorm = GroupNorm

function GroupNorm:init(...)
  local a = U.bind("GroupNorm", { "groups", "channels", "eps", "channelwise_affine", "dtype" },
    { channels = true, eps = true, channelwise_affine = true, dtype = true }, ...)
  local groups = U.size("GroupNorm", "groups", a.groups, 1)
  local channels = a.channels
  if channels ~= nil then channels = U.size("GroupNorm", "channels", channels, 0) end
  local affine = U.flag("GroupNorm", "channelwise_affine", a.channelwise_affine, true)
  if channels ~= nil and channels % groups ~= 0 then
    error(("GroupNorm: the number of groups must divide the number of channels: groups = %d, "
      .. "channels = %d"):format(groups, channels), 2)
  end
  if channels == nil and affine then
    error("GroupNorm: the number of channels must be given when channelwise_affine = true", 2)
  end
  local dtype = U.float_dtype("GroupNorm", a.dtype)
  self.groups = groups
  self.channels = channels
  self.eps = check_eps("GroupNorm", a.eps)
  self.channelwise_affine = affine
  self.weight = affine and core.ones({ channels }, dtype) or nil
  self.bias = affine and core.zeros({ channels }, dtype) or nil
end

-- {n, 1, ..., 1} with ndim axes in all: a per-channel vector aligned with
-- axis 1 (Equinox's left_broadcast_to).
local function channel_shape(n, ndim, lead)
  local s = {}
  for i = 1, ndim do s[i] = 1 end
  s[(lead or 0) + 1] = n
  return s
end

function GroupNorm:__call(x, a, b)
  local label = ("GroupNorm(%d groups, %s channels)"):format(self.groups,
    tostring(self.channels))
  local state = split_call(label, a, b)
  need_array(label, x)
  local shape = x.shape
  local c = shape[1]
  if #shape == 0 or (self.channels ~= nil and c ~= self.channels)
      or (self.channels == nil and c % self.groups ~= 0) then
    error(("%s: expected an input of shape {channels, ...} with %s channels, got %s"):format(
      label, self.channels ~= nil and tostring(self.channels)
      or ("a multiple of " .. self.groups), U.shape_str(shape)), 2)
  end
  local orig = x.dtype
  local dt = compute_dtype(orig)
  x = x:astype(dt)
  local g = self.groups
  local y = x:reshape({ g, math.floor(x.size / g) })
  local centred = y - core.mean(y, 2, true)
  local var = core.maximum(core.mean(centred * centred, 2, true), 0)
  local out = (centred * (1 / core.sqrt(var + self.eps))):reshape(shape)
  if self.channelwise_affine then
    local cs = channel_shape(c, #shape)
    out = self.weight:astype(dt):reshape(cs) * out + self.bias:astype(dt):reshape(cs)
  end
  out = out:astype(orig)
  if state ~= nil then return out, state end
  return out
end

-------------------------------------------------------------------------------
-- BatchNorm

local function check_axis_name(v)
  local function hashable(n) return type(n) == "string" or type(n) == "number" end
  if hashable(v) then return v end
  if type(v) == "table" and not core.is_array(v) and getmetatable(v) == nil and #v > 0 then
    for i = 1, #v do
      if not hashable(v[i]) then return nil end
    end
    return v
  end
  return nil
end

--- BatchNorm(input_size, axis_name [, eps = 1e-5 [, channelwise_affine = true
-- [, momentum = 0.99 [, inference = false [, dtype [, mode = "ema"]]]]]]):
-- use nn.make_with_state(nn.BatchNorm)(...). Normalises each channel (axis
-- 1 of an example) with batch statistics in training and running
-- statistics in inference. lunox has no vmap yet: training needs an
-- explicit leading batch axis, bn(xs, state, {batched = true}).
local BatchNorm = Module:extend("BatchNorm", {
  fields = { "weight", "bias", "ema_first_time_index", "ema_state_index", "batch_counter",
    "batch_state_index", "axis_name", "inference" },
  static = { "input_size", "eps", "channelwise_affine", "momentum", "mode" },
})
M.BatchNorm = BatchNorm

function BatchNorm:init(...)
  local a = U.bind("BatchNorm", { "input_size", "axis_name", "eps", "channelwise_affine",
    "momentum", "inference", "dtype", "mode" },
    { eps = true, channelwise_affine = true, momentum = true, inference = true, dtype = true,
      mode = true }, ...)
  local n = U.size("BatchNorm", "input_size", a.input_size, 0)
  local axis_name = check_axis_name(a.axis_name)
  if axis_name == nil then
    error(("BatchNorm: axis_name must be a string (or a number, or a list of them): the name "
      .. "Equinox gives the batch axis, e.g. nn.BatchNorm(%d, \"batch\"); got %s"):format(n,
      tostring(a.axis_name)), 2)
  end
  local momentum = a.momentum == nil and 0.99 or a.momentum
  if type(momentum) ~= "number" or not (momentum >= 0 and momentum <= 1) then
    error(("BatchNorm: momentum must be a number in [0, 1], got %s"):format(
      tostring(momentum)), 2)
  end
  local mode = a.mode == nil and "ema" or a.mode
  if mode ~= "ema" and mode ~= "batch" then
    error(("BatchNorm: mode must be \"ema\" or \"batch\", got %s"):format(tostring(mode)), 2)
  end
  local affine = U.flag("BatchNorm", "channelwise_affine", a.channelwise_affine, true)
  local dtype = U.float_dtype("BatchNorm", a.dtype)
  self.mode = mode
  self.weight = affine and core.ones({ n }, dtype) or nil
  self.bias = affine and core.zeros({ n }, dtype) or nil
  if mode == "ema" then
    self.ema_first_time_index = S.StateIndex(core.array(true))
    -- jnp.empty gives zeros.
    self.ema_state_index = S.StateIndex({ core.zeros({ n }, dtype), core.zeros({ n }, dtype) })
    self.batch_counter = nil
    self.batch_state_index = nil
  else
    self.batch_counter = S.StateIndex(core.array(0, "int32"))
    self.batch_state_index = S.StateIndex({ core.zeros({ n }, dtype), core.ones({ n }, dtype) })
    self.ema_first_time_index = nil
    self.ema_state_index = nil
  end
  self.inference = U.flag("BatchNorm", "inference", a.inference, false)
  self.axis_name = axis_name
  self.input_size = n
  self.eps = check_eps("BatchNorm", a.eps)
  self.channelwise_affine = affine
  self.momentum = momentum
end

--- BatchNorm takes and returns a State (nn.Sequential threads it).
function BatchNorm:is_stateful() return true end

-- Equinox's _stats over a batch {B, C, ...}: per example and channel the
-- mean over the spatial axes, averaged over the batch (jnp.mean, then
-- lax.pmean); the variance likewise around that batch mean.
local function batch_stats(x)
  local shape = x.shape
  local bsz, c = shape[1], shape[2]
  local xr = x:reshape({ bsz, c, math.floor(x.size / math.max(bsz * c, 1)) })
  local mean = core.mean(core.mean(xr, 3), 1)
  local centred = xr - mean:reshape({ 1, c, 1 })
  local var = core.mean(core.mean(centred * centred, 3), 1)
  return mean, core.maximum(var, 0)
end

--- bn(x, state [, {inference = bool, batched = bool, key = k}]) -> y, state.
-- x is one example {input_size, ...}, or with batched = true a batch
-- {batch, input_size, ...}. Training mode needs batched = true.
function BatchNorm:__call(x, state, opts)
  local n = self.input_size
  local label = "BatchNorm(" .. n .. ")"
  if not is_state(state) then
    error(("%s: expected bn(x, state [, opts]) with state an nn.State (from "
      .. "nn.make_with_state(nn.BatchNorm)(...)), got %s as second argument"):format(label,
      core.is_array(state) and "an array" or type(state)), 2)
  end
  opts = U.call_opts(label, opts, { key = true, inference = true, batched = true })
  local inference = opts.inference
  if inference == nil then inference = self.inference end
  if type(inference) ~= "boolean" then
    error(("%s: inference must be a boolean, got %s"):format(label, type(inference)), 2)
  end
  local batched = opts.batched or false
  need_array(label, x)
  local shape = x.shape
  local lead = batched and 1 or 0
  if #shape < lead + 1 or shape[lead + 1] ~= n then
    error(("%s: expected an input of shape %s, got %s"):format(label,
      batched and ("{batch, " .. n .. ", ...}") or ("{" .. n .. ", ...}"), U.shape_str(shape)),
      2)
  end
  if not inference and not batched then
    error(("%s: training mode needs the statistics of a batch, which Equinox takes over the "
      .. "vmap axis '%s'; lunox has no vmap yet. Call bn(xs, state, {batched = true}) with xs "
      .. "of shape {batch, %d, ...}, or use inference mode (nn.inference_mode(model), or "
      .. "{inference = true} in the call)"):format(label, tostring(self.axis_name), n), 2)
  end
  local m = self.momentum
  local mean, var
  if self.mode == "ema" then
    if inference then
      local rs = state:get(self.ema_state_index)
      mean, var = rs[1], rs[2]
    else
      local first_time = state:get(self.ema_first_time_index)
      state = state:set(self.ema_first_time_index, core.array(false))
      local batch_mean, batch_var = batch_stats(x)
      local rs = state:get(self.ema_state_index)
      mean = (1 - m) * batch_mean + m * rs[1]
      var = (1 - m) * batch_var + m * rs[2]
      mean = core.where(first_time, batch_mean, mean)
      var = core.where(first_time, batch_var, var)
      state = state:set(self.ema_state_index, { mean, var })
    end
  else
    local counter = state:get(self.batch_counter)
    local hidden = state:get(self.batch_state_index)
    if inference then
      -- Equinox's zero-debiasing: hidden / (1 - momentum^counter), 1 at first.
      local sdt = hidden[1].dtype == "float64" and "float64" or "float32"
      local c = counter:astype(sdt)
      local scale = core.where(core.eq(counter, 0), core.ones({}, sdt):to(counter.device),
        1 - core.full({}, m, sdt):to(counter.device) ^ c)
      scale = scale:astype(hidden[1].dtype)
      mean, var = hidden[1] / scale, hidden[2] / scale
    else
      mean, var = batch_stats(x)
      state = state:set(self.batch_counter, counter + 1)
      state = state:set(self.batch_state_index,
        { hidden[1] * m + mean * (1 - m), hidden[2] * m + var * (1 - m) })
    end
  end
  local cs = channel_shape(n, #shape, lead)
  local out = (x - mean:reshape(cs)) / core.sqrt(var:reshape(cs) + self.eps)
  if self.channelwise_affine then
    out = out * self.weight:reshape(cs) + self.bias:reshape(cs)
  end
  return out, state
end

return M
