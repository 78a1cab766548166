--- lx.safetensors: the safetensors format (8-byte length, JSON header,
-- contiguous data) for pytrees.
--
-- Tensor names are key paths with dots: `layers.1.weight` for
-- `.layers[1].weight` (1-based list indices, as everywhere in lunox).
-- Saved leaves are arrays, numbers (0-d I64 for integers, F64 otherwise) and
-- booleans (0-d BOOL); strings and functions are skipped, as in the .eqx
-- format. Loading maps the file: CPU arrays are views of it, shared with the
-- page cache, so loading costs no copy. The mapping is private: writing to
-- an array (through lunox.ffi) never changes the file, and a file replaced
-- by lunox's atomic save leaves loaded arrays intact (a file truncated in
-- place by another program would not: pass {mmap = false} to copy).
-- @module lunox.safetensors
local core = require("lunox.core")
local tree = require("lunox.tree")
local files = require("lunox.files")
local options = require("lunox.options")
local json = require("lunox.json")
local eval_shape = require("lunox.eval_shape")

local M = {}

local is_array = core.is_array
local is_sds = eval_shape.is_shape_dtype_struct
local type, error, tostring, pcall, ipairs, pairs = type, error, tostring, pcall, ipairs, pairs

local ST_NAME = { float32 = "F32", float64 = "F64", float16 = "F16", bfloat16 = "BF16",
  int32 = "I32", int64 = "I64", uint8 = "U8", uint16 = "U16", uint32 = "U32", uint64 = "U64",
  bool = "BOOL" }
local ITEMSIZE = { float32 = 4, float64 = 8, float16 = 2, bfloat16 = 2, int32 = 4, int64 = 8,
  uint8 = 1, uint16 = 2, uint32 = 4, uint64 = 8, bool = 1 }

--- The tensor name of a key path: its keys joined with dots.
function M.path_name(path)
  local parts = {}
  for i, k in ipairs(path) do parts[i] = tostring(k) end
  return table.concat(parts, ".")
end

local function shape_repr(shape)
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- The array a leaf saves as, or nil for leaves that are skipped.
local function leaf_array(fn, name, x)
  if is_array(x) then return x end
  local t = type(x)
  if t == "boolean" then return core.array(x, "bool") end
  if t == "number" then
    local integral = (math.type and math.type(x) == "integer")
      or (not math.type and x % 1 == 0 and x > -2 ^ 53 and x < 2 ^ 53)
    return core.array(x, integral and "int64" or "float64")
  end
  if is_sds(x) then
    error(("%s: tensor '%s' is a ShapeDtypeStruct: it has a shape and a dtype but no values")
      :format(fn, name), 0)
  end
  return nil
end

local SAVE_OPTIONS = { metadata = true, is_leaf = true }

--- Saves the array, number and boolean leaves of tree (names from key
-- paths) to path, atomically. opts: {metadata = {key = "value"}, is_leaf}.
function M.save(path, pytree, opts)
  local fn = "lx.safetensors.save"
  if type(path) ~= "string" then
    error(("%s: path must be a string, got %s"):format(fn, type(path)), 2)
  end
  opts = options.check(fn, opts, SAVE_OPTIONS, 1)
  local where = files.where(2)
  local ok, err = pcall(function()
    local entries, seen = {}, {}
    for _, pl in ipairs(tree.flatten_with_path(pytree, opts.is_leaf)) do
      local name = M.path_name(pl[1])
      local a = leaf_array(fn, name, pl[2])
      if a then
        if name == "__metadata__" then
          error(("%s: '__metadata__' is reserved and cannot name a tensor"):format(fn), 0)
        end
        if seen[name] then
          error(("%s: two leaves, %s and %s, would both be saved as tensor '%s'"):format(fn,
            seen[name], tree.keystr(pl[1]), name), 0)
        end
        seen[name] = tree.keystr(pl[1])
        entries[#entries + 1] = { name = name, array = a }
      end
    end
    -- Wider dtypes first, then names: every tensor stays aligned to its
    -- element size, as the reference implementation arranges it.
    table.sort(entries, function(x, y)
      local sx, sy = ITEMSIZE[x.array.dtype], ITEMSIZE[y.array.dtype]
      if sx ~= sy then return sx > sy end
      return x.name < y.name
    end)
    local parts, arrays, offset = {}, {}, 0
    local meta = opts.metadata
    if meta ~= nil then
      if type(meta) ~= "table" then
        error(("%s: metadata must be a table of strings, got %s"):format(fn, type(meta)), 0)
      end
      local keys = {}
      for k, v in pairs(meta) do
        if type(k) ~= "string" or type(v) ~= "string" then
          error(("%s: metadata must map strings to strings, got %s = %s (%s); encode other "
            .. "values with lx.json.encode"):format(fn, tostring(k), tostring(v), type(v)), 0)
        end
        keys[#keys + 1] = k
      end
      table.sort(keys)
      local items = {}
      for i, k in ipairs(keys) do items[i] = json.encode(k) .. ":" .. json.encode(meta[k]) end
      parts[#parts + 1] = '"__metadata__":{' .. table.concat(items, ",") .. "}"
    end
    for i, e in ipairs(entries) do
      local a = e.array
      local nbytes = a.size * ITEMSIZE[a.dtype]
      local shape = {}
      for d, n in ipairs(a.shape) do shape[d] = ("%d"):format(n) end
      parts[#parts + 1] = ('%s:{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}'):format(
        json.encode(e.name), ST_NAME[a.dtype], table.concat(shape, ","), offset, offset + nbytes)
      offset = offset + nbytes
      arrays[i] = a
    end
    local header = "{" .. table.concat(parts, ",") .. "}"
    -- Spaces pad the header so that the data starts 8-byte aligned.
    header = header .. string.rep(" ", (8 - #header % 8) % 8)
    files.write_atomic(fn, path, function(f) core.safetensors_write(f, header, arrays, path) end)
  end)
  if not ok then error(where .. files.clean_message("", err), 0) end
end

local LOAD_OPTIONS = { is_leaf = true, cast = true, strict = true, allow_extra = true, mmap = true }

-- Loads one leaf of `like` from its entry.
local function load_leaf(fn, path, name, entry, x, opts)
  local a = entry.array
  if not a then
    error(("%s: tensor '%s' has dtype %s, which lunox does not support (%s)"):format(fn, name,
      entry.dtype, path), 0)
  end
  local t = type(x)
  if is_array(x) or is_sds(x) then
    local shape, dtype = x.shape, x.dtype
    if opts.strict ~= false and shape_repr(shape) ~= shape_repr(a.shape) then
      error(("%s: tensor '%s': shape %s in 'like' but %s in the file (%s)"):format(fn, name,
        shape_repr(shape), shape_repr(a.shape), path), 0)
    end
    if dtype ~= a.dtype then
      if not opts.cast then
        error(("%s: tensor '%s': dtype %s in 'like' but %s in the file (%s)"):format(fn, name,
          dtype, a.dtype, path), 0)
      end
      a = a:astype(dtype)
    end
    local device = is_array(x) and x.device or core.default_device()
    if device ~= "cpu" and device ~= "abstract" then a = a:to(device) end
    return a
  end
  if #a.shape ~= 0 then
    error(("%s: tensor '%s': a %s in 'like' but shape %s in the file (%s)"):format(fn, name, t,
      shape_repr(a.shape), path), 0)
  end
  if t == "boolean" then
    if a.dtype ~= "bool" then
      error(("%s: tensor '%s': boolean in 'like' but %s in the file (%s)"):format(fn, name,
        a.dtype, path), 0)
    end
    return a:item()
  end
  if a.dtype == "bool" then
    error(("%s: tensor '%s': number in 'like' but bool in the file (%s)"):format(fn, name, path), 0)
  end
  local v = a:item()
  if math.type and math.type(x) == "integer" then
    local i = math.tointeger(v)
    if not i then
      error(("%s: tensor '%s': integer in 'like' but %s in the file (%s)"):format(fn, name,
        tostring(v), path), 0)
    end
    return i
  end
  return math.type and v + 0.0 or v
end

--- Loads a safetensors file: into the structure of `like` (arrays,
-- skeleton leaves, numbers and booleans are loaded by name; other leaves
-- kept), or, without `like`, as a flat table {name = array}. Returns the
-- tree and the __metadata__ table (strings). opts:
--   cast = true          convert dtypes to like's;
--   strict = false       accept shapes that differ from like's;
--   allow_extra = true   accept tensors that `like` has no leaf for;
--   mmap = false         copy into memory of lunox's own instead of mapping;
--   is_leaf              as in lx.tree.
function M.load(path, like, opts)
  local fn = "lx.safetensors.load"
  if type(path) ~= "string" then
    error(("%s: path must be a string, got %s"):format(fn, type(path)), 2)
  end
  opts = options.check(fn, opts, LOAD_OPTIONS, 1)
  local where = files.where(2)
  local ok, out, meta = pcall(function()
    local entries, metadata = core.safetensors_load(path, opts.mmap == false)
    if like == nil then
      local flat = {}
      for _, e in ipairs(entries) do
        if not e.array then
          error(("%s: tensor '%s' has dtype %s, which lunox does not support (%s)"):format(fn,
            e.name, e.dtype, path), 0)
        end
        flat[e.name] = e.array
      end
      return flat, metadata
    end
    local by_name = {}
    for _, e in ipairs(entries) do by_name[e.name] = e end
    local used = {} -- tensor name -> the key path of the leaf that took it
    local leaves, treedef = tree.flatten_with_path(like, opts.is_leaf)
    local out = {}
    for i, pl in ipairs(leaves) do
      local x = pl[2]
      local t = type(x)
      if is_array(x) or is_sds(x) or t == "number" or t == "boolean" then
        local name = M.path_name(pl[1])
        local e = by_name[name]
        if not e then
          error(("%s: no tensor '%s' in the file for leaf %s of 'like' (%s)"):format(fn, name,
            tree.keystr(pl[1]), path), 0)
        end
        if used[name] then
          error(("%s: two leaves of 'like', %s and %s, would both load tensor '%s'"):format(fn,
            used[name], tree.keystr(pl[1]), name), 0)
        end
        used[name] = tree.keystr(pl[1])
        out[i] = load_leaf(fn, path, name, e, x, opts)
      else
        out[i] = x
      end
    end
    if not opts.allow_extra then
      local extra = {}
      for _, e in ipairs(entries) do
        if not used[e.name] then extra[#extra + 1] = "'" .. e.name .. "'" end
      end
      if #extra > 0 then
        table.sort(extra)
        error(("%s: the file has tensors that 'like' has no leaf for: %s (%s); pass "
          .. "{allow_extra = true} to load a part"):format(fn, table.concat(extra, ", ", 1,
          math.min(#extra, 10)) .. (#extra > 10 and ", ..." or ""), path), 0)
      end
    end
    return treedef:unflatten(out, #leaves), metadata
  end)
  if not ok then error(where .. files.clean_message("", out), 0) end
  return out, meta
end

return M
