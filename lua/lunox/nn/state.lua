--- Stateful layers, as equinox.nn: a StateIndex marks a slot of state in a
-- model (holding its initial value until make_with_state takes it out), and
-- a State holds the current values, passed into and returned from calls.
-- Both are immutable pytrees; State:set returns a new State.
-- @module lunox.nn.state
local core = require("lunox.core")
local Module = require("lunox.module").Module
local tree = require("lunox.tree")

local M = {}

local next_marker = 0

--- StateIndex(init): init is an array or a pytree of arrays (a function is
-- refused, as Equinox does). It is kept in the field `initial` (Equinox's
-- `init`, a name lunox modules give to their constructor); marker is a
-- static integer unique in this process.
local StateIndex = Module:extend("StateIndex", { fields = { "initial" }, static = { "marker" } })
M.StateIndex = StateIndex

function StateIndex:init(init)
  if type(init) == "function" or init == nil or init == core.none then
    error("StateIndex: init must be an array or a pytree of arrays, got "
      .. (init == nil and "nil" or init == core.none and "lx.none" or "a function"), 3)
  end
  next_marker = next_marker + 1
  self.initial = init
  self.marker = next_marker
end

local function is_index(x)
  return type(x) == "table" and getmetatable(x) == StateIndex
end
M.is_state_index = is_index

local PRIVATE = {}

--- State(model): the initial values of model's StateIndexes. Use
-- make_with_state rather than calling it directly.
local State = Module:extend("State", { fields = { "values" } })
M.State = State

local function slot(marker) return "s" .. string.format("%09d", marker) end

function State:init(model, values)
  if model == PRIVATE then
    self.values = values
    return
  end
  local out = {}
  for _, leaf in ipairs(tree.leaves(model, is_index)) do
    if is_index(leaf) then
      if leaf.initial == nil or leaf.initial == core.none then
        error("State: do not call nn.State(model) on a model from make_with_state: its "
          .. "initial state was moved into the State that make_with_state returned", 3)
      end
      out[slot(leaf.marker)] = tree.map(function(v) return core.is_array(v) and v or core.array(v) end,
        leaf.initial)
    end
  end
  self.values = out
end

local function check_index(fn, index)
  if not is_index(index) then
    error(("State:%s: the key must be an nn.StateIndex, got %s"):format(fn,
      type(index) == "table" and (getmetatable(index) and tostring(getmetatable(index).__name)
      or "a table") or type(index)), 3)
  end
end

--- The value stored for `index`.
function State:get(index)
  check_index("get", index)
  local v = self.values[slot(index.marker)]
  if v == nil then
    error("State:get: this StateIndex is not part of the model this State was made for", 2)
  end
  return v
end

local function describe(v)
  if core.is_array(v) then return v.dtype .. "{" .. table.concat(v.shape, ",") .. "}" end
  return type(v)
end

--- A new State with `value` for `index`: the value must keep the old one's
-- structure, shapes and dtypes.
function State:set(index, value)
  check_index("set", index)
  local key = slot(index.marker)
  local old = self.values[key]
  if old == nil then
    error("State:set: this StateIndex is not part of the model this State was made for", 2)
  end
  local old_leaves, old_def = tree.flatten(old)
  local new_leaves, new_def = tree.flatten(value)
  if tostring(old_def) ~= tostring(new_def) then
    error("State:set: cannot change the structure of a state value", 2)
  end
  for i, a in ipairs(old_leaves) do
    local b = new_leaves[i]
    if core.is_array(a) and (not core.is_array(b) or a.dtype ~= b.dtype
        or table.concat(a.shape, ",") ~= table.concat(b.shape, ",")) then
      error(("State:set: cannot change a state value's shape or dtype: %s to %s"):format(
        describe(a), describe(b)), 2)
    end
  end
  local values = {}
  for k, v in pairs(self.values) do values[k] = v end
  values[key] = value
  return State(PRIVATE, values)
end

--- True when x is a State.
function M.is_state(x)
  return type(x) == "table" and getmetatable(x) == State
end

--- make_with_state(cls)(...) -> model, state: builds the model, moves every
-- StateIndex's initial value into a State, and leaves lx.none (an empty
-- subtree, like Equinox's sentinel) in the model in its place: no second
-- copy of the arrays, and the model saves and loads with the default
-- filters.
function M.make_with_state(make)
  if type(make) ~= "function" and not (type(make) == "table" and getmetatable(make)
      and getmetatable(make).__call) then
    error("make_with_state: expected a module class or a function, got " .. type(make), 2)
  end
  return function(...)
    local model = make(...)
    local state = State(model)
    local function where(m)
      local inits = {}
      for _, leaf in ipairs(tree.leaves(m, is_index)) do
        if is_index(leaf) then inits[#inits + 1] = leaf end
      end
      return inits
    end
    local indexes = where(model)
    if #indexes > 0 then
      local tree_at = require("lunox.tree_at").tree_at
      model = tree_at(function(m)
        local out = {}
        for i, idx in ipairs(where(m)) do out[i] = idx.initial end
        return out
      end, model, nil, {
        replace_fn = function() return core.none end,
      })
    end
    return model, state
  end
end

return M
