--- lx.Module: Equinox-style modules, immutable pytree nodes with declared fields.
--
-- A class is made with `lx.Module:extend(name, {fields = {...}, static = {...}})`.
-- `fields` are the children of the pytree node, in declaration order;
-- `static` fields are part of the treedef (hyperparameters, flags). A subclass
-- inherits its parent's fields first, then adds its own.
--
-- An instance keeps its field values in a table stored under a private key
-- (`core.tree_store_key`), so that every assignment reaches `__newindex`:
-- that is how immutability is enforced after `init`, and how `init` can set a
-- field to `nil` on purpose (a `nil` field is an empty subtree, like Equinox's
-- `None`). The tree functions in the C binding read the store directly and
-- rebuild instances without calling `init`, as Equinox's unflatten does.
-- @module lunox.module
local core = require("lunox.core")

local M = {}

local STORE = core.tree_store_key
-- Raw key of an instance while its `init` runs: the set of names assigned so far.
local INIT = {}

local rawget, rawset, setmetatable, getmetatable = rawget, rawset, setmetatable, getmetatable
local type, error, pairs, ipairs = type, error, pairs, ipairs

--- True when x is an instance of an lx.Module class.
function M.is_module(x)
  if type(x) ~= "table" then return false end
  local mt = getmetatable(x)
  return mt ~= nil and type(mt) == "table" and rawget(mt, "__lx_fields") ~= nil
    and rawget(x, STORE) ~= nil
end

local function quote_name(cls) return rawget(cls, "__name") or "Module" end

-- Metamethods are found with rawget on the metatable, so a class holds
-- copies of the ones its ancestors define: taken at `extend`, and pushed down
-- to subclasses when an ancestor defines one later (the class table's
-- __newindex), unless the subclass has its own.
local METAMETHODS = {}
for _, name in ipairs({ "__call", "__tostring", "__len", "__unm", "__add", "__sub", "__mul",
  "__div", "__mod", "__pow", "__concat", "__eq", "__lt", "__le", "__close", "__idiv",
  "__band", "__bor", "__bxor", "__shl", "__shr", "__bnot" }) do
  METAMETHODS[name] = true
end

local function push_down(cls, name, value)
  for _, sub in ipairs(rawget(cls, "__lx_children")) do
    local inherited = rawget(sub, "__lx_inherited")
    if rawget(sub, name) == nil or inherited[name] then
      rawset(sub, name, value)
      inherited[name] = value ~= nil or nil
      push_down(sub, name, value)
    end
  end
end

local function class_newindex(cls, name, value)
  rawset(cls, name, value)
  if METAMETHODS[name] then
    rawget(cls, "__lx_inherited")[name] = nil
    push_down(cls, name, value)
  end
end

local function instance_index(cls)
  return function(self, key)
    local store = rawget(self, STORE)
    local v = store[key]
    if v ~= nil then return v end
    return cls[key]
  end
end

local function instance_newindex(cls)
  local name = quote_name(cls)
  local kinds = rawget(cls, "__lx_kind")
  return function(self, key, value)
    local assigned = rawget(self, INIT)
    if assigned == nil then
      error(("%s: cannot set field '%s': modules are immutable; build a changed copy with "
        .. "lx.tree_at(function(m) return m.%s end, model, new_value)"):format(
          name, tostring(key), tostring(key)), 2)
    end
    if kinds[key] == nil then
      error(("%s: '%s' is not a declared field (fields: %s)"):format(name, tostring(key),
        table.concat(rawget(cls, "__lx_all"), ", ")), 2)
    end
    rawget(self, STORE)[key] = value
    assigned[key] = true
  end
end

local function construct(cls, ...)
  local self = setmetatable({ [STORE] = {}, [INIT] = {} }, cls)
  local init = cls.init
  if init then init(self, ...) end
  local assigned = rawget(self, INIT)
  for _, field in ipairs(rawget(cls, "__lx_all")) do
    if not assigned[field] then
      rawset(self, INIT, nil)
      error(("Field '%s' of %s was not initialized"):format(field, quote_name(cls)), 2)
    end
  end
  rawset(self, INIT, nil)
  local check = cls.check_init
  if check then check(self) end
  return self
end

local function names_of(spec, what, cls_name)
  local list = spec[what] or {}
  if type(list) ~= "table" then
    error(("Module:extend: '%s' of %s must be a list of field names, got %s"):format(what,
      cls_name, type(list)), 3)
  end
  for i, f in ipairs(list) do
    if type(f) ~= "string" then
      error(("Module:extend: %s[%d] of %s must be a string, got %s"):format(what, i, cls_name,
        type(f)), 3)
    end
  end
  return list
end

--- Makes a subclass: `Parent:extend(name, {fields = {...}, static = {...}})`.
local function extend(parent, name, spec)
  if type(name) ~= "string" then
    error(("Module:extend: the class name must be a string, got %s"):format(type(name)), 2)
  end
  spec = spec or {}
  if type(spec) ~= "table" then
    error(("Module:extend: the spec of %s must be a table {fields=..., static=...}, got %s")
      :format(name, type(spec)), 2)
  end
  for k in pairs(spec) do
    if k ~= "fields" and k ~= "static" then
      error(("Module:extend: unknown spec key '%s' for %s (expected fields, static)"):format(
        tostring(k), name), 2)
    end
  end
  local fields, static = {}, {}
  local kind = {}
  local function add(list, into, what)
    for _, f in ipairs(list) do
      if kind[f] then
        error(("Module:extend: field '%s' of %s is declared twice"):format(f, name), 3)
      end
      if f == "init" or f == "check_init" or f:sub(1, 2) == "__" then
        error(("Module:extend: '%s' cannot be a field name of %s"):format(f, name), 3)
      end
      kind[f] = what
      into[#into + 1] = f
    end
  end
  if parent ~= M.Module then
    add(rawget(parent, "__lx_fields"), fields, "field")
    add(rawget(parent, "__lx_static"), static, "static")
  end
  add(names_of(spec, "fields", name), fields, "field")
  add(names_of(spec, "static", name), static, "static")
  local all = {}
  for _, f in ipairs(fields) do all[#all + 1] = f end
  for _, f in ipairs(static) do all[#all + 1] = f end

  local cls = {
    __name = name, __lx_fields = fields, __lx_static = static, __lx_all = all,
    __lx_kind = kind, __lx_parent = parent, __lx_children = {}, __lx_inherited = {},
  }
  for name in pairs(METAMETHODS) do
    local v = parent[name]
    if v ~= nil then
      cls[name] = v
      cls.__lx_inherited[name] = true
    end
  end
  local siblings = rawget(parent, "__lx_children")
  siblings[#siblings + 1] = cls
  cls.__index = instance_index(cls)
  cls.__newindex = instance_newindex(cls)
  return setmetatable(cls, {
    __index = parent,
    __newindex = class_newindex,
    __call = construct,
    __tostring = function() return "<class " .. name .. ">" end,
  })
end

--- The root class. `lx.Module:extend(...)` makes module classes; the root
-- itself has no fields and cannot be instantiated.
M.Module = setmetatable({ extend = extend, __lx_children = {}, __lx_inherited = {} }, {
  __newindex = class_newindex,
  __call = function()
    error("lx.Module cannot be instantiated itself: make a class with "
      .. "lx.Module:extend(name, {fields = {...}, static = {...}})", 2)
  end,
  __tostring = function() return "<class Module>" end,
})

--- Every module's default `tostring`: the pretty-printed tree.
function M.Module.__tostring(self)
  return require("lunox.pformat").pformat(self)
end

return M
