-- Filters and comparisons (lua/lunox/filters.lua): filter, partition,
-- combine, the is_* predicates, apply_updates and tree_equal, with
-- Equinox's semantics. Filtered-out leaves are empty subtrees: nil in a
-- Module field, lx.none in a list or dict.
local lx = require("lunox")
local T = lx.tree

local raises = require("spec.support.array_helpers").raises
local snapshot = require("spec.support.tree_helpers").snapshot

local none = lx.none
local function is_none(x) return rawequal(x, none) end

local Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" }, static = { "in_features", "out_features" },
})
function Linear:init(in_features, out_features, opts)
  opts = opts or {}
  self.weight = lx.full({ out_features, in_features }, opts.fill or 1)
  if opts.use_bias == false then self.bias = nil else self.bias = lx.zeros({ out_features }) end
  self.in_features = in_features
  self.out_features = out_features
end

local MLP = lx.Module:extend("MLP", { fields = { "layers", "activation" } })
function MLP:init(sizes, activation)
  local layers = {}
  for i = 1, #sizes - 1 do layers[i] = Linear(sizes[i], sizes[i + 1], { fill = i }) end
  self.layers = layers
  self.activation = activation or math.abs
end

describe("lx.filter", function()
  it("keeps the leaves a predicate selects; others become nil in Module fields", function()
    local m = MLP({ 2, 3, 1 })
    local f = lx.filter(m, lx.is_array)
    assert.are.equal(MLP, getmetatable(f))
    assert.is_nil(f.activation)
    assert.is_true(rawequal(m.layers[1].weight, f.layers[1].weight))
    assert.is_true(rawequal(m.layers[2].bias, f.layers[2].bias))
    assert.are.equal(3, f.layers[1].out_features)
  end)

  it("makes filtered-out list and dict entries lx.none", function()
    local a = lx.zeros({ 2 })
    local f = lx.filter({ 1, "s", a, { k = 2 } }, lx.is_array)
    assert.are.equal(4, #f)
    assert.is_true(is_none(f[1]))
    assert.is_true(is_none(f[2]))
    assert.is_true(rawequal(a, f[3]))
    assert.is_true(is_none(f[4].k))
  end)

  it("takes a boolean for all or nothing", function()
    local m = MLP({ 2, 3 })
    local all = lx.filter(m, true)
    local nothing = lx.filter(m, false)
    assert.are.equal(3, #T.leaves(all))
    assert.are.equal(0, #T.leaves(nothing))
    assert.is_nil(nothing.layers[1].weight)
    assert.is_nil(nothing.activation)
  end)

  it("takes a prefix tree of booleans", function()
    local f = lx.filter({ a = { 1, 2 }, b = { 3, 4 } }, { a = true, b = false })
    assert.are.same({ 1, 2 }, f.a)
    assert.is_true(is_none(f.b[1]) and is_none(f.b[2]))
  end)

  it("takes a prefix tree mixing booleans and predicates", function()
    local f = lx.filter({ a = { 1, 2 }, b = { 3, 4 } },
      { a = function(x) return x > 1 end, b = true })
    assert.is_true(is_none(f.a[1]))
    assert.are.equal(2, f.a[2])
    assert.are.same({ 3, 4 }, f.b)
  end)

  it("takes a Module-shaped filter spec made with map and tree_at, Equinox-style", function()
    local m = MLP({ 2, 3, 1 })
    local spec = T.map(function() return false end, m)
    spec = lx.tree_at(function(s) return s.layers[2] end, spec, true)
    local f = lx.filter(m, spec)
    assert.is_nil(f.layers[1].weight)
    assert.is_nil(f.layers[1].bias)
    assert.is_true(rawequal(m.layers[2].weight, f.layers[2].weight))
    assert.is_true(rawequal(m.layers[2].bias, f.layers[2].bias))
    assert.is_nil(f.activation)
  end)

  it("inverts the selection with inverse", function()
    local a = lx.zeros({ 2 })
    local f = lx.filter({ 1, a }, lx.is_array, { inverse = true })
    assert.are.equal(1, f[1])
    assert.is_true(is_none(f[2]))
  end)

  it("puts replace in the place of filtered-out leaves", function()
    local f = lx.filter({ 1, "s", lx.zeros({ 1 }) }, lx.is_array, { replace = 0 })
    assert.are.equal(0, f[1])
    assert.are.equal(0, f[2])
    assert.is_true(lx.is_array(f[3]))
  end)

  it("applies the predicate to nodes that is_leaf makes leaves", function()
    local l1, l2 = Linear(1, 1), Linear(1, 2)
    local seen = {}
    local f = lx.filter({ l1, l2, 5 }, function(x)
      seen[#seen + 1] = x
      return lx.is_module(x) and x.out_features == 2
    end, { is_leaf = lx.is_module })
    assert.are.equal(3, #seen)
    assert.is_true(rawequal(l1, seen[1]))
    assert.is_true(is_none(f[1]))
    assert.is_true(rawequal(l2, f[2]))
    assert.is_true(is_none(f[3]))
  end)

  it("keeps empty subtrees empty", function()
    local f = lx.filter(Linear(2, 2, { use_bias = false }), true)
    assert.is_nil(f.bias)
    assert.are.equal(1, #T.leaves(f))
  end)

  it("raises on a filter_spec leaf that is neither a boolean nor a callable", function()
    raises("lx.filter: `filter_spec` must consist of booleans and callables only, got number",
      lx.filter, { a = { 1, 2 } }, { a = 1 })
  end)

  it("raises, naming lx.filter, when filter_spec is not a prefix of the tree", function()
    raises({ "lx.filter", "the keys differ" }, lx.filter, { a = { 1 }, b = { 2 } }, { a = true })
  end)

  it("raises on bad options", function()
    raises("lx.filter: options must be a table, got number", lx.filter, { 1 }, true, 3)
    raises("lx.filter: unknown option 'inverted' (expected inverse, is_leaf, replace)",
      lx.filter, { 1 }, true, { inverted = true })
  end)
end)

describe("lx.partition", function()
  it("splits a tree into the selected leaves and the rest", function()
    local m = MLP({ 2, 3, 1 })
    local params, static = lx.partition(m, lx.is_array)
    assert.are.equal(4, #T.leaves(params))
    assert.is_nil(params.activation)
    assert.are.same({ math.abs }, T.leaves(static))
    assert.is_nil(static.layers[1].weight)
    assert.are.equal(MLP, getmetatable(static))
    assert.are.equal(2, static.layers[1].in_features)
  end)

  it("puts replace in both parts", function()
    local kept, rest = lx.partition({ 1, "s" }, function(x) return type(x) == "number" end, { replace = "-" })
    assert.are.same({ 1, "-" }, kept)
    assert.are.same({ "-", "s" }, rest)
  end)

  it("takes a prefix tree and is_leaf", function()
    local l = Linear(1, 1)
    local kept, rest = lx.partition({ a = l, b = { 1, 2 } }, { a = true, b = function(x) return x == 2 end },
      { is_leaf = lx.is_module })
    assert.is_true(rawequal(l, kept.a))
    assert.are.same({ b = { none, 2 } }, { b = kept.b })
    assert.is_true(is_none(rest.a))
    assert.are.equal(1, rest.b[1])
  end)

  it("refuses inverse", function()
    raises("lx.partition: unknown option 'inverse'", lx.partition, { 1 }, true, { inverse = true })
  end)
end)

describe("lx.combine", function()
  it("puts a partitioned tree back together", function()
    local m = MLP({ 2, 3, 1 })
    local params, static = lx.partition(m, lx.is_array)
    local back = lx.combine(params, static)
    assert.is_true(T.structure(back) == T.structure(m))
    local a, b = T.leaves(m), T.leaves(back)
    for i = 1, #a do assert.is_true(rawequal(a[i], b[i])) end
  end)

  it("takes each leaf from the first tree that has it, over several trees", function()
    local out = lx.combine({ 1, none, none, none }, { 9, 2, none, none }, { 9, 9, 3, none })
    assert.are.equal(1, out[1])
    assert.are.equal(2, out[2])
    assert.are.equal(3, out[3])
    assert.is_true(is_none(out[4]))
  end)

  it("treats nil Module fields as missing", function()
    local l1 = lx.filter(Linear(2, 2, { fill = 1 }), function(x) return x.ndim == 2 end)
    local l2 = lx.filter(Linear(2, 2, { fill = 5 }), function(x) return x.ndim == 1 end)
    local out = lx.combine(l1, l2)
    assert.are.same({ { 1, 1 }, { 1, 1 } }, out.weight:tolist())
    assert.is_true(rawequal(l2.bias, out.bias))
  end)

  it("returns a single tree unchanged in content", function()
    assert.are.same({ 1, { 2 } }, lx.combine({ 1, { 2 } }))
  end)

  it("keeps false leaves (only nil and lx.none are missing)", function()
    assert.are.same({ false }, lx.combine({ false }, { true }))
  end)

  it("raises without trees", function()
    raises("lx.combine: expected at least one tree", lx.combine)
  end)
end)

describe("is_array, is_array_like, is_inexact_array", function()
  local dtypes = { "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "uint32", "bool" }
  local inexact = { float32 = true, float64 = true, float16 = true, bfloat16 = true }

  it("is_array is true for arrays of every dtype only", function()
    for _, d in ipairs(dtypes) do assert.is_true(lx.is_array(lx.zeros({ 2 }, d)), d) end
    assert.is_true(lx.is_array(lx.array(3)))
    for _, v in ipairs({ 1, 1.5, true, "s", {}, print, Linear(1, 1) }) do
      assert.is_false(lx.is_array(v), tostring(v))
    end
    assert.is_false(lx.is_array(nil))
    assert.is_false(lx.is_array(none))
  end)

  it("is_array_like adds numbers and booleans", function()
    assert.is_true(lx.is_array_like(lx.zeros({ 1 }, "int32")))
    assert.is_true(lx.is_array_like(1))
    assert.is_true(lx.is_array_like(2.5))
    assert.is_true(lx.is_array_like(false))
    assert.is_false(lx.is_array_like("1"))
    assert.is_false(lx.is_array_like({ 1 }))
    assert.is_false(lx.is_array_like(nil))
    assert.is_false(lx.is_array_like(print))
  end)

  it("is_inexact_array is true for floating dtypes only", function()
    for _, d in ipairs(dtypes) do
      assert.are.equal(inexact[d] == true, lx.is_inexact_array(lx.zeros({ 2 }, d)), d)
    end
    assert.is_false(lx.is_inexact_array(1.5))
    assert.is_false(lx.is_inexact_array("float32"))
  end)
end)

describe("lx.apply_updates", function()
  it("adds updates leaf by leaf", function()
    local out = lx.apply_updates({ a = lx.ones({ 2 }), b = 3 }, { a = lx.full({ 2 }, 0.5), b = 4 })
    assert.are.same({ 1.5, 1.5 }, out.a:tolist())
    assert.are.equal(7, out.b)
  end)

  it("skips lx.none updates, keeping the model's leaf", function()
    local a = lx.ones({ 2 })
    local out = lx.apply_updates({ a, "not a number" }, { lx.full({ 2 }, 2), none })
    assert.are.same({ 3, 3 }, out[1]:tolist())
    assert.are.equal("not a number", out[2])
  end)

  it("skips nil updates from a partitioned model (functions and other leaves kept)", function()
    local m = MLP({ 2, 3, 1 })
    local params = lx.filter(m, lx.is_inexact_array)
    local updates = T.map(function(p) return lx.full(p.shape, 0.25) end, params)
    assert.is_nil(updates.activation)
    local out = lx.apply_updates(m, updates)
    assert.are.equal(MLP, getmetatable(out))
    assert.is_true(rawequal(math.abs, out.activation))
    assert.are.same({ { 1.25, 1.25 }, { 1.25, 1.25 }, { 1.25, 1.25 } }, out.layers[1].weight:tolist())
    assert.are.same({ 0.25 }, out.layers[2].bias:tolist())
  end)

  it("skips a nil update for one weight set with tree_at", function()
    local l = Linear(1, 1)
    local updates = lx.tree_at(function(u) return u.bias end, T.map(function(x) return x + 1 end, l), nil)
    local out = lx.apply_updates(l, updates)
    assert.are.same({ { 3 } }, out.weight:tolist())
    assert.is_true(rawequal(l.bias, out.bias))
  end)

  it("raises, naming lx.apply_updates, when the update tree does not match", function()
    raises({ "lx.apply_updates", "expected a list of" }, lx.apply_updates, { lx.ones({ 1 }) }, { 1, 2 })
  end)
end)

describe("lx.tree_equal", function()
  it("is true for equal leaves and structure", function()
    assert.is_true(lx.tree_equal({ 1, "s", lx.ones({ 2 }) }, { 1, "s", lx.ones({ 2 }) }))
    assert.is_true(lx.tree_equal(MLP({ 2, 3, 1 }), MLP({ 2, 3, 1 })))
    assert.is_true(lx.tree_equal(nil, none))
    assert.is_true(lx.tree_equal({}, {}))
  end)

  it("is false when array values differ", function()
    assert.is_false(lx.tree_equal(lx.array({ 1, 2 }), lx.array({ 1, 3 })))
    assert.is_false(lx.tree_equal(lx.array({ true, false }), lx.array({ true, true })))
  end)

  it("is false when shapes differ, even with the same number of elements", function()
    assert.is_false(lx.tree_equal(lx.zeros({ 2, 3 }), lx.zeros({ 3, 2 })))
    assert.is_false(lx.tree_equal(lx.zeros({ 1, 2 }), lx.zeros({ 2 })))
    assert.is_false(lx.tree_equal(lx.ones({ 2 }), lx.ones({ 3 })))
  end)

  it("is false when dtypes differ", function()
    assert.is_false(lx.tree_equal(lx.ones({ 2 }), lx.ones({ 2 }, "float64")))
    assert.is_false(lx.tree_equal(lx.array({ 1, 2 }, "int64"), lx.array({ 1, 2 }, "int32")))
  end)

  it("compares empty and 0-d arrays", function()
    assert.is_true(lx.tree_equal(lx.zeros({ 0 }), lx.zeros({ 0 })))
    assert.is_true(lx.tree_equal(lx.array(2), lx.array(2)))
    assert.is_false(lx.tree_equal(lx.array(2), lx.array(3)))
  end)

  it("is false when an array meets a non-array", function()
    assert.is_false(lx.tree_equal({ lx.array({ 1 }) }, { { 1 } }))
    assert.is_false(lx.tree_equal({ "1" }, { lx.zeros({ 1 }) }))
  end)

  it("is false when structures differ", function()
    assert.is_false(lx.tree_equal({ 1, 2 }, { 1, 2, 3 }))
    assert.is_false(lx.tree_equal({ a = 1 }, { b = 1 }))
    assert.is_false(lx.tree_equal({ 1, { 2 } }, { 1, 2 }))
    assert.is_false(lx.tree_equal(Linear(2, 3), Linear(2, 3, { use_bias = false })))
    assert.is_false(lx.tree_equal(MLP({ 2, 3 }), MLP({ 2, 3, 1 })))
    assert.is_false(lx.tree_equal({ 1, none }, { 1, 2 }))
  end)

  it("is false when static fields differ", function()
    local Named = lx.Module:extend("Named", { fields = { "w" }, static = { "name" } })
    function Named:init(name) self.w = lx.ones({ 1 }); self.name = name end
    assert.is_true(lx.tree_equal(Named("a"), Named("a")))
    assert.is_false(lx.tree_equal(Named("a"), Named("b")))
  end)

  it("is true for modules with value-equal table static fields", function()
    local Conv = lx.Module:extend("Conv", { fields = { "w" }, static = { "kernel" } })
    function Conv:init(kernel) self.w = lx.ones({ 1 }); self.kernel = kernel end
    local k = { 3, 3 }
    assert.is_true(lx.tree_equal({ Conv(k), Conv(k) }, { Conv({ 3, 3 }), Conv({ 3, 3 }) }))
  end)

  it("is false when non-array leaves differ", function()
    assert.is_false(lx.tree_equal({ 1 }, { 2 }))
    assert.is_false(lx.tree_equal({ "a" }, { "b" }))
    assert.is_false(lx.tree_equal({ print }, { math.abs }))
    assert.is_false(lx.tree_equal(1, "1"))
  end)

  it("uses rtol: |x - y| <= atol + rtol * |y|", function()
    local x, y = lx.array({ 1, 2 }), lx.array({ 1, 2.001 })
    assert.is_false(lx.tree_equal(x, y))
    assert.is_true(lx.tree_equal(x, y, { rtol = 0.01 }))
    assert.is_false(lx.tree_equal(x, y, { rtol = 1e-4 }))
  end)

  it("uses atol", function()
    local x, y = lx.array({ 0, 5 }), lx.array({ 0.05, 5 })
    assert.is_true(lx.tree_equal(x, y, { atol = 0.1 }))
    assert.is_false(lx.tree_equal(x, y, { atol = 0.01 }))
  end)

  it("compares float64 within a tolerance below float32's resolution", function()
    local x, y = lx.array({ 1, 2 }, "float64"), lx.array({ 1, 2 + 1e-12 }, "float64")
    assert.is_false(lx.tree_equal(x, y))
    assert.is_true(lx.tree_equal(x, y, { rtol = 1e-9 }))
  end)

  it("compares integer arrays exactly even with a tolerance", function()
    local x, y = lx.array({ 1, 2 }, "int32"), lx.array({ 1, 3 }, "int32")
    assert.is_false(lx.tree_equal(x, y, { rtol = 0.5, atol = 1 }))
    assert.is_true(lx.tree_equal(x, x, { rtol = 0.5 }))
  end)

  it("treats NaN as unequal, with or without a tolerance", function()
    local nan = lx.array({ 0 / 0, 1 })
    assert.is_false(lx.tree_equal(nan, lx.array({ 0 / 0, 1 })))
    assert.is_false(lx.tree_equal(nan, lx.array({ 0 / 0, 1 }), { atol = 1 }))
  end)

  it("treats infinities of the same sign as equal, as NumPy's allclose does", function()
    local inf = lx.array({ 1 / 0, 1 })
    assert.is_true(lx.tree_equal(inf, lx.array({ 1 / 0, 1 })))
    assert.is_true(lx.tree_equal(inf, lx.array({ 1 / 0, 1 }), { rtol = 1e-5 }))
  end)

  it("never treats infinities of opposite signs as close", function()
    assert.is_false(lx.tree_equal(lx.array({ -1 / 0 }), lx.array({ 1 / 0 })))
    assert.is_false(lx.tree_equal(lx.array({ -1 / 0 }), lx.array({ 1 / 0 }), { rtol = 1e-5 }))
    assert.is_false(lx.tree_equal(lx.array({ 1 / 0 }), lx.array({ 1 }), { atol = 1 }))
  end)

  it("compares numbers by value without typematch", function()
    assert.is_true(lx.tree_equal(1, 1.0))
    assert.is_true(lx.tree_equal({ 2 }, { 4 / 2 }))
  end)

  it("with typematch, requires leaves of the same type", function()
    assert.is_false(lx.tree_equal({ 1 }, { true }, { typematch = true }))
    assert.is_false(lx.tree_equal({ 1 }, { "1" }, { typematch = true }))
    assert.is_true(lx.tree_equal({ 1, "a" }, { 1, "a" }, { typematch = true }))
    assert.is_true(lx.tree_equal(lx.ones({ 2 }), lx.ones({ 2 }), { typematch = true }))
  end)

  it("with typematch, tells integers from floats where the host has math.type", function()
    if math.type then
      assert.is_false(lx.tree_equal(1, 1.0, { typematch = true }))
      assert.is_true(lx.tree_equal(1.0, 1.0, { typematch = true }))
      assert.is_true(lx.tree_equal(1, 1, { typematch = true }))
    else
      -- LuaJIT has one number type: 1 and 1.0 are the same value.
      assert.is_true(lx.tree_equal(1, 1.0, { typematch = true }))
    end
  end)

  it("raises on bad tolerances and options", function()
    raises("lx.tree_equal: rtol and atol must be non-negative numbers", lx.tree_equal, 1, 1, { rtol = -1 })
    raises("lx.tree_equal: rtol and atol must be non-negative numbers", lx.tree_equal, 1, 1, { atol = "x" })
    raises("lx.tree_equal: unknown option 'foo' (expected atol, rtol, typematch)", lx.tree_equal, 1, 1, { foo = 1 })
  end)
end)

describe("filters leave their inputs unchanged", function()
  it("filter, partition, combine, apply_updates and tree_equal", function()
    local m = MLP({ 2, 3, 1 })
    local t = { model = m, extra = { 1, none, "s" } }
    local check = snapshot(t)
    local spec = { model = lx.is_array, extra = { true, false, true } }
    local check_spec = snapshot(spec)
    lx.filter(t, spec)
    lx.filter(t, lx.is_array, { inverse = true, replace = 0 })
    local kept, rest = lx.partition(t, lx.is_array)
    local ck, cr = snapshot(kept), snapshot(rest)
    lx.combine(kept, rest)
    local updates = T.map(function(x) return x * 0 end, lx.filter(m, lx.is_array))
    local cu = snapshot(updates)
    lx.apply_updates(m, updates)
    lx.tree_equal(t, t, { rtol = 1e-3 })
    check()
    check_spec()
    ck()
    cr()
    cu()
  end)
end)
