-- lx.Module (lua/lunox/module.lua): classes made with extend, init and
-- check_init, immutability, uninitialised and undeclared fields,
-- subclassing (fields, methods, metamethods), is_module, tostring, and
-- rebuilding instances from a treedef without calling init.
local lx = require("lunox")
local T = lx.tree

local raises = require("spec.support.array_helpers").raises

-- Equinox's Linear, counting its init calls.
local Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" }, static = { "in_features", "out_features" },
})
local linear_inits = 0
function Linear:init(in_features, out_features, opts)
  linear_inits = linear_inits + 1
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
local mlp_inits = 0
function MLP:init(sizes, activation)
  mlp_inits = mlp_inits + 1
  local layers = {}
  for i = 1, #sizes - 1 do layers[i] = Linear(sizes[i], sizes[i + 1]) end
  self.layers = layers
  self.activation = activation
end
function MLP:__call(x)
  for i = 1, #self.layers - 1 do x = self.activation(self.layers[i](x)) end
  return self.layers[#self.layers](x)
end

local function relu(x) return lx.maximum(x, 0) end

describe("Module:extend and init", function()
  it("makes a class whose instances hold the fields init sets", function()
    local l = Linear(2, 3)
    assert.are.same({ 3, 2 }, l.weight.shape)
    assert.are.same({ 3 }, l.bias.shape)
    assert.are.equal(2, l.in_features)
    assert.are.equal(3, l.out_features)
  end)

  it("passes the constructor's arguments to init", function()
    local l = Linear(4, 1, { fill = 7 })
    assert.are.same({ { 7, 7, 7, 7 } }, l.weight:tolist())
  end)

  it("makes the class the instance's metatable and names it", function()
    local l = Linear(1, 1)
    assert.are.equal(Linear, getmetatable(l))
    assert.are.equal("<class Linear>", tostring(Linear))
    assert.are.equal("<class Module>", tostring(lx.Module))
  end)

  it("calls methods and __call defined on the class", function()
    local m = MLP({ 2, 2, 1 }, relu)
    local y = m(lx.ones({ 2 }))
    -- layer 1: [2, 2] -> relu -> layer 2: [4]
    assert.are.same({ 4 }, y:tolist())
  end)

  it("finds methods defined after extend", function()
    local Late = lx.Module:extend("Late", { fields = { "v" } })
    function Late:init(v) self.v = v end
    local before = Late(3)
    function Late:get() return self.v end
    function Late:__call(x) return x * self.v end
    assert.are.equal(3, before:get())
    assert.are.equal(12, Late(3)(4))
  end)

  it("allows a class without fields and without init", function()
    local Empty = lx.Module:extend("Empty")
    local e = Empty()
    assert.is_true(lx.is_module(e))
    assert.are.same({}, T.leaves(e))
    assert.are.equal("Empty()", tostring(e))
  end)

  it("lets init set a field to nil on purpose", function()
    local l = Linear(2, 3, { use_bias = false })
    assert.is_nil(l.bias)
    assert.are.equal(1, #T.leaves(l))
  end)

  it("lets init set a field twice, keeping the last value", function()
    local Twice = lx.Module:extend("Twice", { fields = { "x" } })
    function Twice:init() self.x = 1; self.x = 2 end
    assert.are.equal(2, Twice().x)
  end)

  it("lets init read a field it has set", function()
    local ReadBack = lx.Module:extend("ReadBack", { fields = { "x", "y" } })
    function ReadBack:init() self.x = 5; self.y = self.x + 1 end
    assert.are.equal(6, ReadBack().y)
  end)

  it("gives nil for an undeclared key that is not a method", function()
    assert.is_nil(Linear(1, 1).nothing_here)
  end)

  it("holds functions and other modules as fields", function()
    local m = MLP({ 2, 3, 1 }, relu)
    assert.are.equal(relu, m.activation)
    assert.are.equal(Linear, getmetatable(m.layers[1]))
    local leaves = T.leaves(m)
    assert.are.equal(5, #leaves)
    assert.are.equal(relu, leaves[5])
  end)

  it("raises when a field is left unset", function()
    local Half = lx.Module:extend("Half", { fields = { "x", "y" } })
    function Half:init() self.x = 1 end
    raises("Field 'y' of Half was not initialized", Half)
  end)

  it("raises when a class with fields has no init", function()
    local NoInit = lx.Module:extend("NoInit", { fields = { "x" } })
    raises("Field 'x' of NoInit was not initialized", NoInit)
  end)

  it("raises when a static field is left unset", function()
    local S = lx.Module:extend("S", { fields = { "x" }, static = { "n" } })
    function S:init() self.x = 1 end
    raises("Field 'n' of S was not initialized", S)
  end)

  it("raises when init sets an undeclared field, listing the declared ones", function()
    local Extra = lx.Module:extend("Extra", { fields = { "x" }, static = { "s" } })
    function Extra:init() self.x = 1; self.s = 2; self.z = 3 end
    raises({ "Extra: 'z' is not a declared field", "(fields: x, s)" }, Extra)
  end)

  it("propagates errors raised by init", function()
    local Bad = lx.Module:extend("Bad", { fields = { "x" } })
    function Bad:init(v) if v < 0 then error("Bad: v must be >= 0") end self.x = v end
    raises("Bad: v must be >= 0", Bad, -1)
  end)
end)

describe("check_init", function()
  it("runs after init, seeing the fields init set", function()
    local order = {}
    local C = lx.Module:extend("C", { fields = { "x" } })
    function C:init(v) order[#order + 1] = "init"; self.x = v end
    function C:check_init() order[#order + 1] = "check:" .. tostring(self.x) end
    C(4)
    assert.are.same({ "init", "check:4" }, order)
  end)

  it("can raise to reject an instance", function()
    local Pos = lx.Module:extend("Pos", { fields = { "x" } })
    function Pos:init(v) self.x = v end
    function Pos:check_init() if self.x < 0 then error("Pos: x must be non-negative") end end
    assert.are.equal(1, Pos(1).x)
    raises("Pos: x must be non-negative", Pos, -1)
  end)

  it("runs only once the fields are all set", function()
    local ran = false
    local Half = lx.Module:extend("Half", { fields = { "x", "y" } })
    function Half:init() self.x = 1 end
    function Half:check_init() ran = true end
    raises("Field 'y' of Half was not initialized", Half)
    assert.is_false(ran)
  end)

  it("cannot assign fields", function()
    local C = lx.Module:extend("C", { fields = { "x" } })
    function C:init() self.x = 1 end
    function C:check_init() self.x = 2 end
    raises("C: cannot set field 'x': modules are immutable", C)
  end)
end)

describe("Module immutability", function()
  it("refuses assignment to a field and points to lx.tree_at", function()
    local l = Linear(2, 3)
    local w = l.weight
    raises({ "Linear: cannot set field 'weight': modules are immutable",
      "lx.tree_at(function(m) return m.weight end, model, new_value)" },
      function() l.weight = lx.zeros({ 3, 2 }) end)
    assert.is_true(rawequal(w, l.weight))
  end)

  it("refuses assignment to a static field", function()
    local l = Linear(2, 3)
    raises("Linear: cannot set field 'in_features'", function() l.in_features = 5 end)
    assert.are.equal(2, l.in_features)
  end)

  it("refuses new keys after init", function()
    local l = Linear(2, 3)
    raises("Linear: cannot set field 'extra'", function() l.extra = 1 end)
    assert.is_nil(l.extra)
  end)

  it("refuses setting a nil field after init", function()
    local l = Linear(2, 3, { use_bias = false })
    raises("cannot set field 'bias'", function() l.bias = lx.zeros({ 3 }) end)
    assert.is_nil(l.bias)
  end)

  it("also holds for instances rebuilt by unflatten", function()
    local l = Linear(2, 3)
    local back = T.unflatten(T.structure(l), T.leaves(l))
    raises("Linear: cannot set field 'weight': modules are immutable", function() back.weight = 1 end)
  end)
end)

describe("subclassing", function()
  local Base = lx.Module:extend("Base", { fields = { "a" }, static = { "s" } })
  function Base:init(a) self.a = a; self.s = "base" end
  function Base:__call(x) return x + self.a end
  function Base:double() return 2 * self.a end
  local Sub = Base:extend("Sub", { fields = { "b" }, static = { "t" } })
  function Sub:init(a, b) Base.init(self, a); self.b = b; self.t = 7 end
  function Sub:triple() return 3 * self.a end

  it("inherits the parent's fields first, then its own", function()
    local s = Sub(1, 2)
    assert.are.same({ 1, 2 }, T.leaves(s))
    assert.are.equal('PyTreeDef(Sub(a=*, b=*, s="base", t=7))', tostring(T.structure(s)))
  end)

  it("inherits methods and __call from the parent", function()
    local s = Sub(1, 2)
    assert.are.equal(2, s:double())
    assert.are.equal(3, s:triple())
    assert.are.equal(11, s(10))
  end)

  it("may override a parent's method", function()
    local Over = Base:extend("Over")
    function Over:double() return "overridden" end
    function Over:__call() return "own call" end
    local o = Over(5)
    assert.are.equal("overridden", o:double())
    assert.are.equal("own call", o())
    assert.are.equal(10, Base(5):double())
    assert.are.equal(6, Base(5)(1))
  end)

  it("inherits the parent's init when it has none", function()
    local Plain = Base:extend("Plain")
    local p = Plain(4)
    assert.are.equal(4, p.a)
    assert.are.equal("base", p.s)
  end)

  it("requires the subclass's own fields to be set", function()
    local More = Base:extend("More", { fields = { "c" } })
    raises("Field 'c' of More was not initialized", More, 1)
  end)

  it("keeps the parent's instances without the subclass's fields", function()
    assert.are.same({ 3 }, T.leaves(Base(3)))
    assert.are.equal("Sub", tostring(T.structure(Sub(1, 2))):match("PyTreeDef%((%w+)"))
  end)

  it("inherits a __call the parent defines after the subclass is first used", function()
    local P = lx.Module:extend("P")
    local C = P:extend("C")
    C()
    function P:__call() return "called" end
    assert.are.equal("called", C()())
  end)
end)

describe("lx.is_module", function()
  it("is true for instances only", function()
    assert.is_true(lx.is_module(Linear(1, 1)))
    assert.is_true(lx.is_module(T.unflatten(T.structure(Linear(1, 1)), { 1, 2 })))
    assert.is_false(lx.is_module(Linear))
    assert.is_false(lx.is_module(lx.Module))
    assert.is_false(lx.is_module({}))
    assert.is_false(lx.is_module(setmetatable({}, Linear)))
    assert.is_false(lx.is_module(lx.zeros({ 1 })))
    assert.is_false(lx.is_module(nil))
    assert.is_false(lx.is_module(3))
  end)
end)

describe("tostring of a module", function()
  it("is lx.tree_pformat", function()
    local m = MLP({ 2, 4, 1 }, relu)
    assert.are.equal(lx.tree_pformat(m), tostring(m))
    assert.are.equal("Linear(weight=f32[3,2], bias=f32[3], in_features=2, out_features=3)", tostring(Linear(2, 3)))
  end)

  it("names a function field", function()
    local Act = lx.Module:extend("Act", { fields = { "activation" } })
    function Act:init(f) self.activation = f end
    assert.are.equal("Act(activation=<function abs>)", tostring(Act(math.abs)))
  end)

  it("shows a nil field as nil", function()
    assert.are.equal("Linear(weight=f32[3,2], bias=nil, in_features=2, out_features=3)",
      tostring(Linear(2, 3, { use_bias = false })))
  end)

  it("can be overridden by a class", function()
    local Custom = lx.Module:extend("Custom")
    function Custom:__tostring() return "custom!" end
    assert.are.equal("custom!", tostring(Custom()))
  end)
end)

describe("rebuilding modules", function()
  it("unflatten rebuilds instances without calling init or check_init", function()
    local checks = 0
    local Checked = lx.Module:extend("Checked", { fields = { "x" } })
    local inits = 0
    function Checked:init(v) inits = inits + 1; self.x = v end
    function Checked:check_init() checks = checks + 1 end
    local c = Checked(1)
    assert.are.same({ 1, 1 }, { inits, checks })
    local back = T.unflatten(T.structure(c), { 99 })
    assert.are.equal(99, back.x)
    assert.are.same({ 1, 1 }, { inits, checks })
  end)

  it("map, tree_at, filter and combine never call init", function()
    local m = MLP({ 2, 3, 1 }, relu)
    local li, mi = linear_inits, mlp_inits
    local mapped = T.map(function(x) return x end, m)
    local at = lx.tree_at(function(t) return t.layers[1].bias end, m, lx.ones({ 3 }))
    local kept, rest = lx.partition(m, lx.is_array)
    local back = lx.combine(kept, rest)
    assert.are.equal(li, linear_inits)
    assert.are.equal(mi, mlp_inits)
    assert.are.equal(MLP, getmetatable(mapped))
    assert.are.equal(Linear, getmetatable(at.layers[1]))
    assert.are.same({ 1, 1, 1 }, at.layers[1].bias:tolist())
    assert.is_true(T.structure(back) == T.structure(m))
  end)

  it("rebuilt instances keep their methods, __call and statics", function()
    local m = MLP({ 2, 2, 1 }, relu)
    local back = T.unflatten(T.structure(m), T.leaves(m))
    assert.are.same({ 4 }, back(lx.ones({ 2 })):tolist())
    assert.are.equal(2, back.layers[1].in_features)
  end)

  it("rebuilds a subclass as the subclass", function()
    local Sub = Linear:extend("SubLinear", { fields = { "scale" } })
    function Sub:init(i, o) Linear.init(self, i, o); self.scale = 2 end
    local s = Sub(1, 1)
    local back = T.unflatten(T.structure(s), T.leaves(s))
    assert.are.equal(Sub, getmetatable(back))
    assert.are.equal(2, back.scale)
    assert.are.same({ 1 }, back(lx.ones({ 1 })):tolist())
  end)
end)

describe("Module:extend errors", function()
  it("raises on a field declared twice", function()
    raises("Module:extend: field 'a' of E is declared twice", lx.Module.extend, lx.Module, "E",
      { fields = { "a", "a" } })
  end)

  it("raises on a name both a field and static", function()
    raises("Module:extend: field 'a' of E is declared twice", lx.Module.extend, lx.Module, "E",
      { fields = { "a" }, static = { "a" } })
  end)

  it("raises on a subclass redeclaring a parent's field", function()
    raises("Module:extend: field 'weight' of E is declared twice", Linear.extend, Linear, "E",
      { fields = { "weight" } })
    raises("Module:extend: field 'in_features' of E is declared twice", Linear.extend, Linear, "E",
      { static = { "in_features" } })
  end)

  it("raises on unknown spec keys", function()
    raises("Module:extend: unknown spec key 'field' for E (expected fields, static)",
      lx.Module.extend, lx.Module, "E", { field = { "a" } })
  end)

  it("raises on fields that are not a list of strings", function()
    raises("Module:extend: 'fields' of E must be a list of field names, got string",
      lx.Module.extend, lx.Module, "E", { fields = "a" })
    raises("Module:extend: static[2] of E must be a string, got number",
      lx.Module.extend, lx.Module, "E", { static = { "a", 2 } })
  end)

  it("raises on a name or spec of the wrong type", function()
    raises("Module:extend: the class name must be a string, got number", lx.Module.extend, lx.Module, 3)
    raises("Module:extend: the spec of E must be a table", lx.Module.extend, lx.Module, "E", "x")
  end)

  it("raises on field names that would hide init or metamethods", function()
    raises("Module:extend: 'init' cannot be a field name of E", lx.Module.extend, lx.Module, "E",
      { fields = { "init" } })
    raises("Module:extend: 'check_init' cannot be a field name of E", lx.Module.extend, lx.Module,
      "E", { static = { "check_init" } })
    raises("Module:extend: '__call' cannot be a field name of E", lx.Module.extend, lx.Module, "E",
      { fields = { "__call" } })
  end)
end)
