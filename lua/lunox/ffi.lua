--- Zero-copy typed pointers into CPU arrays (LuaJIT only).
-- `local lffi = require("lunox.ffi"); local p = lffi.ptr(a); p[0] = ...`
-- The pointer is valid while the array lives; the pointer object itself
-- keeps the array alive. Arrays are immutable in lunox: writing through the
-- pointer changes the array and every view that shares its memory, so write
-- only into arrays you just made and have not shared.
-- @module lunox.ffi
local ok, ffi = pcall(require, "ffi")
if not ok then
  error("lunox.ffi needs LuaJIT's FFI (run under lunoxjit)", 2)
end
local core = require("lunox.core")

local M = {}

local ctypes = {
  float32 = "float*", float64 = "double*", float16 = "uint16_t*", bfloat16 = "uint16_t*",
  int32 = "int32_t*", int64 = "int64_t*", uint8 = "uint8_t*", uint16 = "uint16_t*",
  uint32 = "uint32_t*", uint64 = "uint64_t*", bool = "uint8_t*",
}

--- The C type of `ptr(a)` for a dtype ("float*" for float32, ...).
-- float16 and bfloat16 are raw `uint16_t` bit patterns.
function M.ctype(dtype)
  local t = ctypes[dtype]
  if not t then error("lunox.ffi.ctype: unknown dtype '" .. tostring(dtype) .. "'", 2) end
  return t
end

--- A typed pointer to element 1 of a contiguous CPU array (0-based in C:
-- `p[0]` is `a[1]`).
function M.ptr(a)
  if not core.is_array(a) then
    error("lunox.ffi.ptr: expected an array, got " .. type(a), 2)
  end
  local address = core._host_address(a) -- raises for device memory and views
  local p = ffi.cast(M.ctype(a.dtype), address)
  -- The finaliser closes over `a`, so the array outlives the pointer.
  return ffi.gc(p, function() return a end)
end

return M
