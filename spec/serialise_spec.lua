-- tree_serialise_leaves / tree_deserialise_leaves: Equinox's semantics
-- (paths and file objects, filter_spec functions and prefix trees, is_leaf,
-- the default specs), the checks on load, the options beyond Equinox
-- (cast, strict, allow_trailing), skeletons from filter_eval_shape, and
-- atomic writes.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")

local raises = H.raises

local function file_bytes(path) return S.read_file(path) end

-- A tree with every kind of leaf the default specs handle.
local function mixed_tree()
  return {
    f32 = lx.array({ { 1.5, -2 }, { 3, 4.25 } }),
    f64 = lx.array({ 0.1, 0.2 }, "float64"),
    f16 = lx.array({ 1, 2, 3 }, "float16"),
    bf16 = lx.array({ -1.5, 256 }, "bfloat16"),
    i32 = lx.array({ -7, 8 }, "int32"),
    i64 = lx.array({ 2 ^ 40, -3 }, "int64"),
    u8 = lx.array({ 0, 255 }, "uint8"),
    u32 = lx.array({ 4000000000 }, "uint32"),
    b = lx.array({ true, false, true }, "bool"),
    scalar = lx.array(2.5),
    empty = lx.zeros({ 0, 3 }),
    int = 7,
    float = 0.25,
    flag = true,
    name = "kept from like",
    fn = print,
  }
end

-- The same structure with other values: what a load starts from.
local function mixed_like()
  local t = mixed_tree()
  return lx.tree.map(function(x)
    if lx.is_array(x) then return lx.zeros(x.shape, x.dtype) end
    if type(x) == "number" then return math.type and (math.type(x) == "integer" and 0 or 0.0) or 0 end
    if type(x) == "boolean" then return false end
    if type(x) == "string" then return "like's string" end
    return x
  end, t)
end

local function check_mixed(got)
  local want = mixed_tree()
  for _, k in ipairs({ "f32", "f64", "f16", "bf16", "i32", "i64", "u8", "u32", "b", "scalar",
    "empty" }) do
    H.check(got[k], { dtype = want[k].dtype, shape = want[k].shape,
      data = H.values(want[k]) }, nil, k)
  end
  assert.are.equal(7, got.int)
  assert.are.equal(0.25, got.float)
  assert.are.equal(true, got.flag)
  assert.are.equal("like's string", got.name)
  assert.are.equal(print, got.fn)
  if math.type then
    assert.are.equal("integer", math.type(got.int))
    assert.are.equal("float", math.type(got.float))
  end
end

describe("tree_serialise_leaves / tree_deserialise_leaves", function()
  after_each(S.cleanup)

  it("round-trips every kind of leaf through a path", function()
    local dir = S.tmpdir()
    lx.tree_serialise_leaves(dir .. "/model.eqx", mixed_tree())
    check_mixed(lx.tree_deserialise_leaves(dir .. "/model.eqx", mixed_like()))
  end)

  it("round-trips through an io.open handle, an lx.BytesIO and any object with read/write",
    function()
      local dir = S.tmpdir()
      local f = assert(io.open(dir .. "/m.bin", "wb"))
      lx.tree_serialise_leaves(f, mixed_tree())
      f:close()
      f = assert(io.open(dir .. "/m.bin", "rb"))
      check_mixed(lx.tree_deserialise_leaves(f, mixed_like()))
      f:close()

      local b = lx.BytesIO()
      lx.tree_serialise_leaves(b, mixed_tree())
      assert.are.equal(file_bytes(dir .. "/m.bin"), b:getvalue())
      b:seek("set")
      check_mixed(lx.tree_deserialise_leaves(b, mixed_like()))

      -- A plain Lua object: only read and write are required.
      local chunks = {}
      local sink = { write = function(self, s) chunks[#chunks + 1] = s; return self end }
      lx.tree_serialise_leaves(sink, mixed_tree())
      local data = table.concat(chunks)
      assert.are.equal(file_bytes(dir .. "/m.bin"), data)
      check_mixed(lx.tree_deserialise_leaves(S.string_reader(data), mixed_like()))
    end)

  it("appends .eqx to a path whose last component has no suffix, as pathlib does", function()
    local dir = S.tmpdir()
    local tree = { lx.ones({ 2 }) }
    lx.tree_serialise_leaves(dir .. "/model", tree)
    lx.tree_serialise_leaves(dir .. "/weights.bin", tree)
    lx.tree_serialise_leaves(dir .. "/.hidden", tree)
    lx.tree_serialise_leaves(dir .. "/v1.2", tree) -- has a suffix: ".2"
    os.execute("mkdir " .. dir .. "/run.d")
    lx.tree_serialise_leaves(dir .. "/run.d/ckpt", tree)
    assert.are.same({ ".hidden.eqx", "model.eqx", "run.d", "v1.2", "weights.bin" }, S.listdir(dir))
    assert.are.same({ "ckpt.eqx" }, S.listdir(dir .. "/run.d"))
    -- Loading applies the same rule.
    local got = lx.tree_deserialise_leaves(dir .. "/model", { lx.zeros({ 2 }) })
    H.check_list(got[1], { 1, 1 }, "float32")
    raises("is not a file name", lx.tree_serialise_leaves, dir .. "/", tree)
  end)

  it("writes the leaves depth-first, one numpy.save record each", function()
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, { b = lx.ones({ 2 }), a = { 3, true }, c = "skipped" })
    local s = b:getvalue()
    -- dict keys sorted: a[1] = 3 (0-d <i8), a[2] = true (0-d |b1), b (<f4, (2,))
    local descrs, shapes = {}, {}
    for descr, shape in s:gmatch("'descr': '([^']+)', 'fortran_order': False, 'shape': (%b()), }") do
      descrs[#descrs + 1], shapes[#shapes + 1] = descr, shape
    end
    assert.are.same({ "<i8", "|b1", "<f4" }, descrs)
    assert.are.same({ "()", "()", "(2,)" }, shapes)
    assert.are.equal(128 + 8 + 128 + 1 + 128 + 8, #s)
    assert.are.equal("\147NUMPY\1\0v\0", s:sub(1, 10))
  end)

  it("saves integers as <i8 and other numbers as <f8, as numpy.save does Python's", function()
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, { 3, 3.5, -0.0 })
    local s = b:getvalue()
    local descrs = {}
    for d in s:gmatch("'descr': '([^']+)'") do descrs[#descrs + 1] = d end
    if math.type then
      assert.are.same({ "<i8", "<f8", "<f8" }, descrs)
    else
      -- LuaJIT has one number type: integral values within 2^53 are <i8.
      assert.are.same({ "<i8", "<f8", "<i8" }, descrs)
    end
  end)

  it("loads into the devices of like's arrays and leaves non-array leaves alone", function()
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, { lx.arange(3), "s", print })
    b:seek("set")
    local got = lx.tree_deserialise_leaves(b, { lx.zeros({ 3 }), "t", type })
    assert.are.equal("cpu", got[1].device)
    assert.are.equal("t", got[2])
    assert.are.equal(type, got[3])
  end)

  it("reads from pipes (io.popen, stdin), whose position cannot be asked for", function()
    local dir = S.tmpdir()
    local f = assert(io.open(dir .. "/m.eqx", "wb"))
    f:write('{"n":2}\n')
    lx.tree_serialise_leaves(f, { lx.arange(4), 7, lx.ones({ 2 }, "int64") })
    f:close()
    local p = assert(io.popen("cat " .. require("spec.support.process").quote(dir .. "/m.eqx")))
    assert.are.same({ n = 2 }, lx.json.decode(p:read("l")))
    local got = lx.tree_deserialise_leaves(p, { lx.zeros({ 4 }), 0, lx.zeros({ 2 }, "int64") })
    p:close()
    H.check_list(got[1], { 0, 1, 2, 3 }, "float32")
    assert.are.equal(7, got[2])
    -- skipping records works through a pipe too
    p = assert(io.popen("tail -c +9 " .. require("spec.support.process").quote(dir .. "/m.eqx")))
    local skipped = lx.tree_deserialise_leaves(p, { lx.zeros({ 4 }), 0, lx.zeros({ 2 }, "int64") },
      { filter_spec = lx.skip_deserialise_filter_spec })
    p:close()
    assert.are.equal(0, skipped[2])
  end)

  it("reads from the file object's current position and leaves it after the last record",
    function()
      local dir = S.tmpdir()
      local f = assert(io.open(dir .. "/x", "wb"))
      f:write("header line\n")
      lx.tree_serialise_leaves(f, { lx.arange(4) })
      f:write("after")
      f:close()
      f = assert(io.open(dir .. "/x", "rb"))
      assert.are.equal("header line", f:read("l"))
      local got = lx.tree_deserialise_leaves(f, { lx.zeros({ 4 }) }, { allow_trailing = true })
      H.check_list(got[1], { 0, 1, 2, 3 }, "float32")
      assert.are.equal("after", f:read("a"))
      f:close()
    end)
end)

describe("filter_spec and is_leaf", function()
  after_each(S.cleanup)

  it("skips arrays on save with Equinox's documented extension of the default", function()
    local tree = { lx.array({ 1, 2, 3 }), { 4, 5, 6 } }
    local spec = function(f, x)
      if lx.is_array(x) then return nil end
      return lx.default_serialise_filter_spec(f, x)
    end
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, tree, { filter_spec = spec })
    local n = 0
    for _ in b:getvalue():gmatch("NUMPY") do n = n + 1 end
    assert.are.equal(3, n)
    -- And keeps arrays from `like` on load with the matching extension.
    b:seek("set")
    local like = { lx.array({ 7, 8, 9 }), { 0, 0, 0 } }
    local got = lx.tree_deserialise_leaves(b, like, { filter_spec = function(f, x)
      if lx.is_array(x) then return x end
      return lx.default_deserialise_filter_spec(f, x)
    end })
    assert.are.equal(like[1], got[1])
    assert.are.same({ 4, 5, 6 }, got[2])
  end)

  it("accepts a prefix tree of functions", function()
    local model = S.MLP(2, 1, 3, 2)
    local calls = {}
    local function counting(f, x)
      calls[#calls + 1] = x
      return lx.default_serialise_filter_spec(f, x)
    end
    local function skip() end
    -- The prefix: the MLP's layers list, one function per layer.
    local spec = lx.tree_at(function(m) return m.layers end, model, { counting, skip, counting })
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, model, { filter_spec = spec })
    assert.are.equal(4, #calls) -- weight and bias of layers 1 and 3
    assert.are.equal(model.layers[3].bias, calls[4])
    raises({ "tree_serialise_leaves", "filter_spec" }, lx.tree_serialise_leaves, lx.BytesIO(),
      model, { filter_spec = { counting } })
  end)

  it("loads part of a model with a prefix filter_spec (Equinox issue #136)", function()
    local dir = S.tmpdir()
    local old = S.MLP(2, 1, 3, 2, { seed = 10 })
    lx.tree_serialise_leaves(dir .. "/old.eqx", old)
    -- A new model whose last layer has another shape: load everything but
    -- that layer, which keeps its fresh values.
    local new = S.MLP(2, 5, 3, 2, { seed = 0 })
    local keep = function(_, x) return x end
    local spec = lx.tree_at(function(m) return m.layers end, new, {
      lx.default_deserialise_filter_spec, lx.default_deserialise_filter_spec, keep })
    local got = lx.tree_deserialise_leaves(dir .. "/old.eqx", new,
      { filter_spec = spec, allow_trailing = true })
    assert.is_true(lx.tree_equal(got.layers[1], old.layers[1]))
    assert.is_true(lx.tree_equal(got.layers[2], old.layers[2]))
    assert.are.equal(new.layers[3].weight, got.layers[3].weight)
    assert.are.equal(new.layers[3].bias, got.layers[3].bias)
    -- Without allow_trailing the old last layer left in the file is an error.
    raises({ "has data after the last leaf", "old.eqx", "allow_trailing" },
      lx.tree_deserialise_leaves, dir .. "/old.eqx", new, { filter_spec = spec })
    -- A replaced layer in the middle: skip its records so the rest line up.
    local mid = lx.tree_at(function(m) return m.layers[2] end, old, S.Linear(3, 3, { seed = 99 }))
    local spec2 = lx.tree_at(function(m) return m.layers end, mid, {
      lx.default_deserialise_filter_spec, lx.skip_deserialise_filter_spec,
      lx.default_deserialise_filter_spec })
    local got2 = lx.tree_deserialise_leaves(dir .. "/old.eqx", mid, { filter_spec = spec2 })
    assert.is_true(lx.tree_equal(got2.layers[3], old.layers[3]))
    assert.are.equal(mid.layers[2].weight, got2.layers[2].weight)
  end)

  it("passes is_leaf to the walk, so a filter_spec can save whole subtrees", function()
    local Pair = {}
    Pair.__index = Pair
    local tree = { setmetatable({ a = "x", b = "yz" }, Pair), lx.arange(2) }
    local is_pair = function(x) return getmetatable(x) == Pair end
    local function save(f, x)
      if is_pair(x) then
        f:write(#x.a, ":", x.a, #x.b, ":", x.b)
      else
        lx.default_serialise_filter_spec(f, x)
      end
    end
    local function load(f, x)
      if is_pair(x) then
        local function field()
          local n = ""
          repeat local c = f:read(1); if c ~= ":" then n = n .. c end until c == ":"
          return f:read(tonumber(n))
        end
        return setmetatable({ a = field(), b = field() }, Pair)
      end
      return lx.default_deserialise_filter_spec(f, x)
    end
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, tree, { filter_spec = save, is_leaf = is_pair })
    b:seek("set")
    local like = { setmetatable({ a = "", b = "" }, Pair), lx.zeros({ 2 }) }
    local got = lx.tree_deserialise_leaves(b, like, { filter_spec = load, is_leaf = is_pair })
    assert.are.equal("x", got[1].a)
    assert.are.equal("yz", got[1].b)
    H.check_list(got[2], { 0, 1 }, "float32")
  end)

  it("names the leaf path when a filter_spec raises", function()
    local model = S.MLP(2, 1, 3, 1)
    local err = raises({ "tree_serialise_leaves: leaf .layers[2].bias:", "boom" },
      lx.tree_serialise_leaves, lx.BytesIO(), model, { filter_spec = function(f, x)
        if x == model.layers[2].bias then error("boom") end
        lx.default_serialise_filter_spec(f, x)
      end })
    assert.is_nil(err:find("serialise.lua", 1, true))
    raises({ "tree_serialise_leaves: unknown option 'filterspec'" }, lx.tree_serialise_leaves,
      lx.BytesIO(), model, { filterspec = 1 })
    raises({ "filter_spec must be a function" }, lx.tree_serialise_leaves, lx.BytesIO(), model,
      { filter_spec = 3 })
  end)

  it("refuses to save a ShapeDtypeStruct and things that are not file objects", function()
    raises({ "leaf [1]", "ShapeDtypeStruct" }, lx.tree_serialise_leaves, lx.BytesIO(),
      { lx.ShapeDtypeStruct({ 2 }) })
    raises({ "tree_serialise_leaves", "expected a path or a file object" },
      lx.tree_serialise_leaves, 42, { lx.ones({ 1 }) })
    local b = lx.BytesIO()
    b:close()
    raises({ "closed" }, lx.tree_serialise_leaves, b, { lx.ones({ 1 }) })
  end)
end)

describe("checks on load", function()
  after_each(S.cleanup)

  local function saved(tree)
    local dir = S.tmpdir()
    local path = dir .. "/model.eqx"
    lx.tree_serialise_leaves(path, tree)
    return path
  end

  it("names the leaf path, both shapes, the file and the record's byte offset", function()
    local model = S.MLP(2, 1, 3, 1)
    local path = saved(model)
    local like = lx.tree_at(function(m) return m.layers[2].weight end, model, lx.zeros({ 1, 5 }))
    -- Records: layers[1].weight (3x2 f32: 128 + 24), layers[1].bias (128 + 12),
    -- then layers[2].weight at byte 292.
    raises({ "tree_deserialise_leaves: leaf .layers[2].weight: shape (1,5) in 'like' but (1,3) on disk",
      "(" .. path .. ", byte 292)" }, lx.tree_deserialise_leaves, path, like)
  end)

  it("reports dtype and type changes like Equinox, with the path", function()
    local path = saved({ w = lx.ones({ 2 }), n = 3, flag = true })
    raises({ "leaf .w: dtype float16 in 'like' but float32 on disk", path },
      lx.tree_deserialise_leaves, path, { w = lx.ones({ 2 }, "float16"), n = 3, flag = true })
    -- Leaves in order: .flag, .n, .w.
    raises({ "leaf .flag: ", " in 'like' but bool on disk" },
      lx.tree_deserialise_leaves, path, { w = lx.ones({ 2 }), n = 3, flag = 1 })
    raises({ "leaf .n: boolean in 'like' but int64 on disk" }, lx.tree_deserialise_leaves, path,
      { w = lx.ones({ 2 }), n = true, flag = true })
    raises({ "leaf .w: ", " in 'like' but an array of shape (2,) on disk" },
      lx.tree_deserialise_leaves, path, { w = 1, n = 3, flag = true })
  end)

  it("converts numbers between integer and float exactly, as Equinox's type(x)(...) does",
    function()
      local path = saved({ 2.0, 3, 2.5 })
      local got = lx.tree_deserialise_leaves(path, { 0, 0.0, 0.0 })
      assert.are.same({ 2, 3, 2.5 }, got)
      if math.type then
        assert.are.equal("integer", math.type(got[1]))
        assert.are.equal("float", math.type(got[2]))
        raises({ "leaf [3]: integer in 'like' but float64 2.5 on disk" },
          lx.tree_deserialise_leaves, path, { 0, 0.0, 0 })
      end
    end)

  it("refuses files with fewer leaves than like, and files with more unless asked", function()
    local path = saved({ lx.ones({ 2 }) })
    raises({ "leaf [2]: the file ended before this leaf", "fewer leaves than 'like'",
      "byte 136" }, lx.tree_deserialise_leaves, path, { lx.ones({ 2 }), lx.ones({ 1 }) })
    local path2 = saved({ lx.ones({ 2 }), lx.ones({ 1 }) })
    raises({ "has data after the last leaf", "(" .. path2 .. ", byte 136)", "more leaves" },
      lx.tree_deserialise_leaves, path2, { lx.ones({ 2 }) })
    local got = lx.tree_deserialise_leaves(path2, { lx.zeros({ 2 }) }, { allow_trailing = true })
    H.check_list(got[1], { 1, 1 }, "float32")
  end)

  it("casts on-disk dtypes to like's with {cast = true}", function()
    local path = saved({ lx.array({ 1.5, 2.25, -3 }), lx.array({ 1, 2 }, "int32") })
    local like = { lx.ShapeDtypeStruct({ 3 }, "bfloat16"), lx.zeros({ 2 }, "float64") }
    raises("dtype bfloat16 in 'like' but float32 on disk", lx.tree_deserialise_leaves, path, like)
    local got = lx.tree_deserialise_leaves(path, like, { cast = true })
    H.check_list(got[1], { 1.5, 2.25, -3 }, "bfloat16")
    H.check_list(got[2], { 1, 2 }, "float64")
  end)

  it("returns on-disk shapes with {strict = false}", function()
    local path = saved({ lx.arange(6):reshape({ 2, 3 }) })
    local got = lx.tree_deserialise_leaves(path, { lx.zeros({ 4 }) }, { strict = false })
    H.check_list(got[1], { { 0, 1, 2 }, { 3, 4, 5 } }, "float32")
    raises("dtype int32 in 'like' but float32 on disk", lx.tree_deserialise_leaves, path,
      { lx.zeros({ 4 }, "int32") }, { strict = false })
  end)

  it("checks what a user's filter_spec returns", function()
    local path = saved({ lx.ones({ 2 }) })
    raises({ "leaf [1]: shape (2,) in 'like' but (3,) on disk" }, lx.tree_deserialise_leaves, path,
      { lx.ones({ 2 }) }, { filter_spec = function(f, x) return lx.ones({ 3 }) end,
        allow_trailing = true })
    raises({ "leaf [1]: type array in 'like' but string on disk" }, lx.tree_deserialise_leaves,
      path, { lx.ones({ 2 }) }, { filter_spec = function() return "x" end, allow_trailing = true })
  end)

  it("says when the file cannot be opened", function()
    raises({ "tree_deserialise_leaves: cannot open '/nonexistent/dir/m.eqx'" },
      lx.tree_deserialise_leaves, "/nonexistent/dir/m", { lx.ones({ 1 }) })
  end)
end)

describe("skeletons", function()
  after_each(S.cleanup)

  it("fills a skeleton from filter_eval_shape", function()
    local dir = S.tmpdir()
    local model = S.MLP(2, 1, 3, 2, { seed = 5 })
    lx.tree_serialise_leaves(dir .. "/m", model)
    local before = lx.memory_in_use()
    local skeleton = lx.filter_eval_shape(S.MLP, 2, 1, 3, 2)
    assert.are.equal(before, lx.memory_in_use())
    assert.is_true(lx.is_shape_dtype_struct(skeleton.layers[1].weight))
    local got = lx.tree_deserialise_leaves(dir .. "/m", skeleton)
    assert.is_true(lx.tree_equal(got, model))
    assert.are.equal("tanh", got.activation)
  end)
end)

describe("atomic writes", function()
  after_each(S.cleanup)

  it("leaves the previous file and no temporary file when a filter_spec fails", function()
    local dir = S.tmpdir()
    local path = dir .. "/model.eqx"
    lx.tree_serialise_leaves(path, { lx.ones({ 3 }) })
    local before = file_bytes(path)
    raises({ "leaf [2]", "disk on fire" }, lx.tree_serialise_leaves, path,
      { lx.zeros({ 1000 }), lx.zeros({ 3 }) }, { filter_spec = function(f, x)
        if x.shape[1] == 3 then error("disk on fire", 0) end
        lx.default_serialise_filter_spec(f, x)
      end })
    assert.are.equal(before, file_bytes(path))
    assert.are.same({ "model.eqx" }, S.listdir(dir))
  end)

  it("leaves the previous file when the disk is full (a file size limit)", function()
    local dir = S.tmpdir()
    local path = dir .. "/model.eqx"
    lx.tree_serialise_leaves(path, { lx.ones({ 3 }) })
    local before = file_bytes(path)
    -- ulimit -f caps file size in 512-byte blocks; with SIGXFSZ ignored,
    -- writes past it fail with EFBIG, as a full disk fails with ENOSPC.
    local code = ("local lx = require('lunox'); lx.tree_serialise_leaves(%q, { lx.zeros({ 100000 }) })")
      :format(path)
    local process = require("spec.support.process")
    local out, err, status = process.run(("ulimit -f 64; trap '' XFSZ; %s -e %s"):format(
      process.quote(H.host), process.quote(code)))
    assert.are_not.equal(0, status)
    local msg = (out or "") .. (err or "")
    assert.is_truthy(msg:find("tree_serialise_leaves", 1, true), msg)
    assert.is_truthy(msg:find("File too large", 1, true), msg)
    assert.are.equal(before, file_bytes(path))
    assert.are.same({ "model.eqx" }, S.listdir(dir))
  end)

  it("gives the new file the permissions of an ordinary create", function()
    local dir = S.tmpdir()
    local path = dir .. "/m.eqx"
    lx.tree_serialise_leaves(path, { lx.ones({ 1 }) })
    -- The shell computes 0666 & ~umask (LuaJIT has no bitwise operators).
    local p = io.popen("printf '%o\\n' $(( 0666 & ~$(umask) )); stat -c %a "
      .. require("spec.support.process").quote(path))
    local want, mode = p:read("*l"), p:read("*l")
    p:close()
    assert.are.equal(want, mode)
  end)

  it("refuses a filter_spec that closes the file, and leaves nothing behind", function()
    local dir = S.tmpdir()
    raises({ "tree_serialise_leaves", "the file was closed while" }, lx.tree_serialise_leaves,
      dir .. "/m.eqx", { lx.ones({ 1 }) }, { filter_spec = function(f) f:close() end })
    assert.are.same({}, S.listdir(dir))
  end)

  it("writes through a symlink, keeps the file's permissions, writes FIFOs directly", function()
    local dir = S.tmpdir()
    local q = require("spec.support.process").quote
    lx.tree_serialise_leaves(dir .. "/real.eqx", { lx.ones({ 2 }) })
    os.execute(("cd %s && chmod 600 real.eqx && ln -s real.eqx link.eqx"):format(q(dir)))
    lx.tree_serialise_leaves(dir .. "/link.eqx", { lx.zeros({ 3 }) })
    local p = io.popen(("cd %s && stat -c '%%F %%a' link.eqx real.eqx"):format(q(dir)))
    assert.are.equal("symbolic link 777", p:read("*l"))
    assert.are.equal("regular file 600", p:read("*l"))
    p:close()
    H.check_list(lx.tree_deserialise_leaves(dir .. "/real.eqx", { lx.ones({ 3 }) })[1],
      { 0, 0, 0 }, "float32")
    -- A FIFO cannot be replaced: it gets the bytes.
    os.execute(("mkfifo %s/pipe.eqx && (cat %s/pipe.eqx > %s/out.bin &)"):format(q(dir), q(dir),
      q(dir)))
    lx.tree_serialise_leaves(dir .. "/pipe.eqx", { lx.arange(2) })
    os.execute("sleep 0.2")
    H.check_list(lx.tree_deserialise_leaves(dir .. "/out.bin", { lx.ones({ 2 }) })[1], { 0, 1 },
      "float32")
    lx.tree_serialise_leaves("/dev/null", { lx.arange(2) })
    assert.are.same({ "link.eqx", "out.bin", "pipe.eqx", "real.eqx" }, S.listdir(dir))
  end)

  it("says when the directory is missing", function()
    raises({ "tree_serialise_leaves", "cannot create a temporary file beside '/nonexistent/x.eqx'" },
      lx.tree_serialise_leaves, "/nonexistent/x", { lx.ones({ 1 }) })
  end)
end)
