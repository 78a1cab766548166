-- Backend parity: every op the Vulkan backend runs is computed on the CPU
-- backend and on Vulkan (lavapipe here) over a grid of dtypes and shapes
-- (empty, scalar, odd sizes, non-contiguous views, broadcasts), and the two
-- are compared with a normalised mean squared error threshold per dtype.
-- ctest runs this file with LUNOX_VULKAN_VALIDATION=1: the Khronos
-- validation layer watches every call, and any message fails the last test.
local lx = require("lunox")

local function vulkan_device()
  for _, d in ipairs(lx.devices()) do
    if d.kind == "vulkan" then return d end
  end
  return nil
end

local vk = vulkan_device()
if not vk then
  describe("vulkan parity", function()
    it("needs a Vulkan device", function()
      pending("no Vulkan device: " .. tostring(lx.devices().unavailable.vulkan))
    end)
  end)
  return
end

local DTYPES = { "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8",
  "uint32", "bool" }
local FLOATS = { float32 = true, float64 = true, float16 = true, bfloat16 = true }
local SIGNED = { int32 = true, int64 = true }
-- NMSE thresholds: floats by precision; integers and bool must match exactly.
local NMSE = { float32 = 1e-10, float64 = 1e-20, float16 = 1e-5, bfloat16 = 1e-4 }

local function supported(dtype)
  if dtype == "float16" or dtype == "bfloat16" then return vk.float16 end
  if dtype == "int64" then return vk.int64 end
  if dtype == "float64" then return vk.float64 end
  return true
end

-- Deterministic values for a dtype (a small LCG, so no PRNG is needed).
local function values(n, dtype, seed, positive)
  local out, state = {}, seed * 7919 + 17
  for i = 1, n do
    state = (state * 1103515245 + 12345) % 2147483648
    local u = state / 2147483648 -- [0, 1)
    if dtype == "bool" then
      out[i] = u < 0.5
    elseif FLOATS[dtype] then
      out[i] = positive and (0.25 + 3 * u) or (6 * u - 3)
    elseif SIGNED[dtype] and not positive then
      out[i] = math.floor(100 * u) - 50
    else
      out[i] = math.floor(100 * u)
    end
  end
  return out
end

local function size_of(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

-- A CPU array of `shape` and `dtype`.
local function make(shape, dtype, seed, positive)
  local flat = values(size_of(shape), dtype, seed, positive)
  local a = lx.array(#flat > 0 and flat or {}, dtype)
  return a:reshape(shape)
end

local function flat_list(a)
  local l = a:reshape({ -1 }):tolist()
  return type(l) == "table" and l or { l }
end

-- Compares a CPU result with a Vulkan one (moved back to the CPU).
local function assert_parity(cpu, gpu, what)
  assert.are.equal("vulkan:0", gpu.device, what)
  local back = gpu:to("cpu")
  assert.are.same(cpu.shape, back.shape, what .. ": shape")
  assert.are.equal(cpu.dtype, back.dtype, what .. ": dtype")
  local x, y = flat_list(cpu), flat_list(back)
  if not FLOATS[cpu.dtype] then
    assert.are.same(x, y, what)
    return
  end
  local err, norm = 0, 0
  for i = 1, #x do
    local p, q = x[i], y[i]
    if p ~= p or q ~= q then
      assert.is_true(p ~= p and q ~= q, what .. ": NaN at " .. i .. " on one backend only")
    elseif p == math.huge or p == -math.huge or q == math.huge or q == -math.huge then
      assert.are.equal(p, q, what .. ": infinity at " .. i)
    else
      err = err + (p - q) ^ 2
      norm = norm + p ^ 2
    end
  end
  local nmse = err / math.max(norm, 1e-30)
  assert.is_true(nmse <= NMSE[cpu.dtype],
    string.format("%s: NMSE %.3g above %.3g", what, nmse, NMSE[cpu.dtype]))
end

-- Operands: shapes and views, as functions of (dtype, seed, positive).
local CASES = {
  { "scalar", function(dt, s, p) return make({}, dt, s, p) end },
  { "empty", function(dt, s, p) return make({ 0 }, dt, s, p) end },
  { "odd 1-D", function(dt, s, p) return make({ 257 }, dt, s, p) end },
  { "3-D", function(dt, s, p) return make({ 2, 3, 5 }, dt, s, p) end },
  { "transposed", function(dt, s, p) return make({ 5, 7 }, dt, s, p).T end },
  { "strided slice", function(dt, s, p) return make({ 6, 9 }, dt, s, p)[{ {}, { 1, -1, 2 } }] end },
  { "reversed", function(dt, s, p) return make({ 11 }, dt, s, p)[{ { -1, 1, -1 } }] end },
}

local UNARY = { "neg", "exp", "log", "sqrt", "abs", "tanh", "sin", "cos", "sigmoid", "logical_not" }
local POSITIVE_ONLY = { log = true, sqrt = true }
local FLOAT64_MISSING = { exp = true, log = true, tanh = true, sin = true, cos = true,
  sigmoid = true }

describe("vulkan parity: unary ops", function()
  for _, dt in ipairs(DTYPES) do
    for _, op in ipairs(UNARY) do
      it(op .. " " .. dt, function()
        if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
        if dt == "bool" and op == "neg" then return end -- an error on both backends
        for _, case in ipairs(CASES) do
          local x = case[2](dt, 1, POSITIVE_ONLY[op])
          local want = lx[op](x)
          if dt == "float64" and FLOAT64_MISSING[op] then
            local ok, err = pcall(lx[op], x:to("vulkan"))
            assert.is_false(ok)
            assert.matches("float64", err)
            return
          end
          assert_parity(want, lx[op](x:to("vulkan")), op .. " " .. dt .. " " .. case[1])
        end
      end)
    end
  end
end)

local BINARY = { "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt",
  "le", "gt", "ge" }

describe("vulkan parity: binary ops with broadcasting", function()
  for _, dt in ipairs(DTYPES) do
    for _, op in ipairs(BINARY) do
      it(op .. " " .. dt, function()
        if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
        if dt == "bool" and (op == "sub" or op == "pow") then return end -- errors on both
        if dt == "float64" and op == "pow" then
          local ok, err = pcall(lx.pow, lx.ones({ 2 }, "float64"):to("vulkan"), 2)
          assert.is_false(ok)
          assert.matches("float64", err)
          return
        end
        -- pow of integers: small non-negative exponents keep values in range.
        local positive = op == "pow"
        local pairs_ = {
          { make({ 3, 4 }, dt, 2, positive), make({ 3, 4 }, dt, 3, positive) },
          { make({ 3, 1 }, dt, 4, positive), make({ 1, 4 }, dt, 5, positive) },
          { make({}, dt, 6, positive), make({ 2, 3, 4 }, dt, 7, positive) },
          { make({ 5, 7 }, dt, 8, positive).T, make({ 7, 5 }, dt, 9, positive) },
          { make({ 0, 3 }, dt, 10, positive), make({ 1, 3 }, dt, 11, positive) },
          { make({ 129 }, dt, 12, positive), make({ 129 }, dt, 13, positive) },
        }
        for k, pr in ipairs(pairs_) do
          local a, b = pr[1], pr[2]
          if op == "pow" and not FLOATS[dt] then b = lx.minimum(b, 4):astype(dt) end
          local want = lx[op](a, b)
          assert_parity(want, lx[op](a:to("vulkan"), b:to("vulkan")),
            op .. " " .. dt .. " pair " .. k)
        end
      end)
    end
  end
end)

describe("vulkan parity: where, astype, creation, joining", function()
  for _, dt in ipairs(DTYPES) do
    it("where " .. dt, function()
      if not supported(dt) then return pending(dt .. " unsupported") end
      local c = make({ 4, 1 }, "bool", 1)
      local x, y = make({ 4, 5 }, dt, 2), make({ 5 }, dt, 3)
      assert_parity(lx.where(c, x, y), lx.where(c:to("vulkan"), x:to("vulkan"), y:to("vulkan")),
        "where " .. dt)
    end)

    it("astype from " .. dt .. " to every dtype", function()
      if not supported(dt) then return pending(dt .. " unsupported") end
      for _, to in ipairs(DTYPES) do
        if supported(to) then
          for _, case in ipairs(CASES) do
            local x = case[2](dt, 4)
            assert_parity(x:astype(to), x:to("vulkan"):astype(to),
              dt .. " -> " .. to .. " " .. case[1])
          end
        end
      end
    end)

    it("zeros, ones, full, arange, copies " .. dt, function()
      if not supported(dt) then return pending(dt .. " unsupported") end
      local on = { dtype = dt, device = "vulkan" }
      assert_parity(lx.zeros({ 3, 5 }, dt), lx.zeros({ 3, 5 }, on), "zeros")
      assert_parity(lx.ones({ 7 }, dt), lx.ones({ 7 }, on), "ones")
      local v = dt == "bool" and true or 3
      assert_parity(lx.full({ 2, 3 }, v, dt), lx.full({ 2, 3 }, v, on), "full")
      if dt ~= "bool" then
        assert_parity(lx.arange(0, 10, 1, dt), lx.arange(0, 10, 1, on), "arange")
      end
      local x = make({ 4, 6 }, dt, 5)
      local g = x:to("vulkan")
      assert_parity(x.T:copy(), g.T:copy(), "transpose copy")
      assert_parity(x[{ { -1, 1, -1 }, { 2, 5 } }]:copy(), g[{ { -1, 1, -1 }, { 2, 5 } }]:copy(),
        "slice copy")
      assert_parity(x.T:reshape({ 24 }), g.T:reshape({ 24 }), "reshape of a view (copies)")
      assert_parity(lx.concatenate({ x, x }, 2), lx.concatenate({ g, g }, 2), "concatenate")
      assert_parity(lx.stack({ x, x }, 1), lx.stack({ g, g }, 1), "stack")
    end)
  end
end)

describe("vulkan backend behaviour", function()
  it("keeps results on the device and reads them back on demand", function()
    local a = lx.array({ 1, 2, 3 }):to("vulkan")
    local b = (a * 2 + 1) / 2
    assert.are.equal("vulkan:0", b.device)
    assert.are.same({ 1.5, 2.5, 3.5 }, b:tolist())
    assert.are.equal(2.5, b[2]:item())
    lx.sync()
  end)

  it("chains many dependent ops across batches", function()
    local x = lx.zeros({ 64 }, { device = "vulkan" })
    for _ = 1, 600 do x = x + 1 end -- several submitted batches
    assert.are.same(lx.full({ 64 }, 600):tolist(), x:tolist())
  end)

  it("refuses arrays on different devices", function()
    local ok, err = pcall(function() return lx.ones({ 2 }) + lx.ones({ 2 }):to("vulkan") end)
    assert.is_false(ok)
    assert.matches("different devices", err)
    assert.matches("cpu", err)
    assert.matches("vulkan:0", err)
  end)

  it("reports out of device memory clearly and keeps working", function()
    local ok, err = pcall(lx.zeros, { 2 ^ 40 }, { device = "vulkan" })
    assert.is_false(ok)
    assert.matches("zeros: vulkan:0: out of device memory allocating 4.0 TiB for float32", err, 1,
      true)
    local g = lx.ones({ 3 }, { device = "vulkan" })
    assert.are.same({ 2, 2, 2 }, (g + 1):tolist())
  end)

  it("describes the device", function()
    assert.are.equal("vulkan", vk.kind)
    assert.is_string(vk.description)
    assert.is_true(vk.memory > 0)
    assert.is_boolean(vk.coopmat)
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", function()
    lx.sync()
    local count, last = lx.vulkan_validation()
    assert.are.equal(0, count, "validation message: " .. tostring(last))
  end)
end)
