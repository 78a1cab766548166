-- lx.random on Vulkan: keys that live on the device draw exactly the CPU's
-- bits, keys, uniforms and integers in both schemes (threefry and the
-- float assembly are exact integer and correctly rounded arithmetic);
-- normal and truncated_normal go through erf_inv, whose log1p may differ
-- from glibc's by an ulp, so they are compared within 2 ulps. ctest runs
-- this file with the Khronos validation layer on.
local lx = require("lunox")
local V = require("spec.support.vulkan_helpers")
if V.skip_without_device("vulkan random", describe, it, pending) then return end

local vk = V.device()
local jr = lx.random

local with_scheme = require("spec.support.random_helpers").with_scheme

local function same(cpu, gpu, what)
  assert.are.equal(vk.name, gpu.device, what)
  assert.are.equal(cpu.dtype, gpu.dtype, what)
  assert.are.same(cpu:tolist(), gpu:to("cpu"):tolist(), what)
end

-- Within `ulps` units in the last place of float32.
local function close_f32(cpu, gpu, ulps, what)
  local a, b = cpu:reshape({ cpu.size }):tolist(), gpu:to("cpu"):reshape({ gpu.size }):tolist()
  for i = 1, #a do
    local m = math.abs(a[i])
    local e = m > 0 and math.floor(math.log(m, 2)) or -126
    local ulp = 2 ^ (math.max(e, -126) - 23)
    assert.is_true(math.abs(a[i] - b[i]) <= ulps * ulp,
      ("%s: element %d: cpu %.9g, vulkan %.9g"):format(what, i, a[i], b[i]))
  end
end

for _, partitionable in ipairs({ true, false }) do
  local scheme = partitionable and "partitionable" or "original"
  describe("vulkan random, " .. scheme .. " scheme", function()
    local kc = jr.PRNGKey(1701)
    local kv = kc:to(vk.name)

    it("split, fold_in and threefry2x32", function()
      with_scheme(partitionable, function()
        same(jr.split(kc, 5), jr.split(kv, 5), "split")
        same(jr.split(kc, 0), jr.split(kv, 0), "split 0")
        same(jr.fold_in(kc, 77), jr.fold_in(kv, 77), "fold_in")
        same(jr.threefry2x32(kc, 0x243f6a88, 0x85a308d3),
          jr.threefry2x32(kv, 0x243f6a88, 0x85a308d3), "threefry2x32")
      end)
    end)

    it("bits of every width it has, odd sizes", function()
      with_scheme(partitionable, function()
        for _, n in ipairs({ 1, 3, 33, 1000, 200001 }) do
          same(jr.bits(kc, { n }), jr.bits(kv, { n }), "bits32 " .. n)
          same(jr.bits(kc, { n }, "uint8"), jr.bits(kv, { n }, "uint8"), "bits8 " .. n)
          if V.supported("uint16") then
            same(jr.bits(kc, { n }, "uint16"), jr.bits(kv, { n }, "uint16"), "bits16 " .. n)
          end
          if V.supported("uint64") then
            local c, g = jr.bits(kc, { n }, "uint64"), jr.bits(kv, { n }, "uint64")
            assert.are.equal(tostring(c), tostring(g:to("cpu")), "bits64 " .. n)
          end
        end
      end)
    end)

    it("uniform in every float dtype the device has", function()
      with_scheme(partitionable, function()
        for _, dt in ipairs({ "float32", "float16", "bfloat16", "float64" }) do
          if V.supported(dt) then
            same(jr.uniform(kc, { 4, 37 }, dt, -2, 3), jr.uniform(kv, { 4, 37 }, dt, -2, 3),
              "uniform " .. dt)
          end
        end
        same(jr.uniform(kc, { 7 }, "float32", lx.array({ 0, 1, 2, 3, 4, 5, 6 }), 10),
          jr.uniform(kv, { 7 }, "float32", lx.array({ 0, 1, 2, 3, 4, 5, 6 }), 10), "array bounds")
      end)
    end)

    it("randint in every integer dtype, with JAX's span rules", function()
      with_scheme(partitionable, function()
        for _, dt in ipairs({ "int32", "int64", "uint8", "uint32", "uint16", "uint64" }) do
          if V.supported(dt) then
            same(jr.randint(kc, { 50 }, -3, 200, dt), jr.randint(kv, { 50 }, -3, 200, dt),
              "randint " .. dt)
          end
        end
        same(jr.randint(kc, { 20 }, 0, 256, "uint8"), jr.randint(kv, { 20 }, 0, 256, "uint8"),
          "randint full uint8")
        same(jr.randint(kc, { 9 }, 4, 4), jr.randint(kv, { 9 }, 4, 4), "empty span")
      end)
    end)

    it("bernoulli and permutation", function()
      with_scheme(partitionable, function()
        same(jr.bernoulli(kc, 0.3, { 40 }), jr.bernoulli(kv, 0.3, { 40 }), "bernoulli")
        same(jr.permutation(kc, 50), jr.permutation(kv, 50), "permutation")
        local x = lx.arange(24):reshape({ 4, 6 })
        same(jr.permutation(kc, x, 2), jr.permutation(kv, x:to(vk.name), 2), "permutation axis 2")
        same(jr.permutation(kc, x, 2, true), jr.permutation(kv, x:to(vk.name), 2, true),
          "independent permutation")
      end)
    end)

    it("normal and truncated_normal within 2 ulps", function()
      with_scheme(partitionable, function()
        close_f32(jr.normal(kc, { 500 }), jr.normal(kv, { 500 }), 2, "normal")
        close_f32(jr.truncated_normal(kc, -1, 2, { 500 }), jr.truncated_normal(kv, -1, 2, { 500 }),
          2, "truncated_normal")
      end)
    end)
  end)
end

describe("vulkan erf and erf_inv", function()
  it("match the CPU within 2 ulps over (-1, 1) and [-5, 5]", function()
    local n = 2001
    local u = (lx.arange(n) - 1000) / 1000.5
    close_f32(lx.erf_inv(u), lx.erf_inv(u:to(vk.name)), 2, "erf_inv")
    local x = (lx.arange(n) - 1000) / 200
    close_f32(lx.erf(x), lx.erf(x:to(vk.name)), 2, "erf")
    local edges = lx.array({ -1, 1, 0 })
    assert.are.same(lx.erf_inv(edges):tolist(), lx.erf_inv(edges:to(vk.name)):to("cpu"):tolist())
  end)

  it("float64 erf and erf_inv match the CPU within 2 ulps", function()
    local u = lx.array(((lx.arange(2001) - 1000) / 1000.5):tolist(), "float64")
    V.assert_ulps64(lx.erf_inv(u), lx.erf_inv(u:to(vk.name)), 2, "erf_inv float64")
    local x = lx.array(((lx.arange(2001) - 1000) / 200):tolist(), "float64")
    V.assert_ulps64(lx.erf(x), lx.erf(x:to(vk.name)), 2, "erf float64")
  end)
end)

describe("vulkan validation layer", function()
  it("reported nothing during this file", V.assert_validation_silent)
end)
