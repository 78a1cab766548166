-- Trick: custom per-parameter behaviour, here symmetric weight matrices.
--
-- Wrap a parameter in a small Module that says how to use it, then resolve
-- the wrappers just before the model runs. Every Linear weight W becomes
-- Symmetric(W); resolve_symmetric replaces each wrapper by 0.5 * (W + W^T),
-- so the model always computes with a symmetric matrix while the stored
-- parameter stays free (this is what torch.nn.utils.parametrize does with
-- hooks; here it is plain data). The wrapping is one lx.tree_at with
-- `replace_fn = Symmetric`: tree_at hands each selected weight to
-- Symmetric, so the class must be constructible as Symmetric(weight).
-- Resolving is one lx.tree.map with `is_leaf = is_symmetric`, so the map
-- sees each wrapper whole instead of descending into it.
--
-- Run from anywhere, under either host:
--   build/lunox scripts/symmetric.lua
--   build/lunoxjit scripts/symmetric.lua
-- Exits with an error if any of the checks it prints fails.

local lx = require("lunox")
local nn, jr = lx.nn, lx.random

local failures = 0
local function check(ok, what)
  print(("  [%s] %s"):format(ok and "ok" or "FAIL", what))
  if not ok then failures = failures + 1 end
end

------------------------------------------------------------ library code

local Symmetric = lx.Module:extend("Symmetric", { fields = { "matrix" } })

function Symmetric:init(matrix) self.matrix = matrix end

--- The symmetric matrix the wrapped parameter stands for.
function Symmetric:get() return (self.matrix + self.matrix.T) * 0.5 end

local function is_symmetric(x)
  return lx.is_module(x) and getmetatable(x) == Symmetric
end

local function maybe_symmetric(x)
  if is_symmetric(x) then return x:get() end
  return x -- everything else is left as it is
end

local function resolve_symmetric(model)
  return lx.tree.map({ maybe_symmetric, is_leaf = is_symmetric }, model)
end

------------------------------------------------------------ user code

local function is_linear(x)
  return lx.is_module(x) and getmetatable(x) == nn.Linear
end

-- Every Linear weight, in tree order (see custom_init.lua).
local function get_weights(m)
  local out = {}
  for _, x in ipairs(lx.tree.leaves(m, is_linear)) do
    if is_linear(x) then out[#out + 1] = x.weight end
  end
  return out
end

-- Square layers only (in == width == out), since only square matrices can
-- be symmetric.
local model = nn.MLP(4, 4, 4, 2, { key = jr.PRNGKey(7) })
local symmetric_model = lx.tree_at(get_weights, model, nil, { replace_fn = Symmetric })

print("Every Linear weight wrapped in Symmetric:")
print(lx.tree_pformat(symmetric_model.layers, { width = 100 }))

local x = lx.array({ 1, -2, 0.5, 3 })

-- The wrappers are not arrays: the model only runs after resolving them.
local ok_raw, err_raw = pcall(symmetric_model, x)
print("\nCalling the unresolved model fails: " .. tostring(err_raw))

local resolved = resolve_symmetric(symmetric_model)
local y = resolved(x)
print("resolve_symmetric(symmetric_model)(x) = " .. tostring(y))
print("first resolved weight:")
print(resolved.layers[1].weight)

print("\nChecks:")
local wrapped, symmetric, derived = true, true, true
local originals = get_weights(model)
for i, layer in ipairs(symmetric_model.layers) do
  if not (is_symmetric(layer.weight) and rawequal(layer.weight.matrix, originals[i])) then
    wrapped = false
  end
  local w = resolved.layers[i].weight
  -- Exact equality: 0.5 * (a + b) and 0.5 * (b + a) are the same float.
  if not (lx.is_array(w) and lx.tree_equal(w, w.T)) then symmetric = false end
  if not lx.tree_equal(w, (originals[i] + originals[i].T) * 0.5) then derived = false end
end
check(#symmetric_model.layers == 3 and wrapped,
  "all 3 weights are Symmetric wrappers around the original matrices")
check(not ok_raw, "the unresolved model cannot be called")
check(symmetric, "every resolved weight equals its transpose")
check(derived, "every resolved weight is 0.5 * (W + W^T) of the original W")
check(not lx.tree_equal(originals[1], originals[1].T), "the original weights were not symmetric")
check(lx.tree.structure(resolved) == lx.tree.structure(model),
  "resolving gives back a plain MLP (same structure as the original)")
check(rawequal(resolved.layers[2].bias, model.layers[2].bias), "biases pass through untouched")
check(lx.is_array(y) and table.concat(y.shape, ",") == "4", "the resolved model runs: y has shape {4}")

-- Asymmetric weights give a different output: resolving really changed the
-- computation.
check(not lx.tree_equal(model(x), y), "its output differs from the unconstrained model's")

if failures > 0 then error(("symmetric.lua: %d check(s) failed"):format(failures), 0) end
print("symmetric: all checks passed")
