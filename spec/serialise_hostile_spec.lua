-- .eqx / .npy files from strangers: every malformed input is a Lua error that
-- names the file and the byte offset; nothing crashes, over-allocates or
-- reads out of bounds (the C readers are also fuzzed: spec/fuzz/).
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local raises = H.raises
local FIX = dofile(S.spec_dir() .. "/fixtures/serialise_fixtures.lua")
local DIR = S.spec_dir() .. "/fixtures/serialise/"

local function like_all()
  local like = {}
  for i, rec in ipairs(FIX.records) do
    if rec.name == "py_int" then like[i] = 0
    elseif rec.name == "py_float" then like[i] = 0.5
    elseif rec.name == "py_bool" then like[i] = false
    else like[i] = lx.ShapeDtypeStruct(rec.shape, rec.dtype) end
  end
  return like
end

-- A .npy record with the given header dict text (padded as numpy does) and
-- data bytes. `version` 1 (default) or 2; `hlen` overrides the length field.
local function u16(n) return string.char(n % 256, math.floor(n / 256) % 256) end
local function u32(n)
  return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256,
    math.floor(n / 16777216) % 256)
end
local function record(dict, data, opts)
  opts = opts or {}
  local version = opts.version or 1
  local prefix = 10 + (version == 1 and 0 or 2)
  local body = dict
  local total = prefix + #body + 1
  body = body .. string.rep(" ", (64 - total % 64) % 64) .. "\n"
  local hlen = opts.hlen or #body
  local len = version == 1 and u16(hlen) or u32(hlen)
  return "\147NUMPY" .. string.char(version, 0) .. len .. body .. (data or "")
end

local function f32_header(shape)
  return ("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"):format(shape)
end

local function load_bytes(bytes, like, opts)
  return lx.tree_deserialise_leaves(lx.BytesIO(bytes), like, opts)
end

-- Every error from a malformed file names it and a byte offset.
local function rejects(needles, bytes, like, opts)
  if type(needles) == "string" then needles = { needles } end
  local all = { "tree_deserialise_leaves", "<BytesIO>, byte " }
  for _, n in ipairs(needles) do all[#all + 1] = n end
  return raises(all, load_bytes, bytes, like or { lx.zeros({ 1 }) }, opts)
end

describe("hostile .eqx input", function()
  after_each(S.cleanup)

  it("fails cleanly when a valid stream is cut at any byte", function()
    local data = S.read_file(DIR .. "leaves.eqx")
    local like = like_all()
    assert.is_true(#data > 2000)
    for n = 0, #data - 1 do
      local ok, err = pcall(load_bytes, data:sub(1, n), like)
      assert.is_false(ok, "a stream cut at byte " .. n .. " loaded")
      assert.is_truthy(tostring(err):find("<BytesIO>, byte %d+%)"),
        "cut at " .. n .. ": " .. tostring(err))
    end
    -- The whole stream loads.
    load_bytes(data, like)
  end)

  it("fails cleanly when a file on disk is cut at record boundaries and inside records",
    function()
      local data = S.read_file(DIR .. "leaves.eqx")
      local dir = S.tmpdir()
      for _, n in ipairs({ 0, 5, 10, 64, 127, 128, 129, 151, 152, 300, #data - 1 }) do
        local path = dir .. "/cut" .. n .. ".eqx"
        S.write_file(path, data:sub(1, n))
        raises({ "(" .. path .. ", byte " }, lx.tree_deserialise_leaves, path, like_all())
      end
    end)

  it("refuses a header whose length runs past the end of the file", function()
    local r = record(f32_header("(1,)"), "\0\0\0\0", { hlen = 60000 })
    rejects("npy", r)
    rejects("npy", "\147NUMPY\1\0\255\255{'descr'")
  end)

  it("refuses bad magic strings and versions", function()
    rejects("npy", "\147NUMPX\1\0v\0" .. string.rep(" ", 118))
    rejects("npy", "PK\3\4 this is a zip file, not .npy")
    rejects("version", record(f32_header("(1,)"), "\0\0\0\0", { version = 9 }))
  end)

  it("refuses huge, negative and non-integer dimensions and shape overflow", function()
    rejects("shape", record(f32_header("(-3,)"), ""))
    rejects("shape", record(f32_header("(3.0,)"), ""))
    rejects("shape", record(f32_header("(1e3,)"), ""))
    rejects("shape", record(f32_header("(99999999999999999999,)"), ""))
    rejects("shape", record(f32_header("(4294967296, 4294967296)"), ""))
    rejects("shape", record(f32_header("(2305843009213693952,)"), "")) -- 2^61 * 4 bytes
    rejects("shape", record(f32_header("3"), ""))
    rejects("shape", record(f32_header("(3"), ""))
    rejects("shape", record(f32_header("[3]"), ""))
  end)

  it("never allocates what a header claims when the file cannot hold it", function()
    -- 2^38 float32 = 1 TiB claimed, 8 bytes present.
    local r = record(f32_header("(274877906944,)"), "12345678")
    collectgarbage()
    local before = lx.memory_in_use()
    rejects({ "truncated" }, r, { lx.zeros({ 1 }) }, { strict = false })
    -- A stream of unknown length (a plain object) is read in bounded chunks.
    raises({ "tree_deserialise_leaves", "<stream>, byte " }, lx.tree_deserialise_leaves,
      S.string_reader(r),
      { lx.zeros({ 1 }) }, { strict = false })
    collectgarbage()
    assert.is_true(lx.memory_in_use() - before < 2 ^ 20)
  end)

  it("refuses data shorter than the header's shape and dtype need", function()
    rejects("truncated", record(f32_header("(10,)"), string.rep("\0", 12)), { lx.zeros({ 10 }) })
    local i64 = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"
    rejects("truncated", record(i64, string.rep("\0", 23)), { lx.zeros({ 3 }, "int64") })
  end)

  it("refuses unknown dtypes, structured dtypes and object arrays (never unpickled)", function()
    rejects("'<i2'", record("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", "\0\0"))
    rejects("'<c8'", record("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
      string.rep("\0", 8)))
    rejects("'<U4'", record("{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }",
      string.rep("\0", 16)))
    rejects("pickle", record("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
      "\128\4\149cos\nsystem\n"))
    rejects("", record("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
      "\0\0\0\0"))
  end)

  it("refuses malformed header dicts", function()
    rejects("fortran_order", record("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,), }",
      "\0\0\0\0"))
    rejects("", record("{'descr': '<f4', 'shape': (1,), }", "\0\0\0\0"))
    rejects("", record("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
      "\0\0\0\0"))
    rejects("", record("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
      "\0\0\0\0"))
    rejects("", record("not a dict at all", "\0\0\0\0"))
    rejects("", record("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
      "\0\0\0\0"))
    rejects("", record("{'descr': '<f4\0', 'fortran_order': False, 'shape': (1,), }", "\0\0\0\0"))
  end)

  it("refuses bytes after the last leaf", function()
    local r = record(f32_header("(1,)"), "\0\0\128\63")
    rejects("after the last leaf", r .. "x")
    local got = load_bytes(r .. "x", { lx.zeros({ 1 }) }, { allow_trailing = true })
    H.check_list(got[1], { 1 }, "float32")
  end)

  it("reads fortran-order and big-endian records from NumPy correctly", function()
    for _, name in ipairs({ "f32_fortran", "f32_bigendian", "i64_bigendian" }) do
      local rec
      for _, r in ipairs(FIX.records) do if r.name == name then rec = r end end
      local got = lx.tree_deserialise_leaves(DIR .. name .. ".npy",
        { lx.ShapeDtypeStruct(rec.shape, rec.dtype) })
      H.check(got[1], rec, nil, name)
    end
  end)

  it("normalises bool bytes other than 0 and 1", function()
    local r = record("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", "\0\2\255")
    local got = load_bytes(r, { lx.zeros({ 3 }, "bool") })
    H.check_list(got[1], { false, true, true }, "bool")
    assert.is_true(lx.sum(got[1]):item() == 2)
  end)
end)
