--- toy_nn: the small Linear and MLP the trick scripts operate on, plus a
-- seeded sampler to initialise them.
--
-- The tricks in this folder (surgery.lua, custom_init.lua, symmetric.lua)
-- show Equinox-style model surgery with lx.tree_at. They need *some* model
-- with Linear layers; lx.nn does not exist yet, so this file defines a
-- minimal one with Equinox's field layout and constructor conventions:
--
--   Linear(in_features, out_features, {key = seed [, use_bias = true]})
--   MLP(in_size, out_size, width_size, depth, {key = seed [, activation,
--       final_activation, use_bias, use_final_bias]})
--
-- THE SAMPLER IS A STAND-IN. lx.random (issue 6) will give JAX-compatible
-- threefry keys and jr.normal / jr.truncated_normal; until it lands, this
-- file draws numbers from a small pure-Lua generator (L'Ecuyer's combined
-- LCG, seeded through a 32-bit hash) so that different layers get
-- different, reproducible weights. A "key" here is a plain integer seed in
-- [0, 2^32). The tricks themselves depend only on lx.tree_at and lx.tree,
-- never on how the numbers were drawn: swapping in lx.random later changes
-- values, not code paths.
--
-- Everything is portable between Lua 5.4 and LuaJIT 2.1: the generator uses
-- only arithmetic on doubles below 2^53 (exact on both), no bit operators
-- (whose syntax differs between the two), so both hosts draw the same
-- numbers.
local lx = require("lunox")

local M = {}

local floor, sqrt, log, cos, sin, exp = math.floor, math.sqrt, math.log, math.cos, math.sin,
  math.exp
local HUGE, PI = math.huge, math.pi

---------------------------------------------------------------- seeding

-- 32-bit unsigned arithmetic emulated on doubles. Only the seed hash needs
-- it (a few dozen operations per generator), so the bit-by-bit xor is cheap.
local TWO32, TWO16 = 4294967296, 65536

local function bxor32(a, b)
  local r, p = 0, 1
  for _ = 1, 32 do
    local ra, rb = a % 2, b % 2
    if ra ~= rb then r = r + p end
    a, b, p = (a - ra) / 2, (b - rb) / 2, p * 2
  end
  return r
end

local function shr32(a, n) return floor(a / 2 ^ n) end

-- (a * b) mod 2^32 from 16-bit halves: every partial product is < 2^33.
local function mul32(a, b)
  local alo, blo = a % TWO16, b % TWO16
  local ahi, bhi = (a - alo) / TWO16, (b - blo) / TWO16
  return (((ahi * blo + alo * bhi) % TWO16) * TWO16 + alo * blo) % TWO32
end

-- MurmurHash3's finaliser: a bijection of 32-bit words that mixes every
-- input bit into every output bit. The LCGs below are linear in their
-- seed, so without it seeds k and k+1 would give visibly related streams.
local function fmix32(h)
  h = bxor32(h, shr32(h, 16))
  h = mul32(h, 0x85ebca6b)
  h = bxor32(h, shr32(h, 13))
  h = mul32(h, 0xc2b2ae35)
  return bxor32(h, shr32(h, 16))
end

local function check_seed(fn, seed)
  if type(seed) ~= "number" or seed ~= floor(seed) or seed < 0 or seed >= TWO32 then
    error(("toy_nn.%s: the seed must be an integer in [0, 2^32), got %s"):format(fn,
      tostring(seed)), 3)
  end
end

---------------------------------------------------------------- generator

-- L'Ecuyer (1988) combined multiplicative LCGs, as in Numerical Recipes'
-- ran2 without the shuffle table. Products stay below 40692 * 2^31 < 2^47,
-- so every step is exact in doubles (and in Lua 5.4 integers alike).
local M1, A1 = 2147483563, 40014
local M2, A2 = 2147483399, 40692

local Generator = {}
Generator.__index = Generator

--- A generator object for seed: g:uniform() in (0, 1), g:normal().
function M.prng(seed)
  check_seed("prng", seed)
  -- + 0.0 keeps the state a float on Lua 5.4 too (no int/float mixing).
  local g = setmetatable({
    s1 = 1 + fmix32(seed) % (M1 - 1) + 0.0,
    s2 = 1 + fmix32((seed + 0x9e3779b9) % TWO32) % (M2 - 1) + 0.0,
  }, Generator)
  for _ = 1, 4 do g:uniform() end
  return g
end

--- A uniform number in the open interval (0, 1), resolution about 2^-31.
function Generator:uniform()
  local s1, s2 = A1 * self.s1 % M1, A2 * self.s2 % M2
  self.s1, self.s2 = s1, s2
  local z = s1 - s2
  if z < 1 then z = z + (M1 - 1) end
  return z / M1
end

--- A standard normal number (Box–Muller; the second value of each pair is
-- kept for the next call). u1 is never 0, so log(u1) is finite.
function Generator:normal()
  local cached = self.spare
  if cached then
    self.spare = nil
    return cached
  end
  local r = sqrt(-2 * log(self:uniform()))
  local t = 2 * PI * self:uniform()
  self.spare = r * sin(t)
  return r * cos(t)
end

--- n fresh seeds drawn from seed (the stand-in for jr.split).
function M.split(seed, n)
  check_seed("split", seed)
  local g, out = M.prng(seed), {}
  for i = 1, n do out[i] = floor(g:uniform() * TWO32) end
  return out
end

---------------------------------------------------------------- arrays

local function size_of(fn, shape)
  if type(shape) ~= "table" then
    error(("toy_nn.%s: shape must be a list of sizes, got %s"):format(fn, type(shape)), 3)
  end
  local size = 1
  for i = 1, #shape do
    local d = shape[i]
    if type(d) ~= "number" or d ~= floor(d) or d < 0 then
      error(("toy_nn.%s: shape[%d] must be a non-negative integer, got %s"):format(fn, i,
        tostring(d)), 3)
    end
    size = size * d
  end
  return size
end

-- A float32 array of `shape` holding draw() called size times.
local function fill(shape, size, draw)
  if size == 0 then return lx.zeros(shape) end
  local flat = {}
  for i = 1, size do flat[i] = draw() end
  if #shape == 0 then return lx.array(flat[1], "float32") end
  local a = lx.array(flat, "float32")
  if #shape == 1 then return a end
  return a:reshape(shape)
end

local function check_bounds(fn, lower, upper)
  if type(lower) ~= "number" or type(upper) ~= "number" or not (lower < upper) then
    error(("toy_nn.%s: need numbers lower < upper, got %s and %s"):format(fn, tostring(lower),
      tostring(upper)), 3)
  end
end

--- Uniform samples in [lower, upper), float32.
function M.uniform(shape, lower, upper, seed)
  local size = size_of("uniform", shape)
  check_bounds("uniform", lower, upper)
  check_seed("uniform", seed)
  if lower == -HUGE or upper == HUGE then
    error("toy_nn.uniform: the bounds must be finite", 2)
  end
  local g = M.prng(seed)
  return fill(shape, size, function() return lower + (upper - lower) * g:uniform() end)
end

--- Standard normal samples, float32.
function M.normal(shape, seed)
  local size = size_of("normal", shape)
  check_seed("normal", seed)
  local g = M.prng(seed)
  return fill(shape, size, function() return g:normal() end)
end

-- How far inside a bound a sample must be: float32 rounding of a double
-- within about 2^-24 * |b| of b can land on b itself, and the interval is
-- meant to be open (as JAX's truncated_normal is).
local function margin(b)
  if b == HUGE or b == -HUGE then return 0 end
  return (b < 0 and -b or b) * 2 ^ -22
end

--- Standard normal samples conditioned on lower < x < upper (bounds may be
-- +-math.huge), float32. Exact rejection sampling; the proposal is chosen
-- so acceptance stays reasonable wherever the interval lies:
--   * narrow finite intervals (width <= 2): uniform proposals, accepted with
--     probability exp((m^2 - x^2) / 2), m the point of the interval nearest 0;
--   * wide intervals on one side of 0: Robert's (1995) exponential proposals;
--   * wide intervals around 0: plain normal proposals.
function M.truncated_normal(shape, lower, upper, seed)
  local size = size_of("truncated_normal", shape)
  check_bounds("truncated_normal", lower, upper)
  check_seed("truncated_normal", seed)
  local g = M.prng(seed)
  local lo, hi = lower + margin(lower), upper - margin(upper)

  local propose
  if upper - lower <= 2 then
    local m = (lower > 0 and lower) or (upper < 0 and upper) or 0
    propose = function()
      local x = lower + (upper - lower) * g:uniform()
      if g:uniform() <= exp((m * m - x * x) / 2) then return x end
    end
  elseif lower >= 0 or upper <= 0 then
    -- Sample the positive tail [a, b] and mirror it when the interval is
    -- on the negative side.
    local sign = lower >= 0 and 1 or -1
    local a, b = lower, upper
    if sign < 0 then a, b = -upper, -lower end
    local lambda = (a + sqrt(a * a + 4)) / 2
    propose = function()
      local x = a - log(g:uniform()) / lambda
      if x < b and g:uniform() <= exp(-(x - lambda) ^ 2 / 2) then return sign * x end
    end
  else
    propose = function() return g:normal() end
  end

  local budget = 1000000 -- per sample; only absurdly thin intervals reach it
  return fill(shape, size, function()
    for _ = 1, budget do
      local x = propose()
      if x and x > lo and x < hi then return x end
    end
    error(("toy_nn.truncated_normal: no sample in (%s, %s) after %d tries; the interval is "
      .. "too thin for this stand-in sampler"):format(tostring(lower), tostring(upper), budget), 4)
  end)
end

---------------------------------------------------------------- layers

local function check_size(fn, what, v)
  if type(v) ~= "number" or v ~= floor(v) or v < 1 then
    error(("toy_nn.%s: %s must be a positive integer, got %s"):format(fn, what, tostring(v)), 4)
  end
end

-- Rejects misspelt options, which would otherwise fall back to defaults
-- without a word.
local function check_opts(fn, opts, allowed)
  if type(opts) ~= "table" then
    error(("toy_nn.%s: the last argument must be an options table with a key, got %s"):format(
      fn, type(opts)), 4)
  end
  for k in pairs(opts) do
    if not allowed[k] then
      error(("toy_nn.%s: unknown option '%s'"):format(fn, tostring(k)), 4)
    end
  end
  local key = opts.key
  if type(key) ~= "number" or key ~= floor(key) or key < 0 or key >= TWO32 then
    error(("toy_nn.%s: opts.key must be an integer seed in [0, 2^32) (a key is required, "
      .. "as in Equinox), got %s"):format(fn, tostring(key)), 4)
  end
end

--- relu(x) = max(x, 0): MLP's default activation, as in Equinox.
function M.relu(x) return lx.maximum(x, 0) end

--- The identity: MLP's default final activation.
function M.identity(x) return x end

--- y = weight @ x + bias, for x of shape {in_features}.
M.Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" },
  static = { "in_features", "out_features", "use_bias" },
})
local Linear = M.Linear

local LINEAR_OPTS = { key = true, use_bias = true }

-- Weights and bias start uniform in [-1/sqrt(in), 1/sqrt(in)), Equinox's
-- (and PyTorch's) default, each from its own seed split off `key`.
function Linear:init(in_features, out_features, opts)
  check_size("Linear", "in_features", in_features)
  check_size("Linear", "out_features", out_features)
  check_opts("Linear", opts, LINEAR_OPTS)
  local use_bias = opts.use_bias ~= false
  local wkey, bkey = (table.unpack or unpack)(M.split(opts.key, 2))
  local lim = 1 / sqrt(in_features)
  self.weight = M.uniform({ out_features, in_features }, -lim, lim, wkey)
  -- nil is an empty subtree: a bias-free Linear has no bias leaf at all.
  self.bias = use_bias and M.uniform({ out_features }, -lim, lim, bkey) or nil
  self.in_features, self.out_features, self.use_bias = in_features, out_features, use_bias
end

function Linear:__call(x)
  local y = lx.matmul(self.weight, x)
  if self.bias ~= nil then y = y + self.bias end
  return y
end

--- True for Linear instances (the is_leaf the tricks use to stop at layers).
function M.is_linear(x)
  return lx.is_module(x) and getmetatable(x) == Linear
end

--- A multi-layer perceptron with Equinox's meaning of depth: `depth` hidden
-- layers of width `width_size`, hence depth + 1 Linear layers (depth = 0 is
-- a single Linear from in_size to out_size).
M.MLP = lx.Module:extend("MLP", {
  fields = { "layers" },
  static = { "activation", "final_activation", "in_size", "out_size", "width_size", "depth",
    "use_bias", "use_final_bias" },
})
local MLP = M.MLP

local MLP_OPTS = { key = true, activation = true, final_activation = true, use_bias = true,
  use_final_bias = true }

function MLP:init(in_size, out_size, width_size, depth, opts)
  check_size("MLP", "in_size", in_size)
  check_size("MLP", "out_size", out_size)
  check_size("MLP", "width_size", width_size)
  if type(depth) ~= "number" or depth ~= floor(depth) or depth < 0 then
    error(("toy_nn.MLP: depth must be a non-negative integer, got %s"):format(tostring(depth)), 3)
  end
  check_opts("MLP", opts, MLP_OPTS)
  local use_bias, use_final_bias = opts.use_bias ~= false, opts.use_final_bias ~= false
  local keys = M.split(opts.key, depth + 1)
  local layers = {}
  for i = 1, depth + 1 do
    local n_in = i == 1 and in_size or width_size
    local n_out = i == depth + 1 and out_size or width_size
    local bias = use_bias
    if i == depth + 1 then bias = use_final_bias end
    layers[i] = Linear(n_in, n_out, { key = keys[i], use_bias = bias })
  end
  self.layers = layers
  self.activation = opts.activation or M.relu
  self.final_activation = opts.final_activation or M.identity
  self.in_size, self.out_size, self.width_size, self.depth = in_size, out_size, width_size, depth
  self.use_bias, self.use_final_bias = use_bias, use_final_bias
end

function MLP:__call(x)
  local layers = self.layers
  for i = 1, #layers - 1 do x = self.activation(layers[i](x)) end
  return self.final_activation(layers[#layers](x))
end

return M
