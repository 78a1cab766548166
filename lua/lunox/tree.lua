--- lx.tree: pytree functions over the C core (flatten, unflatten, paths).
--
-- Node rules (DESIGN.md): plain tables with keys 1..n are lists; other plain
-- tables are dicts whose number and string keys are sorted (numbers first);
-- lx.Module instances are nodes of their declared fields; types registered
-- with `register` are nodes; a nil Module field or `lx.none` is an empty
-- subtree; everything else is a leaf.
--
-- `is_leaf` reaches `map` through its first argument: pass a table
-- `{f, is_leaf = g}` instead of the function f.
-- @module lunox.tree
local core = require("lunox.core")

local M = {}

local flatten_core, unflatten_core = core.tree_flatten, core.tree_unflatten
local flatten_up_to = core.tree_flatten_up_to
local select, type = select, type
local unpack = table.unpack or unpack

--- The leaves of tree, in order (empty subtrees have none).
function M.leaves(tree, is_leaf)
  return (flatten_core(tree, is_leaf, "lx.tree.leaves", "leaves"))
end

--- The treedef of tree.
function M.structure(tree, is_leaf)
  return flatten_core(tree, is_leaf, "lx.tree.structure", "structure")
end

--- leaves, treedef.
function M.flatten(tree, is_leaf)
  local leaves, treedef = flatten_core(tree, is_leaf, "lx.tree.flatten", "flatten")
  return leaves, treedef
end

--- A list of {path, leaf} (path: a list of keys, 1-based for lists), and the treedef.
function M.flatten_with_path(tree, is_leaf)
  local pairs_, treedef = flatten_core(tree, is_leaf, "lx.tree.flatten_with_path", "paths")
  return pairs_, treedef
end

--- Rebuilds a tree from a treedef and its leaves (Modules without calling init).
-- `n` gives the leaf count when the list may hold nils.
function M.unflatten(treedef, leaves, n)
  return unflatten_core(treedef, leaves, n, "lx.tree.unflatten")
end

--- ".layers[2].weight" for a key path.
M.keystr = core.tree_keystr

--- Registers a type (by metatable) as a pytree node:
-- `flatten(node) -> children, aux [, keys]`, `unflatten(aux, children) -> node`.
M.register = core.tree_register

--- True when x is a treedef.
function M.is_treedef(x)
  local mt = getmetatable(x)
  return type(x) == "userdata" and mt ~= nil and mt.__name == "treedef"
end

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return mt ~= nil and type(mt) == "table" and mt.__call ~= nil
end

-- map's body, for lx.tree.map and the functions built on it: fn names the
-- caller in errors, labels[k] describes a mismatch of tree k+1.
function M._map(fn, labels, f, is_leaf, tree, ...)
  local leaves, treedef, n = flatten_core(tree, is_leaf, fn, "flatten")
  local out = {}
  local nrest = select("#", ...)
  local function label(k)
    return labels and labels[k]
      or ("tree %d does not match the structure of tree 1"):format(k + 1)
  end
  if nrest == 0 then
    for i = 1, n do out[i] = f(leaves[i]) end
  elseif nrest == 1 then
    local other = flatten_up_to(treedef, (...), fn, label(1))
    for i = 1, n do out[i] = f(leaves[i], other[i]) end
  else
    local rest = {}
    for k = 1, nrest do rest[k] = flatten_up_to(treedef, (select(k, ...)), fn, label(k)) end
    local args = {}
    for i = 1, n do
      for k = 1, nrest do args[k] = rest[k][i] end
      out[i] = f(leaves[i], unpack(args, 1, nrest))
    end
  end
  return unflatten_core(treedef, out, n, fn)
end

--- Applies f to the leaves of tree (and the matching subtrees of further
-- trees, which must have tree's structure as a prefix); `f` may be
-- `{f, is_leaf = g}`.
function M.map(f, tree, ...)
  local is_leaf
  if type(f) == "table" and not callable(f) then
    is_leaf = f.is_leaf
    f = f[1]
  end
  if not callable(f) then
    error(("lx.tree.map: f must be a function or {f, is_leaf = g}, got %s"):format(type(f)), 2)
  end
  return M._map("lx.tree.map", nil, f, is_leaf, tree, ...)
end

--- Like map, but f receives (path, leaf, ...).
function M.map_with_path(f, tree, ...)
  local is_leaf
  if type(f) == "table" and not callable(f) then
    is_leaf = f.is_leaf
    f = f[1]
  end
  local pl, treedef, n = flatten_core(tree, is_leaf, "lx.tree.map_with_path", "paths")
  local nrest = select("#", ...)
  local rest = {}
  for k = 1, nrest do
    rest[k] = flatten_up_to(treedef, (select(k, ...)), "lx.tree.map_with_path",
      ("tree %d does not match the structure of tree 1"):format(k + 1))
  end
  local out, args = {}, {}
  for i = 1, n do
    for k = 1, nrest do args[k] = rest[k][i] end
    out[i] = f(pl[i][1], pl[i][2], unpack(args, 1, nrest))
  end
  return unflatten_core(treedef, out, n, "lx.tree.map_with_path")
end

-- Treedef methods (the userdata's metatable keeps a `methods` table).
local methods = core.treedef_methods
function methods.unflatten(treedef, leaves, n)
  return unflatten_core(treedef, leaves, n, "treedef:unflatten")
end
function methods.flatten_up_to(treedef, tree)
  return flatten_up_to(treedef, tree, "treedef:flatten_up_to", "the tree")
end

return M
