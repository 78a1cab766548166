-- Benchmark: float32 ops on the CPU backend next to NumPy (and PyTorch when
-- present), measured in the same run. Not part of the test suite.
--   build/lunox scripts/bench/ops.lua        (or build/lunoxjit)
-- Prints absolute figures and lunox/peer ratios (higher is better for
-- throughput; for per-op overhead lower is better).
local lx = require("lunox")
-- bench_common.lua lives beside this script.
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

local host = jit and "lunoxjit" or "lunox"

local best_time = bench.best_time

local results = {}

for _, n in ipairs({ 256, 1024, 2048 }) do
  local a = (lx.arange(n * n) / (n * n)):reshape({ n, n })
  local b = (lx.arange(n * n) / (n * n)):reshape({ n, n }).T:copy()
  local reps = n <= 256 and 50 or (n <= 1024 and 10 or 5)
  local t = best_time(reps, function() return lx.matmul(a, b) end)
  results["matmul" .. n] = 2 * n * n * n / t / 1e9
end

do
  local n = 10000000
  local a, b = lx.ones({ n }), lx.full({ n }, 2)
  local t = best_time(20, function() return a + b end)
  results.add1e7_ms = t * 1e3
  results.add1e7_gbs = 3 * 4 * n / t / 1e9
end

do
  local a, b = lx.ones({ 4 }), lx.ones({ 4 })
  local iters = 1000000
  local t = best_time(3, function()
    for _ = 1, iters do local _ = a + b end
  end)
  results.overhead_us = t / iters * 1e6
end

-- The peers, in a Python subprocess of the same run.
local peer_script = [[
import time, json
out = {}
def best(reps, fn):
    fn()
    b = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t0)
    return b
try:
    import numpy as np
    for n in (256, 1024, 2048):
        a = (np.arange(n*n, dtype=np.float32) / (n*n)).reshape(n, n)
        b = np.ascontiguousarray(a.T)
        reps = 50 if n <= 256 else (10 if n <= 1024 else 5)
        out["numpy_matmul%d" % n] = 2*n**3 / best(reps, lambda: a @ b) / 1e9
    n = 10**7
    a = np.ones(n, np.float32); b = np.full(n, 2, np.float32)
    t = best(20, lambda: a + b)
    out["numpy_add1e7_ms"] = t * 1e3
    a = np.ones(4, np.float32); b = np.ones(4, np.float32)
    def loop():
        for _ in range(1000000): a + b
    out["numpy_overhead_us"] = best(3, loop) / 1e6 * 1e6
except ImportError:
    pass
try:
    import torch
    torch.set_grad_enabled(False)
    a = torch.ones(4); b = torch.ones(4)
    def tloop():
        for _ in range(200000): a + b
    out["torch_overhead_us"] = best(3, tloop) / 200000 * 1e6
except ImportError:
    pass
for k, v in out.items(): print(k, v)
]]

-- Same BLAS thread count for both (NumPy's OpenBLAS otherwise picks its own,
-- which made its GEMM look slower than it is).
local peers = bench.run_python(peer_script,
  "OPENBLAS_NUM_THREADS=" .. lx.devices()[1].threads .. " ")

local function ratio(x, y, inverse)
  if not x or not y then return "   n/a" end
  return string.format("%6.2fx", inverse and y / x or x / y)
end

print(string.format("lunox %s ops benchmark (%s, CPU backend: %s, %d BLAS threads for both)",
  lx.version, host, lx.devices()[1].description, lx.devices()[1].threads))
print(string.format("%-28s %12s %12s %10s", "", "lunox", "NumPy", "ratio"))
for _, n in ipairs({ 256, 1024, 2048 }) do
  local p = peers["numpy_matmul" .. n]
  print(string.format("%-28s %12.1f %12s %10s", "matmul f32 " .. n .. " GFLOP/s",
    results["matmul" .. n], p and string.format("%.1f", p) or "n/a", ratio(results["matmul" .. n], p)))
end
local pa = peers.numpy_add1e7_ms
print(string.format("%-28s %12.2f %12s %10s", "add 1e7 f32 ms (speed ratio)", results.add1e7_ms,
  pa and string.format("%.2f", pa) or "n/a", ratio(results.add1e7_ms, pa, true)))
print(string.format("%-28s %12.1f", "add 1e7 f32 GB/s", results.add1e7_gbs))
local po = peers.numpy_overhead_us
print(string.format("%-28s %12.3f %12s %10s", "a+b (4 elems) us/op", results.overhead_us,
  po and string.format("%.3f", po) or "n/a", ratio(results.overhead_us, po, true)))
if peers.torch_overhead_us then
  print(string.format("%-28s %12.3f %12.3f %10s", "  vs PyTorch eager us/op", results.overhead_us,
    peers.torch_overhead_us, ratio(results.overhead_us, peers.torch_overhead_us, true)))
else
  print("  (PyTorch not installed: apt-get install python3-torch to compare)")
end
