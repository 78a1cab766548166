-- lx.nn's convolution and pooling layers (lua/lunox/nn/conv.lua, pool.lua):
-- construction as Equinox's (fields, shapes, static fields, dtypes; initial
-- values bit for bit against spec/fixtures/nn_conv_init.json, made by
-- make_nn_conv_fixtures.py), calls against plain-Lua references written
-- here (direct sums for Conv, the scatter form for ConvTranspose, windows
-- for the pools), the adjoint identity between Conv and ConvTranspose,
-- every error, filter_eval_shape, serialisation and tree_at.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")
local nn, jr = lx.nn, lx.random
local unpack = table.unpack or unpack

---------------------------------------------------------------------------
-- Plain-Lua references on flat row-major value lists (0-based indices).

local function prod(t)
  local p = 1
  for _, v in ipairs(t) do p = p * v end
  return p
end

local function each_index(shape, fn)
  local n = #shape
  if prod(shape) == 0 then return end
  local idx = {}
  for i = 1, n do idx[i] = 0 end
  while true do
    fn(idx)
    local i = n
    while i >= 1 do
      idx[i] = idx[i] + 1
      if idx[i] < shape[i] then break end
      idx[i] = 0
      i = i - 1
    end
    if i < 1 then return end
  end
end

local function offset(shape, idx)
  local o = 0
  for i = 1, #shape do o = o * shape[i] + idx[i] end
  return o + 1
end

-- Where position j of an axis of size n reads from under a padding mode.
local function source(mode, j, n)
  if j >= 0 and j < n then return j end
  if mode == "ZEROS" then return nil end
  if mode == "REPLICATE" then return j < 0 and 0 or n - 1 end
  if mode == "CIRCULAR" then return ((j % n) + n) % n end
  if n == 1 then return 0 end
  while j < 0 or j >= n do -- REFLECT: mirror at the edges until inside
    if j < 0 then j = -j else j = 2 * (n - 1) - j end
  end
  return j
end

-- Conv of x {C, s...} by w {O, C/g, k...}: stride, pads ({lo, hi} each),
-- dilation, groups, padding mode. Returns values and shape.
local function ref_conv(x, xs, w, ws, b, stride, pads, dil, groups, mode)
  local n = #xs - 1
  local C, O = xs[1], ws[1]
  local Cg, Og = C / groups, O / groups
  local os = { O }
  for i = 1, n do
    os[i + 1] = math.floor((xs[i + 1] + pads[i][1] + pads[i][2] - dil[i] * (ws[i + 2] - 1) - 1)
      / stride[i]) + 1
  end
  local out = {}
  local kshape = { unpack(ws, 3) }
  each_index(os, function(o)
    local oc = o[1]
    local g = math.floor(oc / Og)
    local sum = b and b[oc + 1] or 0
    for cl = 0, Cg - 1 do
      each_index(kshape, function(kk)
        local xi = { g * Cg + cl }
        for i = 1, n do
          local j = source(mode, o[i + 1] * stride[i] + kk[i] * dil[i] - pads[i][1], xs[i + 1])
          if j == nil then return end
          xi[i + 1] = j
        end
        local widx = { oc, cl }
        for i = 1, n do widx[i + 2] = kk[i] end
        sum = sum + w[offset(ws, widx)] * x[offset(xs, xi)]
      end)
    end
    out[offset(os, o)] = sum
  end)
  return out, os
end

-- Transposed conv in scatter form (PyTorch's definition with Equinox's
-- weight {O, C/g, k...} read flipped): input element i reaches output
-- i*s - p0 + (k-1-kk)*d; output size (n-1)s - p0 - p1 + d(k-1) + a + 1.
local function ref_conv_transpose(x, xs, w, ws, b, stride, pads, op, dil, groups)
  local n = #xs - 1
  local C, O = xs[1], ws[1]
  local Cg, Og = C / groups, O / groups
  local os = { O }
  for i = 1, n do
    os[i + 1] = (xs[i + 1] - 1) * stride[i] - pads[i][1] - pads[i][2]
      + dil[i] * (ws[i + 2] - 1) + op[i] + 1
  end
  local out = {}
  each_index(os, function(o) out[offset(os, o)] = b and b[o[1] + 1] or 0 end)
  local kshape = { unpack(ws, 3) }
  each_index(xs, function(xi)
    local ic = xi[1]
    local g = math.floor(ic / Cg)
    for ol = 0, Og - 1 do
      local oc = g * Og + ol
      each_index(kshape, function(kk)
        local t = { oc }
        for i = 1, n do
          t[i + 1] = xi[i + 1] * stride[i] - pads[i][1] + (ws[i + 2] - 1 - kk[i]) * dil[i]
          if t[i + 1] < 0 or t[i + 1] >= os[i + 1] then return end
        end
        local widx = { oc, ic - g * Cg }
        for i = 1, n do widx[i + 2] = kk[i] end
        local at = offset(os, t)
        out[at] = out[at] + w[offset(ws, widx)] * x[offset(xs, xi)]
      end)
    end
  end)
  return out, os
end

-- Max/avg pooling; with use_ceil the output has ceil((n+lo+hi-k)/s) + 1
-- entries and windows past the padded end see only the identity.
local function ref_pool(x, xs, kind, kernel, stride, pads, use_ceil)
  local n = #xs - 1
  local os = { xs[1] }
  for i = 1, n do
    local span = xs[i + 1] + pads[i][1] + pads[i][2] - kernel[i]
    os[i + 1] = (use_ceil and math.ceil(span / stride[i]) or math.floor(span / stride[i])) + 1
  end
  local out = {}
  each_index(os, function(o)
    local acc = kind == "max" and -math.huge or 0
    each_index(kernel, function(kk)
      local xi = { o[1] }
      for i = 1, n do
        local j = o[i + 1] * stride[i] + kk[i] - pads[i][1]
        if j < 0 or j >= xs[i + 1] then return end
        xi[i + 1] = j
      end
      local v = x[offset(xs, xi)]
      if kind == "max" then acc = math.max(acc, v) else acc = acc + v end
    end)
    out[offset(os, o)] = kind == "max" and acc or acc / prod(kernel)
  end)
  return out, os
end

-- Equinox's adaptive bins: the first d % t bins have floor(d/t) + 1
-- elements, the rest floor(d/t); the value is the block's max or mean.
local function ref_adaptive(x, xs, kind, target)
  local n = #xs - 1
  local os = { xs[1], unpack(target) }
  local out = {}
  local function bin(d, t, j)
    local q, h = math.floor(d / t), d % t
    if j < h then return j * (q + 1), q + 1 end
    return h * (q + 1) + (j - h) * q, q
  end
  each_index(os, function(o)
    local starts, sizes = {}, {}
    for i = 1, n do starts[i], sizes[i] = bin(xs[i + 1], target[i], o[i + 1]) end
    local acc, count = kind == "max" and -math.huge or 0, 0
    each_index(sizes, function(kk)
      local xi = { o[1] }
      for i = 1, n do xi[i + 1] = starts[i] + kk[i] end
      local v = x[offset(xs, xi)]
      if kind == "max" then acc = math.max(acc, v) else acc = acc + v end
      count = count + 1
    end)
    out[offset(os, o)] = kind == "max" and acc or acc / count
  end)
  return out, os
end

---------------------------------------------------------------------------

local function values(a) return H.values(a) end

local function input(shape, dtype, seed)
  return jr.normal(jr.PRNGKey(seed or 7), shape, dtype or "float32")
end

local function assert_close(got, want, wshape, tol, what)
  assert.are.same(wshape, got.shape, what .. ": shape")
  local g = values(got)
  assert.are.equal(#want, #g, what .. ": size")
  for i = 1, #want do
    local ok = g[i] == want[i] or math.abs(g[i] - want[i]) <= tol * (1 + math.abs(want[i]))
    if not ok then
      error(("%s: value %d is %.17g, expected %.17g"):format(what, i, g[i], want[i]), 2)
    end
  end
end

local TOL = { float32 = 2e-5, float64 = 1e-12 }

local function pairs_of(p, n)
  if type(p) == "number" then
    local t = {}
    for i = 1, n do t[i] = { p, p } end
    return t
  end
  return p
end

describe("nn.Conv construction", function()
  it("has Equinox's fields, shapes and static fields (1-d, 2-d, 3-d)", function()
    local c1 = nn.Conv1d(3, 4, 5, { key = jr.PRNGKey(0) })
    assert.are.same({ 4, 3, 5 }, c1.weight.shape)
    assert.are.same({ 4, 1 }, c1.bias.shape)
    assert.are.equal("float32", c1.weight.dtype)
    assert.are.equal(1, c1.num_spatial_dims)
    assert.are.same({ 5 }, c1.kernel_size)
    assert.are.same({ 1 }, c1.stride)
    assert.are.same({ { 0, 0 } }, c1.padding)
    assert.are.same({ 1 }, c1.dilation)
    assert.are.equal(1, c1.groups)
    assert.is_true(c1.use_bias)
    assert.are.equal("ZEROS", c1.padding_mode)

    local c2 = nn.Conv2d(4, 6, { 3, 2 }, 2, { 1, 1 }, 1, 2, { key = jr.PRNGKey(1) })
    assert.are.same({ 6, 2, 3, 2 }, c2.weight.shape)
    assert.are.same({ 6, 1, 1 }, c2.bias.shape)
    assert.are.same({ 2, 2 }, c2.stride)
    assert.are.same({ { 1, 1 }, { 1, 1 } }, c2.padding)
    assert.are.equal(2, c2.groups)

    local c3 = nn.Conv3d(2, 3, 2, { use_bias = false, padding = "same", dilation = { 1, 2, 1 },
      padding_mode = "circular", dtype = "float64", key = jr.PRNGKey(2) })
    assert.are.same({ 3, 2, 2, 2, 2 }, c3.weight.shape)
    assert.is_nil(c3.bias)
    assert.is_false(c3.use_bias)
    assert.are.equal("SAME", c3.padding)
    assert.are.equal("CIRCULAR", c3.padding_mode)
    assert.are.same({ 1, 2, 1 }, c3.dilation)
    assert.are.equal("float64", c3.weight.dtype)

    local c = nn.Conv(2, 3, 2, { 2, 3 }, { padding = { { 1, 0 }, { 0, 2 } }, key = jr.PRNGKey(5) })
    assert.are.same({ 2, 3, 2, 3 }, c.weight.shape)
    assert.are.same({ { 1, 0 }, { 0, 2 } }, c.padding)
    assert.are.equal(2, #lx.tree.leaves(c))
    assert.are.equal(1, #lx.tree.leaves(c3))
  end)

  it("ConvTranspose has the same weight layout; 1d/2d/3d take output_padding before padding",
    function()
      local t = nn.ConvTranspose2d(4, 2, 3, 2, 1, 2, 1, 2, { key = jr.PRNGKey(4) })
      assert.are.same({ 2, 2, 3, 3 }, t.weight.shape)
      assert.are.same({ 2, 1, 1 }, t.bias.shape)
      assert.are.same({ 1, 1 }, t.output_padding)
      assert.are.same({ { 2, 2 }, { 2, 2 } }, t.padding)
      -- the generic ConvTranspose takes padding before output_padding
      local g = nn.ConvTranspose(1, 3, 5, 4, 2, 1, 1, { key = jr.PRNGKey(0) })
      assert.are.same({ 5, 3, 4 }, g.weight.shape)
      assert.are.same({ { 1, 1 } }, g.padding)
      assert.are.same({ 1 }, g.output_padding)
      local k = nn.ConvTranspose1d(3, 5, 4, 2, 1, 0, { key = jr.PRNGKey(0) })
      assert.are.same({ 1 }, k.output_padding)
      assert.are.same({ { 0, 0 } }, k.padding)
      -- the same key gives the same weights as Conv with the same shape
      local c = nn.Conv1d(3, 5, 4, { key = jr.PRNGKey(0) })
      assert.are.same(values(c.weight), values(k.weight))
      assert.are.same(values(c.bias), values(k.bias))
      local f = nn.ConvTranspose3d(2, 2, 1, { dtype = "float64", key = jr.PRNGKey(0) })
      assert.are.equal("float64", f.weight.dtype)
    end)
end)

describe("nn.Conv initialisation", function()
  local fixture
  setup(function()
    local f = assert(io.open(S.spec_dir() .. "/fixtures/nn_conv_init.json", "rb"))
    fixture = lx.json.decode(f:read("a"))
    f:close()
  end)
  teardown(function() lx.config.threefry_partitionable = true end)

  it("matches Equinox bit for bit in both key layouts", function()
    assert.is_true(#fixture.cases >= 20)
    for _, case in ipairs(fixture.cases) do
      lx.config.threefry_partitionable = case.partitionable
      local args = { unpack(case.args) }
      args[#args + 1] = { key = jr.PRNGKey(case.seed) }
      local layer = nn[case.layer](unpack(args, 1, #args))
      local what = ("%s seed %d partitionable %s"):format(case.layer, case.seed,
        tostring(case.partitionable))
      assert.are.same(case.weight.shape, layer.weight.shape, what)
      assert.are.same(case.weight.values, values(layer.weight), what .. ": weight")
      if case.bias == lx.none or case.bias == nil then
        assert.is_nil(layer.bias, what)
      else
        assert.are.same(case.bias.shape, layer.bias.shape, what)
        assert.are.same(case.bias.values, values(layer.bias), what .. ": bias")
      end
    end
    lx.config.threefry_partitionable = true
  end)

  it("bounds float64 weights by 1/sqrt(fan_in) and draws them from split(key)", function()
    local c = nn.Conv2d(6, 3, { 2, 3 }, { groups = 3, dtype = "float64", key = jr.PRNGKey(3) })
    local lim = 1 / math.sqrt(2 * 6)
    local wkey, bkey = jr.split(jr.PRNGKey(3)):unpack()
    assert.are.same(values(jr.uniform(wkey, { 3, 2, 2, 3 }, "float64", -lim, lim)),
      values(c.weight))
    assert.are.same(values(jr.uniform(bkey, { 3, 1, 1 }, "float64", -lim, lim)), values(c.bias))
  end)
end)

describe("nn.Conv calls", function()
  local cases = {
    { "1-d", 1, 3, 4, 3, {}, { 3, 9 } },
    { "1-d stride/padding/dilation", 1, 2, 3, 3,
      { stride = 2, padding = { { 2, 1 } }, dilation = 2 }, { 2, 10 } },
    { "1-d groups", 1, 4, 6, 2, { groups = 2, padding = 1 }, { 4, 7 } },
    { "2-d", 2, 2, 3, { 3, 2 }, { stride = { 2, 1 }, padding = { 1, 0 } }, { 2, 6, 5 } },
    { "2-d depthwise dilated", 2, 3, 3, 2, { groups = 3, dilation = { 2, 1 } }, { 3, 5, 4 } },
    { "2-d no bias", 2, 2, 2, 2, { use_bias = false, padding = { { 0, 1 }, { 1, 0 } } },
      { 2, 3, 4 } },
    { "3-d", 3, 2, 2, 2, { stride = { 1, 2, 1 }, padding = 1 }, { 2, 3, 4, 3 } },
  }
  for _, dtype in ipairs({ "float32", "float64" }) do
    for _, c in ipairs(cases) do
      it(c[1] .. " (" .. dtype .. ") matches direct sums", function()
        local name, n, cin, cout, k, o, xs = unpack(c)
        local opts = { key = jr.PRNGKey(11), dtype = dtype }
        for kk, v in pairs(o) do opts[kk] = v end
        local layer = nn.Conv(n, cin, cout, k, opts)
        local x = input(xs, dtype)
        local y = layer(x)
        assert.are.equal(dtype, y.dtype)
        local want, ws = ref_conv(values(x), xs, values(layer.weight), layer.weight.shape,
          layer.bias and values(layer.bias), layer.stride, pairs_of(layer.padding, n),
          layer.dilation, layer.groups, "ZEROS")
        assert_close(y, want, ws, TOL[dtype], name)
        -- Conv1d/2d/3d compute the same
        local fixed = nn["Conv" .. n .. "d"](cin, cout, k, opts)
        assert.are.same(values(y), values(fixed(x, { key = jr.PRNGKey(0) })))
      end)
    end
  end

  it("pads SAME and SAME_LOWER as lax.padtype_to_pads", function()
    -- input 7, kernel 4, stride 2: 4 outputs, total padding 3
    for _, case in ipairs({ { "SAME", { { 1, 2 } } }, { "same_lower", { { 2, 1 } } },
      { "VALID", { { 0, 0 } } } }) do
      local a = nn.Conv1d(2, 3, 4, 2, case[1], { key = jr.PRNGKey(1) })
      local b = nn.Conv1d(2, 3, 4, 2, case[2], { key = jr.PRNGKey(1) })
      local x = input({ 2, 7 })
      assert.are.same(values(b(x)), values(a(x)), case[1])
    end
    local s = nn.Conv2d(1, 1, 3, 1, "SAME", { dilation = 2, key = jr.PRNGKey(1) })
    assert.are.same({ 1, 5, 6 }, s(input({ 1, 5, 6 })).shape)
  end)

  for _, mode in ipairs({ "REFLECT", "REPLICATE", "CIRCULAR" }) do
    it("pads in mode " .. mode .. " as jnp.pad (explicit and SAME padding)", function()
      local layer = nn.Conv2d(2, 3, { 3, 2 }, { padding = { { 2, 1 }, { 1, 3 } },
        padding_mode = mode:lower(), stride = { 1, 2 }, key = jr.PRNGKey(4) })
      local xs = { 2, 4, 3 }
      local x = input(xs)
      local want, ws = ref_conv(values(x), xs, values(layer.weight), layer.weight.shape,
        values(layer.bias), layer.stride, layer.padding, layer.dilation, 1, mode)
      assert_close(layer(x), want, ws, TOL.float32, mode)
      -- SAME with stride 2 on 5 (3 outputs, padding 1 + 1 for kernel 3)
      local same = nn.Conv1d(1, 1, 3, 2, "SAME", { padding_mode = mode, key = jr.PRNGKey(2) })
      local x1 = input({ 1, 5 })
      local w1, s1 = ref_conv(values(x1), { 1, 5 }, values(same.weight), same.weight.shape,
        values(same.bias), { 2 }, { { 1, 1 } }, { 1 }, 1, mode)
      assert_close(same(x1), w1, s1, TOL.float32, mode .. " SAME")
    end)
  end

  it("reflects repeatedly when the padding is wider than the input", function()
    local layer = nn.Conv1d(1, 1, 1, { padding = 5, padding_mode = "REFLECT", use_bias = false,
      key = jr.PRNGKey(0) })
    local w = values(layer.weight)[1]
    local y = values(layer(lx.array({ { 1, 2, 3 } })))
    -- jnp.pad([1, 2, 3], 5, "reflect") = 2 1 2 3 2 1 2 3 2 1 2 3 2
    local want = { 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2 }
    for i = 1, #want do assert.is_true(math.abs(y[i] - w * want[i]) < 1e-6) end
  end)
end)

describe("nn.ConvTranspose calls", function()
  local cases = {
    { "1-d", 1, 2, 3, 3, {}, { 2, 4 } },
    { "1-d stride, padding, output_padding", 1, 2, 2, 4,
      { stride = 3, padding = { { 1, 2 } }, output_padding = 2 }, { 2, 4 } },
    { "1-d dilation, groups", 1, 4, 2, 2, { dilation = 2, groups = 2, stride = 2 }, { 4, 3 } },
    { "2-d", 2, 2, 3, { 3, 2 }, { stride = { 2, 1 }, padding = { 1, 0 }, output_padding = { 1, 0 } },
      { 2, 3, 4 } },
    { "3-d", 3, 2, 2, 2, { stride = 2, padding = { { 1, 0 }, 0, { 0, 1 } } }, { 2, 2, 3, 2 } },
  }
  for _, dtype in ipairs({ "float32", "float64" }) do
    for _, c in ipairs(cases) do
      it(c[1] .. " (" .. dtype .. ") matches the scatter form", function()
        local name, n, cin, cout, k, o, xs = unpack(c)
        local opts = { key = jr.PRNGKey(12), dtype = dtype }
        for kk, v in pairs(o) do opts[kk] = v end
        if type(opts.padding) == "table" then
          -- mixed forms are not Equinox's: spell every entry as a pair
          local p = {}
          for i, v in ipairs(opts.padding) do p[i] = type(v) == "table" and v or { v, v } end
          opts.padding = p
        end
        local layer = nn.ConvTranspose(n, cin, cout, k, opts)
        local x = input(xs, dtype)
        local y = layer(x)
        local want, ws = ref_conv_transpose(values(x), xs, values(layer.weight),
          layer.weight.shape, values(layer.bias), layer.stride, layer.padding,
          layer.output_padding, layer.dilation, layer.groups)
        assert_close(y, want, ws, TOL[dtype], name)
      end)
    end
  end

  it("is the adjoint of Conv with the flipped, swapped weight", function()
    -- Conv B -> A with weight W; ConvTranspose A -> B with
    -- W_T[g*Bg + b, a, k] = W[g*Ag + a, b, K-1-k]
    local configs = {
      { 1, 2, 3, { 3 }, { 2 }, { { 1, 2 } }, { 1 }, 1, { 9 } },
      { 1, 4, 2, { 2 }, { 3 }, { { 0, 1 } }, { 2 }, 2, { 11 } },
      { 2, 2, 4, { 3, 2 }, { 2, 1 }, { { 1, 1 }, { 0, 1 } }, { 1, 2 }, 2, { 7, 6 } },
      { 3, 2, 2, { 2, 2, 1 }, { 2, 1, 2 }, { { 1, 0 }, { 0, 0 }, { 1, 1 } }, { 1, 1, 1 }, 1,
        { 4, 3, 5 } },
    }
    for ci, c in ipairs(configs) do
      local n, B, A, k, s, p, d, g, sizes = unpack(c)
      local conv = nn.Conv(n, B, A, k, s, p, d, g, false, { key = jr.PRNGKey(ci) })
      local xs = { B, unpack(sizes) }
      local x = input(xs, "float32", ci)
      local cx = conv(x)
      local op = {}
      for i = 1, n do
        op[i] = (sizes[i] + p[i][1] + p[i][2] - d[i] * (k[i] - 1) - 1) % s[i]
      end
      local ct = nn.ConvTranspose(n, A, B, k, s, p, op, d, g, false, { key = jr.PRNGKey(99) })
      local W, Ws = values(conv.weight), conv.weight.shape
      local WT, WTs = {}, ct.weight.shape
      local Ag, Bg = A / g, B / g
      each_index(WTs, function(idx)
        local grp = math.floor(idx[1] / Bg)
        local src = { grp * Ag + idx[2], idx[1] - grp * Bg }
        for i = 1, n do src[i + 2] = k[i] - 1 - idx[i + 2] end
        WT[offset(WTs, idx)] = W[offset(Ws, src)]
      end)
      ct = lx.tree_at(function(m) return m.weight end, ct, lx.array(WT, "float32"):reshape(WTs))
      local y = input(cx.shape, "float32", ci + 50)
      local cty = ct(y)
      assert.are.same(xs, cty.shape, "config " .. ci)
      local lhs = lx.sum(cx * y):item()
      local rhs = lx.sum(x * cty):item()
      assert.is_true(math.abs(lhs - rhs) <= 1e-4 * (1 + math.abs(lhs)),
        ("config %d: <conv x, y> = %.9g but <x, convT y> = %.9g"):format(ci, lhs, rhs))
    end
  end)

  it("gives input * stride - output_padding outputs with SAME, as Equinox", function()
    for _, case in ipairs({ { 3, 2, 0 }, { 4, 2, 1 }, { 3, 3, 2 }, { 1, 3, 1 } }) do
      local k, s, a = unpack(case)
      local t = nn.ConvTranspose1d(1, 1, k, s, a, "SAME", { key = jr.PRNGKey(0) })
      local y = t(input({ 1, 5 }))
      local want = 5 * s - a -- whether or not d(k-1) - s + a + 1 < 0
      assert.are.same({ 1, want }, y.shape, "k=" .. k .. " s=" .. s .. " a=" .. a)
    end
    -- SAME_LOWER puts the odd element of padding first (k 3, s 2: p_sum 1)
    local lo = nn.ConvTranspose1d(1, 1, 3, 2, 0, "SAME_LOWER", { key = jr.PRNGKey(3) })
    local up = nn.ConvTranspose1d(1, 1, 3, 2, 0, "SAME", { key = jr.PRNGKey(3) })
    local x = input({ 1, 4 })
    local want_lo = ref_conv_transpose(values(x), { 1, 4 }, values(lo.weight), lo.weight.shape,
      values(lo.bias), { 2 }, { { 1, 0 } }, { 0 }, { 1 }, 1)
    local want_up = ref_conv_transpose(values(x), { 1, 4 }, values(up.weight), up.weight.shape,
      values(up.bias), { 2 }, { { 0, 1 } }, { 0 }, { 1 }, 1)
    assert_close(lo(x), want_lo, { 1, 8 }, TOL.float32, "SAME_LOWER")
    assert_close(up(x), want_up, { 1, 8 }, TOL.float32, "SAME")
  end)

  it("wraps the input for padding_mode CIRCULAR as Equinox's _circular_pad", function()
    -- stride 1: Equinox wraps all of the transposed padding, so the result
    -- is a circular convolution with the flipped kernel
    local t = nn.ConvTranspose1d(1, 1, 3, 1, 0, "SAME", { padding_mode = "CIRCULAR",
      use_bias = false, key = jr.PRNGKey(5) })
    local w = values(t.weight)
    local xv = { 1, 2, 3, 4, 5 }
    local y = values(t(lx.array({ xv })))
    for i = 0, 4 do
      local want = 0
      for kk = 0, 2 do want = want + w[kk + 1] * xv[(i + kk - 1) % 5 + 1] end
      assert.is_true(math.abs(y[i + 1] - want) < 1e-5, "position " .. i)
    end
    -- any stride: the adjoint of the circular SAME Conv with the flipped
    -- kernel (input sizes divisible by the stride)
    for _, cfg in ipairs({ { 3, 2, 10 }, { 4, 2, 10 }, { 2, 2, 8 }, { 4, 4, 8 }, { 5, 3, 12 } }) do
      local kk, s, n = unpack(cfg)
      local c = nn.Conv1d(1, 1, kk, s, "SAME", { padding_mode = "CIRCULAR", use_bias = false,
        key = jr.PRNGKey(kk) })
      local t2 = nn.ConvTranspose1d(1, 1, kk, s, 0, "SAME", { padding_mode = "CIRCULAR",
        use_bias = false, key = jr.PRNGKey(6) })
      local cw, flipped = values(c.weight), {}
      for i = 1, kk do flipped[i] = cw[kk + 1 - i] end
      t2 = lx.tree_at(function(m) return m.weight end, t2, lx.array(flipped):reshape({ 1, 1, kk }))
      local x = input({ 1, n }, "float32", n)
      local cx = c(x)
      local y = input(cx.shape, "float32", n + 1)
      local ty = t2(y)
      assert.are.same({ 1, n }, ty.shape)
      local lhs, rhs = lx.sum(cx * y):item(), lx.sum(x * ty):item()
      assert.is_true(math.abs(lhs - rhs) <= 1e-5 * (1 + math.abs(lhs)),
        ("k %d s %d n %d: %.9g vs %.9g"):format(kk, s, n, lhs, rhs))
    end
  end)
end)

describe("nn pools", function()
  local cases = {
    { "MaxPool1d", "max", { 3 }, {}, { 2, 8 } },
    { "MaxPool1d", "max", { 3 }, { 2, 1 }, { 2, 8 } },
    { "MaxPool2d", "max", { 2, 3 }, { { 2, 1 }, { { 1, 0 }, { 0, 2 } } }, { 2, 5, 6 } },
    { "MaxPool3d", "max", { 2, 2, 1 }, { 1, 1 }, { 1, 3, 4, 2 } },
    { "AvgPool1d", "avg", { 3 }, { 2, 1 }, { 3, 8 } },
    { "AvgPool2d", "avg", { 3, 2 }, { { 2, 2 }, 1 }, { 2, 5, 4 } },
    { "AvgPool3d", "avg", { 2, 1, 2 }, { 1, { 1, 0, { 0, 1 } } }, { 1, 3, 2, 4 } },
  }
  for _, dtype in ipairs({ "float32", "float64" }) do
    for _, ceil in ipairs({ false, true }) do
      for ci, c in ipairs(cases) do
        it(("%s case %d, use_ceil %s (%s)"):format(c[1], ci, tostring(ceil), dtype), function()
          local name, kind, kernel, rest, xs = unpack(c)
          local n = #kernel
          local stride, padding = rest[1] or 1, rest[2] or 0
          if type(padding) == "table" and type(padding[1]) ~= "table" and #padding == n then
            local mixed = false
            for _, v in ipairs(padding) do mixed = mixed or type(v) == "table" end
            if mixed then
              local p = {}
              for i, v in ipairs(padding) do p[i] = type(v) == "table" and v or { v, v } end
              padding = p
            end
          end
          local pool = nn[name](#kernel == 1 and kernel[1] or kernel, stride, padding, ceil)
          local x = input(xs, dtype)
          local y = pool(x)
          local st = type(stride) == "table" and stride or {}
          for i = 1, n do st[i] = st[i] or stride end
          local pads = {}
          for i = 1, n do
            local p = type(padding) == "table" and padding[i] or padding
            pads[i] = type(p) == "table" and p or { p, p }
          end
          local want, ws = ref_pool(values(x), xs, kind, kernel, st, pads, ceil)
          assert.are.equal(dtype, y.dtype)
          assert_close(y, want, ws, TOL[dtype], name)
        end)
      end
    end
  end

  it("has Equinox's fields and defaults (stride 1, padding 0, use_ceil false)", function()
    local m = nn.MaxPool2d(3)
    assert.are.equal(-math.huge, m.initial)
    assert.are.equal(lx.maximum, m.operation)
    assert.are.same({ 3, 3 }, m.kernel_size)
    assert.are.same({ 1, 1 }, m.stride)
    assert.are.same({ { 0, 0 }, { 0, 0 } }, m.padding)
    assert.is_false(m.use_ceil)
    local a = nn.AvgPool1d(2, { stride = 2, use_ceil = true })
    assert.are.equal(0, a.initial)
    assert.are.equal(lx.add, a.operation)
    assert.are.same({ 2 }, a.stride)
    assert.is_true(a.use_ceil)
    assert.are.same({ 3, 3 }, a(input({ 3, 5 })).shape)
    -- the generic Pool with lax.max / lax.add's lunox twins
    local p = nn.Pool(-math.huge, lx.maximum, 2, 2, 2)
    local x = input({ 2, 4, 4 })
    assert.are.same(values(nn.MaxPool2d(2, 2)(x)), values(p(x)))
    local s = nn.Pool(0, lx.add, 1, 2)
    assert.are.same(values(nn.AvgPool1d(2)(x[1]) * 2), values(s(x[1])))
  end)

  it("AvgPool divides by the full window, padding included", function()
    local y = nn.AvgPool1d(3, 2, 1)(lx.array({ { 1, 2, 3, 4, 5 } }))
    H.check_list(y, { { 1, 3, 3 } }, "float32", { rtol = 1e-6 })
  end)

  it("adaptive pools follow Equinox's bins (the first d % t bins one longer)", function()
    H.check_list(nn.AdaptiveMaxPool1d(3)(lx.array({ { 1, 5, 2, 8, 3, 0, 7 } })),
      { { 5, 8, 7 } }, "float32")
    H.check_list(nn.AdaptiveAvgPool1d(3)(lx.array({ { 1, 5, 2, 8, 3, 0, 7 } })),
      { { 8 / 3, 5.5, 3.5 } }, "float32", { rtol = 1e-6 })
    local cases = {
      { 1, { 2, 9 }, { 4 } }, { 1, { 1, 6 }, { 3 } }, { 1, { 2, 5 }, { 5 } },
      { 2, { 2, 7, 5 }, { 3, 2 } }, { 2, { 1, 4, 6 }, { 4, 1 } },
      { 3, { 2, 5, 3, 4 }, { 2, 3, 3 } },
    }
    for _, dtype in ipairs({ "float32", "float64" }) do
      for ci, c in ipairs(cases) do
        local n, xs, target = unpack(c)
        local x = input(xs, dtype, ci)
        for _, kind in ipairs({ "max", "avg" }) do
          local cls = nn[(kind == "max" and "AdaptiveMaxPool" or "AdaptiveAvgPool") .. n .. "d"]
          local layer = cls(#target == 1 and target[1] or target)
          assert.are.same(target, layer.target_shape)
          local want, ws = ref_adaptive(values(x), xs, kind, target)
          assert_close(layer(x), want, ws, TOL[dtype], kind .. " case " .. ci)
        end
      end
    end
    local g = nn.AdaptivePool({ 2, 2 }, 2, lx.max)
    local x = input({ 1, 4, 4 })
    assert.are.same(values(nn.AdaptiveMaxPool2d(2)(x)), values(g(x)))
  end)
end)

describe("nn conv and pool errors", function()
  local k = jr.PRNGKey(0)
  it("raise on bad constructor arguments, naming the layer and the value", function()
    H.raises({ "Conv2d", "PRNG key is required" }, function() return nn.Conv2d(2, 3, 3) end)
    H.raises({ "Conv1d", "in_channels", "0" }, function() return nn.Conv1d(0, 3, 3, { key = k }) end)
    H.raises({ "Conv1d", "out_channels", "-2" },
      function() return nn.Conv1d(2, -2, 3, { key = k }) end)
    H.raises({ "Conv2d", "kernel_size", "{3,0}" },
      function() return nn.Conv2d(2, 3, { 3, 0 }, { key = k }) end)
    H.raises({ "Conv2d", "kernel_size", "list of 2", "length 3" },
      function() return nn.Conv2d(2, 3, { 3, 3, 3 }, { key = k }) end)
    H.raises({ "Conv3d", "kernel_size is required" }, function() return nn.Conv3d(2, 3, { key = k }) end)
    H.raises({ "Conv1d", "stride", "0" }, function() return nn.Conv1d(2, 3, 3, 0, { key = k }) end)
    H.raises({ "Conv1d", "dilation", "1.5" },
      function() return nn.Conv1d(2, 3, 3, { dilation = 1.5, key = k }) end)
    H.raises({ "Conv2d", "groups (=2)", "in_channels (=3)" },
      function() return nn.Conv2d(3, 4, 3, { groups = 2, key = k }) end)
    H.raises({ "Conv2d", "groups (=2)", "out_channels (=3)" },
      function() return nn.Conv2d(4, 3, 3, { groups = 2, key = k }) end)
    H.raises({ "ConvTranspose1d", "groups (=3)" },
      function() return nn.ConvTranspose1d(3, 4, 3, { groups = 3, key = k }) end)
    H.raises({ "Conv1d", "groups", "0" }, function() return nn.Conv1d(2, 2, 3, { groups = 0, key = k }) end)
    H.raises({ "Conv2d", "padding", '"SAME"', "full" },
      function() return nn.Conv2d(2, 3, 3, { padding = "full", key = k }) end)
    H.raises({ "Conv2d", "padding", "{1,2,3}" },
      function() return nn.Conv2d(2, 3, 3, { padding = { 1, 2, 3 }, key = k }) end)
    H.raises({ "Conv2d", "padding", "{{1,2},{3}}" },
      function() return nn.Conv2d(2, 3, 3, { padding = { { 1, 2 }, { 3 } }, key = k }) end)
    H.raises({ "Conv2d", "padding" },
      function() return nn.Conv2d(2, 3, 3, { padding = { { 1, 2 }, 3 }, key = k }) end)
    H.raises({ "Conv1d", "padding_mode", "MIRROR" },
      function() return nn.Conv1d(2, 3, 3, { padding_mode = "MIRROR", key = k }) end)
    H.raises({ "Conv1d", "use_bias must be a boolean" },
      function() return nn.Conv1d(2, 3, 3, { use_bias = 1, key = k }) end)
    H.raises({ "Conv1d", "dtype", "int32" },
      function() return nn.Conv1d(2, 3, 3, { dtype = "int32", key = k }) end)
    H.raises({ "Conv1d", "unknown option 'strides'" },
      function() return nn.Conv1d(2, 3, 3, { strides = 2, key = k }) end)
    H.raises({ "Conv", "num_spatial_dims", "0" }, function() return nn.Conv(0, 2, 3, 3, { key = k }) end)
    H.raises({ "ConvTranspose2d", "output_padding must be < stride", "{0,2}", "{1,2}" },
      function() return nn.ConvTranspose2d(2, 3, 3, { 1, 2 }, { 0, 2 }, { key = k }) end)
    H.raises({ "ConvTranspose1d", "REFLECT is not implemented" },
      function() return nn.ConvTranspose1d(2, 3, 3, { padding_mode = "reflect", key = k }) end)
    H.raises({ "ConvTranspose1d", "CIRCULAR needs output_padding 0" },
      function()
        return nn.ConvTranspose1d(2, 3, 3, 2, 1, "SAME", { padding_mode = "circular", key = k })
      end)
    H.raises({ "ConvTranspose1d", 'CIRCULAR needs padding "SAME"' },
      function() return nn.ConvTranspose1d(2, 3, 3, { padding_mode = "circular", key = k }) end)
    H.raises({ "MaxPool2d", "kernel_size", "-1" }, function() return nn.MaxPool2d(-1) end)
    H.raises({ "AvgPool1d", "stride", "0" }, function() return nn.AvgPool1d(2, 0) end)
    H.raises({ "MaxPool1d", "padding", ">= 0", "-1" }, function() return nn.MaxPool1d(2, 1, -1) end)
    H.raises({ "MaxPool1d", "padding", "SAME" }, function() return nn.MaxPool1d(2, 1, "SAME") end)
    H.raises({ "MaxPool2d", "padding must not exceed the kernel size", "{3,3}" },
      function() return nn.MaxPool2d(2, 1, 3) end)
    H.raises({ "Pool", "operation must be lx.maximum or lx.add" },
      function() return nn.Pool(0, lx.mul, 1, 2) end)
    H.raises({ "Pool", "init must be the identity", "-inf" },
      function() return nn.Pool(0, lx.maximum, 1, 2) end)
    H.raises({ "AdaptiveAvgPool2d", "target_shape", "{2,0}" },
      function() return nn.AdaptiveAvgPool2d({ 2, 0 }) end)
    H.raises({ "AdaptiveMaxPool3d", "target_shape", "length 2" },
      function() return nn.AdaptiveMaxPool3d({ 2, 2 }) end)
    H.raises({ "AdaptivePool", "operation must be a function" },
      function() return nn.AdaptivePool(2, 1, "mean") end)
  end)

  it("raise on bad inputs", function()
    local c = nn.Conv2d(3, 4, 3, { key = k })
    H.raises({ "Conv2d(3 -> 4, kernel_size={3,3})", "rank 3", "no batch axis", "{1,3,5,5}" },
      function() return c(lx.zeros({ 1, 3, 5, 5 })) end)
    H.raises({ "Conv2d(3 -> 4", "3 channels", "{2,5,5}" }, function() return c(lx.zeros({ 2, 5, 5 })) end)
    H.raises({ "Conv2d", "must be an array", "table" }, function() return c({ 1, 2 }) end)
    H.raises({ "Conv2d", "unknown call option 'inference'" },
      function() return c(lx.zeros({ 3, 5, 5 }), { inference = true }) end)
    H.raises({ "conv", "output size" }, function() return c(lx.zeros({ 3, 2, 5 })) end)
    local t = nn.ConvTranspose1d(2, 3, 3, { key = k })
    H.raises({ "ConvTranspose1d(2 -> 3", "2 channels", "{3,4}" }, function() return t(lx.zeros({ 3, 4 })) end)
    local r = nn.Conv1d(1, 1, 3, { padding = -1, padding_mode = "REPLICATE", key = k })
    H.raises({ "Conv1d", "REPLICATE needs non-negative padding" },
      function() return r(lx.zeros({ 1, 6 })) end)
    local m = nn.MaxPool2d(2)
    H.raises({ "MaxPool2d", "rank 3", "{4,4}" }, function() return m(lx.zeros({ 4, 4 })) end)
    -- Equinox's check after use_ceil's extra stride of padding
    local a = nn.AvgPool1d(2, 2, 1, true)
    H.raises({ "AvgPool1d", "padding must not exceed the kernel size", "{1,3}" },
      function() return a(lx.zeros({ 1, 5 })) end)
    local ad = nn.AdaptiveAvgPool1d(4)
    H.raises({ "AdaptiveAvgPool1d", "size 3", "target size 4" }, function() return ad(lx.zeros({ 1, 3 })) end)
    H.raises({ "AdaptiveAvgPool1d", "rank 2" }, function() return ad(lx.zeros({ 8 })) end)
  end)
end)

describe("nn conv layers as pytrees", function()
  it("build abstractly under filter_eval_shape", function()
    local shapes = lx.filter_eval_shape(function(key)
      return nn.ConvTranspose3d(4, 2, { 1, 2, 3 }, { groups = 2, key = key })
    end, jr.PRNGKey(0))
    assert.is_true(lx.is_shape_dtype_struct(shapes.weight))
    assert.are.same({ 2, 2, 1, 2, 3 }, shapes.weight.shape)
    assert.are.same({ 2, 1, 1, 1 }, shapes.bias.shape)
    assert.are.equal("float32", shapes.weight.dtype)
    assert.are.same({ 1, 2, 3 }, shapes.kernel_size)
    local conv = nn.Conv2d(3, 5, 3, 2, 1, { padding_mode = "REFLECT", key = jr.PRNGKey(0) })
    local out = { lx.filter_eval_shape(function(m)
      local y = m(lx.zeros({ 3, 9, 8 }))
      return y, nn.AvgPool2d(2, 1, 1, true)(y), nn.AdaptiveMaxPool2d({ 3, 2 })(y),
        nn.ConvTranspose2d(5, 2, 3, 2, 1, { key = jr.PRNGKey(1) })(y)
    end, conv) }
    assert.are.same({ 5, 5, 4 }, out[1].shape)
    assert.are.same({ 5, 6, 5 }, out[2].shape)
    assert.are.same({ 5, 3, 2 }, out[3].shape)
    assert.are.same({ 2, 12, 10 }, out[4].shape)
  end)

  it("round-trip through tree_serialise_leaves / tree_deserialise_leaves", function()
    local model = { nn.Conv2d(2, 3, 3, { key = jr.PRNGKey(1) }), nn.MaxPool2d(2),
      nn.ConvTranspose1d(3, 2, 2, { use_bias = false, dtype = "float64", key = jr.PRNGKey(2) }),
      nn.AdaptiveAvgPool2d(2) }
    local f = lx.BytesIO()
    lx.tree_serialise_leaves(f, model)
    local like = { nn.Conv2d(2, 3, 3, { key = jr.PRNGKey(7) }), nn.MaxPool2d(2),
      nn.ConvTranspose1d(3, 2, 2, { use_bias = false, dtype = "float64", key = jr.PRNGKey(8) }),
      nn.AdaptiveAvgPool2d(2) }
    assert.are_not.same(values(model[1].weight), values(like[1].weight))
    f:seek("set", 0)
    local back = lx.tree_deserialise_leaves(f, like)
    assert.is_true(lx.tree_equal(model, back))
    assert.are.same(values(model[1].weight), values(back[1].weight))
    assert.are.same(values(model[3].weight), values(back[3].weight))
    assert.are.equal("float64", back[3].weight.dtype)
    assert.are.equal(-math.huge, back[2].initial)
    local x = input({ 2, 6, 6 })
    assert.are.same(values(model[1](x)), values(back[1](x)))
  end)

  it("take tree_at surgery on one field", function()
    local c = nn.Conv1d(2, 3, 2, { key = jr.PRNGKey(0) })
    local zero = lx.zeros({ 3, 1 })
    local c2 = lx.tree_at(function(m) return m.bias end, c, zero)
    assert.are.same(values(c.weight), values(c2.weight))
    assert.are.same({ 0, 0, 0 }, values(c2.bias))
    assert.is_true(values(c.bias)[1] ~= 0)
    local x = input({ 2, 5 })
    local nobias = nn.Conv1d(2, 3, 2, { use_bias = false, key = jr.PRNGKey(0) })
    nobias = lx.tree_at(function(m) return m.weight end, nobias, c.weight)
    assert.are.same(values(nobias(x)), values(c2(x)))
    H.raises("tree_at", function() c.weight = zero end)
  end)
end)
