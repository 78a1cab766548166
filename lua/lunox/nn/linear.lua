--- Linear, Identity and MLP, with equinox.nn's constructors, fields and
-- initialisation: the same key gives the same weights as Python Equinox.
-- @module lunox.nn.linear
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local act = require("lunox.nn.activations")

local M = {}

local function size_label(v) return v == "scalar" and '"scalar"' or tostring(v) end

--- Linear(in_features, out_features [, use_bias [, dtype]] [, {key = k}]):
-- weight {out, in} and bias {out}, both uniform in +-1/sqrt(in) from
-- split(key) (weight from the first key, bias from the second). Sizes may
-- be "scalar": the layer then takes or gives a 0-d array.
local Linear = Module:extend("Linear", {
  fields = { "weight", "bias" },
  static = { "in_features", "out_features", "use_bias" },
})
M.Linear = Linear

function Linear:init(...)
  local a = U.bind("Linear", { "in_features", "out_features", "use_bias", "dtype" },
    { use_bias = true, dtype = true }, ...)
  -- in_features 0 would make the bound 1/sqrt(0) (Equinox: ZeroDivisionError).
  local in_f = U.size("Linear", "in_features", a.in_features, 1, true)
  local out_f = U.size("Linear", "out_features", a.out_features, 0, true)
  local use_bias = U.flag("Linear", "use_bias", a.use_bias, true)
  local dtype = U.float_dtype("Linear", a.dtype)
  local key = U.need_key("Linear", a.key, 2)
  local jr = require("lunox.random")
  local wkey, bkey = jr.split(key, 2):unpack()
  local n_in = in_f == "scalar" and 1 or in_f
  local n_out = out_f == "scalar" and 1 or out_f
  local lim = 1 / math.sqrt(n_in)
  self.weight = U.uniform_init(wkey, { n_out, n_in }, dtype, lim)
  self.bias = use_bias and U.uniform_init(bkey, { n_out }, dtype, lim) or nil
  self.in_features = in_f
  self.out_features = out_f
  self.use_bias = use_bias
end

function Linear:__call(x, opts)
  local label = "Linear(" .. size_label(self.in_features) .. " -> "
    .. size_label(self.out_features) .. ")"
  U.call_opts(label, opts)
  if self.in_features == "scalar" then
    U.check_input(label, x, {})
    x = x:reshape({ 1 })
  else
    U.check_input(label, x, { self.in_features })
  end
  local y = core.matmul(self.weight, x)
  if self.bias ~= nil then y = y + self.bias end
  if self.out_features == "scalar" then y = y:reshape({}) end
  return y
end

--- Identity(...): ignores its arguments; returns its input.
local Identity = Module:extend("Identity", {})
M.Identity = Identity
function Identity:init() end
function Identity:__call(x) return x end

--- MLP(in_size, out_size, width_size, depth [, activation [,
-- final_activation [, use_bias [, use_final_bias [, dtype]]]]] [, {key = k,
-- scan = false}]): depth hidden layers, keys from split(key, depth + 1) in
-- layer order, activation (default relu) after every layer but the last,
-- final_activation (default identity) after it.
--
-- scan = true (a lunox option) stores the depth - 1 width x width layers as
-- one Linear whose arrays have a leading axis of depth - 1 (the
-- "scan-over-layers" layout): the same weights as without it, one leaf per
-- parameter instead of one per layer.
local MLP = Module:extend("MLP", {
  fields = { "layers", "activation", "final_activation" },
  static = { "use_bias", "use_final_bias", "in_size", "out_size", "width_size", "depth",
    "scan" },
})
M.MLP = MLP

local function stack_layers(layers)
  local ws, bs = {}, {}
  for i, l in ipairs(layers) do
    ws[i] = l.weight
    bs[i] = l.bias
  end
  local first = layers[1]
  local tree_at = require("lunox.tree_at").tree_at
  local stacked = tree_at(function(l) return l.weight end, first, core.stack(ws, 1))
  if first.bias == nil then return stacked end
  return tree_at(function(l) return l.bias end, stacked, core.stack(bs, 1))
end

function MLP:init(...)
  local a = U.bind("MLP", { "in_size", "out_size", "width_size", "depth", "activation",
    "final_activation", "use_bias", "use_final_bias", "dtype" },
    { activation = true, final_activation = true, use_bias = true, use_final_bias = true,
      dtype = true, scan = true }, ...)
  local in_size = U.size("MLP", "in_size", a.in_size, 1, true)
  local out_size = U.size("MLP", "out_size", a.out_size, 0, true)
  local depth = U.size("MLP", "depth", a.depth, 0)
  local width = depth == 0 and a.width_size or U.size("MLP", "width_size", a.width_size, 1)
  local use_bias = U.flag("MLP", "use_bias", a.use_bias, true)
  local use_final_bias = U.flag("MLP", "use_final_bias", a.use_final_bias, true)
  local scan = U.flag("MLP", "scan", a.scan, false)
  local activation = a.activation or act.relu
  local final_activation = a.final_activation or act.identity
  for what, f in pairs({ activation = activation, final_activation = final_activation }) do
    if type(f) ~= "function" and not (getmetatable(f) and getmetatable(f).__call) then
      error(("MLP: %s must be a function, got %s"):format(what, type(f)), 3)
    end
  end
  local dtype = U.float_dtype("MLP", a.dtype)
  local key = U.need_key("MLP", a.key, 2)
  local keys = { require("lunox.random").split(key, depth + 1):unpack() }
  local layers = {}
  if depth == 0 then
    layers[1] = M.Linear(in_size, out_size, use_final_bias, dtype, { key = keys[1] })
  else
    layers[1] = M.Linear(in_size, width, use_bias, dtype, { key = keys[1] })
    local hidden = {}
    for i = 1, depth - 1 do
      hidden[i] = M.Linear(width, width, use_bias, dtype, { key = keys[i + 1] })
    end
    if scan and #hidden > 0 then
      layers[2] = stack_layers(hidden)
    else
      for i = 1, #hidden do layers[#layers + 1] = hidden[i] end
    end
    layers[#layers + 1] = M.Linear(width, out_size, use_final_bias, dtype,
      { key = keys[depth + 1] })
  end
  self.layers = layers
  self.activation = activation
  self.final_activation = final_activation
  self.use_bias = use_bias
  self.use_final_bias = use_final_bias
  self.in_size = in_size
  self.out_size = out_size
  self.width_size = width
  self.depth = depth
  self.scan = scan
end

local function apply_linear(w, b, x)
  local y = core.matmul(w, x)
  if b ~= nil then y = y + b end
  return y
end

function MLP:__call(x, opts)
  U.call_opts("MLP", opts)
  local layers = self.layers
  local n = #layers
  for i = 1, n - 1 do
    local layer = layers[i]
    if self.scan and i == 2 and n == 3 then
      -- the stacked hidden layers: one matmul per slice of the leading axis
      local w, b = layer.weight, layer.bias
      for j = 1, w.shape[1] do
        x = self.activation(apply_linear(w[j], b and b[j] or nil, x))
      end
    else
      x = self.activation(layer(x))
    end
  end
  return self.final_activation(layers[n](x))
end

return M
