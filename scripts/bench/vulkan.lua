-- Benchmark: the Vulkan backend next to the CPU backend, in the same run.
--   build/lunox scripts/bench/vulkan.lua [device] [max_matmul_size]
-- device defaults to "vulkan" (the first Vulkan device, lavapipe included);
-- max_matmul_size defaults to 8192 on a GPU and 1024 on a CPU driver such as
-- lavapipe, where larger sizes take minutes. Not part of the test suite.
--
-- Prints: matmul GFLOP/s for float32 and float16 (1024 .. 8192), elementwise
-- add bandwidth in GB/s, and the per-dispatch overhead in microseconds, both
-- batched (ops queue up, one sync at the end) and one at a time (a sync after
-- every op), each next to the CPU backend.
local lx = require("lunox")
-- bench_common.lua lives beside this script.
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

local device_name = arg and arg[1] or "vulkan"
local info
for _, d in ipairs(lx.devices()) do
  if d.name == device_name or (device_name == "vulkan" and d.kind == "vulkan" and not info) then
    info = d
  end
end
if not info then
  print("no Vulkan device: " .. tostring(lx.devices().unavailable.vulkan))
  return
end
local dev = info.name
local max_size = tonumber(arg and arg[2]) or (info.is_gpu and 8192 or 1024)

local best_time = bench.best_time

local function try(fn)
  local ok, result = pcall(fn)
  if ok then return result end
  return nil, tostring(result):gsub("\n.*", "")
end

print(string.format("lunox %s Vulkan benchmark on %s: %s (%s), vs cpu: %s", lx.version, dev,
  info.description, info.vendor, lx.devices()[1].description))
print(string.format("%-34s %12s %12s %9s", "", dev, "cpu", "ratio"))

local function row(label, gpu, cpu, unit_fmt, note)
  local g = gpu and string.format(unit_fmt, gpu) or "n/a"
  local c = cpu and string.format(unit_fmt, cpu) or "n/a"
  local r = (gpu and cpu) and string.format("%8.2fx", gpu / cpu) or ""
  print(string.format("%-34s %12s %12s %9s%s", label, g, c, r, note and ("  " .. note) or ""))
end

-- matmul
for _, dtype in ipairs({ "float32", "float16" }) do
  local n = 1024
  while n <= max_size do
    local a = (lx.arange(n * n, dtype == "float16" and "float32" or dtype) / (n * n))
        :astype(dtype):reshape({ n, n })
    local flops = 2 * n * n * n
    local reps = n <= 1024 and 5 or 2
    local ga = a:to(dev)
    local gt, err = try(function() return best_time(reps, function() return lx.matmul(ga, ga) end) end)
    local ct = best_time(reps, function() return lx.matmul(a, a) end)
    row(string.format("matmul %s %d GFLOP/s", dtype, n), gt and flops / gt / 1e9,
      flops / ct / 1e9, "%.1f", err)
    n = n * 2
  end
end

-- elementwise bandwidth: c = a + b reads 2 and writes 1 float32 per element
do
  local n = info.is_gpu and 64 * 1024 * 1024 or 4 * 1024 * 1024
  local a, b = lx.ones({ n }), lx.full({ n }, 2)
  local ga, gb = a:to(dev), b:to(dev)
  local bytes = 3 * 4 * n
  local gt = best_time(5, function() return ga + gb end)
  local ct = best_time(5, function() return a + b end)
  row(string.format("add f32 (%d M elements) GB/s", n // (1024 * 1024)), bytes / gt / 1e9,
    bytes / ct / 1e9, "%.1f")
end

-- per-dispatch overhead on tiny arrays
do
  local iters = 2000
  local x = lx.ones({ 4 })
  local gx = x:to(dev)
  local batched = best_time(3, function()
    local y = gx
    for _ = 1, iters do y = y + 1 end
    return y
  end)
  local single = best_time(1, function()
    local y = gx
    for _ = 1, iters do
      y = y + 1
      lx.sync()
    end
    return y
  end)
  local cpu = best_time(3, function()
    local y = x
    for _ = 1, iters do y = y + 1 end
    return y
  end)
  print(string.format("%-34s %12.2f %12.2f", "dispatch overhead us (batched)", batched / iters * 1e6,
    cpu / iters * 1e6))
  print(string.format("%-34s %12.2f %12s", "dispatch overhead us (sync each)", single / iters * 1e6,
    "-"))
end
