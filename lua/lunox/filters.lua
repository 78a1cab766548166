--- Filters and tree comparisons: filter, partition, combine, apply_updates,
-- the is_* predicates and tree_equal, with Equinox's semantics.
--
-- A filtered-out leaf becomes `nil` (an empty subtree): in a Module field it
-- is nil, in a list or dict `lx.none`, so the tree keeps its shape and
-- `combine` can put the parts back together.
-- @module lunox.filters
local core = require("lunox.core")
local tree = require("lunox.tree")
local options = require("lunox.options")

local M = {}

local none = core.none
local is_array = core.is_array
local type, error, rawequal, select = type, error, rawequal, select

M.is_array = is_array

--- Arrays, numbers and booleans (what can become an array).
function M.is_array_like(x)
  local t = type(x)
  return t == "number" or t == "boolean" or is_array(x)
end

local INEXACT = { float16 = true, bfloat16 = true, float32 = true, float64 = true }

--- Arrays of a floating dtype.
function M.is_inexact_array(x)
  return is_array(x) and INEXACT[x.dtype] == true
end

local function is_none(x) return rawequal(x, none) end

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return mt ~= nil and type(mt) == "table" and mt.__call ~= nil
end

-- The mask tree: one boolean per leaf of pytree, from a filter_spec that is
-- a prefix of pytree (booleans and predicates at its leaves).
local SPEC_LABEL = { "the tree does not match the structure of filter_spec (which must be "
  .. "a prefix of the tree)" }

-- The mask tree: one boolean per leaf of pytree, from a filter_spec that is
-- a prefix of pytree (booleans and predicates at its leaves).
local function mask_tree(fn, pytree, spec, is_leaf)
  return tree._map(fn, SPEC_LABEL, function(mask, subtree)
    if type(mask) == "boolean" then
      return tree._map(fn, nil, function() return mask end, is_leaf, subtree)
    elseif callable(mask) then
      return tree._map(fn, nil, function(x) return mask(x) and true or false end, is_leaf,
        subtree)
    end
    error(("%s: `filter_spec` must consist of booleans and callables only, got %s"):format(fn,
      type(mask)), 0)
  end, nil, spec, pytree)
end

local function select_leaves(fn, masks, pytree, keep, replace)
  return tree._map(fn, nil, function(mask, x)
    if mask == keep then return x end
    return replace
  end, nil, masks, pytree)
end

local FILTER_OPTIONS = { inverse = true, replace = true, is_leaf = true }

--- Keeps the leaves that filter_spec selects; the others become opts.replace (nil).
function M.filter(pytree, filter_spec, opts)
  opts = options.check("lx.filter", opts, FILTER_OPTIONS, 1)
  local masks = mask_tree("lx.filter", pytree, filter_spec, opts.is_leaf)
  return select_leaves("lx.filter", masks, pytree, not opts.inverse, opts.replace)
end

local PARTITION_OPTIONS = { replace = true, is_leaf = true }

--- filter and its inverse: kept, rest.
function M.partition(pytree, filter_spec, opts)
  opts = options.check("lx.partition", opts, PARTITION_OPTIONS, 1)
  local masks = mask_tree("lx.partition", pytree, filter_spec, opts.is_leaf)
  return select_leaves("lx.partition", masks, pytree, true, opts.replace),
    select_leaves("lx.partition", masks, pytree, false, opts.replace)
end

local function first_present(...)
  for i = 1, select("#", ...) do
    local x = select(i, ...)
    if x ~= nil and not rawequal(x, none) then return x end
  end
  return nil
end

--- Merges trees of one structure: each leaf from the first tree that has it.
function M.combine(...)
  if select("#", ...) == 0 then error("lx.combine: expected at least one tree", 2) end
  return tree._map("lx.combine", nil, first_present, is_none, ...)
end

--- model + updates leaf by leaf; a nil (or lx.none) update leaves the leaf as it is.
function M.apply_updates(model, updates)
  return tree._map("lx.apply_updates",
    { "the model does not match the structure of the updates" }, function(u, p)
      if rawequal(u, none) then return p end
      return p + u
    end, is_none, updates, model)
end

-- ---------------------------------------------------------- tree_equal

local function arrays_equal(x, y, rtol, atol)
  if #x.shape ~= #y.shape or x.dtype ~= y.dtype then return false end
  for i = 1, #x.shape do
    if x.shape[i] ~= y.shape[i] then return false end
  end
  local same
  if (rtol == 0 and atol == 0) or not INEXACT[x.dtype] then
    same = core.eq(x, y)
  else
    -- NumPy's allclose: |x - y| <= atol + rtol * |y| where both are finite;
    -- infinities are close only to themselves; NaN is never close.
    local finite = core.where(core.eq(core.sub(y, y), 0), core.eq(core.sub(x, x), 0), false)
    local near = core.le(core.abs(core.sub(x, y)), core.add(core.mul(core.abs(y), rtol), atol))
    same = core.where(finite, near, core.eq(x, y))
  end
  return core.sum(core.logical_not(same)):item() == 0
end

local function number_kind(v)
  return math.type and math.type(v) or "float"
end

local EQUAL_OPTIONS = { rtol = true, atol = true, typematch = true }

--- True when a and b have the same structure and equal leaves (arrays: same
-- shape, dtype and values, within rtol/atol when given).
function M.tree_equal(a, b, opts)
  opts = options.check("lx.tree_equal", opts, EQUAL_OPTIONS, 1)
  local rtol, atol = opts.rtol or 0, opts.atol or 0
  if type(rtol) ~= "number" or type(atol) ~= "number" or rtol < 0 or atol < 0 then
    error("lx.tree_equal: rtol and atol must be non-negative numbers", 2)
  end
  local la, da = tree.flatten(a)
  local lb, db = tree.flatten(b)
  if da ~= db then return false end
  for i = 1, #la do
    local x, y = la[i], lb[i]
    if opts.typematch then
      if type(x) ~= type(y) then return false end
      if type(x) == "number" and number_kind(x) ~= number_kind(y) then return false end
    end
    local ax, ay = is_array(x), is_array(y)
    if ax or ay then
      if not (ax and ay) or not arrays_equal(x, y, rtol, atol) then return false end
    elseif x ~= y then
      return false
    end
  end
  return true
end

return M
