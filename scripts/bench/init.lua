-- Benchmark: building models, which is mostly drawing random weights.
-- Not part of the test suite.
--   build/lunox scripts/bench/init.lua        (or build/lunoxjit)
-- Goal (issue 6): at most 1x PyTorch's default initialisation of the same
-- shapes, measured in the same run:
--   - nn.MLP(784, 10, 4096, 8): 9 Linear layers, 121 M parameters, uniform
--     init (torch.nn.Linear's default is the same distribution);
--   - 12 x nn.MultiheadAttention(12, 768): 4 projections of 768 x 768 per
--     layer, 28 M parameters (torch.nn.MultiheadAttention(768, 12)).
-- lunox draws JAX's threefry bits (the same weights as Python Equinox);
-- PyTorch draws from its own generator. The random kernels use every core
-- unless LUNOX_NUM_THREADS says otherwise; the last line gives PyTorch's
-- thread count (its uniform_ runs on one).
local lx = require("lunox")
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

local nn, jr = lx.nn, lx.random
local host = jit and "lunoxjit" or "lunox"
local REPS = tonumber(os.getenv("BENCH_REPS") or "3")

local function mlp()
  return nn.MLP(784, 10, 4096, 8, { key = jr.PRNGKey(0) })
end

local function attention_stack()
  local keys = { jr.split(jr.PRNGKey(1), 12):unpack() }
  local layers = {}
  for i = 1, 12 do layers[i] = nn.MultiheadAttention(12, 768, { key = keys[i] }) end
  return layers
end

local results = {}
-- Drop each model before the next timing so memory does not pile up.
results.mlp = bench.best_time(REPS, function() local m = mlp(); m = nil; collectgarbage() end)
if nn.MultiheadAttention then
  results.mha = bench.best_time(REPS, function()
    local m = attention_stack(); m = nil; collectgarbage()
  end)
end

local peers = bench.run_python([[
import time
try:
    import torch
except ImportError:
    raise SystemExit
torch.manual_seed(0)
def best(fn, reps):
    fn()
    b = float("inf")
    for _ in range(reps):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
def mlp():
    sizes = [784] + [4096] * 8 + [10]
    return [torch.nn.Linear(sizes[i], sizes[i + 1]) for i in range(9)]
def mha():
    return [torch.nn.MultiheadAttention(768, 12) for _ in range(12)]
print("mlp", best(mlp, ]] .. REPS .. [[))
print("mha", best(mha, ]] .. REPS .. [[))
print("threads", torch.get_num_threads())
]])

print(("init benchmark (%s, %s; best of %d)"):format(host, lx.devices()[1].description, REPS))
local function row(name, what, lunox_s, torch_s)
  if not lunox_s then
    print(("  %-34s  lunox: not available"):format(what))
    return
  end
  local line = ("  %-34s  lunox %8.1f ms"):format(what, lunox_s * 1e3)
  if torch_s then
    line = line .. ("   torch %8.1f ms   ratio %.2fx"):format(torch_s * 1e3, lunox_s / torch_s)
  else
    line = line .. "   (PyTorch not installed: make bench installs it)"
  end
  print(line)
end
row("mlp", "MLP(784, 10, 4096, 8)", results.mlp, peers.mlp)
row("mha", "12 x MultiheadAttention(12, 768)", results.mha, peers.mha)
if peers.threads then print(("  (torch threads: %d)"):format(peers.threads)) end
print("  ratio = lunox time / PyTorch time; the goal is <= 1.00x")
