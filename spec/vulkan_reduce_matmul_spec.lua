-- Backend parity for reductions and matmul: each one computed on the CPU
-- backend and on Vulkan (lavapipe here), over every dtype the device
-- supports, on contiguous arrays and on views made on the device
-- (transposed, strided, reversed, broadcast), and compared with a
-- normalised mean squared error threshold per dtype (integers exactly).
-- ctest runs this file with LUNOX_VULKAN_VALIDATION=1: the Khronos
-- validation layer watches every call, and any message fails the last test.
-- Sizes stay small: lavapipe runs shaders on the CPU.
local lx = require("lunox")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan reductions and matmul", describe, it, pending) then return end

local vk = V.device()
local DTYPES, FLOATS, SIGNED = V.DTYPES, V.FLOATS, V.SIGNED
local supported, make, assert_parity = V.supported, V.make, V.assert_parity
local nan, inf = 0 / 0, 1 / 0

-- Runs f on a CPU array and on the same values moved to Vulkan, where
-- `view` (if any) then makes the same view on each device: the Vulkan
-- kernels see the view's own strides, not a contiguous copy.
local function both(base, view, f)
  local c, g = base, base:to("vulkan")
  if view then c, g = view(c), view(g) end
  return f(c), f(g)
end

-- ------------------------------------------------------------ reductions

local REDUCE = { "sum", "mean", "max", "min", "argmax", "argmin" }
local ARG = { argmax = true, argmin = true }

-- Inputs: a shape, a view of it made on each device, and the axis
-- arguments to reduce over ({axis, keepdims}; nil axis = all).
local INPUTS = {
  { "odd 1-D", { 257 }, nil, { { nil }, { 1 }, { nil, true } } },
  { "2-D", { 33, 65 }, nil, { { 1 }, { 2 }, { nil }, { 2, true }, { -1 } } },
  { "3-D", { 4, 5, 6 }, nil, { { 1 }, { 2 }, { 3 }, { { 1, 3 } }, { { 2, 3 }, true }, { nil } } },
  { "transposed", { 7, 9 }, function(a) return a.T end, { { 1 }, { 2 }, { nil } } },
  { "transposed 3-D", { 3, 4, 5 }, function(a) return a:transpose({ 3, 1, 2 }) end,
    { { 1 }, { 3 }, { { 1, 2 } }, { nil } } },
  { "strided slice", { 6, 9 }, function(a) return a[{ {}, { 1, -1, 2 } }] end,
    { { 1 }, { 2 }, { nil } } },
  { "reversed", { 11 }, function(a) return a[{ { -1, 1, -1 } }] end, { { nil }, { 1, true } } },
  { "broadcast", { 1, 5 }, function(a) return a:broadcast_to({ 4, 5 }) end,
    { { 1 }, { 2 }, { nil } } },
  { "size-1 axes", { 3, 1, 4 }, nil, { { 2 }, { 2, true }, { 3 } } },
  { "scalar", {}, nil, { { nil } } },
}

-- Several axes at once are for sum, mean, max and min (the arg ops take
-- one axis or all).
local function several(args)
  return type(args[1]) == "table"
end

describe("vulkan parity: reductions", function()
  for _, dt in ipairs(DTYPES) do
    for _, op in ipairs(REDUCE) do
      it(op .. " " .. dt, function()
        if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
        if ARG[op] and not vk.int64 then return pending("arg ops need int64 on the device") end
        for k, input in ipairs(INPUTS) do
          local name, shape, view, arglist = input[1], input[2], input[3], input[4]
          local base = make(shape, dt, k)
          for _, args in ipairs(arglist) do
            if not (ARG[op] and several(args)) then
              local want, got = both(base, view, function(a) return lx[op](a, args[1], args[2]) end)
              local axis = type(args[1]) == "table" and table.concat(args[1], ",")
                or tostring(args[1])
              assert_parity(want, got, string.format("%s %s %s axis %s%s", op, dt, name, axis,
                args[2] and " keepdims" or ""))
            end
          end
        end
      end)
    end
  end

  it("empty inputs: sum is 0, mean is NaN, max refuses on both backends", function()
    for _, dt in ipairs({ "float32", "int32", "float16" }) do
      if supported(dt) then
        local e = make({ 0 }, dt)
        assert_parity(lx.sum(e), lx.sum(e:to("vulkan")), "sum of empty " .. dt)
        assert_parity(lx.mean(e), lx.mean(e:to("vulkan")), "mean of empty " .. dt)
        local e2 = make({ 0, 3 }, dt)
        assert_parity(lx.sum(e2, 1), lx.sum(e2:to("vulkan"), 1), "sum over an empty axis " .. dt)
        assert_parity(lx.sum(e2, 2), lx.sum(e2:to("vulkan"), 2), "sum into an empty result " .. dt)
        local ok, err = pcall(lx.max, e:to("vulkan"))
        assert.is_false(ok)
        assert.matches("zero%-size", err)
      end
    end
  end)

  it("NaN wins max/min; the arg ops give the first NaN, else the first extreme", function()
    local rows = {
      { 1, 5, 5, 2, 5, -1 },
      { 3, nan, 7, nan, 7, 0 },
      { -inf, -inf, -inf, -inf, -inf, -inf },
      { 2, 2, 2, 2, 2, 2 },
      { -0.0, 0.0, 0.0, -0.0, 1, 1 },
      { nan, 1, 2, 3, 4, nan },
      { inf, 1, inf, -inf, 4, -inf },
    }
    for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
      if supported(dt) then
        local x = lx.array(rows, dt)
        for _, op in ipairs(REDUCE) do
          if vk.int64 or not ARG[op] then
            for _, args in ipairs({ { 2 }, { 1 }, { nil } }) do
              local want, got = both(x, nil, function(a) return lx[op](a, args[1]) end)
              assert_parity(want, got, op .. " NaN/ties " .. dt .. " axis " .. tostring(args[1]))
            end
            local want, got = both(x, function(a) return a.T end,
              function(a) return lx[op](a, 1) end)
            assert_parity(want, got, op .. " NaN/ties transposed " .. dt)
          end
        end
      end
    end
    -- Spot checks of the rule itself (1-based indices).
    local g = lx.array(rows, "float32"):to("vulkan")
    assert.are.same({ 2, 2, 1, 1, 5, 1, 1 }, lx.argmax(g, 2):tolist())
    assert.are.same({ 6, 2, 1, 1, 1, 1, 4 }, lx.argmin(g, 2):tolist())
    local m = lx.max(g, 2):tolist()
    assert.is_true(m[2] ~= m[2] and m[6] ~= m[6])
  end)

  it("integer sums wrap; bool and uint8 sums widen; integer means are float32", function()
    local w = lx.array({ 2147483647, 1, 5 }, "int32")
    assert.are.same(lx.sum(w):tolist(), lx.sum(w:to("vulkan")):tolist())
    assert.are.equal(-2147483643, lx.sum(w:to("vulkan")):item())
    local u = lx.array({ 4294967295, 2 }, "uint32")
    assert.are.equal(1, lx.sum(u:to("vulkan")):item())
    if vk.int64 then
      local l = lx.array({ 2 ^ 62, 2 ^ 62, 2 ^ 62, 2 ^ 62, 3 }, "int64")
      assert_parity(lx.sum(l), lx.sum(l:to("vulkan")), "int64 wrap")
    end
    for _, dt in ipairs({ "bool", "uint8", "int32" }) do
      local x = make({ 9, 31 }, dt, 3)
      for _, op in ipairs({ "sum", "mean" }) do
        for _, axis in ipairs({ 1, 2, false }) do
          local a = axis or nil
          assert_parity(lx[op](x, a), lx[op](x:to("vulkan"), a), op .. " " .. dt)
        end
      end
    end
  end)

  it("long reductions split over several workgroups", function()
    -- Over a few outputs, long enough that the host splits the work in
    -- two passes (partials, then their combination).
    local cases = { { { 20011 }, nil }, { { 20011, 3 }, 1 }, { { 3, 20011 }, 2 },
      { { 150, 173 }, nil } }
    for _, dt in ipairs({ "float32", "int32", "float16", "float64" }) do
      if supported(dt) then
        for k, c in ipairs(cases) do
          local x = make(c[1], dt, 10 + k)
          for _, op in ipairs({ "sum", "mean", "max", "argmin" }) do
            if not (op == "mean" and not FLOATS[dt]) and (vk.int64 or not ARG[op]) then
              assert_parity(lx[op](x, c[2]), lx[op](x:to("vulkan"), c[2]),
                string.format("%s %s {%s} axis %s", op, dt, table.concat(c[1], ","),
                  tostring(c[2])))
            end
          end
        end
      end
    end
    -- float32 sums keep their accuracy with values of mixed magnitude.
    local v = {}
    for i = 1, 30000 do v[i] = (i % 7 - 3) * 10 ^ (i % 5 - 2) end
    local x = lx.array(v, "float32")
    assert_parity(lx.sum(x), lx.sum(x:to("vulkan")), "mixed magnitudes")
  end)

  it("takes layouts that do not merge to 3 kept and 3 reduced axes", function()
    -- Alternate axes of a 7-D array: 4 kept axes; a scrambled 5-D view.
    local x = make({ 2, 3, 2, 3, 2, 3, 2 }, "float32", 5)
    for _, op in ipairs({ "sum", "max", "mean" }) do
      local want, got = both(x, nil, function(a) return lx[op](a, { 2, 4, 6 }) end)
      assert_parity(want, got, op .. " over alternate axes")
      want, got = both(x, nil, function(a) return lx[op](a, { 1, 3, 5, 7 }, true) end)
      assert_parity(want, got, op .. " over the other alternate axes")
    end
    local y = make({ 2, 3, 4, 3, 2 }, "int32", 6)
    local perm = function(a) return a:transpose({ 5, 3, 1, 4, 2 }) end
    for _, axis in ipairs({ 1, 3, 5 }) do
      local want, got = both(y, perm, function(a) return lx.sum(a, axis) end)
      assert_parity(want, got, "sum of a scrambled view, axis " .. axis)
      if vk.int64 then
        want, got = both(y, perm, function(a) return lx.argmax(a, axis) end)
        assert_parity(want, got, "argmax of a scrambled view, axis " .. axis)
      end
    end
  end)
end)

-- --------------------------------------------------------------- matmul

local MATMUL_DTYPES = { "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8",
  "uint32", "uint16", "uint64" }

-- Pairs: shapes of A and B, and views made on each device.
local PAIRS = {
  { "odd 2-D", { 37, 53 }, { 53, 29 } },
  { "several tiles", { 70, 20 }, { 20, 130 } },
  { "batched, broadcast", { 2, 1, 5, 6 }, { 3, 6, 4 } },
  { "batch of matrix and matrix", { 3, 4, 5 }, { 5, 2 } },
  { "vector @ matrix", { 6 }, { 6, 4 } },
  { "matrix @ vector", { 5, 6 }, { 6 } },
  { "vector @ vector", { 17 }, { 17 } },
  { "K = 0", { 3, 0 }, { 0, 4 } },
  { "M = 0", { 0, 3 }, { 3, 4 } },
  { "transposed", { 53, 37 }, { 29, 53 }, function(a) return a.T end, function(b) return b.T end },
  { "strided and reversed", { 10, 12 }, { 12, 7 },
    function(a) return a[{ { 1, -1, 2 }, { -1, 1, -1 } }] end,
    function(b) return b[{ {}, { 1, -1, 3 } }] end },
  { "broadcast rows", { 1, 6 }, { 6, 5 }, function(a) return a:broadcast_to({ 7, 6 }) end, nil },
  { "transposed batch", { 4, 3, 5 }, { 3, 2, 5 }, function(a) return a:transpose({ 2, 1, 3 }) end,
    function(b) return b:transpose({ 1, 3, 2 }) end },
  { "4 batch axes", { 2, 1, 2, 1, 3, 4 }, { 1, 2, 1, 2, 4, 5 } },
}

describe("vulkan parity: matmul", function()
  for _, dt in ipairs(MATMUL_DTYPES) do
    it("matmul " .. dt, function()
      if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
      for k, p in ipairs(PAIRS) do
        local a, b = make(p[2], dt, 2 * k), make(p[3], dt, 2 * k + 1)
        local ga, gb = a:to("vulkan"), b:to("vulkan")
        if p[4] then a, ga = p[4](a), p[4](ga) end
        if p[5] then b, gb = p[5](b), p[5](gb) end
        assert_parity(lx.matmul(a, b), lx.matmul(ga, gb), "matmul " .. dt .. " " .. p[1])
      end
    end)
  end

  it("mixed dtypes promote as on the CPU", function()
    local a, b = make({ 5, 6 }, "int32"), make({ 6, 3 }, "float32")
    assert_parity(lx.matmul(a, b), lx.matmul(a:to("vulkan"), b:to("vulkan")), "int32 @ float32")
  end)

  it("refuses bool on both backends", function()
    local ok, err = pcall(lx.matmul, lx.ones({ 2, 2 }, "bool"):to("vulkan"),
      lx.ones({ 2, 2 }, "bool"):to("vulkan"))
    assert.is_false(ok)
    assert.matches("bool", err)
  end)

  it("keeps working after errors and across batches", function()
    local g = lx.ones({ 3 }):to("vulkan")
    assert.are.equal(3, lx.sum(g):item())
    assert.are.same({ 2, 2, 2 }, (g + 1):tolist())
    -- Hundreds of dependent products and reductions (several submitted
    -- batches): ones @ ones / 8 stays ones.
    local x = lx.ones({ 8, 8 }, { device = "vulkan" })
    for _ = 1, 300 do x = lx.matmul(x, x) / lx.max(x) / 8 end
    assert.are.same(lx.ones({ 8, 8 }):tolist(), x:tolist())
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", V.assert_validation_silent)
end)
