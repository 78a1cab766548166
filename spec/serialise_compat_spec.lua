-- Byte-compatibility with Python Equinox, both ways.
--
-- Python -> lunox: spec/fixtures/serialise/ holds files that NumPy wrote as
-- Equinox writes them (spec/fixtures/make_serialise_fixtures.py; it states
-- how each was made), and serialise_fixtures.lua the values they hold.
--
-- lunox -> Python: when Debian's python3-numpy is installed, NumPy loads
-- what lunox wrote (np.load, record by record, as Equinox does), checks the
-- values, and writes the same leaves with numpy.save: the bytes must be
-- identical to lunox's.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local FIX = dofile(S.spec_dir() .. "/fixtures/serialise_fixtures.lua")
local DIR = S.spec_dir() .. "/fixtures/serialise/"

-- like-leaf for a fixture record: a skeleton leaf for arrays, a number or
-- boolean of the right kind for the Python scalars.
local function like_of(rec)
  if rec.name == "py_int" then return 0 end
  if rec.name == "py_float" then return 0.5 end
  if rec.name == "py_bool" then return false end
  return lx.ShapeDtypeStruct(rec.shape, rec.dtype)
end

local function check_leaf(got, rec)
  if rec.name:match("^py_") then
    assert.are.equal(rec.data[1], got, rec.name)
    if math.type and rec.name ~= "py_bool" then
      assert.are.equal(rec.name == "py_int" and "integer" or "float", math.type(got))
    end
  else
    H.check(got, rec, nil, rec.name)
  end
end

describe("files written by NumPy as Python Equinox writes them", function()
  for _, rec in ipairs(FIX.records) do
    it("loads " .. rec.name .. ".npy", function()
      local got = lx.tree_deserialise_leaves(DIR .. rec.name .. ".npy", { like_of(rec) })
      check_leaf(got[1], rec)
      -- An array skeleton leaf or a real array are the same to the loader.
      if not rec.name:match("^py_") then
        local again = lx.tree_deserialise_leaves(DIR .. rec.name .. ".npy",
          { lx.zeros(rec.shape, rec.dtype) })
        check_leaf(again[1], rec)
      end
    end)
  end

  it("loads a stream of every record (leaves.eqx) into a list", function()
    local like = {}
    for i, rec in ipairs(FIX.records) do like[i] = like_of(rec) end
    local got = lx.tree_deserialise_leaves(DIR .. "leaves.eqx", like)
    for i, rec in ipairs(FIX.records) do check_leaf(got[i], rec) end
  end)

  it("skips records of types lunox lacks (int16, a Python complex) and names them on load",
    function()
      local path = DIR .. "unsupported.eqx"
      local skip = lx.skip_deserialise_filter_spec
      local got = lx.tree_deserialise_leaves(path, { lx.zeros({ 3 }, "int32"), 0.0, lx.zeros({ 4 }) },
        { filter_spec = { skip, skip, lx.default_deserialise_filter_spec } })
      H.check(got[3], FIX.unsupported[1])
      H.raises({ "leaf [1]: the record's dtype '<i2' is not one lunox has", "unsupported.eqx, byte 20)" },
        lx.tree_deserialise_leaves, path, { lx.zeros({ 3 }, "int32"), 0.0, lx.zeros({ 4 }) })
      H.raises({ "leaf [2]: the record's dtype '<c16' is not one lunox has" },
        lx.tree_deserialise_leaves, path, { lx.zeros({ 3 }, "int32"), 0.0, lx.zeros({ 4 }) },
        { filter_spec = { skip, lx.default_deserialise_filter_spec,
          lx.default_deserialise_filter_spec } })
    end)

  it("loads Equinox's weights + hyperparameters recipe with the API.md recipe as written",
    function()
      local jr = lx.random
      local function make(hyperparams, key)
        return S.MLP(hyperparams.in_size, hyperparams.out_size, hyperparams.width_size,
          hyperparams.depth)
      end
      -- The recipe's load, verbatim from API.md.
      local function load(filename)
        local f = assert(io.open(filename, "rb"))
        local hyperparams = lx.json.decode(f:read("l"))
        local model = make(hyperparams, jr.PRNGKey(0))
        model = lx.tree_deserialise_leaves(f, model)
        f:close()
        return model, hyperparams
      end
      local model, hyperparams = load(DIR .. "recipe.eqx")
      assert.are.same(FIX.recipe.hyperparams, hyperparams)
      local leaves = lx.tree.leaves(model)
      assert.are.equal(#FIX.recipe.leaves, #leaves)
      for i, rec in ipairs(FIX.recipe.leaves) do H.check(leaves[i], rec, nil, "leaf " .. i) end
    end)
end)

-- The Python side of the reverse check: argv[1] is lunox's file, argv[2]
-- the expected records as lines "dtype|shape|values", argv[3] where NumPy
-- writes the same leaves.
local PYTHON = [=[
import sys
import numpy as np

def save_bf16(f, bits, shape):
    np.lib.format.write_array_header_1_0(
        f, {"descr": "<V2", "fortran_order": False, "shape": tuple(shape)})
    f.write(np.asarray(bits, "<u2").tobytes())

expected = [line.rstrip("\n").split("|") for line in open(sys.argv[2])]
with open(sys.argv[1], "rb") as f, open(sys.argv[3], "wb") as out:
    for dtype, shape, values in expected:
        shape = tuple(int(s) for s in shape.split(",") if s)
        values = values.split(",") if values else []
        a = np.load(f)
        assert a.shape == shape, (a.shape, shape)
        if dtype == "bfloat16":
            assert a.dtype.kind == "V" and a.dtype.itemsize == 2, a.dtype
            bits = np.frombuffer(a.tobytes(), "<u2")
            got = (bits.astype(np.uint32) << 16).view(np.float32).reshape(-1)
            assert [float(v) for v in values] == got.tolist(), (values, got)
            save_bf16(out, bits, shape)
        elif dtype == "scalar_int":
            assert a.dtype == np.int64 and int(a) == int(values[0])
            np.save(out, int(values[0]))
        elif dtype == "scalar_float":
            assert a.dtype == np.float64 and float(a) == float(values[0])
            np.save(out, float(values[0]))
        elif dtype == "scalar_bool":
            assert a.dtype == np.bool_ and bool(a) == (values[0] == "true")
            np.save(out, values[0] == "true")
        else:
            assert a.dtype == np.dtype(dtype), (a.dtype, dtype)
            conv = (lambda v: v == "true") if dtype == "bool" else float
            want = np.array([conv(v) for v in values], dtype).reshape(shape)
            assert np.array_equal(a, want), (a, want)
            np.save(out, want)
    assert f.read() == b"", "data after the last record"
print("ok")
]=]

describe("files lunox writes, read by NumPy", function()
  after_each(S.cleanup)

  local test = S.has_numpy() and it or pending
  test("np.load reads them, and numpy.save writes the same bytes", function()
    local tree = {
      lx.array({ { 1.5, -2, 3 }, { 0.25, 5, 6 } }),
      lx.array({ 1, 2, 3 }, "float64"),
      lx.array({ 0.5, -1 }, "float16"),
      lx.array({ 1.5, -2, 256 }, "bfloat16"),
      lx.array({ { -3, 4 } }, "int32"),
      lx.array({ 2 ^ 40, -1 }, "int64"),
      lx.array({ 0, 200, 255 }, "uint8"),
      lx.array({ 4000000000 }, "uint32"),
      lx.array({ true, false }, "bool"),
      lx.array(7.5),
      lx.zeros({ 0, 4 }),
      lx.zeros({ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 2 }, "int32"),
      12345678901,
      -0.125,
      true,
      lx.arange(12):reshape({ 3, 4 }).T, -- a transposed view: saved row-major
    }
    local lines = {}
    for _, x in ipairs(tree) do
      if lx.is_array(x) then
        local vals = {}
        for i, v in ipairs(H.values(x)) do vals[i] = tostring(v) end
        lines[#lines + 1] = ("%s|%s|%s"):format(x.dtype, table.concat(x.shape, ","),
          table.concat(vals, ","))
      elseif type(x) == "boolean" then
        lines[#lines + 1] = "scalar_bool||" .. tostring(x)
      elseif x % 1 == 0 then
        lines[#lines + 1] = ("scalar_int||%d"):format(x)
      else
        lines[#lines + 1] = ("scalar_float||%.17g"):format(x)
      end
    end
    local dir = S.tmpdir()
    lx.tree_serialise_leaves(dir .. "/lunox.eqx", tree)
    S.write_file(dir .. "/expected.txt", table.concat(lines, "\n") .. "\n")
    local out, err, status = S.python(PYTHON, { dir .. "/lunox.eqx", dir .. "/expected.txt",
      dir .. "/numpy.eqx" })
    assert.are.equal(0, status, (out or "") .. (err or ""))
    assert.are.equal("ok\n", out)
    local mine, theirs = S.read_file(dir .. "/lunox.eqx"), S.read_file(dir .. "/numpy.eqx")
    assert.are.equal(#theirs, #mine)
    assert.is_true(mine == theirs, "lunox's bytes differ from numpy.save's")
  end)
end)
