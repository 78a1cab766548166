-- Trick: custom parameter initialisation, as a special case of surgery.
--
-- Re-initialise the weight of every Linear layer in an arbitrary model (here
-- a table holding an MLP and a separate Linear head) with a truncated normal
-- of standard deviation sqrt(1 / in_features), cut at +-2 standard
-- deviations. One lx.tree_at call does it: `get_weights` returns the list of
-- all Linear weights, and tree_at swaps in a list of new arrays, one per
-- weight, in the same order. No layer needs a `weight_init=` argument
-- threaded through its constructor, however deep it sits in the model.
--
-- Run from anywhere, under either host:
--   build/lunox scripts/custom_init.lua
--   build/lunoxjit scripts/custom_init.lua
-- Exits with an error if any of the checks it prints fails.
--
-- This is the flow of Equinox's "Tricks" page (custom initialisation), with
-- jax.random.truncated_normal as lx.random.truncated_normal: the same key
-- gives the same new weights as the Python version.

local lx = require("lunox")
local nn, jr = lx.nn, lx.random

local failures = 0
local function check(ok, what)
  print(("  [%s] %s"):format(ok and "ok" or "FAIL", what))
  if not ok then failures = failures + 1 end
end

local function shape_str(a) return "{" .. table.concat(a.shape, ",") .. "}" end

local function is_linear(x)
  return lx.is_module(x) and getmetatable(x) == nn.Linear
end

-- Every Linear weight, in tree order. `is_linear` as is_leaf makes the
-- flattening stop at each Linear, so its weight can be picked by name.
-- tree_at calls this on the model and on a structure-only copy of it, so it
-- must only look at the structure, never at array values.
local function get_weights(m)
  local out = {}
  for _, x in ipairs(lx.tree.leaves(m, is_linear)) do
    if is_linear(x) then out[#out + 1] = x.weight end
  end
  return out
end

-- stddev * truncated_normal(-2, 2): samples within +-2 stddev.
local function trunc_init(weight, key)
  local out_features, in_features = weight.shape[1], weight.shape[2]
  local stddev = math.sqrt(1 / in_features)
  return stddev * jr.truncated_normal(key, -2, 2, { out_features, in_features })
end

local function init_linear_weight(model, init_fn, key)
  local weights = get_weights(model)
  local keys = { jr.split(key, #weights):unpack() }
  local new_weights = {}
  for i, w in ipairs(weights) do new_weights[i] = init_fn(w, keys[i]) end
  return lx.tree_at(get_weights, model, new_weights)
end

-- Any pytree will do: a plain table holding an MLP (3 Linear layers) and a
-- Linear head (4 Linear layers in all).
local model = {
  mlp = nn.MLP(3, 8, 8, 2, { key = jr.PRNGKey(1) }),
  head = nn.Linear(8, 2, { key = jr.PRNGKey(2) }),
}
local new_model = init_linear_weight(model, trunc_init, jr.PRNGKey(1234))

local old_w, new_w = get_weights(model), get_weights(new_model)
print(("Re-initialised %d Linear weights (in tree order: head, then mlp.layers):"):format(#new_w))
-- A normal truncated at +-2 has about 0.88 times the untruncated spread.
print("  shape     stddev    old max|w|  new max|w|  new std (expect ~0.88 stddev)")
local changed, shapes_kept, within = true, true, true
for i = 1, #new_w do
  local a, b = old_w[i], new_w[i]
  local stddev = math.sqrt(1 / a.shape[2])
  -- The bound as a float32, as the array holds it: stddev * x with |x| < 2
  -- rounds to at most fl32(2 * stddev), never above it.
  local bound = lx.array(2 * stddev):item()
  local old_max, new_max = lx.max(lx.abs(a)):item(), lx.max(lx.abs(b)):item()
  local std = lx.sqrt(lx.mean(b * b)):item()
  print(("  %-8s  %.4f    %.4f      %.4f      %.4f"):format(shape_str(b), stddev, old_max,
    new_max, std))
  if lx.tree_equal(a, b) then changed = false end
  if shape_str(a) ~= shape_str(b) or b.dtype ~= a.dtype then shapes_kept = false end
  if not (new_max <= bound) then within = false end
end

print("\nChecks:")
check(#new_w == 4, "get_weights finds all 4 Linear weights (3 in the MLP, 1 in the head)")
check(changed, "every weight changed")
check(shapes_kept, "every weight kept its shape and dtype")
check(within, "every new weight lies within +-2 * stddev, stddev = sqrt(1 / in_features)")
check(lx.tree.structure(new_model) == lx.tree.structure(model),
  "the model's structure is unchanged")
check(rawequal(new_model.head.bias, model.head.bias)
  and rawequal(new_model.mlp.layers[2].bias, model.mlp.layers[2].bias),
  "biases are untouched (the very same arrays)")
check(lx.tree_equal(get_weights(model), old_w), "the original model keeps its old weights")

local x = lx.array({ 1, 0.5, -0.25 })
local y = new_model.head(new_model.mlp(x))
print("\nhead(mlp(x)) with the new weights = " .. tostring(y))
check(shape_str(y) == "{2}", "the re-initialised model runs")

if failures > 0 then error(("custom_init.lua: %d check(s) failed"):format(failures), 0) end
print("custom_init: all checks passed")
