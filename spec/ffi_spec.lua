-- lunox.ffi: zero-copy typed pointers into CPU arrays under LuaJIT; a clear
-- error under Lua 5.4, which has no FFI.
local lx = require("lunox")
local H = require("spec.support.array_helpers")

describe("lunox.ffi under Lua 5.4", function()
  it("raises a clear error", function()
    if jit then
      pending("running under LuaJIT")
      return
    end
    local ok, err = pcall(require, "lunox.ffi")
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("LuaJIT", 1, true), err)
    assert.is_truthy(tostring(err):find("lunoxjit", 1, true), err)
    -- A failed require leaves nothing behind: it raises again.
    assert.is_false((pcall(require, "lunox.ffi")))
  end)
end)

describe("lunox.ffi under LuaJIT", function()
  if not jit then
    it("needs LuaJIT", function() pending("lunox.ffi needs LuaJIT (run under lunoxjit)") end)
    return
  end
  local ffi = require("ffi")
  local lffi = require("lunox.ffi")

  local CTYPES = {
    float32 = "float*", float64 = "double*", float16 = "uint16_t*", bfloat16 = "uint16_t*",
    int32 = "int32_t*", int64 = "int64_t*", uint8 = "uint8_t*", uint32 = "uint32_t*",
    bool = "uint8_t*", uint16 = "uint16_t*", uint64 = "uint64_t*",
  }

  it("gives float* for float32", function()
    local p = lffi.ptr(lx.array({ 1.5, 2.5 }))
    assert.is_true(ffi.istype(ffi.typeof("float*"), p))
    assert.is_truthy(tostring(ffi.typeof(p)):find("float *", 1, true), tostring(ffi.typeof(p)))
    assert.is_truthy(tostring(p):find("float *", 1, true), tostring(p))
  end)

  it("gives the matching C type for every dtype", function()
    for dt, ct in pairs(CTYPES) do
      local p = lffi.ptr(lx.zeros({ 2 }, dt))
      assert.is_true(ffi.istype(ffi.typeof(ct), p), dt .. " should give " .. ct)
      assert.are.equal(ct, lffi.ctype(dt))
    end
    assert.is_false(ffi.istype(ffi.typeof("double*"), lffi.ptr(lx.zeros({ 1 }))))
    assert.is_true(ffi.istype(ffi.typeof("int32_t*"), lffi.ptr(lx.zeros({ 1 }, "int32"))))
  end)

  it("reads the same values as tolist", function()
    local cases = {
      { "float32", { 1.5, -2.25, 1e30 } },
      { "float64", { 1 / 3, -1e300, 5e-324 } },
      { "int32", { 2147483647, -2147483648, 7 } },
      { "int64", { 2 ^ 53, -(2 ^ 40), 3 } },
      { "uint8", { 0, 255, 128 } },
      { "uint32", { 4294967295, 0, 65536 } },
      { "uint16", { 65535, 0, 256 } },
      { "uint64", { 2 ^ 53, 0, 2 ^ 63 } },
    }
    for _, c in ipairs(cases) do
      local a = lx.array(c[2], c[1])
      local p = lffi.ptr(a)
      local list = a:tolist()
      for i = 1, #list do
        assert.are.equal(list[i], tonumber(p[i - 1]), c[1] .. " element " .. i)
      end
    end
  end)

  it("reads uint64 above 2^63 exactly as uint64_t cdata", function()
    local a = lx.array({ 2 ^ 63, 0 }, "uint64") + lx.array({ 1, 0 }, "uint64")
      - lx.array({ 0, 1 }, "uint64")
    local p = lffi.ptr(a)
    assert.are.equal("9223372036854775809ULL", tostring(p[0]))
    assert.are.equal("18446744073709551615ULL", tostring(p[1]))
  end)

  it("exposes 16-bit floats and bools as bit patterns", function()
    local h = lffi.ptr(lx.array({ 1, -2, 65504 }, "float16"))
    assert.are.same({ 0x3C00, 0xC000, 0x7BFF }, { h[0], h[1], h[2] })
    local b = lffi.ptr(lx.array({ 1, -2, 1.0078125 }, "bfloat16"))
    assert.are.same({ 0x3F80, 0xC000, 0x3F81 }, { b[0], b[1], b[2] })
    local t = lffi.ptr(lx.array({ true, false, true }))
    assert.are.same({ 1, 0, 1 }, { t[0], t[1], t[2] })
  end)

  it("reads a 2-D array in row-major order, and a contiguous view from its start", function()
    local a = lx.array({ { 1, 2, 3 }, { 4, 5, 6 } }, "int32")
    local p = lffi.ptr(a)
    for i = 0, 5 do assert.are.equal(i + 1, p[i]) end
    local row = lffi.ptr(a[2])
    assert.are.same({ 4, 5, 6 }, { row[0], row[1], row[2] })
    local scalar = lffi.ptr(a[{ 2, 3 }])
    assert.are.equal(6, scalar[0])
  end)

  it("writes through the pointer are visible in a fresh array", function()
    local a = lx.zeros({ 2, 3 })
    local p = lffi.ptr(a)
    for i = 0, 5 do p[i] = i * 1.5 end
    assert.are.same({ { 0, 1.5, 3 }, { 4.5, 6, 7.5 } }, a:tolist())
    assert.are.same({ 7.5, 3 }, a[{ {}, 3 }][{ { 2, 1, -1 } }]:tolist()) -- views share memory
    H.check_list(lx.sum(a), 22.5, "float32")
    local i64 = lx.zeros({ 1 }, "int64")
    lffi.ptr(i64)[0] = ffi.new("int64_t", 9007199254740991)
    assert.are.equal(9007199254740991, i64:item())
  end)

  it("refuses non-contiguous views", function()
    local a = lx.zeros({ 2, 3 })
    H.raises({ "ptr", "non-contiguous", "copy" }, function() return lffi.ptr(a.T) end)
    H.raises({ "ptr", "non-contiguous" }, function() return lffi.ptr(a[{ {}, 2 }]) end)
    H.raises({ "ptr", "non-contiguous" },
      function() return lffi.ptr(lx.broadcast_to(lx.zeros({ 3 }), { 2, 3 })) end)
    local c = lffi.ptr(a.T:copy()) -- the way out the message suggests
    assert.is_true(ffi.istype(ffi.typeof("float*"), c))
  end)

  it("refuses things that are not arrays, and closed arrays", function()
    H.raises({ "ptr", "expected an array", "table" }, function() return lffi.ptr({ 1, 2 }) end)
    local a = lx.zeros({ 2 })
    a:close()
    H.raises({ "closed" }, function() return lffi.ptr(a) end)
    H.raises({ "ctype", "'float'" }, function() return lffi.ctype("float") end)
  end)

  it("keeps the array alive while the pointer lives", function()
    collectgarbage()
    collectgarbage()
    local before = lx.memory_in_use()
    local a = lx.arange(1024 * 1024, "int32")
    local p = lffi.ptr(a)
    a = nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(before + 4 * 1024 * 1024, lx.memory_in_use())
    -- Allocate and free other memory; the pointer's data must be intact.
    for _ = 1, 4 do
      local junk = lx.full({ 1024 * 1024 }, -1, "int32")
      junk:close()
    end
    assert.are.equal(0, p[0])
    assert.are.equal(12345, p[12345])
    assert.are.equal(1024 * 1024 - 1, p[1024 * 1024 - 1])
    -- Once the pointer is gone too, the memory goes back.
    p = nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lx.memory_in_use())
  end)
end)
