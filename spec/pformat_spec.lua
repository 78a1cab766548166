-- lx.tree_pformat (lua/lunox/pformat.lua): leaves, tables, arrays, functions,
-- modules, line breaking at the page width, cycles, options, and the REPL's
-- use of it. Expected strings are written out in full, so any change of
-- layout shows here.
local lx = require("lunox")
local core = require("lunox.core")
local process = require("spec.support.process")
local pformat = require("lunox.pformat").pformat
local Module = require("lunox.module").Module

-- Asserts that f raises an error whose message contains text (plain).
local function raises(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. text)
  assert.is_truthy(tostring(err):find(text, 1, true), tostring(err))
end

-- The classes of the examples: Equinox's Linear and MLP.
local Linear = Module:extend("Linear", {
  fields = { "weight", "bias" }, static = { "in_features", "out_features" },
})
function Linear:init(in_features, out_features, use_bias)
  self.weight = lx.zeros({ out_features, in_features })
  if use_bias == false then self.bias = nil else self.bias = lx.zeros({ out_features }) end
  self.in_features = in_features
  self.out_features = out_features
end

local MLP = Module:extend("MLP", { fields = { "layers", "activation" } })
function MLP:init(sizes, activation)
  local layers = {}
  for i = 1, #sizes - 1 do layers[i] = Linear(sizes[i], sizes[i + 1]) end
  self.layers = layers
  self.activation = activation
end

local MLP_80 = table.concat({
  "MLP(",
  "  layers={",
  "    Linear(weight=f32[4,2], bias=f32[4], in_features=2, out_features=4),",
  "    Linear(weight=f32[1,4], bias=f32[1], in_features=4, out_features=1)",
  "  },",
  "  activation=<function sigmoid>",
  ")",
}, "\n")

describe("tree_pformat leaves", function()
  it("prints numbers the same under both hosts", function()
    assert.are.equal("3", pformat(3))
    assert.are.equal("3", pformat(3.0)) -- 5.4's tostring says 3.0, LuaJIT's 3
    assert.are.equal("-12", pformat(-12))
    assert.are.equal("0.5", pformat(0.5))
    assert.are.equal("0.1", pformat(0.1))
    assert.are.equal("1e+100", pformat(1e100))
    assert.are.equal("1.5e-07", pformat(1.5e-7))
    assert.are.equal("4294967296", pformat(2 ^ 32))
    assert.are.equal("inf", pformat(1 / 0))
    assert.are.equal("-inf", pformat(-1 / 0))
    assert.are.equal("nan", pformat(0 / 0))
    assert.are.equal("-0", pformat(-0.0))
  end)

  it("quotes strings on one line, escaping quotes, backslashes and control characters", function()
    assert.are.equal('"abc"', pformat("abc"))
    assert.are.equal('""', pformat(""))
    assert.are.equal('"a\\nb\\tc\\rd"', pformat("a\nb\tc\rd"))
    assert.are.equal('"say \\"hi\\" \\\\o/"', pformat('say "hi" \\o/'))
    -- three digits always, so the digit after the escape stays a digit
    assert.are.equal('"\\0001\\027"', pformat("\0" .. "1\27"))
  end)

  it("prints booleans and nil", function()
    assert.are.equal("true", pformat(true))
    assert.are.equal("false", pformat(false))
    assert.are.equal("nil", pformat(nil))
  end)

  it("prints lx.none as none", function()
    assert.are.equal("none", pformat(lx.none))
    assert.are.equal("{1, none, 3}", pformat({ 1, lx.none, 3 }))
    assert.are.equal("{a=none}", pformat({ a = core.none }))
  end)
end)

describe("tree_pformat tables", function()
  it("prints lists in order", function()
    assert.are.equal("{1, 2, 3}", pformat({ 1, 2, 3 }))
    assert.are.equal('{"a", {true, false}, {}}', pformat({ "a", { true, false }, {} }))
  end)

  it("prints an empty table as {}", function()
    assert.are.equal("{}", pformat({}))
  end)

  it("sorts dict keys: numbers ascending, then strings bytewise", function()
    local t = { b = 1, a = 2, B = 3, [10] = 4, [-1] = 5, [2.5] = 6, _x = 7 }
    assert.are.equal("{[-1]=5, [2.5]=6, [10]=4, B=3, _x=7, a=2, b=1}", pformat(t))
  end)

  it("brackets keys that are not identifiers, keywords included", function()
    local t = { ["not an ident"] = 1, ["end"] = 2, ["1x"] = 3, ["a\n"] = 4, ok_1 = 5 }
    assert.are.equal('{["1x"]=3, ["a\\n"]=4, ["end"]=2, ["not an ident"]=1, ok_1=5}',
      pformat(t))
  end)

  it("prints a list with other keys, or with a hole, as a dict", function()
    assert.are.equal('{[1]=1, [2]=2, x="y"}', pformat({ 1, 2, x = "y" }))
    assert.are.equal("{[1]=1, [3]=3}", pformat({ 1, nil, 3 }))
  end)

  it("prints nested tables", function()
    assert.are.equal("{a={b={c={1}}}, d={}}", pformat({ a = { b = { c = { 1 } } }, d = {} }))
  end)

  it("prints tables with a metatable through __tostring, else by __name", function()
    local shown = setmetatable({ 1 }, { __tostring = function() return "<shown>" end })
    assert.are.equal("<shown>", pformat(shown))
    assert.are.equal("{<shown>}", pformat({ shown }))
    assert.are.equal("<table: Point>", pformat(setmetatable({ x = 1 }, { __name = "Point" })))
    assert.are.equal("<table>", pformat(setmetatable({ x = 1 }, {})))
    -- a failing __tostring does not make pformat fail
    local broken = setmetatable({}, { __tostring = function() error("no") end, __name = "B" })
    assert.are.equal("<table: B>", pformat(broken))
  end)
end)

describe("tree_pformat arrays", function()
  it("prints arrays short by default: dtype abbreviation and shape", function()
    assert.are.equal("f32[4,2]", pformat(lx.zeros({ 4, 2 })))
    assert.are.equal("f32[]", pformat(lx.array(1.5)))
    assert.are.equal("f32[0]", pformat(lx.zeros({ 0 })))
    local expected = {
      float32 = "f32[3]", float64 = "f64[3]", float16 = "f16[3]", bfloat16 = "bf16[3]",
      int32 = "i32[3]", int64 = "i64[3]", uint8 = "u8[3]", uint32 = "u32[3]", bool = "bool[3]",
      uint16 = "u16[3]", uint64 = "u64[3]",
    }
    for dtype, short in pairs(expected) do
      assert.are.equal(short, pformat(lx.zeros({ 3 }, dtype)), dtype)
    end
    assert.are.equal("{n=i32[], w=f32[2,3,4]}",
      pformat({ w = lx.zeros({ 2, 3, 4 }), n = lx.zeros({}, "int32") }))
  end)

  it("prints arrays in full with short_arrays = false", function()
    local a = lx.array({ 1, 2 })
    assert.are.equal(tostring(a), pformat(a, { short_arrays = false }))
    assert.are.equal("{x=" .. tostring(a) .. "}", pformat({ x = a }, { short_arrays = false }))
  end)

  it("keeps a multi-line array repr aligned under its first line", function()
    local m = Linear(2, 2)
    local expected = table.concat({
      "Linear(",
      "  weight=Array([[0., 0.],",
      "                [0., 0.]], dtype=float32),",
      "  bias=Array([0., 0.], dtype=float32),",
      "  in_features=2,",
      "  out_features=2",
      ")",
    }, "\n")
    assert.are.equal(expected, pformat(m, { short_arrays = false }))
  end)
end)

describe("tree_pformat functions", function()
  it("names lunox, math and string functions by their last name component", function()
    assert.are.equal("<function sigmoid>", pformat(lx.sigmoid))
    assert.are.equal("<function zeros>", pformat(lx.zeros))
    assert.are.equal("<function max>", pformat(math.max))
    assert.are.equal("<function format>", pformat(string.format))
    assert.are.equal("{f=<function tanh>}", pformat({ f = lx.tanh }))
  end)

  it("names other functions by where they are defined", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local f = function() end
    local s = pformat(f)
    local src, got_line = s:match("^<function (.*):(%d+)>$")
    assert.is_truthy(src, s)
    assert.is_truthy(src:find("pformat_spec.lua", 1, true), s)
    assert.are.equal(line, tonumber(got_line))
    assert.are.equal("<function [C]>", pformat(print)) -- not in lunox, math or string
  end)
end)

describe("tree_pformat modules", function()
  it("prints fields in declaration order, then static fields", function()
    assert.are.equal("Linear(weight=f32[4,2], bias=f32[4], in_features=2, out_features=4)",
      pformat(Linear(2, 4)))
  end)

  it("prints nil fields as nil", function()
    assert.are.equal("Linear(weight=f32[3,5], bias=nil, in_features=5, out_features=3)",
      pformat(Linear(5, 3, false)))
  end)

  it("breaks nested modules at the width, Equinox-style", function()
    local model = MLP({ 2, 4, 1 }, lx.sigmoid)
    assert.are.equal(MLP_80, pformat(model))
    assert.are.equal(MLP_80, tostring(model))
  end)

  it("breaks every group that does not fit a small width", function()
    local model = MLP({ 2, 4, 1 }, lx.sigmoid)
    local expected = table.concat({
      "MLP(",
      "  layers={",
      "    Linear(",
      "      weight=f32[4,2],",
      "      bias=f32[4],",
      "      in_features=2,",
      "      out_features=4",
      "    ),",
      "    Linear(",
      "      weight=f32[1,4],",
      "      bias=f32[1],",
      "      in_features=4,",
      "      out_features=1",
      "    )",
      "  },",
      "  activation=<function sigmoid>",
      ")",
    }, "\n")
    assert.are.equal(expected, pformat(model, { width = 40 }))
  end)

  it("prints a small model on one line when it fits", function()
    local model = MLP({ 2, 1 }, lx.sigmoid)
    local flat = "MLP(layers={Linear(weight=f32[1,2], bias=f32[1], in_features=2, out_features=1)}, "
      .. "activation=<function sigmoid>)"
    assert.are.equal(flat, pformat(model, { width = 200 }))
  end)

  it("prints a module without fields as Name(), and subclass fields after the parent's", function()
    local Empty = Module:extend("Empty", {})
    assert.are.equal("Empty()", pformat(Empty()))
    local Scaled = Linear:extend("Scaled", { fields = { "scale" }, static = { "mode" } })
    function Scaled:init()
      Linear.init(self, 1, 1)
      self.scale = 2
      self.mode = "fast"
    end
    assert.are.equal(
      'Scaled(weight=f32[1,1], bias=f32[1], scale=2, in_features=1, out_features=1, mode="fast")',
      pformat(Scaled(), { width = 100 }))
  end)

  it("prints module classes through their __tostring", function()
    assert.are.equal("{<class Linear>}", pformat({ Linear }))
  end)
end)

describe("tree_pformat layout", function()
  it("prints a group flat when it fits exactly, and breaks it one column earlier", function()
    local t = { "aaaa", "bbbb" } -- {"aaaa", "bbbb"} is 16 columns
    assert.are.equal('{"aaaa", "bbbb"}', pformat(t, { width = 16 }))
    assert.are.equal('{\n  "aaaa",\n  "bbbb"\n}', pformat(t, { width = 15 }))
  end)

  it("counts the comma after an item against the width", function()
    -- Broken outer list: the first item needs room for its ",", the last not.
    local t = { { 1, 2 }, { 3, 4 } }
    assert.are.equal("{\n  {1, 2},\n  {3, 4}\n}", pformat(t, { width = 9 }))
    assert.are.equal("{\n  {\n    1,\n    2\n  },\n  {3, 4}\n}", pformat(t, { width = 8 }))
  end)

  it("puts a dict key before the group it opens", function()
    local t = { alpha = { 1, 2, 3 }, beta = "x" }
    assert.are.equal('{\n  alpha={1, 2, 3},\n  beta="x"\n}', pformat(t, { width = 20 }))
    assert.are.equal('{\n  alpha={\n    1,\n    2,\n    3\n  },\n  beta="x"\n}',
      pformat(t, { width = 10 }))
  end)

  it("prints a leaf wider than the page as it is", function()
    assert.are.equal('{\n  "abcdefghij"\n}', pformat({ "abcdefghij" }, { width = 5 }))
  end)

  it("formats a 5,000-element list and a 5,000-layer model", function()
    local list = {}
    for i = 1, 5000 do list[i] = i end
    local s = pformat(list)
    local lines = process.lines(s)
    assert.are.equal(5002, #lines)
    assert.are.equal("{", lines[1])
    assert.are.equal("  1,", lines[2])
    assert.are.equal("  5000", lines[5001])
    assert.are.equal("}", lines[5002])

    local sizes = {}
    for i = 1, 5001 do sizes[i] = 3 end
    local model = MLP(sizes, lx.sigmoid)
    lines = process.lines(pformat(model))
    assert.are.equal(5000 + 5, #lines)
    assert.are.equal("  layers={", lines[2])
    for i = 3, 5002 do
      local comma = i < 5002 and "," or ""
      assert.are.equal("    Linear(weight=f32[3,3], bias=f32[3], in_features=3, out_features=3)"
        .. comma, lines[i])
    end
    assert.are.equal("  },", lines[5003])
  end)
end)

describe("tree_pformat cycles", function()
  it("prints <cycle> where a table contains itself", function()
    local t = { 1 }
    t[2] = t
    assert.are.equal("{1, <cycle>}", pformat(t))
    local d = { name = "d" }
    d.self = d
    assert.are.equal('{name="d", self=<cycle>}', pformat(d))
  end)

  it("prints <cycle> for a cycle through descendants, modules included", function()
    local a, b = {}, {}
    a.next, b.next = b, a
    assert.are.equal("{next={next=<cycle>}}", pformat(a))
    local Box = Module:extend("Box", { fields = { "content" } })
    function Box:init(c) self.content = c end
    local inner = {}
    local box = Box(inner)
    inner[1] = box
    assert.are.equal("Box(content={<cycle>})", pformat(box))
  end)

  it("prints a table shared by two branches twice", function()
    local shared = { 1, 2 }
    assert.are.equal("{{1, 2}, {1, 2}}", pformat({ shared, shared }))
    assert.are.equal("{a={1, 2}, b={x={1, 2}}}", pformat({ a = shared, b = { x = shared } }))
  end)
end)

describe("tree_pformat options", function()
  it("rejects unknown options and wrong types, naming the option", function()
    raises("tree_pformat: unknown option 'widht'", pformat, {}, { widht = 10 })
    raises("tree_pformat: option 'width' must be a number, got string", pformat, {},
      { width = "80" })
    raises("tree_pformat: option 'short_arrays' must be a boolean, got number", pformat, {},
      { short_arrays = 1 })
    raises("tree_pformat: option 'width' must be a positive integer, got 0", pformat, {},
      { width = 0 })
    raises("tree_pformat: option 'width' must be a positive integer", pformat, {},
      { width = 2.5 })
    raises("tree_pformat: opts must be a table, got number", pformat, {}, 80)
    raises("tree_pformat: unknown option 'indent'", lx.tree_pformat, {}, { indent = 2 })
  end)

  it("accepts an empty options table", function()
    assert.are.equal("{1}", pformat({ 1 }, {}))
  end)

  it("is lx.tree_pformat", function()
    assert.are.equal(MLP_80, lx.tree_pformat(MLP({ 2, 4, 1 }, lx.sigmoid)))
    assert.are.equal("f32[2]", lx.tree_pformat(lx.zeros({ 2 })))
  end)
end)

describe("the REPL", function()
  it("prints tables with tree_pformat and arrays with their own repr", function()
    local out, _, status = process.run_host({}, {
      input = 't = {1, 2, x = "y"}\nt\n{}\nlx.zeros({2})\n{lx.zeros({2})}\n1, "s"\n',
      env = { LUNOX_HISTORY = "" },
    })
    assert.are.equal(0, status)
    assert.are.equal(table.concat({
      '{[1]=1, [2]=2, x="y"}',
      "{}",
      tostring(lx.zeros({ 2 })),
      "{f32[2]}",
      "1\ts",
      "",
    }, "\n"), out)
  end)
end)
