--- Equinox's serialisation: tree_serialise_leaves / tree_deserialise_leaves.
--
-- A file is the saved leaves, depth-first, each one NumPy .npy record
-- exactly as numpy.save writes it: Python Equinox reads what lunox writes and
-- lunox reads what it writes. Arrays, numbers (integers as 0-d int64, other
-- numbers as 0-d float64) and booleans are saved; other leaves (strings,
-- functions) are skipped on save and kept from `like` on load.
--
-- The filter_spec is a function (f, x) or a prefix tree of such functions,
-- as in Equinox. While a load runs, the file object `f` is registered here
-- with what the default specs need for their checks and messages (the leaf
-- path, the file's name, the options), so that a user's filter_spec can
-- call `lx.default_deserialise_filter_spec(f, x)` exactly as in Python.
-- @module lunox.serialise
local core = require("lunox.core")
local tree = require("lunox.tree")
local files = require("lunox.files")
local options = require("lunox.options")
local eval_shape = require("lunox.eval_shape")

local M = {}

local is_array = core.is_array
local is_sds = eval_shape.is_shape_dtype_struct
local type, error, pcall, tostring, select = type, error, pcall, tostring, select
local math_type = math.type
local flatten, flatten_with_path, keystr = tree.flatten, tree.flatten_with_path, tree.keystr

-- The load or save in progress on each file object: {name, path, cast,
-- strict, offset}. Weak keys: an abandoned file object is not kept alive.
local CONTEXT = setmetatable({}, { __mode = "k" })
local DEFAULT_CONTEXT = { name = nil, cast = false, strict = true }

-------------------------------------------------------------- paths

--- The path with ".eqx" added when its last component has no suffix
-- (pathlib's rule: a dot that is neither the first nor the last character).
function M.with_suffix(path)
  local name = path:match("([^/]*)$")
  local dot = name:match("^.*()%.")
  if dot and dot > 1 and dot < #name then return path end
  return path .. ".eqx"
end

local function check_file(fn, f)
  local t = type(f)
  if t ~= "table" and t ~= "userdata" then
    error(("%s: expected a path or a file object (io.open handle, lx.BytesIO, or an object "
      .. "with read/write methods), got %s"):format(fn, t), 3)
  end
end

local function check_path(fn, path)
  if path == "" or path:sub(-1) == "/" then
    error(("%s: '%s' is not a file name"):format(fn, path), 3)
  end
  return M.with_suffix(path)
end

-------------------------------------------------------------- messages

-- Python's repr of a shape, as Equinox's messages print it: (3,), (10, 5).
local function shape_repr(shape)
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  if #parts == 1 then return "(" .. parts[1] .. ",)" end
  return "(" .. table.concat(parts, ",") .. ")"
end

local function at(ctx, offset)
  return ("(%s, byte %s)"):format(ctx.name or "<file>", tostring(offset))
end

-- What a leaf is, in messages: "array", "integer", "float", "boolean", ...
local function kind_name(x)
  if is_array(x) or is_sds(x) then return "array" end
  local t = type(x)
  if t == "number" then
    return math_type and math_type(x) or "number"
  end
  return t
end

-------------------------------------------------------------- default specs

--- Saves arrays, numbers and booleans; skips every other leaf. The record
-- of a number is a 0-d int64 for integers (on LuaJIT: integral numbers
-- within 2^53) and a 0-d float64 otherwise, as numpy.save writes Python's.
function M.default_serialise_filter_spec(f, x)
  local t = type(x)
  if is_array(x) or t == "number" or t == "boolean" then
    local ctx = CONTEXT[f] or DEFAULT_CONTEXT
    core._npy_write(f, x, ctx.name)
  elseif is_sds(x) then
    error("cannot save a ShapeDtypeStruct: it has a shape and a dtype but no values "
      .. "(load values into the skeleton first)", 0)
  end
end

local function same_shape(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

-- Reads a number from a 0-d record into x's kind of number: exact
-- conversions only (2.0 into an integer leaf, 3 into a float leaf).
local function to_number(ctx, h, arr, x)
  local v = arr:item()
  if type(v) ~= "number" then
    error(("type %s in 'like' but %s on disk %s"):format(kind_name(x), h.dtype, at(ctx, h.offset)), 0)
  end
  if math_type then
    if math_type(x) == "integer" then
      local i = math.tointeger(v)
      if not i then
        error(("integer in 'like' but %s %s on disk %s"):format(h.dtype, tostring(v),
          at(ctx, h.offset)), 0)
      end
      return i
    end
    return v + 0.0
  end
  return v
end

local INTEGER_DTYPES = { int32 = true, int64 = true, uint8 = true, uint16 = true,
  uint32 = true, uint64 = true }
local FLOAT_DTYPES = { float16 = true, bfloat16 = true, float32 = true, float64 = true }

--- Loads the next record for an array, number or boolean leaf of `like`
-- (or a ShapeDtypeStruct of a skeleton), checking it against x before its
-- data is read; every other leaf is returned unchanged.
function M.default_deserialise_filter_spec(f, x)
  local t = type(x)
  local want_array = is_array(x) or is_sds(x)
  if not want_array and t ~= "number" and t ~= "boolean" then return x end
  local ctx = CONTEXT[f] or DEFAULT_CONTEXT
  local h = core._npy_read_header(f, ctx.name)
  if h == nil then
    error(("the file ended before this leaf: it holds fewer leaves than 'like' %s"):format(
      at(ctx, (core._stream_offset(f)))), 0)
  end
  ctx.offset = h.offset
  if h.dtype == nil then
    error(("the record's dtype '%s' is not one lunox has %s"):format(h.descr,
      at(ctx, h.descr_offset)), 0)
  end
  if want_array then
    local shape, dtype = x.shape, x.dtype
    if not same_shape(shape, h.shape) and ctx.strict then
      error(("shape %s in 'like' but %s on disk %s"):format(shape_repr(shape), shape_repr(h.shape),
        at(ctx, h.offset)), 0)
    end
    if dtype ~= h.dtype and not ctx.cast then
      error(("dtype %s in 'like' but %s on disk %s"):format(dtype, h.dtype, at(ctx, h.offset)), 0)
    end
    local arr = core._npy_read_data(f, h, ctx.name)
    if dtype ~= h.dtype then arr = arr:astype(dtype) end
    local device = is_array(x) and x.device or core.default_device()
    if device ~= "cpu" and device ~= "abstract" then arr = arr:to(device) end
    return arr
  end
  if #h.shape ~= 0 then
    error(("%s in 'like' but an array of shape %s on disk %s"):format(kind_name(x),
      shape_repr(h.shape), at(ctx, h.offset)), 0)
  end
  if t == "boolean" then
    if h.dtype ~= "bool" then
      error(("boolean in 'like' but %s on disk %s"):format(h.dtype, at(ctx, h.offset)), 0)
    end
    return core._npy_read_data(f, h, ctx.name):item()
  end
  if not INTEGER_DTYPES[h.dtype] and not FLOAT_DTYPES[h.dtype] then
    error(("%s in 'like' but %s on disk %s"):format(kind_name(x), h.dtype, at(ctx, h.offset)), 0)
  end
  return to_number(ctx, h, core._npy_read_data(f, h, ctx.name), x)
end

--- Reads past the next record without checking it and returns x: keeps a
-- leaf of `like` where the file holds something else (a layer that was
-- replaced), so that the records after it still line up.
function M.skip_deserialise_filter_spec(f, x)
  local t = type(x)
  if not (is_array(x) or is_sds(x) or t == "number" or t == "boolean") then return x end
  local ctx = CONTEXT[f] or DEFAULT_CONTEXT
  local h = core._npy_read_header(f, ctx.name)
  if h == nil then
    error(("the file ended before this leaf: it holds fewer leaves than 'like' %s"):format(
      at(ctx, (core._stream_offset(f)))), 0)
  end
  core._npy_skip_data(f, h, ctx.name)
  return x
end

-------------------------------------------------------------- the walk

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

-- Runs `visit(spec, f, leaf) -> new leaf` over the leaves of `pytree`,
-- depth-first, where filter_spec is a prefix of pytree with functions at its
-- leaves. Errors name the leaf's full key path.
local function walk(fn, f, ctx, filter_spec, pytree, is_leaf, visit)
  local specs, spec_def = flatten(filter_spec)
  local subtrees
  do
    local ok, res = pcall(spec_def.flatten_up_to, spec_def, pytree)
    if not ok then
      error(("%s: the tree does not match the structure of filter_spec (which must be a "
        .. "prefix of the tree): %s"):format(fn, files.clean_message("treedef:flatten_up_to",
        res)), 0)
    end
    subtrees = res
  end
  local spec_paths = flatten_with_path(filter_spec)
  local results = {}
  for i = 1, #specs do
    local spec = specs[i]
    if not callable(spec) then
      error(("%s: filter_spec must be a function or a prefix tree of functions, got %s at %s")
        :format(fn, type(spec), keystr(spec_paths[i][1])), 0)
    end
    local leaves, def = flatten_with_path(subtrees[i], is_leaf)
    local out = {}
    for j = 1, #leaves do
      local leaf = leaves[j][2]
      ctx.leaf_path = leaves[j][1]
      local ok, res = pcall(visit, spec, f, leaf)
      if not ok then
        local path = keystr(spec_paths[i][1]) .. keystr(leaves[j][1])
        error(("%s: leaf %s: %s"):format(fn, path ~= "" and path or "(root)",
          files.clean_message(fn, res)), 0)
      end
      out[j] = res
    end
    results[i] = def:unflatten(out, #leaves)
  end
  return spec_def:unflatten(results, #specs)
end

-- The context of a load or save through f: its name in messages (the path,
-- or what the binding calls the object: "<BytesIO>", ...) and the options.
local function new_context(f, name, opts)
  return { name = name or select(2, core._stream_offset(f)), cast = opts.cast == true,
    strict = opts.strict ~= false }
end

-- walk(...) with ctx registered for f meanwhile (a load may run inside a
-- user's filter_spec on the same file); returns pcall's results.
local function walk_in(ctx, f, ...)
  local previous = CONTEXT[f]
  CONTEXT[f] = ctx
  local ok, res = pcall(walk, ...)
  CONTEXT[f] = previous
  return ok, res
end

local SERIALISE_OPTIONS = { filter_spec = true, is_leaf = true }

local function serialise_visit(spec, f, leaf)
  spec(f, leaf)
  return leaf
end

--- Saves the leaves of pytree to a path (".eqx" appended when it has no
-- suffix; written atomically) or to a file object (written at its current
-- position). opts: {filter_spec, is_leaf}.
function M.tree_serialise_leaves(path_or_file, pytree, opts)
  local fn = "tree_serialise_leaves"
  opts = options.check(fn, opts, SERIALISE_OPTIONS, 1)
  local spec = opts.filter_spec or M.default_serialise_filter_spec
  local where = files.where(2)
  local function body(f, name)
    local ctx = new_context(f, name, opts)
    local ok, err = walk_in(ctx, f, fn, f, ctx, spec, pytree, opts.is_leaf, serialise_visit)
    if not ok then error(err, 0) end
  end
  local ok, err
  if type(path_or_file) == "string" then
    local path = check_path(fn, path_or_file)
    ok, err = pcall(files.write_atomic, fn, path, function(f) body(f, path) end)
  else
    check_file(fn, path_or_file)
    ok, err = pcall(body, path_or_file, nil)
  end
  if not ok then error(where .. files.clean_message("", err), 0) end
end

local DESERIALISE_OPTIONS = { filter_spec = true, is_leaf = true, cast = true, strict = true,
  allow_trailing = true }

-- Equinox's check of every loaded leaf against `like` (after the filter
-- specs ran, so user specs are checked too).
local function check_same(ctx, new, old)
  if rawequal(new, old) then return end
  local nk, ok_ = kind_name(new), kind_name(old)
  if nk ~= ok_ and not (math_type == nil and nk == "number" and ok_ == "number") then
    error(("type %s in 'like' but %s on disk %s"):format(ok_, nk, at(ctx, ctx.offset)), 0)
  end
  if is_array(new) and (is_array(old) or is_sds(old)) then
    if ctx.strict and not same_shape(new.shape, old.shape) then
      error(("shape %s in 'like' but %s on disk %s"):format(shape_repr(old.shape),
        shape_repr(new.shape), at(ctx, ctx.offset)), 0)
    end
    if new.dtype ~= old.dtype then
      error(("dtype %s in 'like' but %s on disk %s"):format(old.dtype, new.dtype,
        at(ctx, ctx.offset)), 0)
    end
  end
end

--- Loads the leaves saved by tree_serialise_leaves into the structure of
-- `like` (a model, or a skeleton from lx.filter_eval_shape). opts:
--   filter_spec, is_leaf    as in Equinox;
--   cast = true             convert on-disk dtypes to like's (a float32 file
--                           into a bfloat16 skeleton);
--   strict = false          accept on-disk shapes that differ from like's;
--   allow_trailing = true   accept data after the last leaf (by default it
--                           is an error: the file holds more leaves).
function M.tree_deserialise_leaves(path_or_file, like, opts)
  local fn = "tree_deserialise_leaves"
  opts = options.check(fn, opts, DESERIALISE_OPTIONS, 1)
  local spec = opts.filter_spec or M.default_deserialise_filter_spec
  local where = files.where(2)
  local function visit(s, f, leaf)
    local ctx = CONTEXT[f]
    ctx.offset = (core._stream_offset(f))
    local new = s(f, leaf)
    check_same(ctx, new, leaf)
    return new
  end
  local function body(f, name)
    local ctx = new_context(f, name, opts)
    local ok, res = walk_in(ctx, f, fn, f, ctx, spec, like, opts.is_leaf, visit)
    if ok and not opts.allow_trailing then
      local end_offset = (core._stream_offset(f))
      local more_ok, more = pcall(core._stream_has_more, f, name)
      if not more_ok then
        ok, res = false, more
      elseif more then
        ok, res = false, ("%s: the file has data after the last leaf of 'like' %s: it holds "
          .. "more leaves than 'like' (pass {allow_trailing = true} to load a prefix)"):format(fn,
          at(ctx, end_offset))
      end
    end
    if not ok then error(res, 0) end
    return res
  end
  local ok, res
  if type(path_or_file) == "string" then
    local path = check_path(fn, path_or_file)
    local f, err = io.open(path, "rb")
    if not f then error(("%s%s: cannot open '%s': %s"):format(where, fn, path, tostring(err)), 0) end
    ok, res = pcall(body, f, path)
    f:close()
  else
    check_file(fn, path_or_file)
    ok, res = pcall(body, path_or_file, nil)
  end
  if not ok then error(where .. files.clean_message("", res), 0) end
  return res
end

return M
