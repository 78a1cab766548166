--- lx.tree_pformat: pretty-prints a pytree (modules, tables, arrays, leaves).
--
-- The printer works in two passes. The first turns the tree into a document:
-- a text for each leaf and a group (an opening bracket, `prefix child` items,
-- a closing bracket) for each node, and records every group's one-line width
-- bottom-up, capped at the page width (a group wider than the page can never
-- print flat, so its exact width does not matter). The second walks the
-- document once: a group that fits in what is left of the line prints flat,
-- otherwise it breaks, one item per line, indented two more than its parent.
-- Each node is visited a bounded number of times, so large models format in
-- linear time.
--
-- Output is Lua syntax where the value has one (`{1, 2}`, `{key="v"}`,
-- `Linear(weight=..., bias=...)` reads like a constructor call), and `<...>`
-- for what has none (functions, cycles, opaque objects).
-- @module lunox.pformat
local M = {}

local type, pairs, ipairs, next, tostring, pcall = type, pairs, ipairs, next, tostring, pcall
local rawget, error = rawget, error
local concat, sort = table.concat, table.sort
local format, rep, byte = string.format, string.rep, string.byte
local floor, HUGE = math.floor, math.huge
local math_type = math.type -- nil under LuaJIT, where every number is a double
-- The raw metatable: a __metatable field must not hide what a value is.
local getmetatable_raw = (debug and debug.getmetatable) or getmetatable
local getinfo = debug and debug.getinfo

-- The core and the module library are optional: without them (a stock
-- interpreter) there are no arrays or modules to print, and plain tables
-- still format.
local has_core, core = pcall(require, "lunox.core")
if not has_core then core = {} end
local is_array = core.is_array or function() return false end

local module_lib
local function is_module(x)
  -- Loaded on first use: lunox.module requires this file from its __tostring,
  -- and loading it here at require time would be a needless cycle.
  if module_lib == nil then
    local ok, lib = pcall(require, "lunox.module")
    module_lib = ok and lib or false
  end
  return module_lib and module_lib.is_module(x) or false
end

-- lx.none may come from the core or be added by the Lua layer; read it on each
-- call so a sentinel defined after this file loaded still prints as `none`.
local function none_value()
  if core.none ~= nil then return core.none end
  local lx = package.loaded["lunox"]
  return type(lx) == "table" and rawget(lx, "none") or nil
end

---------------------------------------------------------------- leaves

-- Equinox's short dtype names (f32[4,2]).
local DTYPE_ABBREV = {
  float32 = "f32", float64 = "f64", float16 = "f16", bfloat16 = "bf16",
  int32 = "i32", int64 = "i64", uint8 = "u8", uint16 = "u16", uint32 = "u32", uint64 = "u64",
  bool = "bool",
}

local function short_array(a)
  local dtype = a.dtype
  local shape = a.shape
  local dims = {}
  for i = 1, #shape do dims[i] = format("%d", shape[i]) end
  return (DTYPE_ABBREV[dtype] or tostring(dtype)) .. "[" .. concat(dims, ",") .. "]"
end

-- Numbers print the same under both hosts: Lua 5.4 would write the float 1.0
-- as "1.0" where LuaJIT writes "1", so integral values always print without
-- decimals, and the rest use the "%.14g" both hosts' tostring uses.
local function format_number(v)
  if v ~= v then return "nan" end
  if v == HUGE then return "inf" end
  if v == -HUGE then return "-inf" end
  if math_type and math_type(v) == "integer" then return tostring(v) end
  if v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    if v == 0 and 1 / v < 0 then return "-0" end
    return format("%d", v)
  end
  return format("%.14g", v)
end

-- Quoting is done here rather than with "%q": "%q" writes a newline as a
-- backslash followed by a real newline (the output would span lines), and
-- the two hosts escape other control characters differently.
local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }
local function escape_char(c)
  -- Three digits always, so a digit that follows cannot join the escape.
  return ESCAPES[c] or format("\\%03d", byte(c))
end
local function quote_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in local nil not
  or repeat return then true until while]]):gmatch("%a+") do KEYWORDS[word] = true end

local function is_identifier(s)
  return s:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[s]
end

-- Reverse map function -> name, built once on first need, over the lunox
-- table and its sub-tables one level deep (lx.nn.relu), plus math and string.
-- When a function has several names the shortest wins, then the bytewise
-- smallest, so the choice does not depend on table iteration order.
local function_names

local function build_function_names()
  local names = {}
  local function consider(f, name)
    if type(name) ~= "string" or name:sub(1, 2) == "__" then return end
    local old = names[f]
    if old == nil or #name < #old or (#name == #old and name < old) then names[f] = name end
  end
  -- next, not pairs: a __pairs metamethod could run arbitrary code.
  local function scan(tbl, depth, seen)
    if seen[tbl] then return end
    seen[tbl] = true
    for k, v in next, tbl do
      if type(v) == "function" then
        consider(v, k)
      elseif depth > 0 and type(v) == "table" then
        scan(v, depth - 1, seen)
      end
    end
  end
  local seen = {}
  local ok, lx = pcall(require, "lunox")
  if ok and type(lx) == "table" then scan(lx, 1, seen) end
  scan(math, 0, seen)
  scan(string, 0, seen)
  return names
end

local function format_function(f)
  if function_names == nil then function_names = build_function_names() end
  local name = function_names[f]
  if name then return "<function " .. name .. ">" end
  if getinfo then
    local info = getinfo(f, "S")
    if info and info.what == "C" then return "<function [C]>" end
    if info and info.short_src then
      return "<function " .. info.short_src .. ":" .. tostring(info.linedefined) .. ">"
    end
  end
  return "<function>"
end

------------------------------------------------------------- documents

-- A document is either a text {s = string, w = width} or a group
-- {open, close, items = {prefix1, doc1, prefix2, doc2, ...}, w = width}.
-- w is the one-line width, or HUGE when the node cannot print on one line
-- (wider than the page, or a text with a line break in it).

local function text(s)
  return { s = s, w = s:find("\n", 1, true) and HUGE or #s }
end

local function group(open, close, items, width)
  local n = #items
  if n == 0 then return text(open .. close) end
  local w = #open + #close + (n / 2 - 1) * 2 -- the ", " separators
  for i = 1, n, 2 do
    w = w + #items[i] + items[i + 1].w
  end
  if w > width then w = HUGE end
  return { open = open, close = close, items = items, w = w }
end

-- Dict keys: numbers first (ascending), then strings (bytewise), then any
-- other key, by type name, for a stable order.
local KEY_RANK = { number = 1, string = 2 }
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  local ra, rb = KEY_RANK[ta] or 3, KEY_RANK[tb] or 3
  if ra ~= rb then return ra < rb end
  if ra < 3 then return a < b end
  if ta ~= tb then return ta < tb end
  if ta == "boolean" then return (not a) and b end
  return false
end

local function key_prefix(k)
  local tk = type(k)
  if tk == "string" then
    if is_identifier(k) then return k .. "=" end
    return "[" .. quote_string(k) .. "]="
  elseif tk == "number" then
    return "[" .. format_number(k) .. "]="
  elseif tk == "boolean" then
    return "[" .. tostring(k) .. "]="
  end
  return "[<" .. tk .. ">]="
end

-- A list is a table whose keys are exactly 1..n (lx.none fills the holes of
-- a list with empty entries; a real nil hole makes it a dict).
local function list_length(t)
  local count = 0
  for _ in next, t do count = count + 1 end
  for i = 1, count do
    if rawget(t, i) == nil then return nil end
  end
  return count
end

local function opaque_table(t, mt)
  if rawget(mt, "__tostring") ~= nil then
    local ok, s = pcall(tostring, t)
    if ok and type(s) == "string" then return s end
  end
  local name = rawget(mt, "__name")
  if type(name) == "string" then return "<table: " .. name .. ">" end
  return "<table>"
end

local build

local function build_module(m, ctx)
  local cls = getmetatable_raw(m)
  local items = {}
  for _, list in ipairs({ rawget(cls, "__lx_fields") or {}, rawget(cls, "__lx_static") or {} }) do
    for _, name in ipairs(list) do
      items[#items + 1] = name .. "="
      items[#items + 1] = build(m[name], ctx)
    end
  end
  local name = rawget(cls, "__name")
  return group((type(name) == "string" and name or "Module") .. "(", ")", items, ctx.width)
end

local function build_table(t, ctx)
  local items = {}
  local n = list_length(t)
  if n then
    for i = 1, n do
      items[#items + 1] = ""
      items[#items + 1] = build(rawget(t, i), ctx)
    end
  else
    local keys = {}
    for k in next, t do keys[#keys + 1] = k end
    sort(keys, key_less)
    for _, k in ipairs(keys) do
      items[#items + 1] = key_prefix(k)
      items[#items + 1] = build(rawget(t, k), ctx)
    end
  end
  return group("{", "}", items, ctx.width)
end

build = function(x, ctx)
  local tx = type(x)
  if tx == "table" then
    -- Only the tables on the path from the root count: a table shared by two
    -- branches (a DAG) prints in both places, a table inside itself does not.
    if ctx.on_path[x] then return text("<cycle>") end
    local doc
    ctx.on_path[x] = true
    if is_module(x) then
      -- Never tostring here: a module's __tostring calls back into pformat.
      doc = build_module(x, ctx)
    else
      local mt = getmetatable_raw(x)
      if type(mt) == "table" and ctx.short_arrays and type(rawget(mt, "__lx_short_repr")) == "function" then
        -- Array-like leaves without values (lx.ShapeDtypeStruct) print as arrays do.
        doc = text(mt.__lx_short_repr(x))
      elseif type(mt) == "table" then
        doc = text(opaque_table(x, mt))
      else
        doc = build_table(x, ctx)
      end
    end
    ctx.on_path[x] = nil
    return doc
  elseif tx == "string" then
    return text(quote_string(x))
  elseif tx == "number" then
    return text(format_number(x))
  elseif tx == "nil" or tx == "boolean" then
    return text(tostring(x))
  elseif tx == "function" then
    return text(format_function(x))
  end
  if x == ctx.none and x ~= nil then return text("none") end
  if is_array(x) then
    return text(ctx.short_arrays and short_array(x) or tostring(x))
  end
  local ok, s = pcall(tostring, x)
  return text(ok and type(s) == "string" and s or "<" .. tx .. ">")
end

--------------------------------------------------------------- layout

local function render(doc, ctx)
  local out, width = {}, ctx.width
  local pads = {}
  local function pad(n)
    local p = pads[n]
    if p == nil then
      p = rep(" ", n)
      pads[n] = p
    end
    return p
  end

  local function flat(d)
    if d.s then
      out[#out + 1] = d.s
      return
    end
    out[#out + 1] = d.open
    local items = d.items
    for i = 1, #items, 2 do
      if i > 1 then out[#out + 1] = ", " end
      out[#out + 1] = items[i]
      flat(items[i + 1])
    end
    out[#out + 1] = d.close
  end

  -- Writes d starting at column col, inside a block indented by indent;
  -- trailing is what must follow d on its last line (1 for a ",").
  local function layout(d, col, indent, trailing)
    local s = d.s
    if s then
      if d.w ~= HUGE or not s:find("\n", 1, true) then
        out[#out + 1] = s
        return
      end
      -- A multi-line text (a full array repr) keeps its own alignment: its
      -- later lines shift right by the column its first line starts at.
      out[#out + 1] = (s:gsub("\n", "\n" .. pad(col)))
      return
    end
    if col + d.w + trailing <= width then
      flat(d)
      return
    end
    out[#out + 1] = d.open
    local inner = indent + 2
    local items = d.items
    local n = #items
    for i = 1, n, 2 do
      local prefix = items[i]
      out[#out + 1] = "\n"
      out[#out + 1] = pad(inner)
      out[#out + 1] = prefix
      local last = i + 1 == n
      layout(items[i + 1], inner + #prefix, inner, last and 0 or 1)
      if not last then out[#out + 1] = "," end
    end
    out[#out + 1] = "\n"
    out[#out + 1] = pad(indent)
    out[#out + 1] = d.close
  end

  layout(doc, 0, 0, 0)
  return concat(out)
end

---------------------------------------------------------------- options

local OPTIONS = { width = "number", short_arrays = "boolean" }

local function check_options(opts)
  if opts == nil then return 80, true end
  if type(opts) ~= "table" then
    error(("tree_pformat: opts must be a table, got %s"):format(type(opts)), 3)
  end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if want == nil then
      error(("tree_pformat: unknown option '%s' (options: short_arrays, width)"):format(
        tostring(k)), 3)
    end
    if type(v) ~= want then
      error(("tree_pformat: option '%s' must be a %s, got %s"):format(k, want, type(v)), 3)
    end
  end
  local width = opts.width
  if width == nil then
    width = 80
  elseif width ~= width or width < 1 or width ~= floor(width) or width == HUGE then
    error(("tree_pformat: option 'width' must be a positive integer, got %s"):format(
      tostring(width)), 3)
  end
  local short = opts.short_arrays
  if short == nil then short = true end
  return width, short
end

--- Formats tree as a string.
-- @param tree any value: a module, table, array or leaf
-- @param opts optional table: `width` (line width, default 80),
--   `short_arrays` (default true: arrays print as `f32[4,2]`; false: in full)
function M.pformat(tree, opts)
  local width, short_arrays = check_options(opts)
  local ctx = { width = width, short_arrays = short_arrays, on_path = {}, none = none_value() }
  return render(build(tree, ctx), ctx)
end

return M
