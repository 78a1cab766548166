-- lx.random against JAX's own known answers. Every expected value below is
-- copied from a JAX source, never computed by lunox:
--   [R123]  tests/random_test.py, testThreefry2x32: the Random123 reference
--           vectors of threefry2x32 (20 rounds).
--   [BITS]  tests/random_test.py, testRngRandomBits (original scheme).
--   [SPLIT] tests/random_test.py, testSplit / testFoldIn / testRandintRanges
--           key(0) cases (original scheme: they are skipped when
--           jax_threefry_partitionable is on).
--   [SEED]  tests/random_test.py, test_prng_seeds_and_keys (64-bit seeds).
--   [CASES] tests/random_test.py, _RANDOM_VALUES_CASES: seed =
--           zlib.adler32(name .. "threefry2x32"), shape (5,), original
--           scheme, compared with assertAllClose (rtol 1e-6 for float32).
--   [DOCS]  the jax.random module docs: uniform(key(0)) and, after
--           `key, subkey = split(key)`, uniform(subkey); the current docs
--           (partitionable) and the docs before JAX 0.5 (original).
--   [PROP]  tests/random_test.py property: with the partitionable scheme,
--           fold_in(key, i) == split(key, n)[i].
local lx = require("lunox")
local H = require("spec.support.array_helpers")
local jr = lx.random

local with_scheme = require("spec.support.random_helpers").with_scheme

local function close_list(got, want, rtol)
  assert.are.equal(#want, #got)
  for i = 1, #want do
    local tol = rtol * math.max(1, math.abs(want[i]))
    if math.abs(got[i] - want[i]) > tol then
      error(("element %d: got %.9g, want %.9g"):format(i, got[i], want[i]), 2)
    end
  end
end

-- zlib.adler32(name .. "threefry2x32"), as the [CASES] seeds.
local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return b * 65536 + a
end

describe("threefry2x32", function()
  it("gives the Random123 reference vectors [R123]", function()
    local function tf(k0, k1, x0, x1)
      return jr.threefry2x32(lx.array({ k0, k1 }, "uint32"), x0, x1):tolist()
    end
    assert.are.same({ 0x6b200159, 0x99ba4efe }, tf(0, 0, 0, 0))
    local m = 0xffffffff
    assert.are.same({ 0x1cb996fc, 0xbb002be7 }, tf(m, m, m, m))
    assert.are.same({ 0xc4923a9c, 0x483df7a0 },
      tf(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3))
  end)
end)

describe("PRNGKey", function()
  it("is {seed >> 32, seed & 0xffffffff} as uint32 {2} [SEED]", function()
    local k = jr.PRNGKey(0)
    assert.are.equal("uint32", k.dtype)
    assert.are.same({ 2 }, k.shape)
    assert.are.same({ 0, 0 }, k:tolist())
    assert.are.same({ 0, 1701 }, jr.PRNGKey(1701):tolist())
    assert.are.same({ 4294967295, 4294967295 }, jr.PRNGKey(-1):tolist())
    assert.are.same({ 0, 2147483747 }, jr.PRNGKey(2147483647 + 100):tolist())
    if H.has_integers then
      assert.are.same({ 0x7fffffff, 0xffffffff }, jr.PRNGKey(math.maxinteger):tolist())
    end
  end)

  it("refuses seeds that are not integers", function()
    H.raises("PRNGKey", jr.PRNGKey, 1.5)
    H.raises("PRNGKey", jr.PRNGKey, "1")
    H.raises("PRNGKey", jr.PRNGKey, nil)
  end)
end)

describe("original scheme (threefry_partitionable = false)", function()
  it("split and fold_in give JAX's keys [SPLIT]", function()
    with_scheme(false, function()
      local keys = jr.split(jr.PRNGKey(0), 4)
      assert.are.same({ 4, 2 }, keys.shape)
      assert.are.same({ { 2285895361, 1501764800 }, { 1518642379, 4090693311 },
        { 433833334, 4221794875 }, { 839183663, 3740430601 } }, keys:tolist())
      assert.are.same({ 2285895361, 433833334 }, jr.fold_in(jr.PRNGKey(0), 4):tolist())
    end)
  end)

  it("draws JAX's raw bits [BITS]", function()
    with_scheme(false, function()
      local key = jr.PRNGKey(1701)
      assert.are.same({ 216, 115, 43 }, jr.bits(key, { 3 }, "uint8"):tolist())
      assert.are.same({ 56197195, 4200222568, 961309823 }, jr.bits(key, { 3 }):tolist())
      assert.are.equal("uint32", jr.bits(key, { 3 }).dtype)
      assert.are.same({ 41682, 1300, 55017 }, jr.bits(key, { 3 }, "uint16"):tolist())
      -- 64-bit values above 2^63 reach Lua rounded: compare the exact print
      -- (the test's x64 expectation).
      local b64 = jr.bits(key, { 3 }, "uint64")
      assert.are.equal("uint64", b64.dtype)
      assert.matches("3982329540505020460,%s+16822122385914693683,%s+7882654074788531506",
        tostring(b64))
    end)
  end)

  it("randint gives JAX's values for int32 and int64 [SPLIT]", function()
    with_scheme(false, function()
      local key = jr.PRNGKey(0)
      assert.are.same({ { 2, 1, 3 }, { 6, 1, 5 }, { 6, 3, 4 } },
        jr.randint(key, { 3, 3 }, 0, 8):tolist())
      assert.are.same({ { 7, 2, 6 }, { 2, 1, 0 }, { 6, 7, 7 } },
        jr.randint(key, { 3, 3 }, 0, 8, "int64"):tolist())
    end)
  end)

  it("every distribution matches _RANDOM_VALUES_CASES [CASES]", function()
    with_scheme(false, function()
      local function key(name) return jr.PRNGKey(adler32(name .. "threefry2x32")) end
      assert.are.equal(1193674498, adler32("normalthreefry2x32")) -- zlib's own value
      assert.are.same({ false, true, true, true, false },
        jr.bernoulli(key("bernoulli"), 0.5, { 5 }):tolist())
      assert.are.same({ 10, 158, 82, 54, 158 }, jr.bits(key("bits"), { 5 }, "uint8"):tolist())
      assert.are.same({ 1978747883, 4134381225, 3628107870, 689687174, 2788938207 },
        jr.bits(key("bits"), { 5 }, "uint32"):tolist())
      assert.are.same({ 6738, 38161, 50695, 57337, 61600 },
        jr.bits(key("bits"), { 5 }, "uint16"):tolist())
      assert.matches("17649965731882839947,%s+1415307058040849897,%s+8282622628079774249,%s+"
        .. "14024425113645909402,%s+2012979996110532418", tostring(jr.bits(key("bits"), { 5 }, "uint64")))
      close_list(jr.normal(key("normal"), { 5 }):tolist(),
        { -1.173234, -1.511662, 0.070593, -0.099764, 1.052845 }, 1e-6)
      assert.are.same({ 0, 5, 7, 7, 5 }, jr.randint(key("randint"), { 5 }, 0, 10):tolist())
      close_list(jr.truncated_normal(key("truncated_normal"), 0, 2, { 5 }):tolist(),
        { 0.582807, 1.709771, 0.159513, 0.861376, 0.36148 }, 1e-6)
      close_list(jr.uniform(key("uniform"), { 5 }):tolist(),
        { 0.298671, 0.073213, 0.873356, 0.260549, 0.412797 }, 1e-6)
    end)
  end)

  it("uniform gives the values of the pre-0.5 docs [DOCS]", function()
    with_scheme(false, function()
      local key = jr.PRNGKey(0)
      close_list({ jr.uniform(key):item() }, { 0.41845703 }, 1e-7)
      local _, subkey = jr.split(key):unpack()
      close_list({ jr.uniform(subkey):item() }, { 0.10536897 }, 1e-7)
    end)
  end)
end)

describe("partitionable scheme (the default)", function()
  it("is the default", function()
    assert.is_true(lx.config.threefry_partitionable)
  end)

  it("uniform gives the values of the current docs [DOCS]", function()
    local key = jr.PRNGKey(0)
    close_list({ jr.uniform(key):item() }, { 0.947667 }, 1e-6)
    local _, subkey = jr.split(key):unpack()
    close_list({ jr.uniform(subkey):item() }, { 0.00729382 }, 1e-6)
  end)

  it("fold_in(key, i) is split(key, n)[i] [PROP]", function()
    for _, seed in ipairs({ 0, 1701, 123456789 }) do
      local key = jr.PRNGKey(seed)
      local keys = jr.split(key, 5)
      for i = 0, 4 do
        assert.are.same(keys[i + 1]:tolist(), jr.fold_in(key, i):tolist())
      end
    end
  end)

  it("fold_in is the same in both schemes", function()
    local a = jr.fold_in(jr.PRNGKey(3), 7):tolist()
    with_scheme(false, function()
      assert.are.same(a, jr.fold_in(jr.PRNGKey(3), 7):tolist())
    end)
  end)

  it("bits of 32 and 64 bits are one threefry per element (b0 ^ b1, b0 << 32 | b1)", function()
    local key = jr.PRNGKey(42)
    local bits = jr.bits(key, { 4 }):tolist()
    for i = 0, 3 do
      local w = jr.threefry2x32(key, 0, i):tolist()
      local x = 0
      for b = 0, 31 do
        local p = 2 ^ b
        if (math.floor(w[1] / p) % 2) ~= (math.floor(w[2] / p) % 2) then x = x + p end
      end
      assert.are.equal(x, bits[i + 1])
    end
    -- 8-bit draws keep the low byte of the 32-bit ones.
    local small = jr.bits(key, { 4 }, "uint8"):tolist()
    for i = 1, 4 do assert.are.equal(bits[i] % 256, small[i]) end
  end)
end)

describe("large draws", function()
  -- Draws this large are split over threads (and run the vectorised
  -- clones); every element must still be its own counter's value.
  local function xor32(a, b)
    local r, p = 0, 1
    for _ = 1, 32 do
      local x, y = a % 2, b % 2
      if x ~= y then r = r + p end
      a, b, p = (a - x) / 2, (b - y) / 2, p * 2
    end
    return r
  end

  it("match threefry of each element's counter at the split points", function()
    local key = jr.PRNGKey(77)
    local n = 300001
    local bits = jr.bits(key, { n })
    local u = jr.uniform(key, { n })
    for _, i in ipairs({ 0, 1, 65535, 65536, 150000, 150001, 299999, 300000 }) do
      local w = jr.threefry2x32(key, 0, i):tolist()
      local b = xor32(w[1], w[2])
      assert.are.equal(b, bits[i + 1]:item(), "bits " .. i)
      -- (b >> 9) as the mantissa of a float in [1, 2), minus 1: exact
      assert.are.equal(math.floor(b / 512) / 2 ^ 23, u[i + 1]:item(), "uniform " .. i)
    end
  end)
end)

describe("samplers", function()
  local key = jr.PRNGKey(7)

  it("split defaults to two keys, which unpack", function()
    local keys = jr.split(key)
    assert.are.same({ 2, 2 }, keys.shape)
    local a, b = keys:unpack()
    assert.are.same({ 2 }, a.shape)
    assert.are_not.same(a:tolist(), b:tolist())
    assert.are.same({ 0, 2 }, jr.split(key, 0).shape)
  end)

  it("uniform stays in [minval, maxval) for every float dtype", function()
    for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
      local u = jr.uniform(key, { 2000 }, dt, -3, 5)
      assert.are.equal(dt, u.dtype)
      assert.is_true(lx.min(u):item() >= -3, dt)
      assert.is_true(lx.max(u):item() < 5, dt)
      local m = lx.mean(u:astype("float32")):item()
      assert.is_true(math.abs(m - 1) < 0.3, dt .. " mean " .. m)
    end
  end)

  it("uniform takes array bounds that broadcast to the shape", function()
    local lo = lx.array({ 0, 10, 100 })
    local u = jr.uniform(key, { 2, 3 }, "float32", lo, 1000)
    assert.are.same({ 2, 3 }, u.shape)
    local v = u:tolist()
    for r = 1, 2 do
      for c = 1, 3 do assert.is_true(v[r][c] >= lo:tolist()[c] and v[r][c] < 1000) end
    end
    -- with scalar bounds the array path gives the scalar path's values
    local s = jr.uniform(key, { 5 }, "float32", -2, 3):tolist()
    assert.are.same(s, jr.uniform(key, { 5 }, "float32", lx.array(-2), lx.array({ 3, 3, 3, 3, 3 })):tolist())
    H.raises("must broadcast", jr.uniform, key, { 2 }, "float32", lx.zeros({ 3 }), 1)
  end)

  it("bfloat16 uniform is JAX's: 8 random bits, (bits8 >> 1) | 0x3f80, minus 1", function()
    for _, partitionable in ipairs({ true, false }) do
      with_scheme(partitionable, function()
        local b8 = jr.bits(key, { 40 }, "uint8"):tolist()
        local u = jr.uniform(key, { 40 }, "bfloat16"):tolist()
        for i = 1, 40 do assert.are.equal(math.floor(b8[i] / 2) / 128, u[i]) end
      end)
    end
  end)

  it("float16 uniform is 16 random bits >> 6 under 1.0's exponent, minus 1", function()
    local b = jr.bits(key, { 40 }, "uint16"):tolist()
    local u = jr.uniform(key, { 40 }, "float16"):tolist()
    for i = 1, 40 do assert.are.equal(math.floor(b[i] / 64) / 1024, u[i]) end
  end)

  it("normal has mean 0 and variance 1, in every float dtype", function()
    for _, dt in ipairs({ "float32", "float64", "float16", "bfloat16" }) do
      local x = jr.normal(key, { 20000 }, dt):astype("float64")
      local m = lx.mean(x):item()
      local v = lx.mean((x - m) * (x - m)):item()
      assert.is_true(math.abs(m) < 0.05, dt .. " mean " .. m)
      assert.is_true(math.abs(v - 1) < 0.05, dt .. " variance " .. v)
    end
  end)

  it("truncated_normal stays strictly inside (lower, upper)", function()
    local x = jr.truncated_normal(key, -0.5, 1.5, { 5000 })
    assert.is_true(lx.min(x):item() > -0.5)
    assert.is_true(lx.max(x):item() < 1.5)
    -- array bounds broadcast; shape defaults to their broadcast shape
    local y = jr.truncated_normal(key, lx.array({ -1, 0, 1 }), 2)
    assert.are.same({ 3 }, y.shape)
    local v = y:tolist()
    assert.is_true(v[1] > -1 and v[2] > 0 and v[3] > 1)
    assert.are.equal("float64", jr.truncated_normal(key, -2, 2, { 3 }, "float64").dtype)
  end)

  it("bernoulli: p of 0 and 1, and its mean", function()
    assert.are.same({ false, false, false }, jr.bernoulli(key, 0, { 3 }):tolist())
    assert.are.same({ true, true, true }, jr.bernoulli(key, 1, { 3 }):tolist())
    local b = jr.bernoulli(key, 0.25, { 8000 })
    assert.are.equal("bool", b.dtype)
    local m = lx.mean(b:astype("float32")):item()
    assert.is_true(math.abs(m - 0.25) < 0.03)
    assert.are.same({ 2 }, jr.bernoulli(key, lx.array({ 0.1, 0.9 })).shape)
    H.raises("bernoulli", jr.bernoulli, key, lx.array({ 1, 0 }, "int32"))
    -- p must broadcast to shape (jax's _check_shape)
    H.raises({ "bernoulli", "{2,1}", "must broadcast to shape {3}" }, jr.bernoulli, key,
      lx.full({ 2, 1 }, 0.5), { 3 })
  end)

  it("randint: bounds, dtypes, empty and out-of-range spans as JAX", function()
    for _, dt in ipairs({ "int32", "int64", "uint8", "uint32", "uint16", "uint64" }) do
      local r = jr.randint(key, { 500 }, 3, 9, dt)
      assert.are.equal(dt, r.dtype)
      assert.is_true(lx.min(r):item() >= 3 and lx.max(r):item() <= 8, dt)
    end
    -- maxval <= minval gives minval (jax #222)
    assert.are.same({ 5, 5 }, jr.randint(key, { 2 }, 5, 5):tolist())
    assert.are.same({ 5, 5 }, jr.randint(key, { 2 }, 5, -3):tolist())
    -- maxval above the dtype's range: the whole range, 255 included
    local u8 = jr.randint(key, { 4000 }, 0, 256, "uint8")
    assert.are.equal(255, lx.max(u8):item())
    assert.are.equal(0, lx.min(u8):item())
    -- bounds are clipped to the dtype
    local c = jr.randint(key, { 100 }, -1000, 3, "uint8")
    assert.is_true(lx.max(c):item() <= 2)
    -- negative ranges
    local n = jr.randint(key, { 200 }, -10, -5)
    assert.is_true(lx.min(n):item() >= -10 and lx.max(n):item() <= -6)
    -- 64-bit bounds pass exactly (Lua 5.4 integers)
    if H.has_integers then
      local top = math.tointeger(2 ^ 62) + 5
      local big = jr.randint(key, { 50 }, 0, top, "int64")
      assert.is_true(lx.max(big):item() < top)
      local full = jr.randint(key, { 50 }, math.mininteger, math.maxinteger, "int64")
      assert.are.equal("int64", full.dtype)
    else
      H.raises({ "randint", "outside the int64 range" }, jr.randint, key, { 2 }, 0, 2 ^ 64)
    end
    -- float bounds are truncated toward zero, as astype(int)
    assert.are.same(jr.randint(key, { 6 }, 1, 4):tolist(), jr.randint(key, { 6 }, 1.7, 4.2):tolist())
  end)

  it("randint takes array bounds that broadcast to the shape", function()
    for _, partitionable in ipairs({ true, false }) do
      with_scheme(partitionable, function()
        for _, dt in ipairs({ "int32", "int64", "uint8", "uint16" }) do
          -- bounds equal everywhere give the scalar path's values
          assert.are.same(jr.randint(key, { 3, 4 }, 2, 9, dt):tolist(),
            jr.randint(key, { 3, 4 }, lx.full({ 3, 1 }, 2, "int32"), lx.full({ 4 }, 9), dt):tolist())
        end
      end)
    end
    local lo, hi = lx.array({ 0, 10, 100, 1000 }), lx.array({ 5, 20, 200, 2000 })
    local r = jr.randint(key, { 50, 4 }, lo, hi):tolist()
    local los, his = lo:tolist(), hi:tolist()
    for i = 1, 50 do
      for j = 1, 4 do assert.is_true(r[i][j] >= los[j] and r[i][j] < his[j]) end
    end
    -- per element, each value is the scalar path's for that element's bounds
    for j = 1, 4 do
      local col = jr.randint(key, { 50, 4 }, los[j], his[j]):tolist()
      assert.are.equal(col[7][j], r[7][j])
    end
    H.raises({ "randint", "minval of shape {2} does not broadcast to shape {3}" },
      jr.randint, key, { 3 }, lx.zeros({ 2 }), 5)
    local sk = lx.filter_eval_shape(function() return jr.randint(key, { 2, 3 }, lo[{ { 1, 3 } }], 9) end)
    assert.are.same({ 2, 3 }, sk.shape)
  end)

  it("permutation: of n and of an array's leading axis", function()
    for _, scheme in ipairs({ true, false }) do
      with_scheme(scheme, function()
        for _, n in ipairs({ 0, 1, 2, 10, 2000 }) do
          local p = jr.permutation(key, n)
          assert.are.equal("int32", p.dtype)
          local seen = {}
          for _, v in ipairs(p:tolist()) do
            assert.is_nil(seen[v])
            assert.is_true(v >= 0 and v < n)
            seen[v] = true
          end
        end
      end)
    end
    local p = jr.permutation(key, 6):tolist()
    local x = lx.arange(12):reshape({ 6, 2 })
    local px = jr.permutation(key, x):tolist()
    for i = 1, 6 do assert.are.same({ 2 * p[i], 2 * p[i] + 1 }, px[i]) end
    -- along another axis: the same permutation of that axis's length
    local y = lx.arange(12):reshape({ 2, 6 })
    local py = jr.permutation(key, y, 2):tolist()
    for i = 1, 6 do assert.are.same({ p[i], 6 + p[i] }, { py[1][i], py[2][i] }) end
    assert.are.same(py, jr.permutation(key, y, -1):tolist())
    assert.are.equal("int64", jr.permutation(key, 6, { dtype = "int64" }).dtype)
    H.raises({ "permutation", "axis" }, jr.permutation, key, y, 3)
  end)

  it("permutation with independent = true shuffles each slice on its own", function()
    local x = lx.arange(40):reshape({ 4, 10 })
    local px = jr.permutation(key, x, 2, true):tolist()
    local differs = false
    for r = 1, 4 do
      local seen = {}
      for c = 1, 10 do
        local v = px[r][c]
        assert.is_true(v >= 10 * (r - 1) and v < 10 * r) -- stays in its row
        assert.is_nil(seen[v])
        seen[v] = true
        if (v - 10 * (r - 1)) ~= (px[1][c]) then differs = true end
      end
    end
    assert.is_true(differs) -- rows are not all shuffled alike
    -- one round (40 elements): a stable sort of each row by the bits that
    -- split(key)[2] draws for the whole shape
    local _, sub = jr.split(key):unpack()
    local bits = jr.bits(sub, { 4, 10 }):tolist()
    for r = 1, 4 do
      for c = 2, 10 do
        local a, b = px[r][c - 1] - 10 * (r - 1) + 1, px[r][c] - 10 * (r - 1) + 1
        assert.is_true(bits[r][a] < bits[r][b] or (bits[r][a] == bits[r][b] and a < b))
      end
    end
  end)

  it("the same key gives the same numbers; different keys differ", function()
    assert.are.same(jr.normal(key, { 8 }):tolist(), jr.normal(key, { 8 }):tolist())
    assert.are_not.same(jr.normal(key, { 8 }):tolist(), jr.normal(jr.PRNGKey(8), { 8 }):tolist())
  end)

  it("keys taken from split views (strided) work as keys", function()
    local keys = jr.split(key, 3)
    local kt = keys.T[{ {}, 2 }] -- a view with stride 3
    assert.are.same(jr.uniform(keys[2], { 3 }):tolist(), jr.uniform(kt, { 3 }):tolist())
  end)
end)

describe("errors", function()
  local key = jr.PRNGKey(0)

  it("names the function and the bad key", function()
    H.raises({ "split", "uint32 array of shape {2}", "f32[2]" }, jr.split, lx.zeros({ 2 }))
    H.raises({ "uniform", "u32[3]" }, jr.uniform, lx.zeros({ 3 }, "uint32"), { 2 })
    H.raises("fold_in", jr.fold_in, lx.zeros({ 2, 2 }, "uint32"), 1)
    H.raises("split", jr.split, 5)
  end)

  it("reports the caller's line, not lunox's", function()
    local ok, err = pcall(function() return jr.uniform(lx.zeros({ 3 }, "uint32"), { 2 }) end)
    assert.is_false(ok)
    assert.matches("random_spec%.lua:%d+: uniform: a key", err)
    ok, err = pcall(function() return jr.normal(jr.PRNGKey(0), { -1 }) end)
    assert.is_false(ok)
    assert.matches("random_spec%.lua:%d+: ", err)
  end)

  it("refuses bad counts, shapes and dtypes", function()
    H.raises({ "split", "-1" }, jr.split, key, -1)
    H.raises({ "uniform", "float" }, jr.uniform, key, { 2 }, "int32")
    H.raises({ "normal", "float" }, jr.normal, key, { 2 }, "uint8")
    H.raises({ "truncated_normal", "float" }, jr.truncated_normal, key, 0, 1, { 2 }, "int32")
    H.raises({ "randint", "integer" }, jr.randint, key, { 2 }, 0, 3, "float32")
    H.raises({ "bits", "unsigned" }, jr.bits, key, { 2 }, "int32")
    H.raises("bits", jr.bits, key, { -1 })
    H.raises({ "permutation", "-3" }, jr.permutation, key, -3)
    H.raises({ "permutation", "uint8" }, jr.permutation, key, 300, "uint8")
    H.raises({ "randint", "minval" }, jr.randint, key, { 2 }, lx.zeros({ 3 }), 4)
  end)
end)

describe("erf and erf_inv", function()
  it("agree with the exact values (float32: XLA's approximations)", function()
    -- erf(x) and erf_inv(y) to 10 digits (Abramowitz & Stegun; inverse by
    -- bisection on erf).
    local xs = { -2, -0.5, 0, 0.1, 0.5, 1, 2.5 }
    local erf = { -0.9953222650, -0.5204998778, 0, 0.1124629160, 0.5204998778, 0.8427007929,
      0.9995930480 }
    for _, dt in ipairs({ "float32", "float64" }) do
      close_list(lx.erf(lx.array(xs, dt)):tolist(), erf, dt == "float32" and 2e-6 or 1e-9)
      local back = lx.erf_inv(lx.array(erf, dt)):tolist()
      close_list(back, xs, dt == "float32" and 1e-5 or 1e-8)
    end
    assert.are.same({ -math.huge, math.huge }, lx.erf_inv(lx.array({ -1, 1 })):tolist())
    local nan = lx.erf_inv(lx.array({ 1.5 })):item()
    assert.is_true(nan ~= nan)
    -- integers compute in float32, as jnp does
    assert.are.equal("float32", lx.erf(lx.array({ 1, 2 }, "int32")).dtype)
    assert.are.equal("float16", lx.erf_inv(lx.array({ 0.5 }, "float16")).dtype)
  end)
end)

describe("abstract evaluation", function()
  it("filter_eval_shape gives shapes and dtypes without drawing", function()
    local out = lx.filter_eval_shape(function()
      local k = jr.PRNGKey(0)
      local a, b = jr.split(k):unpack()
      return { jr.normal(a, { 1000, 1000 }), jr.randint(b, { 3 }, 0, 4), jr.permutation(b, 5) }
    end)
    assert.are.same({ 1000, 1000 }, out[1].shape)
    assert.are.equal("float32", out[1].dtype)
    assert.are.equal("int32", out[2].dtype)
    assert.are.same({ 5 }, out[3].shape)
  end)
end)
