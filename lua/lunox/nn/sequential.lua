--- Sequential and Lambda, as equinox.nn: Sequential splits a call's key
-- over its layers and threads a State through the stateful ones.
-- @module lunox.nn.sequential
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")

local M = {}

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

--- Lambda(fn): a layer that calls fn(x). fn is a (non-array) leaf.
local Lambda = Module:extend("Lambda", { fields = { "fn" } })
M.Lambda = Lambda

function Lambda:init(fn)
  if not callable(fn) then
    error("Lambda: fn must be a function, got " .. type(fn), 3)
  end
  self.fn = fn
end

function Lambda:__call(x, opts)
  U.call_opts("Lambda", opts)
  return self.fn(x)
end

--- Whether a layer takes and returns a State (BatchNorm, Sequentials of
-- them, or any module with an is_stateful method returning true).
local function is_stateful(layer)
  if type(layer) ~= "table" then return false end
  local f = layer.is_stateful
  return type(f) == "function" and f(layer) == true
end
M.is_stateful = is_stateful

--- Sequential(layers): calls each layer on the previous one's output.
local Sequential = Module:extend("Sequential", { fields = { "layers" } })
M.Sequential = Sequential

function Sequential:init(layers)
  if type(layers) ~= "table" or core.is_array(layers) or getmetatable(layers) ~= nil then
    error("Sequential: layers must be a list of layers, got "
      .. (core.is_array(layers) and "an array" or type(layers)), 3)
  end
  local list = {}
  for i = 1, #layers do
    if not callable(layers[i]) then
      error(("Sequential: layer %d is not callable (%s)"):format(i, type(layers[i])), 3)
    end
    list[i] = layers[i]
  end
  self.layers = list
end

function Sequential:is_stateful()
  for _, layer in ipairs(self.layers) do
    if is_stateful(layer) then return true end
  end
  return false
end

local function is_state(v)
  local state = package.loaded["lunox.nn.state"]
  return state ~= nil and state.is_state(v)
end

--- seq(x [, {key = k}]) or seq(x, state [, {key = k}]) -> x [, state].
-- With a key, layer i gets split(key, #layers)[i]; stateful layers get and
-- return the state.
function Sequential:__call(x, a, b)
  local state, opts
  if is_state(a) then state, opts = a, b else opts = a end
  opts = U.call_opts("Sequential", opts)
  local n = #self.layers
  local keys = {}
  if opts.key ~= nil and n > 0 then
    keys = { require("lunox.random").split(opts.key, n):unpack() }
  end
  for i, layer in ipairs(self.layers) do
    local call_opts = keys[i] and { key = keys[i] } or nil
    if state ~= nil and is_stateful(layer) then
      x, state = layer(x, state, call_opts)
    elseif getmetatable(layer) and require("lunox.module").is_module(layer) then
      x = layer(x, call_opts)
    else
      x = layer(x) -- a plain function
    end
  end
  if state ~= nil then return x, state end
  return x
end

return M
