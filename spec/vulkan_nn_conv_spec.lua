-- lx.nn's convolution and pooling layers on Vulkan: each layer built on the
-- CPU, moved to the device with lx.tree.map, called on a Vulkan input, and
-- compared with the CPU result (V.assert_parity's per-dtype NMSE). ctest
-- runs this file with LUNOX_VULKAN_VALIDATION=1: any message of the Khronos
-- validation layer fails the last test. Sizes stay small (lavapipe).
local lx = require("lunox")
local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan nn conv", describe, it, pending) then return end

local nn, jr = lx.nn, lx.random

local function to_vulkan(tree)
  return lx.tree.map(function(x) return lx.is_array(x) and x:to("vulkan") or x end, tree)
end

local function k(i) return { key = jr.PRNGKey(i) } end

local function with(opts, i)
  opts.key = jr.PRNGKey(i)
  return opts
end

-- {label, layer constructor, input shape}
local CASES = {
  { "Conv1d", function() return nn.Conv1d(3, 4, 3, k(1)) end, { 3, 9 } },
  { "Conv2d groups, stride, SAME", function()
    return nn.Conv2d(4, 6, { 3, 2 }, 2, "SAME", with({ groups = 2 }, 2))
  end, { 4, 7, 6 } },
  { "Conv2d REFLECT", function()
    return nn.Conv2d(2, 3, 3, with({ padding = 1, padding_mode = "REFLECT" }, 3))
  end, { 2, 5, 4 } },
  { "Conv2d CIRCULAR", function()
    return nn.Conv2d(2, 2, 3, with({ padding = { { 2, 1 }, { 0, 2 } }, padding_mode = "CIRCULAR",
      dilation = { 1, 2 } }, 4))
  end, { 2, 4, 5 } },
  { "Conv3d", function() return nn.Conv3d(2, 2, 2, with({ padding = 1, use_bias = false }, 5)) end,
    { 2, 3, 3, 2 } },
  { "ConvTranspose1d", function() return nn.ConvTranspose1d(3, 2, 4, 3, 2, 1, k(6)) end, { 3, 5 } },
  { "ConvTranspose2d groups", function()
    return nn.ConvTranspose2d(4, 2, 3, 2, 1, 1, 1, 2, k(7))
  end, { 4, 3, 4 } },
  { "ConvTranspose2d CIRCULAR", function()
    return nn.ConvTranspose2d(2, 2, 3, 2, 0, "SAME", with({ padding_mode = "CIRCULAR" }, 8))
  end, { 2, 3, 3 } },
  { "ConvTranspose3d", function() return nn.ConvTranspose3d(2, 3, 2, 2, k(9)) end, { 2, 2, 2, 3 } },
  { "MaxPool2d ceil", function() return nn.MaxPool2d(3, 2, 1, true) end, { 3, 5, 6 } },
  { "AvgPool1d", function() return nn.AvgPool1d(3, 2, 1) end, { 2, 9 } },
  { "AvgPool3d", function() return nn.AvgPool3d({ 2, 1, 2 }, 1, { 1, 0, 1 }) end, { 2, 3, 2, 4 } },
  { "AdaptiveAvgPool2d", function() return nn.AdaptiveAvgPool2d({ 3, 2 }) end, { 2, 7, 5 } },
  { "AdaptiveMaxPool1d", function() return nn.AdaptiveMaxPool1d(4) end, { 3, 10 } },
}

describe("nn conv layers on vulkan", function()
  for _, dtype in ipairs({ "float32", "float64" }) do
    for _, case in ipairs(CASES) do
      it(case[1] .. " (" .. dtype .. ") matches the CPU", function()
        if not V.supported(dtype) then
          pending(dtype .. " is not supported by this device")
          return
        end
        local layer = case[2]()
        if dtype ~= "float32" then
          layer = lx.tree.map(function(x) return lx.is_array(x) and x:astype(dtype) or x end, layer)
        end
        local x = V.make(case[3], dtype, 3)
        local cpu = layer(x)
        local gpu = to_vulkan(layer)(x:to("vulkan"))
        V.assert_parity(cpu, gpu, case[1])
      end)
    end
  end

  it("reported nothing", V.assert_validation_silent)
end)
