-- lx.nn.MultiheadAttention, GRUCell and LSTMCell (lua/lunox/nn/attention.lua,
-- rnn.lua): Equinox's fields and initialisation (bit for bit, against
-- spec/fixtures/nn_attention_init.json from make_nn_attention_fixtures.py),
-- calls against a plain-Lua reference, errors, dtypes, shape-only
-- construction, serialisation and surgery.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local nn, jr = lx.nn, lx.random
local raises = H.raises
local unpack = table.unpack or unpack

local FIXTURES = "spec/fixtures/nn_attention_init.json"

local function with_scheme(partitionable, fn)
  local saved = lx.config.threefry_partitionable
  lx.config.threefry_partitionable = partitionable
  local ok, err = pcall(fn)
  lx.config.threefry_partitionable = saved
  if not ok then error(err, 0) end
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Deterministic values in [-2, 2) (a small LCG), as nested Lua lists.
local function values(rows, cols, seed)
  local state, out = seed * 7919 + 17, {}
  for i = 1, rows do
    out[i] = {}
    for j = 1, cols do
      state = (state * 1103515245 + 12345) % 2147483648
      out[i][j] = 4 * state / 2147483648 - 2
    end
  end
  return out
end

local function vector(n, seed) return values(1, n, seed)[1] end

---------------------------------------------------------------------------
-- Plain-Lua reference (doubles), written from Equinox's formulas.

local function matvec(w, x)
  local y = {}
  for i = 1, #w do
    local s = 0
    for j = 1, #x do s = s + w[i][j] * x[j] end
    y[i] = s
  end
  return y
end

local function sigmoid(x) return 1 / (1 + math.exp(-x)) end

local function tanh(x)
  if x > 20 then return 1 elseif x < -20 then return -1 end
  local e = math.exp(2 * x)
  return (e - 1) / (e + 1)
end

local function linear_rows(layer, x)
  local w = layer.weight:tolist()
  local b = layer.bias and layer.bias:tolist()
  local out = {}
  for r = 1, #x do
    out[r] = matvec(w, x[r])
    if b then for i = 1, #b do out[r][i] = out[r][i] + b[i] end end
  end
  return out
end

-- mask(h, i, j) -> boolean or nil; drop(h, i, j) -> keep factor or nil.
local function ref_mha(m, q, k, v, mask, drop)
  local H_, qk, vo = m.num_heads, m.qk_size, m.vo_size
  local qp, kp, vp = linear_rows(m.query_proj, q), linear_rows(m.key_proj, k),
    linear_rows(m.value_proj, v)
  local FMIN = -3.4028234663852886e38
  local attn = {}
  for i = 1, #q do attn[i] = {} end
  for h = 1, H_ do
    for i = 1, #q do
      local logits = {}
      for j = 1, #k do
        local s = 0
        for d = 1, qk do
          s = s + (qp[i][(h - 1) * qk + d] / math.sqrt(qk)) * kp[j][(h - 1) * qk + d]
        end
        if mask and not mask(h, i, j) then s = FMIN end
        logits[j] = s
      end
      local mx = -math.huge
      for j = 1, #k do mx = math.max(mx, logits[j]) end
      local w, total = {}, 0
      for j = 1, #k do
        w[j] = math.exp(logits[j] - mx)
        total = total + w[j]
      end
      for j = 1, #k do
        w[j] = w[j] / total
        if drop then w[j] = w[j] * drop(h, i, j) end
      end
      for d = 1, vo do
        local s = 0
        for j = 1, #k do s = s + w[j] * vp[j][(h - 1) * vo + d] end
        attn[i][(h - 1) * vo + d] = s
      end
    end
  end
  return linear_rows(m.output_proj, attn)
end

local function ref_gru(cell, x, hid)
  local n = cell.hidden_size
  local ig = matvec(cell.weight_ih:tolist(), x)
  local hg = matvec(cell.weight_hh:tolist(), hid)
  local b = cell.bias and cell.bias:tolist()
  local bn = cell.bias_n and cell.bias_n:tolist()
  local out = {}
  for i = 1, n do
    local function gi(g) return ig[(g - 1) * n + i] + (b and b[(g - 1) * n + i] or 0) end
    local r = sigmoid(gi(1) + hg[i])
    local z = sigmoid(gi(2) + hg[n + i])
    local new = tanh(gi(3) + r * (hg[2 * n + i] + (bn and bn[i] or 0)))
    out[i] = new + z * (hid[i] - new)
  end
  return out
end

local function ref_lstm(cell, x, h, c)
  local n = cell.hidden_size
  local a = matvec(cell.weight_ih:tolist(), x)
  local bh = matvec(cell.weight_hh:tolist(), h)
  local b = cell.bias and cell.bias:tolist()
  local hn, cn = {}, {}
  for i = 1, n do
    local function lin(g)
      local j = (g - 1) * n + i
      return a[j] + bh[j] + (b and b[j] or 0)
    end
    local ig, fg, gg, og = sigmoid(lin(1)), sigmoid(lin(2)), tanh(lin(3)), sigmoid(lin(4))
    cn[i] = fg * c[i] + ig * gg
    hn[i] = og * tanh(cn[i])
  end
  return hn, cn
end

local function flat(t, out)
  out = out or {}
  if type(t) ~= "table" then
    out[#out + 1] = t
    return out
  end
  for _, v in ipairs(t) do flat(v, out) end
  return out
end

local function assert_close(got, want, tol, what)
  got = flat(lx.is_array(got) and got:tolist() or got)
  want = flat(want)
  assert.are.equal(#want, #got, what .. ": size")
  for i = 1, #want do
    local err = math.abs(got[i] - want[i])
    if not (err <= tol * math.max(1, math.abs(want[i]))) then
      error(("%s: element %d: got %.17g, want %.17g"):format(what, i, got[i], want[i]), 2)
    end
  end
end

local TOL = { float32 = 2e-5, float64 = 1e-12 }

---------------------------------------------------------------------------

describe("nn.MultiheadAttention", function()
  local key = jr.PRNGKey(0)

  it("has Equinox's fields, statics and default sizes", function()
    local m = nn.MultiheadAttention(2, 4, { key = key })
    assert.is_true(lx.is_module(m))
    assert.are.same({ 4, 4 }, m.query_proj.weight.shape)
    assert.are.same({ 4, 4 }, m.key_proj.weight.shape)
    assert.are.same({ 4, 4 }, m.value_proj.weight.shape)
    assert.are.same({ 4, 4 }, m.output_proj.weight.shape)
    assert.is_nil(m.query_proj.bias)
    assert.is_nil(m.output_proj.bias)
    assert.are.equal(0, m.dropout.p)
    assert.is_false(m.dropout.inference)
    for name, v in pairs({ num_heads = 2, query_size = 4, key_size = 4, value_size = 4,
      output_size = 4, qk_size = 2, vo_size = 2, use_query_bias = false,
      use_key_bias = false, use_value_bias = false, use_output_bias = false }) do
      assert.are.equal(v, m[name], name)
    end
    -- Arrays and the Dropout's p and inference are leaves, in Equinox's order.
    local paths = {}
    for _, pl in ipairs(lx.tree.flatten_with_path(m)) do
      paths[#paths + 1] = lx.tree.keystr(pl[1])
    end
    assert.are.same({ ".query_proj.weight", ".key_proj.weight", ".value_proj.weight",
      ".output_proj.weight", ".dropout.p", ".dropout.inference" }, paths)
  end)

  it("sizes every projection as Equinox does", function()
    local m = nn.MultiheadAttention(3, 5, 7, 2, 6, 4, 3, true, true, true, true, 0.25, true,
      "float64", { key = key })
    assert.are.same({ 12, 5 }, m.query_proj.weight.shape)
    assert.are.same({ 12, 7 }, m.key_proj.weight.shape)
    assert.are.same({ 9, 2 }, m.value_proj.weight.shape)
    assert.are.same({ 6, 9 }, m.output_proj.weight.shape)
    assert.are.same({ 12 }, m.query_proj.bias.shape)
    assert.are.same({ 6 }, m.output_proj.bias.shape)
    assert.are.equal("float64", m.key_proj.weight.dtype)
    assert.are.equal("float64", m.value_proj.bias.dtype)
    assert.are.equal(0.25, m.dropout.p)
    assert.is_true(m.dropout.inference)
    -- The same by options; floor(query_size / num_heads) per head by default.
    local o = nn.MultiheadAttention(3, 7, { key = key, dtype = "float64" })
    assert.are.equal(2, o.qk_size)
    assert.are.equal(2, o.vo_size)
    assert.are.same({ 6, 7 }, o.query_proj.weight.shape)
    assert.are.same({ 7, 6 }, o.output_proj.weight.shape)
  end)

  it("draws its projections from split(key, 4) in order (query, key, value, output)", function()
    for _, dtype in ipairs({ "float32", "float64" }) do
      local m = nn.MultiheadAttention(2, 4, 3, 5, 6, { key = key, dtype = dtype,
        use_key_bias = true })
      local ks = { jr.split(key, 4):unpack() }
      local names = { "query_proj", "key_proj", "value_proj", "output_proj" }
      local ins = { 4, 3, 5, 4 }
      local outs = { 4, 4, 4, 6 }
      local biases = { false, true, false, false }
      for i, name in ipairs(names) do
        local l = nn.Linear(ins[i], outs[i], biases[i], dtype, { key = ks[i] })
        assert.is_true(lx.tree_equal(l, m[name]), name .. " " .. dtype)
      end
    end
  end)

  it("matches Equinox's initial weights bit for bit (fixtures, both key schemes)", function()
    local data = lx.json.decode(read_file(FIXTURES))
    local n = 0
    for _, case in ipairs(data.cases) do
      with_scheme(case.partitionable, function()
        local opts = { key = jr.PRNGKey(case.seed) }
        for k, v in pairs(case.opts) do opts[k] = v end
        local args = {}
        for i, v in ipairs(case.args) do args[i] = v end
        args[#args + 1] = opts
        local layer = nn[case.layer](unpack(args))
        local seen = 0
        for _, pl in ipairs(lx.tree.flatten_with_path(layer)) do
          if lx.is_array(pl[2]) then
            local path = lx.tree.keystr(pl[1])
            local want = case.leaves[path]
            local what = ("%s seed %d partitionable=%s %s"):format(case.layer, case.seed,
              tostring(case.partitionable), path)
            assert.is_not_nil(want, what .. ": not in the fixtures")
            assert.are.equal("float32", pl[2].dtype)
            assert.are.same(want, pl[2]:tolist(), what)
            seen = seen + 1
          end
        end
        local expected = 0
        for _ in pairs(case.leaves) do expected = expected + 1 end
        assert.are.equal(expected, seen, case.layer .. ": number of array leaves")
        n = n + 1
      end)
    end
    assert.are.equal(18, n)
  end)

  for _, dtype in ipairs({ "float32", "float64" }) do
    describe("called (" .. dtype .. ")", function()
      local m = nn.MultiheadAttention(2, 4, 3, 5, 6, 3, 2, true, true, true, true,
        { key = jr.PRNGKey(7), dtype = dtype })
      local qv, kv, vv = values(3, 4, 1), values(5, 3, 2), values(5, 5, 3)
      local q, k, v = lx.array(qv, dtype), lx.array(kv, dtype), lx.array(vv, dtype)

      it("computes softmax(q k^T / sqrt(qk_size)) v per head, then the output projection",
        function()
          local y = m(q, k, v)
          assert.are.same({ 3, 6 }, y.shape)
          assert.are.equal(dtype, y.dtype)
          assert_close(y, ref_mha(m, qv, kv, vv), TOL[dtype], "no mask")
        end)

      it("masks with a {q_seq, kv_seq} mask (a fully masked row attends uniformly)",
        function()
          local mv = {}
          for i = 1, 3 do
            mv[i] = {}
            for j = 1, 5 do mv[i][j] = (i + j) % 3 ~= 0 end
          end
          for j = 1, 5 do mv[3][j] = false end
          local y = m(q, k, v, lx.array(mv))
          assert_close(y, ref_mha(m, qv, kv, vv, function(_, i, j) return mv[i][j] end),
            TOL[dtype], "2-D mask")
          -- The uniform row really differs from the unmasked one.
          local free = m(q, k, v)
          assert.are_not.same(free[3]:tolist(), y[3]:tolist())
        end)

      it("masks per head with a {num_heads, q_seq, kv_seq} mask", function()
        local mv = {}
        for h = 1, 2 do
          mv[h] = {}
          for i = 1, 3 do
            mv[h][i] = {}
            for j = 1, 5 do mv[h][i][j] = (h * i + j) % 4 ~= 1 end
          end
        end
        local y = m(q, k, v, lx.array(mv), {})
        assert_close(y, ref_mha(m, qv, kv, vv, function(h, i, j) return mv[h][i][j] end),
          TOL[dtype], "3-D mask")
      end)

      it("passes the heads through process_heads", function()
        local seen
        local y = m(q, k, v, nil, { process_heads = function(qh, kh, vh)
          seen = { qh.shape, kh.shape, vh.shape }
          return qh * 2, kh, vh
        end })
        assert.are.same({ { 3, 2, 3 }, { 5, 2, 3 }, { 5, 2, 2 } }, seen)
        -- Doubling the query heads doubles the logits: the same as a query
        -- projection with doubled weights and bias.
        local doubled = lx.tree_at(function(t) return { t.query_proj.weight, t.query_proj.bias }
        end, m, { m.query_proj.weight * 2, m.query_proj.bias * 2 })
        assert_close(y, ref_mha(doubled, qv, kv, vv), TOL[dtype], "process_heads")
        raises("process_heads must not change the shape of the heads", m, q, k, v,
          { process_heads = function(qh, kh, vh) return qh[{ { 1, 2 } }], kh, vh end })
      end)
    end)
  end

  it("scales the query before the product (Equinox's placement) in float16", function()
    -- Query and key heads are 128 everywhere: unscaled, the float16 logits
    -- would be 128 * 128 * 8 = 131072 > 65504 (inf, then NaN in the
    -- softmax); with the query scaled first they are 46341, finite.
    local m = nn.MultiheadAttention(1, 8, { key = key, dtype = "float16" })
    local w = lx.ones({ 8, 8 }, "float16")
    m = lx.tree_at(function(t) return { t.query_proj.weight, t.key_proj.weight,
      t.value_proj.weight, t.output_proj.weight } end, m, { w * 16, w * 16, w, w })
    local x = lx.full({ 2, 8 }, 1, "float16")
    local y = m(x, x, x)
    assert.are.equal("float16", y.dtype)
    -- Equal finite logits: a uniform softmax; value rows are 8, output 64.
    for _, e in ipairs(flat(y:tolist())) do assert.are.equal(64, e) end
  end)

  it("applies dropout to the attention weights with split(key, num_heads)", function()
    local m = nn.MultiheadAttention(2, 4, { key = key, dropout_p = 0.5 })
    local qv, kv = values(3, 4, 4), values(4, 4, 5)
    local q, k = lx.array(qv), lx.array(kv)
    local dkey = jr.PRNGKey(42)
    local y = m(q, k, k, { key = dkey })
    local keep = {}
    local keys = jr.split(dkey, 2)
    for h = 1, 2 do keep[h] = jr.bernoulli(keys[h], 0.5, { 3, 4 }):tolist() end
    local want = ref_mha(m, qv, kv, kv, nil, function(h, i, j)
      return keep[h][i][j] and 2 or 0
    end)
    assert_close(y, want, TOL.float32, "dropout")
    -- Different keys, different results; inference turns it off.
    assert.are_not.same(y:tolist(), m(q, k, k, { key = jr.PRNGKey(43) }):tolist())
    local plain = ref_mha(m, qv, kv, kv)
    assert_close(m(q, k, k, { inference = true }), plain, TOL.float32, "inference option")
    assert_close(m(q, k, k, { deterministic = true }), plain, TOL.float32, "deterministic")
  end)

  it("requires a key when dropout is active in training, not otherwise", function()
    local m = nn.MultiheadAttention(2, 4, { key = key, dropout_p = 0.1 })
    local x = lx.array(values(2, 4, 6))
    raises({ "MultiheadAttention(num_heads=2, query_size=4)", "dropout (p = 0.1)",
      "needs a PRNG key", "{key = k}" }, m, x, x, x)
    raises("needs a PRNG key", m, x, x, x, { inference = false })
    -- inference_mode flips the Dropout's field.
    local im = nn.inference_mode(m)
    assert.is_true(im.dropout.inference)
    assert.is_false(m.dropout.inference)
    local y = im(x, x, x)
    assert.are.same(y:tolist(), m(x, x, x, { inference = true }):tolist())
    raises("needs a PRNG key", nn.inference_mode(im, false), x, x, x)
    -- p = 0 never needs one; nor does the inference field.
    local z = nn.MultiheadAttention(2, 4, { key = key })
    assert.are.same({ 2, 4 }, z(x, x, x).shape)
    local i = nn.MultiheadAttention(2, 4, { key = key, dropout_p = 0.5, inference = true })
    assert.are.same({ 2, 4 }, i(x, x, x).shape)
  end)

  it("raises clear errors for bad constructor arguments", function()
    local M = nn.MultiheadAttention
    raises("MultiheadAttention: a PRNG key is required", M, 2, 4)
    raises("MultiheadAttention: num_heads must be an integer >= 1, got 0", M, 0, 4,
      { key = key })
    raises("MultiheadAttention: query_size must be an integer >= 1, got 2.5", M, 1, 2.5,
      { key = key })
    raises("MultiheadAttention: key_size must be an integer >= 1, got -3", M, 1, 2, -3,
      { key = key })
    raises("MultiheadAttention: output_size must be an integer >= 1, got 0", M, 1, 2,
      { output_size = 0, key = key })
    raises({ "MultiheadAttention: qk_size defaults to query_size // num_heads = 2 // 4 = 0" },
      M, 4, 2, { key = key })
    raises("MultiheadAttention: vo_size defaults to query_size // num_heads", M, 4, 2,
      { qk_size = 1, key = key })
    raises("MultiheadAttention: dropout_p must be a probability in [0, 1], got 1.5", M, 2, 4,
      { dropout_p = 1.5, key = key })
    raises("MultiheadAttention: use_key_bias must be a boolean, got number", M, 2, 4,
      { use_key_bias = 1, key = key })
    raises("MultiheadAttention: dtype must be a float dtype", M, 2, 4,
      { dtype = "int32", key = key })
    raises("MultiheadAttention: unknown option 'num_head'", M, 2, 4,
      { num_head = 2, key = key })
    raises("MultiheadAttention: 'key_size' given both as an argument and as an option", M, 2,
      4, 4, { key_size = 4, key = key })
    raises("MultiheadAttention: takes at most 14 positional arguments", M, 2, 4, 4, 4, 4, 2, 2,
      false, false, false, false, 0, false, "float32", 1, { key = key })
  end)

  it("raises clear errors for bad calls", function()
    local m = nn.MultiheadAttention(2, 4, 3, 5, { key = key })
    local q, k, v = lx.ones({ 3, 4 }), lx.ones({ 6, 3 }), lx.ones({ 6, 5 })
    assert.are.same({ 3, 4 }, m(q, k, v).shape)
    raises({ "MultiheadAttention(num_heads=2, query_size=4)",
      "query must have shape {seq, 4} (query_size), got {3,5}" }, m, lx.ones({ 3, 5 }), k, v)
    raises("key_ must have shape {seq, 3} (key_size), got {6,4}", m, q, lx.ones({ 6, 4 }), v)
    raises("value must have shape {seq, 5} (value_size), got {6,3}", m, q, k, lx.ones({ 6, 3 }))
    raises("key_ and value must both be sequences of equal length, got 6 and 2", m, q, k,
      lx.ones({ 2, 5 }))
    raises("query must be a 2-D array {seq, size}, got shape {4}", m, lx.ones({ 4 }), k, v)
    raises("key_ (the key sequence) must be an array, got nil", m, q, nil, v)
    raises({ "mask must have shape {query_seq_length, kv_seq_length} = {3,6} or",
      "{num_heads, query_seq_length, kv_seq_length} = {2,3,6}, got {6,3}" }, m, q, k, v,
      lx.ones({ 6, 3 }, "bool"))
    raises("got {3,3,6}", m, q, k, v, lx.ones({ 3, 3, 6 }, "bool"))
    raises("got {1,6}", m, q, k, v, lx.ones({ 1, 6 }, "bool"))
    raises("mask must be a bool array (false hides a position), got float32", m, q, k, v,
      lx.ones({ 3, 6 }))
    raises("key_ and value must hold at least one position, got length 0", m, q,
      lx.ones({ 0, 3 }), lx.ones({ 0, 5 }))
    -- An empty query sequence is fine: no rows out.
    assert.are.same({ 0, 4 }, m(lx.ones({ 0, 4 }), k, v).shape)
    raises("unknown call option 'keys'", m, q, k, v, { keys = key })
    raises("inference must be a boolean, got string", m, q, k, v, { inference = "yes" })
    raises("expected (query, key_, value [, mask] [, options])", m, q, k, v, lx.ones({ 3, 6 },
      "bool"), lx.ones({ 3, 6 }, "bool"))
  end)

  it("builds a skeleton with lx.filter_eval_shape", function()
    local s = lx.filter_eval_shape(nn.MultiheadAttention, 4, 8, 6, { key = key,
      use_output_bias = true, dtype = "float64" })
    assert.is_true(lx.is_module(s))
    assert.are.equal(lx.ShapeDtypeStruct({ 8, 8 }, "float64"), s.query_proj.weight)
    assert.are.equal(lx.ShapeDtypeStruct({ 8, 6 }, "float64"), s.key_proj.weight)
    assert.are.equal(lx.ShapeDtypeStruct({ 8 }, "float64"), s.output_proj.bias)
    assert.are.equal(4, s.num_heads)
  end)

  it("round-trips through tree_serialise_leaves / tree_deserialise_leaves", function()
    local m = nn.MultiheadAttention(2, 4, { key = jr.PRNGKey(1), use_value_bias = true,
      dropout_p = 0.3 })
    local like = nn.MultiheadAttention(2, 4, { key = jr.PRNGKey(2), use_value_bias = true,
      dropout_p = 0.3 })
    assert.is_false(lx.tree_equal(m, like))
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, m)
    b:seek("set")
    local back = lx.tree_deserialise_leaves(b, like)
    assert.is_true(lx.tree_equal(m, back))
    local x = lx.array(values(2, 4, 9))
    assert.are.same(m(x, x, x, { inference = true }):tolist(),
      back(x, x, x, { inference = true }):tolist())
  end)

  it("takes tree_at surgery on one field", function()
    local m = nn.MultiheadAttention(2, 4, { key = key })
    local zero = lx.tree_at(function(t) return t.output_proj.weight end, m, lx.zeros({ 4, 4 }))
    local x = lx.array(values(3, 4, 10))
    assert.are.same({ { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } }, zero(x, x, x):tolist())
    assert.are_not.same(zero(x, x, x):tolist(), m(x, x, x):tolist())
    -- A projection replaced by another module is applied row by row.
    local swapped = lx.tree_at(function(t) return t.value_proj end, m,
      nn.Lambda(function(row) return row * 0 end))
    assert.are.same({ { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },
      swapped(x, x, x):tolist())
  end)
end)

describe("nn.dot_product_attention", function()
  it("is one head of attention (Equinox's equinox.nn._attention helper)", function()
    local qv, kv, vv = values(2, 3, 11), values(4, 3, 12), values(4, 2, 13)
    local q, k, v = lx.array(qv, "float64"), lx.array(kv, "float64"), lx.array(vv, "float64")
    local mask = lx.array({ { true, false, true, true }, { false, false, true, false } })
    local w = nn.dot_product_attention_weights(q, k, mask)
    local want = {}
    for i = 1, 2 do
      local row, total = {}, 0
      for j = 1, 4 do
        local s = 0
        for d = 1, 3 do s = s + qv[i][d] / math.sqrt(3) * kv[j][d] end
        row[j] = mask[{ i, j }]:item() and math.exp(s) or 0
        total = total + row[j]
      end
      for j = 1, 4 do row[j] = row[j] / total end
      want[i] = row
    end
    assert_close(w, want, 1e-12, "weights")
    local out = {}
    for i = 1, 2 do
      out[i] = {}
      for d = 1, 2 do
        local s = 0
        for j = 1, 4 do s = s + want[i][j] * vv[j][d] end
        out[i][d] = s
      end
    end
    assert_close(nn.dot_product_attention(q, k, v, mask), out, 1e-12, "attention")
    raises("dot_product_attention: mask must have shape {query_seq_length, kv_seq_length} = "
      .. "{2,4}, got {2,2,4}", nn.dot_product_attention, q, k, v, lx.ones({ 2, 2, 4 }, "bool"))
    raises("dot_product_attention: key_ and value must be sequences of equal length",
      nn.dot_product_attention, q, k, v[{ { 1, 3 } }])
    raises("a key is required", nn.dot_product_attention, q, k, v, nil, nn.Dropout(0.5))
  end)
end)

describe("nn.GRUCell", function()
  local key = jr.PRNGKey(3)

  it("has Equinox's fields, shapes and key order", function()
    for _, dtype in ipairs({ "float32", "float64" }) do
      local c = nn.GRUCell(2, 3, { key = key, dtype = dtype })
      assert.are.same({ 9, 2 }, c.weight_ih.shape)
      assert.are.same({ 9, 3 }, c.weight_hh.shape)
      assert.are.same({ 9 }, c.bias.shape)
      assert.are.same({ 3 }, c.bias_n.shape)
      assert.are.equal(dtype, c.bias_n.dtype)
      assert.are.equal(2, c.input_size)
      assert.are.equal(3, c.hidden_size)
      assert.is_true(c.use_bias)
      -- lim = sqrt(1 / 3) (Equinox's formula), not 1 / sqrt(3): they differ
      -- in float64.
      local lim = math.sqrt(1 / 3)
      local ks = { jr.split(key, 4):unpack() }
      local want = { jr.uniform(ks[1], { 9, 2 }, dtype, -lim, lim),
        jr.uniform(ks[2], { 9, 3 }, dtype, -lim, lim), jr.uniform(ks[3], { 9 }, dtype, -lim, lim),
        jr.uniform(ks[4], { 3 }, dtype, -lim, lim) }
      assert.is_true(lx.tree_equal({ c.weight_ih, c.weight_hh, c.bias, c.bias_n }, want))
    end
    local nb = nn.GRUCell(2, 3, false, { key = key })
    assert.is_nil(nb.bias)
    assert.is_nil(nb.bias_n)
    assert.is_false(nb.use_bias)
    assert.are.equal(2, #lx.tree.leaves(nb))
  end)

  for _, dtype in ipairs({ "float32", "float64" }) do
    it("steps as Equinox's GRU (" .. dtype .. ", with and without bias)", function()
      for _, bias in ipairs({ true, false }) do
        local c = nn.GRUCell(3, 4, bias, dtype, { key = key })
        local x, h = vector(3, 1), vector(4, 2)
        local y = c(lx.array(x, dtype), lx.array(h, dtype))
        assert.are.equal(dtype, y.dtype)
        assert_close(y, ref_gru(c, x, h), TOL[dtype], "gru bias=" .. tostring(bias))
        -- A few steps of a sequence, as a scan would.
        local hs, ha = h, lx.array(h, dtype)
        for t = 1, 3 do
          local xt = vector(3, 10 + t)
          hs = ref_gru(c, xt, hs)
          ha = c(lx.array(xt, dtype), ha, { key = key })
        end
        assert_close(ha, hs, TOL[dtype] * 4, "gru sequence")
      end
    end)
  end

  it("raises clear errors", function()
    local c = nn.GRUCell(3, 4, { key = key })
    raises("GRUCell: a PRNG key is required", nn.GRUCell, 3, 4)
    raises("GRUCell: hidden_size must be an integer >= 1, got 0", nn.GRUCell, 3, 0,
      { key = key })
    raises("GRUCell: input_size must be an integer >= 1, got x", nn.GRUCell, "x", 4,
      { key = key })
    raises("GRUCell: use_bias must be a boolean", nn.GRUCell, 3, 4, 1, { key = key })
    raises("GRUCell: unknown option 'bias'", nn.GRUCell, 3, 4, { bias = true, key = key })
    raises("GRUCell(3 -> 4) input: expected an input of shape {3}, got {4}", c,
      lx.ones({ 4 }), lx.ones({ 4 }))
    raises("GRUCell(3 -> 4) hidden: expected an input of shape {4}, got {3}", c,
      lx.ones({ 3 }), lx.ones({ 3 }))
    raises("GRUCell(3 -> 4): unknown call option 'inference'", c, lx.ones({ 3 }),
      lx.ones({ 4 }), { inference = true })
  end)
end)

describe("nn.LSTMCell", function()
  local key = jr.PRNGKey(4)

  it("has Equinox's fields, shapes and key order", function()
    for _, dtype in ipairs({ "float32", "float64" }) do
      local c = nn.LSTMCell(2, 3, { key = key, dtype = dtype })
      assert.are.same({ 12, 2 }, c.weight_ih.shape)
      assert.are.same({ 12, 3 }, c.weight_hh.shape)
      assert.are.same({ 12 }, c.bias.shape)
      assert.are.equal(dtype, c.weight_hh.dtype)
      local lim = math.sqrt(1 / 3)
      local ks = { jr.split(key, 3):unpack() }
      local want = { jr.uniform(ks[1], { 12, 2 }, dtype, -lim, lim),
        jr.uniform(ks[2], { 12, 3 }, dtype, -lim, lim),
        jr.uniform(ks[3], { 12 }, dtype, -lim, lim) }
      assert.is_true(lx.tree_equal({ c.weight_ih, c.weight_hh, c.bias }, want))
    end
    local nb = nn.LSTMCell(2, 3, { key = key, use_bias = false })
    assert.is_nil(nb.bias)
    assert.is_false(nb.use_bias)
    assert.are.equal(2, nb.input_size)
    assert.are.equal(3, nb.hidden_size)
    assert.are.equal(2, #lx.tree.leaves(nb))
  end)

  for _, dtype in ipairs({ "float32", "float64" }) do
    it("steps as Equinox's LSTM, {h, c} in and out (" .. dtype .. ")", function()
      for _, bias in ipairs({ true, false }) do
        local cell = nn.LSTMCell(3, 2, bias, dtype, { key = key })
        local x, h, c = vector(3, 3), vector(2, 4), vector(2, 5)
        local out = cell(lx.array(x, dtype), { lx.array(h, dtype), lx.array(c, dtype) })
        assert.are.equal(2, #out)
        local wh, wc = ref_lstm(cell, x, h, c)
        assert_close(out[1], wh, TOL[dtype], "h")
        assert_close(out[2], wc, TOL[dtype], "c")
        assert.are.equal(dtype, out[2].dtype)
        for t = 1, 3 do
          local xt = vector(3, 20 + t)
          wh, wc = ref_lstm(cell, xt, wh, wc)
          out = cell(lx.array(xt, dtype), out)
        end
        assert_close(out[1], wh, TOL[dtype] * 4, "h sequence")
        assert_close(out[2], wc, TOL[dtype] * 4, "c sequence")
      end
    end)
  end

  it("raises clear errors", function()
    local c = nn.LSTMCell(3, 2, { key = key })
    local h = lx.ones({ 2 })
    raises("LSTMCell: a PRNG key is required", nn.LSTMCell, 3, 2)
    raises("LSTMCell: hidden_size must be an integer >= 1, got -1", nn.LSTMCell, 3, -1,
      { key = key })
    raises("LSTMCell: dtype must be a float dtype", nn.LSTMCell, 3, 2, true, "int64",
      { key = key })
    raises("LSTMCell(3 -> 2): hidden must be a list {h, c} of two arrays of shape {2}, got an "
      .. "array of shape {2}", c, lx.ones({ 3 }), h)
    raises("got a table of length 1", c, lx.ones({ 3 }), { h })
    raises("LSTMCell(3 -> 2) hidden c: expected an input of shape {2}, got {3}", c,
      lx.ones({ 3 }), { h, lx.ones({ 3 }) })
    raises("LSTMCell(3 -> 2) input: expected an input of shape {3}, got {2}", c, h, { h, h })
  end)

  it("serialises, and builds a skeleton with filter_eval_shape", function()
    local c = nn.LSTMCell(3, 2, { key = key })
    local b = lx.BytesIO()
    lx.tree_serialise_leaves(b, c)
    b:seek("set")
    local back = lx.tree_deserialise_leaves(b, nn.LSTMCell(3, 2, { key = jr.PRNGKey(9) }))
    assert.is_true(lx.tree_equal(c, back))
    local s = lx.filter_eval_shape(nn.GRUCell, 5, 6, { key = key })
    assert.are.equal(lx.ShapeDtypeStruct({ 18, 5 }), s.weight_ih)
    assert.are.equal(lx.ShapeDtypeStruct({ 6 }), s.bias_n)
    -- tree_at on one field
    local z = lx.tree_at(function(t) return t.weight_hh end, c, lx.zeros({ 8, 2 }))
    local x, h0 = lx.array(vector(3, 1)), { lx.zeros({ 2 }), lx.zeros({ 2 }) }
    assert.are.same(c(x, h0)[1]:tolist(), z(x, h0)[1]:tolist()) -- h = 0: weight_hh unused
    local h1 = { lx.ones({ 2 }), lx.ones({ 2 }) }
    assert.are_not.same(c(x, h1)[1]:tolist(), z(x, h1)[1]:tolist())
  end)
end)
