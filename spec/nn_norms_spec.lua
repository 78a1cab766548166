-- lx.nn's "norms" group: LayerNorm, RMSNorm, GroupNorm, BatchNorm, Embedding
-- and PReLU. Construction is checked against Equinox's fields and initial
-- values (Embedding's normal draws against spec/fixtures/nn_norms_init.json,
-- made by make_nn_norms_fixtures.py independently of lunox); calls against
-- references computed here in plain Lua from :tolist() values.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local nn, jr = lx.nn, lx.random
local raises = H.raises

-- Values exactly representable in float16 and bfloat16.
local VALS = { 0.5, -1.25, 2, 3.75, -0.5, 1, 0.25, -2.5, 1.5, 0, -0.75, 2.25 }

local function vals(n, offset)
  local out = {}
  for i = 1, n do out[i] = VALS[(i + (offset or 0) - 1) % #VALS + 1] end
  return out
end

local flat = H.values

local TOL = { float32 = { 2e-6, 2e-6 }, float64 = { 1e-12, 1e-12 },
  float16 = { 2e-3, 2e-3 }, bfloat16 = { 1.6e-2, 1.6e-2 } }

local function assert_close(got, want, dtype, label)
  local t = TOL[dtype or "float32"]
  assert.are.equal(#want, #got, (label or "") .. ": length")
  for i = 1, #want do
    local g, w = got[i], want[i]
    if math.abs(g - w) > t[2] + t[1] * math.abs(w) then
      error(("%s: element %d is %.9g, expected %.9g (%s)"):format(label or "values", i, g, w,
        dtype or "float32"), 2)
    end
  end
end

local function all_equal(list, v)
  for _, x in ipairs(list) do
    if x ~= v then return false end
  end
  return true
end

-- (x - mean) / sqrt(var + eps) of a flat list, var = mean((x - mean)^2).
local function ref_standardise(x, eps)
  local n, s = #x, 0
  for i = 1, n do s = s + x[i] end
  local mean = s / n
  local v = 0
  for i = 1, n do v = v + (x[i] - mean) ^ 2 end
  v = v / n
  local out = {}
  for i = 1, n do out[i] = (x[i] - mean) / math.sqrt(v + eps) end
  return out, mean, v
end

local function affine(x, w, b)
  local out = {}
  for i = 1, #x do out[i] = x[i] * (w and w[i] or 1) + (b and b[i] or 0) end
  return out
end

local function set(model, field, value)
  return lx.tree_at(function(m) return m[field] end, model, value)
end

-------------------------------------------------------------------------------
describe("nn.LayerNorm", function()
  it("has Equinox's fields: weight ones, bias zeros of shape, static hyperparameters", function()
    local ln = nn.LayerNorm({ 2, 3 })
    assert.are.same({ 2, 3 }, ln.weight.shape)
    assert.are.equal("float32", ln.weight.dtype)
    assert.is_true(all_equal(flat(ln.weight), 1))
    assert.is_true(all_equal(flat(ln.bias), 0))
    assert.are.same({ 2, 3 }, ln.shape)
    assert.are.equal(1e-5, ln.eps)
    assert.is_true(ln.use_weight and ln.use_bias)
    assert.are.equal(2, #lx.tree.leaves(ln))
    -- an integer shape is a 1-tuple, as in Equinox
    assert.are.same({ 4 }, nn.LayerNorm(4).shape)
    assert.are.same({ 4 }, nn.LayerNorm(4).bias.shape)
    -- a scalar shape
    assert.are.same({}, nn.LayerNorm({}).weight.shape)
    assert.are.equal("PyTreeDef(LayerNorm(weight=*, bias=*, shape={2, 3}, eps=1e-05, "
      .. "use_weight=true, use_bias=true))", tostring(lx.tree.structure(ln)))
  end)

  it("takes use_weight, use_bias, dtype positionally or as options", function()
    local ln = nn.LayerNorm(3, 1e-3, false, true, "float64")
    assert.is_nil(ln.weight)
    assert.are.equal("float64", ln.bias.dtype)
    assert.are.equal(1e-3, ln.eps)
    local ln2 = nn.LayerNorm({ 3 }, { use_bias = false, dtype = "bfloat16" })
    assert.is_nil(ln2.bias)
    assert.are.equal("bfloat16", ln2.weight.dtype)
    local ln3 = nn.LayerNorm(3, { elementwise_affine = false })
    assert.is_nil(ln3.weight)
    assert.is_nil(ln3.bias)
    assert.is_false(ln3.use_weight)
    assert.are.equal("float16", nn.LayerNorm({ shape = { 2 }, dtype = "float16" }).weight.dtype)
  end)

  it("normalises the whole input, then applies weight and bias (float32, float64)", function()
    for _, dt in ipairs({ "float32", "float64" }) do
      local ln = nn.LayerNorm({ 2, 3 }, 1e-5, true, true, dt)
      local w, b = vals(6, 3), vals(6, 7)
      ln = set(ln, "weight", lx.array(w, dt):reshape({ 2, 3 }))
      ln = set(ln, "bias", lx.array(b, dt):reshape({ 2, 3 }))
      local x = vals(6)
      local y = ln(lx.array(x, dt):reshape({ 2, 3 }))
      assert.are.equal(dt, y.dtype)
      assert.are.same({ 2, 3 }, y.shape)
      assert_close(flat(y), affine(ref_standardise(x, 1e-5), w, b), dt, "LayerNorm " .. dt)
    end
  end)

  it("computes 16-bit inputs in float32 and returns their dtype", function()
    for _, dt in ipairs({ "float16", "bfloat16" }) do
      local x = vals(5, 2)
      local y = nn.LayerNorm(5, 0.1)(lx.array(x, dt))
      assert.are.equal(dt, y.dtype)
      assert_close(flat(y), ref_standardise(x, 0.1), dt, "LayerNorm " .. dt)
    end
  end)

  it("without weight or bias is the plain standardisation; eps sits inside the sqrt", function()
    local x = { 1, 1, 1, 1 }
    -- zero variance: (x - mean) * rsqrt(0 + eps) is 0
    assert.is_true(all_equal(flat(nn.LayerNorm(4, { elementwise_affine = false })(
      lx.array(x))), 0))
    local x2 = { 1, -1 }
    local y = nn.LayerNorm(2, 3, false, false)(lx.array(x2))
    assert_close(flat(y), { 1 / 2, -1 / 2 }, "float32", "eps inside sqrt") -- 1/sqrt(1+3)
  end)

  it("passes a State through unchanged, as Equinox's interchangeability with BatchNorm",
    function()
      local _, state = nn.make_with_state(nn.BatchNorm)(2, "batch")
      local ln = nn.LayerNorm(3)
      local y, s = ln(lx.array({ 1, 2, 3 }), state)
      assert.are.equal(state, s)
      assert.are.same(flat(ln(lx.array({ 1, 2, 3 }))), flat(y))
      local y2 = ln(lx.array({ 1, 2, 3 }), { key = jr.PRNGKey(0) }) -- key ignored
      assert.are.same(flat(y), flat(y2))
    end)

  it("raises on bad arguments and inputs", function()
    raises({ "LayerNorm({3})", "expected an input of shape {3}, got {2,3}" },
      nn.LayerNorm(3), lx.zeros({ 2, 3 }))
    raises({ "LayerNorm({2,3})", "expected an input of shape {2,3}, got {3}" },
      nn.LayerNorm({ 2, 3 }), lx.zeros({ 3 }))
    raises("LayerNorm({3}): the input must be an array, got table", nn.LayerNorm(3), { 1, 2, 3 })
    raises("LayerNorm: shape[2] must be an integer >= 0, got -1", nn.LayerNorm, { 2, -1 })
    raises("LayerNorm: shape must be an integer or a list of integers, got 1.5",
      nn.LayerNorm, 1.5)
    raises("LayerNorm: eps must be a finite number >= 0, got -1", nn.LayerNorm, 3, -1)
    raises("LayerNorm: use_bias must be a boolean, got number", nn.LayerNorm, 3, 1e-5, true, 1)
    raises("LayerNorm: dtype must be a float dtype", nn.LayerNorm, 3, { dtype = "int32" })
    raises("LayerNorm: unknown option 'use_weights'", nn.LayerNorm, 3, { use_weights = false })
    raises("LayerNorm: 'eps' given both as an argument and as an option", nn.LayerNorm, 3,
      1e-3, { eps = 1e-4 })
    raises("LayerNorm({3}): unknown call option 'inference'", nn.LayerNorm(3),
      lx.zeros({ 3 }), { inference = true })
  end)
end)

-------------------------------------------------------------------------------
describe("nn.RMSNorm", function()
  it("has Equinox's fields (use_bias defaults to true, as Equinox)", function()
    local r = nn.RMSNorm(4)
    assert.are.same({ 4 }, r.shape)
    assert.is_true(all_equal(flat(r.weight), 1))
    assert.is_true(all_equal(flat(r.bias), 0))
    assert.is_true(r.use_bias)
    assert.are.equal(1e-5, r.eps)
    assert.is_nil(nn.RMSNorm({ 2, 2 }, 1e-6, false, false).weight)
    assert.are.equal("float64", nn.RMSNorm(2, { dtype = "float64" }).weight.dtype)
  end)

  it("is x / sqrt(mean(x^2) + eps) * weight + bias, in every float dtype", function()
    for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
      local x, w, b = vals(6, 1), vals(6, 4), vals(6, 9)
      local r = nn.RMSNorm({ 3, 2 }, 0.01, true, true, dt)
      r = set(r, "weight", lx.array(w, dt):reshape({ 3, 2 }))
      r = set(r, "bias", lx.array(b, dt):reshape({ 3, 2 }))
      local y = r(lx.array(x, dt):reshape({ 3, 2 }))
      assert.are.equal(dt, y.dtype)
      local ms = 0
      for i = 1, #x do ms = ms + x[i] * x[i] end
      ms = ms / #x
      local want = {}
      for i = 1, #x do want[i] = x[i] / math.sqrt(ms + 0.01) * w[i] + b[i] end
      assert_close(flat(y), want, dt, "RMSNorm " .. dt)
    end
  end)

  it("raises on bad arguments and inputs", function()
    raises("RMSNorm({4}): expected an input of shape {4}, got {5}", nn.RMSNorm(4), lx.zeros({ 5 }))
    raises("RMSNorm: shape[1] must be an integer >= 0, got x", nn.RMSNorm, { "x" })
    raises("RMSNorm: unknown option 'elementwise_affine'", nn.RMSNorm, 3,
      { elementwise_affine = true })
  end)
end)

-------------------------------------------------------------------------------
describe("nn.GroupNorm", function()
  it("has Equinox's fields: per-channel weight ones and bias zeros", function()
    local g = nn.GroupNorm(2, 6)
    assert.are.same({ 6 }, g.weight.shape)
    assert.is_true(all_equal(flat(g.weight), 1))
    assert.is_true(all_equal(flat(g.bias), 0))
    assert.are.equal(2, g.groups)
    assert.are.equal(6, g.channels)
    assert.are.equal(1e-5, g.eps)
    assert.is_true(g.channelwise_affine)
    local g2 = nn.GroupNorm(3, nil, 1e-3, false)
    assert.is_nil(g2.weight)
    assert.is_nil(g2.channels)
    assert.are.equal("float16", nn.GroupNorm(1, 2, { dtype = "float16" }).bias.dtype)
  end)

  it("normalises each group of channels, then applies the channelwise affine", function()
    for _, dt in ipairs({ "float32", "float64" }) do
      -- 4 channels x 3 positions, 2 groups of 2 channels
      local x = vals(12, 5)
      local w, b = { 0.5, 2, -1, 1.5 }, { 0.25, 0, 1, -2 }
      local g = nn.GroupNorm(2, 4, 1e-5, true, dt)
      g = set(g, "weight", lx.array(w, dt))
      g = set(g, "bias", lx.array(b, dt))
      local y = g(lx.array(x, dt):reshape({ 4, 3 }))
      assert.are.equal(dt, y.dtype)
      assert.are.same({ 4, 3 }, y.shape)
      local want = {}
      for grp = 0, 1 do
        local part = {}
        for i = 1, 6 do part[i] = x[grp * 6 + i] end
        local z = ref_standardise(part, 1e-5)
        for i = 1, 6 do
          local c = grp * 2 + math.floor((i - 1) / 3) + 1
          want[grp * 6 + i] = z[i] * w[c] + b[c]
        end
      end
      assert_close(flat(y), want, dt, "GroupNorm " .. dt)
    end
  end)

  it("acts on (channels,) and on (channels, h, w) inputs, in 16-bit dtypes", function()
    local x = vals(4)
    local y = nn.GroupNorm(1, 4)(lx.array(x))
    assert_close(flat(y), ref_standardise(x, 1e-5), "float32", "1-d")
    local x3 = vals(2 * 2 * 3, 3)
    local y3 = nn.GroupNorm(2, nil, 1e-5, false)(lx.array(x3, "float16"):reshape({ 2, 2, 3 }))
    assert.are.equal("float16", y3.dtype)
    local want = {}
    for grp = 0, 1 do
      local part = {}
      for i = 1, 6 do part[i] = x3[grp * 6 + i] end
      local z = ref_standardise(part, 1e-5)
      for i = 1, 6 do want[grp * 6 + i] = z[i] end
    end
    assert_close(flat(y3), want, "float16", "GroupNorm float16")
  end)

  it("raises when groups do not divide channels, and on other bad arguments", function()
    raises("GroupNorm: the number of groups must divide the number of channels: groups = 3, "
      .. "channels = 4", nn.GroupNorm, 3, 4)
    raises("GroupNorm: the number of channels must be given when channelwise_affine = true",
      nn.GroupNorm, 2)
    raises("GroupNorm: groups must be an integer >= 1, got 0", nn.GroupNorm, 0, 4)
    raises("GroupNorm: channels must be an integer >= 0, got -2", nn.GroupNorm, 2, -2)
    raises("GroupNorm: groups must be an integer >= 1, got nil", nn.GroupNorm)
    raises({ "GroupNorm(2 groups, 4 channels)", "with 4 channels, got {6,2}" },
      nn.GroupNorm(2, 4), lx.zeros({ 6, 2 }))
    raises({ "GroupNorm(2 groups, 4 channels)", "got {}" }, nn.GroupNorm(2, 4), lx.zeros({}))
    raises("with a multiple of 2 channels, got {3,2}", nn.GroupNorm(2, nil, 1e-5, false),
      lx.zeros({ 3, 2 }))
  end)
end)

-------------------------------------------------------------------------------
describe("nn.BatchNorm", function()
  local make = nn.make_with_state(nn.BatchNorm)

  -- Batch statistics per channel of xs {B, C, S} (nested lists).
  local function ref_stats(xs)
    local B, C, Sz = #xs, #xs[1], #xs[1][1]
    local means, vars = {}, {}
    for c = 1, C do
      local s = 0
      for b = 1, B do for k = 1, Sz do s = s + xs[b][c][k] end end
      local m = s / (B * Sz)
      local v = 0
      for b = 1, B do for k = 1, Sz do v = v + (xs[b][c][k] - m) ^ 2 end end
      means[c], vars[c] = m, v / (B * Sz)
    end
    return means, vars
  end

  local function ref_norm(xs, means, vars, eps, w, b)
    local out = {}
    for bi = 1, #xs do
      for c = 1, #xs[1] do
        for k = 1, #xs[1][1] do
          out[#out + 1] = (xs[bi][c][k] - means[c]) / math.sqrt(vars[c] + eps) * (w and w[c] or 1)
            + (b and b[c] or 0)
        end
      end
    end
    return out
  end

  local function nested(flatv, B, C, Sz)
    local out, p = {}, 0
    for b = 1, B do
      out[b] = {}
      for c = 1, C do
        out[b][c] = {}
        for k = 1, Sz do
          p = p + 1
          out[b][c][k] = flatv[p]
        end
      end
    end
    return out
  end

  it("has Equinox's fields, state indexes and static hyperparameters", function()
    local bn = nn.BatchNorm(3, "batch")
    assert.are.same({ 3 }, bn.weight.shape)
    assert.is_true(all_equal(flat(bn.weight), 1))
    assert.is_true(all_equal(flat(bn.bias), 0))
    assert.is_true(nn.is_state_index(bn.ema_first_time_index))
    assert.are.equal(true, bn.ema_first_time_index.initial:item())
    local init = bn.ema_state_index.initial
    assert.are.equal(2, #init)
    assert.is_true(all_equal(flat(init[1]), 0) and all_equal(flat(init[2]), 0))
    assert.is_nil(bn.batch_counter)
    assert.is_nil(bn.batch_state_index)
    assert.are.equal("batch", bn.axis_name)
    assert.is_false(bn.inference)
    assert.are.equal(3, bn.input_size)
    assert.are.equal(1e-5, bn.eps)
    assert.is_true(bn.channelwise_affine)
    assert.are.equal(0.99, bn.momentum)
    assert.are.equal("ema", bn.mode)
    assert.is_true(bn:is_stateful())
    local bb = nn.BatchNorm(2, "b", 1e-3, false, 0.9, true, "float64", "batch")
    assert.is_nil(bb.weight)
    assert.is_true(bb.inference)
    assert.are.equal("batch", bb.mode)
    assert.are.equal("int32", bb.batch_counter.initial.dtype)
    assert.are.equal(0, bb.batch_counter.initial:item())
    assert.are.same({ 0, 0 }, flat(bb.batch_state_index.initial[1]))
    assert.are.same({ 1, 1 }, flat(bb.batch_state_index.initial[2]))
    assert.are.equal("float64", bb.batch_state_index.initial[2].dtype)
  end)

  it("make_with_state moves the initial state into a State", function()
    local bn, state = make(3, "batch")
    assert.is_true(nn.is_state(state))
    assert.is_nil(bn.ema_first_time_index.initial) -- moved out: lx.none
    assert.are.equal(true, state:get(bn.ema_first_time_index):item())
    local rs = state:get(bn.ema_state_index)
    assert.are.same({ 0, 0, 0 }, flat(rs[2]))
  end)

  it("trains with batch statistics (ema mode): first call, then the momentum update",
    function()
      local B, C, Sz = 2, 3, 2
      local x1, x2 = vals(B * C * Sz), vals(B * C * Sz, 5)
      local bn, state = make(C, "batch", 1e-5, true, 0.9)
      local w, b = { 1.5, -0.5, 2 }, { 0.25, 1, -1 }
      bn = set(bn, "weight", lx.array(w))
      bn = set(bn, "bias", lx.array(b))
      local y1, s1 = bn(lx.array(x1):reshape({ B, C, Sz }), state, { batched = true })
      assert.are.same({ B, C, Sz }, y1.shape)
      local m1, v1 = ref_stats(nested(x1, B, C, Sz))
      -- first call: the running statistics become the batch's
      assert_close(flat(y1), ref_norm(nested(x1, B, C, Sz), m1, v1, 1e-5, w, b), "float32", "y1")
      assert.is_false(s1:get(bn.ema_first_time_index):item())
      assert_close(flat(s1:get(bn.ema_state_index)[1]), m1, "float32", "running mean 1")
      assert_close(flat(s1:get(bn.ema_state_index)[2]), v1, "float32", "running var 1")
      -- the old state is untouched
      assert.is_true(state:get(bn.ema_first_time_index):item())
      -- second call: running = 0.1 batch + 0.9 running, and Equinox normalises with it
      local y2, s2 = bn(lx.array(x2):reshape({ B, C, Sz }), s1, { batched = true })
      local m2, v2 = ref_stats(nested(x2, B, C, Sz))
      local rm, rv = {}, {}
      for c = 1, C do
        rm[c] = 0.1 * m2[c] + 0.9 * m1[c]
        rv[c] = 0.1 * v2[c] + 0.9 * v1[c]
      end
      assert_close(flat(s2:get(bn.ema_state_index)[1]), rm, "float32", "running mean 2")
      assert_close(flat(s2:get(bn.ema_state_index)[2]), rv, "float32", "running var 2")
      assert_close(flat(y2), ref_norm(nested(x2, B, C, Sz), rm, rv, 1e-5, w, b), "float32", "y2")
      -- inference on one example uses the running statistics and keeps the state
      local one = lx.array(x1):reshape({ B, C, Sz })[2]
      local yi, si = nn.inference_mode(bn)(one, s2)
      assert.are.equal(s2, si)
      local want = ref_norm({ nested(x1, B, C, Sz)[2] }, rm, rv, 1e-5, w, b)
      assert_close(flat(yi), want, "float32", "inference")
      local yo = bn(one, s2, { inference = true })
      assert.are.same(flat(yi), flat(yo))
      -- a batch in inference mode: each example with the running statistics
      local yb = bn(lx.array(x1):reshape({ B, C, Sz }), s2, { inference = true, batched = true })
      assert_close(flat(yb), ref_norm(nested(x1, B, C, Sz), rm, rv, 1e-5, w, b), "float32", "yb")
    end)

  it("batch mode: batch statistics in training, debiased running ones in inference",
    function()
      local B, C = 3, 2
      local x = vals(B * C, 2)
      local bn, state = make(C, "batch", { mode = "batch", momentum = 0.8, eps = 1e-3 })
      -- at first, inference divides by 1: mean 0, var 1
      local y0 = bn(lx.array({ 1, -2 }), state, { inference = true })
      assert_close(flat(y0), { 1 / math.sqrt(1.001), -2 / math.sqrt(1.001) }, "float32", "y0")
      local y, s1 = bn(lx.array(x):reshape({ B, C }), state, { batched = true })
      local xs = nested(x, B, C, 1)
      local m, v = ref_stats(xs)
      assert_close(flat(y), ref_norm(xs, m, v, 1e-3), "float32", "training")
      assert.are.equal(1, s1:get(bn.batch_counter):item())
      local hidden = s1:get(bn.batch_state_index)
      local hm, hv = {}, {}
      for c = 1, C do
        hm[c] = 0.2 * m[c]
        hv[c] = 0.8 + 0.2 * v[c]
      end
      assert_close(flat(hidden[1]), hm, "float32", "hidden mean")
      assert_close(flat(hidden[2]), hv, "float32", "hidden var")
      local yi = bn(lx.array({ 1, -2 }), s1, { inference = true })
      local want = {}
      for c, xc in ipairs({ 1, -2 }) do
        want[c] = (xc - hm[c] / 0.2) / math.sqrt(hv[c] / 0.2 + 1e-3)
      end
      assert_close(flat(yi), want, "float32", "debiased inference")
    end)

  it("works in float64 and without the affine part", function()
    local bn, state = make(2, "batch", 1e-5, false, 0.99, false, "float64")
    assert.is_nil(bn.weight)
    local x = vals(8, 1)
    local y, s = bn(lx.array(x, "float64"):reshape({ 2, 2, 2 }), state, { batched = true })
    assert.are.equal("float64", y.dtype)
    local xs = nested(x, 2, 2, 2)
    local m, v = ref_stats(xs)
    assert_close(flat(y), ref_norm(xs, m, v, 1e-5), "float64", "float64")
    assert.are.equal("float64", s:get(bn.ema_state_index)[1].dtype)
  end)

  it("threads its state through nn.Sequential; inference_mode flips it", function()
    local k = jr.PRNGKey(0)
    local seq = nn.Sequential({ nn.BatchNorm(2, "batch"), nn.Lambda(nn.relu),
      nn.BatchNorm(2, "batch", { mode = "batch" }) })
    local model, state = nn.make_with_state(function() return seq end)()
    assert.is_true(model:is_stateful())
    -- give the two layers running statistics, as after training
    local bn1, bn3 = model.layers[1], model.layers[3]
    state = state:set(bn1.ema_state_index, { lx.array({ 1, -1 }), lx.array({ 4, 0.25 }) })
    state = state:set(bn3.batch_counter, lx.array(1, "int32"))
    state = state:set(bn3.batch_state_index, { lx.array({ 0.1, 0 }), lx.array({ 0.02, 0.08 }) })
    local inf = nn.inference_mode(model)
    assert.is_true(inf.layers[1].inference and inf.layers[3].inference)
    assert.is_false(nn.inference_mode(inf, false).layers[1].inference)
    local y, s = inf(lx.array({ 3, -2 }), state, { key = k })
    assert.are.equal(state, s)
    -- layer 1: (3-1)/2, (-2+1)/0.5 = 1, -2; relu: 1, 0;
    -- layer 3 (debiased by 1 - 0.99): mean {10, 0}, var {2, 8}
    assert_close(flat(y), { (1 - 10) / math.sqrt(2 + 1e-5), 0 }, "float32", "sequential")
    -- training inside Sequential would need a batch axis: the error says what to do
    raises({ "BatchNorm(2): training mode needs the statistics of a batch", "batched = true",
      "nn.inference_mode" }, model, lx.array({ 3, -2 }), state)
  end)

  it("raises on bad arguments and inputs", function()
    local bn, state = make(3, "batch")
    raises({ "BatchNorm(3): training mode needs the statistics of a batch",
      "vmap axis 'batch'", "{batch, 3, ...}" }, bn, lx.zeros({ 3, 2 }), state)
    raises("BatchNorm(3): expected an input of shape {batch, 3, ...}, got {3,2}", bn,
      lx.zeros({ 3, 2 }), state, { batched = true })
    raises("BatchNorm(3): expected an input of shape {3, ...}, got {2}", bn, lx.zeros({ 2 }),
      state, { inference = true })
    raises("BatchNorm(3): expected bn(x, state [, opts]) with state an nn.State", bn,
      lx.zeros({ 3 }))
    raises("BatchNorm(3): unknown call option 'training'", bn, lx.zeros({ 3 }), state,
      { training = true })
    raises("BatchNorm: axis_name must be a string", nn.BatchNorm, 3)
    raises("BatchNorm: input_size must be an integer >= 0, got -1", nn.BatchNorm, -1, "b")
    raises("BatchNorm: momentum must be a number in [0, 1], got 1.5", nn.BatchNorm, 3, "b",
      { momentum = 1.5 })
    raises('BatchNorm: mode must be "ema" or "batch", got legacy', nn.BatchNorm, 3, "b",
      { mode = "legacy" })
    raises("BatchNorm: dtype must be a float dtype", nn.BatchNorm, 3, "b", { dtype = "int64" })
    -- a state value of another dtype is refused, as Equinox's State.set
    local bn64, st64 = make(3, "batch", { dtype = "float64" })
    assert.are.equal("float64", st64:get(bn64.ema_state_index)[1].dtype)
    raises("State:set: cannot change a state value's shape or dtype", bn,
      lx.zeros({ 2, 3 }, "float64"), state, { batched = true })
  end)
end)

-------------------------------------------------------------------------------
describe("nn.Embedding", function()
  local fixtures = lx.json.decode(assert(io.open("spec/fixtures/nn_norms_init.json")):read("a"))

  it("draws Equinox's weights, normal(key, {num, size}), in both key schemes", function()
    local saved = lx.config.threefry_partitionable
    local n = 0
    for _, case in ipairs(fixtures.cases) do
      lx.config.threefry_partitionable = case.partitionable
      local key = jr.PRNGKey(case.seed)
      if case.split then key = jr.split(key, 2)[case.split] end
      local ok, err = pcall(function()
        local e = nn.Embedding(case.num_embeddings, case.embedding_size, { key = key })
        assert.are.same({ case.num_embeddings, case.embedding_size }, e.weight.shape)
        assert.are.equal("float32", e.weight.dtype)
        local want = {}
        for _, row in ipairs(case.leaves.weight) do
          for _, v in ipairs(row) do want[#want + 1] = v end
        end
        local got = e.weight.size > 0 and flat(e.weight) or {}
        assert.are.equal(#want, #got)
        for i = 1, #want do
          assert.is_true(math.abs(got[i] - want[i]) <= 1e-6 * math.abs(want[i]) + 1e-12,
            ("%s %s: weight[%d] %.9g vs %.9g"):format(case.layer, tostring(case.partitionable),
              i, got[i], want[i]))
        end
      end)
      lx.config.threefry_partitionable = saved
      assert(ok, err)
      n = n + 1
    end
    assert.are.equal(10, n)
  end)

  it("has Equinox's fields; takes a weight instead of sizes and key", function()
    local e = nn.Embedding(4, 2, { key = jr.PRNGKey(1) })
    assert.are.equal(4, e.num_embeddings)
    assert.are.equal(2, e.embedding_size)
    assert.are.equal(1, #lx.tree.leaves(e))
    assert.are.equal("float64", nn.Embedding(4, 2, nil, "float64", { key = jr.PRNGKey(1) })
      .weight.dtype)
    local w = lx.array({ { 1, 2, 3 }, { 4, 5, 6 } })
    local ew = nn.Embedding({ weight = w })
    assert.are.equal(w, ew.weight)
    assert.are.equal(2, ew.num_embeddings)
    assert.are.equal(3, ew.embedding_size)
    assert.are.equal(w, nn.Embedding(2, 3, w).weight)
    assert.are.equal(w, nn.Embedding(nil, 3, w).weight)
  end)

  it("looks up 1-based rows, from Lua integers or 0-d integer arrays", function()
    local w = lx.array({ { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } })
    local e = nn.Embedding({ weight = w })
    assert.are.same({ 1, 2, 3 }, e(1):tolist())
    assert.are.same({ 7, 8, 9 }, e(3):tolist())
    assert.are.same({ 7, 8, 9 }, e(-1):tolist())
    for _, dt in ipairs({ "int32", "int64", "uint8", "uint32" }) do
      local y = e(lx.array(2, dt))
      assert.are.same({ 3 }, y.shape)
      assert.are.same({ 4, 5, 6 }, y:tolist())
    end
    assert.are.same({ 4, 5, 6 }, e(lx.array(-2, "int32")):tolist())
  end)

  it("raises on bad arguments and indices", function()
    raises("Embedding: give num_embeddings, embedding_size and {key = k}, or the weight",
      nn.Embedding, 3)
    raises("Embedding: a PRNG key is required", nn.Embedding, 3, 2)
    raises("Embedding: num_embeddings must be an integer >= 0, got -1", nn.Embedding, -1, 2,
      { key = jr.PRNGKey(0) })
    raises("Embedding: embedding_size must be an integer >= 0, got 1.5", nn.Embedding, 2, 1.5,
      { key = jr.PRNGKey(0) })
    raises("Embedding: weight must be an array of shape {num_embeddings, embedding_size}, got {3}",
      nn.Embedding, { weight = lx.zeros({ 3 }) })
    raises("Embedding: weight must have shape {num_embeddings, embedding_size} = {4,2}, got {3,2}",
      nn.Embedding, 4, 2, lx.zeros({ 3, 2 }))
    local e = nn.Embedding(5, 3, { key = jr.PRNGKey(0) })
    raises("Embedding(5, 3): index 0 is out of range (valid: 1..5, or -5..-1 from the end; "
      .. "indices are 1-based)", e, 0)
    raises("Embedding(5, 3): index 6 is out of range", e, 6)
    raises("Embedding(5, 3): index 1.5 is out of range", e, 1.5)
    raises("take: index 6", e, lx.array(6, "int32"))
    raises("Embedding(5, 3): the index must be a scalar: a Lua integer or a 0-d integer array, "
      .. "got an array int32{2}", e, lx.array({ 1, 2 }, "int32"))
    raises("got an array float32{}", e, lx.array(1))
    raises("got string", e, "1")
  end)
end)

-------------------------------------------------------------------------------
describe("nn.PReLU", function()
  it("has Equinox's field negative_slope, a 0-d 0.25 by default", function()
    local p = nn.PReLU()
    assert.are.same({}, p.negative_slope.shape)
    assert.are.equal("float32", p.negative_slope.dtype)
    assert.are.equal(0.25, p.negative_slope:item())
    assert.are.equal(0.5, nn.PReLU(0.5).negative_slope:item())
    assert.are.equal("float64", nn.PReLU(0.1, { dtype = "float64" }).negative_slope.dtype)
    local a = lx.array({ 0.1, 0.2, 0.3 })
    assert.are.equal(a, nn.PReLU(a).negative_slope)
    assert.are.equal(a, nn.PReLU({ init_alpha = a }).negative_slope)
  end)

  it("is x where x >= 0 and slope * x elsewhere", function()
    local x = { -2, -0.5, 0, 1.5, 3 }
    for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
      local y = nn.PReLU()(lx.array(x, dt))
      assert.are.equal(dt, y.dtype) -- the default slope acts as a weakly typed scalar
      assert.are.same({ -0.5, -0.125, 0, 1.5, 3 }, y:tolist())
    end
    local p = nn.PReLU(lx.array({ 0.5, 1, 2 }))
    assert.are.same({ { -1, 2, -4 }, { 1, -1, 3 } },
      p(lx.array({ { -2, 2, -2 }, { 1, -1, 3 } })):tolist())
    -- integer inputs promote with the float slope, as jnp.where
    local yi = nn.PReLU()(lx.array({ -4, 4 }, "int32"))
    assert.are.equal("float32", yi.dtype)
    assert.are.same({ -1, 4 }, yi:tolist())
  end)

  it("raises on bad arguments", function()
    raises("PReLU: init_alpha must be a number or an array, got string", nn.PReLU, "x")
    raises("PReLU: the input must be an array, got number", nn.PReLU(), 1)
    raises("PReLU: dtype must be a float dtype", nn.PReLU, 0.1, { dtype = "int32" })
  end)
end)

-------------------------------------------------------------------------------
describe("norms as pytrees", function()
  it("lx.filter_eval_shape builds skeletons of the constructors", function()
    local ln = lx.filter_eval_shape(nn.LayerNorm, { 2, 3 })
    assert.is_true(lx.is_shape_dtype_struct(ln.weight))
    assert.are.same({ 2, 3 }, ln.weight.shape)
    assert.are.equal("float32", ln.bias.dtype)
    local e = lx.filter_eval_shape(nn.Embedding, 7, 4, { key = jr.PRNGKey(0) })
    assert.is_true(lx.is_shape_dtype_struct(e.weight))
    assert.are.same({ 7, 4 }, e.weight.shape)
    local g = lx.filter_eval_shape(nn.GroupNorm, 2, 4, { dtype = "float64" })
    assert.are.equal("float64", g.weight.dtype)
  end)

  it("round-trips a LayerNorm through tree_serialise_leaves / tree_deserialise_leaves",
    function()
      local ln = nn.LayerNorm({ 2, 2 })
      ln = set(ln, "weight", lx.array({ { 1.5, 2 }, { -1, 0.25 } }))
      ln = set(ln, "bias", lx.array({ { 0.5, 0 }, { 3, -2 } }))
      local f = lx.BytesIO()
      lx.tree_serialise_leaves(f, ln)
      f:seek("set", 0)
      local back = lx.tree_deserialise_leaves(f, nn.LayerNorm({ 2, 2 }))
      assert.is_true(lx.tree_equal(ln, back))
      assert.are.same(flat(ln(lx.array({ { 1, 2 }, { 3, 5 } }))),
        flat(back(lx.array({ { 1, 2 }, { 3, 5 } }))))
    end)

  it("round-trips a BatchNorm's State after a training step", function()
    local make = nn.make_with_state(nn.BatchNorm)
    local bn, state = make(2, "batch")
    local _, s1 = bn(lx.array({ { 1, 2 }, { 3, -4 } }), state, { batched = true })
    local f = lx.BytesIO()
    lx.tree_serialise_leaves(f, s1)
    f:seek("set", 0)
    local bn2, fresh = make(2, "batch")
    local back = lx.tree_deserialise_leaves(f, fresh)
    assert.is_false(back:get(bn2.ema_first_time_index):item())
    assert.are.same(flat(s1:get(bn.ema_state_index)[1]), flat(back:get(bn2.ema_state_index)[1]))
    assert.are.same(flat(s1:get(bn.ema_state_index)[2]), flat(back:get(bn2.ema_state_index)[2]))
    assert.are.same({ 2, -1 }, flat(back:get(bn2.ema_state_index)[1]))
  end)

  it("saves a BatchNorm model from make_with_state with the default filters", function()
    -- make_with_state leaves lx.none (no leaves) where the initial state was.
    local make = nn.make_with_state(nn.BatchNorm)
    local bn = set(make(2, "batch"), "weight", lx.array({ 3, 4 }))
    local f = lx.BytesIO()
    lx.tree_serialise_leaves(f, bn)
    f:seek("set", 0)
    local back = lx.tree_deserialise_leaves(f, (make(2, "batch")))
    assert.are.same({ 3, 4 }, back.weight:tolist())
    assert.is_false(back.inference)
  end)

  it("takes tree_at surgery on one field", function()
    local e = nn.Embedding(3, 2, { key = jr.PRNGKey(0) })
    local w = lx.array({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    local e2 = lx.tree_at(function(m) return m.weight end, e, w)
    assert.are.same({ 3, 4 }, e2(2):tolist())
    assert.are_not.same({ 3, 4 }, e(2):tolist())
    local p = lx.tree_at(function(m) return m.negative_slope end, nn.PReLU(), lx.array(0.5))
    assert.are.same({ -1, 2 }, p(lx.array({ -2, 2 })):tolist())
  end)
end)
