-- Benchmark: pytree operations over a 10,000-leaf model (an MLP of 5,000
-- Linear layers, each with a weight and a bias). Not part of the test suite.
--   build/lunox scripts/bench/tree.lua        (or build/lunoxjit)
-- Goals (issue 4): flatten + unflatten <= 2 ms and tree_at <= 10 ms.
-- The peer, measured in the same run, is a pytree flatten/unflatten/map in
-- Python over the same structure: torch.utils._pytree when PyTorch is
-- installed, else a minimal pure-Python one (JAX's C++ pytrees are not in
-- Debian; they take about 0.1-0.2 us per node).
local lx = require("lunox")
-- bench_common.lua lives beside this script.
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

local host = jit and "lunoxjit" or "lunox"
local DEPTH = 5000
local HALF = math.floor(DEPTH / 2)

local Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" }, static = { "in_features", "out_features" } })
function Linear:init(i, o)
  self.weight = lx.zeros({ o, i })
  self.bias = lx.zeros({ o })
  self.in_features, self.out_features = i, o
end

local MLP = lx.Module:extend("MLP", { fields = { "layers" }, static = { "activation" } })
function MLP:init(depth)
  local layers = {}
  for i = 1, depth do layers[i] = Linear(2, 2) end
  self.layers = layers
  self.activation = lx.tanh
end

-- Best of `reps` timings of fn() in milliseconds.
local function best_ms(reps, fn) return bench.best_time(reps, fn) * 1e3 end

local model = MLP(DEPTH)
local leaves, treedef = lx.tree.flatten(model)
assert(#leaves == 2 * DEPTH)
local identity = function(x) return x end
local new_layer = Linear(2, 2)

local results = {
  flatten = best_ms(30, function() lx.tree.flatten(model) end),
  unflatten = best_ms(30, function() lx.tree.unflatten(treedef, leaves) end),
  leaves = best_ms(30, function() lx.tree.leaves(model) end),
  map = best_ms(30, function() lx.tree.map(identity, model) end),
  tree_at_layer = best_ms(20, function()
    lx.tree_at(function(m) return m.layers[HALF] end, model, new_layer)
  end),
  tree_at_leaf = best_ms(20, function()
    lx.tree_at(function(m) return m.layers[HALF].weight end, model, new_layer.weight)
  end),
}
results.flatten_unflatten = results.flatten + results.unflatten

local peer_script = [==[
import time
DEPTH = 5000
def best(reps, fn):
    fn()
    b = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t0)
    return b * 1e3
try:
    from torch.utils._pytree import tree_flatten, tree_unflatten, tree_map
    name = "torch.utils._pytree"
except ImportError:
    name = "pure-Python pytree"
    def _flatten(x, out):
        if isinstance(x, list):
            return ("list", [_flatten(c, out) for c in x])
        if isinstance(x, dict):
            keys = sorted(x)
            return ("dict", keys, [_flatten(x[k], out) for k in keys])
        out.append(x)
        return "*"
    def tree_flatten(x):
        out = []
        return out, _flatten(x, out)
    def _unflatten(d, it):
        if d == "*":
            return next(it)
        if d[0] == "list":
            return [_unflatten(c, it) for c in d[1]]
        return {k: _unflatten(c, it) for k, c in zip(d[1], d[2])}
    def tree_unflatten(leaves, d):
        return _unflatten(d, iter(leaves))
    def tree_map(f, x):
        leaves, d = tree_flatten(x)
        return tree_unflatten([f(l) for l in leaves], d)
model = {"layers": [{"weight": object(), "bias": object()} for _ in range(DEPTH)]}
leaves, spec = tree_flatten(model)
out = {
  "flatten": best(30, lambda: tree_flatten(model)),
  "unflatten": best(30, lambda: tree_unflatten(leaves, spec)),
  "map": best(30, lambda: tree_map(lambda x: x, model)),
}
print("name", name.replace(" ", "+"))
for k, v in out.items(): print(k, v)
]==]

local peer = bench.run_python(peer_script)
if peer.flatten and peer.unflatten then peer.flatten_unflatten = peer.flatten + peer.unflatten end

local function ratio(key)
  local x, y = results[key], peer[key]
  if type(x) ~= "number" or type(y) ~= "number" then return "     n/a" end
  return string.format("%7.2fx", y / x)
end

print(string.format("lunox %s pytree benchmark (%s), MLP of %d Linear layers: %d leaves, %d nodes",
  lx.version, host, DEPTH, treedef.num_leaves, treedef.num_nodes))
print(string.format("peer: %s", peer.name and peer.name:gsub("%+", " ") or "none (no python3)"))
print(string.format("%-22s %10s %10s %9s %8s", "operation", "lunox ms", "peer ms", "speedup", "goal"))
local rows = {
  { "flatten", "flatten" }, { "unflatten", "unflatten" },
  { "flatten+unflatten", "flatten_unflatten", 2 }, { "leaves", "leaves" },
  { "tree.map (identity)", "map" },
  { "tree_at (one layer)", "tree_at_layer", 10 }, { "tree_at (one leaf)", "tree_at_leaf", 10 },
}
for _, row in ipairs(rows) do
  local key = row[2]
  local goal = row[3] and string.format("<= %d", row[3]) or ""
  local p = type(peer[key]) == "number" and string.format("%10.3f", peer[key]) or "       n/a"
  print(string.format("%-22s %10.3f %s %s %8s", row[1], results[key], p, ratio(key), goal))
end
