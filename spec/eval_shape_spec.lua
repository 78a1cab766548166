-- lx.ShapeDtypeStruct and lx.filter_eval_shape: skeletons without memory.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local raises = H.raises

-- Resident set size of this process in bytes (Linux), or nil.
local function rss()
  local f = io.open("/proc/self/statm", "r")
  if not f then return nil end
  local pages = f:read("*n") and f:read("*n")
  f:close()
  return pages and pages * 4096
end

describe("lx.ShapeDtypeStruct", function()
  it("holds a shape and a dtype, and nothing else", function()
    local s = lx.ShapeDtypeStruct({ 3, 4 }, "bfloat16")
    assert.are.same({ 3, 4 }, s.shape)
    assert.are.equal("bfloat16", s.dtype)
    assert.are.equal(2, s.ndim)
    assert.are.equal(12, s.size)
    assert.are.equal("float32", lx.ShapeDtypeStruct({}).dtype)
    assert.are.same({ 5 }, lx.ShapeDtypeStruct(5).shape)
    assert.is_true(lx.is_shape_dtype_struct(s))
    assert.is_false(lx.is_array(s))
    assert.is_false(lx.is_shape_dtype_struct(lx.zeros({ 1 })))
  end)

  it("is immutable, compares by value and prints like an array in trees", function()
    local s = lx.ShapeDtypeStruct({ 3, 4 })
    raises("immutable", function() s.dtype = "float64" end)
    local shape = s.shape
    shape[1] = 99
    assert.are.same({ 3, 4 }, s.shape)
    assert.are.equal(lx.ShapeDtypeStruct({ 3, 4 }), s)
    assert.are_not.equal(lx.ShapeDtypeStruct({ 3, 4 }, "int32"), s)
    assert.are.equal("ShapeDtypeStruct(shape={3,4}, dtype=float32)", tostring(s))
    assert.are.equal("{b=bf16[], w=f32[3,4]}", lx.tree_pformat({ w = s,
      b = lx.ShapeDtypeStruct({}, "bfloat16") }))
    assert.are.equal(1, #lx.tree.leaves({ s }))
  end)

  it("refuses bad shapes and dtypes", function()
    raises("shape[2] must be a non-negative integer", lx.ShapeDtypeStruct, { 3, -1 })
    raises("shape[1] must be a non-negative integer", lx.ShapeDtypeStruct, { 2.5 })
    raises("unknown dtype float8", lx.ShapeDtypeStruct, { 3 }, "float8")
    raises("shape must be a list", lx.ShapeDtypeStruct, "3")
  end)
end)

describe("lx.filter_eval_shape", function()
  it("returns the result's arrays as ShapeDtypeStructs and other leaves as they are", function()
    local out = lx.filter_eval_shape(function(n)
      local w = lx.ones({ n, 3 }, "float64")
      return { w = lx.matmul(w, w.T) * 2, sum = lx.sum(w, 2), n = n, act = "tanh" }
    end, 5)
    assert.are.equal(lx.ShapeDtypeStruct({ 5, 5 }, "float64"), out.w)
    assert.are.equal(lx.ShapeDtypeStruct({ 5 }, "float64"), out.sum)
    assert.are.equal(5, out.n)
    assert.are.equal("tanh", out.act)
  end)

  it("builds the skeleton of a 10 GB model without allocating its memory", function()
    -- Ten 1 GiB layers of float32 (16384 x 16384), made with ordinary ops.
    local function make()
      local layers = {}
      for i = 1, 10 do
        local w = lx.zeros({ 16384, 16384 }) + i
        layers[i] = { weight = w * 0.02, bias = lx.ones({ 16384 }) }
      end
      return layers
    end
    collectgarbage()
    local before_bytes, before_rss = lx.memory_in_use(), rss()
    local skeleton = lx.filter_eval_shape(make)
    assert.are.equal(before_bytes, lx.memory_in_use())
    if before_rss then
      assert.is_true(rss() - before_rss < 64 * 2 ^ 20,
        ("RSS grew by %d bytes"):format(rss() - before_rss))
    end
    local total = 0
    for _, leaf in ipairs(lx.tree.leaves(skeleton)) do
      total = total + leaf.size * 4
    end
    assert.is_true(total > 10 * 2 ^ 30)
    assert.are.equal(lx.ShapeDtypeStruct({ 16384, 16384 }), skeleton[10].weight)
  end)

  it("builds the skeleton of a Module through its own init", function()
    local skeleton = lx.filter_eval_shape(S.MLP, 784, 10, 4096, 3)
    assert.is_true(lx.is_module(skeleton))
    assert.are.equal(lx.ShapeDtypeStruct({ 4096, 784 }), skeleton.layers[1].weight)
    assert.are.equal(lx.ShapeDtypeStruct({ 10 }), skeleton.layers[4].bias)
    assert.are.equal("tanh", skeleton.activation)
  end)

  it("checks shapes as usual and says that values cannot be read", function()
    raises("matmul: shapes {2,3} and {2,3} do not align", lx.filter_eval_shape, function()
      return lx.matmul(lx.ones({ 2, 3 }), lx.ones({ 2, 3 }))
    end)
    raises("no values", lx.filter_eval_shape, function() return lx.ones({ 2 }):tolist() end)
    raises("no values", lx.filter_eval_shape, function() return lx.ones({}):item() end)
    local printed
    lx.filter_eval_shape(function() printed = tostring(lx.ones({ 2, 3 })) end)
    assert.are.equal("ShapedArray(f32[2,3])", printed)
  end)

  it("ends abstract evaluation when fn raises, and nests", function()
    assert.has_error(function() lx.filter_eval_shape(function() error("boom") end) end)
    local a = lx.ones({ 2 })
    assert.is_false(lx.is_abstract(a))
    H.check_list(a, { 1, 1 }, "float32")
    local inner
    local outer = lx.filter_eval_shape(function()
      inner = lx.filter_eval_shape(function() return lx.zeros({ 3 }) end)
      return lx.zeros({ 4 })
    end)
    assert.are.equal(lx.ShapeDtypeStruct({ 3 }), inner)
    assert.are.equal(lx.ShapeDtypeStruct({ 4 }), outer)
    assert.is_false(lx.is_abstract(lx.zeros({ 1 })))
  end)

  it("refuses a coroutine yield inside fn, which would leave abstract mode on", function()
    local ok, err = pcall(coroutine.wrap(function()
      lx.filter_eval_shape(function() coroutine.yield() end)
    end))
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("yield across"), err)
    assert.is_false(lx.is_abstract(lx.array({ 1, 2 })))
  end)

  it("mixes captured concrete arrays with abstract ones", function()
    local c = lx.arange(3)
    local out = lx.filter_eval_shape(function()
      return { c + lx.ones({ 2, 3 }), lx.concatenate({ c, lx.zeros({ 2 }) }, 1),
        lx.where(lx.gt(c, 1), c, lx.zeros({ 3 })), c:astype("int32") }
    end)
    assert.are.equal(lx.ShapeDtypeStruct({ 2, 3 }), out[1])
    assert.are.equal(lx.ShapeDtypeStruct({ 5 }), out[2])
    assert.are.equal(lx.ShapeDtypeStruct({ 3 }), out[3])
    assert.are.equal(lx.ShapeDtypeStruct({ 3 }, "int32"), out[4])
    H.check_list(c, { 0, 1, 2 }, "float32")
  end)

  it("refuses a non-function", function()
    raises("lx.filter_eval_shape: fn must be a function", lx.filter_eval_shape, 3)
  end)
end)
