-- lx.nn's core layers on Vulkan: built on the CPU, moved to the device
-- with lx.tree.map, called on device inputs; results equal the CPU's within
-- float32 rounding (matmul sums in another order). Keys on the device
-- draw the CPU's weights exactly. ctest runs this file with the validation
-- layer on.
local lx = require("lunox")
local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan nn", describe, it, pending) then return end

local vk = V.device()
local nn, jr = lx.nn, lx.random

local function to_device(tree)
  return lx.tree.map(function(x) if lx.is_array(x) then return x:to(vk.name) end return x end, tree)
end

local function close(cpu, gpu, tol, what)
  assert.are.equal(vk.name, gpu.device, what)
  local a, b = cpu:reshape({ cpu.size }):tolist(), gpu:to("cpu"):reshape({ gpu.size }):tolist()
  for i = 1, #a do
    assert.is_true(math.abs(a[i] - b[i]) <= tol * math.max(1, math.abs(a[i])),
      ("%s: element %d: cpu %.9g, vulkan %.9g"):format(what, i, a[i], b[i]))
  end
end

describe("vulkan nn", function()
  local key = jr.PRNGKey(21)

  it("a key on the device draws the CPU's weights", function()
    local cpu = nn.MLP(3, 2, 8, 2, { key = key })
    local gpu = nn.MLP(3, 2, 8, 2, { key = key:to(vk.name) })
    for i, leaf in ipairs(lx.tree.leaves(gpu)) do
      if lx.is_array(leaf) then
        assert.are.equal(vk.name, leaf.device)
        assert.are.same(lx.tree.leaves(cpu)[i]:tolist(), leaf:to("cpu"):tolist())
      end
    end
  end)

  it("Linear, MLP (plain and scan) and activations", function()
    local x = lx.array({ 0.5, -1.5, 2.0 })
    local xv = x:to(vk.name)
    local lin = nn.Linear(3, 4, { key = key })
    close(lin(x), to_device(lin)(xv), 1e-6, "Linear")
    for _, scan in ipairs({ false, true }) do
      for _, act in ipairs({ nn.relu, nn.gelu, nn.silu, nn.softplus, lx.tanh }) do
        local m = nn.MLP(3, 2, 6, 3, { key = key, scan = scan, activation = act,
          final_activation = nn.softmax })
        close(m(x), to_device(m)(xv), 1e-5, "MLP scan=" .. tostring(scan))
      end
    end
    local g = lx.array({ -2, -0.5, 0, 1, 3 })
    close(nn.gelu(g, false), nn.gelu(g:to(vk.name), false), 1e-6, "exact gelu")
    close(nn.log_softmax(g), nn.log_softmax(g:to(vk.name)), 1e-6, "log_softmax")
  end)

  it("MLP in float64, float16 and bfloat16 where the device has them", function()
    for dt, tol in pairs({ float64 = 1e-12, float16 = 2e-3, bfloat16 = 1e-2 }) do
      if V.supported(dt) then
        local m = nn.MLP(3, 2, 8, 2, { key = key, dtype = dt })
        local x = lx.array({ 0.25, -1, 0.5 }, dt)
        local y = to_device(m)(x:to(vk.name))
        assert.are.equal(dt, y.dtype)
        close(m(x):astype("float64"), y:astype("float64"), tol, "MLP " .. dt)
      end
    end
  end)

  it("a CPU key drives Dropout on device inputs", function()
    local x = lx.ones({ 32 })
    local d = nn.Dropout(0.5)
    close(d(x, { key = key }), d(x:to(vk.name), { key = key }), 0, "Dropout")
  end)

  it("Sequential with Dropout draws the same mask on the device", function()
    local seq = nn.Sequential({ nn.Linear(3, 16, { key = key }), nn.Dropout(0.5) })
    local x = lx.array({ 1, 2, 3 })
    close(seq(x, { key = key }), to_device(seq)(x:to(vk.name), { key = key:to(vk.name) }),
      1e-6, "Sequential")
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", V.assert_validation_silent)
end)
