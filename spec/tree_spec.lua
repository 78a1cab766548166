-- lx.tree (lua/lunox/tree.lua over the C core in runtime/lua/binding_tree*.c):
-- the node rules of DESIGN.md ("Pytrees"), flatten/unflatten and treedefs,
-- map (several trees, is_leaf), key paths, registered types, and the errors
-- for trees the rules refuse. Every function is also checked to leave its
-- inputs as they were.
local lx = require("lunox")
local T = lx.tree

local raises = require("spec.support.array_helpers").raises
local snapshot = require("spec.support.tree_helpers").snapshot

local function values(a) return a:tolist() end

-- Equinox's Linear and an MLP holding a list of them.
local Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" }, static = { "in_features", "out_features" },
})
function Linear:init(in_features, out_features, opts)
  opts = opts or {}
  self.weight = lx.full({ out_features, in_features }, opts.fill or 0)
  if opts.use_bias == false then self.bias = nil else self.bias = lx.zeros({ out_features }) end
  self.in_features = in_features
  self.out_features = out_features
end

local MLP = lx.Module:extend("MLP", { fields = { "layers" }, static = { "activation" } })
function MLP:init(sizes, activation)
  local layers = {}
  for i = 1, #sizes - 1 do layers[i] = Linear(sizes[i], sizes[i + 1], { fill = i }) end
  self.layers = layers
  self.activation = activation or "relu"
end

describe("lx.tree.leaves and structure", function()
  it("lists the leaves of a list in order", function()
    local leaves = T.leaves({ 1, "two", true })
    assert.are.same({ 1, "two", true }, leaves)
  end)

  it("treats a non-table value as a single leaf", function()
    assert.are.same({ 5 }, T.leaves(5))
    assert.are.same({ "s" }, T.leaves("s"))
    assert.are.equal("PyTreeDef(*)", tostring(T.structure(5)))
  end)

  it("gives an empty table and nil no leaves", function()
    assert.are.same({}, T.leaves({}))
    assert.are.same({}, T.leaves(nil))
    assert.are.same({}, T.leaves(lx.none))
    assert.are.equal("PyTreeDef({})", tostring(T.structure({})))
    assert.are.equal("PyTreeDef(none)", tostring(T.structure(nil)))
    assert.are.equal("PyTreeDef(none)", tostring(T.structure(lx.none)))
  end)

  it("walks nested lists depth first", function()
    assert.are.same({ 1, 2, 3, 4, 5 }, T.leaves({ 1, { 2, { 3, 4 } }, 5 }))
    assert.are.equal("PyTreeDef({*, {*, {*, *}}, *})", tostring(T.structure({ 1, { 2, { 3, 4 } }, 5 })))
  end)

  it("sorts dict keys: strings by bytes", function()
    local t = { zeta = 1, alpha = 2, Beta = 3, beta = 4 }
    assert.are.same({ 3, 2, 4, 1 }, T.leaves(t))
    assert.are.equal("PyTreeDef({Beta=*, alpha=*, beta=*, zeta=*})", tostring(T.structure(t)))
  end)

  it("sorts mixed integer and string keys: numbers ascending, then strings", function()
    local t = { 10, 20, x = "x", [0] = "zero", a = "a", [-3] = "neg" }
    assert.are.same({ "neg", "zero", 10, 20, "a", "x" }, T.leaves(t))
    assert.are.equal("PyTreeDef({[-3]=*, [0]=*, [1]=*, [2]=*, a=*, x=*})", tostring(T.structure(t)))
  end)

  it("orders float keys among the integers", function()
    local t = { [2.5] = "c", [1] = "a", [-0.5] = "n", [2] = "b", k = "k" }
    assert.are.same({ "n", "a", "b", "c", "k" }, T.leaves(t))
    assert.are.equal("PyTreeDef({[-0.5]=*, [1]=*, [2]=*, [2.5]=*, k=*})", tostring(T.structure(t)))
  end)

  it("quotes string keys that are not identifiers in the treedef", function()
    local t = { ["a b"] = 1, ["end"] = 2, ok = 3 }
    assert.are.equal('PyTreeDef({["a b"]=*, ["end"]=*, ok=*})', tostring(T.structure(t)))
  end)

  it("flattens Modules in declared field order, not alphabetical order", function()
    local ZA = lx.Module:extend("ZA", { fields = { "z", "a", "m" } })
    function ZA:init() self.z, self.a, self.m = "z", "a", "m" end
    assert.are.same({ "z", "a", "m" }, T.leaves(ZA()))
    assert.are.equal("PyTreeDef(ZA(z=*, a=*, m=*))", tostring(T.structure(ZA())))
  end)

  it("flattens an MLP like Equinox: layer by layer, weight then bias", function()
    local m = MLP({ 2, 3, 1 })
    local leaves = T.leaves(m)
    assert.are.equal(4, #leaves)
    assert.is_true(rawequal(m.layers[1].weight, leaves[1]))
    assert.is_true(rawequal(m.layers[1].bias, leaves[2]))
    assert.is_true(rawequal(m.layers[2].weight, leaves[3]))
    assert.is_true(rawequal(m.layers[2].bias, leaves[4]))
    assert.are.equal('PyTreeDef(MLP(layers={Linear(weight=*, bias=*, in_features=2, out_features=3), '
      .. 'Linear(weight=*, bias=*, in_features=3, out_features=1)}, activation="relu"))',
      tostring(T.structure(m)))
  end)

  it("makes a nil Module field an empty subtree with no leaves", function()
    local l = Linear(2, 3, { use_bias = false })
    local leaves, td = T.flatten(l)
    assert.are.equal(1, #leaves)
    assert.is_true(rawequal(l.weight, leaves[1]))
    assert.are.equal("PyTreeDef(Linear(weight=*, bias=none, in_features=2, out_features=3))", tostring(td))
  end)

  it("makes lx.none an empty subtree in lists and dicts", function()
    local leaves, td = T.flatten({ 1, lx.none, { a = lx.none, b = 2 } })
    assert.are.same({ 1, 2 }, leaves)
    assert.are.equal("PyTreeDef({*, none, {a=none, b=*}})", tostring(td))
  end)

  it("gives a Module field set to lx.none the same structure as a nil one", function()
    local Opt = lx.Module:extend("Opt", { fields = { "x", "y" } })
    function Opt:init(x) self.x = x; self.y = 1 end
    assert.is_true(T.structure(Opt(nil)) == T.structure(Opt(lx.none)))
    assert.are.equal(1, #T.leaves(Opt(lx.none)))
  end)

  it("keeps a Module's static fields in the treedef, not in the leaves", function()
    local l = Linear(4, 5)
    local leaves, td = T.flatten(l)
    assert.are.equal(2, #leaves)
    for _, leaf in ipairs(leaves) do assert.is_true(lx.is_array(leaf)) end
    assert.is_truthy(tostring(td):find("in_features=4, out_features=5", 1, true))
  end)

  it("treats functions as leaves", function()
    local f = function() end
    local leaves = T.leaves({ f, math.abs })
    assert.are.equal(2, #leaves)
    assert.is_true(rawequal(f, leaves[1]))
    assert.is_true(rawequal(math.abs, leaves[2]))
  end)

  it("treats tables with a metatable that is not a Module or registered as leaves", function()
    local obj = setmetatable({ 1, 2, 3 }, { __index = {} })
    local leaves, td = T.flatten({ obj, 4 })
    assert.are.equal(2, #leaves)
    assert.is_true(rawequal(obj, leaves[1]))
    assert.are.equal("PyTreeDef({*, *})", tostring(td))
  end)

  it("treats arrays, strings, booleans and Module classes as leaves", function()
    local a = lx.zeros({ 2 })
    local leaves = T.leaves({ a, "s", false, Linear })
    assert.are.equal(4, #leaves)
    assert.is_true(rawequal(a, leaves[1]))
    assert.are.equal(false, leaves[3])
    assert.is_true(rawequal(Linear, leaves[4]))
  end)

  it("accepts a tree that shares a subtree in two places (not a cycle)", function()
    local shared = { 1, 2 }
    assert.are.same({ 1, 2, 1, 2 }, T.leaves({ a = shared, b = shared }))
  end)

  it("calls is_leaf on nodes and stops there", function()
    local seen = {}
    local t = { a = { stop = true, 1, 2 }, b = { 3 } }
    local leaves = T.leaves(t, function(x)
      seen[#seen + 1] = x
      return type(x) == "table" and x.stop == true
    end)
    assert.are.equal(2, #leaves)
    assert.is_true(rawequal(t.a, leaves[1]))
    assert.are.equal(3, leaves[2])
    assert.is_true(rawequal(t, seen[1]))
  end)

  it("passes empty subtrees to is_leaf as lx.none and keeps them as leaves when asked", function()
    local l = Linear(2, 3, { use_bias = false })
    local leaves = T.leaves(l, function(x) return rawequal(x, lx.none) end)
    assert.are.equal(2, #leaves)
    assert.is_true(rawequal(lx.none, leaves[2]))
  end)

  it("refuses an is_leaf that is not callable", function()
    raises("is_leaf must be a function, got number", T.leaves, { 1 }, 3)
  end)
end)

describe("lx.tree.flatten and unflatten", function()
  it("round-trips lists, dicts and mixed keys", function()
    local t = { 1, { x = 2, [3] = 4, y = { 5, 6 } }, "s" }
    local leaves, td = T.flatten(t)
    local back = T.unflatten(td, leaves)
    assert.are.same(t, back)
    assert.is_false(rawequal(t, back))
    assert.is_false(rawequal(t[2], back[2]))
  end)

  it("round-trips float keys exactly", function()
    local t = { [0.25] = "a", [1e10] = "b", [-7] = "c" }
    local leaves, td = T.flatten(t)
    local back = T.unflatten(td, leaves)
    assert.are.equal("a", back[0.25])
    assert.are.equal("b", back[1e10])
    assert.are.equal("c", back[-7])
  end)

  it("puts new leaves in the places of the old ones", function()
    local _, td = T.flatten({ a = 1, b = { 2, 3 } })
    local back = T.unflatten(td, { "A", "B1", "B2" })
    assert.are.same({ a = "A", b = { "B1", "B2" } }, back)
  end)

  it("rebuilds Modules with their class, fields and static fields", function()
    local m = MLP({ 2, 3, 1 }, "tanh")
    local leaves, td = T.flatten(m)
    local back = T.unflatten(td, leaves)
    assert.is_true(lx.is_module(back))
    assert.are.equal(MLP, getmetatable(back))
    assert.are.equal(Linear, getmetatable(back.layers[2]))
    assert.are.equal("tanh", back.activation)
    assert.are.equal(3, back.layers[2].in_features)
    assert.are.equal(1, back.layers[2].out_features)
    assert.is_true(rawequal(m.layers[2].weight, back.layers[2].weight))
    assert.is_false(rawequal(m.layers[2], back.layers[2]))
  end)

  it("gives nil in a Module field and lx.none in lists and dicts for empty subtrees", function()
    local t = { Linear(2, 3, { use_bias = false }), lx.none, { k = lx.none } }
    local leaves, td = T.flatten(t)
    local back = T.unflatten(td, leaves)
    assert.is_nil(back[1].bias)
    assert.is_true(rawequal(lx.none, back[2]))
    assert.is_true(rawequal(lx.none, back[3].k))
    assert.are.equal(3, #back)
  end)

  it("turns a Module field given as lx.none into nil on unflatten", function()
    local Opt = lx.Module:extend("Opt", { fields = { "x" } })
    function Opt:init() self.x = lx.none end
    local back = T.unflatten(T.structure(Opt()), {})
    assert.is_nil(back.x)
  end)

  it("rebuilds registered-free leaves of any type, nil leaves given a count", function()
    local _, td = T.flatten({ 1, 2, 3 })
    local back = T.unflatten(td, { "a", nil, "c" }, 3)
    assert.are.equal("a", back[1])
    assert.is_true(rawequal(lx.none, back[2]))
    assert.are.equal("c", back[3])
  end)

  it("raises when the number of leaves does not match the treedef", function()
    local _, td = T.flatten({ 1, { 2, 3 } })
    raises("lx.tree.unflatten: the treedef has 3 leaves but 4 were given", T.unflatten, td, { 1, 2, 3, 4 })
    raises("lx.tree.unflatten: the treedef has 3 leaves but 2 were given", T.unflatten, td, { 1, 2 })
    raises("the treedef has 3 leaves but 1 were given", T.unflatten, td, { 1, 2, 3 }, 1)
  end)

  it("raises when unflatten is not given a treedef or a list", function()
    raises("lx.tree.unflatten: expected a treedef, got table", T.unflatten, {}, {})
    local _, td = T.flatten({ 1 })
    raises("lx.tree.unflatten: leaves must be a list, got number", T.unflatten, td, 5)
  end)

  it("does not modify the leaves list given to unflatten", function()
    local _, td = T.flatten({ 1, { 2 } })
    local leaves = { "a", "b" }
    local check = snapshot(leaves)
    T.unflatten(td, leaves)
    check()
  end)

  it("round-trips a tree nested 900 levels deep", function()
    local root = {}
    local cur = root
    for _ = 1, 899 do
      cur[1] = {}
      cur = cur[1]
    end
    cur[1] = "bottom"
    local leaves, td = T.flatten(root)
    assert.are.same({ "bottom" }, leaves)
    local back = T.unflatten(td, { "new" })
    for _ = 1, 899 do back = back[1] end
    assert.are.equal("new", back[1])
  end)
end)

describe("lx.tree.flatten_with_path and keystr", function()
  it("gives each leaf its key path, 1-based in lists", function()
    local m = MLP({ 2, 3, 1 })
    local pairs_ = T.flatten_with_path(m)
    local strs = {}
    for i, p in ipairs(pairs_) do
      strs[i] = T.keystr(p[1])
      assert.is_true(rawequal(T.leaves(m)[i], p[2]))
    end
    assert.are.same({ ".layers[1].weight", ".layers[1].bias", ".layers[2].weight", ".layers[2].bias" }, strs)
    assert.are.same({ "layers", 2, "weight" }, pairs_[3][1])
  end)

  it("returns the treedef as a second value", function()
    local t = { a = { 1 } }
    local _, td = T.flatten_with_path(t)
    assert.is_true(td == T.structure(t))
  end)

  it("uses keys of dicts, mixed and float keys in paths", function()
    local pairs_ = T.flatten_with_path({ [2.5] = "f", [0] = "z", ["a b"] = "q", x = { "y" } })
    local strs = {}
    for i, p in ipairs(pairs_) do strs[i] = T.keystr(p[1]) end
    assert.are.same({ "[0]", "[2.5]", '["a b"]', ".x[1]" }, strs)
  end)

  it("skips empty subtrees", function()
    local pairs_ = T.flatten_with_path({ Linear(1, 1, { use_bias = false }), lx.none, 7 })
    assert.are.equal(2, #pairs_)
    assert.are.equal("[1].weight", T.keystr(pairs_[1][1]))
    assert.are.equal("[3]", T.keystr(pairs_[2][1]))
  end)

  it("gives the root leaf an empty path", function()
    local pairs_ = T.flatten_with_path(42)
    assert.are.same({ { {}, 42 } }, pairs_)
    assert.are.equal("", T.keystr({}))
  end)

  it("writes paths as Lua would index them", function()
    assert.are.equal(".layers[2].weight", T.keystr({ "layers", 2, "weight" }))
    assert.are.equal('["a b"][1.5]["end"]._x1', T.keystr({ "a b", 1.5, "end", "_x1" }))
    assert.are.equal('["1x"][-2]', T.keystr({ "1x", -2 }))
  end)

  it("raises on a path that is not a list of keys", function()
    raises("lx.tree.keystr: path must be a list of keys, got string", T.keystr, "layers")
    raises("lx.tree.keystr: path[2] must be a string or a number, got boolean", T.keystr, { "a", true })
  end)
end)

describe("lx.tree.map", function()
  it("applies f to every leaf and keeps the structure", function()
    local out = T.map(function(x) return x * 10 end, { 1, { a = 2, b = 3 } })
    assert.are.same({ 10, { a = 20, b = 30 } }, out)
  end)

  it("maps over Modules, rebuilding them with their statics", function()
    local m = MLP({ 2, 3, 1 })
    local out = T.map(function(x) return x + 1 end, m)
    assert.are.equal(MLP, getmetatable(out))
    assert.are.same({ { 2, 2 }, { 2, 2 }, { 2, 2 } }, values(out.layers[1].weight))
    assert.are.same({ 1 }, values(out.layers[2].bias))
    assert.are.equal(2, out.layers[1].in_features)
    assert.is_true(T.structure(out) == T.structure(m))
  end)

  it("maps several trees leaf by leaf", function()
    local out = T.map(function(a, b, c) return a + b + c end, { 1, { 2 } }, { 10, { 20 } }, { 100, { 200 } })
    assert.are.same({ 111, { 222 } }, out)
  end)

  it("maps two Modules of one structure", function()
    local a, b = Linear(2, 2, { fill = 1 }), Linear(2, 2, { fill = 3 })
    local out = T.map(function(x, y) return x * y end, a, b)
    assert.are.same({ { 3, 3 }, { 3, 3 } }, values(out.weight))
  end)

  it("hands whole subtrees of further trees to f where the first tree has a leaf", function()
    local out = T.map(function(x, sub) return x .. #sub end, { "a", "b" }, { { 1 }, { 1, 2, 3 } })
    assert.are.same({ "a1", "b3" }, out)
  end)

  it("accepts {f, is_leaf = g} to stop at chosen nodes", function()
    local t = { Linear(2, 3), Linear(3, 1), 5 }
    local out = T.map({ function(x)
      if lx.is_module(x) then return x.out_features end
      return -x
    end, is_leaf = lx.is_module }, t)
    assert.are.same({ 3, 1, -5 }, out)
  end)

  it("applies is_leaf to the first tree with several trees", function()
    local is_pair = function(x) return type(x) == "table" and x.pair == true end
    local out = T.map({ function(x, y) return x.v + y end, is_leaf = is_pair },
      { { pair = true, v = 1 }, { pair = true, v = 2 } }, { 10, 20 })
    assert.are.same({ 11, 22 }, out)
  end)

  it("accepts a callable table as f", function()
    local f = setmetatable({}, { __call = function(_, x) return x + 1 end })
    assert.are.same({ 2, 3 }, T.map(f, { 1, 2 }))
  end)

  it("turns leaves mapped to nil into empty subtrees", function()
    local out = T.map(function(x) if x > 1 then return x end end, { 1, 2 })
    assert.is_true(rawequal(lx.none, out[1]))
    assert.are.equal(2, out[2])
    local l = T.map(function(x) if x.ndim == 2 then return x end end, Linear(2, 3))
    assert.is_nil(l.bias)
  end)

  it("keeps empty subtrees empty and never calls f on them", function()
    local calls = 0
    local out = T.map(function(x) calls = calls + 1; return x end, { lx.none, Linear(1, 1, { use_bias = false }) })
    assert.are.equal(1, calls)
    assert.is_true(rawequal(lx.none, out[1]))
    assert.is_nil(out[2].bias)
  end)

  it("rejects an f that is not callable", function()
    raises("lx.tree.map: f must be a function or {f, is_leaf = g}, got number", T.map, 3, { 1 })
    raises("lx.tree.map: f must be a function or {f, is_leaf = g}, got nil", T.map, { is_leaf = print }, { 1 })
  end)

  it("names the first differing path when the list lengths differ", function()
    raises({ "lx.tree.map: tree 2 does not match the structure of tree 1 at .layers",
      "expected a list of 2, got a list of 3" },
      T.map, function(a) return a end, MLP({ 2, 3, 1 }), MLP({ 2, 3, 4, 1 }))
  end)

  it("names the first differing path like .layers[2]", function()
    local a = { layers = { 1, { 2 } } }
    local b = { layers = { 1, 3 } }
    raises({ "at .layers[2]", "expected a list of 1, got a number" }, T.map, function(x) return x end, a, b)
  end)

  it("reports the first difference in flattening order, not a later one", function()
    local a = MLP({ 2, 3, 1 })
    local b = lx.tree_at(function(m) return { m.layers[1].bias, m.layers[2].bias } end, a,
      { { 1 }, { 2 } })
    raises({ "at .layers[1].bias", "expected a list of 1" }, T.map, function(x) return x end, b, a)
  end)

  it("names the tree that does not match", function()
    raises("tree 3 does not match the structure of tree 1 at [2]",
      T.map, function(x) return x end, { 1, { 2 } }, { 1, { 2 } }, { 1, 2 })
  end)

  it("raises when a further tree has a leaf where the first has a node", function()
    raises({ "at .a", "expected a dict of 1 keys, got a number" },
      T.map, function(x) return x end, { a = { b = 1 } }, { a = 1 })
  end)

  it("raises when dict keys differ", function()
    raises({ "at the root", "(the keys differ)" }, T.map, function(x) return x end, { a = 1, b = 2 }, { a = 1, c = 2 })
  end)

  it("raises when a further tree has a leaf where the first has an empty subtree", function()
    raises({ "at .bias", "expected an empty subtree" },
      T.map, function(x) return x end, Linear(2, 2, { use_bias = false }), Linear(2, 2))
  end)

  it("raises when Module classes differ", function()
    local Other = lx.Module:extend("Other", { fields = { "weight", "bias" } })
    function Other:init() self.weight, self.bias = 1, 2 end
    raises({ "at [1]", "expected a Linear module" }, T.map, function(x) return x end, { Linear(1, 1) }, { Other() })
  end)

  it("raises when static fields differ, naming the field", function()
    local Named = lx.Module:extend("Named", { fields = { "w" }, static = { "name" } })
    function Named:init(name) self.w, self.name = 1, name end
    raises({ "at .x", "static field 'name' differs" },
      T.map, function(x) return x end, { x = Named("a") }, { x = Named("b") })
  end)
end)

describe("lx.tree.map_with_path", function()
  it("hands f the key path and the leaf", function()
    local out = T.map_with_path(function(path, x) return T.keystr(path) .. "=" .. x end,
      { a = { 1, 2 }, b = 3 })
    assert.are.same({ a = { ".a[1]=1", ".a[2]=2" }, b = ".b=3" }, out)
  end)

  it("maps further trees and accepts {f, is_leaf = g}", function()
    local out = T.map_with_path({ function(path, x, y)
      return #path .. ":" .. (lx.is_module(x) and "module" or x) .. ":" .. y
    end, is_leaf = lx.is_module }, { Linear(1, 1), 5 }, { "p", "q" })
    assert.are.same({ "1:module:p", "1:5:q" }, out)
  end)

  it("gives Module field paths with field names", function()
    local paths = {}
    T.map_with_path(function(path, x) paths[#paths + 1] = T.keystr(path); return x end, MLP({ 1, 1 }))
    assert.are.same({ ".layers[1].weight", ".layers[1].bias" }, paths)
  end)
end)

describe("treedefs", function()
  it("compare equal by value with == and ~=", function()
    local a = T.structure({ 1, { x = 2 }, Linear(2, 3) })
    local b = T.structure({ "p", { x = "q" }, Linear(2, 3) })
    assert.is_true(a == b)
    assert.is_false(a ~= b)
    assert.is_false(rawequal(a, b))
  end)

  it("differ when the structure differs", function()
    local base = T.structure({ 1, { x = 2 } })
    assert.is_true(base ~= T.structure({ 1, { y = 2 } }))
    assert.is_true(base ~= T.structure({ 1, { x = 2, y = 3 } }))
    assert.is_true(base ~= T.structure({ 1, { 2 } }))
    assert.is_true(base ~= T.structure({ 1, 2 }))
    assert.is_true(base ~= T.structure({ 1, { x = lx.none } }))
  end)

  it("differ when a Module's static fields differ", function()
    assert.is_true(T.structure(Linear(2, 3)) == T.structure(Linear(2, 3)))
    local a = T.structure(MLP({ 2, 2 }, "relu"))
    local b = T.structure(MLP({ 2, 2 }, "tanh"))
    assert.is_true(a ~= b)
  end)

  it("differ when one Module field is nil and the other is not", function()
    assert.is_true(T.structure(Linear(2, 3)) ~= T.structure(Linear(2, 3, { use_bias = false })))
  end)

  it("differ between Module classes with the same fields", function()
    local A = lx.Module:extend("A", { fields = { "x" } })
    function A:init() self.x = 1 end
    local B = lx.Module:extend("B", { fields = { "x" } })
    function B:init() self.x = 1 end
    assert.is_true(T.structure(A()) ~= T.structure(B()))
  end)

  -- A Module with a table-valued static field (like a Conv's kernel size).
  local Conv = lx.Module:extend("Conv", { fields = { "w" }, static = { "kernel" } })
  function Conv:init(kernel) self.w = 1; self.kernel = kernel end

  it("compare table-valued static fields by value", function()
    assert.is_true(T.structure(Conv({ 3, 3 })) == T.structure(Conv({ 3, 3 })))
    assert.is_true(T.structure(Conv({ 3, 3 })) ~= T.structure(Conv({ 3, 5 })))
  end)

  it("compare static fields by value whether or not two nodes share the static object", function()
    local k = { 3, 3 }
    local shared = T.structure({ Conv(k), Conv(k) })
    local separate = T.structure({ Conv({ 3, 3 }), Conv({ 3, 3 }) })
    assert.is_true(shared == separate)
    assert.is_true(T.structure({ Conv(k), Conv({ 3, 3 }) }) == shared)
  end)

  it("print table-valued static fields readably", function()
    local s = tostring(T.structure(Conv({ 3, 3 })))
    assert.is_nil(s:find("table: ", 1, true), s)
    assert.is_truthy(s:find("kernel={3, 3}", 1, true), s)
  end)

  it("are not equal to other values", function()
    local td = T.structure({ 1 })
    assert.is_false(td == 1)
    assert.is_false(td == { 1 })
  end)

  it("print readably", function()
    assert.are.equal('PyTreeDef({[1]=*, [2]={a=*, b=none}, ["x y"]=*})',
      tostring(T.structure({ 1, { a = 2, b = lx.none }, ["x y"] = 3 })))
    assert.are.equal("PyTreeDef({*, {*}, none})", tostring(T.structure({ 1, { 2 }, lx.none })))
  end)

  it("know their leaf and node counts", function()
    local td = T.structure({ 1, { 2, 3 }, lx.none, Linear(1, 1) })
    assert.are.equal(5, td.num_leaves)
    assert.are.equal(5, #td)
    -- root, 1, {2,3}, 2, 3, none, Linear, weight, bias
    assert.are.equal(9, td.num_nodes)
    assert.are.equal(0, T.structure({}).num_leaves)
    assert.are.equal(1, T.structure(7).num_nodes)
  end)

  it("unflatten with td:unflatten", function()
    local td = T.structure({ a = 1, b = { 2 } })
    assert.are.same({ a = "x", b = { "y" } }, td:unflatten({ "x", "y" }))
    raises("treedef:unflatten: the treedef has 2 leaves but 1 were given", td.unflatten, td, { "x" })
  end)

  it("flatten another tree up to their structure with td:flatten_up_to", function()
    local td = T.structure({ 1, { 2 } })
    local subtrees = td:flatten_up_to({ { 5 }, { { 6, 7 } } })
    assert.are.equal(2, #subtrees)
    assert.are.same({ 5 }, subtrees[1])
    assert.are.same({ 6, 7 }, subtrees[2])
    raises({ "treedef:flatten_up_to", "at [2]", "expected a list of 1, got a number" },
      td.flatten_up_to, td, { 1, 2 })
  end)

  it("raise on unknown fields", function()
    local td = T.structure({ 1 })
    raises("treedef has no field 'bogus'", function() return td.bogus end)
  end)

  it("are recognised by is_treedef", function()
    assert.is_true(T.is_treedef(T.structure({})))
    assert.is_false(T.is_treedef({}))
    assert.is_false(T.is_treedef(lx.zeros({ 1 })))
  end)
end)

describe("lx.tree.register", function()
  -- A registered Pair: children a and b with keys, aux data `tag`.
  local Pair = { __name = "Pair" }
  local function P(a, b, tag) return setmetatable({ a = a, b = b, tag = tag }, Pair) end
  local flattens, unflattens = 0, 0
  T.register(Pair, function(p)
    flattens = flattens + 1
    return { p.a, p.b }, p.tag, { "a", "b" }
  end, function(aux, children)
    unflattens = unflattens + 1
    return P(children[1], children[2], aux)
  end)
  -- A registered type without keys.
  local Box = {}
  T.register(Box, function(b) return { b[1] }, nil end, function(_, ch) return setmetatable({ ch[1] }, Box) end)

  it("makes instances of the metatable nodes", function()
    local n = flattens
    local leaves, td = T.flatten(P(1, { 2, 3 }, "t"))
    assert.are.equal(n + 1, flattens)
    assert.are.same({ 1, 2, 3 }, leaves)
    assert.are.equal(3, td.num_leaves)
    assert.are.equal('PyTreeDef(Pair["t"](*, {*, *}))', tostring(td))
  end)

  it("rebuilds them through the unflatten function with the aux data", function()
    local leaves, td = T.flatten({ x = P(1, 2, "tag") })
    local n = unflattens
    local back = T.unflatten(td, { 10, 20 })
    assert.are.equal(n + 1, unflattens)
    assert.are.equal(Pair, getmetatable(back.x))
    assert.are.same({ 10, 20, "tag" }, { back.x.a, back.x.b, back.x.tag })
    assert.are.same({ 1, 2 }, leaves)
  end)

  it("uses the keys it returns in key paths", function()
    local paths = {}
    for i, p in ipairs(T.flatten_with_path({ x = P(1, { 2 }, "t") })) do paths[i] = T.keystr(p[1]) end
    assert.are.same({ ".x.a", ".x.b[1]" }, paths)
  end)

  it("uses child positions in key paths when there are no keys", function()
    local pairs_ = T.flatten_with_path({ setmetatable({ 5 }, Box) })
    assert.are.equal("[1][1]", T.keystr(pairs_[1][1]))
  end)

  it("puts aux data in the treedef", function()
    assert.is_true(T.structure(P(1, 2, "t")) == T.structure(P(5, 6, "t")))
    assert.is_true(T.structure(P(1, 2, "t")) ~= T.structure(P(1, 2, "u")))
  end)

  it("works with map", function()
    local out = T.map(function(x, y) return x + y end, P(1, 2, "t"), P(10, 20, "t"))
    assert.are.equal(Pair, getmetatable(out))
    assert.are.same({ 11, 22, "t" }, { out.a, out.b, out.tag })
    raises("lx.tree.map: tree 2 does not match the structure of tree 1 at the root",
      T.map, function(x) return x end, P(1, 2, "t"), { 1, 2 })
  end)

  it("refuses to register a metatable twice or bad functions", function()
    raises("lx.tree.register: this metatable (Pair) is registered already", T.register, Pair,
      function() end, function() end)
    raises("lx.tree.register: flatten must be a function, got number", T.register, {}, 1, function() end)
    raises("lx.tree.register: unflatten must be a function, got", T.register, {}, function() end)
    raises("lx.tree.register: Module classes are pytree nodes already", T.register, Linear,
      function() end, function() end)
  end)
end)

describe("lx.tree errors on trees the rules refuse", function()
  it("raises on a hole in a list, naming the positions", function()
    raises("lx.tree.flatten: the list at the root has a hole: [2] is nil but [3] is set",
      T.flatten, { 1, nil, 3 })
    raises("the list at the root has a hole: [2] is nil but [4] is set", T.flatten, { [1] = 1, [4] = 4 })
  end)

  it("names the path of a list with a hole", function()
    local W = lx.Module:extend("W", { fields = { "v" } })
    function W:init(v) self.v = v end
    raises("lx.tree.leaves: the list at .m.v has a hole: [2] is nil but [3] is set",
      T.leaves, { m = W({ 1, nil, 3 }) })
  end)

  it("raises on boolean keys", function()
    raises({ "lx.tree.flatten: the table at the root has a key of type boolean (true)",
      "only have number and string keys" }, T.flatten, { [true] = 1 })
  end)

  it("raises on table keys, naming the path", function()
    raises("lx.tree.structure: the table at .a[2] has a key of type table", T.structure,
      { a = { 1, { [{}] = 1 } } })
  end)

  it("reports a direct cycle instead of looping", function()
    local t = { 1 }
    t.self = t
    raises("lx.tree.flatten: the tree contains a cycle: .self is the root again", T.flatten, t)
  end)

  it("reports an indirect cycle with both paths", function()
    local a = { b = {} }
    a.b.c = { 1, a.b }
    raises("lx.tree.leaves: the tree contains a cycle: .b.c[2] is .b again", T.leaves, a)
  end)

  it("reports a cycle through a Module", function()
    local W = lx.Module:extend("W", { fields = { "v" } })
    function W:init(v) self.v = v end
    local inner = {}
    local w = W(inner)
    inner[1] = w
    raises("the tree contains a cycle: .v[1] is the root again", T.structure, w)
  end)

  it("reports cycles from map too", function()
    local t = {}
    t[1] = t
    raises("lx.tree.map: the tree contains a cycle", T.map, function(x) return x end, t)
  end)

  it("raises on nesting deeper than the limit", function()
    local root = {}
    local cur = root
    for _ = 1, 2000 do
      cur[1] = {}
      cur = cur[1]
    end
    raises({ "lx.tree.flatten: the tree is nested deeper than 1000 levels at [1][1][1]" }, T.flatten, root)
  end)
end)

describe("lx.tree functions leave their inputs unchanged", function()
  it("flatten, leaves, structure, flatten_with_path", function()
    local t = { a = { 1, { 2 } }, m = MLP({ 2, 2 }), n = lx.none, [3] = "x" }
    local check = snapshot(t)
    T.flatten(t)
    T.leaves(t)
    T.structure(t)
    T.flatten_with_path(t)
    check()
  end)

  it("map with one and several trees", function()
    local a = { MLP({ 2, 3, 1 }), { x = 1 } }
    local b = { MLP({ 2, 3, 1 }), { x = 2 } }
    local ca, cb = snapshot(a), snapshot(b)
    T.map(function(x) return x end, a)
    T.map(function(x, y) return y end, a, b)
    T.map_with_path(function(_, x) return x end, a)
    ca()
    cb()
  end)

  it("flatten_up_to", function()
    local t = { { 1, 2 }, { 3 } }
    local check = snapshot(t)
    T.structure({ 1, 2 }):flatten_up_to(t)
    check()
  end)
end)
