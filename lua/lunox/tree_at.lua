--- lx.tree_at: out-of-place model surgery, as Equinox's `tree_at`.
--
-- `where` is called twice: on the tree, and on a copy whose leaves (and empty
-- subtrees) are wrapped in private boxes. The copy reveals which positions
-- `where` picked: a box stands for one leaf position (so a `nil` Module field
-- can be targeted, which Equinox cannot do), a node of the copy for a whole
-- subtree. Comparing the two results catches a `where` that looks at leaf
-- values rather than just the structure.
-- @module lunox.tree_at
local core = require("lunox.core")
local tree = require("lunox.tree")
local module = require("lunox.module")

local M = {}

local none = core.none
local select, type, error, pcall, rawequal = select, type, error, pcall, rawequal
local setmetatable, getmetatable = setmetatable, getmetatable

local FN = "lx.tree_at"
local Box = { __name = "tree_at leaf" }
local function is_box(x) return type(x) == "table" and rawequal(getmetatable(x), Box) end
local function unbox(x) return x[1] end

local STRUCTURE_ONLY = "`where` must use just the PyTree structure of `pytree`. `where` "
  .. "must not depend on the leaves in `pytree`."

local flatten_core, unflatten_core = core.tree_flatten, core.tree_unflatten

-- The copy of the tree seen by the second call of `where` has every leaf and
-- every empty subtree boxed as {value, leaf index}: the C walker treats
-- lx.none as a leaf itself (none_leaf) and unflatten makes the boxes, so only
-- a user's is_leaf costs a Lua call per node.
local BOX_NONES = { none_leaf = true }

-- Checks that the two calls of `where` picked the same things.
local BOXES_ARE_LEAVES = { leaf_mt = Box }
local function check_same_selection(plain, boxed, is_leaf)
  local leaves1, def1, n1 = flatten_core(plain, is_leaf, FN, "flatten", BOX_NONES)
  local leaves2, def2, n2 = flatten_core(boxed, nil, FN, "flatten", BOXES_ARE_LEAVES)
  if def1 ~= def2 or n1 ~= n2 then error(FN .. ": " .. STRUCTURE_ONLY, 3) end
  for i = 1, n1 do
    local l2 = leaves2[i]
    if is_box(l2) then l2 = unbox(l2) end
    if not rawequal(leaves1[i], l2) then error(FN .. ": " .. STRUCTURE_ONLY, 3) end
  end
end

-- The static fields (as "Class.field") holding value v anywhere in the tree,
-- for the error raised when `where` returns something that is not part of
-- the pytree. Matching is by value, so every candidate is listed.
local function static_fields_holding(boxed, v)
  local hits, seen = {}, {}
  local function visit(x)
    if module.is_module(x) then
      local cls = getmetatable(x)
      for _, name in ipairs(rawget(cls, "__lx_static")) do
        local label = rawget(cls, "__name") .. "." .. name
        if rawequal(x[name], v) and not seen[label] then
          seen[label] = true
          hits[#hits + 1] = label
        end
      end
    end
    return false
  end
  tree.flatten(boxed, visit)
  return hits
end

local function describe(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v) .. " (a " .. type(v) .. ")"
end

local function not_in_tree(boxed, v)
  local statics = static_fields_holding(boxed, v)
  if #statics > 0 then
    error(("%s: `where` returned %s, which is not a leaf or node of `pytree` but the value "
      .. "of the static field%s %s: static fields are part of the treedef and cannot be "
      .. "replaced with tree_at; build a new module instead"):format(FN, describe(v),
        #statics > 1 and "s" or "", table.concat(statics, ", ")), 3)
  end
  error(("%s: `where` returned %s, which is not a leaf or node of `pytree` (static fields "
    .. "and values computed by `where` cannot be replaced)"):format(FN, describe(v)), 3)
end

local function unbox_tree(x)
  if is_box(x) then
    local v = unbox(x)
    if rawequal(v, none) then return nil end
    return v
  end
  local leaves, treedef, n = flatten_core(x, nil, FN, "flatten", BOXES_ARE_LEAVES)
  for i = 1, n do leaves[i] = unbox(leaves[i]) end
  return unflatten_core(treedef, leaves, n, FN)
end

local OPTIONS = { replace_fn = true, is_leaf = true }

--- tree_at(where, pytree, replace [, {replace_fn = f, is_leaf = g}])
-- With replace_fn, pass replace = nil. `where` returns one node or leaf, or a
-- list of them (then `replace` is a list of the same length; use
-- `{n = k, ...}` to give its length when it holds nils).
function M.tree_at(where, pytree, ...)
  local nargs = select("#", ...)
  local replace, opts = ...
  if type(where) ~= "function" then
    error(("%s: `where` must be a function, got %s"):format(FN, type(where)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s: options must be a table {replace_fn = f, is_leaf = g}, got %s"):format(FN,
      type(opts)), 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPTIONS[k] then
      error(("%s: unknown option '%s' (expected replace_fn, is_leaf)"):format(FN, tostring(k)), 2)
    end
  end
  local replace_fn, is_leaf = opts.replace_fn, opts.is_leaf
  if (replace_fn ~= nil and replace ~= nil) or (replace_fn == nil and nargs == 0) then
    error(FN .. ": Precisely one of `replace` and `replace_fn` must be specified.", 2)
  end

  local plain = where(pytree)
  local leaves, treedef, n = flatten_core(pytree, is_leaf, FN, "flatten", BOX_NONES)
  local boxed = unflatten_core(treedef, leaves, n, FN, Box)
  local ok, picked = pcall(where, boxed)
  if not ok then
    error(("%s: %s (`where` failed on the structure-only copy: %s)"):format(FN,
      STRUCTURE_ONLY, tostring(picked)), 2)
  end
  check_same_selection(plain, picked, is_leaf)

  -- One node or a sequence of nodes? A node of the tree is one target; the
  -- walk that finds it also gives the tree with that node as a leaf.
  local single, as_leaf = is_box(picked), nil
  if not single and type(picked) == "table" then
    local lv, td, count_ = flatten_core(boxed, nil, FN, "flatten",
      { stop = { [picked] = true }, leaf_mt = Box })
    for i = 1, count_ do
      if rawequal(lv[i], picked) then
        single, as_leaf = true, { lv, td, count_ }
        break
      end
    end
  end
  local nodes, replacements
  if single then
    nodes, replacements = { picked }, { n = 1, replace }
  elseif type(picked) == "table" and getmetatable(picked) == nil then
    nodes = picked
    for i = 1, #nodes do
      local node = nodes[i]
      if not is_box(node) and type(node) ~= "table" then not_in_tree(boxed, node) end
    end
    if replace_fn == nil then
      if type(replace) ~= "table" then
        error(("%s: `where` returned a list of %d nodes, so `replace` must be a list of as "
          .. "many values, got %s"):format(FN, #nodes, type(replace)), 2)
      end
      local count = replace.n or #replace
      if count ~= #nodes then
        error(("%s: `where` must return a sequence of leaves of the same length as "
          .. "`replace` (%d nodes, %d replacements)."):format(FN, #nodes, count), 2)
      end
      replacements = replace
    end
  elseif type(picked) == "table" then
    error(FN .. ": `where` does not specify an element or elements of `pytree`.", 2)
  else
    not_in_tree(boxed, picked)
  end

  local target, count, only_boxes = {}, {}, true
  for i = 1, #nodes do
    local node = nodes[i]
    if target[node] then
      error(("%s: `where` does not uniquely identify a single element of `pytree`: it "
        .. "returned the same node at positions %d and %d."):format(FN, target[node], i), 2)
    end
    target[node], count[node] = i, 0
    if not is_box(node) then only_boxes = false end
  end
  local function replacement(node)
    count[node] = count[node] + 1
    if replace_fn then return replace_fn(unbox_tree(node)) end
    return replacements[target[node]]
  end

  local out_leaves, out_def, out_n = {}, treedef, n
  if only_boxes then
    -- Leaf targets: the flat leaves with some positions replaced.
    for i = 1, n do out_leaves[i] = leaves[i] end
    for i = 1, #nodes do
      local node = nodes[i]
      local at = node[2]
      if rawequal(leaves[at], node[1]) then out_leaves[at] = replacement(node) end
    end
  else
    -- Node targets: the boxed tree walked with the targets as leaves.
    local lv
    if as_leaf then lv, out_def, out_n = as_leaf[1], as_leaf[2], as_leaf[3]
    else
      lv, out_def, out_n = flatten_core(boxed, nil, FN, "flatten", { stop = target, leaf_mt = Box })
    end
    for i = 1, out_n do
      local x = lv[i]
      if target[x] == nil then out_leaves[i] = unbox(x)
      else out_leaves[i] = replacement(x) end
    end
  end
  local out = unflatten_core(out_def, out_leaves, out_n, FN)

  for i = 1, #nodes do
    local c = count[nodes[i]]
    if c == 0 then
      error(FN .. ": `where` does not specify an element or elements of `pytree`.", 2)
    elseif c > 1 then
      error(FN .. ": `where` does not uniquely identify a single element of `pytree`.", 2)
    end
  end
  return out
end

return M
