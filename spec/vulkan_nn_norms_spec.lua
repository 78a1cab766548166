-- The "norms" group of lx.nn on Vulkan: each layer is built on the CPU,
-- moved to the device with lx.tree.map, called on a Vulkan input, and
-- compared with the same call on the CPU (V.assert_parity's NMSE per dtype).
-- ctest runs this file with LUNOX_VULKAN_VALIDATION=1: any message of the
-- Khronos validation layer fails the last test. Sizes stay small: lavapipe
-- runs shaders on the CPU.
local lx = require("lunox")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan nn norms", describe, it, pending) then return end

local nn, jr = lx.nn, lx.random

local function to_vulkan(tree)
  return lx.tree.map(function(x) return lx.is_array(x) and x:to("vulkan") or x end, tree)
end

local function set(model, field, value)
  return lx.tree_at(function(m) return m[field] end, model, value)
end

local FLOATS = { "float32", "float16", "float64" }

describe("vulkan nn norms", function()
  it("LayerNorm and RMSNorm match the CPU", function()
    for _, dt in ipairs(FLOATS) do
      if V.supported(dt) then
        for _, cls in ipairs({ nn.LayerNorm, nn.RMSNorm }) do
          local layer = cls({ 3, 4 }, 1e-5, true, true, dt)
          layer = set(layer, "weight", V.make({ 3, 4 }, dt, 2))
          layer = set(layer, "bias", V.make({ 3, 4 }, dt, 3))
          local x = V.make({ 3, 4 }, dt, 1)
          local cpu = layer(x)
          local gpu = to_vulkan(layer)(x:to("vulkan"))
          V.assert_parity(cpu, gpu, tostring(getmetatable(layer).__name) .. " " .. dt)
        end
      end
    end
  end)

  it("GroupNorm matches the CPU", function()
    for _, dt in ipairs(FLOATS) do
      if V.supported(dt) then
        local g = nn.GroupNorm(2, 4, 1e-5, true, dt)
        g = set(g, "weight", V.make({ 4 }, dt, 4))
        g = set(g, "bias", V.make({ 4 }, dt, 5))
        local x = V.make({ 4, 3, 2 }, dt, 6)
        V.assert_parity(g(x), to_vulkan(g)(x:to("vulkan")), "GroupNorm " .. dt)
      end
    end
  end)

  it("BatchNorm matches the CPU in training and inference, both modes", function()
    for _, mode in ipairs({ "ema", "batch" }) do
      local bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", { mode = mode })
      local xs = V.make({ 4, 3, 2 }, "float32", 7)
      local y_cpu, s_cpu = bn(xs, state, { batched = true })
      local bn_vk, state_vk = to_vulkan(bn), to_vulkan(state)
      local y_vk, s_vk = bn_vk(xs:to("vulkan"), state_vk, { batched = true })
      V.assert_parity(y_cpu, y_vk, "BatchNorm " .. mode .. " training")
      local idx = mode == "ema" and bn.ema_state_index or bn.batch_state_index
      V.assert_parity(s_cpu:get(idx)[1], s_vk:get(idx)[1], mode .. " running mean")
      V.assert_parity(s_cpu:get(idx)[2], s_vk:get(idx)[2], mode .. " running var")
      local x1 = V.make({ 3, 2 }, "float32", 8)
      local yi_cpu = bn(x1, s_cpu, { inference = true })
      local yi_vk = bn_vk(x1:to("vulkan"), s_vk, { inference = true })
      V.assert_parity(yi_cpu, yi_vk, "BatchNorm " .. mode .. " inference")
    end
  end)

  it("Embedding and PReLU match the CPU", function()
    local e = nn.Embedding(5, 3, { key = jr.PRNGKey(0) })
    local e_vk = to_vulkan(e)
    V.assert_parity(e(2), e_vk(2), "Embedding, Lua index")
    V.assert_parity(e(lx.array(4, "int32")), e_vk(lx.array(4, "int32"):to("vulkan")),
      "Embedding, array index")
    local p = nn.PReLU(V.make({ 3 }, "float32", 9, true))
    local x = V.make({ 2, 3 }, "float32", 10)
    V.assert_parity(p(x), to_vulkan(p)(x:to("vulkan")), "PReLU")
    local d = nn.PReLU()
    local h = V.make({ 5 }, "float16", 11)
    if V.supported("float16") then
      V.assert_parity(d(h), to_vulkan(d)(h:to("vulkan")), "PReLU float16")
    end
  end)

  it("reported nothing", V.assert_validation_silent)
end)
