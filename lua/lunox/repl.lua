--- The lunox REPL: read a chunk, evaluate it, print the results.
--
-- Portable Lua (5.4 and LuaJIT). The `lunox` and `lunoxjit` hosts start it
-- with `require("lunox.repl").run{ banner = ... }`; a stock interpreter can
-- do the same (without `lunox.readline` it reads plain lines from stdin).
--
-- Behaviour follows lua 5.4's own REPL: a line is compiled as `return <line>`
-- first so expressions print, then as a statement; a chunk that ends early
-- (`... near <eof>`) continues on the next line with the `>>` prompt. A
-- trailing `;` suppresses printing. Tables and modules print as pytrees
-- (lunox.pformat), other values with tostring. The session defines the
-- global `lx`.
local M = {}

local pack = table.pack or function(...)
  return { n = select("#", ...), ... }
end

local getmetatable_raw = (debug and debug.getmetatable) or getmetatable

local CHUNKNAME = "=stdin"
local HISTORY_LIMIT = 1000

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}
local IS_KEYWORD = {}
for _, k in ipairs(KEYWORDS) do IS_KEYWORD[k] = true end

--- Compiles source as an expression (so its values print) or else as a statement.
-- @return fn, is_expression on success; nil, message, incomplete on failure,
-- where incomplete is true when more lines could complete the chunk.
function M.compile(source)
  -- The values pass through a call so that `f()` is not a tail call: the
  -- chunk's frame stays in tracebacks and `error("x")` keeps its position
  -- (LuaJIT drops both for tail calls). `(...)` would cut the values to one.
  local expression = source:gsub(";%s*$", "")
  local fn = load("return (function(...) return ... end)(" .. expression .. "\n)", CHUNKNAME)
  if fn then return fn, true end
  local err
  fn, err = load(source, CHUNKNAME)
  if fn then return fn, false end
  -- 5.4 says `near <eof>`, LuaJIT `near '<eof>'`. An unfinished expression
  -- (`1 +`) is incomplete too, though as a statement it is just wrong.
  local _, expression_err = load("return " .. expression, CHUNKNAME)
  local incomplete = err:find("<eof>'?$") ~= nil
    or (expression_err or ""):find("<eof>'?$") ~= nil
  return nil, err, incomplete
end

-- Error objects become a message with a traceback that stops at the REPL's
-- own frames (xpcall and below are not the user's code).
local function traceback_handler(err)
  local msg = err
  if type(msg) ~= "string" then
    local mt = getmetatable_raw(msg)
    if type(mt) == "table" and mt.__tostring then
      local ok, s = pcall(tostring, msg)
      msg = ok and s or "(error object's __tostring failed)"
    else
      msg = ("(error object is a %s value)"):format(type(msg))
    end
  end
  local tb = debug.traceback(msg, 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  return cut and tb:sub(1, cut - 1) or tb
end

-- lunox.pformat, loaded on the first table printed; false when it cannot
-- load, so the REPL still works (printing with tostring) without it.
local pformat_fn

local function load_pformat()
  if pformat_fn == nil then
    local ok, mod = pcall(require, "lunox.pformat")
    pformat_fn = ok and type(mod) == "table" and mod.pformat or false
  end
  return pformat_fn
end

-- Tables (plain ones and modules) print as pytrees, which shows their
-- contents; everything else, arrays included, prints with tostring, as the
-- stock REPL would (an array's own repr already shows its values).
local function format_value(value)
  if type(value) == "table" then
    local pformat = load_pformat()
    if pformat then
      local ok, s = pcall(pformat, value)
      if ok and type(s) == "string" then return s end
    end
  end
  local ok, s = pcall(tostring, value)
  return ok and s or ("<%s>"):format(type(value))
end

---------------------------------------------------------------- completion

-- Lookup without side effects: raw fields, then metatables' __index tables
-- (never __index functions, which could run arbitrary code). A metatable
-- whose __index is a function may list its names in a `__complete` table
-- (name -> a function for methods, `true` for other fields), as lunox
-- arrays do.
local function lookup(value, key)
  local seen = {}
  while value ~= nil and not seen[value] do
    seen[value] = true
    if type(value) == "table" then
      local found = rawget(value, key)
      if found ~= nil then return found end
    end
    local mt = getmetatable_raw(value)
    local index = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(index) ~= "table" then
      index = type(mt) == "table" and rawget(mt, "__complete") or nil
      if type(index) ~= "table" then return nil end
    end
    value = index
  end
  return nil
end

-- Every string key reachable from value through __index tables; the value
-- seen first wins, as it would for a real lookup.
local function collect_fields(value, seen, out)
  if value == nil or seen[value] then return end
  seen[value] = true
  if type(value) == "table" then
    for k, v in next, value do
      if type(k) == "string" and out[k] == nil then out[k] = v end
    end
  end
  local mt = getmetatable_raw(value)
  local index = type(mt) == "table" and rawget(mt, "__index") or nil
  if type(index) == "table" then collect_fields(index, seen, out) end
  local names = type(mt) == "table" and rawget(mt, "__complete") or nil
  if type(names) == "table" then collect_fields(names, seen, out) end
end

local function is_identifier(s)
  return s:match("^[%a_][%w_]*$") ~= nil and not IS_KEYWORD[s]
end

-- True when `before` ends inside a quoted string, where names mean nothing.
local function inside_string(before)
  local quote, i = nil, 1
  while i <= #before do
    local c = before:sub(i, i)
    if quote then
      if c == "\\" then i = i + 1 elseif c == quote then quote = nil end
    elseif c == '"' or c == "'" then
      quote = c
    end
    i = i + 1
  end
  return quote ~= nil
end

--- Completion candidates for the word `text` (readline's word: `lx.tree.ma`).
-- Globals and keywords when there is no `.` or `:`; fields through the chain
-- otherwise; after `:` only functions. Candidates are whole words.
-- @param text the word being completed
-- @param before the line before the word
-- @param env table of globals (default _G)
function M.complete(text, before, env)
  env = env or _G
  if before and inside_string(before) then return {} end
  local path, sep, partial = text:match("^(.-)([.:])([%w_]*)$")
  local fields, prefix = {}, ""
  if path == nil then
    partial = text
    if partial ~= "" and not partial:match("^[%a_][%w_]*$") then return {} end
    collect_fields(env, {}, fields)
    for _, k in ipairs(KEYWORDS) do
      if fields[k] == nil then fields[k] = true end
    end
  else
    local value = env
    for segment in (path .. "."):gmatch("([^.]*)%.") do
      if not is_identifier(segment) then return {} end
      value = lookup(value, segment)
      if value == nil then return {} end
    end
    collect_fields(value, {}, fields)
    prefix = path .. sep
  end

  local out = {}
  for name, v in pairs(fields) do
    if name:sub(1, #partial) == partial
        and (IS_KEYWORD[name] and path == nil or is_identifier(name))
        and (sep ~= ":" or type(v) == "function") then
      out[#out + 1] = prefix .. name
    end
  end
  table.sort(out)
  return out
end

------------------------------------------------------------------- history

local function history_file()
  local path = os.getenv("LUNOX_HISTORY")
  if path ~= nil then
    -- An empty LUNOX_HISTORY turns the history file off.
    return path ~= "" and path or nil
  end
  local home = os.getenv("HOME")
  if home == nil or home == "" then return nil end
  return home .. "/.lunox_history"
end

local function new_history(rl)
  local h = { path = history_file(), last = nil, warned = false }
  rl.set_history_limit(HISTORY_LIMIT)
  if h.path then rl.read_history(h.path) end -- a missing file is fine

  -- Each line is saved as it is entered, so a crash or os.exit loses nothing.
  function h.add(line)
    if line:match("^%s*$") or line == h.last then return end
    h.last = line
    rl.add_history(line)
    if h.path == nil then return end
    local ok, err = rl.append_history(h.path, 1)
    if not ok and not h.warned then
      h.warned = true
      io.stderr:write("lunox: history not saved: ", tostring(err), "\n")
    end
  end

  function h.close()
    if h.path and not h.warned then rl.truncate_history(h.path, HISTORY_LIMIT) end
  end
  return h
end

---------------------------------------------------------------------- input

-- Returns read(prompt) -> line | nil, why and the stream that takes prompts.
local function new_reader(rl)
  if rl and rl.isatty(0) then
    return function(prompt) return rl.readline(prompt) end, io.stdout, true
  end
  -- Scripted input: prompts on stderr keep stdout to the results. Without
  -- lunox.readline (a stock interpreter) we cannot tell, so use stdout.
  local prompt_out = rl and io.stderr or io.stdout
  return function(prompt)
    prompt_out:write(prompt)
    prompt_out:flush()
    return io.read("*l")
  end, prompt_out, false
end

local function prompt_string(name, default)
  local p = rawget(_G, name)
  if p == nil then return default end
  local ok, s = pcall(tostring, p)
  return ok and s or default
end

-- Reads one chunk; returns fn, print_results | nil, "eof" | nil, "skip".
local function read_chunk(session)
  local line, why = session.read(prompt_string("_PROMPT", "> "))
  if line == nil then return nil, why == "interrupted" and "skip" or "eof" end
  session.history.add(line)
  if line:sub(1, 1) == "=" then line = "return " .. line:sub(2) end -- 5.1 habit
  local source = line
  while true do
    local fn, is_expression_or_err, incomplete = M.compile(source)
    if fn then
      local silent = source:match(";%s*$") ~= nil
      return fn, is_expression_or_err and not silent
    end
    if not incomplete then
      io.stderr:write(is_expression_or_err, "\n")
      return nil, "skip"
    end
    line, why = session.read(prompt_string("_PROMPT2", ">> "))
    if line == nil then
      return nil, why == "interrupted" and "skip" or "eof"
    end
    session.history.add(line)
    source = source .. "\n" .. line
  end
end

local function evaluate(session, fn, print_results)
  local results = pack(xpcall(fn, traceback_handler))
  if not results[1] then
    io.stderr:write(tostring(results[2]), "\n")
    return
  end
  if print_results and results.n > 1 then
    local parts = {}
    for i = 2, results.n do parts[#parts + 1] = format_value(results[i]) end
    io.stdout:write(table.concat(parts, "\t"), "\n")
  end
  io.stdout:flush()
end

local function load_lunox()
  local ok, mod = pcall(require, "lunox")
  if ok then
    _G.lx = mod -- the one global the session defines
    return mod
  end
  io.stderr:write("lunox: require(\"lunox\") failed, `lx` is not defined:\n", tostring(mod), "\n")
  return nil
end

--- Runs the REPL until end of input.
-- @param opts table: `banner` (string printed first on a terminal)
function M.run(opts)
  opts = opts or {}
  local has_rl, rl = pcall(require, "lunox.readline")
  if not has_rl then rl = nil end
  local read, prompt_out, interactive = new_reader(rl)
  local session = { read = read }
  session.history = interactive and new_history(rl) or { add = function() end, close = function() end }

  if interactive then
    if opts.banner then io.stdout:write(opts.banner, "  (Ctrl-D to exit)\n") end
    rl.set_completer(function(text, before) return M.complete(text, before, _G) end)
  end
  load_lunox()

  local function step()
    local fn, print_or_why = read_chunk(session)
    if fn then
      evaluate(session, fn, print_or_why)
    elseif print_or_why == "eof" then
      return "eof"
    end
  end

  while true do
    -- Protects the loop itself: Ctrl-C can land between two chunks.
    local ok, result = xpcall(step, traceback_handler)
    if not ok then
      io.stderr:write(tostring(result), "\n")
    elseif result == "eof" then
      break
    end
  end
  prompt_out:write("\n")
  prompt_out:flush()
  session.history.close()
  if interactive then rl.set_completer(nil) end
end

return M
