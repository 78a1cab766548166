-- A short tour of lunox (arrays, random numbers, layers): what `make run` shows.
--   build/lunox scripts/quickstart.lua     (Lua 5.4)
--   build/lunoxjit scripts/quickstart.lua  (LuaJIT)
local lx = require("lunox")

local function section(title) print("\n-- " .. title) end

print(string.format("lunox %s on %s (%s)", lx.version, jit and jit.version or _VERSION,
  lx.default_device()))
for _, d in ipairs(lx.devices()) do print("device", d.name, d.description) end
for kind, why in pairs(lx.devices().unavailable) do print("no " .. kind .. ": " .. why) end

section("Arrays from Lua lists (numbers are float32 by default)")
local a = lx.array({ { 1, 2, 3 }, { 4, 5, 6 } })
print(a)
print("shape", table.concat(a.shape, "x"), "dtype", a.dtype, "ndim", a.ndim, "size", a.size)

section("Arithmetic broadcasts like NumPy; Lua numbers take the array's dtype")
print(a * 10 + lx.array({ 1, 2, 3 }))
print(lx.array({ 1, 2, 3 }, "int32") + 1)

section("Reductions take 1-based axes; argmax gives 1-based indices")
print("sum over axis 1:", lx.sum(a, 1))
print("mean of all:", lx.mean(a):item())
print("argmax along axis 2:", lx.argmax(a, 2))

section("matmul, transposes and reshapes (views where possible)")
print(lx.matmul(a, a.T))
print(lx.arange(6):reshape({ 3, 2 }))

section("Indexing: a[i], a[{i, j}], inclusive slices {lo, hi[, step]}")
print("a[2]         =", a[2])
print("a[{1, -1}]   =", a[{ 1, -1 }]:item())
print("a[{{}, {2, 3}}] =")
print(a[{ {}, { 2, 3 } }])
print("reversed columns:")
print(a[{ {}, { -1, 1, -1 } }])

section("dtypes: float16 and bfloat16 round to nearest even")
local x = lx.array({ 1 + 2 ^ -11, 1 + 3 * 2 ^ -11 }, "float64")
print(x:astype("float16"):astype("float64"))
print(lx.array({ 0.1, 1 / 3 }):astype("bfloat16"))

section("Comparisons give bool arrays; where picks elementwise")
local big = lx.gt(a, 2)
print(big)
print(lx.where(big, a, 0))

section("Back to Lua values")
local t = a:tolist()
print("tolist()[2][3] =", t[2][3])

section("Large arrays print summarised")
print(lx.ones({ 40, 30 }) / 4)

section("Errors name the function and the values")
print(select(2, pcall(lx.matmul, lx.zeros({ 3, 4 }), lx.zeros({ 5, 2 }))))
print(select(2, pcall(lx.array, { { 1, 2 }, { 3 } })))

section("Random numbers: JAX's threefry, the same bits as jax.random")
local jr = lx.random
local key = jr.PRNGKey(0)
print("uniform(PRNGKey(0)) =", jr.uniform(key):item(), "(JAX: 0.947667)")
local k1, k2 = jr.split(key):unpack()
print("normal:", jr.normal(k1, { 4 }))

section("Layers: Equinox's nn, with Equinox's initialisation")
local mlp = lx.nn.MLP(2, 3, 8, 2, { key = k2, activation = lx.nn.gelu })
print(mlp)
print("mlp({0.5, -1}) =", mlp(lx.array({ 0.5, -1 })))
