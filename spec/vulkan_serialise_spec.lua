-- Serialisation of arrays on a Vulkan device (lavapipe here): .eqx and
-- safetensors files written from device arrays hold the same bytes as from
-- CPU arrays, and loading into a `like` tree on the device puts the loaded
-- arrays there. ctest runs this file with the Khronos validation layer on.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan serialisation", describe, it, pending) then return end

local vk = V.device()

-- CPU arrays of every dtype the device holds, including a transposed view.
local function cpu_tree()
  local t = {}
  for _, dt in ipairs(V.DTYPES) do
    if V.supported(dt) then t[#t + 1] = V.make({ 3, 5 }, dt, #t + 1) end
  end
  t[#t + 1] = V.make({ 4, 6 }, "float32", 99).T
  return t
end

local function to_device(tree)
  return lx.tree.map(function(a) return a:to(vk.name) end, tree)
end

describe("vulkan serialisation", function()
  after_each(S.cleanup)

  it("writes device arrays as the same .eqx bytes as CPU arrays", function()
    local cpu = cpu_tree()
    local a, b = lx.BytesIO(), lx.BytesIO()
    lx.tree_serialise_leaves(a, cpu)
    lx.tree_serialise_leaves(b, to_device(cpu))
    assert.are.equal(a:getvalue(), b:getvalue())
  end)

  it("loads into a like tree on the device", function()
    local cpu = cpu_tree()
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, cpu)
    b:seek("set")
    local like = lx.tree.map(function(x) return lx.zeros(x.shape, x.dtype):to(vk.name) end, cpu)
    local got = lx.tree_deserialise_leaves(b, like)
    for i, x in ipairs(got) do
      assert.are.equal(vk.name, x.device)
      assert.are.same(H.values(cpu[i]), H.values(x))
    end
  end)

  it("saves and loads safetensors through the device", function()
    local cpu = cpu_tree()
    local dir = S.tmpdir()
    lx.safetensors.save(dir .. "/m.safetensors", to_device(cpu))
    local like = lx.tree.map(function(x) return lx.zeros(x.shape, x.dtype):to(vk.name) end, cpu)
    local got = lx.safetensors.load(dir .. "/m.safetensors", like)
    for i, x in ipairs(got) do
      assert.are.equal(vk.name, x.device)
      assert.are.same(H.values(cpu[i]), H.values(x))
    end
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", V.assert_validation_silent)
end)
