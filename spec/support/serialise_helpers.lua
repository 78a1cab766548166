--- Helpers for the serialisation specs: a hand-built Linear/MLP (lx.nn is
-- another issue) with deterministic weights, temporary directories, and
-- Python/NumPy for the cross-checks.
local lx = require("lunox")
local process = require("spec.support.process")

local M = {}

M.Linear = lx.Module:extend("Linear", {
  fields = { "weight", "bias" },
  static = { "in_features", "out_features" },
})

--- Linear(in, out, {seed = k, dtype = "float32", use_bias = true}): weight
-- {out, in} and bias {out} filled with values that depend on the seed.
function M.Linear:init(in_features, out_features, opts)
  opts = opts or {}
  local seed, dtype = opts.seed or 0, opts.dtype or "float32"
  self.in_features, self.out_features = in_features, out_features
  local w = lx.arange(out_features * in_features, "float64"):reshape({ out_features, in_features })
  self.weight = ((w + seed) / 8):astype(dtype)
  if opts.use_bias == false then
    self.bias = nil
  else
    self.bias = ((lx.arange(out_features, "float64") - seed) / 4):astype(dtype)
  end
end

function M.Linear:__call(x)
  local y = lx.matmul(self.weight, x)
  if self.bias then y = y + self.bias end
  return y
end

M.MLP = lx.Module:extend("MLP", {
  fields = { "layers" },
  static = { "activation" },
})

--- MLP(in, out, width, depth, {seed, dtype}): depth + 1 Linear layers.
function M.MLP:init(in_size, out_size, width, depth, opts)
  opts = opts or {}
  local layers = {}
  local seed = opts.seed or 0
  for i = 1, depth + 1 do
    local fin = i == 1 and in_size or width
    local fout = i == depth + 1 and out_size or width
    layers[i] = M.Linear(fin, fout, { seed = seed + i, dtype = opts.dtype })
  end
  self.layers = layers
  self.activation = "tanh"
end

function M.MLP:__call(x)
  for i = 1, #self.layers - 1 do x = lx.tanh(self.layers[i](x)) end
  return self.layers[#self.layers](x)
end

--- A fresh temporary directory, removed by M.cleanup().
local dirs = {}
function M.tmpdir()
  local d = process.tmpdir()
  dirs[#dirs + 1] = d
  return d
end

function M.cleanup()
  for _, d in ipairs(dirs) do process.remove_tree(d) end
  dirs = {}
end

--- The names in a directory (sorted).
function M.listdir(dir)
  local p = io.popen("ls -A " .. process.quote(dir))
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  table.sort(names)
  return names
end

--- A file object over the string data that has only a read method (no
-- seek): the plainest stream the serialisers must accept.
function M.string_reader(data)
  local pos = 1
  return { read = function(_, n)
    if pos > #data then return nil end
    local s = data:sub(pos, pos + n - 1)
    pos = pos + #s
    return s
  end }
end

M.read_file = process.read_file
M.write_file = process.write_file

--- Debian's Python with NumPy, when both are installed.
local numpy_checked, numpy_ok
function M.has_numpy()
  if not numpy_checked then
    numpy_checked = true
    local _, _, status = process.run("/usr/bin/python3 -c 'import numpy'")
    numpy_ok = status == 0
  end
  return numpy_ok
end

--- Runs a Python program (text) with args; returns stdout, stderr, status.
function M.python(code, args)
  local file = os.tmpname()
  M.write_file(file, code)
  local parts = { "/usr/bin/python3", process.quote(file) }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = process.quote(a) end
  local out, err, status = process.run(table.concat(parts, " "))
  os.remove(file)
  return out, err, status
end

--- The repository's spec/ directory (absolute), for fixtures.
function M.spec_dir()
  local src = debug.getinfo(1, "S").source:match("^@(.*)/support/[^/]*$") or "spec"
  if src:sub(1, 1) ~= "/" then
    local p = io.popen("pwd")
    src = p:read("*l") .. "/" .. src
    p:close()
  end
  return src
end

return M
