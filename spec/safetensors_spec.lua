-- lx.safetensors: the reference format's layout and validation, names from
-- key paths, loading into a `like` tree or as a flat table, zero-copy
-- mapping, metadata, atomic saves, and hostile files.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local raises = H.raises

local function u64(n)
  local bytes = {}
  for i = 1, 8 do
    bytes[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(bytes)
end

local function read_u64(s)
  local n = 0
  for i = 8, 1, -1 do n = n * 256 + s:byte(i) end
  return n
end

-- A safetensors file from a header text and data bytes.
local function st_bytes(header, data) return u64(#header) .. header .. (data or "") end

local function write_st(dir, header, data)
  local path = dir .. "/t.safetensors"
  S.write_file(path, st_bytes(header, data))
  return path
end

-- float32 bytes of small integers (exact), little-endian.
local F32 = { [0] = "\0\0\0\0", [1] = "\0\0\128\63", [2] = "\0\0\0\64", [3] = "\0\0\64\64" }

-- Anonymous resident memory of this process (Linux), in bytes.
local function rss_anon()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  local kb = s:match("RssAnon:%s*(%d+)")
  return kb and tonumber(kb) * 1024
end

describe("lx.safetensors", function()
  after_each(S.cleanup)

  it("writes the reference layout: length, padded JSON header, aligned data", function()
    local dir = S.tmpdir()
    local path = dir .. "/m.safetensors"
    lx.safetensors.save(path, { layers = { { weight = lx.ones({ 2, 3 }), bias = lx.zeros({ 2 },
      "float16") } }, step = 7, on = true, name = "skipped" }, { metadata = { format = "lx" } })
    local s = S.read_file(path)
    local n = read_u64(s)
    assert.are.equal(0, (8 + n) % 8)
    local header = s:sub(9, 8 + n)
    assert.is_truthy(header:match("^{.*} *$"))
    local decoded = lx.json.decode(header)
    assert.are.same({ format = "lx" }, decoded.__metadata__)
    assert.are.same({ dtype = "F32", shape = { 2, 3 }, data_offsets = { 8, 32 } },
      decoded["layers.1.weight"])
    assert.are.same({ dtype = "I64", shape = {}, data_offsets = { 0, 8 } }, decoded.step)
    assert.are.same({ dtype = "F16", shape = { 2 }, data_offsets = { 32, 36 } },
      decoded["layers.1.bias"])
    assert.are.same({ dtype = "BOOL", shape = {}, data_offsets = { 36, 37 } }, decoded.on)
    assert.is_nil(decoded.name)
    assert.are.equal(8 + n + 37, #s)
    -- The shape of a 0-d tensor is an empty JSON list.
    assert.is_truthy(header:find('"step":{"dtype":"I64","shape":[],', 1, true))
  end)

  it("loads into a like tree, or as a flat name -> array table, with the metadata", function()
    local dir = S.tmpdir()
    local path = dir .. "/m.safetensors"
    local model = S.MLP(2, 1, 3, 1, { seed = 4 })
    lx.safetensors.save(path, model, { metadata = { lr = "0.1" } })
    local got, meta = lx.safetensors.load(path, lx.filter_eval_shape(S.MLP, 2, 1, 3, 1))
    assert.is_true(lx.tree_equal(got, model))
    assert.are.same({ lr = "0.1" }, meta)
    local flat, meta2 = lx.safetensors.load(path)
    assert.are.same({ lr = "0.1" }, meta2)
    assert.is_true(lx.tree_equal(flat["layers.2.weight"], model.layers[2].weight))
    local names = {}
    for k in pairs(flat) do names[#names + 1] = k end
    table.sort(names)
    assert.are.same({ "layers.1.bias", "layers.1.weight", "layers.2.bias", "layers.2.weight" },
      names)
  end)

  it("round-trips every dtype, numbers, booleans and 0-d and empty arrays", function()
    local dir = S.tmpdir()
    local tree = { a = lx.array({ 1.5, -2 }, "float64"), b = lx.array({ 1, 2, 3 }, "bfloat16"),
      c = lx.array({ -1, 4 }, "int32"), d = lx.array({ 2 ^ 40 }, "int64"),
      e = lx.array({ 255 }, "uint8"), f = lx.array({ 4000000000 }, "uint32"),
      g = lx.array({ true, false }, "bool"), h = lx.array(3.5, "float16"), i = lx.zeros({ 0, 2 }),
      n = 12, x = 0.5, t = true }
    lx.safetensors.save(dir .. "/all", tree)
    local like = lx.tree.map(function(v)
      if lx.is_array(v) then return lx.ShapeDtypeStruct(v.shape, v.dtype) end
      return v
    end, tree)
    local got = lx.safetensors.load(dir .. "/all", like)
    assert.is_true(lx.tree_equal(got, tree))
    assert.are.equal(12, got.n)
    if math.type then assert.are.equal("integer", math.type(got.n)) end
  end)

  it("checks like's shapes and dtypes, with cast, strict and allow_extra", function()
    local dir = S.tmpdir()
    local path = dir .. "/m.safetensors"
    lx.safetensors.save(path, { w = lx.ones({ 2, 3 }), b = lx.zeros({ 3 }) })
    raises({ "lx.safetensors.load: tensor 'w': shape [3,2] in 'like' but [2,3] in the file",
      path }, lx.safetensors.load, path, { w = lx.zeros({ 3, 2 }), b = lx.zeros({ 3 }) })
    raises({ "tensor 'b': dtype float64 in 'like' but float32" }, lx.safetensors.load, path,
      { w = lx.zeros({ 2, 3 }), b = lx.zeros({ 3 }, "float64") })
    local got = lx.safetensors.load(path, { w = lx.zeros({ 2, 3 }, "bfloat16"),
      b = lx.zeros({ 3 }, "float64") }, { cast = true })
    assert.are.equal("bfloat16", got.w.dtype)
    got = lx.safetensors.load(path, { w = lx.zeros({ 6 }), b = lx.zeros({ 3 }) }, { strict = false })
    assert.are.same({ 2, 3 }, got.w.shape)
    raises({ "no tensor 'v' in the file for leaf .v" }, lx.safetensors.load, path,
      { w = lx.zeros({ 2, 3 }), v = lx.zeros({ 3 }) })
    raises({ "tensors that 'like' has no leaf for: 'b'", "allow_extra" }, lx.safetensors.load,
      path, { w = lx.zeros({ 2, 3 }) })
    got = lx.safetensors.load(path, { w = lx.zeros({ 2, 3 }) }, { allow_extra = true })
    H.check_list(got.w, { { 1, 1, 1 }, { 1, 1, 1 } }, "float32")
    lx.safetensors.save(path, { a = { b = lx.ones({ 1 }) } })
    raises({ "two leaves of 'like', .a.b and [\"a.b\"], would both load tensor 'a.b'" },
      lx.safetensors.load, path, { a = { b = lx.ones({ 1 }) }, ["a.b"] = lx.ones({ 1 }) })
  end)

  it("maps the file instead of copying it, and copies when asked", function()
    local dir = S.tmpdir()
    local path = dir .. "/big.safetensors"
    lx.safetensors.save(path, { w = lx.ones({ 8, 1024, 1024 }) }) -- 32 MiB
    collectgarbage()
    local before = rss_anon()
    local mapped = lx.safetensors.load(path)
    assert.are.equal(8 * 2 ^ 20, lx.sum(mapped.w):item())
    if before then
      assert.is_true(rss_anon() - before < 8 * 2 ^ 20, "loading copied the data")
    end
    local copied = lx.safetensors.load(path, nil, { mmap = false })
    assert.is_true(lx.tree_equal(copied, mapped))
    if before then
      assert.is_true(rss_anon() - before >= 32 * 2 ^ 20, "mmap = false did not copy")
    end
  end)

  local jit_only = jit and it or pending
  jit_only("copies a page when an array is written through an FFI pointer; the file stays",
    function()
      local dir = S.tmpdir()
      local path = dir .. "/m.safetensors"
      lx.safetensors.save(path, { w = lx.arange(4) })
      local before = S.read_file(path)
      local t = lx.safetensors.load(path)
      local p = require("lunox.ffi").ptr(t.w)
      p[0] = 42
      H.check_list(t.w, { 42, 1, 2, 3 }, "float32")
      assert.are.equal(before, S.read_file(path))
      H.check_list(lx.safetensors.load(path).w, { 0, 1, 2, 3 }, "float32")
    end)

  it("keeps loaded arrays intact when the file is saved again", function()
    local dir = S.tmpdir()
    local path = dir .. "/m.safetensors"
    lx.safetensors.save(path, { w = lx.arange(4) })
    local old = lx.safetensors.load(path)
    lx.safetensors.save(path, { w = lx.arange(4) * 10 })
    H.check_list(old.w, { 0, 1, 2, 3 }, "float32")
    H.check_list(lx.safetensors.load(path).w, { 0, 10, 20, 30 }, "float32")
  end)

  it("refuses what it cannot save", function()
    local dir = S.tmpdir()
    raises({ "lx.safetensors.save", "would both be saved as tensor 'a.b'" }, lx.safetensors.save,
      dir .. "/x", { a = { b = lx.ones({ 1 }) }, ["a.b"] = lx.ones({ 1 }) })
    raises({ "metadata must map strings to strings" }, lx.safetensors.save, dir .. "/x",
      { lx.ones({ 1 }) }, { metadata = { lr = 0.1 } })
    raises({ "ShapeDtypeStruct" }, lx.safetensors.save, dir .. "/x", { lx.ShapeDtypeStruct({ 1 }) })
    raises({ "'__metadata__' is reserved" }, lx.safetensors.save, dir .. "/x",
      { __metadata__ = lx.ones({ 1 }) })
    assert.are.same({}, S.listdir(dir))
  end)
end)

describe("hostile safetensors files", function()
  after_each(S.cleanup)

  local function rejects(needles, header, data)
    local dir = S.tmpdir()
    local path = write_st(dir, header, data)
    if type(needles) == "string" then needles = { needles } end
    local all = { "lx.safetensors.load", path, "byte " }
    for _, n in ipairs(needles) do all[#all + 1] = n end
    return raises(all, lx.safetensors.load, path)
  end

  local function tensor(name, offsets, shape, dtype)
    return ('"%s":{"dtype":"%s","shape":[%s],"data_offsets":[%s]}'):format(name,
      dtype or "F32", shape or "1", offsets)
  end

  it("accepts a hand-written valid file", function()
    local dir = S.tmpdir()
    local header = "{" .. tensor("a", "0,4") .. "," .. tensor("b", "4,12", "2") .. "}  "
    local got = lx.safetensors.load(write_st(dir, header, F32[1] .. F32[2] .. F32[3]))
    H.check_list(got.a, { 1 }, "float32")
    H.check_list(got.b, { 2, 3 }, "float32")
  end)

  it("fails cleanly when a valid file is cut at any byte", function()
    local dir = S.tmpdir()
    local path = dir .. "/ok.safetensors"
    lx.safetensors.save(path, { w = lx.arange(6):reshape({ 2, 3 }), b = lx.ones({ 2 }, "int64") },
      { metadata = { a = "b" } })
    local s = S.read_file(path)
    for n = 0, #s - 1 do
      S.write_file(path, s:sub(1, n))
      local ok, err = pcall(lx.safetensors.load, path)
      assert.is_false(ok, "a file cut at byte " .. n .. " loaded")
      assert.is_truthy(tostring(err):find(path, 1, true), err)
    end
  end)

  it("refuses header lengths past the end of the file and beyond 100 MB", function()
    local dir = S.tmpdir()
    local path = dir .. "/t.safetensors"
    S.write_file(path, u64(1000) .. "{}")
    raises({ path }, lx.safetensors.load, path)
    S.write_file(path, u64(2 ^ 53) .. "{}")
    raises({ path }, lx.safetensors.load, path)
    S.write_file(path, "\255\255\255\255\255\255\255\255{}")
    raises({ path }, lx.safetensors.load, path)
  end)

  it("refuses overlapping, gapped and out-of-bounds offsets, and trailing bytes", function()
    local data = F32[1] .. F32[2]
    rejects("", "{" .. tensor("a", "0,4") .. "," .. tensor("b", "2,6") .. "}", data) -- overlap
    rejects("", "{" .. tensor("a", "0,4") .. "," .. tensor("b", "8,12") .. "}", data .. F32[3]) -- gap
    rejects("", "{" .. tensor("a", "4,8") .. "}", data) -- not from 0
    rejects("", "{" .. tensor("a", "0,4") .. "," .. tensor("b", "4,8") .. "}", data .. "x") -- trailing
    rejects("", "{" .. tensor("a", "0,4") .. "," .. tensor("b", "4,8") .. "}", F32[1] .. "xx") -- short
    rejects("", "{" .. tensor("a", "4,0") .. "}", data) -- begin > end
  end)

  it("accepts offsets listed out of order when they are contiguous", function()
    local dir = S.tmpdir()
    local got = lx.safetensors.load(write_st(dir,
      "{" .. tensor("b", "4,8") .. "," .. tensor("a", "0,4") .. "}", F32[1] .. F32[2]))
    H.check_list(got.a, { 1 }, "float32")
    H.check_list(got.b, { 2 }, "float32")
  end)

  it("refuses dtype/byte-length mismatches, bad shapes and unknown dtypes", function()
    local data = F32[1] .. F32[2]
    rejects("", "{" .. tensor("a", "0,8", "3") .. "}", data)
    rejects("", "{" .. tensor("a", "0,8", "-2") .. "}", data)
    rejects("", "{" .. tensor("a", "0,8", "2.0") .. "}", data)
    rejects("", "{" .. tensor("a", "0,8", "4294967296,4294967296,4294967296") .. "}", data)
    rejects("", "{" .. tensor("a", "0,8", "2", "F99") .. "}", data)
    rejects("", '{"a":{"dtype":"F32","shape":[2]}}', data)
    rejects("", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}', data)
  end)

  it("refuses duplicate names, bad metadata and non-JSON headers", function()
    local data = F32[1] .. F32[2]
    rejects("", "{" .. tensor("a", "0,4") .. "," .. tensor("a", "4,8") .. "}", data)
    rejects("", '{"__metadata__":{"k":1},' .. tensor("a", "0,8", "2") .. "}", data)
    rejects("", "[" .. tensor("a", "0,8", "2") .. "]", data)
    rejects("", "{" .. tensor("a", "0,8", "2") .. ",}", data)
    rejects("", "{" .. tensor("a\255", "0,8", "2") .. "}", data)
    rejects("", "{" .. tensor("a", "0,8", "2") .. "}x", data)
    rejects("", '{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,8]}}', data)
    rejects("", string.rep("[", 100000), data)
  end)

  it("refuses, on load, dtypes that lunox lacks, naming the tensor", function()
    local dir = S.tmpdir()
    local path = write_st(dir, "{" .. tensor("h", "0,4", "2", "I16") .. "}", "\1\0\2\0")
    raises({ "tensor 'h' has dtype I16, which lunox does not support" }, lx.safetensors.load, path)
  end)
end)
