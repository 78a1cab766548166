--- Activation functions, as jax.nn computes them (single examples or
-- batches alike: all elementwise but the softmaxes, which take an axis).
-- @module lunox.nn.activations
local core = require("lunox.core")

local M = {}

local SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
local SQRT_HALF = math.sqrt(0.5)

local function arr(x, fn)
  if core.is_array(x) then return x end
  if type(x) == "number" or type(x) == "table" then return core.array(x) end
  error(fn .. ": expected an array or a number, got " .. type(x), 3)
end

--- max(x, 0).
function M.relu(x)
  return core.maximum(arr(x, "relu"), 0)
end

--- jax.nn.gelu: the tanh approximation unless `approximate` is false (the
-- exact form x/2 (1 + erf(x / sqrt 2))). JAX's default is approximate.
function M.gelu(x, approximate)
  x = arr(x, "gelu")
  if approximate == nil or approximate then
    local cdf = 0.5 * (1 + core.tanh(SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))))
    return x * cdf
  end
  return 0.5 * x * (1 + core.erf(x * SQRT_HALF))
end

--- x * sigmoid(x).
function M.silu(x)
  x = arr(x, "silu")
  return x * core.sigmoid(x)
end
M.swish = M.silu

--- log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
function M.softplus(x)
  x = arr(x, "softplus")
  local t = core.exp(-core.abs(x))
  -- log1p(t) for t in (0, 1] without losing t's digits: with u = 1 + t
  -- rounded, log(u) * t / (u - 1) (Goldberg's correction), and t itself
  -- where u rounds to 1.
  local u = 1 + t
  local log1p = core.where(core.eq(u, 1), t, core.log(u) * t / (u - 1))
  return core.maximum(x, 0) + log1p
end

M.sigmoid = function(x) return core.sigmoid(arr(x, "sigmoid")) end
M.tanh = function(x) return core.tanh(arr(x, "tanh")) end

local function axis_of(x, axis, fn)
  axis = axis or -1
  if type(axis) ~= "number" or axis ~= math.floor(axis) or axis == 0
      or math.abs(axis) > math.max(x.ndim, 1) then
    error(("%s: axis must be a non-zero integer within the array's %d dimensions, got %s")
      :format(fn, x.ndim, tostring(axis)), 3)
  end
  return axis
end

--- x - logsumexp(x) along axis (default -1, the last), as jax.nn.log_softmax.
function M.log_softmax(x, axis)
  x = arr(x, "log_softmax")
  if x.ndim == 0 then return x - x end
  axis = axis_of(x, axis, "log_softmax")
  local shifted = x - core.max(x, axis, true)
  return shifted - core.log(core.sum(core.exp(shifted), axis, true))
end

--- exp(x) / sum(exp(x)) along axis (default -1), as jax.nn.softmax.
function M.softmax(x, axis)
  x = arr(x, "softmax")
  if x.ndim == 0 then return core.exp(x - x) end
  axis = axis_of(x, axis, "softmax")
  local e = core.exp(x - core.max(x, axis, true))
  return e / core.sum(e, axis, true)
end

--- The identity (Equinox's default final activation).
function M.identity(x) return x end

return M
