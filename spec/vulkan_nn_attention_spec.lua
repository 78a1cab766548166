-- MultiheadAttention, GRUCell and LSTMCell on Vulkan (lavapipe here): each
-- layer is built on the CPU, moved to the device leaf by leaf, called on
-- device inputs, and compared with the CPU call within a few ulps (of the
-- result's largest magnitude). Dropout draws its mask on the device from a
-- device key: the same bits as the CPU's. ctest runs this file with
-- LUNOX_VULKAN_VALIDATION=1; the last test fails on any validation message.
-- Sizes stay small: lavapipe runs shaders on the CPU.
local lx = require("lunox")

local H = require("spec.support.array_helpers")
local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan nn attention", describe, it, pending) then return end

local nn, jr = lx.nn, lx.random

local EPS = { float32 = 2 ^ -23, float64 = 2 ^ -52, float16 = 2 ^ -10, bfloat16 = 2 ^ -7 }
local ULPS = 16

local function to_vulkan(tree)
  return lx.tree.map(function(x) return lx.is_array(x) and x:to("vulkan") or x end, tree)
end


-- Same shape and dtype; every element within ULPS ulps of the CPU result's
-- largest magnitude (matmul sums and exp/tanh/sigmoid differ slightly
-- between the backends).
local function assert_near(cpu, gpu, what)
  assert.are.equal("vulkan:0", gpu.device, what)
  local back = gpu:to("cpu")
  assert.are.same(cpu.shape, back.shape, what .. ": shape")
  assert.are.equal(cpu.dtype, back.dtype, what .. ": dtype")
  local x, y = H.values(cpu), H.values(back)
  local scale = 1
  for i = 1, #x do scale = math.max(scale, math.abs(x[i])) end
  local tol = ULPS * EPS[cpu.dtype] * scale
  for i = 1, #x do
    if not (math.abs(x[i] - y[i]) <= tol) then
      error(("%s: element %d: cpu %.17g, vulkan %.17g (tolerance %.3g)"):format(what, i, x[i],
        y[i], tol), 2)
    end
  end
end

local function input(shape, dtype, seed)
  return V.make(shape, dtype, seed)
end

local DTYPES = {}
for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
  if V.supported(dt) then DTYPES[#DTYPES + 1] = dt end
end

describe("vulkan nn: MultiheadAttention", function()
  for _, dt in ipairs(DTYPES) do
    it("matches the CPU with and without masks (" .. dt .. ")", function()
      local m = nn.MultiheadAttention(2, 4, 3, 5, 6, { key = jr.PRNGKey(1), dtype = dt,
        use_query_bias = true, use_output_bias = true })
      local g = to_vulkan(m)
      assert.are.equal("vulkan:0", g.query_proj.weight.device)
      assert.are.equal(m.num_heads, g.num_heads)
      local q, k, v = input({ 3, 4 }, dt, 1), input({ 5, 3 }, dt, 2), input({ 5, 5 }, dt, 3)
      local qg, kg, vg = q:to("vulkan"), k:to("vulkan"), v:to("vulkan")
      assert_near(m(q, k, v), g(qg, kg, vg), "no mask")
      local mask2 = V.make({ 3, 5 }, "bool", 4)
      assert_near(m(q, k, v, mask2), g(qg, kg, vg, mask2:to("vulkan")), "2-D mask")
      local mask3 = V.make({ 2, 3, 5 }, "bool", 5)
      assert_near(m(q, k, v, mask3), g(qg, kg, vg, mask3:to("vulkan")), "3-D mask")
    end)
  end

  it("draws the same dropout mask on the device", function()
    local m = nn.MultiheadAttention(2, 4, { key = jr.PRNGKey(2), dropout_p = 0.4 })
    local g = to_vulkan(m)
    local x = input({ 3, 4 }, "float32", 6)
    local key = jr.PRNGKey(11)
    local cpu = m(x, x, x, { key = key })
    local gpu = g(x:to("vulkan"), x:to("vulkan"), x:to("vulkan"), { key = key:to("vulkan") })
    assert_near(cpu, gpu, "dropout")
    local ok, err = pcall(g, x:to("vulkan"), x:to("vulkan"), x:to("vulkan"))
    assert.is_false(ok)
    assert.matches("needs a PRNG key", err, 1, true)
  end)
end)

describe("vulkan nn: GRUCell and LSTMCell", function()
  for _, dt in ipairs(DTYPES) do
    it("match the CPU over a few steps (" .. dt .. ")", function()
      local gru = nn.GRUCell(3, 4, { key = jr.PRNGKey(3), dtype = dt })
      local lstm = nn.LSTMCell(3, 4, { key = jr.PRNGKey(4), dtype = dt })
      local ggru, glstm = to_vulkan(gru), to_vulkan(lstm)
      local h, hg = input({ 4 }, dt, 7), nil
      hg = h:to("vulkan")
      local s = { input({ 4 }, dt, 8), input({ 4 }, dt, 9) }
      local sg = { s[1]:to("vulkan"), s[2]:to("vulkan") }
      for t = 1, 3 do
        local x = input({ 3 }, dt, 10 + t)
        h, hg = gru(x, h), ggru(x:to("vulkan"), hg)
        s, sg = lstm(x, s), glstm(x:to("vulkan"), sg)
        assert_near(h, hg, "gru step " .. t)
        assert_near(s[1], sg[1], "lstm h step " .. t)
        assert_near(s[2], sg[2], "lstm c step " .. t)
      end
    end)
  end

  it("reported nothing", V.assert_validation_silent)
end)
