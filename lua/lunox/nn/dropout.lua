--- Dropout and inference_mode, as equinox.nn.
-- @module lunox.nn.dropout
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local tree = require("lunox.tree")

local M = {}

--- Dropout([p [, inference]] [, {inference = false}]): zeroes each element
-- with probability p and scales the rest by 1 / (1 - p) in training;
-- the identity in inference mode or when p is 0. p and inference are
-- fields (inference_mode flips the latter).
local Dropout = Module:extend("Dropout", { fields = { "p", "inference" } })
M.Dropout = Dropout

function Dropout:init(...)
  local a = U.bind("Dropout", { "p", "inference" }, { p = true, inference = true }, ...)
  local p = a.p == nil and 0.5 or a.p
  if type(p) ~= "number" or p < 0 or p > 1 then
    error(("Dropout: p must be a probability in [0, 1], got %s"):format(tostring(p)), 3)
  end
  self.p = p
  self.inference = U.flag("Dropout", "inference", a.inference, false)
end

--- dropout(x [, {key = k, inference = bool}]): a key is required in training.
function Dropout:__call(x, opts)
  opts = U.call_opts("Dropout", opts, { key = true, inference = true })
  local inference = opts.inference
  if inference == nil then inference = self.inference end
  if self.p == 0 then inference = true end
  if inference then return x end
  if opts.key == nil then
    error("Dropout: a key is required in training mode: call dropout(x, {key = k}), or turn "
      .. "training off with nn.inference_mode(model)", 2)
  end
  local q = 1 - self.p
  -- The key moves to x's device (8 bytes), so a CPU key drives a GPU layer.
  local mask = require("lunox.random").bernoulli(opts.key:to(x.device), q, x.shape)
  return core.where(mask, x / q, core.zeros({}, x.dtype):to(x.device))
end

-- A module whose class declares an `inference` field (Equinox: hasattr).
local function has_inference(x)
  if type(x) ~= "table" or not require("lunox.module").is_module(x) then return false end
  local kinds = rawget(getmetatable(x), "__lx_kind")
  return kinds ~= nil and kinds.inference ~= nil
end

--- inference_mode(tree [, value = true]): a copy of tree with every
-- module's `inference` field set to value (Dropout, BatchNorm, ...).
function M.inference_mode(model, value)
  if value == nil then value = true end
  if type(value) ~= "boolean" then
    error("inference_mode: value must be a boolean, got " .. type(value), 2)
  end
  local function where(m)
    local out = {}
    for _, leaf in ipairs(tree.leaves(m, has_inference)) do
      if has_inference(leaf) then out[#out + 1] = leaf.inference end
    end
    return out
  end
  return require("lunox.tree_at").tree_at(where, model, nil, {
    replace_fn = function() return value end,
  })
end

return M
