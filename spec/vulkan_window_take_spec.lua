-- Backend parity for lx.reduce_window and lx.take: each computed on the CPU
-- backend and on Vulkan (lavapipe here), over every dtype the device
-- supports, on contiguous arrays and on views made on the device, and
-- compared (NMSE thresholds per dtype, integers exactly). ctest runs this
-- file with LUNOX_VULKAN_VALIDATION=1: any validation message fails the
-- last test. Sizes stay small: lavapipe runs shaders on the CPU.
local lx = require("lunox")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan reduce_window and take", describe, it, pending) then return end

local vk = V.device()
local supported, make, assert_parity = V.supported, V.make, V.assert_parity
local nan, inf = 0 / 0, 1 / 0
local unpack = table.unpack or unpack

local function both(base, view, f)
  local c, g = base, base:to("vulkan")
  if view then c, g = view(c), view(g) end
  return f(c), f(g)
end

-- {name, shape, view, window, strides, padding}
local POOLS = {
  { "1-D", { 9 }, nil, { 3 }, { 2 }, { { 1, 1 } } },
  { "1-D channels", { 3, 10 }, nil, { 1, 4 }, { 1, 3 }, { { 0, 0 }, { 2, 1 } } },
  { "2-D max-pool", { 2, 6, 6 }, nil, { 1, 2, 2 }, { 1, 2, 2 }, nil },
  { "2-D avg-pool padded", { 2, 5, 7 }, nil, { 1, 3, 3 }, { 1, 1, 2 }, { 0, 1, 1 } },
  { "2-D all-padding windows", { 1, 2, 2 }, nil, { 1, 2, 2 }, { 1, 1, 1 }, { 0, 2, 2 } },
  { "3-D", { 2, 4, 5, 6 }, nil, { 1, 2, 3, 2 }, { 1, 2, 1, 2 }, { 0, { 1, 0 }, 1, { 0, 1 } } },
  { "5-D (layout buffer)", { 2, 3, 4, 3, 4 }, nil, { 2, 1, 2, 2, 3 }, { 1, 1, 2, 1, 1 },
    { 0, 0, 1, { 1, 0 }, 1 } },
  { "transposed", { 6, 5 }, function(a) return a.T end, { 2, 3 }, { 2, 1 }, { 1, 0 } },
  { "strided", { 5, 9 }, function(a) return a[{ {}, { 1, -1, 2 } }] end, { 2, 2 }, { 1, 1 }, nil },
  { "reversed", { 11 }, function(a) return a[{ { -1, 1, -1 } }] end, { 3 }, { 2 }, { 1 } },
  { "broadcast", { 1, 5 }, function(a) return a:broadcast_to({ 4, 5 }) end, { 2, 2 }, { 2, 1 },
    nil },
  { "scalar", {}, nil, {}, {}, nil },
}

describe("vulkan parity: reduce_window", function()
  for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8",
    "uint32" }) do
    for _, op in ipairs({ "max", "sum" }) do
      it(op .. " " .. dt, function()
        if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
        for k, p in ipairs(POOLS) do
          local name, shape, view, window, strides, padding = unpack(p, 1, 6)
          local base = make(shape, dt, k)
          local want, got = both(base, view, function(a)
            return lx.reduce_window(a, op, window, strides, padding)
          end)
          assert_parity(want, got, op .. " " .. dt .. " " .. name)
        end
      end)
    end
  end

  it("NaN and infinities, and compensated float32 sums", function()
    local x = lx.array({ 1, nan, 3, inf, -inf, 2, -0.0, 0.0 })
    for _, op in ipairs({ "max", "sum" }) do
      local want, got = both(x, nil, function(a) return lx.reduce_window(a, op, { 2 }, { 1 }, { 1 }) end)
      assert_parity(want, got, op .. " with NaN/inf")
    end
    -- 1 + 4096 * 2^-24 needs the compensation: plain float32 stays at 1.
    local t = { 1 }
    for i = 2, 4097 do t[i] = 2 ^ -24 end
    local s = lx.reduce_window(lx.array(t):to("vulkan"), "sum", { 4097 }):to("cpu"):item()
    assert.are.equal(1 + 2 ^ -12, s)
  end)

  it("empty inputs padded to a window, empty results", function()
    local want, got = both(lx.zeros({ 2, 0 }), nil, function(a)
      return lx.reduce_window(a, "max", { 1, 2 }, { 1, 1 }, { { 0, 0 }, { 1, 1 } })
    end)
    assert_parity(want, got, "empty input")
    local e = lx.reduce_window(lx.zeros({ 0, 3 }):to("vulkan"), "sum", { 1, 2 })
    assert.are.same({ 0, 2 }, e.shape)
  end)
end)

describe("vulkan parity: take", function()
  for _, dt in ipairs(V.DTYPES) do
    it("data " .. dt .. " with every index dtype", function()
      if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
      local a = make({ 4, 5, 3 }, dt, 7)
      for _, it_dt in ipairs({ "int32", "int64", "uint8", "uint32" }) do
        if supported(it_dt) or it_dt == "int64" then
          for axis = 1, 3 do
            local n = a.shape[axis]
            local flat = { 1, n, 2, 1 }
            if it_dt == "int32" or it_dt == "int64" then flat[3] = -1 end
            local idx = lx.array({ { flat[1], flat[2] }, { flat[3], flat[4] } }, it_dt)
            local want = lx.take(a, idx, axis)
            local got = lx.take(a:to("vulkan"), idx:to("vulkan"), axis)
            assert_parity(want, got, string.format("take %s by %s axis %d", dt, it_dt, axis))
          end
        end
      end
    end)
  end

  it("reads views of the data and of the indices", function()
    local a = make({ 6, 4 }, "float32", 3)
    local idx = lx.array({ 2, 9, -1, 9, 6 }, "int64")
    local view = function(x) return x.T end
    local want = lx.take(view(a), idx[{ { 1, 5, 2 } }], 2)
    local got = lx.take(view(a:to("vulkan")), idx:to("vulkan")[{ { 1, 5, 2 } }], 2)
    assert_parity(want, got, "take through views")
    -- Without an axis: the flattened array.
    local w2, g2 = lx.take(a, { 24, 1 }), lx.take(a:to("vulkan"), { 24, 1 })
    assert_parity(w2, g2, "take flattened")
  end)

  it("writes jnp.take's fill value for indices outside the axis (the CPU raises)", function()
    local cases = {
      { "float32", nan }, { "float16", nan }, { "int32", -2147483648 }, { "uint8", 255 },
      { "uint32", 4294967295 }, { "bool", true },
    }
    for _, c in ipairs(cases) do
      if supported(c[1]) then
        local a = lx.array({ 1, 0, 1 }, c[1]):to("vulkan")
        local got = lx.take(a, lx.array({ 2, 4, 0, -4, -3 }, "int64"):to("vulkan"), 1):tolist()
        local fill = c[2]
        local first, last = 0, 1
        if c[1] == "bool" then first, last = false, true end
        assert.are.equal(first, got[1], c[1])
        for i = 2, 4 do
          if fill ~= fill then
            assert.is_true(got[i] ~= got[i], c[1] .. " fill at " .. i)
          else
            assert.are.equal(fill, got[i], c[1] .. " fill at " .. i)
          end
        end
        assert.are.equal(last, got[5], c[1])
      end
    end
    assert.has_error(function() lx.take(lx.array({ 1, 2 }), { 3 }, 1) end)
  end)

  it("computes shapes of vulkan operands under filter_eval_shape", function()
    local w = lx.zeros({ 10, 4 }):to("vulkan")
    local out = lx.filter_eval_shape(function(weight)
      return lx.reduce_window(lx.take(weight, { 1, 2, 3 }, 1), "max", { 2, 2 })
    end, w)
    assert.are.equal(lx.ShapeDtypeStruct({ 2, 3 }, "float32"), out)
  end)

  it("the validation layer reported nothing", function()
    V.assert_validation_silent()
  end)
end)
