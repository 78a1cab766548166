-- lx.reduce_window (lax.reduce_window with max or sum) and lx.take (jnp.take
-- along an axis) on the CPU backend. Expected values come from the naive
-- Lua references below, written straight from lax's and jnp's definitions
-- (loop over every output position and every window offset), independent
-- of lunox's kernels.
local lx = require("lunox")
local H = require("spec.support.array_helpers")

local check, check_list, raises = H.check, H.check_list, H.raises
local nan, inf = 0 / 0, 1 / 0

-- n deterministic values of dtype (an LCG: no PRNG needed). Floats are
-- multiples of 1/4 in [-8, 8), exact in every float dtype; signed integers
-- in [-50, 50), unsigned in [0, 100).
local function values(n, dtype, seed)
  local out, state = {}, seed * 7919 + 17
  for i = 1, n do
    state = (state * 1103515245 + 12345) % 2147483648
    local u = state / 2147483648
    if H.FLOAT_DTYPES[dtype] then
      out[i] = math.floor(64 * u) / 4 - 8
    elseif dtype == "int32" or dtype == "int64" then
      out[i] = math.floor(100 * u) - 50
    else
      out[i] = math.floor(100 * u)
    end
  end
  return out
end

local function size_of(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

local function make(shape, dtype, seed)
  local data = values(size_of(shape), dtype, seed)
  if size_of(shape) == 0 then return lx.zeros(shape, dtype), data end
  return lx.array(H.unflatten(data, shape), dtype), data
end

-- Row-major odometer over `shape` (a list of extents); false after the last.
local function next_index(idx, shape)
  for d = #shape, 1, -1 do
    idx[d] = idx[d] + 1
    if idx[d] < shape[d] then return true end
    idx[d] = 0
  end
  return false
end

local function zeros(n)
  local t = {}
  for i = 1, n do t[i] = 0 end
  return t
end

-- The lowest value of an integer dtype: what padding holds for max.
local LOWEST = { int32 = -2 ^ 31, int64 = -2 ^ 63, uint8 = 0, uint32 = 0 }

-- lax.reduce_window with init -inf/lowest (max) or 0 (sum), straight from
-- the definition: pad, then fold every window. 0-based indices inside.
-- Returns {shape=, dtype=, data=}.
local function ref_reduce_window(data, shape, dtype, op, window, strides, lo, hi)
  local nd = #shape
  local oshape = {}
  for d = 1, nd do
    oshape[d] = math.floor((shape[d] + lo[d] + hi[d] - window[d]) / strides[d]) + 1
  end
  local init = op == "max" and (H.FLOAT_DTYPES[dtype] and -inf or LOWEST[dtype]) or 0
  local out = {}
  local o = zeros(nd)
  repeat
    local acc = init
    local k = zeros(nd)
    repeat
      local flat, inside = 0, true
      for d = 1, nd do
        local p = o[d] * strides[d] - lo[d] + k[d]
        if p < 0 or p >= shape[d] then inside = false end
        flat = flat * shape[d] + p
      end
      local v = inside and data[flat + 1] or init
      if op == "sum" then
        acc = acc + v
      elseif v ~= v or acc ~= acc then
        acc = nan
      elseif v > acc then
        acc = v
      end
    until not next_index(k, window)
    out[#out + 1] = acc
  until nd == 0 or not next_index(o, oshape)
  return { shape = oshape, dtype = dtype, data = out }
end

-- jnp.take(a, indices, axis) with 1-based (negative: from the end) indices.
local function ref_take(data, shape, dtype, idx, ishape, axis)
  local outer, n, inner = 1, shape[axis], 1
  for d = 1, axis - 1 do outer = outer * shape[d] end
  for d = axis + 1, #shape do inner = inner * shape[d] end
  local out = {}
  for i = 0, outer - 1 do
    for _, v in ipairs(idx) do
      local k = v < 0 and v + n or v - 1
      for j = 0, inner - 1 do out[#out + 1] = data[(i * n + k) * inner + j + 1] end
    end
  end
  local oshape = {}
  for d = 1, axis - 1 do oshape[#oshape + 1] = shape[d] end
  for _, d in ipairs(ishape) do oshape[#oshape + 1] = d end
  for d = axis + 1, #shape do oshape[#oshape + 1] = shape[d] end
  return { shape = oshape, dtype = dtype, data = out }
end

local function fill(nd, v)
  local t = {}
  for i = 1, nd do t[i] = v end
  return t
end

-- {shape, window, strides, pad_lo, pad_hi}: 1-d to 3-d pooling with and
-- without a leading channel axis, strides below, equal to and above the
-- window, asymmetric padding, padding as large as the window, windows
-- covering the whole axis, and windows that hang over the end (dropped).
local CASES = {
  { { 7 }, { 2 }, { 2 }, { 0 }, { 0 } },
  { { 7 }, { 3 }, { 1 }, { 1 }, { 1 } },
  { { 8 }, { 3 }, { 2 }, { 2 }, { 0 } },
  { { 5 }, { 5 }, { 1 }, { 0 }, { 0 } },
  { { 6 }, { 2 }, { 3 }, { 0 }, { 1 } },
  { { 4 }, { 3 }, { 1 }, { 3 }, { 3 } },
  { { 3, 9 }, { 1, 3 }, { 1, 2 }, { 0, 1 }, { 0, 1 } },
  { { 5, 6 }, { 2, 2 }, { 2, 2 }, { 0, 0 }, { 0, 0 } },
  { { 5, 6 }, { 3, 2 }, { 1, 3 }, { 1, 0 }, { 1, 2 } },
  { { 2, 5, 5 }, { 1, 3, 3 }, { 1, 2, 2 }, { 0, 1, 1 }, { 0, 1, 1 } },
  { { 2, 4, 7 }, { 1, 2, 3 }, { 1, 1, 2 }, { 0, 0, 1 }, { 0, 1, 0 } },
  { { 3, 4, 5 }, { 2, 2, 2 }, { 1, 2, 3 }, { 1, 0, 0 }, { 0, 1, 2 } },
  { { 2, 3, 4, 5 }, { 1, 2, 2, 3 }, { 1, 1, 2, 2 }, { 0, 1, 0, 1 }, { 0, 0, 1, 1 } },
  { { 2, 2, 3, 3, 4 }, { 1, 1, 2, 2, 2 }, { 1, 1, 1, 1, 2 }, { 0, 0, 0, 1, 0 }, { 0, 0, 1, 0, 0 } },
}

local function pairs_of(lo, hi)
  local p = {}
  for i = 1, #lo do p[i] = { lo[i], hi[i] } end
  return p
end

local function case_name(c)
  return string.format("shape %s window %s strides %s pad %s/%s", H.shape_str(c[1]),
    H.shape_str(c[2]), H.shape_str(c[3]), H.shape_str(c[4]), H.shape_str(c[5]))
end

describe("lx.reduce_window", function()
  for _, dtype in ipairs({ "float32", "float64", "float16", "bfloat16", "int32", "int64",
    "uint8", "uint32" }) do
    for _, op in ipairs({ "max", "sum" }) do
      it(op .. " of " .. dtype .. " over every window/stride/padding case", function()
        for k, c in ipairs(CASES) do
          local shape, window, strides, lo, hi = c[1], c[2], c[3], c[4], c[5]
          local x, data = make(shape, dtype, k)
          local want = ref_reduce_window(data, shape, dtype, op, window, strides, lo, hi)
          -- Integer sums here stay far from wrapping; float sums of
          -- quarters are exact in double and rounded once to the dtype.
          local tol = H.FLOAT_DTYPES[dtype] and op == "sum" and {} or nil
          if op == "sum" and dtype == "uint8" then
            for i, v in ipairs(want.data) do want.data[i] = v % 256 end
          end
          check(lx.reduce_window(x, op, window, strides, pairs_of(lo, hi)), want, tol,
            op .. " " .. dtype .. " " .. case_name(c))
        end
      end)
    end
  end

  it("takes padding as {lo, hi} pairs, as one integer per axis, or VALID/SAME", function()
    local x, data = make({ 4, 7 }, "float32", 3)
    local function ref(lo, hi, s)
      return ref_reduce_window(data, { 4, 7 }, "float32", "max", { 3, 3 }, s, lo, hi)
    end
    check(lx.reduce_window(x, "max", { 3, 3 }, { 1, 2 }, { 1, 2 }),
      ref({ 1, 2 }, { 1, 2 }, { 1, 2 }))
    check(lx.reduce_window(x, "max", { 3, 3 }, { 1, 2 }, { { 1, 0 }, { 2, 1 } }),
      ref({ 1, 2 }, { 0, 1 }, { 1, 2 }))
    check(lx.reduce_window(x, "max", { 3, 3 }, { 1, 2 }, "VALID"), ref({ 0, 0 }, { 0, 0 }, { 1, 2 }))
    -- SAME: ceil(n / stride) outputs; the odd padding goes above (lax).
    -- Axis 1: 4 outputs, total 2 -> (1, 1); axis 2: 4 outputs of stride 2,
    -- total (4 - 1) * 2 + 3 - 7 = 2 -> (1, 1).
    local same = lx.reduce_window(x, "max", { 3, 3 }, { 1, 2 }, "SAME")
    assert.are.same({ 4, 4 }, same.shape)
    check(same, ref({ 1, 1 }, { 1, 1 }, { 1, 2 }))
    local same2 = lx.reduce_window(lx.zeros({ 6 }), "sum", { 2 }, { 1 }, "SAME")
    assert.are.same({ 6 }, same2.shape) -- total 1 -> (0, 1)
    check_list(lx.reduce_window(lx.ones({ 6 }), "sum", { 2 }, { 1 }, "SAME"),
      { 2, 2, 2, 2, 2, 1 }, "float32")
    -- Strides default to 1, padding to none.
    check(lx.reduce_window(x, "sum", { 2, 2 }),
      ref_reduce_window(data, { 4, 7 }, "float32", "sum", { 2, 2 }, { 1, 1 }, { 0, 0 }, { 0, 0 }),
      {})
  end)

  it("pads with the identity: -inf (max of floats), the lowest integer, 0 (sum)", function()
    -- A window entirely in the padding sees only the identity.
    local x = lx.array({ 1, 2 })
    check_list(lx.reduce_window(x, "max", { 2 }, { 1 }, { { 2, 2 } }), { -inf, 1, 2, 2, -inf },
      "float32")
    check_list(lx.reduce_window(x, "sum", { 2 }, { 1 }, { { 2, 2 } }), { 0, 1, 3, 2, 0 },
      "float32")
    check_list(lx.reduce_window(lx.array({ -5, -7 }, "int32"), "max", { 2 }, { 1 }, { { 2, 0 } }),
      { -2147483648, -5, -5 }, "int32")
    check_list(lx.reduce_window(lx.array({ 5, 7 }, "uint8"), "max", { 2 }, { 1 }, { { 1, 1 } }),
      { 5, 7, 7 }, "uint8")
    -- Negative values next to padding stay negative (padding is not 0).
    check_list(lx.reduce_window(lx.array({ -3, -1 }), "max", { 2 }, { 1 }, { 1 }),
      { -3, -1, -1 }, "float32")
  end)

  it("propagates NaN through max and sum; infinities behave as in lax", function()
    local x = lx.array({ 1, nan, 3, inf, -inf, 2 })
    check_list(lx.reduce_window(x, "max", { 2 }, { 2 }), { nan, inf, 2 }, "float32")
    check_list(lx.reduce_window(x, "sum", { 2 }, { 1 }), { nan, nan, inf, nan, -inf }, "float32")
  end)

  it("sums float16 and bfloat16 in a wider type, rounding once", function()
    -- 1 + 2^-11 * 16: each addition alone would round away in float16.
    local t = { 1 }
    for i = 2, 17 do t[i] = 2 ^ -11 end
    check_list(lx.reduce_window(lx.array(t, "float16"), "sum", { 17 }), { 1 + 2 ^ -7 }, "float16")
    local b = { 1 }
    for i = 2, 17 do b[i] = 2 ^ -8 end
    check_list(lx.reduce_window(lx.array(b, "bfloat16"), "sum", { 17 }), { 1 + 2 ^ -4 },
      "bfloat16")
  end)

  it("wraps integer sums in the dtype, as lax does", function()
    check_list(lx.reduce_window(lx.array({ 200, 100, 50 }, "uint8"), "sum", { 2 }),
      { 44, 150 }, "uint8")
    check_list(lx.reduce_window(lx.array({ 2147483647, 1 }, "int32"), "sum", { 2 }),
      { -2147483648 }, "int32")
  end)

  it("reads views (transposed, strided, reversed, broadcast) through their strides", function()
    local base, data = make({ 5, 6 }, "float32", 9)
    local views = {
      { "transposed", function(a) return a.T end },
      { "strided", function(a) return a[{ {}, { 1, -1, 2 } }] end },
      { "reversed", function(a) return a[{ { -1, 1, -1 } }] end },
      { "broadcast", function(a) return a[{ { 1, 1 } }]:broadcast_to({ 4, 6 }) end },
    }
    for _, v in ipairs(views) do
      local view = v[2](base)
      local vdata = H.values(view)
      local want = ref_reduce_window(vdata, view.shape, "float32", "max", { 2, 3 }, { 1, 2 },
        { 1, 0 }, { 0, 1 })
      check(lx.reduce_window(view, "max", { 2, 3 }, { 1, 2 }, { { 1, 0 }, { 0, 1 } }), want, nil,
        v[1])
    end
    assert.is_true(#data == 30)
  end)

  it("handles scalars, size-1 windows and empty inputs padded to a window", function()
    check_list(lx.reduce_window(lx.array(4.5), "max", {}), 4.5, "float32")
    assert.are.same({}, lx.reduce_window(lx.array(4.5), "sum", {}).shape)
    local x, data = make({ 3, 4 }, "float64", 2)
    check(lx.reduce_window(x, "sum", { 1, 1 }), { shape = { 3, 4 }, dtype = "float64", data = data })
    -- An empty axis padded up to the window: every output is the identity.
    check_list(lx.reduce_window(lx.zeros({ 2, 0 }), "max", { 1, 2 }, { 1, 1 }, { { 0, 0 }, { 1, 1 } }),
      { { -inf }, { -inf } }, "float32")
    -- An empty axis not pooled gives an empty result.
    assert.are.same({ 0, 2 }, lx.reduce_window(lx.zeros({ 0, 3 }), "sum", { 1, 2 }).shape)
  end)

  it("pools like Equinox: MaxPool2d, AvgPool2d (the sum over the full window), 1d and 3d", function()
    -- eqx.nn.MaxPool2d(2, stride=2) on a (channels, h, w) input.
    local x = lx.arange(32):reshape({ 2, 4, 4 })
    check_list(lx.reduce_window(x, "max", { 1, 2, 2 }, { 1, 2, 2 }),
      { { { 5, 7 }, { 13, 15 } }, { { 21, 23 }, { 29, 31 } } }, "float32")
    -- eqx.nn.AvgPool2d(3, stride=1, padding=1): divides by 9 everywhere,
    -- padding included.
    local ones = lx.ones({ 1, 3, 3 })
    local avg = lx.reduce_window(ones, "sum", { 1, 3, 3 }, { 1, 1, 1 }, { 0, 1, 1 }) / 9
    check_list(avg, { { { 4 / 9, 6 / 9, 4 / 9 }, { 6 / 9, 1, 6 / 9 }, { 4 / 9, 6 / 9, 4 / 9 } } },
      "float32", {})
    -- 1d (channels, length) and 3d (channels, d, h, w).
    check_list(lx.reduce_window(lx.arange(6):reshape({ 1, 6 }), "max", { 1, 3 }, { 1, 3 }),
      { { 2, 5 } }, "float32")
    local c3 = lx.reduce_window(lx.arange(64):reshape({ 1, 4, 4, 4 }), "max", { 1, 2, 2, 2 },
      { 1, 2, 2, 2 })
    check_list(c3, { { { { 21, 23 }, { 29, 31 } }, { { 53, 55 }, { 61, 63 } } } }, "float32")
  end)

  it("is also a method", function()
    local x = lx.arange(4)
    check_list(x:reduce_window("sum", { 2 }, { 2 }), { 1, 5 }, "float32")
  end)

  it("computes shapes without memory under filter_eval_shape", function()
    local out = lx.filter_eval_shape(function()
      local x = lx.zeros({ 3, 32, 32 }, "bfloat16")
      return {
        lx.reduce_window(x, "max", { 1, 3, 3 }, { 1, 2, 2 }, { 0, 1, 1 }),
        lx.reduce_window(x, "sum", { 1, 2, 2 }, { 1, 2, 2 }, "SAME"),
      }
    end)
    assert.are.equal(lx.ShapeDtypeStruct({ 3, 16, 16 }, "bfloat16"), out[1])
    assert.are.equal(lx.ShapeDtypeStruct({ 3, 16, 16 }, "bfloat16"), out[2])
  end)

  it("raises errors that name the function and the offending values", function()
    local x = lx.zeros({ 3, 4 })
    raises({ "reduce_window", "the window has 1 entries", "2 dimensions" },
      lx.reduce_window, x, "max", { 2 })
    raises({ "reduce_window", "the strides has 3 entries" }, lx.reduce_window, x, "max", { 1, 1 },
      { 1, 1, 1 })
    raises({ "reduce_window", "padding has 1 entries" }, lx.reduce_window, x, "max", { 1, 1 },
      nil, { 1 })
    raises({ "reduce_window", "window 0 on axis 2", "at least 1" }, lx.reduce_window, x, "max",
      { 1, 0 })
    raises({ "reduce_window", "stride -1 on axis 1" }, lx.reduce_window, x, "sum", { 1, 1 },
      { -1, 1 })
    raises({ "reduce_window", "padding (0, -2) on axis 2", "negative" }, lx.reduce_window, x,
      "sum", { 1, 1 }, nil, { { 0, 0 }, { 0, -2 } })
    raises({ "reduce_window", "window 5", "axis 2 of size 4", "no entries" }, lx.reduce_window, x,
      "max", { 1, 5 })
    raises({ "reduce_window", "\"max\" or \"sum\"", "min" }, lx.reduce_window, x, "min", { 1, 1 })
    raises({ "reduce_window", "bool" }, lx.reduce_window, lx.zeros({ 2 }, "bool"), "max", { 1 })
    raises({ "reduce_window", "VALID", "\"same\"" }, lx.reduce_window, x, "max", { 1, 1 }, nil,
      "same")
    raises({ "reduce_window", "the window must be a list" }, lx.reduce_window, x, "max", 2)
    raises({ "reduce_window", "{lo, hi} pair" }, lx.reduce_window, x, "max", { 1, 1 }, nil,
      { { 1 }, 0 })
  end)
end)

describe("lx.take", function()
  local INDEX_DTYPES = { "int32", "int64", "uint8", "uint32" }

  it("gathers along every axis with 1-based and negative indices, any index shape", function()
    local shape = { 3, 4, 5 }
    local a, data = make(shape, "float32", 4)
    local index_sets = {
      { { 2 }, { 1 } },               -- a list of one
      { { 1, 3, 2, 1 }, { 4 } },      -- repeats
      { { -1, 1, -2 }, { 3 } },       -- from the end
      { { 1, 2, 2, 1, 3, 1 }, { 2, 3 } }, -- a 2-d index array
    }
    for axis = 1, 3 do
      for _, set in ipairs(index_sets) do
        local flat, ishape = set[1], set[2]
        local n = shape[axis]
        local ok = true
        for _, v in ipairs(flat) do if v > n or v < -n then ok = false end end
        if ok then
          local idx = lx.array(H.unflatten(flat, ishape), "int32")
          local want = ref_take(data, shape, "float32", flat, ishape, axis)
          check(lx.take(a, idx, axis), want, nil, "axis " .. axis .. " " .. H.shape_str(ishape))
          -- Negative axes count from the end.
          check(lx.take(a, idx, axis - 4), want, nil, "axis " .. (axis - 4))
        end
      end
    end
  end)

  it("takes indices of every integer dtype, and Lua numbers or lists", function()
    local w, data = make({ 6, 3 }, "float64", 5)
    local want = ref_take(data, { 6, 3 }, "float64", { 6, 1, 4 }, { 3 }, 1)
    for _, dt in ipairs(INDEX_DTYPES) do
      check(lx.take(w, lx.array({ 6, 1, 4 }, dt), 1), want, nil, dt)
    end
    check(lx.take(w, { 6, 1, 4 }, 1), want)
    -- A number is a 0-d index: the axis goes away.
    check(lx.take(w, 2, 1), ref_take(data, { 6, 3 }, "float64", { 2 }, {}, 1))
    check(lx.take(w, -1, 2), ref_take(data, { 6, 3 }, "float64", { 3 }, {}, 2))
    -- int64 beyond 2^31 and uint32 beyond 2^31 are checked, not wrapped.
    raises({ "take", "index 4294967295" }, lx.take, w, lx.array({ 4294967295 }, "uint32"), 1)
  end)

  it("keeps every dtype of the data", function()
    for _, dt in ipairs(H.ALL_DTYPES) do
      local a = lx.array({ { 1, 0 }, { 0, 1 }, { 1, 1 } }, dt)
      local got = lx.take(a, { 3, 1 }, 1)
      assert.are.equal(dt, got.dtype)
      assert.are.same(lx.array({ { 1, 1 }, { 1, 0 } }, dt):tolist(), got:tolist())
    end
  end)

  it("is nn.Embedding's weight[index]: rows of the weight", function()
    local weight = lx.arange(12):reshape({ 4, 3 })
    check_list(lx.take(weight, lx.array({ 4, 2 }, "int32"), 1), { { 9, 10, 11 }, { 3, 4, 5 } },
      "float32")
    check_list(lx.take(weight, 3, 1), { 6, 7, 8 }, "float32")
  end)

  it("without an axis takes from the flattened array, as jnp.take", function()
    local a = lx.arange(6):reshape({ 2, 3 })
    check_list(lx.take(a, { 6, 1, -2 }), { 5, 0, 4 }, "float32")
  end)

  it("reads views and strided indices", function()
    local a, data = make({ 4, 5 }, "int32", 6)
    local t = a.T -- {5, 4}
    local want = ref_take(H.values(t), { 5, 4 }, "int32", { 4, 1 }, { 2 }, 2)
    local idx = lx.array({ 4, 9, 1 }, "int64")[{ { 1, 3, 2 } }] -- {4, 1}, strided
    check(lx.take(t, idx, 2), want)
    assert.is_true(#data == 20)
  end)

  it("is also a method, and handles empty indices and empty rows", function()
    local a = lx.arange(6):reshape({ 3, 2 })
    check_list(a:take({ 2 }, 1), { { 2, 3 } }, "float32")
    assert.are.same({ 0, 2 }, lx.take(a, lx.zeros({ 0 }, "int32"), 1).shape)
    assert.are.same({ 3, 0 }, lx.take(lx.zeros({ 3, 0 }), lx.zeros({ 0 }, "int32"), 2).shape)
    assert.are.same({ 2, 0 }, lx.take(lx.zeros({ 3, 0 }), { 1, 3 }, 1).shape)
  end)

  it("computes shapes without memory under filter_eval_shape", function()
    local out = lx.filter_eval_shape(function()
      local weight = lx.zeros({ 50000, 512 }, "float16")
      return lx.take(weight, lx.zeros({ 8, 16 }, "int32"), 1)
    end)
    assert.are.equal(lx.ShapeDtypeStruct({ 8, 16, 512 }, "float16"), out)
  end)

  it("raises errors that name the function, the index and its position", function()
    local w = lx.zeros({ 5, 2 })
    raises({ "take", "index 6", "position {1}", "axis 1 of size 5", "1..5" }, lx.take, w,
      { 6 }, 1)
    raises({ "take", "index 0", "position {2,1}", "axis 1" }, lx.take, w, { { 1, 2 }, { 0, 1 } }, 1)
    raises({ "take", "index -6" }, lx.take, w, { -6 }, 1)
    raises({ "take", "index 3", "axis 2 of size 2" }, lx.take, w, lx.array({ 3 }, "uint8"), 2)
    raises({ "take", "indices must be int32, int64, uint8 or uint32", "float32" }, lx.take, w,
      lx.array({ 1 }), 1)
    raises({ "take", "bool" }, lx.take, w, lx.array({ true }), 1)
    raises({ "take", "indices must be integers", "1.5" }, lx.take, w, { 1, 1.5 }, 1)
    raises({ "take", "axis 3 is out of range" }, lx.take, w, { 1 }, 3)
    raises({ "take", "axis 0" }, lx.take, w, { 1 }, 0)
    raises({ "take", "0-d" }, lx.take, lx.array(1), { 1 }, 1)
    raises({ "take", "axis 1 of size 0" }, lx.take, lx.zeros({ 0, 2 }), { 1 }, 1)
    raises({ "take", "missing indices" }, lx.take, w)
  end)
end)
