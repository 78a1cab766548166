--- lunox: Equinox-style arrays and models for Lua.
-- `local lx = require("lunox")`. The array functions come from the C
-- binding (`lunox.core`); this module gathers them with the Lua-level parts.
-- @module lunox
local core = require("lunox.core")

local M = {}
for name, value in pairs(core) do M[name] = value end

--- Default settings, read by the functions that depend on them.
M.config = { threefry_partitionable = true }

return M
