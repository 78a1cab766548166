-- Backend parity for lx.conv: each convolution computed on the CPU backend
-- (im2col + BLAS) and on Vulkan (shaders/conv.comp, lavapipe here), for
-- the float dtypes the device supports, over strides, paddings (negative
-- ones too), lhs/rhs dilations, groups and 1-3 spatial axes, and on views
-- made on the device. Compared with V.assert_parity's per-dtype NMSE.
-- ctest runs this file with LUNOX_VULKAN_VALIDATION=1: any message of the
-- Khronos validation layer fails the last test. Sizes stay small: lavapipe
-- runs shaders on the CPU.
local lx = require("lunox")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan conv", describe, it, pending) then return end

local vk = V.device()
local supported, make, assert_parity = V.supported, V.make, V.assert_parity

-- {name, x shape, w shape, opts}
local CASES = {
  { "1-d", { 2, 3, 10 }, { 4, 3, 3 }, {} },
  { "1-d stride, negative padding", { 1, 2, 11 }, { 3, 2, 3 },
    { stride = 2, padding = { { -1, 2 } } } },
  { "1-d transposed", { 1, 2, 5 }, { 3, 2, 3 }, { lhs_dilation = 2, padding = { { 2, 3 } } } },
  { "1-d depthwise, rhs_dilation", { 2, 4, 9 }, { 4, 1, 3 }, { groups = 4, rhs_dilation = 2 } },
  { "2-d", { 1, 3, 7, 6 }, { 5, 3, 3, 3 }, { padding = 1 } },
  { "2-d everything", { 2, 4, 5, 6 }, { 6, 2, 2, 3 },
    { stride = { 1, 2 }, padding = { { -1, 2 }, { 1, -1 } }, lhs_dilation = { 2, 1 },
      rhs_dilation = { 1, 2 }, groups = 2 } },
  { "2-d 1x1", { 2, 5, 4, 3 }, { 7, 5, 1, 1 }, {} },
  { "2-d SAME stride 2", { 1, 2, 9, 8 }, { 3, 2, 3, 3 }, { padding = "SAME", stride = 2 } },
  { "3-d", { 1, 2, 4, 3, 5 }, { 3, 2, 2, 2, 3 }, { stride = { 1, 2, 1 }, padding = 1 } },
  { "2-d wide, strided, cropped", { 1, 3, 7, 6 }, { 10, 3, 3, 2 },
    { stride = { 2, 3 }, padding = { { 1, -1 }, { 2, 1 } }, rhs_dilation = { 1, 2 } } },
  { "3-d dilations, groups", { 1, 2, 3, 4, 3 }, { 2, 1, 2, 2, 2 },
    { lhs_dilation = { 1, 2, 2 }, rhs_dilation = { 2, 1, 1 }, groups = 2,
      padding = { { 1, 1 }, { 0, -1 }, { 2, 0 } } } },
}

describe("vulkan parity: conv", function()
  for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
    it(dt, function()
      if not supported(dt) then return pending(dt .. " unsupported on " .. vk.description) end
      for k, c in ipairs(CASES) do
        local x, w = make(c[2], dt, 2 * k), make(c[3], dt, 2 * k + 1)
        local want = lx.conv(x, w, c[4])
        local got = lx.conv(x:to("vulkan"), w:to("vulkan"), c[4])
        assert_parity(want, got, dt .. " " .. c[1])
      end
    end)
  end

  it("reads views made on the device, and mixed dtypes", function()
    local base, wb = make({ 2, 3, 8, 6 }, "float32", 50), make({ 3, 4, 3, 2 }, "float32", 51)
    local function views(xa, wa)
      local x = xa[{ {}, { 1, 2 }, { 1, -1, 2 }, { -1, 1, -1 } }]
      local w = wa:transpose({ 1, 2, 4, 3 })[{ {}, { 2, 3 } }]
      return lx.conv(x, w, { padding = 1, stride = { 1, 2 } })
    end
    assert_parity(views(base, wb), views(base:to("vulkan"), wb:to("vulkan")), "views")
    if supported("float16") then
      local x, w = make({ 1, 2, 6 }, "float16", 52), make({ 3, 2, 2 }, "float32", 53)
      assert_parity(lx.conv(x, w), lx.conv(x:to("vulkan"), w:to("vulkan")), "float16 x float32")
    end
  end)

  it("empty sums give zeros; empty results are empty", function()
    local a = lx.conv(lx.zeros({ 1, 0, 4 }):to("vulkan"), lx.ones({ 2, 0, 3 }):to("vulkan"))
    assert_parity(lx.zeros({ 1, 2, 2 }), a, "no input channels")
    local b = lx.conv(lx.zeros({ 0, 3, 5 }):to("vulkan"), lx.ones({ 4, 3, 3 }):to("vulkan"))
    assert.are.same({ 0, 4, 3 }, b.shape)
  end)

  it("refuses operands on different devices", function()
    local ok, err = pcall(lx.conv, lx.ones({ 1, 2, 5 }), lx.ones({ 1, 2, 3 }):to("vulkan"))
    assert.is_false(ok)
    assert.matches("conv:", err, 1, true)
    assert.matches("cpu", err, 1, true)
    assert.matches("vulkan", err, 1, true)
  end)

  it("leaves the validation layer silent", function()
    V.assert_validation_silent()
  end)
end)
