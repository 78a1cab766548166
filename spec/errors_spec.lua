-- Bad input to the array layer: every case raises a Lua error whose message
-- names the function and the offending values, and the process keeps
-- working afterwards (each case runs an op after the error and checks it).
local lx = require("lunox")
local H = require("spec.support.array_helpers")

local raises = H.raises

-- A small op whose answer is known: proves the runtime still works after an
-- error (no poisoned state, no half-built array left behind).
local function still_works()
  local r = (lx.array({ { 1, 2 }, { 3, 4 } }) + 1):sum(1)
  assert.are.same({ 6, 8 }, r:tolist())
  assert.are.same({ 4, 6 }, lx.matmul(lx.array({ 1, 1 }), lx.array({ { 1, 2 }, { 3, 4 } })):tolist())
end

-- `cases` is a list of {description, needles, fn}: fn must raise an error
-- mentioning every needle.
local function error_cases(title, cases)
  describe(title, function()
    for _, c in ipairs(cases) do
      it(c[1], function()
        raises(c[2], c[3])
        still_works()
      end)
    end
  end)
end

local a23 = lx.zeros({ 2, 3 })

error_cases("wrong dtype names", {
  { "zeros with 'float'", { "zeros", "unknown dtype", "'float'" },
    function() return lx.zeros({ 2 }, "float") end },
  { "ones with 'f32'", { "ones", "'f32'" }, function() return lx.ones({ 2 }, "f32") end },
  { "full with 'double'", { "full", "'double'" }, function() return lx.full({ 2 }, 1, "double") end },
  { "array with 'int'", { "lx.array", "'int'" }, function() return lx.array({ 1 }, "int") end },
  { "array with options table", { "lx.array", "'int8'" },
    function() return lx.array({ 1 }, { dtype = "int8" }) end },
  { "arange with 'Float32'", { "arange", "'Float32'" },
    function() return lx.arange(3, "Float32") end },
  { "astype with 'bf16'", { "astype", "'bf16'" }, function() return a23:astype("bf16") end },
  { "astype with no dtype", { "astype", "dtype" }, function() return a23:astype() end },
  { "a dtype that is not a string", { "zeros", "dtype", "number" },
    function() return lx.zeros({ 2 }, 5) end },
  { "the message lists the valid names", { "float32", "bfloat16", "uint16", "uint32", "uint64",
    "bool" },
    function() return lx.zeros({ 2 }, "float") end },
})

error_cases("shapes that cannot be broadcast", {
  { "lx.add {2,3} and {4}",
    { "add: shapes {2,3} and {4} cannot be broadcast", "3 vs 4", "axis 2" },
    function() return lx.add(lx.zeros({ 2, 3 }), lx.zeros({ 4 })) end },
  { "+ operator", { "add: shapes {2,3} and {4} cannot be broadcast" },
    function() return lx.zeros({ 2, 3 }) + lx.zeros({ 4 }) end },
  { "- operator", { "sub: shapes {3} and {2}" },
    function() return lx.zeros({ 3 }) - lx.zeros({ 2 }) end },
  { "* operator", { "mul: shapes {2,1,3} and {4,2}" },
    function() return lx.zeros({ 2, 1, 3 }) * lx.zeros({ 4, 2 }) end },
  { "/ operator", { "div: shapes {5} and {6}" }, function() return lx.ones({ 5 }) / lx.ones({ 6 }) end },
  { "^ operator", { "pow: shapes {2} and {3}" }, function() return lx.ones({ 2 }) ^ lx.ones({ 3 }) end },
  { "comparison", { "lt: shapes {2} and {3}" }, function() return lx.lt(lx.ones({ 2 }), lx.ones({ 3 })) end },
  { "maximum", { "maximum: shapes {2,2} and {3}" },
    function() return lx.maximum(lx.ones({ 2, 2 }), lx.ones({ 3 })) end },
  { "where", { "where: shapes", "{3}", "{2}" },
    function() return lx.where(lx.array({ true, false, true }), lx.zeros({ 2 }), 1) end },
  { "broadcast_to", { "broadcast_to: cannot broadcast shape {3} to {2,4}" },
    function() return lx.broadcast_to(lx.zeros({ 3 }), { 2, 4 }) end },
  { "broadcast_to fewer dimensions", { "broadcast_to", "{2,3}", "{3}" },
    function() return lx.broadcast_to(lx.zeros({ 2, 3 }), { 3 }) end },
})

error_cases("matmul", {
  { "inner dimensions differ", { "matmul: shapes {3,4} and {5,2} do not align (4 ~= 5)" },
    function() return lx.matmul(lx.zeros({ 3, 4 }), lx.zeros({ 5, 2 })) end },
  { "vectors of different lengths", { "matmul: shapes {3} and {4} do not align (3 ~= 4)" },
    function() return lx.matmul(lx.zeros({ 3 }), lx.zeros({ 4 })) end },
  { "batch axes that do not broadcast", { "matmul", "{2,3,4}", "{3,4,5}", "broadcast" },
    function() return lx.matmul(lx.zeros({ 2, 3, 4 }), lx.zeros({ 3, 4, 5 })) end },
  { "0-d operand", { "matmul", "at least 1 dimension", "{}" },
    function() return lx.matmul(lx.array(2), lx.zeros({ 3 })) end },
  { "bool operands", { "matmul", "bool" },
    function() return lx.matmul(lx.ones({ 2, 2 }, "bool"), lx.ones({ 2, 2 }, "bool")) end },
})

error_cases("indices", {
  { "index 0", { "index", "0 is not a valid index", "axis 1", "count from 1" },
    function() return a23[0] end },
  { "index 0 on axis 2", { "index", "axis 2" }, function() return a23[{ 1, 0 }] end },
  { "index past the end", { "index", "index 3", "axis 1", "size 2" }, function() return a23[3] end },
  { "negative index past the start", { "index", "-3", "axis 1", "size 2" },
    function() return a23[-3] end },
  { "second axis out of range", { "index", "index 4", "axis 2", "size 3" },
    function() return a23[{ 2, 4 }] end },
  { "too many indices", { "index", "3 indices", "2 dimensions" },
    function() return a23[{ 1, 1, 1 }] end },
  { "slice bound 0", { "index", "0", "slice bound" }, function() return a23[{ { 0, 1 } }] end },
  { "slice step 0", { "index", "step", "0" }, function() return a23[{ { 1, 2, 0 } }] end },
  { "fractional index", { "index", "1.5" }, function() return a23[1.5] end },
  { "string slice bound", { "index", "string" }, function() return a23[{ { "a" } }] end },
  { "indexing a 0-d array", { "index", "0-d", "item" }, function() return lx.array(3)[1] end },
})

error_cases("tables that are not lists are not arrays", {
  { "a dict", { "lx.array", "non-list keys", "first key: a" },
    function() return lx.array({ a = 1 }) end },
  { "a Module", { "lx.array", "Wrapped", "metatable" }, function()
    local W = lx.Module:extend("Wrapped", { fields = { "v" } })
    function W:init() self.v = 1 end
    return lx.array(W())
  end },
  { "a Module inside a list", { "lx.array", "Wrapped", "inside the list" }, function()
    local W = lx.Module:extend("Wrapped", { fields = { "v" } })
    function W:init() self.v = 1 end
    return lx.array({ W() })
  end },
  { "an elementwise op on a dict", { "non-list keys" }, function() return lx.tanh({ a = 1 }) end },
})

error_cases("ragged nested lists say where", {
  { "short second row", { "lx.array", "ragged", "[2]", "length 1", "expected 2" },
    function() return lx.array({ { 1, 2 }, { 3 } }) end },
  { "long second row", { "lx.array", "ragged", "[2]", "length 3" },
    function() return lx.array({ { 1, 2 }, { 3, 4, 5 } }) end },
  { "a number where a list is expected", { "lx.array", "ragged", "[2]", "number" },
    function() return lx.array({ { 1, 2 }, 3 }) end },
  { "a list where a number is expected", { "lx.array", "ragged", "[2][2]" },
    function() return lx.array({ { 1, 2 }, { 3, { 4 } } }) end },
  { "ragged at depth 3", { "lx.array", "ragged", "[2]" },
    function() return lx.array({ { { 1 }, { 2 } }, { { 3 } } }) end },
  { "a self-referencing table", { "lx.array", "deeper than 32", "cycle" },
    function()
      local t = {}
      t[1] = t
      return lx.array(t)
    end },
})

error_cases("non-numeric values", {
  { "a string in a list", { "lx.array", "[2]", "string" }, function() return lx.array({ 1, "x" }) end },
  { "a function in a list", { "lx.array", "[2]", "function" },
    function() return lx.array({ 1, print }) end },
  { "a coroutine deep in a list", { "lx.array", "[2][1]", "thread" },
    function() return lx.array({ { 1 }, { coroutine.create(print) } }) end },
  { "an array inside a list", { "lx.array", "[2]", "an array", "lx.stack" },
    function() return lx.array({ 1, lx.array(2) }) end },
  { "a string as the value", { "lx.array", "string" }, function() return lx.array("abc") end },
  { "nothing at all", { "lx.array", "no value" }, function() return lx.array() end },
  { "a string fill value", { "full", "fill value", "string" },
    function() return lx.full({ 2 }, "x") end },
  { "a string operand", { "add", "argument 2", "string" }, function() return a23 + "x" end },
  { "nil operand", { "mul", "nil" }, function() return a23 * nil end },
  { "a string to exp", { "exp", "argument 1", "string" }, function() return lx.exp("x") end },
  { "a string to sum", { "sum", "string" }, function() return lx.sum("abc") end },
  { "a string to arange", { "arange", "string" }, function() return lx.arange("x") end },
  { "a string as a shape", { "zeros", "shape", "string" }, function() return lx.zeros("x") end },
  { "a string inside a shape", { "zeros", "shape entry 2", "string" },
    function() return lx.zeros({ 2, "x" }) end },
  { "a fractional shape entry", { "zeros", "shape entry 1", "2.5" },
    function() return lx.zeros({ 2.5 }) end },
  { "a method called on a plain table", { "tolist", "argument 1", "table" },
    function() return a23.tolist({}) end },
})

error_cases("numbers that do not fit an integer dtype", {
  { "300 into uint8", { "lx.array", "300", "[1]", "uint8" },
    function() return lx.array({ 300 }, "uint8") end },
  { "-1 into uint32, nested", { "lx.array", "-1", "[1][2]", "uint32" },
    function() return lx.array({ { 1, -1 } }, "uint32") end },
  { "2^31 into int32", { "lx.array", "2147483648", "int32" },
    function() return lx.array(2 ^ 31, "int32") end },
  { "full 256 into uint8", { "full", "256", "uint8" }, function() return lx.full({ 2 }, 256, "uint8") end },
  { "300.5 into uint8 (no silent saturation)", { "lx.array", "300.5", "uint8" },
    function() return lx.array({ 300.5 }, "uint8") end },
  { "NaN into int32", { "lx.array", "nan", "int32" },
    function() return lx.array({ 0 / 0 }, "int32") end },
  { "uint8 array + 300", { "add", "300", "uint8" },
    function() return lx.array({ 1 }, "uint8") + 300 end },
  { "int32 array * 2^40", { "mul", "1099511627776", "int32" },
    function() return lx.array({ 1 }, "int32") * 2 ^ 40 end },
  { "where with 300 beside uint8", { "where", "300", "uint8" },
    function() return lx.where(lx.array({ true }), lx.array({ 1 }, "uint8"), 300) end },
})

error_cases("reshape to a different size", {
  { "6 elements into {4}", { "reshape", "size 6", "{2,3}", "{4}" },
    function() return a23:reshape({ 4 }) end },
  { "6 elements into {4,2}", { "reshape", "{4,2}" }, function() return a23:reshape(4, 2) end },
  { "-1 that cannot divide", { "reshape", "{-1,4}" }, function() return a23:reshape({ -1, 4 }) end },
  { "two -1 entries", { "reshape", "only one", "-1" }, function() return a23:reshape({ -1, -1 }) end },
  { "negative entry", { "reshape", "negative dimension -2" }, function() return a23:reshape({ -2, -3 }) end },
  { "fractional entry", { "reshape", "2.5" }, function() return a23:reshape({ 2.5, 2 }) end },
})

error_cases("negative and impossible sizes", {
  { "zeros {-1}", { "zeros", "negative dimension -1", "{-1}" }, function() return lx.zeros({ -1 }) end },
  { "ones {2,-3}", { "ones", "negative dimension -3", "position 2" },
    function() return lx.ones({ 2, -3 }) end },
  { "full {-1}", { "full", "negative dimension -1" }, function() return lx.full({ -1 }, 0) end },
  { "too many dimensions", { "zeros", "33", "at most 32" },
    function()
      local shape = {}
      for i = 1, 33 do shape[i] = 1 end
      return lx.zeros(shape)
    end },
  { "arange with step 0", { "arange", "step", "0" }, function() return lx.arange(0, 1, 0) end },
  { "arange to infinity", { "arange", "finite", "inf" }, function() return lx.arange(0, 1 / 0) end },
  { "arange of 1e300 elements", { "arange", "too many" }, function() return lx.arange(1e300) end },
})

error_cases("huge arrays fail cleanly", {
  { "2^62 float32 elements", { "zeros", "{4611686018427387904}", "too large" },
    function() return lx.zeros({ 2 ^ 62 }) end },
  { "2^62 uint8 elements (4 EiB)", { "zeros", "out of memory", "4611686018427387904" },
    function() return lx.zeros({ 2 ^ 62 }, "uint8") end },
  { "{2^31, 2^31} float32", { "ones", "too large" },
    function() return lx.ones({ 2 ^ 31, 2 ^ 31 }) end },
  { "2^40 float32 elements (4 TiB)", { "zeros", "out of memory", "4.0 TiB" },
    function() return lx.zeros({ 2 ^ 40 }) end },
  { "full with 2^40 elements", { "full", "out of memory" },
    function() return lx.full({ 2 ^ 40 }, 3) end },
  { "an op whose result needs 4 EiB", { "add", "out of memory" },
    function() return lx.broadcast_to(lx.array(1, "uint8"), { 2 ^ 62 }) + 1 end },
  { "tolist of 2^62 elements", { "tolist", "4611686018427387904" },
    function() return lx.broadcast_to(lx.array(1, "uint8"), { 2 ^ 62 }):tolist() end },
  { "astype of 2^62 elements", { "astype", "too large" },
    function() return lx.broadcast_to(lx.array(1, "uint8"), { 2 ^ 62 }):astype("float32") end },
})

error_cases("bad axes", {
  { "axis 0", { "sum", "axis 0", "count from 1" }, function() return lx.sum(a23, 0) end },
  { "axis past the end", { "sum", "axis 3", "2 dimensions" }, function() return lx.sum(a23, 3) end },
  { "negative axis past the start", { "mean", "axis -3", "2 dimensions" },
    function() return lx.mean(a23, -3) end },
  { "repeated axis", { "max", "axis 1", "repeated" }, function() return lx.max(a23, { 1, 1 }) end },
  { "argmax over two of three axes", { "argmax", "one axis or all" },
    function() return lx.argmax(lx.zeros({ 2, 3, 4 }), { 1, 2 }) end },
  { "axis on a 0-d array", { "min", "0-d" }, function() return lx.min(lx.array(1), 1) end },
  { "fractional axis", { "sum", "axis", "1.5" }, function() return lx.sum(a23, 1.5) end },
  { "concatenate axis 0", { "concatenate", "axis 0" },
    function() return lx.concatenate({ a23, a23 }, 0) end },
  { "concatenate axis 3 of 2-D", { "concatenate", "axis 3" },
    function() return lx.concatenate({ a23, a23 }, 3) end },
  { "stack axis 4 of 2-D", { "stack", "axis 4", "3 dimensions" },
    function() return lx.stack({ a23, a23 }, 4) end },
  { "empty max", { "max", "zero-size", "{0}" }, function() return lx.max(lx.zeros({ 0 })) end },
})

error_cases("transpose with a non-permutation", {
  { "repeated axis", { "transpose", "{1,1}", "not a permutation" },
    function() return a23:transpose({ 1, 1 }) end },
  { "too few entries", { "transpose", "1 entries", "2 dimensions" },
    function() return a23:transpose({ 1 }) end },
  { "axis out of range", { "transpose", "axis 3" }, function() return a23:transpose({ 1, 3 }) end },
  { "axis 0", { "transpose", "axis 0" }, function() return a23:transpose({ 0, 1 }) end },
  { "repeated axis in 3-D", { "transpose", "{3,1,3}" },
    function() return lx.zeros({ 2, 3, 4 }):transpose({ 3, 1, 3 }) end },
})

error_cases("mixing booleans and numbers without a dtype", {
  { "number then boolean", { "lx.array", "mixed booleans and numbers", "[2]", "boolean" },
    function() return lx.array({ 1, true }) end },
  { "boolean then number", { "lx.array", "mixed", "[2]", "number" },
    function() return lx.array({ true, 1 }) end },
  { "nested", { "lx.array", "mixed", "[2][1]" }, function() return lx.array({ { true }, { 1 } }) end },
})

describe("mixing booleans and numbers with a dtype", function()
  it("converts both", function()
    assert.are.same({ 1, 1, 0 }, lx.array({ 1, true, false }, "int32"):tolist())
  end)
end)

error_cases("arrays are immutable", {
  { "assigning an element", { "index", "immutable" }, function() a23[1] = 0 end },
  { "assigning a slice", { "immutable" }, function() a23[{ 1, 2 }] = 0 end },
  { "assigning a field", { "immutable" }, function() a23.shape = { 6 } end },
  { "assigning a method", { "immutable" }, function() a23.sum = print end },
})

error_cases("joining arrays of different shapes", {
  { "stack {2} and {3}", { "stack", "array 2", "{3}", "{2}" },
    function() return lx.stack({ lx.zeros({ 2 }), lx.zeros({ 3 }) }) end },
  { "stack {2,3} and {3,2}", { "stack", "{3,2}", "{2,3}" },
    function() return lx.stack({ a23, a23, lx.zeros({ 3, 2 }) }, 1) end },
  { "concatenate different ndim", { "concatenate", "array 2", "{3}", "{2,3}" },
    function() return lx.concatenate({ a23, lx.zeros({ 3 }) }) end },
  { "concatenate different other axis", { "concatenate", "{2,4}", "{2,3}", "axis 1" },
    function() return lx.concatenate({ a23, lx.zeros({ 2, 4 }) }, 1) end },
  { "concatenate of nothing", { "concatenate", "at least one" },
    function() return lx.concatenate({}) end },
  { "stack of nothing", { "stack", "at least one" }, function() return lx.stack({}) end },
  { "concatenate of an array instead of a list", { "concatenate", "list of arrays" },
    function() return lx.concatenate(a23) end },
  { "concatenate of 0-d arrays", { "concatenate", "0-d" },
    function() return lx.concatenate({ lx.array(1), lx.array(2) }) end },
  { "a string in the list", { "stack", "string" },
    function() return lx.stack({ lx.zeros({ 2 }), "x" }) end },
})

error_cases("other bad uses", {
  { "item of several elements", { "item", "{2,3}", "6 elements" }, function() return a23:item() end },
  { "length of a 0-d array", { "#", "0-d" }, function() return #lx.array(1) end },
  { "bool subtraction", { "sub", "bool" }, function() return lx.ones({ 2 }, "bool") - lx.ones({ 2 }, "bool") end },
  { "bool negation", { "neg", "bool" }, function() return -lx.ones({ 2 }, "bool") end },
  { "unknown device", { "to", "unknown device", "'gpu'" }, function() return a23:to("gpu") end },
  { "sync of an unknown device", { "sync", "'tpu'" }, function() return lx.sync("tpu") end },
  { "unpack of a 0-d array", { "unpack", "0-d" }, function() return lx.array(1):unpack() end },
  { "transpose with a number", { "transpose", "permutation", "number" },
    function() return a23:transpose(1) end },
  { "to with no device", { "to", "device", "no value" }, function() return a23:to() end },
  { "sync with a number", { "sync", "device", "number" }, function() return lx.sync(1) end },
  { "a device option that is not a string", { "zeros", "device", "number" },
    function() return lx.zeros({ 2 }, { device = 3 }) end },
  { "close of a plain table", { "close", "table" }, function() return a23.close({}) end },
  { "stack of nothing at all", { "stack", "list of arrays", "nil" }, function() return lx.stack() end },
})

describe("errors leave the process working", function()
  it("survives many errors in a row, under both hosts, in a fresh process too", function()
    local code = [[
      local lx = require("lunox")
      local n = 0
      for i = 1, 200 do
        n = n + (pcall(lx.zeros, {2 ^ 40}) and 0 or 1)
        n = n + (pcall(lx.array, {{1, 2}, {3}}) and 0 or 1)
        n = n + (pcall(function() return lx.zeros({2, 3}) + lx.zeros({4}) end) and 0 or 1)
      end
      print(string.format("%d %g", n, (lx.array({1, 2}) + 1):sum():item()))
    ]]
    local out, status = H.run_code(code)
    assert.are.equal(0, status, out)
    assert.are.equal("600 5\n", out)
  end)
  it("failed ops leak no array memory", function()
    collectgarbage()
    collectgarbage()
    local before = lx.memory_in_use()
    for _ = 1, 50 do
      pcall(function() return lx.zeros({ 2, 3 }) + lx.zeros({ 4 }) end)
      pcall(function() return lx.matmul(lx.zeros({ 3, 4 }), lx.zeros({ 5, 2 })) end)
      pcall(function() return lx.array({ 1, "x" }) end)
      pcall(function() return lx.zeros({ 2 ^ 40 }) end)
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lx.memory_in_use())
  end)
end)
