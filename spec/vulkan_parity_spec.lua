-- Backend parity: every op the Vulkan backend runs is computed on the CPU
-- backend and on Vulkan (lavapipe here) over a grid of dtypes and shapes
-- (empty, scalar, odd sizes, non-contiguous views, broadcasts), and the two
-- are compared with a normalised mean squared error threshold per dtype.
-- ctest runs this file with LUNOX_VULKAN_VALIDATION=1: the Khronos
-- validation layer watches every call, and any message fails the last test.
local lx = require("lunox")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan parity", describe, it, pending) then return end

local vk = V.device()
local DTYPES, FLOATS = V.DTYPES, V.FLOATS
local supported, make, assert_parity = V.supported, V.make, V.assert_parity

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

describe("vulkan parity: unary ops", function()
  for _, dt in ipairs(DTYPES) do
    for _, op in ipairs(UNARY) do
      it(op .. " " .. dt, function()
        if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
        if dt == "bool" and op == "neg" then return end -- an error on both backends
        for _, case in ipairs(CASES) do
          local x = case[2](dt, 1, POSITIVE_ONLY[op])
          local want = lx[op](x)
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

-- float64 transcendental functions (shaders/fmath64.glsl) against glibc,
-- element by element in ulps, over dense grids and the edge values of C99.
describe("vulkan parity: float64 math within a few ulps of the CPU", function()
  if not supported("float64") then
    it("float64", function() pending("float64 unsupported on " .. vk.description) end)
    return
  end
  local inf, nan = math.huge, 0 / 0
  local EDGES = { 0, -0.0, inf, -inf, nan, 2 ^ -1074, -2 ^ -1074, 2 ^ -1022, 2 ^ -1000,
    1e-300, 2 ^ -30, -2 ^ -30, 0.5, 1, -1, 2, 1 + 2 ^ -52, 1 - 2 ^ -53, 1e300,
    1.7976931348623157e308, -1.7976931348623157e308 }
  -- n points spaced evenly over [a, b], the edges and `extra` appended.
  local function grid(a, b, n, extra)
    local v = {}
    for i = 0, n - 1 do v[#v + 1] = a + (b - a) * i / (n - 1) end
    for _, e in ipairs(EDGES) do v[#v + 1] = e end
    for _, e in ipairs(extra or {}) do v[#v + 1] = e end
    return v
  end
  -- Magnitudes 2^e m over the whole exponent range, m in [1, 2) pseudo-random.
  local function spread(emin, emax, n, signs)
    local v, seed = {}, 12345
    for i = 0, n - 1 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local e = emin + (emax - emin) * i / (n - 1)
      local x = (1 + seed / 2147483648) * 2 ^ math.floor(e)
      if signs and i % 2 == 1 then x = -x end
      v[#v + 1] = x
    end
    return v
  end
  local function cat(...)
    local out = {}
    for _, t in ipairs({ ... }) do for _, x in ipairs(t) do out[#out + 1] = x end end
    return out
  end
  -- LUNOX_ULP_REPORT=1 prints the largest distance of each check.
  local function report(op, d)
    if os.getenv("LUNOX_ULP_REPORT") then io.stderr:write(("float64 %s: %.3g ulps\n"):format(op, d)) end
  end
  local function check(op, values, ulps)
    local x = lx.array(values, "float64")
    local d = V.assert_ulps64(lx[op](x), lx[op](x:to("vulkan")), ulps, op)
    report(op, d)
  end

  it("exp", function()
    check("exp", grid(-746, 710, 3001, { 709.782712893384, 709.7827128933841, -745.1332191019411,
      -745.1332191019412, -708.39641853226408, -708.4, 1e-17, -1e-17 }), 1)
    check("exp", spread(-60, 9, 2000, true), 1)
  end)
  it("log", function()
    check("log", spread(-1074, 1024, 4000), 1)
    check("log", grid(0.5, 2, 2001, { -1, -inf }), 1)
  end)
  it("tanh", function()
    check("tanh", grid(-25, 25, 4001), 2)
    check("tanh", spread(-40, 5, 2000, true), 2)
  end)
  it("sigmoid", function()
    check("sigmoid", grid(-760, 760, 4001), 1)
    check("sigmoid", spread(-40, 6, 2000, true), 1)
  end)
  it("sin and cos, large arguments included", function()
    local hard = { 2 ^ 1023, 1e22,
      1048575.9, 1048576, 355, 103993, 3.141592653589793,
      1.5707963267948966, 0.7853981633974483, 0.7853981633974484 }
    for _, op in ipairs({ "sin", "cos" }) do
      check(op, grid(-20, 20, 3001, hard), 1)
      check(op, spread(-30, 1024, 3000, true), 1)
    end
    -- x = 6381956970095103 2^797 is the double closest to a multiple of
    -- pi/2: x = (4k + 1) pi/2 + 4.6871659242546276e-19 (to 17 digits).
    -- glibc 2.36's cos is 8 ulps off there, so compare with the exact value.
    local x = lx.array({ 6381956970095103 * 2 ^ 797, -6381956970095103 * 2 ^ 797 }, "float64")
    assert.are.same({ -4.687165924254628e-19, -4.687165924254628e-19 },
      lx.cos(x:to("vulkan")):to("cpu"):tolist())
    assert.are.same({ 1, -1 }, lx.sin(x:to("vulkan")):to("cpu"):tolist())
  end)
  it("erf", function()
    check("erf", grid(-7, 7, 4001, { 2.5, -2.5, 2.4999999999999996, 6, 5.9999999999999991 }), 2)
    check("erf", spread(-40, 3, 2000, true), 2)
  end)
  it("erf_inv", function()
    local near_one = {}
    for k = 1, 53 do near_one[#near_one + 1] = 1 - 2 ^ -k; near_one[#near_one + 1] = -(1 - 2 ^ -k) end
    check("erf_inv", grid(-1, 1, 4001, near_one), 2)
    check("erf_inv", spread(-60, -1, 1000, true), 2)
  end)
  it("pow: C99's special cases and dense grids", function()
    local specials = { 0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 2.5, -2.5, inf, -inf, nan,
      1e300, -1e300, 2 ^ -1074, 2 ^ 53, 2 ^ 53 + 2, -(2 ^ 53 + 2), 2 ^ 52 + 1, -(2 ^ 52 + 1) }
    local xs, ys = {}, {}
    for _, a in ipairs(specials) do
      for _, b in ipairs(specials) do xs[#xs + 1] = a; ys[#ys + 1] = b end
    end
    local bases = spread(-1074, 1024, 1500, true)
    local seed = 7
    for i = 1, #bases do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local b = bases[i]
      local l = math.abs(math.log(math.abs(b)))
      -- exponents that keep |y ln|x|| up to ~800: over- and underflow too
      local y = (seed / 2147483648 - 0.5) * 1600 / math.max(l, 1e-3)
      if i % 3 == 0 then y = math.floor(y) end
      xs[#xs + 1] = b
      ys[#ys + 1] = b < 0 and math.floor(y) or y
    end
    for i = 0, 999 do -- bases near 1 with large exponents
      xs[#xs + 1] = 1 + (i - 500) * 2 ^ -40
      ys[#ys + 1] = (i % 2 == 0 and 1 or -1) * 2 ^ 40 * (1 + i / 1000)
    end
    local x, y = lx.array(xs, "float64"), lx.array(ys, "float64")
    local d = V.assert_ulps64(lx.pow(x, y), lx.pow(x:to("vulkan"), y:to("vulkan")), 1, "pow")
    report("pow", d)
  end)
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

  it("queues uploads behind compute without losing data", function()
    -- Under LUNOX_VULKAN_STAGING=1 (the staging run of this file) uploads go
    -- through the upload ring: 70 MiB in 1 MiB slices wraps its 64 MiB.
    local n = 262144
    local acc = lx.zeros({ n }, { device = "vulkan" })
    for i = 1, 70 do acc = acc + lx.full({ n }, i):to("vulkan") end
    assert.are.equal(70 * 71 / 2, acc[1]:item())
    assert.are.equal(70 * 71 / 2, acc[-1]:item())
  end)

  it("runs elementwise ops on views whose layout keeps more than 4 axes", function()
    -- A 6-D transpose merges to no fewer axes; the backend splits it into
    -- one dispatch per index of the outer axes.
    local x = make({ 2, 3, 2, 3, 2, 3 }, "float32", 21)
    local perm = { 6, 4, 2, 5, 3, 1 }
    local g = x:to("vulkan")
    assert_parity(x:transpose(perm):copy(), g:transpose(perm):copy(), "6-D transpose copy")
    assert_parity(x:transpose(perm) * 2 + x:transpose(perm),
      g:transpose(perm) * 2 + g:transpose(perm), "6-D transposed arithmetic")
    local e = lx.zeros({ 2, 0, 2, 3, 2, 3 }, { device = "vulkan" }):transpose(perm)
    assert.are.same({ 3, 3, 0, 2, 2, 2 }, e:copy().shape)
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

describe("vulkan parity: uint16 and uint64 edge values", function()
  -- {2^63 + 1, 2^64 - 1, 2^63, 5, 0}, built exactly on both hosts (LuaJIT's
  -- numbers are doubles).
  local function edges()
    local function u(t) return lx.array(t, "uint64") end
    return u({ 2 ^ 63, 0, 2 ^ 63, 5, 0 }) + u({ 1, 0, 0, 0, 0 }) - u({ 0, 1, 0, 0, 0 })
  end
  local EDGES = "Array([ 9223372036854775809, 18446744073709551615,  9223372036854775808,\n"
    .. "                          5,                    0], dtype=uint64)"

  it("uint64 above 2^63 converts exactly to every dtype", function()
    if not supported("uint64") then return pending("uint64 unsupported") end
    local x = edges()
    assert.are.equal(EDGES, tostring(x))
    for _, to in ipairs(DTYPES) do
      if supported(to) then assert_parity(x:astype(to), x:to("vulkan"):astype(to), "to " .. to) end
    end
    assert.are.equal(EDGES, tostring(x:to("vulkan"):astype("int64"):astype("uint64"):to("cpu")))
  end)

  it("floats saturate into uint64 and uint16, NaN to 0", function()
    for _, dt in ipairs({ "uint16", "uint64" }) do
      if supported(dt) then
        for _, from in ipairs({ "float32", "float64" }) do
          if supported(from) then
            local x = lx.array({ 1e30, -5, 0 / 0, 65535.9, 70000, 2 ^ 63 + 2 ^ 40, 3.9 }, from)
            assert_parity(x:astype(dt), x:to("vulkan"):astype(dt), from .. " -> " .. dt)
          end
        end
      end
    end
  end)

  it("uint64 arithmetic, comparisons and reductions use all 64 bits", function()
    if not supported("uint64") then return pending("uint64 unsupported") end
    local x, y = edges(), lx.array({ 3, 2, 2 ^ 63, 5, 2 ^ 53 }, "uint64")
    local gx, gy = x:to("vulkan"), y:to("vulkan")
    for _, op in ipairs({ "add", "sub", "mul", "maximum", "minimum", "lt", "ge", "eq" }) do
      assert_parity(lx[op](x, y), lx[op](gx, gy), op)
    end
    for _, op in ipairs({ "sum", "max", "min", "argmax", "argmin" }) do
      assert_parity(lx[op](x), lx[op](gx), op)
    end
    -- Compared unsigned: 2^64-1 (-1 as int64) is the maximum, 0 the minimum.
    assert.are.equal("Array(18446744073709551615, dtype=uint64)", tostring(lx.max(gx):to("cpu")))
    assert.are.same(2, lx.argmax(gx):item())
    assert.are.same(0, lx.min(gx):item())
  end)

  it("uint16 wraps like NumPy on both backends", function()
    if not supported("uint16") then return pending("uint16 unsupported") end
    local x = lx.array({ 65535, 0, 300 }, "uint16")
    local g = x:to("vulkan")
    assert.are.same({ 0, 1, 301 }, (g + lx.array({ 1, 1, 1 }, "uint16"):to("vulkan")):tolist())
    assert.are.same({ 65534, 65535, 299 }, (g - 1):tolist())
    assert.are.same({ 1, 0, 24464 }, (g * g):tolist()) -- 300^2 = 90000 = 65536 + 24464
    assert.are.same({ 1, 0, 65236 }, (-g):tolist())
    assert_parity(lx.matmul(x:reshape({ 1, 3 }), x:reshape({ 3, 1 })),
      lx.matmul(g:reshape({ 1, 3 }), g:reshape({ 3, 1 })), "uint16 matmul wraps")
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", V.assert_validation_silent)
end)
