-- lx.nn's core layers: Linear, Identity, MLP (and its scan layout),
-- Sequential, Lambda, Dropout, State/StateIndex/make_with_state,
-- inference_mode and the activations.
--
-- Initial weights are compared with spec/fixtures/nn_init.json, which
-- spec/fixtures/make_nn_fixtures.py computes with NumPy from JAX's and
-- Equinox's algorithms (an implementation independent of lunox's C code)
-- after checking itself against JAX's published random values.
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local S = require("spec.support.serialise_helpers")
local nn, jr = lx.nn, lx.random

local function read_fixture(name)
  local f = assert(io.open(S.spec_dir() .. "/fixtures/" .. name, "rb"))
  local text = f:read("a")
  f:close()
  return lx.json.decode(text)
end

local with_scheme = require("spec.support.random_helpers").with_scheme

local function leaf_map(model)
  local out = {}
  for _, pair in ipairs(lx.tree.flatten_with_path(model)) do
    local path, leaf = pair[1], pair[2]
    if lx.is_array(leaf) then out[lx.tree.keystr(path)] = leaf end
  end
  return out
end

describe("initialisation matches Equinox (spec/fixtures/nn_init.json)", function()
  local FIX = read_fixture("nn_init.json")

  it("covers both key schemes", function()
    local seen = {}
    for _, case in ipairs(FIX.cases) do seen[tostring(case.partitionable)] = true end
    assert.is_true(seen["true"] and seen["false"])
  end)

  for _, case in ipairs(FIX.cases) do
    local scheme = case.partitionable and "partitionable" or "original"
    it(case.layer .. ", PRNGKey(" .. case.seed .. "), " .. scheme, function()
      with_scheme(case.partitionable, function()
        local key = jr.PRNGKey(case.seed)
        local model
        if case.layer:match("^MLP") then
          model = nn.MLP(2, 3, 4, 2, { key = key })
        else
          model = nn.Linear(case["in"], case.out, case.use_bias, { key = key })
        end
        local leaves = leaf_map(model)
        local n = 0
        for path, want in pairs(case.leaves) do
          local got = leaves["." .. path] or leaves[path]
          if want == lx.none then
            assert.is_nil(got, path)
          else
            n = n + 1
            assert.is_not_nil(got, "missing leaf " .. path)
            assert.are.same(want, got:tolist(), path)
          end
        end
        local count = 0
        for _ in pairs(leaves) do count = count + 1 end
        assert.are.equal(n, count)
      end)
    end)
  end
end)

describe("Linear", function()
  local key = jr.PRNGKey(3)

  it("has Equinox's fields, static fields and bounds", function()
    local l = nn.Linear(5, 2, { key = key })
    assert.are.same({ 2, 5 }, l.weight.shape)
    assert.are.same({ 2 }, l.bias.shape)
    assert.are.equal("float32", l.weight.dtype)
    assert.are.equal(5, l.in_features)
    assert.are.equal(2, l.out_features)
    assert.is_true(l.use_bias)
    local lim = 1 / math.sqrt(5)
    assert.is_true(lx.max(lx.abs(l.weight)):item() <= lim)
    -- the first split key draws the weight, the second the bias
    local wkey, bkey = jr.split(key):unpack()
    assert.are.same(jr.uniform(wkey, { 2, 5 }, "float32", -lim, lim):tolist(), l.weight:tolist())
    assert.are.same(jr.uniform(bkey, { 2 }, "float32", -lim, lim):tolist(), l.bias:tolist())
  end)

  it("computes weight @ x + bias on one example", function()
    local l = nn.Linear(3, 2, { key = key })
    local x = lx.array({ 1, -2, 0.5 })
    local w, b, xs = l.weight:tolist(), l.bias:tolist(), x:tolist()
    local y = l(x):tolist()
    for i = 1, 2 do
      local want = b[i]
      for j = 1, 3 do want = want + w[i][j] * xs[j] end
      assert.is_true(math.abs(y[i] - want) < 1e-6)
    end
  end)

  it("takes use_bias and dtype positionally or as options", function()
    local a = nn.Linear(3, 4, false, "float64", { key = key })
    local b = nn.Linear(3, 4, { use_bias = false, dtype = "float64", key = key })
    assert.is_nil(a.bias)
    assert.are.equal("float64", a.weight.dtype)
    assert.is_true(lx.tree_equal(a, b))
    assert.are.equal("bfloat16", nn.Linear(3, 4, { dtype = "bfloat16", key = key }).weight.dtype)
  end)

  it("supports \"scalar\" sizes", function()
    local up = nn.Linear("scalar", 3, { key = key })
    assert.are.same({ 3, 1 }, up.weight.shape)
    assert.are.same({ 3 }, up(lx.array(2.0)).shape)
    local down = nn.Linear(3, "scalar", { key = key })
    assert.are.same({ 1 }, down.bias.shape)
    assert.are.same({}, down(lx.ones({ 3 })).shape)
    H.raises({ "Linear(\"scalar\" -> 3)", "shape {}", "got {1}" }, up, lx.ones({ 1 }))
  end)

  it("refuses bad arguments, a missing key and wrong inputs", function()
    H.raises({ "Linear", "PRNG key is required" }, nn.Linear, 3, 4)
    H.raises({ "Linear", "key must be a PRNG key" }, nn.Linear, 3, 4, { key = 5 })
    H.raises({ "Linear", "in_features", "-1" }, nn.Linear, -1, 4, { key = key })
    H.raises({ "Linear", "out_features", "2.5" }, nn.Linear, 3, 2.5, { key = key })
    H.raises({ "Linear", "unknown option 'bias'" }, nn.Linear, 3, 4, { key = key, bias = false })
    H.raises({ "Linear", "given both" }, nn.Linear, 3, 4, true, { key = key, use_bias = false })
    H.raises({ "Linear", "dtype" }, nn.Linear, 3, 4, { key = key, dtype = "int32" })
    local l = nn.Linear(3, 4, { key = key })
    H.raises({ "Linear(3 -> 4)", "expected an input of shape {3}, got {5}" }, l, lx.ones({ 5 }))
    H.raises({ "Linear(3 -> 4)", "{2,3}" }, l, lx.ones({ 2, 3 }))
    H.raises({ "Linear(3 -> 4)", "must be an array" }, l, { 1, 2, 3 })
  end)

  it("allows zero out_features but not zero in_features (1/sqrt(0)), as Equinox", function()
    local l = nn.Linear(2, 0, { key = key })
    assert.are.same({ 0, 2 }, l.weight.shape)
    H.raises({ "Linear", "in_features must be an integer >= 1", "got 0" }, nn.Linear, 0, 2, { key = key })
    H.raises({ "MLP", "width_size must be an integer >= 1" }, nn.MLP, 2, 3, 0, 2, { key = key })
  end)

  it("is immutable, prints, and takes tree_at surgery", function()
    local l = nn.Linear(3, 4, { key = key })
    H.raises("tree_at", function() l.weight = lx.zeros({ 4, 3 }) end)
    assert.matches("weight=f32%[4,3%]", tostring(l))
    local z = lx.tree_at(function(m) return m.bias end, l, lx.zeros({ 4 }))
    assert.are.same({ 0, 0, 0, 0 }, z.bias:tolist())
  end)
end)

describe("Identity and Lambda", function()
  it("Identity ignores its arguments and returns its input", function()
    local x = lx.ones({ 2 })
    assert.are.equal(x, nn.Identity(1, "a", { b = 2 })(x))
  end)

  it("Lambda calls its function; the function is a leaf", function()
    local lam = nn.Lambda(nn.relu)
    assert.are.same({ 0, 2 }, lam(lx.array({ -1, 2 })):tolist())
    assert.are.equal(1, #lx.tree.leaves(lam))
    H.raises({ "Lambda", "function" }, nn.Lambda, 3)
  end)
end)

describe("MLP", function()
  local key = jr.PRNGKey(11)

  it("draws one key per layer, in order, and has Equinox's fields", function()
    local m = nn.MLP(3, 2, 5, 3, { key = key })
    assert.are.equal(4, #m.layers)
    local keys = { jr.split(key, 4):unpack() }
    local sizes = { { 3, 5 }, { 5, 5 }, { 5, 5 }, { 5, 2 } }
    for i = 1, 4 do
      local l = nn.Linear(sizes[i][1], sizes[i][2], { key = keys[i] })
      assert.is_true(lx.tree_equal(l, m.layers[i]), "layer " .. i)
    end
    assert.are.equal(nn.relu, m.activation)
    assert.are.equal(nn.identity, m.final_activation)
    assert.are.same({ 3, 2, 5, 3 }, { m.in_size, m.out_size, m.width_size, m.depth })
  end)

  it("computes layers with activations between them", function()
    local m = nn.MLP(2, 2, 3, 1, { key = key, activation = lx.tanh, final_activation = nn.sigmoid })
    local x = lx.array({ 0.3, -0.7 })
    local want = nn.sigmoid(m.layers[2](lx.tanh(m.layers[1](x))))
    assert.are.same(want:tolist(), m(x):tolist())
  end)

  it("depth 0 is one Linear with use_final_bias", function()
    local m = nn.MLP(4, 2, 99, 0, false, nil, true, false, { key = key })
    assert.are.equal(1, #m.layers)
    assert.is_nil(m.layers[1].bias)
    assert.are.same({ 2, 4 }, m.layers[1].weight.shape)
  end)

  it("use_bias and use_final_bias", function()
    local m = nn.MLP(2, 2, 3, 2, { key = key, use_bias = false })
    assert.is_nil(m.layers[1].bias)
    assert.is_nil(m.layers[2].bias)
    assert.is_not_nil(m.layers[3].bias)
  end)

  it("scan = true stacks the hidden layers with the same values", function()
    local plain = nn.MLP(2, 3, 4, 4, { key = key })
    local scanned = nn.MLP(2, 3, 4, 4, { key = key, scan = true })
    assert.are.equal(3, #scanned.layers)
    assert.are.same({ 3, 4, 4 }, scanned.layers[2].weight.shape)
    assert.are.same({ 3, 4 }, scanned.layers[2].bias.shape)
    for i = 1, 3 do
      assert.are.same(plain.layers[i + 1].weight:tolist(), scanned.layers[2].weight[i]:tolist())
    end
    local x = lx.array({ 1, -1 })
    assert.are.same(plain(x):tolist(), scanned(x):tolist())
  end)

  it("runs in float64, float16 and bfloat16", function()
    local TOL = { float64 = 1e-12, float16 = 2e-2, bfloat16 = 6e-2 }
    for dt, tol in pairs(TOL) do
      local m = nn.MLP(3, 2, 4, 2, { key = key, dtype = dt })
      assert.are.equal(dt, m.layers[1].weight.dtype)
      local x = lx.array({ 0.5, -1, 2 }, dt)
      local y = m(x)
      assert.are.equal(dt, y.dtype)
      local wide = lx.tree.map(function(a) return lx.is_array(a) and a:astype("float64") or a end, m)
      local want = wide(x:astype("float64")):tolist()
      local got = y:tolist()
      for i = 1, 2 do
        assert.is_true(math.abs(got[i] - want[i]) <= tol * math.max(1, math.abs(want[i])), dt)
      end
    end
  end)

  it("refuses bad sizes, activations and missing keys", function()
    H.raises({ "MLP", "PRNG key is required" }, nn.MLP, 2, 2, 2, 2)
    H.raises({ "MLP", "depth", "-1" }, nn.MLP, 2, 2, 2, -1, { key = key })
    H.raises({ "MLP", "width_size" }, nn.MLP, 2, 2, -3, 2, { key = key })
    H.raises({ "MLP", "activation must be a function" }, nn.MLP, 2, 2, 2, 2, { key = key, activation = 3 })
    local m = nn.MLP(2, 2, 2, 2, { key = key })
    H.raises({ "Linear(2 -> 2)", "got {3}" }, m, lx.ones({ 3 }))
  end)

  it("builds as a skeleton and round-trips through .eqx", function()
    local sk = lx.filter_eval_shape(nn.MLP, 5, 2, 8, 2, { key = key })
    assert.is_true(lx.is_shape_dtype_struct(sk.layers[1].weight) or lx.is_abstract(sk.layers[1].weight))
    local m = nn.MLP(5, 2, 8, 2, { key = key })
    local buf = lx.BytesIO()
    lx.tree_serialise_leaves(buf, m)
    buf:seek("set", 0)
    local back = lx.tree_deserialise_leaves(buf, nn.MLP(5, 2, 8, 2, { key = jr.PRNGKey(0) }))
    assert.is_true(lx.tree_equal(m, back))
  end)
end)

describe("Sequential", function()
  local key = jr.PRNGKey(5)

  it("chains layers and plain functions", function()
    local l1 = nn.Linear(2, 3, { key = key })
    local seq = nn.Sequential({ l1, nn.relu, nn.Lambda(lx.tanh) })
    local x = lx.array({ 1, 2 })
    assert.are.same(lx.tanh(nn.relu(l1(x))):tolist(), seq(x):tolist())
  end)

  it("splits its key over the layers", function()
    local d1, d2 = nn.Dropout(0.5), nn.Dropout(0.5)
    local seq = nn.Sequential({ d1, d2 })
    local x = lx.ones({ 64 })
    local k1, k2 = jr.split(key, 2):unpack()
    local want = d2(d1(x, { key = k1 }), { key = k2 })
    assert.are.same(want:tolist(), seq(x, { key = key }):tolist())
  end)

  it("refuses what is not a list of layers", function()
    H.raises({ "Sequential", "list" }, nn.Sequential, lx.ones({ 2 }))
    H.raises({ "Sequential", "layer 2" }, nn.Sequential, { nn.relu, 3 })
  end)
end)

describe("Dropout and inference_mode", function()
  local key = jr.PRNGKey(9)

  it("drops with probability p and rescales the rest", function()
    local d = nn.Dropout(0.25)
    local y = d(lx.ones({ 4000 }), { key = key })
    local vals = y:tolist()
    local zeros, kept = 0, 0
    for _, v in ipairs(vals) do
      if v == 0 then zeros = zeros + 1 else kept = kept + 1; assert.is_true(math.abs(v - 1 / 0.75) < 1e-6) end
    end
    assert.is_true(math.abs(zeros / 4000 - 0.25) < 0.03)
    -- as Equinox: mask = bernoulli(key, 1 - p, shape)
    local mask = jr.bernoulli(key, 0.75, { 4000 }):tolist()
    for i = 1, 4000 do assert.are.equal(mask[i], vals[i] ~= 0) end
  end)

  it("requires a key in training, not in inference", function()
    local d = nn.Dropout(0.5)
    local x = lx.ones({ 3 })
    H.raises({ "Dropout", "key is required" }, d, x)
    assert.are.equal(x, d(x, { inference = true }))
    assert.are.equal(x, nn.Dropout(0)(x))
    assert.are.equal(x, nn.inference_mode(d)(x))
    H.raises({ "Dropout", "p must be a probability" }, nn.Dropout, 1.5)
  end)

  it("inference_mode sets every inference field, and back", function()
    local model = { a = nn.Dropout(0.1), b = { nn.Dropout(0.2), nn.Linear(2, 2, { key = key }) } }
    local inf = nn.inference_mode(model)
    assert.is_true(inf.a.inference and inf.b[1].inference)
    assert.is_false(model.a.inference)
    local train = nn.inference_mode(inf, false)
    assert.is_false(train.a.inference or train.b[1].inference)
    local plain = nn.Linear(2, 2, { key = key })
    assert.is_true(lx.tree_equal(plain, nn.inference_mode(plain)))
  end)
end)

describe("State, StateIndex, make_with_state", function()
  local Counter = lx.Module:extend("Counter", { fields = { "index" } })
  function Counter:init() self.index = nn.StateIndex(lx.zeros({ 2 })) end
  function Counter:is_stateful() return true end
  function Counter:__call(x, state)
    local n = state:get(self.index)
    return x + n, state:set(self.index, n + 1)
  end

  it("moves initial values into the State and threads it through Sequential", function()
    local model, state = nn.make_with_state(Counter)()
    assert.is_nil(model.index.initial) -- lx.none: an empty subtree
    assert.are.same({ 0, 0 }, state:get(model.index):tolist())
    local seq = nn.Sequential({ model, model })
    local y, s2 = seq(lx.ones({ 2 }), state)
    assert.are.same({ 2, 2 }, y:tolist()) -- 1 + 0 + 1
    assert.are.same({ 2, 2 }, s2:get(model.index):tolist())
    assert.are.same({ 0, 0 }, state:get(model.index):tolist()) -- states are immutable
  end)

  it("refuses changed shapes, foreign indexes and direct State(model)", function()
    local model, state = nn.make_with_state(Counter)()
    H.raises({ "State:set", "shape or dtype" }, state.set, state, model.index, lx.zeros({ 3 }))
    H.raises({ "State:get", "StateIndex" }, state.get, state, 3)
    local other = Counter()
    H.raises("not part of the model", state.get, state, other.index)
    H.raises({ "State", "make_with_state" }, nn.State, model)
    H.raises({ "StateIndex", "nil" }, nn.StateIndex)
  end)

  it("serialises as a pytree", function()
    local model, state = nn.make_with_state(Counter)()
    local s2 = state:set(model.index, lx.array({ 3, 4 }))
    local buf = lx.BytesIO()
    lx.tree_serialise_leaves(buf, s2)
    buf:seek("set", 0)
    local back = lx.tree_deserialise_leaves(buf, state)
    assert.are.same({ 3, 4 }, back:get(model.index):tolist())
  end)
end)

describe("activations", function()
  local x = lx.array({ -3, -0.5, 0, 0.5, 3 })
  local xs = x:tolist()

  local function each(f)
    local out = {}
    for i, v in ipairs(xs) do out[i] = f(v) end
    return out
  end
  local function close(got, want, tol)
    for i = 1, #want do
      assert.is_true(math.abs(got[i] - want[i]) <= tol * math.max(1, math.abs(want[i])),
        ("element %d: %.9g vs %.9g"):format(i, got[i], want[i]))
    end
  end

  it("relu, silu, sigmoid, softplus", function()
    close(nn.relu(x):tolist(), each(function(v) return math.max(v, 0) end), 0)
    local function sig(v) return 1 / (1 + math.exp(-v)) end
    close(nn.sigmoid(x):tolist(), each(sig), 1e-6)
    close(nn.silu(x):tolist(), each(function(v) return v * sig(v) end), 1e-6)
    close(nn.softplus(x):tolist(), each(function(v) return math.log(1 + math.exp(v)) end), 1e-6)
    -- no overflow, and tiny values keep their digits
    local big = nn.softplus(lx.array({ 100, -30 }, "float64")):tolist()
    assert.are.equal(100, big[1])
    assert.is_true(math.abs(big[2] - math.exp(-30)) < 1e-20)
    -- log1p(e^x) for moderately negative x keeps its digits (series reference)
    local function log1p(t)
      local s, term = 0, t
      for k = 1, 60 do s = s + term / k; term = -term * t end
      return s
    end
    local xs = { -3, -5, -9, -12, -15 }
    for _, dt in ipairs({ "float32", "float64" }) do
      local got = nn.softplus(lx.array(xs, dt)):tolist()
      for i, v in ipairs(xs) do
        local want = log1p(math.exp(v))
        local tol = dt == "float32" and 3e-7 or 1e-14
        assert.is_true(math.abs(got[i] - want) <= tol * want,
          ("softplus(%g) %s: %.17g vs %.17g"):format(v, dt, got[i], want))
      end
    end
  end)

  it("gelu: tanh approximation by default, exact on request", function()
    local c = math.sqrt(2 / math.pi)
    close(nn.gelu(x):tolist(), each(function(v)
      return 0.5 * v * (1 + math.tanh(c * (v + 0.044715 * v ^ 3))) end), 1e-6)
    -- exact: x Phi(x), Phi from erf (values of Phi to 10 digits)
    local phi = { 0.0013498980, 0.3085375387, 0.5, 0.6914624613, 0.9986501020 }
    local g = nn.gelu(x, false):tolist()
    for i = 1, 5 do assert.is_true(math.abs(g[i] - xs[i] * phi[i]) < 2e-6) end
  end)

  it("softmax and log_softmax along an axis", function()
    local m = lx.array({ { 1, 2, 3 }, { 0, 0, 1000 } })
    local s = nn.softmax(m):tolist()
    local e = { math.exp(1), math.exp(2), math.exp(3) }
    local sum = e[1] + e[2] + e[3]
    close(s[1], { e[1] / sum, e[2] / sum, e[3] / sum }, 1e-6)
    close(s[2], { 0, 0, 1 }, 0) -- no overflow
    local ls = nn.log_softmax(m, 1):tolist()
    close({ ls[1][3], ls[2][3] }, { -997, 0 }, 1e-6)
    local l1 = math.log(math.exp(1) + 1)
    close({ ls[1][1], ls[2][1] }, { 1 - l1, -l1 }, 1e-6)
    local col = nn.softmax(m, 1):tolist()
    close({ col[1][1] + col[2][1] }, { 1 }, 1e-6)
    H.raises({ "softmax", "axis" }, nn.softmax, m, 3)
  end)
end)
