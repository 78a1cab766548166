-- lx.tree_at (lua/lunox/tree_at.lua) with Equinox's semantics: a single
-- node or a sequence of nodes, replace or replace_fn, is_leaf, replacing a
-- nil Module field, Equinox's error texts, inputs left unchanged and
-- untouched leaves shared with the result. Ends with the issue's seed tricks.
local lx = require("lunox")
local T = lx.tree

local raises = require("spec.support.array_helpers").raises
local snapshot = require("spec.support.tree_helpers").snapshot

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
function Linear:__call(x)
  local y = lx.matmul(self.weight, x)
  if self.bias ~= nil then y = y + self.bias end
  return y
end

local MLP = lx.Module:extend("MLP", { fields = { "layers", "activation" } })
function MLP:init(sizes, activation)
  local layers = {}
  for i = 1, #sizes - 1 do layers[i] = Linear(sizes[i], sizes[i + 1], { fill = i }) end
  self.layers = layers
  self.activation = activation or function(x) return x end
end
function MLP:__call(x)
  for i = 1, #self.layers - 1 do x = self.activation(self.layers[i](x)) end
  return self.layers[#self.layers](x)
end

-- Holds any value (a module built from given leaves).
local Wrap = lx.Module:extend("Wrap", { fields = { "v" } })
function Wrap:init(v) self.v = v end

describe("lx.tree_at replacing one node", function()
  it("replaces a leaf", function()
    local m = MLP({ 2, 3, 1 })
    local w = lx.zeros({ 3, 2 })
    local out = lx.tree_at(function(t) return t.layers[1].weight end, m, w)
    assert.is_true(rawequal(w, out.layers[1].weight))
    assert.is_true(rawequal(m.layers[1].bias, out.layers[1].bias))
    assert.is_true(rawequal(m.layers[2].weight, out.layers[2].weight))
    assert.is_true(rawequal(m.activation, out.activation))
  end)

  it("replaces a leaf with a value of another kind", function()
    local out = lx.tree_at(function(t) return t.b end, { a = 1, b = 2 }, "two")
    assert.are.same({ a = 1, b = "two" }, out)
  end)

  it("replaces a Module subtree, e.g. an MLP's final layer", function()
    local m = MLP({ 2, 3, 1 })
    local final = Linear(3, 5, { fill = 9 })
    local out = lx.tree_at(function(t) return t.layers[#t.layers] end, m, final)
    assert.is_true(rawequal(final, out.layers[2]))
    assert.are.equal(MLP, getmetatable(out))
    assert.are.same({ 5 }, out(lx.ones({ 2 })).shape)
    assert.are.same({ 1 }, m(lx.ones({ 2 })).shape)
  end)

  it("replaces a list element", function()
    local out = lx.tree_at(function(t) return t[2] end, { 1, 2, 3 }, 20)
    assert.are.same({ 1, 20, 3 }, out)
  end)

  it("replaces a whole list node", function()
    local m = MLP({ 2, 3, 1 })
    local layers = { Linear(2, 1) }
    local out = lx.tree_at(function(t) return t.layers end, m, layers)
    assert.are.equal(1, #out.layers)
    assert.is_true(rawequal(layers[1], out.layers[1]))
  end)

  it("replaces the root", function()
    assert.are.equal(5, lx.tree_at(function(t) return t end, { 1, 2 }, 5))
    assert.are.equal(5, lx.tree_at(function(t) return t end, 3, 5))
  end)

  it("tells apart equal leaves at different positions", function()
    local out = lx.tree_at(function(t) return t.x end, { x = 5, y = 5 }, 7)
    assert.are.same({ x = 7, y = 5 }, out)
    local a = lx.zeros({ 2 })
    local out2 = lx.tree_at(function(t) return t.y end, { x = a, y = a }, 7)
    assert.is_true(rawequal(a, out2.x))
    assert.are.equal(7, out2.y)
  end)

  it("replaces a function leaf", function()
    local m = MLP({ 2, 2 })
    local out = lx.tree_at(function(t) return t.activation end, m, math.abs)
    assert.are.equal(math.abs, out.activation)
  end)

  it("may select by static fields, which are structure", function()
    local m = MLP({ 2, 3, 1 })
    local function last_with_one_output(t)
      for i, l in ipairs(t.layers) do if l.out_features == 1 then return t.layers[i] end end
    end
    local out = lx.tree_at(last_with_one_output, m, "found")
    assert.are.equal("found", out.layers[2])
    assert.is_true(rawequal(m.layers[1].weight, out.layers[1].weight))
    assert.are.equal(Linear, getmetatable(out.layers[1]))
  end)

  it("replaces with nil: nil in a Module field, lx.none in a list", function()
    local m = MLP({ 2, 3 })
    local out = lx.tree_at(function(t) return t.layers[1].bias end, m, nil)
    assert.is_nil(out.layers[1].bias)
    assert.is_true(rawequal(m.layers[1].weight, out.layers[1].weight))
    local l = lx.tree_at(function(t) return t[2] end, { 1, 2, 3 }, nil)
    assert.is_true(rawequal(lx.none, l[2]))
    assert.are.equal(3, l[3])
  end)

  it("sets a Module field that is nil", function()
    local l = Linear(2, 3, { use_bias = false })
    local b = lx.ones({ 3 })
    local out = lx.tree_at(function(t) return t.bias end, l, b)
    assert.is_true(rawequal(b, out.bias))
    assert.is_nil(l.bias)
    assert.is_true(T.structure(out) == T.structure(Linear(2, 3)))
  end)

  it("sets an lx.none list position", function()
    local out = lx.tree_at(function(t) return t[2] end, { 1, lx.none }, 2)
    assert.are.same({ 1, 2 }, out)
  end)
end)

describe("lx.tree_at replacing a sequence of nodes", function()
  it("replaces each node with the replacement at its position", function()
    local m = MLP({ 2, 3, 1 })
    local w1, w2 = lx.zeros({ 3, 2 }), lx.zeros({ 1, 3 })
    local out = lx.tree_at(function(t) return { t.layers[1].weight, t.layers[2].weight } end, m, { w1, w2 })
    assert.is_true(rawequal(w1, out.layers[1].weight))
    assert.is_true(rawequal(w2, out.layers[2].weight))
    assert.is_true(rawequal(m.layers[1].bias, out.layers[1].bias))
  end)

  it("mixes leaves and subtrees in one sequence", function()
    local m = MLP({ 2, 3, 1 })
    local out = lx.tree_at(function(t) return { t.layers[2], t.layers[1].bias } end, m, { "L2", "b1" })
    assert.are.equal("L2", out.layers[2])
    assert.are.equal("b1", out.layers[1].bias)
  end)

  it("accepts an empty sequence and changes nothing", function()
    local t = { 1, 2 }
    assert.are.same({ 1, 2 }, lx.tree_at(function() return {} end, t, {}))
  end)

  it("takes replacements holding nil when the count is given with n", function()
    local out = lx.tree_at(function(t) return { t[1], t[3] } end, { 1, 2, 3 }, { n = 2, nil, 30 })
    assert.is_true(rawequal(lx.none, out[1]))
    assert.are.equal(2, out[2])
    assert.are.equal(30, out[3])
  end)

  it("re-initialises every Linear weight with one tree_at over a list of weights", function()
    local m = MLP({ 2, 3, 3, 1 })
    local function weights(t)
      local ws = {}
      for i, l in ipairs(t.layers) do ws[i] = l.weight end
      return ws
    end
    local new = {}
    for i, w in ipairs(weights(m)) do new[i] = lx.full(w.shape, 0.5) end
    local out = lx.tree_at(weights, m, new)
    for i, l in ipairs(out.layers) do
      assert.is_true(rawequal(new[i], l.weight))
      assert.is_true(rawequal(m.layers[i].bias, l.bias))
    end
    assert.are.same({ { 1, 1 }, { 1, 1 }, { 1, 1 } }, m.layers[1].weight:tolist())
  end)
end)

describe("lx.tree_at with replace_fn", function()
  it("maps the selected node through replace_fn", function()
    local m = MLP({ 2, 3 })
    local out = lx.tree_at(function(t) return t.layers[1].weight end, m, nil,
      { replace_fn = function(w) return w * 10 end })
    assert.are.same({ { 10, 10 }, { 10, 10 }, { 10, 10 } }, out.layers[1].weight:tolist())
  end)

  it("applies replace_fn to each node of a sequence", function()
    local seen = {}
    local out = lx.tree_at(function(t) return { t.a, t.c } end, { a = 1, b = 2, c = 3 }, nil,
      { replace_fn = function(x) seen[#seen + 1] = x; return x * 100 end })
    assert.are.same({ a = 100, b = 2, c = 300 }, out)
    table.sort(seen)
    assert.are.same({ 1, 3 }, seen)
  end)

  it("hands replace_fn a selected subtree with the original leaves", function()
    local m = MLP({ 2, 3 })
    local got
    lx.tree_at(function(t) return t.layers[1] end, m, nil, { replace_fn = function(l)
      got = l
      return l
    end })
    assert.are.equal(Linear, getmetatable(got))
    assert.is_true(rawequal(m.layers[1].weight, got.weight))
    assert.is_true(rawequal(m.layers[1].bias, got.bias))
  end)

  it("hands replace_fn nil for a nil Module field", function()
    local got = "unset"
    local out = lx.tree_at(function(t) return t.bias end, Linear(1, 2, { use_bias = false }), nil,
      { replace_fn = function(x) got = x; return lx.ones({ 2 }) end })
    assert.is_nil(got)
    assert.are.same({ 1, 1 }, out.bias:tolist())
  end)

  it("wraps every Linear weight in a Symmetric module, resolved with map + is_leaf", function()
    local Symmetric = lx.Module:extend("Symmetric", { fields = { "matrix" } })
    function Symmetric:init(matrix) self.matrix = matrix end
    function Symmetric:get() return (self.matrix + self.matrix.T) * 0.5 end
    local function is_symmetric(x) return getmetatable(x) == Symmetric end

    local m = MLP({ 2, 2, 2 })
    m = lx.tree_at(function(t) return t.layers[1].weight end, m, lx.arange(4):reshape({ 2, 2 }))
    local function weights(t)
      local ws = {}
      for i, l in ipairs(t.layers) do ws[i] = l.weight end
      return ws
    end
    local wrapped = lx.tree_at(weights, m, nil, { replace_fn = Symmetric })
    assert.is_true(is_symmetric(wrapped.layers[1].weight))
    assert.is_true(is_symmetric(wrapped.layers[2].weight))
    assert.are.equal(5, #T.leaves(wrapped))

    local resolved = T.map({ function(x)
      if is_symmetric(x) then return x:get() end
      return x
    end, is_leaf = is_symmetric }, wrapped)
    assert.are.same({ { 0, 1.5 }, { 1.5, 3 } }, resolved.layers[1].weight:tolist())
    assert.are.same({ { 2, 2 }, { 2, 2 } }, resolved.layers[2].weight:tolist())
    assert.are.same({ 2 }, resolved(lx.ones({ 2 })).shape)
  end)
end)

describe("lx.tree_at with is_leaf", function()
  local function is_linear(x) return getmetatable(x) == Linear end

  it("selects nodes that is_leaf makes leaves", function()
    local t = { a = Linear(2, 3), b = 4 }
    local out = lx.tree_at(function(x) return x.a end, t, 7, { is_leaf = is_linear })
    assert.are.same({ a = 7, b = 4 }, out)
  end)

  it("hands replace_fn the whole leaf node", function()
    local t = { a = Linear(2, 3), b = 4 }
    local out = lx.tree_at(function(x) return x.a end, t, nil, { is_leaf = is_linear,
      replace_fn = function(l) return l.out_features end })
    assert.are.equal(3, out.a)
  end)

  it("cannot look inside what is_leaf makes a leaf", function()
    local t = { a = Linear(2, 3), b = 4 }
    raises("`where` must use just the PyTree structure of `pytree`.",
      lx.tree_at, function(x) return x.a.weight end, t, 7, { is_leaf = is_linear })
  end)
end)

describe("lx.tree_at errors", function()
  local m = MLP({ 2, 3, 1 })

  it("requires precisely one of replace and replace_fn", function()
    local msg = "Precisely one of `replace` and `replace_fn` must be specified."
    raises("lx.tree_at: " .. msg, lx.tree_at, function(t) return t.layers[1] end, m)
    raises(msg, lx.tree_at, function(t) return t.layers[1] end, m, 1,
      { replace_fn = function(x) return x end })
  end)

  it("raises when where does arithmetic on leaves", function()
    raises("`where` must use just the PyTree structure of `pytree`. `where` must not depend on the leaves in `pytree`.",
      lx.tree_at, function(t) return t.layers[1].weight + 1 end, m, 1)
  end)

  it("raises when where branches on leaf values", function()
    raises("`where` must use just the PyTree structure of `pytree`. `where` must not depend on the leaves in `pytree`.",
      lx.tree_at, function(t)
        if lx.is_array(t.layers[1].weight) then return t.layers[1] end
        return t.layers[2]
      end, m, 1)
    raises("`where` must not depend on the leaves in `pytree`.",
      lx.tree_at, function(t)
        if t.x == 1 then return t.y end
        return t.z
      end, { x = 1, y = 2, z = 3 }, 0)
  end)

  it("raises when where builds a fresh Linear (new leaves each call)", function()
    raises("`where` must use just the PyTree structure of `pytree`.",
      lx.tree_at, function() return Linear(2, 3) end, m, 1)
  end)

  it("raises when where returns a list of fresh nodes not in the tree", function()
    raises("lx.tree_at: `where` does not specify an element or elements of `pytree`.",
      lx.tree_at, function(t) return { Wrap(t.layers[1].weight) } end, m, { 1 })
  end)

  it("raises Equinox's error when where returns a fresh module not in the tree", function()
    raises("`where` does not specify an element or elements of `pytree`.",
      lx.tree_at, function(t) return Wrap(t.layers[1].weight) end, m, 1)
  end)

  it("raises when where returns a value computed by where", function()
    raises("lx.tree_at: `where` returned 42 (a number), which is not a leaf or node of `pytree`",
      lx.tree_at, function() return 42 end, { 1, 2 }, 0)
    raises('`where` returned "s", which is not a leaf or node of `pytree`',
      lx.tree_at, function() return "s" end, { 1, 2 }, 0)
  end)

  it("does not show its internal leaf boxes in messages", function()
    local err = raises("lx.tree_at", lx.tree_at, function(t) return Wrap(t.layers[1].weight) end, m, 1)
    assert.is_nil(err:find("tree_at leaf", 1, true), err)
  end)

  it("raises when a node inside another selected node is selected too", function()
    raises("`where` does not specify an element or elements of `pytree`.",
      lx.tree_at, function(t) return { t.layers[1], t.layers[1].weight } end, m, { 1, 2 })
  end)

  it("raises when the same node is selected twice", function()
    raises("`where` does not uniquely identify a single element of `pytree`",
      lx.tree_at, function(t) return { t.layers[1], t.layers[1] } end, m, { 1, 2 })
    raises("`where` does not uniquely identify a single element of `pytree`",
      lx.tree_at, function(t) return { t.layers[2].bias, t.layers[2].bias } end, m, { 1, 2 })
  end)

  it("raises when the replacement count differs from the node count", function()
    raises("`where` must return a sequence of leaves of the same length as `replace`",
      lx.tree_at, function(t) return { t.layers[1], t.layers[2] } end, m, { 1 })
    raises("`where` must return a sequence of leaves of the same length as `replace`",
      lx.tree_at, function(t) return { t.layers[1] .weight } end, m, { 1, 2 })
  end)

  it("raises when where returns a sequence but replace is not a list", function()
    raises("`where` returned a list of 2 nodes, so `replace` must be a list of as many values, got number",
      lx.tree_at, function(t) return { t.layers[1].weight, t.layers[1].bias } end, m, 3)
  end)

  it("raises when where targets a static field, naming it", function()
    raises({ "static field Linear.in_features", "cannot be replaced with tree_at" },
      lx.tree_at, function(t) return t.layers[1].in_features end, m, 5)
  end)

  it("raises when where targets a static field in a sequence", function()
    raises("static field Linear.out_features",
      lx.tree_at, function(t) return { t.layers[1].weight, t.layers[2].out_features } end, m, { 1, 2 })
  end)

  it("raises on a where that is not a function and on bad options", function()
    raises("lx.tree_at: `where` must be a function, got number", lx.tree_at, 3, m, 1)
    raises("lx.tree_at: unknown option 'bogus' (expected replace_fn, is_leaf)",
      lx.tree_at, function(t) return t.layers end, m, 1, { bogus = true })
    raises("lx.tree_at: options must be a table", lx.tree_at, function(t) return t.layers end, m, 1, 5)
  end)
end)

describe("lx.tree_at leaves its input unchanged", function()
  it("after replacing a leaf, a subtree, a sequence and with replace_fn", function()
    local m = MLP({ 2, 3, 1 })
    local t = { model = m, extra = { 1, lx.none, "s" } }
    local check = snapshot(t)
    lx.tree_at(function(x) return x.model.layers[1].weight end, t, 0)
    lx.tree_at(function(x) return x.model.layers[2] end, t, 0)
    lx.tree_at(function(x) return { x.extra[1], x.extra[2], x.model.activation } end, t, { 7, 8, 9 })
    lx.tree_at(function(x) return x.model.layers end, t, nil, { replace_fn = function() return {} end })
    lx.tree_at(function(x) return x.model.layers[1].bias end, t, nil)
    check()
  end)

  it("after an error", function()
    local m = MLP({ 2, 3, 1 })
    local check = snapshot(m)
    pcall(lx.tree_at, function(t) return { t.layers[1], t.layers[1] } end, m, { 1, 2 })
    pcall(lx.tree_at, function(t) return t.layers[1].weight + 1 end, m, 1)
    check()
  end)

  it("shares every untouched leaf with the input", function()
    local m = MLP({ 2, 3, 3, 1 })
    local out = lx.tree_at(function(t) return t.layers[2].bias end, m, lx.ones({ 3 }))
    local a, b = T.leaves(m), T.leaves(out)
    assert.are.equal(#a, #b)
    for i = 1, #a do
      if i ~= 4 then assert.is_true(rawequal(a[i], b[i]), "leaf " .. i) end
    end
    assert.is_false(rawequal(a[4], b[4]))
    assert.is_true(T.structure(m) == T.structure(out))
  end)
end)
