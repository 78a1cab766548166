-- Benchmark: saving and loading a 512 MiB float32 model (128 arrays of
-- 1024 x 1024) as .eqx and as safetensors, next to NumPy's np.save/np.load
-- stream and torch.save/torch.load measured in the same run (Debian's
-- python3-numpy and python3-torch; a peer that is absent is skipped).
-- Not part of the test suite.
--   build/lunox scripts/bench/serialise.lua [MiB]     (or build/lunoxjit)
-- Goals (issue 5): .eqx save and load >= 2x NumPy; safetensors load (mmap,
-- touching every byte) >= 4 GB/s.
--
-- Every file is read back right after it was written, so reads come from
-- the page cache for every contender alike. Saves to a file object are
-- compared with np.save to a file object (neither syncs); a save to a path
-- is atomic (temp file, fsync, rename) and so includes the disk's speed.
local lx = require("lunox")
package.path = (arg and arg[0] and arg[0]:match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local bench = require("bench_common")

local MIB = tonumber(arg and arg[1]) or 512
local N, SIDE = MIB / 4, 1024 -- arrays of 4 MiB
local BYTES = MIB * 2 ^ 20
local host = jit and "lunoxjit" or "lunox"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local eqx_path, st_path = dir .. "/model.eqx", dir .. "/model.safetensors"

local model = {}
for i = 1, N do model[i] = lx.full({ SIDE, SIDE }, i) end
local skeleton = lx.filter_eval_shape(function()
  local m = {}
  for i = 1, N do m[i] = lx.zeros({ SIDE, SIDE }) end
  return m
end)

local function touch_all(tree)
  local total = 0
  for _, a in ipairs(tree) do total = total + lx.sum(a):item() end
  return total
end
local expected_total = touch_all(model)

local function rate(seconds) return BYTES / 2 ^ 20 / seconds end

local results = {}
local function measure(name, reps, fn)
  results[name] = rate(bench.best_time(reps, fn))
end

measure("eqx_save_file", 3, function()
  local f = assert(io.open(eqx_path, "wb"))
  lx.tree_serialise_leaves(f, model)
  f:close()
end)
measure("eqx_save_path", 3, function() lx.tree_serialise_leaves(eqx_path, model) end)
local loaded
measure("eqx_load", 3, function() loaded = lx.tree_deserialise_leaves(eqx_path, skeleton) end)
assert(touch_all(loaded) == expected_total, "eqx round trip changed the values")
loaded = nil
measure("st_save", 3, function() lx.safetensors.save(st_path, model) end)
measure("st_load_mmap_touch", 3, function()
  local t = lx.safetensors.load(st_path, skeleton)
  assert(touch_all(t) == expected_total)
end)
measure("st_load_mmap", 3, function() lx.safetensors.load(st_path, skeleton) end)
measure("st_load_copy", 3, function() lx.safetensors.load(st_path, skeleton, { mmap = false }) end)
collectgarbage()

local peer_script = ([==[
import io, os, time
N, SIDE, DIR = %d, %d, %q
def best(reps, fn):
    fn()
    b = float("inf")
    for _ in range(reps):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
try:
    import numpy as np
except ImportError:
    np = None
if np is not None:
    arrays = [np.full((SIDE, SIDE), i + 1, np.float32) for i in range(N)]
    path = os.path.join(DIR, "numpy.npy")
    def save():
        with open(path, "wb") as f:
            for a in arrays: np.save(f, a)
    def load():
        with open(path, "rb") as f:
            return [np.load(f) for _ in range(N)]
    print("np_save", best(3, save))
    print("np_load", best(3, load))
    # The kernel's own ceiling for a buffered write: one write(2) of the
    # whole buffer, no headers, no Python per array.
    flat = np.concatenate([a.reshape(-1) for a in arrays])
    def raw_write():
        with open(os.path.join(DIR, "raw.bin"), "wb", buffering=0) as f:
            f.write(memoryview(flat).cast("B"))
    print("raw_write", best(3, raw_write))
    del flat
    dst = np.empty(N * SIDE * SIDE, np.float32)
    src = np.ones(N * SIDE * SIDE, np.float32)
    print("memcpy", best(3, lambda: np.copyto(dst, src)))
try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:
    torch = None
if torch is not None:
    tensors = {str(i): torch.full((SIDE, SIDE), i + 1.0) for i in range(N)}
    tpath = os.path.join(DIR, "model.pt")
    print("torch_save", best(3, lambda: torch.save(tensors, tpath)))
    print("torch_load", best(3, lambda: torch.load(tpath)))
]==]):format(N, SIDE, dir)
local peers = bench.run_python(peer_script)
os.execute("rm -rf " .. dir)

local function row(label, mine, peer_key)
  local peer = peers[peer_key]
  local peer_rate = peer and rate(peer)
  print(("%-44s %9.0f MiB/s %s"):format(label, mine, peer_rate
    and ("  %s %7.0f MiB/s  ratio %.2fx"):format(peer_key, peer_rate, mine / peer_rate) or ""))
end

print(("serialise benchmark (%s): %d arrays of %dx%d float32 = %d MiB"):format(host, N, SIDE,
  SIDE, MIB))
row(".eqx save, to a file object", results.eqx_save_file, "np_save")
row(".eqx save, to a path (atomic: fsync, rename)", results.eqx_save_path, "np_save")
row(".eqx load, into a skeleton", results.eqx_load, "np_load")
row("safetensors save (atomic: fsync, rename)", results.st_save, "torch_save")
row("safetensors load, mmap + touch every byte", results.st_load_mmap_touch, "torch_load")
row("safetensors load, mmap", results.st_load_mmap, "torch_load")
row("safetensors load, copied (mmap = false)", results.st_load_copy, "np_load")
if peers.raw_write then
  print(("%-44s %9.0f MiB/s"):format("ceiling: one write(2) of it all (Python)", rate(peers.raw_write)))
end
if peers.memcpy then print(("%-44s %9.0f MiB/s"):format("memcpy (numpy copyto)", rate(peers.memcpy))) end
print(("goals: .eqx save %.2fx and load %.2fx NumPy (>= 2x); safetensors mmap load %.1f GB/s "
  .. "(>= 4)"):format(peers.np_save and results.eqx_save_file / rate(peers.np_save) or 0,
  peers.np_load and results.eqx_load / rate(peers.np_load) or 0,
  results.st_load_mmap_touch * 2 ^ 20 / 1e9))
