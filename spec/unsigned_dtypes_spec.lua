-- uint16 and uint64: how their values reach Lua, wrap-around, promotion,
-- and exact round trips of uint64 values from 2^63 up through astype and
-- every file format. Values above 2^53 are built inside lunox (LuaJIT's
-- numbers are doubles) and compared through tostring, which prints them
-- exactly, or through lx.eq.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local function u64(t) return lx.array(t, "uint64") end
-- {2^63 + 1, 2^64 - 1, 2^63, 0}
local function edges()
  return u64({ 2 ^ 63, 0, 2 ^ 63, 0 }) + u64({ 1, 0, 0, 0 }) - u64({ 0, 1, 0, 0 })
end
local EDGES = "Array([ 9223372036854775809, 18446744073709551615,  9223372036854775808,\n"
  .. "                          0], dtype=uint64)"
local function all_equal(a, b)
  return a.dtype == b.dtype and lx.sum(lx.eq(a, b)):item() == a.size
end

describe("uint16 and uint64", function()
  after_each(S.cleanup)

  it("are dtypes with names, sizes and short names", function()
    assert.are.equal("uint16", lx.zeros({ 2 }, "uint16").dtype)
    assert.are.equal("uint64", lx.zeros({ 2 }, "uint64").dtype)
    assert.are.equal("u16[2]", lx.tree_pformat(lx.zeros({ 2 }, "uint16")))
    assert.are.equal("u64[]", lx.tree_pformat(lx.zeros({}, "uint64")))
    local ok, err = pcall(lx.zeros, { 2 }, "u16")
    assert.is_false(ok)
    assert.matches("uint8, uint16, uint32, uint64 or bool", err, 1, true)
  end)

  it("print unsigned", function()
    assert.are.equal(EDGES, tostring(edges()))
    assert.are.equal("Array([65535,     0], dtype=uint16)",
      tostring(lx.array({ 65535, 0 }, "uint16")))
  end)

  it("give Lua integers up to 2^63-1 and the nearest float above", function()
    local l = edges():tolist()
    assert.are.equal(2 ^ 63, l[1]) -- 2^63 + 1 rounds to 2^63
    assert.are.equal(2 ^ 64, l[2]) -- 2^64 - 1 rounds to 2^64
    assert.is_true(l[1] > 0 and l[2] > 0)
    assert.are.equal(0, l[4])
    if H.has_integers then
      assert.are.equal("float", math.type(l[1]))
      assert.are.equal("integer", math.type(u64({ 2 ^ 53 }):tolist()[1]))
      local m = u64({ 2 ^ 62 }) * 2 - u64({ 1 }) -- 2^63 - 1
      assert.are.equal(math.maxinteger, m:item())
      assert.are.equal("integer", math.type(lx.array(65535, "uint16"):item()))
      -- The exact bits: astype("int64") wraps, as NumPy's .view(np.int64).
      assert.are.same({ math.mininteger + 1, -1, math.mininteger, 0 },
        edges():astype("int64"):tolist())
    end
  end)

  it("refuse Lua numbers they cannot hold", function()
    assert.is_false((pcall(lx.array, { -1 }, "uint64")))
    assert.is_false((pcall(lx.array, 2 ^ 64, "uint64")))
    assert.is_false((pcall(lx.array, { 65536 }, "uint16")))
    assert.is_true(all_equal(u64({ 2 ^ 64 - 2048 }), u64({ 2 ^ 63 }) + u64({ 2 ^ 63 - 2048 })))
  end)

  it("wrap like NumPy", function()
    local x = lx.array({ 65535, 0, 300 }, "uint16")
    assert.are.same({ 0, 1, 301 }, (x + lx.array({ 1, 1, 1 }, "uint16")):tolist())
    assert.are.same({ 65534, 65535, 299 }, (x - 1):tolist())
    assert.are.same({ 1, 0, 24464 }, (x * x):tolist()) -- 90000 mod 65536
    assert.are.same({ 1, 0, 65236 }, (-x):tolist())
    assert.are.same({ 65535, 1 }, lx.array({ -1, 65537 }, "int32"):astype("uint16"):tolist())
    assert.are.equal("Array([18446744073709551615], dtype=uint64)", tostring(u64({ 0 }) - 1))
    assert.are.equal("Array([1], dtype=uint64)", tostring(u64({ 2 ^ 63 }) * 2 + 1))
    assert.are.equal(131070, lx.sum(lx.array({ 65535, 65535 }, "uint16")):item())
    assert.are.equal("uint32", lx.sum(lx.array({ 1 }, "uint16")).dtype)
  end)

  it("promote on JAX's lattice", function()
    local function p(a, b) return (lx.zeros({ 1 }, a) + lx.zeros({ 1 }, b)).dtype end
    assert.are.equal("uint16", p("uint8", "uint16"))
    assert.are.equal("uint64", p("uint16", "uint64"))
    assert.are.equal("int32", p("uint16", "int32"))
    assert.are.equal("int64", p("uint32", "int32"))
    assert.are.equal("float64", p("uint64", "int64"))
    assert.are.equal("float64", p("int32", "uint64"))
    assert.are.equal("float16", p("uint64", "float16"))
    assert.are.equal("uint64", (u64({ 1 }) + 1).dtype)
    assert.are.equal("Array([17000000000000000001], dtype=uint64)",
      tostring(u64({ 1 }) + 1.7e19)) -- a weak scalar up to 2^64 beside uint64
  end)

  it("convert from 2^63 up exactly", function()
    local x = edges()
    assert.are.same({ 2 ^ 63, 2 ^ 64, 2 ^ 63, 0 }, x:astype("float64"):tolist())
    assert.are.same({ 2 ^ 63, 2 ^ 64, 2 ^ 63, 0 }, x:astype("float32"):tolist())
    assert.are.same({ 1, 65535, 0, 0 }, x:astype("uint16"):tolist())
    assert.are.same({ 1, -1, 0, 0 }, x:astype("int32"):tolist())
    assert.is_true(all_equal(x, x:astype("int64"):astype("uint64")))
    assert.are.equal(EDGES, tostring(x:astype("int64"):astype("uint64")))
    -- floats saturate, NaN goes to 0
    assert.are.equal("Array([18446744073709551615,                    0,                    0,\n"
      .. "        9223373136366403584], dtype=uint64)",
      tostring(lx.array({ 1e30, -1, 0 / 0, 2 ^ 63 + 2 ^ 40 }, "float64"):astype("uint64")))
  end)

  it("round-trip exactly through .eqx, .npy records and safetensors", function()
    local dir = S.tmpdir()
    local tree = { a = edges(), b = lx.array({ 65535, 7 }, "uint16") }
    lx.tree_serialise_leaves(dir .. "/m.eqx", tree)
    local like = { a = lx.zeros({ 4 }, "uint64"), b = lx.zeros({ 2 }, "uint16") }
    local got = lx.tree_deserialise_leaves(dir .. "/m.eqx", like)
    assert.is_true(all_equal(tree.a, got.a))
    assert.is_true(all_equal(tree.b, got.b))
    -- NumPy's descrs: '<u8' and '<u2'.
    local bytes = S.read_file(dir .. "/m.eqx")
    assert.is_truthy(bytes:find("'descr': '<u8'", 1, true))
    assert.is_truthy(bytes:find("'descr': '<u2'", 1, true))
    lx.safetensors.save(dir .. "/m.safetensors", tree)
    local flat = lx.safetensors.load(dir .. "/m.safetensors")
    assert.are.equal(EDGES, tostring(flat.a))
    assert.is_true(all_equal(tree.b, flat.b))
    local header = S.read_file(dir .. "/m.safetensors")
    assert.is_truthy(header:find('"dtype":"U64"', 1, true))
    assert.is_truthy(header:find('"dtype":"U16"', 1, true))
  end)
end)
