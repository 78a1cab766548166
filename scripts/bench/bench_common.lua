--- What the benchmarks share: a wall clock, best-of-n timing, and running
-- the Python peer of a benchmark in a subprocess of the same run.
-- The scripts find this file next to themselves (see their first lines).
local lx = require("lunox")

local M = {}

local ok_sys, system = pcall(require, "system") -- luasystem: wall clock
if not ok_sys then error("bench needs luasystem (Debian: lua-system) for a wall clock") end
M.now = system.gettime

--- Best of `reps` timings (seconds) of fn(), after a warm-up call; lx.sync()
-- is inside the timing, so queued device work counts.
function M.best_time(reps, fn)
  fn()
  lx.sync()
  local best = math.huge
  for _ = 1, reps do
    local t0 = M.now()
    fn()
    lx.sync()
    best = math.min(best, M.now() - t0)
  end
  return best
end

--- Runs a Python script with /usr/bin/python3 (after `env`, a prefix such as
-- "OPENBLAS_NUM_THREADS=2 ") and returns the `key value` pairs it prints,
-- values as numbers where they are; an empty table without python3.
function M.run_python(script, env)
  local peers = {}
  local python = "/usr/bin/python3"
  local f = io.open(python, "r")
  if not f then return peers end
  f:close()
  local tmp = os.tmpname()
  local sf = assert(io.open(tmp, "w"))
  sf:write(script)
  sf:close()
  local p = io.popen((env or "") .. python .. " " .. tmp .. " 2>/dev/null")
  for line in p:lines() do
    local k, v = line:match("^(%S+)%s+(%S+)$")
    if k then peers[k] = tonumber(v) or v end
  end
  p:close()
  os.remove(tmp)
  return peers
end

return M
