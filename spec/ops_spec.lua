-- Array ops on the CPU backend: elementwise ops, broadcasting, dtype
-- promotion, comparisons, where, reductions, matmul, shape ops and astype.
-- Expected values are independent of lunox: NumPy-generated fixtures
-- (spec/fixtures/ops_fixtures.lua, from make_ops_fixtures.py) and
-- hand-derived literals below.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local fixtures = dofile("spec/fixtures/ops_fixtures.lua")

local check, check_list, make, raises = H.check, H.check_list, H.make, H.raises
local nan, inf = 0 / 0, 1 / 0

-- Each fixture op, run the way a user would write it. Where an operator and
-- a function both exist, both must give the fixture's answer.
local OPERATORS = {
  add = function(a, b) return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end,
  div = function(a, b) return a / b end,
  pow = function(a, b) return a ^ b end,
}

local function run_case(c)
  local ins = {}
  for i, rec in ipairs(c.inputs) do ins[i] = make(rec) end
  local args = c.args or {}
  local op = c.op
  local results = {}
  if args.scalar ~= nil then
    local a, s = ins[1], args.scalar
    if args.scalar_first then
      results.fn = lx[op](s, a)
      if OPERATORS[op] then results.operator = OPERATORS[op](s, a) end
    else
      results.fn = lx[op](a, s)
      if OPERATORS[op] then results.operator = OPERATORS[op](a, s) end
    end
  elseif op == "where" then
    results.fn = lx.where(ins[1], ins[2], ins[3])
  elseif op == "matmul" then
    results.fn = lx.matmul(ins[1], ins[2])
    results.method = ins[1]:matmul(ins[2])
  elseif op == "matmul_at" then
    results.fn = lx.matmul(ins[1].T, ins[2])
  elseif op == "reshape" then
    results.method = ins[1]:reshape(args.shape)
    results.fn = lx.reshape(ins[1], args.shape)
  elseif op == "transpose" then
    results.method = ins[1]:transpose(args.perm)
    if not args.perm then results.T = ins[1].T end
  elseif op == "transpose_reshape" then
    results.fn = ins[1].T:reshape(args.shape)
  elseif op == "concatenate" or op == "stack" then
    results.fn = lx[op](ins, args.axis)
  elseif op == "astype" then
    results.method = ins[1]:astype(args.dtype)
    results.fn = lx.astype(ins[1], args.dtype)
  elseif op == "sum" or op == "mean" or op == "max" or op == "min" or op == "argmax"
      or op == "argmin" then
    results.fn = lx[op](ins[1], args.axis, args.keepdims)
    results.method = ins[1][op](ins[1], args.axis, args.keepdims)
  elseif #ins == 2 then
    results.fn = lx[op](ins[1], ins[2])
    if OPERATORS[op] then results.operator = OPERATORS[op](ins[1], ins[2]) end
  elseif #ins == 1 then
    results.fn = lx[op](ins[1])
    if op == "neg" then results.operator = -ins[1] end
  else
    error("ops_spec: unknown fixture op " .. op)
  end
  local n = 0
  for how, r in pairs(results) do
    check(r, c.expected, c.tol, how)
    n = n + 1
  end
  assert(n > 0, "no result checked")
end

describe("array ops against NumPy fixtures", function()
  it("has fixtures for every op", function()
    local seen = {}
    for _, c in ipairs(fixtures.cases) do seen[c.op] = true end
    for _, op in ipairs({ "add", "sub", "mul", "div", "pow", "neg", "eq", "ne", "lt", "le",
      "gt", "ge", "where", "maximum", "minimum", "exp", "log", "sqrt", "abs", "tanh", "sin",
      "cos", "sigmoid", "sum", "mean", "max", "min", "argmax", "argmin", "matmul", "reshape",
      "transpose", "concatenate", "stack", "astype" }) do
      assert.is_true(seen[op] == true, "no fixture for " .. op)
    end
  end)
  for _, c in ipairs(fixtures.cases) do
    it(c.name, function() run_case(c) end)
  end
end)

describe("dtype promotion", function()
  -- JAX's lattice: bool < uint8 < uint32, int32 < int64, unsigned meets
  -- signed at the next wider signed type, every integer < float16 and
  -- bfloat16, which meet at float32 < float64.
  local expected = {
    { "bool", "uint8", "uint8" }, { "bool", "int32", "int32" }, { "bool", "bool", "bool" },
    { "bool", "bfloat16", "bfloat16" }, { "uint8", "uint32", "uint32" },
    { "int32", "int64", "int64" }, { "uint8", "int32", "int32" },
    { "uint32", "int32", "int64" }, { "uint32", "int64", "int64" },
    { "uint8", "int64", "int64" }, { "int32", "float16", "float16" },
    { "int64", "float16", "float16" }, { "uint32", "bfloat16", "bfloat16" },
    { "int64", "bfloat16", "bfloat16" }, { "float16", "bfloat16", "float32" },
    { "float16", "float32", "float32" }, { "bfloat16", "float32", "float32" },
    { "float32", "float64", "float64" }, { "bfloat16", "float64", "float64" },
    { "int64", "float32", "float32" }, { "uint8", "float64", "float64" },
  }
  for _, e in ipairs(expected) do
    it(e[1] .. " with " .. e[2] .. " gives " .. e[3], function()
      local a, b = lx.ones({ 2 }, e[1]), lx.ones({ 2 }, e[2])
      assert.are.equal(e[3], (a * b).dtype)
      assert.are.equal(e[3], (b * a).dtype)
      assert.are.equal(e[3], lx.maximum(a, b).dtype)
      assert.are.equal("bool", lx.lt(a, b).dtype)
    end)
  end
  it("is symmetric and idempotent over every pair of dtypes", function()
    for _, x in ipairs(H.ALL_DTYPES) do
      local a = lx.ones({ 1 }, x)
      assert.are.equal(x, lx.maximum(a, a).dtype)
      for _, y in ipairs(H.ALL_DTYPES) do
        local b = lx.ones({ 1 }, y)
        assert.are.equal(lx.maximum(a, b).dtype, lx.maximum(b, a).dtype, x .. " with " .. y)
      end
    end
  end)
  it("concatenate and where promote their operands", function()
    assert.are.equal("float32", lx.concatenate({ lx.ones({ 1 }, "int32"),
      lx.ones({ 1 }, "float32") }, 1).dtype)
    assert.are.equal("int64", lx.stack({ lx.ones({ 1 }, "uint32"), lx.ones({ 1 }, "int32") },
      1).dtype)
    assert.are.equal("float32", lx.where(lx.array({ true }), lx.ones({ 1 }, "float16"),
      lx.ones({ 1 }, "bfloat16")).dtype)
  end)
end)

describe("Lua numbers are weakly typed", function()
  it("int32 array + 1 stays int32", function()
    check_list(lx.array({ 1, 2 }, "int32") + 1, { 2, 3 }, "int32")
    check_list(1 + lx.array({ 1, 2 }, "int32"), { 2, 3 }, "int32")
  end)
  it("int32 array + 1.5 is float32", function()
    check_list(lx.array({ 1, 2 }, "int32") + 1.5, { 2.5, 3.5 }, "float32")
  end)
  it("float16 array * 2 stays float16", function()
    check_list(lx.array({ 1.5, -3 }, "float16") * 2, { 3, -6 }, "float16")
  end)
  it("bfloat16 and float64 arrays keep their dtype", function()
    check_list(lx.array({ 1, 2 }, "bfloat16") + 0.5, { 1.5, 2.5 }, "bfloat16")
    check_list(lx.array({ 1, 2 }, "float64") * 0.1, { 0.1, 0.2 }, "float64", { rtol = 1e-15 })
  end)
  it("bool array + 1 is int32", function()
    check_list(lx.array({ true, false }) + 1, { 2, 1 }, "int32")
  end)
  it("uint8 array + 1 stays uint8 and wraps", function()
    check_list(lx.array({ 255, 1 }, "uint8") + 1, { 0, 2 }, "uint8")
  end)
  it("the lx.* functions treat numbers the same way as the operators", function()
    check_list(lx.add(lx.array({ 1, 2 }, "int32"), 1), { 2, 3 }, "int32")
    check_list(lx.mul(2, lx.array({ 1, 2 }, "float16")), { 2, 4 }, "float16")
    check_list(lx.maximum(lx.array({ 1, 5 }, "int64"), 3), { 3, 5 }, "int64")
    check_list(lx.where(lx.array({ true, false }), lx.array({ 1, 2 }, "int32"), 7), { 1, 7 },
      "int32")
    check_list(lx.where(lx.array({ true, false }), lx.array({ 1, 2 }, "int32"), 2.5),
      { 1, 2.5 }, "float32")
  end)
  it("comparisons with numbers give bool", function()
    check_list(lx.lt(lx.array({ 1, 2, 3 }, "int32"), 2), { true, false, false }, "bool")
    check_list(lx.ge(lx.array({ 0.5, 2.5 }), 0.5), { true, true }, "bool")
  end)
end)

describe("division, powers and integer arithmetic", function()
  it("/ is true division: int / int is float32", function()
    check_list(lx.array({ 1, 7, -7 }, "int32") / lx.array({ 2, 2, 2 }, "int32"),
      { 0.5, 3.5, -3.5 }, "float32")
    check_list(lx.array({ 3 }, "uint8") / 4, { 0.75 }, "float32")
    check_list(lx.array({ 1 }, "int64") / lx.array({ 3 }, "int64"), { 1 / 3 }, "float32",
      { rtol = 1e-7 })
  end)
  it("int32 overflow wraps", function()
    check_list(lx.array({ 2147483647 }, "int32") + 1, { -2147483648 }, "int32")
    check_list(lx.array({ -2147483648 }, "int32") - 1, { 2147483647 }, "int32")
    check_list(lx.array({ 65536 }, "int32") * lx.array({ 65536 }, "int32"), { 0 }, "int32")
    check_list(-lx.array({ -2147483648 }, "int32"), { -2147483648 }, "int32")
  end)
  it("uint32 wraps modulo 2^32", function()
    check_list(lx.array({ 0 }, "uint32") - 1, { 4294967295 }, "uint32")
    check_list(lx.array({ 4294967295 }, "uint32") + lx.array({ 2 }, "uint32"), { 1 }, "uint32")
  end)
  it("int64 arithmetic is exact beyond 2^53 on Lua 5.4", function()
    if not H.has_integers then
      pending("LuaJIT numbers cannot hold 2^53 + 1")
      return
    end
    local big = lx.array({ 9007199254740993 }, "int64") -- 2^53 + 1
    local r = (big + 2):tolist()[1]
    assert.are.equal(9007199254740995, r)
    assert.are.equal("integer", math.type(r))
    assert.are.equal(math.maxinteger, lx.array({ math.maxinteger - 1 }, "int64"):add(1):item())
  end)
  it("Lua 5.4 integers beside int64 arrays stay exact beyond 2^53", function()
    if not H.has_integers then
      pending("LuaJIT numbers cannot hold 2^53 + 1")
      return
    end
    local zero = lx.array({ 0 }, "int64")
    assert.are.equal(9007199254740993, (zero + 9007199254740993):item())
    assert.are.equal(9007199254740993, (9007199254740993 - zero):item())
    assert.are.equal(math.maxinteger, (lx.array({ -1 }, "int64") + math.maxinteger + 1):item())
    assert.are.equal(9007199254740993, lx.maximum(zero, 9007199254740993):item())
    assert.are.equal(9007199254740993, lx.where(lx.array({ false }), zero,
      9007199254740993):item())
    assert.are.equal(true, lx.eq(lx.array({ 9007199254740993 }, "int64"),
      9007199254740993):item())
    assert.are.equal(false, lx.eq(lx.array({ 9007199254740992 }, "int64"),
      9007199254740993):item())
  end)
  it("integer powers use exponentiation by squaring and wrap", function()
    check_list(lx.array({ 2, 3, -2 }, "int32") ^ lx.array({ 10, 3, 3 }, "int32"),
      { 1024, 27, -8 }, "int32")
    check_list(lx.array({ 2 }, "int32") ^ 31, { -2147483648 }, "int32")
    check_list(lx.array({ 3 }, "uint8") ^ 5, { 243 }, "uint8")
    check_list(lx.array({ 3 }, "uint8") ^ 6, { 217 }, "uint8") -- 729 mod 256
  end)
  it("float powers follow IEEE", function()
    check_list(lx.array({ 4, -8, 0, 2 }) ^ lx.array({ 0.5, 1 / 3, -1, -1 }),
      { 2, nan, inf, 0.5 }, "float32", { rtol = 1e-6 })
  end)
end)

describe("bool arithmetic", function()
  local t, f = true, false
  local x = lx.array({ t, t, f, f })
  local y = lx.array({ t, f, t, f })
  it("+ is or", function() check_list(x + y, { t, t, t, f }, "bool") end)
  it("* is and", function() check_list(x * y, { t, f, f, f }, "bool") end)
  it("maximum is or, minimum is and", function()
    check_list(lx.maximum(x, y), { t, t, t, f }, "bool")
    check_list(lx.minimum(x, y), { t, f, f, f }, "bool")
  end)
  it("- raises", function() raises({ "sub", "bool" }, function() return x - y end) end)
  it("unary minus raises", function() raises({ "neg", "bool" }, function() return -x end) end)
  it("^ raises", function() raises({ "pow", "bool" }, function() return x ^ y end) end)
  it("/ divides as float32", function()
    check_list(x / lx.array({ t, t, t, t }), { 1, 1, 0, 0 }, "float32")
  end)
  it("comparisons treat false < true", function()
    check_list(lx.lt(x, y), { f, f, t, f }, "bool")
    check_list(lx.eq(x, y), { t, f, f, t }, "bool")
  end)
  it("logical_not negates", function()
    check_list(lx.logical_not(x), { f, f, t, t }, "bool")
  end)
end)

describe("where", function()
  it("selects elementwise with broadcasting of all three operands", function()
    local c = lx.array({ { true }, { false } })       -- {2,1}
    local x = lx.array({ 1, 2, 3 }, "int32")          -- {3}
    local y = lx.array({ { 10, 20, 30 }, { 40, 50, 60 } }, "int32")
    check_list(lx.where(c, x, y), { { 1, 2, 3 }, { 40, 50, 60 } }, "int32")
  end)
  it("casts a non-bool condition to bool (nonzero is true)", function()
    check_list(lx.where(lx.array({ 0, 2, -1 }, "int32"), lx.array({ 1, 1, 1 }, "int32"), 0),
      { 0, 1, 1 }, "int32")
  end)
  it("keeps NaN from the chosen branch", function()
    check_list(lx.where(lx.array({ true, false }), lx.array({ nan, nan }), 0), { nan, 0 },
      "float32")
  end)
end)

describe("reductions", function()
  local a = lx.array({ { 1, 2, 3 }, { 4, 5, 6 } })
  it("sum over all axes, one axis and keepdims", function()
    check_list(lx.sum(a), 21, "float32")
    check_list(lx.sum(a, 1), { 5, 7, 9 }, "float32")
    check_list(lx.sum(a, 2), { 6, 15 }, "float32")
    check_list(lx.sum(a, -1, true), { { 6 }, { 15 } }, "float32")
    check_list(lx.sum(a, nil, true), { { 21 } }, "float32")
    check_list(a:sum({ 1, 2 }), 21, "float32")
  end)
  it("result dtypes follow jnp", function()
    check_list(lx.sum(lx.array({ true, true, false })), 2, "int32")
    check_list(lx.sum(lx.array({ 200, 100 }, "uint8")), 300, "uint32")
    check_list(lx.sum(lx.array({ 1, 2 }, "int32")), 3, "int32")
    check_list(lx.mean(lx.array({ 1, 2 }, "int32")), 1.5, "float32")
    check_list(lx.mean(lx.array({ 1, 2 }, "uint8")), 1.5, "float32")
    check_list(lx.mean(lx.array({ 1, 2 }, "float16")), 1.5, "float16")
    check_list(lx.max(lx.array({ 3, 9 }, "uint8")), 9, "uint8")
    check_list(lx.argmax(lx.array({ 3, 9 }, "uint8")), 2, "int64")
  end)
  it("argmax and argmin are 1-based and pick the first of ties", function()
    local b = lx.array({ { 1, 7, 7 }, { 9, 0, 0 } })
    check_list(lx.argmax(b), 4, "int64")
    check_list(lx.argmin(b), 5, "int64")
    check_list(lx.argmax(b, 2), { 2, 1 }, "int64")
    check_list(lx.argmin(b, 2), { 1, 2 }, "int64")
    check_list(lx.argmax(b, 1), { 2, 1, 1 }, "int64")
    check_list(lx.argmax(b, 1, true), { { 2, 1, 1 } }, "int64")
  end)
  it("a float16 sum accumulates in more precision than float16", function()
    -- 4096 ones: a float16 accumulator would stop at 2048.
    check_list(lx.sum(lx.ones({ 4096 }, "float16")), 4096, "float16")
    check_list(lx.sum(lx.ones({ 64, 64 }, "bfloat16"), 1):max(), 64, "bfloat16")
    check_list(lx.sum(lx.ones({ 1024 }, "bfloat16")), 1024, "bfloat16")
  end)
  it("int32 sums wrap", function()
    check_list(lx.sum(lx.array({ 2147483647, 1 }, "int32")), -2147483648, "int32")
  end)
  it("reduce a non-contiguous view", function()
    local t = lx.array({ { 1, 2 }, { 3, 4 }, { 5, 6 } }).T -- {{1,3,5},{2,4,6}}
    check_list(lx.sum(t, 2), { 9, 12 }, "float32")
    check_list(lx.argmax(t, 2), { 3, 3 }, "int64")
    check_list(lx.max(t[{ {}, { 3, 1, -1 } }], 2), { 5, 6 }, "float32")
  end)
  it("min/max of an empty axis raise, sums of it are 0", function()
    check_list(lx.sum(lx.zeros({ 0 })), 0, "float32")
    raises({ "max", "zero-size" }, function() return lx.max(lx.zeros({ 0 })) end)
    raises({ "argmin", "zero-size" }, function() return lx.argmin(lx.zeros({ 2, 0 }), 2) end)
  end)
end)

describe("matmul", function()
  it("multiplies 2-D matrices", function()
    local a = lx.array({ { 1, 2 }, { 3, 4 } })
    local b = lx.array({ { 5, 6 }, { 7, 8 } })
    check_list(lx.matmul(a, b), { { 19, 22 }, { 43, 50 } }, "float32")
    check_list(lx.dot(a, b), { { 19, 22 }, { 43, 50 } }, "float32")
  end)
  it("vector @ vector is a 0-d array", function()
    check_list(lx.matmul(lx.array({ 1, 2, 3 }), lx.array({ 4, 5, 6 })), 32, "float32")
  end)
  it("bfloat16 operands multiply to bfloat16", function()
    local a = lx.array({ { 1, 2 }, { 3, 4 } }, "bfloat16")
    check_list(lx.matmul(a, a), { { 7, 10 }, { 15, 22 } }, "bfloat16")
  end)
  it("int matmul is exact and wraps in the dtype", function()
    check_list(lx.matmul(lx.array({ { 65536 } }, "int32"), lx.array({ { 65536 } }, "int32")),
      { { 0 } }, "int32")
    check_list(lx.matmul(lx.array({ { 3000000000 } }, "int64"), lx.array({ { 3 } }, "int64")),
      { { 9000000000 } }, "int64")
  end)
  it("works on transposed and sliced views", function()
    local a = lx.array({ { 1, 2, 3 }, { 4, 5, 6 } })
    check_list(lx.matmul(a, a.T), { { 14, 32 }, { 32, 77 } }, "float32")
    check_list(lx.matmul(a.T, a), { { 17, 22, 27 }, { 22, 29, 36 }, { 27, 36, 45 } }, "float32")
    check_list(lx.matmul(a[{ {}, { 1, 3, 2 } }], lx.array({ 1, 1 })), { 4, 10 }, "float32")
  end)
  it("empty inner dimension gives zeros", function()
    check_list(lx.matmul(lx.zeros({ 2, 0 }), lx.zeros({ 0, 3 })), { { 0, 0, 0 }, { 0, 0, 0 } },
      "float32")
  end)
end)

describe("shape ops", function()
  it("reshape accepts a list or separate sizes, and one -1", function()
    local a = lx.arange(6, "int32")
    check_list(a:reshape({ 2, 3 }), { { 0, 1, 2 }, { 3, 4, 5 } }, "int32")
    check_list(a:reshape(3, 2), { { 0, 1 }, { 2, 3 }, { 4, 5 } }, "int32")
    check_list(a:reshape({ -1, 2 }), { { 0, 1 }, { 2, 3 }, { 4, 5 } }, "int32")
    check_list(lx.array({ 5 }):reshape({}), 5, "float32")
  end)
  it("transpose defaults to reversing the axes", function()
    local a = lx.zeros({ 2, 3, 4 })
    assert.are.same({ 4, 3, 2 }, a:transpose().shape)
    assert.are.same({ 4, 3, 2 }, a.T.shape)
    assert.are.same({ 3, 2, 4 }, a:transpose({ 2, 1, 3 }).shape)
    assert.are.same({ 4, 2, 3 }, a:transpose({ -1, 1, 2 }).shape)
  end)
  it("concatenate and stack join along 1-based axes", function()
    local a = lx.array({ { 1, 2 } }, "int32")
    local b = lx.array({ { 3, 4 } }, "int32")
    check_list(lx.concatenate({ a, b }, 1), { { 1, 2 }, { 3, 4 } }, "int32")
    check_list(lx.concatenate({ a, b }, 2), { { 1, 2, 3, 4 } }, "int32")
    check_list(lx.concatenate({ a, b }), { { 1, 2 }, { 3, 4 } }, "int32")
    check_list(lx.stack({ a[1], b[1] }), { { 1, 2 }, { 3, 4 } }, "int32")
    check_list(lx.stack({ a[1], b[1] }, 2), { { 1, 3 }, { 2, 4 } }, "int32")
    check_list(lx.stack({ lx.array(1), lx.array(2) }), { 1, 2 }, "float32")
  end)
  it("broadcast_to repeats along new and size-1 axes", function()
    check_list(lx.broadcast_to(lx.array({ 1, 2 }), { 2, 2 }), { { 1, 2 }, { 1, 2 } }, "float32")
  end)
end)

-- Bits of a float16 / bfloat16 value as a number: 1 sign, then exponent and
-- mantissa fields. Used to state expected roundings exactly.
local function half_value(sign, exp, mant)    -- IEEE binary16
  local v = exp == 0 and mant * 2 ^ -24 or (1 + mant / 1024) * 2 ^ (exp - 15)
  return sign == 1 and -v or v
end

describe("astype to float16 and bfloat16 rounds to nearest even", function()
  it("float32 -> bfloat16: ties go to the even mantissa", function()
    local x = lx.array({
      1 + 2 ^ -8,              -- exactly halfway between 1 and 1.0078125: even is 1
      1 + 3 * 2 ^ -9,          -- above halfway: up to 1.0078125
      1 + 2 ^ -7 + 2 ^ -8,     -- halfway between 1.0078125 (odd) and 1.015625 (even)
      1 + 2 ^ -8 - 2 ^ -20,    -- just below halfway: down to 1
      -(1 + 2 ^ -8),           -- sign does not matter
      3 * 2 ^ -8,              -- exact
      256 + 1,                 -- 257: halfway between 256 and 258 -> 256
      256 + 3,                 -- 259: halfway between 258 (odd) and 260 -> 260
    }, "float32")
    check_list(x:astype("bfloat16"),
      { 1, 1.0078125, 1.015625, 1, -1, 3 * 2 ^ -8, 256, 260 }, "bfloat16")
  end)
  it("float32 -> bfloat16: overflow, NaN, infinities and subnormals", function()
    local bf16_max = (2 - 2 ^ -7) * 2 ^ 127  -- 0x7F7F
    local x = lx.array({ 3.4028234663852886e38, bf16_max, (2 - 2 ^ -7 + 2 ^ -9) * 2 ^ 127,
      inf, -inf, nan, 2 ^ -133, -2 ^ -126 }, "float32")
    check_list(x:astype("bfloat16"), { inf, bf16_max, bf16_max, inf, -inf, nan, 2 ^ -133,
      -2 ^ -126 }, "bfloat16")
  end)
  it("bfloat16 -> float32 is exact", function()
    local vals = { 1.0078125, -3 * 2 ^ -8, 2 ^ -133, (2 - 2 ^ -7) * 2 ^ 127 }
    check_list(lx.array(vals, "bfloat16"):astype("float32"), vals, "float32")
    check_list(lx.array(vals, "bfloat16"):astype("float64"), vals, "float64")
  end)
  it("float32 -> float16: ties, overflow to inf, subnormals", function()
    local x = lx.array({
      1 + 2 ^ -11,            -- halfway between 1 and 1+2^-10: even is 1
      1 + 3 * 2 ^ -11,        -- halfway between 1+2^-10 (odd) and 1+2^-9: up
      65504, 65519,           -- max half, and just below the tie
      65520,                  -- tie between 65504 (odd) and 65536 (inf): inf
      2 ^ -24, 2 ^ -25,       -- smallest subnormal; half of it ties to 0
      3 * 2 ^ -25,            -- 1.5 * 2^-24: tie between 1 and 2 (even) subnormal units
      -2 ^ -14,               -- smallest normal
    }, "float32")
    check_list(x:astype("float16"), {
      1, half_value(0, 15, 2), 65504, 65504, inf, 2 ^ -24, 0, 2 ^ -23, -2 ^ -14,
    }, "float16")
  end)
  it("lx.array with a 16-bit dtype rounds the same way", function()
    check_list(lx.array({ 1 + 2 ^ -8, 1 + 3 * 2 ^ -9 }, "bfloat16"), { 1, 1.0078125 },
      "bfloat16")
    check_list(lx.array({ 1 + 2 ^ -11, 1 + 3 * 2 ^ -11 }, "float16"),
      { 1, 1 + 2 ^ -9 }, "float16")
  end)
  it("16-bit arithmetic rounds each result to the dtype", function()
    -- 1 + 2^-8 in bfloat16 is 1 (tie to even); 1 + 3*2^-9 rounds up.
    check_list(lx.array({ 1, 1 }, "bfloat16") + lx.array({ 2 ^ -8, 3 * 2 ^ -9 }, "bfloat16"),
      { 1, 1.0078125 }, "bfloat16")
    check_list(lx.array({ 2048 }, "float16") + 1, { 2048 }, "float16")
    check_list(lx.array({ 2048 }, "float16") + 3, { 2052 }, "float16")
    check_list(lx.array({ 60000 }, "float16") * 2, { inf }, "float16")
  end)
end)

describe("astype from floats to integers saturates (XLA semantics)", function()
  local x = { 3e9, -3e9, nan, inf, -inf, 2.7, -2.7, 1e20, -1e20 }
  it("to int32", function()
    for _, src in ipairs({ "float32", "float64" }) do
      check_list(lx.array(x, src):astype("int32"), { 2147483647, -2147483648, 0, 2147483647,
        -2147483648, 2, -2, 2147483647, -2147483648 }, "int32", nil, src)
    end
  end)
  it("to uint8 and uint32 (negative values to 0)", function()
    check_list(lx.array(x, "float32"):astype("uint8"), { 255, 0, 0, 255, 0, 2, 0, 255, 0 },
      "uint8")
    check_list(lx.array(x, "float64"):astype("uint32"),
      { 3000000000, 0, 0, 4294967295, 0, 2, 0, 4294967295, 0 }, "uint32")
    check_list(lx.array({ 256, 255.9, -0.5 }, "float16"):astype("uint8"), { 255, 255, 0 },
      "uint8")
  end)
  it("to int64", function()
    local r = lx.array({ 1e20, -1e20, nan, -inf, 2 ^ 40 + 0.5 }, "float64"):astype("int64")
    local v = r:tolist()
    assert.are.equal("int64", r.dtype)
    if H.has_integers then
      assert.are.same({ math.maxinteger, math.mininteger, 0, math.mininteger, 1099511627776 }, v)
      assert.are.equal("integer", math.type(v[5]))
    else
      assert.are.same({ 2 ^ 63, -2 ^ 63, 0, -2 ^ 63, 2 ^ 40 }, v)
    end
  end)
  it("bfloat16 to int32 saturates too", function()
    check_list(lx.array({ 1e10, -1e10, nan, 100.5 }, "bfloat16"):astype("int32"),
      { 2147483647, -2147483648, 0, 100 }, "int32")
  end)
  it("integers to narrower integers wrap (as NumPy and JAX)", function()
    check_list(lx.array({ 300, -1, 256 }, "int32"):astype("uint8"), { 44, 255, 0 }, "uint8")
    check_list(lx.array({ 4294967295 }, "uint32"):astype("int32"), { -1 }, "int32")
  end)
  it("anything nonzero (NaN too) to bool is true", function()
    check_list(lx.array({ nan, 0, -0.0, 0.001 }, "float64"):astype("bool"),
      { true, false, false, true }, "bool")
    check_list(lx.array({ 0, 256 }, "int32"):astype("bool"), { false, true }, "bool")
  end)
end)

describe("unary functions of integers", function()
  it("exp/log/sqrt/... of integers and bools are float32", function()
    for _, fn in ipairs({ "exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid" }) do
      assert.are.equal("float32", lx[fn](lx.array({ 1, 2 }, "int32")).dtype, fn)
      assert.are.equal("float32", lx[fn](lx.array({ 1, 2 }, "int64")).dtype, fn)
      assert.are.equal("float32", lx[fn](lx.array({ true })).dtype, fn)
    end
    check_list(lx.sqrt(lx.array({ 4, 9 }, "int32")), { 2, 3 }, "float32")
  end)
  it("abs and neg keep integer dtypes", function()
    check_list(lx.abs(lx.array({ -3, 4 }, "int64")), { 3, 4 }, "int64")
    check_list(lx.neg(lx.array({ -3, 4 }, "int32")), { 3, -4 }, "int32")
  end)
  it("sigmoid is stable for large magnitudes", function()
    check_list(lx.sigmoid(lx.array({ -1000, 1000, 0, -100 }, "float32")),
      -- exp(-100) = 3.72e-44 is 26.5 float32 subnormal units (2^-149): 27 units
      { 0, 1, 0.5, 27 * 2 ^ -149 }, "float32", { rtol = 1e-6, atol = 2 ^ -149 })
    check_list(lx.sigmoid(lx.array({ -745, -40, 40 }, "float64")),
      { 4.9406564584124654e-324, 4.248354255291589e-18, 1 }, "float64",
      { rtol = 1e-12, atol = 1e-323 })
  end)
end)
