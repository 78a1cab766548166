--- MultiheadAttention and the dot-product attention it is built on, as
-- equinox.nn (equinox/nn/_attention.py): the same constructor, fields, key
-- splitting and initialisation, and the same computation (the query scaled
-- by 1/sqrt(qk_size) before the product, masked logits set to the dtype's
-- lowest finite value, the softmax in at least float32, dropout on the
-- attention weights with one key per head).
-- @module lunox.nn.attention
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")
local act = require("lunox.nn.activations")
local dropout_mod = require("lunox.nn.dropout")
local linear_mod = require("lunox.nn.linear")

local M = {}

-- jnp.finfo(dtype).min: what Equinox writes into masked-out logits.
local FINFO_MIN = {
  float32 = -3.4028234663852886e38,
  float64 = -1.7976931348623157e308,
  float16 = -65504.0,
  bfloat16 = -3.3895313892515355e38,
}

-- jnp.result_type(dtype, float32) under standard promotion: the softmax
-- runs in float32 for the half-precision dtypes, in float64 for float64.
local SOFTMAX_DTYPE = { float16 = "float32", bfloat16 = "float32" }

local shape_str = U.shape_str

local function is_plain_table(v)
  return type(v) == "table" and not core.is_array(v) and getmetatable(v) == nil
end

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- The attention weights of every head at once: query {..., q, d},
-- key {..., kv, d}, mask broadcasting to {..., q, kv} (already checked).
local function attention_weights(query, key, mask)
  local d = query.shape[query.ndim]
  -- Equinox scales the query (not the logits); the Python float becomes a
  -- scalar of the query's dtype first, as a Lua number does here.
  query = query / math.sqrt(d)
  local perm = {}
  for i = 1, key.ndim - 2 do perm[i] = i end
  perm[#perm + 1] = key.ndim
  perm[#perm + 1] = key.ndim - 1
  local logits = core.matmul(query, key:transpose(perm))
  if mask ~= nil then
    local fill = FINFO_MIN[logits.dtype]
    if fill == nil then
      error(("dot_product_attention: logits must be floating point, got %s"):format(
        logits.dtype), 3)
    end
    logits = core.where(mask, logits, fill)
  end
  local dtype = logits.dtype
  local sdtype = SOFTMAX_DTYPE[dtype] or dtype
  return act.softmax(logits:astype(sdtype), -1):astype(dtype)
end

local function check_2d(fn, what, x)
  if not core.is_array(x) then
    error(("%s: %s must be an array, got %s"):format(fn, what, type(x)), 4)
  end
  if x.ndim ~= 2 then
    error(("%s: %s must be a 2-D array {seq, size}, got shape %s"):format(fn, what,
      shape_str(x.shape)), 4)
  end
end

local function check_mask(fn, mask, q_seq, kv_seq, num_heads)
  if not core.is_array(mask) then
    error(("%s: mask must be a bool array, got %s"):format(fn, type(mask)), 4)
  end
  if mask.dtype ~= "bool" then
    error(("%s: mask must be a bool array (false hides a position), got %s"):format(fn,
      mask.dtype), 4)
  end
  local s = mask.shape
  if same_shape(s, { q_seq, kv_seq }) then return end
  if num_heads ~= nil and same_shape(s, { num_heads, q_seq, kv_seq }) then return end
  if num_heads ~= nil then
    error(("%s: mask must have shape {query_seq_length, kv_seq_length} = {%d,%d} or "
      .. "{num_heads, query_seq_length, kv_seq_length} = {%d,%d,%d}, got %s"):format(fn,
      q_seq, kv_seq, num_heads, q_seq, kv_seq, shape_str(s)), 4)
  end
  error(("%s: mask must have shape {query_seq_length, kv_seq_length} = {%d,%d}, got %s")
    :format(fn, q_seq, kv_seq, shape_str(s)), 4)
end

--- dot_product_attention_weights(query, key [, mask]): softmax(query key^T /
-- sqrt(d)) for one head; query {q_seq, d}, key {kv_seq, d}, mask a bool
-- {q_seq, kv_seq} (false hides a position). Equinox keeps this in
-- equinox.nn._attention.
function M.dot_product_attention_weights(query, key, mask)
  local fn = "dot_product_attention_weights"
  check_2d(fn, "query", query)
  check_2d(fn, "key", key)
  if query.shape[2] ~= key.shape[2] then
    error(("%s: query and key must have the same size, got shapes %s and %s"):format(fn,
      shape_str(query.shape), shape_str(key.shape)), 2)
  end
  if mask ~= nil then check_mask(fn, mask, query.shape[1], key.shape[1]) end
  return attention_weights(query, key, mask)
end

--- dot_product_attention(query, key_, value [, mask [, dropout]] [, {key = k,
-- inference = bool}]): the weights above times value {kv_seq, v_size};
-- `dropout` (an nn.Dropout, or nil) acts on the weights with the PRNG key
-- `key`. As in Equinox, the second argument is the key *sequence*; the PRNG
-- key goes in the options table.
function M.dot_product_attention(query, key_, value, ...)
  local fn = "dot_product_attention"
  local n = select("#", ...)
  local rest = { ... }
  local opts
  while n > 0 and rest[n] == nil do n = n - 1 end
  if n > 0 and is_plain_table(rest[n]) then
    opts = rest[n]
    n = n - 1
  end
  if n > 2 then error(fn .. ": too many arguments", 2) end
  local mask, dropout
  if n >= 1 then mask = rest[1] end
  if n >= 2 then dropout = rest[2] end
  opts = U.call_opts(fn, opts, { key = true, inference = true })
  check_2d(fn, "query", query)
  check_2d(fn, "key_", key_)
  check_2d(fn, "value", value)
  if query.shape[2] ~= key_.shape[2] then
    error(("%s: query and key_ must have the same size, got shapes %s and %s"):format(fn,
      shape_str(query.shape), shape_str(key_.shape)), 2)
  end
  if key_.shape[1] ~= value.shape[1] then
    error(("%s: key_ and value must be sequences of equal length, got shapes %s and %s")
      :format(fn, shape_str(key_.shape), shape_str(value.shape)), 2)
  end
  if mask ~= nil then check_mask(fn, mask, query.shape[1], key_.shape[1]) end
  local weights = attention_weights(query, key_, mask)
  if dropout ~= nil then
    weights = dropout(weights, { key = opts.key, inference = opts.inference })
  end
  return core.matmul(weights, value)
end

--- MultiheadAttention(num_heads, query_size [, key_size [, value_size [,
-- output_size [, qk_size [, vo_size [, use_query_bias [, use_key_bias [,
-- use_value_bias [, use_output_bias [, dropout_p [, inference [, dtype]]]]]]]]]]]]
-- [, {key = k, ...}]): every parameter after query_size may also go in the
-- options table. Sizes default as Equinox's: key_size, value_size and
-- output_size to query_size, qk_size and vo_size to floor(query_size /
-- num_heads). Four Linear projections from split(key, 4) (query, key, value,
-- output, in that order) and a Dropout(dropout_p, inference).
local MultiheadAttention = Module:extend("MultiheadAttention", {
  fields = { "query_proj", "key_proj", "value_proj", "output_proj", "dropout" },
  static = { "num_heads", "query_size", "key_size", "value_size", "output_size", "qk_size",
    "vo_size", "use_query_bias", "use_key_bias", "use_value_bias", "use_output_bias" },
})
M.MultiheadAttention = MultiheadAttention

local MHA_PARAMS = { "num_heads", "query_size", "key_size", "value_size", "output_size",
  "qk_size", "vo_size", "use_query_bias", "use_key_bias", "use_value_bias", "use_output_bias",
  "dropout_p", "inference", "dtype" }
local MHA_KEYWORDS = {}
for i = 3, #MHA_PARAMS do MHA_KEYWORDS[MHA_PARAMS[i]] = true end

function MultiheadAttention:init(...)
  local cls = "MultiheadAttention"
  local a = U.bind(cls, MHA_PARAMS, MHA_KEYWORDS, ...)
  local num_heads = U.size(cls, "num_heads", a.num_heads)
  local query_size = U.size(cls, "query_size", a.query_size)
  local key_size = U.size(cls, "key_size", a.key_size == nil and query_size or a.key_size)
  local value_size = U.size(cls, "value_size",
    a.value_size == nil and query_size or a.value_size)
  local output_size = U.size(cls, "output_size",
    a.output_size == nil and query_size or a.output_size)
  local per_head = math.floor(query_size / num_heads)
  for _, what in ipairs({ "qk_size", "vo_size" }) do
    if a[what] == nil and per_head < 1 then
      error(("%s: %s defaults to query_size // num_heads = %d // %d = 0; pass %s "
        .. "explicitly or use fewer heads"):format(cls, what, query_size, num_heads, what), 2)
    end
  end
  local qk_size = U.size(cls, "qk_size", a.qk_size == nil and per_head or a.qk_size)
  local vo_size = U.size(cls, "vo_size", a.vo_size == nil and per_head or a.vo_size)
  local use_query_bias = U.flag(cls, "use_query_bias", a.use_query_bias, false)
  local use_key_bias = U.flag(cls, "use_key_bias", a.use_key_bias, false)
  local use_value_bias = U.flag(cls, "use_value_bias", a.use_value_bias, false)
  local use_output_bias = U.flag(cls, "use_output_bias", a.use_output_bias, false)
  local dropout_p = a.dropout_p == nil and 0 or a.dropout_p
  if type(dropout_p) ~= "number" or not (dropout_p >= 0 and dropout_p <= 1) then
    error(("%s: dropout_p must be a probability in [0, 1], got %s"):format(cls,
      tostring(dropout_p)), 2)
  end
  local inference = U.flag(cls, "inference", a.inference, false)
  local dtype = U.float_dtype(cls, a.dtype)
  local key = U.need_key(cls, a.key, 2)
  local qkey, kkey, vkey, okey = require("lunox.random").split(key, 4):unpack()
  local Linear = linear_mod.Linear
  self.query_proj = Linear(query_size, num_heads * qk_size, use_query_bias, dtype,
    { key = qkey })
  self.key_proj = Linear(key_size, num_heads * qk_size, use_key_bias, dtype, { key = kkey })
  self.value_proj = Linear(value_size, num_heads * vo_size, use_value_bias, dtype,
    { key = vkey })
  self.output_proj = Linear(num_heads * vo_size, output_size, use_output_bias, dtype,
    { key = okey })
  self.dropout = dropout_mod.Dropout(dropout_p, inference)
  self.num_heads = num_heads
  self.query_size = query_size
  self.key_size = key_size
  self.value_size = value_size
  self.output_size = output_size
  self.qk_size = qk_size
  self.vo_size = vo_size
  self.use_query_bias = use_query_bias
  self.use_key_bias = use_key_bias
  self.use_value_bias = use_value_bias
  self.use_output_bias = use_output_bias
end

-- jax.vmap(proj)(x) for x {seq, in}: a Linear as one matrix product, any
-- other module (after tree_at surgery) row by row.
local function apply_rows(proj, x)
  if getmetatable(proj) == linear_mod.Linear and proj.in_features ~= "scalar"
      and proj.out_features ~= "scalar" then
    local y = core.matmul(x, proj.weight:transpose())
    if proj.bias ~= nil then y = y + proj.bias end
    return y
  end
  local rows = {}
  for i = 1, x.shape[1] do rows[i] = proj(x[i]) end
  return core.stack(rows, 1)
end

local function label(self)
  return ("MultiheadAttention(num_heads=%d, query_size=%d)"):format(self.num_heads,
    self.query_size)
end

local CALL_OPTS = { key = true, inference = true, deterministic = true, process_heads = true }

--- mha(query, key_, value [, mask] [, {key = k, inference = bool, process_heads = f}]):
-- query {q_seq, query_size}, key_ {kv_seq, key_size}, value {kv_seq,
-- value_size} -> {q_seq, output_size}. NB: as in Equinox, the second
-- argument is the key *sequence*; a PRNG key (for dropout) goes in the
-- options table. mask: a bool {q_seq, kv_seq} or {num_heads, q_seq,
-- kv_seq}, false hiding a position. process_heads(q, k, v) receives the
-- heads {seq, num_heads, size} and returns three arrays of the same shapes.
-- `deterministic` is Equinox's deprecated name of `inference`.
function MultiheadAttention:__call(query, key_, value, ...)
  local fn = label(self)
  local n = select("#", ...)
  local rest = { ... }
  local opts
  while n > 0 and rest[n] == nil do n = n - 1 end
  if n > 0 and is_plain_table(rest[n]) then
    opts = rest[n]
    n = n - 1
  end
  if n > 1 then
    error(fn .. ": expected (query, key_, value [, mask] [, options]), got " .. (n + 3)
      .. " positional arguments", 2)
  end
  local mask
  if n == 1 then mask = rest[1] end
  opts = U.call_opts(fn, opts, CALL_OPTS)
  local inference = opts.inference
  if opts.deterministic ~= nil then inference = opts.deterministic end
  if inference ~= nil and type(inference) ~= "boolean" then
    error(("%s: inference must be a boolean, got %s"):format(fn, type(inference)), 2)
  end

  check_2d(fn, "query", query)
  check_2d(fn, "key_ (the key sequence)", key_)
  check_2d(fn, "value", value)
  local sizes = { { "query", query, self.query_size, "query_size" },
    { "key_", key_, self.key_size, "key_size" },
    { "value", value, self.value_size, "value_size" } }
  for _, s in ipairs(sizes) do
    if s[2].shape[2] ~= s[3] then
      error(("%s: %s must have shape {seq, %d} (%s), got %s"):format(fn, s[1], s[3], s[4],
        shape_str(s[2].shape)), 2)
    end
  end
  local q_seq, kv_seq = query.shape[1], key_.shape[1]
  if kv_seq ~= value.shape[1] then
    error(("%s: key_ and value must both be sequences of equal length, got %d and %d")
      :format(fn, kv_seq, value.shape[1]), 2)
  end
  if kv_seq < 1 then
    error(("%s: key_ and value must hold at least one position, got length 0"):format(fn), 2)
  end
  if mask ~= nil then check_mask(fn, mask, q_seq, kv_seq, self.num_heads) end

  local h = self.num_heads
  -- {seq, h * size} -> {seq, h, size}, sizes spelt out (an empty query
  -- sequence cannot infer a -1).
  local function split_heads(y, seq)
    return y:reshape({ seq, h, math.floor(y.shape[2] / h) })
  end
  local qh = split_heads(apply_rows(self.query_proj, query), q_seq)
  local kh = split_heads(apply_rows(self.key_proj, key_), kv_seq)
  local vh = split_heads(apply_rows(self.value_proj, value), kv_seq)
  if opts.process_heads ~= nil then
    local shapes = { qh.shape, kh.shape, vh.shape }
    qh, kh, vh = opts.process_heads(qh, kh, vh)
    local got = { qh, kh, vh }
    for i, what in ipairs({ "query", "key", "value" }) do
      if not core.is_array(got[i]) or not same_shape(got[i].shape, shapes[i]) then
        error(("%s: process_heads must not change the shape of the heads: %s heads were %s, "
          .. "got %s"):format(fn, what, shape_str(shapes[i]), core.is_array(got[i])
          and shape_str(got[i].shape) or type(got[i])), 2)
      end
    end
  end

  -- Heads first: {h, seq, size}; one batched product for all heads.
  local weights = attention_weights(qh:transpose({ 2, 1, 3 }), kh:transpose({ 2, 1, 3 }), mask)
  local dropout = self.dropout
  local active = dropout ~= nil
  if active and getmetatable(dropout) == dropout_mod.Dropout then
    local inf = inference
    if inf == nil then inf = dropout.inference end
    active = not (inf or dropout.p == 0)
    if active and opts.key == nil then
      error(("%s: dropout (p = %s) is active in training mode and needs a PRNG key: call "
        .. "mha(query, key_, value [, mask], {key = k}), or turn training off with "
        .. "nn.inference_mode(model) or {inference = true}"):format(fn, tostring(dropout.p)), 2)
    end
  end
  if active then
    -- Equinox vmaps the dropout over the heads with split(key, num_heads).
    local keys = opts.key ~= nil and require("lunox.random").split(opts.key, h) or nil
    local per_head = {}
    for i = 1, h do
      per_head[i] = dropout(weights[i], { key = keys and keys[i], inference = inference })
    end
    weights = core.stack(per_head, 1)
  end
  local attn = core.matmul(weights, vh:transpose({ 2, 1, 3 }))   -- {h, q_seq, vo}
  attn = attn:transpose({ 2, 1, 3 }):reshape({ q_seq, h * attn.shape[3] })
  return apply_rows(self.output_proj, attn)
end

return M
