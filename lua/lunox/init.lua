--- lunox: Equinox-style arrays and models for Lua.
-- `local lx = require("lunox")`. The array functions come from the C
-- binding (`lunox.core`); this module gathers them with the Lua-level parts:
-- pytrees (`lx.tree`), Modules, `tree_at`, filters, `tree_equal`,
-- `tree_pformat`, serialisation (.eqx, safetensors, JSON) and
-- `filter_eval_shape`.
-- @module lunox
local core = require("lunox.core")

local M = {}
-- Names starting with "_" and the parts that submodules wrap (tree_*,
-- json_*, safetensors_*) stay in lunox.core.
for name, value in pairs(core) do
  if name:sub(1, 1) ~= "_" and not name:match("^tree_") and not name:match("^json_")
    and not name:match("^safetensors_") and name ~= "treedef_methods" then
    M[name] = value
  end
end

--- Default settings, read by the functions that depend on them.
M.config = { threefry_partitionable = true }

--- The empty subtree (Python's None) where a table needs a value.
M.none = core.none
M.json = require("lunox.json")

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

local eval_shape = require("lunox.eval_shape")
M.ShapeDtypeStruct = eval_shape.ShapeDtypeStruct
M.is_shape_dtype_struct = eval_shape.is_shape_dtype_struct
M.filter_eval_shape = eval_shape.filter_eval_shape

local serialise = require("lunox.serialise")
for _, name in ipairs({ "tree_serialise_leaves", "tree_deserialise_leaves",
  "default_serialise_filter_spec", "default_deserialise_filter_spec",
  "skip_deserialise_filter_spec" }) do
  M[name] = serialise[name]
end

M.safetensors = require("lunox.safetensors")

M.random = require("lunox.random")
M.nn = require("lunox.nn")

return M
