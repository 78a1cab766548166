-- The trick scripts (scripts/tricks/*.lua): each runs under the host of this
-- spec, from the repository root, from an unrelated directory and from its
-- own directory, exits with status 0 and prints its checks; and their
-- toy_nn module is unit-tested directly (the sampler, Linear, MLP).
local lx = require("lunox")
local process = require("spec.support.process")

-- The repository root: this file's directory's parent.
local spec_dir = (debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or ".")
spec_dir = process.absolute(spec_dir)
local root = spec_dir:match("^(.*)/spec$") or (spec_dir .. "/..")
local tricks_dir = root .. "/scripts/tricks"
local host = process.absolute(process.host)

package.path = tricks_dir .. "/?.lua;" .. package.path
local toy = require("toy_nn")

-- The scripts must find lunox and toy_nn with no help from the environment.
local ENV = { LUA_PATH = false, LUA_PATH_5_4 = false, LUA_INIT = false, LUA_INIT_5_4 = false }

-- Runs `host script` in directory dir; returns stdout, stderr, status.
local function run_script(dir, script)
  return process.run(("cd %s && %s %s"):format(process.quote(dir), process.quote(host),
    process.quote(script)), { env = ENV })
end

local function assert_lines(out, lines)
  for _, line in ipairs(lines) do
    assert.is_true(process.has_line(out, line), "missing line: " .. line .. "\n" .. out)
  end
  assert.is_falsy(out:find("[FAIL]", 1, true), out)
end

local EXPECTED = {
  ["surgery.lua"] = {
    "  [ok] the final layer is the new Linear",
    "  [ok] new_mlp has one leaf fewer (5 vs 6: the dropped bias)",
    "  [ok] untouched layers share their arrays with the original (nothing is copied)",
    "  [ok] the original MLP still computes what it did",
    "  [ok] assigning to a field raises an error that points to lx.tree_at",
    "surgery: all checks passed",
  },
  ["custom_init.lua"] = {
    "Re-initialised 4 Linear weights (in tree order: head, then mlp.layers):",
    "  [ok] every weight changed",
    "  [ok] every weight kept its shape and dtype",
    "  [ok] every new weight lies within +-2 * stddev, stddev = sqrt(1 / in_features)",
    "  [ok] biases are untouched (the very same arrays)",
    "  [ok] the re-initialised model runs",
    "custom_init: all checks passed",
  },
  ["symmetric.lua"] = {
    "    weight=Symmetric(matrix=f32[4,4]),",
    "  [ok] all 3 weights are Symmetric wrappers around the original matrices",
    "  [ok] the unresolved model cannot be called",
    "  [ok] every resolved weight equals its transpose",
    "  [ok] resolving gives back a plain MLP (same structure as the original)",
    "  [ok] the resolved model runs: y has shape {4}",
    "symmetric: all checks passed",
  },
}

describe("trick scripts", function()
  local tmp
  setup(function() tmp = process.tmpdir() end)
  teardown(function() process.remove_tree(tmp) end)

  for _, name in ipairs({ "surgery.lua", "custom_init.lua", "symmetric.lua" }) do
    it(name .. " passes its checks from the repository root", function()
      local out, err, status = run_script(root, "scripts/tricks/" .. name)
      assert.are.equal(0, status, err)
      assert.are.equal("", err)
      assert_lines(out, EXPECTED[name])
    end)

    it(name .. " prints the same from another directory and from its own", function()
      local ref = run_script(root, "scripts/tricks/" .. name)
      local out, err, status = run_script(tmp, tricks_dir .. "/" .. name)
      assert.are.equal(0, status, err)
      -- Printed function names and error positions carry toy_nn's path,
      -- which depends on the directory; everything else must match.
      local function strip(s)
        return (s:gsub("<function [^>]*>", "<function>"):gsub("%S*toy_nn%.lua:%d+: ", ""))
      end
      assert.are.equal(strip(ref), strip(out))
      local out2, err2, status2 = run_script(tricks_dir, name)
      assert.are.equal(0, status2, err2)
      assert.are.equal(strip(ref), strip(out2))
    end)
  end

  it("a failing check makes the script exit non-zero", function()
    -- A copy of surgery.lua whose first check cannot pass, next to toy_nn.
    local src = process.read_file(tricks_dir .. "/surgery.lua")
    local broken, n = src:gsub("check%(rawequal%(new_mlp%.layers%[3%], new_layer%)",
      "check(false")
    assert.are.equal(1, n)
    process.write_file(tmp .. "/broken.lua", broken)
    process.write_file(tmp .. "/toy_nn.lua", process.read_file(tricks_dir .. "/toy_nn.lua"))
    local out, err, status = run_script(tmp, "broken.lua")
    assert.are_not.equal(0, status)
    assert.is_truthy(out:find("  [FAIL] the final layer is the new Linear", 1, true), out)
    assert.is_truthy(err:find("surgery.lua: 1 check(s) failed", 1, true), err)
  end)
end)

-- Flat Lua list of an array's values.
local function values(a)
  local out = {}
  local function walk(v)
    if type(v) == "table" then
      for i = 1, #v do walk(v[i]) end
    else
      out[#out + 1] = v
    end
  end
  walk(a:tolist())
  return out
end

local function mean_std(xs)
  local s, s2 = 0, 0
  for _, x in ipairs(xs) do s, s2 = s + x, s2 + x * x end
  local mean = s / #xs
  return mean, math.sqrt(s2 / #xs - mean * mean)
end

local function raises(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. text)
  assert.is_truthy(tostring(err):find(text, 1, true), tostring(err))
end

describe("toy_nn sampler", function()
  it("is deterministic for a seed and differs between seeds", function()
    assert.are.same(values(toy.normal({ 3, 4 }, 5)), values(toy.normal({ 3, 4 }, 5)))
    assert.are_not.same(values(toy.normal({ 3, 4 }, 5)), values(toy.normal({ 3, 4 }, 6)))
    assert.are.same(toy.split(9, 4), toy.split(9, 4))
    assert.are_not.same(toy.split(9, 4), toy.split(10, 4))
    local g1, g2 = toy.prng(123), toy.prng(123)
    for _ = 1, 5 do assert.are.equal(g1:uniform(), g2:uniform()) end
  end)

  it("draws the same numbers under Lua 5.4 and LuaJIT (fixed values)", function()
    -- Pins the generator: exact doubles, so both hosts agree bit for bit.
    local g = toy.prng(0)
    assert.are.equal("0.9520802809516079", ("%.17g"):format(g:uniform()))
    assert.are.equal("0.069462124720369889", ("%.17g"):format(g:normal()))
    assert.are.same({ 4089153669, 3714608759, 3309591232 }, toy.split(0, 3))
    local ref = values(toy.normal({ 3 }, 1))
    local expected = { -0.08130571, -0.64445233, -0.88986343 }
    for i = 1, 3 do assert.is_true(math.abs(ref[i] - expected[i]) < 1e-7, tostring(ref[i])) end
  end)

  it("gives float32 arrays of the requested shape", function()
    for _, shape in ipairs({ { 7 }, { 2, 3 }, { 2, 1, 2 } }) do
      for _, a in ipairs({ toy.normal(shape, 1), toy.uniform(shape, -1, 1, 1),
        toy.truncated_normal(shape, -2, 2, 1) }) do
        assert.are.same(shape, a.shape)
        assert.are.equal("float32", a.dtype)
      end
    end
    assert.are.same({}, toy.normal({}, 3).shape)
    assert.are.same({ 0, 2 }, toy.normal({ 0, 2 }, 3).shape)
  end)

  it("normal has mean ~0 and std ~1 over 10,000 samples", function()
    local mean, std = mean_std(values(toy.normal({ 10000 }, 2024)))
    assert.is_true(math.abs(mean) < 0.05, "mean " .. mean)
    assert.is_true(math.abs(std - 1) < 0.05, "std " .. std)
  end)

  it("uniform stays in [lower, upper) with mean ~ the midpoint", function()
    local xs = values(toy.uniform({ 5000 }, -3, 1, 8))
    for _, x in ipairs(xs) do assert.is_true(x >= -3 and x < 1, tostring(x)) end
    local mean = mean_std(xs)
    assert.is_true(math.abs(mean + 1) < 0.1, "mean " .. mean)
  end)

  it("truncated_normal stays strictly inside its bounds, wherever they lie", function()
    local cases = {
      { -2, 2 }, { 0.5, 1 }, { -1, 10 }, { 3, math.huge }, { -math.huge, -4 },
      { -0.001, 0.001 }, { 0, math.huge },
    }
    for _, c in ipairs(cases) do
      local xs = values(toy.truncated_normal({ 2000 }, c[1], c[2], 11))
      for _, x in ipairs(xs) do
        assert.is_true(x > c[1] and x < c[2], ("%g outside (%g, %g)"):format(x, c[1], c[2]))
      end
    end
  end)

  it("truncated_normal(-2, 2) has the truncated law's moments", function()
    -- A standard normal cut at +-2: mean 0, std 0.8796.
    local mean, std = mean_std(values(toy.truncated_normal({ 10000 }, -2, 2, 77)))
    assert.is_true(math.abs(mean) < 0.05, "mean " .. mean)
    assert.is_true(math.abs(std - 0.8796) < 0.04, "std " .. std)
    -- One-sided tail beyond 3: mean phi(3) / (1 - Phi(3)) = 3.2831.
    local tail_mean = mean_std(values(toy.truncated_normal({ 5000 }, 3, math.huge, 78)))
    assert.is_true(math.abs(tail_mean - 3.2831) < 0.05, "tail mean " .. tail_mean)
  end)

  it("rejects bad seeds, shapes and bounds with messages naming the function", function()
    raises("toy_nn.normal: the seed must be an integer in [0, 2^32), got 1.5",
      toy.normal, { 2 }, 1.5)
    raises("toy_nn.normal: the seed must be an integer in [0, 2^32), got -1", toy.normal, { 2 }, -1)
    raises("toy_nn.normal: shape[2] must be a non-negative integer", toy.normal, { 2, -1 }, 0)
    raises("toy_nn.truncated_normal: need numbers lower < upper, got 2 and -2",
      toy.truncated_normal, { 2 }, 2, -2, 0)
    raises("toy_nn.uniform: the bounds must be finite", toy.uniform, { 2 }, 0, math.huge, 0)
  end)
end)

describe("toy_nn Linear and MLP", function()
  local function shape(a) return table.concat(a.shape, ",") end

  it("Linear has weight {out,in}, bias {out}, init within 1/sqrt(in)", function()
    local l = toy.Linear(9, 2, { key = 3 })
    assert.are.equal("2,9", shape(l.weight))
    assert.are.equal("2", shape(l.bias))
    assert.are.same({ 9, 2, true }, { l.in_features, l.out_features, l.use_bias })
    for _, x in ipairs(values(l.weight)) do assert.is_true(math.abs(x) <= 1 / 3) end
    for _, x in ipairs(values(l.bias)) do assert.is_true(math.abs(x) <= 1 / 3) end
    assert.is_true(toy.is_linear(l))
    assert.is_false(toy.is_linear(l.weight))
    assert.are.equal("2", shape(l(lx.ones({ 9 }))))
  end)

  it("Linear without bias has a nil bias and computes weight @ x", function()
    local l = toy.Linear(3, 2, { key = 1, use_bias = false })
    assert.is_nil(l.bias)
    assert.is_false(l.use_bias)
    assert.are.equal(1, #lx.tree.leaves(l))
    local x = lx.array({ 1, 2, 3 })
    assert.is_true(lx.tree_equal(l(x), lx.matmul(l.weight, x)))
  end)

  it("keys decide the weights: same key same layer, different keys differ", function()
    local a, b, c = toy.Linear(4, 4, { key = 1 }), toy.Linear(4, 4, { key = 1 }),
      toy.Linear(4, 4, { key = 2 })
    assert.is_true(lx.tree_equal(a, b))
    assert.is_false(lx.tree_equal(a.weight, c.weight))
    assert.is_false(lx.tree_equal(a.bias, c.bias))
  end)

  it("MLP depth d has d + 1 Linear layers with Equinox's sizes", function()
    local m0 = toy.MLP(3, 2, 5, 0, { key = 0 })
    assert.are.equal(1, #m0.layers)
    assert.are.equal("2,3", shape(m0.layers[1].weight))
    local m = toy.MLP(3, 2, 5, 3, { key = 0 })
    assert.are.equal(4, #m.layers)
    local shapes = {}
    for i, l in ipairs(m.layers) do shapes[i] = shape(l.weight) end
    assert.are.same({ "5,3", "5,5", "5,5", "2,5" }, shapes)
    assert.are.equal("2", shape(m(lx.ones({ 3 }))))
    -- The layers come from different seeds.
    assert.is_false(lx.tree_equal(m.layers[2].weight, m.layers[3].weight))
  end)

  it("MLP applies activation between layers and final_activation once at the end", function()
    local calls, finals = 0, 0
    local m = toy.MLP(2, 2, 3, 2, {
      key = 4,
      activation = function(x) calls = calls + 1; return lx.tanh(x) end,
      final_activation = function(x) finals = finals + 1; return x * 0 end,
    })
    local y = m(lx.ones({ 2 }))
    assert.are.equal(2, calls)
    assert.are.equal(1, finals)
    assert.is_true(lx.tree_equal(y, lx.zeros({ 2 })))
    -- Defaults: relu between layers, identity at the end.
    local d = toy.MLP(2, 2, 3, 1, { key = 4 })
    assert.are.equal(toy.relu, d.activation)
    assert.are.equal(toy.identity, d.final_activation)
    assert.is_true(lx.tree_equal(toy.relu(lx.array({ -1, 2 })), lx.array({ 0, 2 })))
  end)

  it("MLP use_bias and use_final_bias drop biases where asked", function()
    local m = toy.MLP(2, 2, 3, 2, { key = 1, use_bias = false })
    assert.is_nil(m.layers[1].bias)
    assert.is_nil(m.layers[2].bias)
    assert.is_not_nil(m.layers[3].bias)
    local f = toy.MLP(2, 2, 3, 2, { key = 1, use_final_bias = false })
    assert.is_not_nil(f.layers[2].bias)
    assert.is_nil(f.layers[3].bias)
  end)

  it("rejects missing keys, misspelt options and bad sizes", function()
    raises("toy_nn.Linear: opts.key must be an integer seed", toy.Linear, 2, 2, {})
    raises("toy_nn.Linear: unknown option 'use_bais'", toy.Linear, 2, 2,
      { key = 1, use_bais = false })
    raises("toy_nn.Linear: in_features must be a positive integer, got 0", toy.Linear, 0, 2,
      { key = 1 })
    raises("toy_nn.MLP: depth must be a non-negative integer, got -1", toy.MLP, 2, 2, 2, -1,
      { key = 1 })
    raises("toy_nn.MLP: the last argument must be an options table", toy.MLP, 2, 2, 2, 1)
  end)
end)
