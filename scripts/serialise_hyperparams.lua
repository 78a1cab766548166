-- Weights + hyperparameters in one file: Equinox's serialisation recipe in Lua.
--
-- The file is one JSON line of hyperparameters, then the model's leaves as
-- tree_serialise_leaves writes them (NumPy .npy records): the same layout as
-- Equinox's Python recipe, so either side reads the other's files. Loading
-- rebuilds the model from the hyperparameters, then fills it with the
-- saved leaves.
--
-- The model is an lx.nn.MLP, initialised from an lx.random key exactly as
-- Python Equinox would from the same key.
--
-- Run from anywhere, under either host:
--   build/lunox scripts/serialise_hyperparams.lua
--   build/lunoxjit scripts/serialise_hyperparams.lua
-- Exits with an error if any of the checks it prints fails.
local lx = require("lunox")
local nn, jr = lx.nn, lx.random

local failures = 0
local function check(ok, what)
  print(("  [%s] %s"):format(ok and "ok" or "FAIL", what))
  if not ok then failures = failures + 1 end
end

local ACTIVATIONS = { relu = nn.relu, tanh = lx.tanh }

-- Builds the model that the hyperparameters describe.
local function make(hyperparams, key)
  return nn.MLP(hyperparams.size, 1, hyperparams.width, hyperparams.depth,
    { key = key, activation = ACTIVATIONS[hyperparams.activation] })
end

-- The recipe, as API.md gives it.
local function save(filename, hyperparams, model)
  local f = assert(io.open(filename, "wb"))
  f:write(lx.json.encode(hyperparams), "\n")
  lx.tree_serialise_leaves(f, model)
  f:close()
end

local function load(filename)
  local f = assert(io.open(filename, "rb"))
  local hyperparams = lx.json.decode(f:read("l"))
  local model = make(hyperparams, jr.PRNGKey(0))
  model = lx.tree_deserialise_leaves(f, model)
  f:close()
  return model
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir " .. dir))
local filename = dir .. "/model.eqx"

local hyperparams = { size = 5, width = 10, depth = 2, activation = "relu" }
local model = make(hyperparams, jr.PRNGKey(1234)) -- trained weights would go here
print("1. save the hyperparameters and the weights of an MLP(5 -> 10 -> 10 -> 1)")
save(filename, hyperparams, model)
local f = assert(io.open(filename, "rb"))
local first_line = f:read("l")
f:close()
print("   first line: " .. first_line)
check(first_line == '{"activation":"relu","depth":2,"size":5,"width":10}',
  "one JSON line, keys sorted")

print("2. load: rebuild from the hyperparameters (another key), then fill in the weights")
local loaded = load(filename)
check(lx.tree_equal(loaded, model), "the loaded model equals the saved one")
local x = lx.array({ 1, 2, 3, 4, 5 })
check(lx.tree_equal(loaded(x), model(x)), "and computes the same outputs")
check(loaded.activation == nn.relu, "the activation comes from the hyperparameters")

print("3. load into a skeleton: filter_eval_shape builds the model without memory")
local f2 = assert(io.open(filename, "rb"))
local hp = lx.json.decode(f2:read("l"))
local skeleton = lx.filter_eval_shape(make, hp, jr.PRNGKey(0))
print("   skeleton: " .. lx.tree_pformat(skeleton):gsub("\n", "\n   "))
local filled = lx.tree_deserialise_leaves(f2, skeleton)
f2:close()
check(lx.tree_equal(filled, model), "the filled skeleton equals the saved model")

print("4. the same in safetensors, the hyperparameters as metadata")
lx.safetensors.save(dir .. "/model.safetensors", model,
  { metadata = { hyperparams = lx.json.encode(hyperparams) } })
local flat, meta = lx.safetensors.load(dir .. "/model.safetensors")
local names = {}
for name in pairs(flat) do names[#names + 1] = name end
table.sort(names)
print("   tensors: " .. table.concat(names, " "))
local hp2 = lx.json.decode(meta.hyperparams)
local st_model = lx.safetensors.load(dir .. "/model.safetensors",
  lx.filter_eval_shape(make, hp2, jr.PRNGKey(0)))
check(lx.tree_equal(st_model, model), "the safetensors model equals the saved one")

os.execute("rm -rf " .. dir)
if failures > 0 then error(("%d check(s) failed"):format(failures)) end
print("all checks passed")
