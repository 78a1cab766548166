--- Shared pieces of the Vulkan parity specs: the device, the dtype grid,
-- deterministic test values, and the CPU-vs-Vulkan comparison.
local lx = require("lunox")
-- busted's `assert` is a global of each spec file, not of modules.
local assert = require("luassert")

local M = {}

--- The first Vulkan device's lx.devices() entry, or nil.
function M.device()
  for _, d in ipairs(lx.devices()) do
    if d.kind == "vulkan" then return d end
  end
  return nil
end

--- Registers a pending test and returns true when there is no Vulkan device.
-- The spec passes busted's describe/it/pending (globals of spec files only).
function M.skip_without_device(title, describe, it, pending)
  if M.device() then return false end
  describe(title, function()
    it("needs a Vulkan device", function()
      pending("no Vulkan device: " .. tostring(lx.devices().unavailable.vulkan))
    end)
  end)
  return true
end

M.DTYPES = { "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "uint32",
  "bool", "uint16", "uint64" }
M.FLOATS = { float32 = true, float64 = true, float16 = true, bfloat16 = true }
M.SIGNED = { int32 = true, int64 = true }
-- NMSE thresholds: floats by precision; integers and bool must match exactly.
M.NMSE = { float32 = 1e-10, float64 = 1e-20, float16 = 1e-5, bfloat16 = 1e-4 }

--- Whether the Vulkan device can hold arrays of `dtype`.
function M.supported(dtype)
  local vk = M.device()
  if dtype == "float16" or dtype == "bfloat16" then return vk.float16 end
  if dtype == "int64" or dtype == "uint64" then return vk.int64 end
  -- uint16 needs only 16-bit storage, which lx.devices() does not list on
  -- its own; float16 (shaderFloat16 and 16-bit storage) implies it.
  if dtype == "uint16" then return vk.float16 end
  if dtype == "float64" then return vk.float64 end
  return true
end

--- n deterministic values of `dtype` (a small LCG, so no PRNG is needed);
-- `positive` keeps floats in [0.25, 3.25) and integers non-negative.
-- Integers repeat often, so the arg ops meet ties.
function M.values(n, dtype, seed, positive)
  local out, state = {}, seed * 7919 + 17
  for i = 1, n do
    state = (state * 1103515245 + 12345) % 2147483648
    local u = state / 2147483648 -- [0, 1)
    if dtype == "bool" then
      out[i] = u < 0.5
    elseif M.FLOATS[dtype] then
      out[i] = positive and (0.25 + 3 * u) or (6 * u - 3)
    elseif M.SIGNED[dtype] and not positive then
      out[i] = math.floor(100 * u) - 50
    else
      out[i] = math.floor(100 * u)
    end
  end
  return out
end

--- A CPU array of `shape` and `dtype` filled with M.values.
function M.make(shape, dtype, seed, positive)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  local flat = M.values(n, dtype, seed or 1, positive)
  return lx.array(#flat > 0 and flat or {}, dtype):reshape(shape)
end

local function flat_list(a)
  local l = a:reshape({ -1 }):tolist()
  return type(l) == "table" and l or { l }
end

--- Asserts that a Vulkan result (moved back to the CPU) matches the CPU's:
-- same shape and dtype, NaN and infinities in the same places, and an NMSE
-- within the dtype's threshold (exact equality for integers and bool).
function M.assert_parity(cpu, gpu, what)
  assert.are.equal("vulkan:0", gpu.device, what)
  local back = gpu:to("cpu")
  assert.are.same(cpu.shape, back.shape, what .. ": shape")
  assert.are.equal(cpu.dtype, back.dtype, what .. ": dtype")
  -- uint64 from 2^63 up reaches Lua as a rounded number: compare in lunox.
  if cpu.dtype == "uint64" then
    assert.are.equal(cpu.size, lx.sum(lx.eq(cpu, back)):item(), what)
    return
  end
  local x, y = flat_list(cpu), flat_list(back)
  if not M.FLOATS[cpu.dtype] then
    assert.are.same(x, y, what)
    return
  end
  local err, norm, inf = 0, 0, math.huge
  for i = 1, #x do
    local p, q = x[i], y[i]
    if p ~= p or q ~= q then
      assert.is_true(p ~= p and q ~= q, what .. ": NaN at " .. i .. " on one backend only")
    elseif p == inf or p == -inf or q == inf or q == -inf then
      assert.are.equal(p, q, what .. ": infinity at " .. i)
    else
      err = err + (p - q) ^ 2
      norm = norm + p ^ 2
    end
  end
  local nmse = err / math.max(norm, 1e-30)
  assert.is_true(nmse <= M.NMSE[cpu.dtype],
    string.format("%s: NMSE %.3g above %.3g", what, nmse, M.NMSE[cpu.dtype]))
end

-- The spacing of doubles at |v| (subnormal spacing below 2^-1022).
local function ulp64(v)
  local m = math.abs(v)
  if m < 2 ^ -1022 then return 2 ^ -1074 end
  local e = math.floor(math.log(m, 2))
  if 2 ^ e > m then e = e - 1 elseif 2 ^ (e + 1) <= m then e = e + 1 end
  return 2 ^ (e - 52)
end

--- Asserts that float64 results agree element by element within `ulps`
-- units in the last place of the CPU's value: NaN where the CPU has NaN,
-- infinities and zeros (with their signs) where it has them. Returns the
-- largest distance seen, in ulps.
function M.assert_ulps64(cpu, gpu, ulps, what)
  assert.are.equal("float64", cpu.dtype, what)
  local x, y = flat_list(cpu), flat_list(gpu:to("cpu"))
  assert.are.equal(#x, #y, what .. ": size")
  local worst = 0
  for i = 1, #x do
    local p, q = x[i], y[i]
    local where = ("%s: element %d: cpu %.17g, vulkan %.17g"):format(what, i, p, q)
    if p ~= p then
      assert.is_true(q ~= q, where)
    elseif p == 0 or p == math.huge or p == -math.huge then
      assert.is_true(p == q and 1 / p == 1 / q, where)
    else
      assert.is_true(q == q, where)
      local d = math.abs(p - q) / ulp64(p)
      assert.is_true(d <= ulps, where .. (" (%.3g ulps)"):format(d))
      if d > worst then worst = d end
    end
  end
  return worst
end

--- Asserts that the Khronos validation layer has reported nothing.
function M.assert_validation_silent()
  lx.sync()
  local count, last = lx.vulkan_validation()
  assert.are.equal(0, count, "validation message: " .. tostring(last))
end

return M
