--- Embedding and PReLU, with equinox.nn's constructors, fields and
-- initialisation: the same key gives the same embedding table as Python
-- Equinox. Embedding indices are 1-based, as every index in lunox.
-- @module lunox.nn.embedding
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")

local M = {}

--- Embedding([num_embeddings, embedding_size [, weight [, dtype]]] [, {key = k}]):
-- a lookup table `weight` {num_embeddings, embedding_size}, drawn from
-- jax.random.normal(key, ...) unless `weight` is given (then the sizes may
-- be omitted). emb(i) is row i (1-based; negative from the end).
local Embedding = Module:extend("Embedding", {
  fields = { "weight" },
  static = { "num_embeddings", "embedding_size" },
})
M.Embedding = Embedding

function Embedding:init(...)
  local a = U.bind("Embedding", { "num_embeddings", "embedding_size", "weight", "dtype" },
    { num_embeddings = true, embedding_size = true, weight = true, dtype = true }, ...)
  local dtype = U.float_dtype("Embedding", a.dtype)
  local num, size, weight = a.num_embeddings, a.embedding_size, a.weight
  if num ~= nil then num = U.size("Embedding", "num_embeddings", num, 0) end
  if size ~= nil then size = U.size("Embedding", "embedding_size", size, 0) end
  if weight == nil then
    if num == nil or size == nil then
      error("Embedding: give num_embeddings, embedding_size and {key = k}, or the weight "
        .. "directly: nn.Embedding(num_embeddings, embedding_size, {key = k}) or "
        .. "nn.Embedding({weight = w})", 2)
    end
    local key = U.need_key("Embedding", a.key, 2)
    weight = require("lunox.random").normal(key, { num, size }, dtype)
  else
    if not core.is_array(weight) or weight.ndim ~= 2 then
      error(("Embedding: weight must be an array of shape {num_embeddings, embedding_size}, "
        .. "got %s"):format(core.is_array(weight) and U.shape_str(weight.shape)
        or type(weight)), 2)
    end
    local ws = weight.shape
    if (num ~= nil and num ~= ws[1]) or (size ~= nil and size ~= ws[2]) then
      error(("Embedding: weight must have shape {num_embeddings, embedding_size} = {%s,%s}, "
        .. "got %s"):format(tostring(num or ws[1]), tostring(size or ws[2]),
        U.shape_str(ws)), 2)
    end
    num, size = ws[1], ws[2]
  end
  self.weight = weight
  self.num_embeddings = num
  self.embedding_size = size
end

local INT_DTYPES = { int32 = true, int64 = true, uint8 = true, uint16 = true, uint32 = true,
  uint64 = true }

--- emb(i [, {key = k}]): row i of the table, shape {embedding_size}. `i` is
-- a Lua integer or a 0-d integer array, 1-based (negative counts from the
-- end). An index out of range is an error (on Vulkan, an array index out
-- of range gives NaN rows instead, as lx.take).
function Embedding:__call(x, opts)
  local label = ("Embedding(%d, %d)"):format(self.num_embeddings, self.embedding_size)
  U.call_opts(label, opts)
  local n = self.num_embeddings
  if type(x) == "number" then
    if not U.is_int(x) or x == 0 or x > n or x < -n then
      error(("%s: index %s is out of range (valid: 1..%d, or -%d..-1 from the end; "
        .. "indices are 1-based)"):format(label, tostring(x), n, n), 2)
    end
    return self.weight[x]
  end
  if not core.is_array(x) or x.ndim ~= 0 or not INT_DTYPES[x.dtype] then
    error(("%s: the index must be a scalar: a Lua integer or a 0-d integer array, got %s; "
      .. "for many indices at once use lx.take(emb.weight, ids, 1)"):format(label,
      core.is_array(x) and ("an array " .. x.dtype .. U.shape_str(x.shape)) or type(x)), 2)
  end
  return core.take(self.weight, x, 1)
end

--- PReLU([init_alpha = 0.25] [, {dtype}]): x where x >= 0, negative_slope * x
-- elsewhere. `init_alpha` is a number (stored as a 0-d array of `dtype`,
-- float32 by default) or an array broadcasting against the input.
local PReLU = Module:extend("PReLU", { fields = { "negative_slope" } })
M.PReLU = PReLU

function PReLU:init(...)
  local a = U.bind("PReLU", { "init_alpha" }, { init_alpha = true, dtype = true }, ...)
  local alpha = a.init_alpha
  if alpha == nil then alpha = 0.25 end
  local dtype = a.dtype ~= nil and U.float_dtype("PReLU", a.dtype) or nil
  if core.is_array(alpha) then
    self.negative_slope = dtype and alpha:astype(dtype) or alpha
  elseif type(alpha) == "number" then
    self.negative_slope = core.array(alpha, dtype or "float32")
  else
    error(("PReLU: init_alpha must be a number or an array, got %s"):format(
      type(alpha)), 2)
  end
end

local FLOATS = { float32 = true, float64 = true, float16 = true, bfloat16 = true }

function PReLU:__call(x, opts)
  U.call_opts("PReLU", opts)
  if not core.is_array(x) then
    error(("PReLU: the input must be an array, got %s"):format(type(x)), 2)
  end
  local slope = self.negative_slope
  -- Equinox's default slope is a weakly typed scalar: a float input keeps
  -- its dtype. lunox arrays carry no weak type, so a 0-d slope acts as one.
  if slope.ndim == 0 and FLOATS[x.dtype] and FLOATS[slope.dtype] then
    slope = slope:astype(x.dtype)
  end
  return core.where(core.ge(x, 0), x, slope * x)
end

return M
