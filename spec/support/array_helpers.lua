--- Helpers for the array specs: building arrays from fixture records and
-- comparing arrays with expected values. Portable Lua (5.4 and LuaJIT).
-- The comparisons read values back with a:tolist() only, so they do not
-- depend on any other lunox op being right.
local lx = require("lunox")

local M = {}

M.FLOAT_DTYPES = { float32 = true, float64 = true, float16 = true, bfloat16 = true }
M.INT_DTYPES = { int32 = true, int64 = true, uint8 = true, uint32 = true }
M.ALL_DTYPES = { "float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8",
                 "uint32", "bool" }

--- Default relative tolerances for inexact results, by dtype.
M.RTOL = { float32 = 1e-6, float64 = 1e-12, float16 = 1e-3, bfloat16 = 1e-2 }

local function is_nan(x) return x ~= x end

--- "{3,4}" for a shape list.
function M.shape_str(shape)
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- Nested Lua lists of `shape` from a flat list (row-major); a scalar for {}.
function M.unflatten(data, shape)
  if #shape == 0 then return data[1] end
  local pos = 0
  local function build(depth)
    local t = {}
    for i = 1, shape[depth] do
      if depth == #shape then
        pos = pos + 1
        t[i] = data[pos]
      else
        t[i] = build(depth + 1)
      end
    end
    return t
  end
  return build(1)
end

--- Flat list of the values of nested lists `v` of depth `ndim`.
function M.flatten(v, ndim)
  if ndim == 0 then return { v } end
  local out = {}
  local function walk(t, depth)
    for i = 1, #t do
      if depth == ndim then out[#out + 1] = t[i] else walk(t[i], depth + 1) end
    end
  end
  walk(v, 1)
  return out
end

--- Flat data of a fixture input: the list itself, or the pattern
-- ((i - 1) % mod) * scale for i = 1..size.
function M.record_data(rec)
  if rec.data then return rec.data end
  local size = 1
  for i = 1, #rec.shape do size = size * rec.shape[i] end
  local data = {}
  local p = rec.pattern
  for i = 1, size do data[i] = ((i - 1) % p.mod) * p.scale end
  return data
end

--- An array from a fixture record {shape=, dtype=, data=} via nested lists
-- (so that building inputs does not rely on reshape).
function M.make(rec)
  local data = M.record_data(rec)
  local size = 1
  for i = 1, #rec.shape do size = size * rec.shape[i] end
  local a
  if #rec.shape == 0 then
    a = lx.array(data[1], rec.dtype)
  elseif size == 0 then
    a = lx.zeros(rec.shape, rec.dtype)
  else
    a = lx.array(M.unflatten(data, rec.shape), rec.dtype)
  end
  return a
end

--- The flat values of an array, read with tolist().
function M.values(a)
  return M.flatten(a:tolist(), a.ndim)
end

local function fmt(v)
  if type(v) == "number" then return string.format("%.17g", v) end
  return tostring(v)
end

--- Whether `got` matches `want` for `dtype`: exact for integers and bools;
-- for floats NaN matches NaN, infinities must be equal, and finite values
-- are within atol + rtol * |want| (exact when tol is nil).
function M.close(got, want, dtype, tol)
  if dtype == "bool" then return got == want end
  if not M.FLOAT_DTYPES[dtype] then return got == want end
  if type(got) ~= "number" then return false end
  if is_nan(want) then return is_nan(got) end
  if is_nan(got) then return false end
  if want == math.huge or want == -math.huge then return got == want end
  if not tol then return got == want end
  local rtol = tol.rtol or M.RTOL[dtype]
  local atol = tol.atol or 0
  return math.abs(got - want) <= atol + rtol * math.abs(want)
end

--- Asserts that `a` is an array with the dtype, shape and values of
-- `expected` ({shape=, dtype=, data=}); `tol` as in M.close. Raises with a
-- message naming the first mismatch.
function M.check(a, expected, tol, label)
  label = label and (label .. ": ") or ""
  if not lx.is_array(a) then
    error(label .. "expected an array, got " .. type(a), 2)
  end
  if a.dtype ~= expected.dtype then
    error(label .. "dtype " .. tostring(a.dtype) .. ", expected " .. expected.dtype, 2)
  end
  local shape = a.shape
  if M.shape_str(shape) ~= M.shape_str(expected.shape) then
    error(label .. "shape " .. M.shape_str(shape) .. ", expected " ..
      M.shape_str(expected.shape), 2)
  end
  local got = M.values(a)
  local want = M.record_data(expected)
  if #got ~= #want then
    error(label .. #got .. " values, expected " .. #want, 2)
  end
  for i = 1, #want do
    if not M.close(got[i], want[i], expected.dtype, tol) then
      error(string.format("%svalue %d (flat, 1-based) is %s, expected %s (dtype %s%s)", label,
        i, fmt(got[i]), fmt(want[i]), expected.dtype,
        tol and string.format(", rtol %g, atol %g", tol.rtol or M.RTOL[expected.dtype],
          tol.atol or 0) or ", exact"), 2)
    end
  end
  return true
end

--- Shorthand: checks `a` against nested Lua lists `nested` with `dtype`.
function M.check_list(a, nested, dtype, tol, label)
  local shape = {}
  local v = nested
  while type(v) == "table" do
    shape[#shape + 1] = #v
    v = v[1]
  end
  local data = M.flatten(nested, #shape)
  return M.check(a, { shape = shape, dtype = dtype, data = data }, tol, label)
end

--- Calls fn(...) and asserts that it raises a string error containing every
-- string in `needles` (a list, or one string; plain matches). Returns the message.
function M.raises(needles, fn, ...)
  if type(needles) == "string" then needles = { needles } end
  local ok, err = pcall(fn, ...)
  if ok then
    error("expected an error mentioning '" .. table.concat(needles, "', '") ..
      "', but the call succeeded", 2)
  end
  if type(err) ~= "string" then
    error("expected a string error, got " .. type(err) .. ": " .. tostring(err), 2)
  end
  for _, n in ipairs(needles) do
    if not err:find(n, 1, true) then
      error("error message '" .. err .. "' does not mention '" .. n .. "'", 2)
    end
  end
  return err
end

--- Lua 5.4 reports integers as "integer"; LuaJIT has only numbers.
M.has_integers = math.type ~= nil

local P = require("spec.support.process")

--- The host running this spec (see spec/support/process.lua).
M.host = P.host
M.quote = P.quote

--- Runs `code` with `host -e` in a child process, with extra environment
-- variables `env` (name -> value). Returns its stdout and stderr together,
-- and its exit status (a number).
function M.run_code(code, env)
  local stdout, stderr, status = P.run_host({ "-e", code }, { env = env })
  local out = (stdout or "") .. (stderr or "")
  -- Under `make asan`, ASan warns on stderr for each allocation it refuses
  -- (the specs ask for absurd sizes on purpose); that is not our output.
  out = out:gsub("==%d+==WARNING: AddressSanitizer failed to allocate[^\n]*\n?", "")
  return out, status
end

return M
