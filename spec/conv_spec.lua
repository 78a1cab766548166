-- lx.conv on the CPU backend: lax.conv_general_dilated semantics (NC.../
-- OI... layouts) over strides, paddings (negative ones crop), lhs and rhs
-- dilations, groups, 1-3 spatial axes and the four float dtypes; option
-- parsing; errors; shapes under filter_eval_shape.
--
-- Expected values come from a naive reference written here in plain Lua
-- from the definition, a different formulation from the runtime's: it
-- builds the dilated and padded input explicitly (inserting zeros, adding
-- or dropping elements at the ends) and then slides the dilated kernel
-- over it. Hand-derived literals and an adjoint identity (the transposed
-- convolution Equinox builds from lhs_dilation is the adjoint of the
-- convolution) pin the reference itself down.
local lx = require("lunox")
local H = require("spec.support.array_helpers")

local check_list, raises = H.check_list, H.raises
local unpack = table.unpack or unpack

-- ------------------------------------------------------------ reference

local function prod(t, from)
  local p = 1
  for i = from or 1, #t do p = p * t[i] end
  return p
end

-- A nested list of zeros shaped like v.
local function zeros_like(v)
  if type(v) ~= "table" then return 0 end
  local z = {}
  for i = 1, #v do z[i] = zeros_like(v[i]) end
  return z
end

-- Applies f to the lists at nesting depth `axis` (1: v itself).
local function along(v, axis, f)
  if axis == 1 then return f(v) end
  local out = {}
  for i = 1, #v do out[i] = along(v[i], axis - 1, f) end
  return out
end

-- lhs dilation: lhs - 1 zero entries between neighbours; then padding,
-- where a negative amount drops entries from that end.
local function dilate_pad(list, lhs, lo, hi)
  local zero = zeros_like(list[1])
  local d = {}
  for i, v in ipairs(list) do
    if i > 1 then
      for _ = 1, lhs - 1 do d[#d + 1] = zeros_like(zero) end
    end
    d[#d + 1] = v
  end
  local out = {}
  for _ = 1, lo do out[#out + 1] = zeros_like(zero) end
  for i = 1 + math.max(0, -lo), #d - math.max(0, -hi) do out[#out + 1] = d[i] end
  for _ = 1, hi do out[#out + 1] = zeros_like(zero) end
  return out
end

local function shape_of(v)
  local s = {}
  while type(v) == "table" do
    s[#s + 1] = #v
    v = v[1]
  end
  return s
end

-- Options as lists, one entry per spatial axis.
local function normalise(opts, ns)
  local function each(v, dflt)
    local out = {}
    for i = 1, ns do
      if v == nil then out[i] = dflt
      elseif type(v) == "number" then out[i] = v
      else out[i] = v[i] end
    end
    return out
  end
  local pad = {}
  for i = 1, ns do
    local p = opts.padding
    if p == nil then pad[i] = { 0, 0 }
    elseif type(p) == "number" then pad[i] = { p, p }
    elseif type(p[i]) == "number" then pad[i] = { p[i], p[i] }
    else pad[i] = p[i] end
  end
  return each(opts.stride, 1), pad, each(opts.lhs_dilation, 1), each(opts.rhs_dilation, 1),
    opts.groups or 1
end

--- The convolution of CPU arrays x and w by the definition, in float64:
-- returns the output shape and its flat values.
local function reference(x, w, opts)
  local xs, ws = x.shape, w.shape
  local ns = #ws - 2
  local stride, pad, lhs, rhs, groups = normalise(opts or {}, ns)
  local xl = x:astype("float64"):tolist()
  local wflat = H.flatten(w:astype("float64"):tolist(), #ws)
  local N, cout, cg = xs[1], ws[1], ws[2]
  local og = math.floor(cout / groups)
  local kshape = { unpack(ws, 3) }
  local kprod = prod(kshape)
  -- Each example's channels, dilated and padded, flattened.
  local planes, pshape = {}, nil
  for n = 1, N do
    planes[n] = {}
    for c = 1, xs[2] do
      local v = xl[n][c]
      for a = 1, ns do
        v = along(v, a, function(l) return dilate_pad(l, lhs[a], pad[a][1], pad[a][2]) end)
      end
      pshape = shape_of(v)
      planes[n][c] = H.flatten(v, ns)
    end
  end
  local oshape = { N, cout }
  for a = 1, ns do
    oshape[a + 2] = math.floor((pshape[a] - ((kshape[a] - 1) * rhs[a] + 1)) / stride[a]) + 1
  end
  local ospatial = { unpack(oshape, 3) }
  local out = {}
  local function coords(i, shape) -- flat 0-based index -> 0-based coordinates
    local c = {}
    for a = #shape, 1, -1 do
      c[a] = i % shape[a]
      i = math.floor(i / shape[a])
    end
    return c
  end
  local function flat(c, shape)
    local f = 0
    for a = 1, #shape do f = f * shape[a] + c[a] end
    return f
  end
  for n = 1, N do
    for oc = 0, cout - 1 do
      local g = math.floor(oc / og)
      for oi = 0, prod(ospatial) - 1 do
        local o = coords(oi, ospatial)
        local sum = 0
        for cc = 0, cg - 1 do
          local plane = planes[n][g * cg + cc + 1]
          for ki = 0, kprod - 1 do
            local k = coords(ki, kshape)
            local at = {}
            for a = 1, ns do at[a] = o[a] * stride[a] + k[a] * rhs[a] end
            sum = sum + plane[flat(at, pshape) + 1] * wflat[(oc * cg + cc) * kprod + ki + 1]
          end
        end
        out[#out + 1] = sum
      end
    end
  end
  return oshape, out
end

-- ---------------------------------------------------------- test values

-- Deterministic values in [-2, 2) (an LCG, so no PRNG is involved).
local function make(shape, dtype, seed)
  local n, s, v = prod(shape), seed * 7919 + 13, {}
  for i = 1, n do
    s = (s * 1103515245 + 12345) % 2147483648
    v[i] = 4 * s / 2147483648 - 2
  end
  return lx.array(n > 0 and v or {}, dtype or "float32"):reshape(shape)
end

-- Relative tolerance per dtype, against the largest |value| of the
-- reference (sums cancel, so per-element relative errors can be large).
local RTOL = { float64 = 1e-12, float32 = 2e-6, float16 = 2e-3, bfloat16 = 1.6e-2 }

local function assert_matches_reference(got, x, w, opts, label)
  local shape, want = reference(x, w, opts)
  assert.are.same(shape, got.shape, label .. ": shape")
  local vals = H.flatten(got:astype("float64"):tolist(), got.ndim)
  local scale = 0
  for _, v in ipairs(want) do scale = math.max(scale, math.abs(v)) end
  local tol = RTOL[got.dtype] * math.max(scale, 1)
  for i = 1, #want do
    if not (math.abs(vals[i] - want[i]) <= tol) then
      error(string.format("%s: value %d is %.9g, expected %.9g (tolerance %.3g)", label, i,
        vals[i], want[i], tol), 2)
    end
  end
end

-- {name, x shape, w shape, opts}
local CASES = {
  { "1-d", { 2, 3, 10 }, { 4, 3, 3 }, {} },
  { "1-d stride 2, padding {1,2}", { 1, 2, 9 }, { 3, 2, 3 }, { stride = 2, padding = { { 1, 2 } } } },
  { "1-d negative padding", { 1, 2, 9 }, { 2, 2, 2 }, { padding = { { -1, -2 } } } },
  { "1-d mixed-sign padding", { 1, 1, 7 }, { 2, 1, 3 }, { padding = { { 3, -2 } }, stride = 2 } },
  { "1-d lhs_dilation (transposed)", { 1, 2, 5 }, { 3, 2, 3 },
    { lhs_dilation = 2, padding = { { 2, 3 } } } },
  { "1-d lhs_dilation 3, cropped", { 2, 1, 4 }, { 1, 1, 2 },
    { lhs_dilation = 3, padding = { { -1, 1 } } } },
  { "1-d rhs_dilation 3", { 1, 2, 12 }, { 2, 2, 3 }, { rhs_dilation = 3 } },
  { "1-d groups 3", { 1, 6, 7 }, { 9, 2, 3 }, { groups = 3, padding = 1 } },
  { "1-d depthwise", { 2, 4, 6 }, { 4, 1, 3 }, { groups = 4 } },
  { "1-d kernel longer than input, padded", { 1, 1, 2 }, { 1, 1, 4 }, { padding = 2 } },
  { "2-d", { 1, 3, 6, 5 }, { 2, 3, 3, 2 }, { stride = { 2, 1 }, padding = { { 1, 0 }, { 2, 1 } } } },
  { "2-d everything", { 2, 4, 5, 6 }, { 6, 2, 2, 3 },
    { stride = { 1, 2 }, padding = { { -1, 2 }, { 1, -1 } }, lhs_dilation = { 2, 1 },
      rhs_dilation = { 1, 2 }, groups = 2 } },
  { "2-d 1x1 (pointwise)", { 2, 5, 4, 3 }, { 7, 5, 1, 1 }, {} },
  { "2-d 1x1 groups", { 1, 4, 3, 3 }, { 6, 2, 1, 1 }, { groups = 2 } },
  { "2-d 1x1 stride 2", { 1, 3, 5, 4 }, { 2, 3, 1, 1 }, { stride = 2 } },
  { "2-d padding per axis", { 1, 2, 4, 4 }, { 3, 2, 3, 3 }, { padding = { 1, 0 } } },
  { "2-d transposed, stride 2", { 1, 2, 3, 4 }, { 3, 2, 3, 3 },
    { lhs_dilation = 2, padding = { { 2, 3 }, { 1, 2 } } } },
  { "3-d", { 1, 2, 4, 3, 5 }, { 3, 2, 2, 2, 3 }, { stride = { 1, 2, 1 }, padding = 1 } },
  { "3-d dilations", { 1, 2, 3, 4, 3 }, { 2, 1, 2, 2, 2 },
    { lhs_dilation = { 1, 2, 2 }, rhs_dilation = { 2, 1, 1 }, groups = 2,
      padding = { { 1, 1 }, { 0, -1 }, { 2, 0 } } } },
  -- More than 4 output channels per group: BLAS rather than row updates.
  { "1-d wide, transposed", { 2, 2, 5 }, { 9, 2, 3 }, { lhs_dilation = 2, padding = { { 2, 1 } } } },
  { "2-d wide, strided, cropped", { 1, 3, 7, 6 }, { 10, 3, 3, 2 },
    { stride = { 2, 3 }, padding = { { 1, -1 }, { 2, 1 } }, rhs_dilation = { 1, 2 } } },
  { "3-d wide, groups", { 2, 4, 3, 4, 5 }, { 12, 2, 2, 3, 2 },
    { groups = 2, padding = { 1, 0, { 1, 2 } }, stride = { 1, 1, 2 } } },
}

describe("lx.conv", function()
  it("matches hand-computed values", function()
    local x = lx.arange(16):reshape({ 1, 1, 4, 4 })
    local w = lx.ones({ 1, 1, 2, 2 })
    check_list(lx.conv(x, w), { { { { 10, 14, 18 }, { 26, 30, 34 }, { 42, 46, 50 } } } },
      "float32")
    -- Padded to 6x6, windows at 0, 2, 4.
    check_list(lx.conv(x, w, { stride = 2, padding = 1 }),
      { { { { 0, 3, 3 }, { 12, 30, 18 }, { 12, 27, 15 } } } }, "float32")
    -- 1-2-3 dilated by 2 is 1 0 2 0 3; padded 0 1 0 2 0 3 0; kernel {1, 10}.
    local t = lx.conv(lx.array({ { { 1, 2, 3 } } }), lx.array({ { { 1, 10 } } }),
      { lhs_dilation = 2, padding = 1 })
    check_list(t, { { { 10, 1, 20, 2, 30, 3 } } }, "float32")
    -- rhs_dilation 2: taps 0 and 2; a crop of 1 on the left.
    local r = lx.conv(lx.array({ { { 1, 2, 3, 4, 5 } } }), lx.array({ { { 1, 100 } } }),
      { rhs_dilation = 2, padding = { { -1, 0 } } })
    check_list(r, { { { 402, 503 } } }, "float32")
    -- groups: each half of the output sees its half of the input.
    local g = lx.conv(lx.array({ { { 1, 2 }, { 3, 4 } } }), lx.array({ { { 1 } }, { { 10 } } }),
      { groups = 2 })
    check_list(g, { { { 1, 2 }, { 30, 40 } } }, "float32")
  end)

  for _, c in ipairs(CASES) do
    it("matches the reference: " .. c[1], function()
      local x, w = make(c[2], "float32", 1), make(c[3], "float32", 2)
      assert_matches_reference(lx.conv(x, w, c[4]), x, w, c[4], c[1])
    end)
  end

  it("matches the reference in float64, float16 and bfloat16, accumulating halves in float32",
    function()
      for _, dt in ipairs({ "float64", "float16", "bfloat16" }) do
        for _, k in ipairs({ 1, 2, 5, 8, 12, 13, 17, 18, 19, 20, 21, 22 }) do
          local c = CASES[k]
          local x, w = make(c[2], dt, 3), make(c[3], dt, 4)
          local out = lx.conv(x, w, c[4])
          assert.are.equal(dt, out.dtype)
          assert_matches_reference(out, x, w, c[4], dt .. " " .. c[1])
        end
      end
      -- One rounding at the end: 1000 products of 0.1 (as float16) and 1
      -- sum to 99.98 in float32; float16 partial sums would drift by units.
      local x = lx.full({ 1, 1000, 1 }, 0.1, "float16")
      local out = lx.conv(x, lx.ones({ 1, 1000, 1 }, "float16"))
      assert.is_true(math.abs(out:item() - 99.98) < 0.1, tostring(out:item()))
    end)

  it("promotes mixed float dtypes as matmul does", function()
    local x, w = make({ 1, 2, 5 }, "float16", 5), make({ 3, 2, 2 }, "float32", 6)
    local out = lx.conv(x, w)
    assert.are.equal("float32", out.dtype)
    assert_matches_reference(out, x, w, {}, "float16 x float32")
    assert.are.equal("float64", lx.conv(x:astype("bfloat16"), w:astype("float64")).dtype)
  end)

  it("reads views (strided, transposed, reversed) as their values", function()
    local base = make({ 2, 3, 8, 6 }, "float32", 7)
    -- Every other row, columns reversed, two of the three channels.
    local x = base[{ {}, { 1, 2 }, { 1, -1, 2 }, { -1, 1, -1 } }]
    local w = make({ 3, 4, 3, 2 }, "float32", 8):transpose({ 1, 2, 4, 3 })[{ {}, { 2, 3 } }]
    assert.are.same({ 2, 2, 4, 6 }, x.shape)
    assert.are.same({ 3, 2, 2, 3 }, w.shape)
    local opts = { padding = 1, stride = { 1, 2 } }
    local got = lx.conv(x, w, opts)
    assert_matches_reference(got, x, w, opts, "views")
    assert.are.same(lx.conv(x + 0, w + 0, opts):tolist(), got:tolist())
  end)

  it("takes padding as a number, per-axis numbers, pairs or lax's strings", function()
    local x, w = make({ 1, 2, 7, 6 }, "float32", 9), make({ 3, 2, 3, 2 }, "float32", 10)
    local function same(a, b) assert.are.same(a:tolist(), b:tolist()) end
    same(lx.conv(x, w, { padding = 2 }), lx.conv(x, w, { padding = { { 2, 2 }, { 2, 2 } } }))
    same(lx.conv(x, w, { padding = { 1, 0 } }), lx.conv(x, w, { padding = { { 1, 1 }, { 0, 0 } } }))
    same(lx.conv(x, w, { padding = "VALID" }), lx.conv(x, w))
    -- SAME keeps ceil(in / stride); the odd element of padding goes after
    -- (SAME) or before (SAME_LOWER), as lax.padtype_to_pads.
    same(lx.conv(x, w, { padding = "SAME" }), lx.conv(x, w, { padding = { { 1, 1 }, { 0, 1 } } }))
    same(lx.conv(x, w, { padding = "SAME_LOWER" }),
      lx.conv(x, w, { padding = { { 1, 1 }, { 1, 0 } } }))
    local s2 = lx.conv(x, w, { padding = "SAME", stride = 2 })
    assert.are.same({ 1, 3, 4, 3 }, s2.shape) -- total padding 2 and 0
    same(s2, lx.conv(x, w, { stride = 2, padding = { { 1, 1 }, { 0, 0 } } }))
    local d = lx.conv(x, w, { padding = "SAME", lhs_dilation = 2, rhs_dilation = 2 })
    assert.are.same({ 1, 3, 13, 11 }, d.shape)
    same(lx.conv(x, w, { stride = { 2, 1 }, rhs_dilation = 1 }),
      lx.conv(x, w, { stride = { 2, 1 }, rhs_dilation = { 1, 1 }, lhs_dilation = { 1, 1 } }))
  end)

  it("is the adjoint of its transpose (Equinox's ConvTranspose: lhs_dilation = stride)",
    function()
      -- <conv(x, w), g> = <x, conv(g, w')> where w' swaps the channel axes
      -- and flips the kernel, with lhs_dilation = stride, padding
      -- (d(k-1) - p0, d(k-1) - p1 + a) and rhs_dilation = d, as
      -- equinox.nn.ConvTranspose passes to lax.conv_general_dilated.
      local function dot(a, b) return lx.sum(a * b):item() end
      local configs = {
        { x = { 1, 2, 11 }, w = { 3, 2, 3 }, s = { 2 }, p = { { 1, 2 } }, d = { 1 } },
        { x = { 1, 2, 10 }, w = { 2, 2, 4 }, s = { 3 }, p = { { 0, 0 } }, d = { 2 } },
        { x = { 1, 3, 7, 6 }, w = { 2, 3, 3, 2 }, s = { 2, 1 }, p = { { 1, 1 }, { 0, 1 } },
          d = { 1, 2 } },
      }
      for i, c in ipairs(configs) do
        local x, w = make(c.x, "float64", 20 + i), make(c.w, "float64", 30 + i)
        local y = lx.conv(x, w, { stride = c.s, padding = c.p, rhs_dilation = c.d })
        local g = make(y.shape, "float64", 40 + i)
        local ns = #c.x - 2
        local perm, flip = { 2, 1 }, { {}, {} }
        for a = 1, ns do
          perm[a + 2] = a + 2
          flip[a + 2] = { -1, 1, -1 }
        end
        local wt = w:transpose(perm)[flip]
        local pt = {}
        for a = 1, ns do
          local k, d, s, L = c.w[a + 2], c.d[a], c.s[a], c.x[a + 2]
          local extra = (L + c.p[a][1] + c.p[a][2] - d * (k - 1) - 1) % s -- output_padding
          pt[a] = { d * (k - 1) - c.p[a][1], d * (k - 1) - c.p[a][2] + extra }
        end
        local xt = lx.conv(g, wt, { lhs_dilation = c.s, padding = pt, rhs_dilation = c.d })
        assert.are.same(x.shape, xt.shape)
        local lhs, rhs = dot(y, g), dot(x, xt)
        assert.is_true(math.abs(lhs - rhs) <= 1e-9 * math.max(1, math.abs(lhs)),
          string.format("config %d: %.17g vs %.17g", i, lhs, rhs))
      end
    end)

  it("handles empty inputs: empty batches, no channels, empty axes kept by padding", function()
    assert.are.same({ 0, 4, 3 }, lx.conv(lx.zeros({ 0, 3, 5 }), lx.ones({ 4, 3, 3 })).shape)
    check_list(lx.conv(lx.zeros({ 1, 0, 4 }), lx.ones({ 2, 0, 3 })), { { { 0, 0 }, { 0, 0 } } },
      "float32")
    check_list(lx.conv(lx.zeros({ 1, 1, 0 }), lx.ones({ 1, 1, 1 }), { padding = 1 }),
      { { { 0, 0 } } }, "float32")
    assert.are.same({ 1, 0, 3 }, lx.conv(lx.ones({ 1, 2, 5 }), lx.ones({ 0, 2, 3 })).shape)
  end)

  it("raises errors that name the function and the values", function()
    local x, w = lx.ones({ 1, 5, 8, 8 }), lx.ones({ 4, 3, 3, 3 })
    raises("conv: input has 5 channels but weight expects 3 (groups=1", lx.conv, x, w)
    raises("conv: input has 6 channels but weight expects 4 (groups=2",
      lx.conv, lx.ones({ 1, 6, 8, 8 }), lx.ones({ 4, 2, 3, 3 }), { groups = 2 })
    raises({ "conv:", "groups=2 does not divide the input's 5 channels" },
      lx.conv, x, lx.ones({ 4, 2, 3, 3 }), { groups = 2 })
    raises({ "conv:", "groups=2 does not divide the weight's 3 output channels" },
      lx.conv, lx.ones({ 1, 4, 8, 8 }), lx.ones({ 3, 2, 3, 3 }), { groups = 2 })
    raises("conv: groups must be >= 1, got 0", lx.conv, x, lx.ones({ 4, 5, 3, 3 }), { groups = 0 })
    raises({ "conv:", "needs an input of rank 4", "{5,8,8}" }, lx.conv, lx.ones({ 5, 8, 8 }),
      lx.ones({ 4, 5, 3, 3 }))
    raises({ "conv:", "at least one kernel axis", "f32[4,5]" }, lx.conv, x, lx.ones({ 4, 5 }))
    local w5 = lx.ones({ 4, 5, 3, 3 })
    raises("conv: stride must be between 1 and 2^31 on every spatial axis, got 0 on spatial axis 2",
      lx.conv, x, w5, { stride = { 1, 0 } })
    raises({ "conv: lhs_dilation", "got 0 on spatial axis 1" }, lx.conv, x, w5,
      { lhs_dilation = 0 })
    raises({ "conv: rhs_dilation", "got -1 on spatial axis 1" }, lx.conv, x, w5,
      { rhs_dilation = -1 })
    raises({ "conv: output size would be < 1 on spatial axis 1", "input 8", "kernel window 9" },
      lx.conv, x, w5, { rhs_dilation = 4 })
    raises({ "conv: output size would be < 1 on spatial axis 2", "padding -3,-3" },
      lx.conv, x, w5, { padding = { 0, -3 } })
    raises({ "conv:", "floating point", "int32" }, lx.conv, x:astype("int32"), w5)
    raises({ "conv:", "floating point", "bool" }, lx.conv, x, w5:astype("bool"))
    raises("conv: padding has 1 entries for 2 spatial axes", lx.conv, x, w5, { padding = { 1 } })
    raises("conv: stride has 3 entries for 2 spatial axes", lx.conv, x, w5,
      { stride = { 1, 1, 1 } })
    raises("conv: padding[2] must be a number or a {lo, hi} pair", lx.conv, x, w5,
      { padding = { 1, { 1, 2, 3 } } })
    raises("conv: padding must be \"VALID\", \"SAME\" or \"SAME_LOWER\", got \"same\"",
      lx.conv, x, w5, { padding = "same" })
    raises("conv: unknown option 'dilation'", lx.conv, x, w5, { dilation = 2 })
    raises("conv: stride must be an integer, got 1.5", lx.conv, x, w5, { stride = 1.5 })
    raises("conv: options must be a table, got number", lx.conv, x, w5, 3)
  end)

  it("computes shapes without memory under filter_eval_shape", function()
    local out = lx.filter_eval_shape(function()
      local x = lx.zeros({ 1, 3, 32, 32 })
      local w = lx.zeros({ 8, 3, 3, 3 }, "float16")
      return {
        plain = lx.conv(x, w, { stride = 2, padding = 1 }),
        transposed = lx.conv(x, w, { lhs_dilation = 2, padding = { { 2, 3 }, { 2, 3 } } }),
        -- 4 GiB of input: only its header exists.
        big = lx.conv(lx.zeros({ 1, 64, 4096, 4096 }), lx.zeros({ 64, 64, 3, 3 }),
          { padding = "SAME" }),
      }
    end)
    assert.are.equal(lx.ShapeDtypeStruct({ 1, 8, 16, 16 }, "float32"), out.plain)
    assert.are.equal(lx.ShapeDtypeStruct({ 1, 8, 66, 66 }, "float32"), out.transposed)
    assert.are.equal(lx.ShapeDtypeStruct({ 1, 64, 4096, 4096 }, "float32"), out.big)
    local ok, err = pcall(lx.filter_eval_shape, function()
      return lx.conv(lx.zeros({ 1, 2, 5 }), lx.zeros({ 1, 3, 3 }))
    end)
    assert.is_false(ok)
    assert.matches("conv: input has 2 channels but weight expects 3", err, 1, true)
  end)
end)
