--- lunox: Equinox-style arrays and models for Lua.
-- `local lx = require("lunox")`. The array functions come from the C
-- binding (`lunox.core`); this module gathers them with the Lua-level parts:
-- pytrees (`lx.tree`), Modules, `tree_at`, filters, `tree_equal` and
-- `tree_pformat`.
-- @module lunox
local core = require("lunox.core")

local M = {}
for name, value in pairs(core) do
  if name:sub(1, 5) ~= "tree_" and name ~= "treedef_methods" then M[name] = value end
end

--- Default settings, read by the functions that depend on them.
M.config = { threefry_partitionable = true }

--- The empty subtree (Python's None) where a table needs a value.
M.none = core.none

M.tree = require("lunox.tree")

local module = require("lunox.module")
M.Module = module.Module
M.is_module = module.is_module

M.tree_at = require("lunox.tree_at").tree_at

local filters = require("lunox.filters")
for _, name in ipairs({ "filter", "partition", "combine", "is_array", "is_array_like",
  "is_inexact_array", "apply_updates", "tree_equal" }) do
  M[name] = filters[name]
end

M.tree_pformat = function(...) return require("lunox.pformat").pformat(...) end

return M
