-- Trick: model surgery. Replace the final layer of an MLP with lx.tree_at.
--
-- Models are immutable pytrees, so "editing" one means building a changed
-- copy. lx.tree_at(where, model, replacement) does that: `where` points at
-- the part to replace (here the last Linear of the MLP), and the result is a
-- new model that shares every untouched array with the old one. The old
-- model is not modified, so both can be used side by side.
--
-- Run from anywhere, under either host:
--   build/lunox scripts/surgery.lua
--   build/lunoxjit scripts/surgery.lua
-- Exits with an error if any of the checks it prints fails.

local lx = require("lunox")
local nn, jr = lx.nn, lx.random

local failures = 0
local function check(ok, what)
  print(("  [%s] %s"):format(ok and "ok" or "FAIL", what))
  if not ok then failures = failures + 1 end
end

local function shape_str(a) return "{" .. table.concat(a.shape, ",") .. "}" end

-- 2 inputs -> two hidden layers of width 4 -> 3 outputs: three Linear layers.
local mlp = nn.MLP(2, 3, 4, 2, { key = jr.PRNGKey(0) })
print("Before surgery:")
print(lx.tree_pformat(mlp))

-- The new head: same shape (so the MLP's static out_size stays true), but
-- freshly initialised and without a bias, which changes the tree structure.
local new_layer = nn.Linear(4, 3, { key = jr.PRNGKey(42), use_bias = false })

-- The trick: one call, `where` picks the node to replace.
local new_mlp = lx.tree_at(function(m) return m.layers[#m.layers] end, mlp, new_layer)

print("\nAfter surgery:")
print(lx.tree_pformat(new_mlp))

local x = lx.array({ 0.5, -1.0 })
local y_old, y_new = mlp(x), new_mlp(x)
print("\nmlp(x)     = " .. tostring(y_old))
print("new_mlp(x) = " .. tostring(y_new))

print("\nChecks:")
check(rawequal(new_mlp.layers[3], new_layer), "the final layer is the new Linear")
check(new_mlp.layers[3].bias == nil, "the new final layer has no bias")
check(#lx.tree.leaves(new_mlp) == #lx.tree.leaves(mlp) - 1,
  ("new_mlp has one leaf fewer (%d vs %d: the dropped bias)"):format(#lx.tree.leaves(new_mlp),
    #lx.tree.leaves(mlp)))
check(rawequal(new_mlp.layers[1].weight, mlp.layers[1].weight)
  and rawequal(new_mlp.layers[2].bias, mlp.layers[2].bias),
  "untouched layers share their arrays with the original (nothing is copied)")
check(mlp.layers[3].bias ~= nil and mlp.layers[3].use_bias == true
  and not rawequal(mlp.layers[3], new_layer), "the original MLP still has its old final layer")
check(lx.tree_equal(mlp(x), y_old), "the original MLP still computes what it did")
check(shape_str(y_new) == "{3}" and not lx.tree_equal(y_new, y_old),
  "new_mlp(x) has shape {3} and differs from mlp(x)")

-- Mutation is refused, and the message points to tree_at.
local ok, err = pcall(function() mlp.layers = {} end)
check(not ok and tostring(err):find("tree_at", 1, true) ~= nil,
  "assigning to a field raises an error that points to lx.tree_at")

if failures > 0 then error(("surgery.lua: %d check(s) failed"):format(failures), 0) end
print("surgery: all checks passed")
