-- Benchmark: lx.conv (float32) on the CPU backend, next to PyTorch's
-- conv when python3 has torch, and next to the ceiling of lunox's own
-- im2col approach: one matmul of the same GEMM shape, measured in the same
-- run. Not part of the test suite.
--   build/lunox scripts/bench/conv.lua        (or build/lunoxjit)
-- Prints milliseconds (best of n), GFLOP/s, and the ratios lunox/peer and
-- lunox/GEMM (throughput: higher is better).
local lx = require("lunox")
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

-- {name, x shape, w shape, opts, torch call}
local CASES = {
  { "2-d 1x64x56x56, 64x64x3x3, pad 1", { 1, 64, 56, 56 }, { 64, 64, 3, 3 }, { padding = 1 },
    "F.conv2d(x, w, padding=1)" },
  { "2-d 8x64x56x56, 64x64x3x3, pad 1", { 8, 64, 56, 56 }, { 64, 64, 3, 3 }, { padding = 1 },
    "F.conv2d(x, w, padding=1)" },
  { "2-d 1x3x224x224, 64x3x7x7, s2 p3", { 1, 3, 224, 224 }, { 64, 3, 7, 7 },
    { stride = 2, padding = 3 }, "F.conv2d(x, w, stride=2, padding=3)" },
  { "2-d 1x256x14x14, 256x256x1x1", { 1, 256, 14, 14 }, { 256, 256, 1, 1 }, {},
    "F.conv2d(x, w)" },
  { "2-d depthwise 1x128x56x56, 3x3", { 1, 128, 56, 56 }, { 128, 1, 3, 3 },
    { padding = 1, groups = 128 }, "F.conv2d(x, w, padding=1, groups=128)" },
  { "1-d 1x64x4096, 64x64x5, pad 2", { 1, 64, 4096 }, { 64, 64, 5 }, { padding = 2 },
    "F.conv1d(x, w, padding=2)" },
  { "3-d 1x16x16x32x32, 32x16x3x3x3", { 1, 16, 16, 32, 32 }, { 32, 16, 3, 3, 3 },
    { padding = 1 }, "F.conv3d(x, w, padding=1)" },
}

local function prod(t, from)
  local p = 1
  for i = from or 1, #t do p = p * t[i] end
  return p
end

local function flops(out, w)
  -- 2 per multiply-add: out elements x (C_in/groups x kernel)
  return 2 * prod(out.shape) * prod(w, 2)
end

-- PyTorch peer (same thread count as OpenBLAS here).
local lines = { "import time, torch", "import torch.nn.functional as F",
  "torch.set_num_threads(" .. lx.devices()[1].threads .. ")",
  "def best(n, f):", "  f(); b = 1e9",
  "  for _ in range(n):", "    t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)",
  "  return b" }
for i, c in ipairs(CASES) do
  lines[#lines + 1] = string.format(
    "x = torch.rand(%s); w = torch.rand(%s); print('case%d', best(10, lambda: %s))",
    table.concat(c[2], ", "), table.concat(c[3], ", "), i, c[5])
end
local peers = bench.run_python(table.concat(lines, "\n") .. "\n")

print(string.format("%-36s %9s %9s %9s %9s %9s", "conv float32 (cpu)", "ms", "GFLOP/s",
  "torch ms", "lx/torch", "lx/GEMM"))
for i, c in ipairs(CASES) do
  local x = lx.arange(prod(c[2])):reshape(c[2]) / prod(c[2])
  local w = lx.arange(prod(c[3])):reshape(c[3]) / prod(c[3])
  local out = lx.conv(x, w, c[4])
  local t = bench.best_time(10, function() return lx.conv(x, w, c[4]) end)
  -- The GEMM the im2col path runs: (C_out/groups) x (C_in/groups * kernel)
  -- times that by output positions, once per example and group.
  local groups = c[4].groups or 1
  local og, rows, P = math.floor(c[3][1] / groups), prod(c[3], 2), prod(out.shape, 3)
  local a, b = lx.ones({ og, rows }), lx.ones({ rows, P })
  local tg = bench.best_time(10, function() return lx.matmul(a, b) end) * c[2][1] * groups
  local p = peers["case" .. i]
  print(string.format("%-36s %9.2f %9.1f %9s %9s %9.2f", c[1], t * 1e3,
    flops(out, c[3]) / t / 1e9, p and string.format("%.2f", p * 1e3) or "n/a",
    p and string.format("%.2f", p / t) or "n/a", tg / t))
end
