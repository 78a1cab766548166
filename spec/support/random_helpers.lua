--- Helpers of the lx.random and lx.nn specs.
local lx = require("lunox")

local M = {}

--- Runs fn with lx.config.threefry_partitionable set to `partitionable`,
-- restoring the old value even when fn fails.
function M.with_scheme(partitionable, fn)
  local saved = lx.config.threefry_partitionable
  lx.config.threefry_partitionable = partitionable
  local ok, err = pcall(fn)
  lx.config.threefry_partitionable = saved
  if not ok then error(err, 0) end
end

return M
