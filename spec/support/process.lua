--- Helpers for specs that run the lunox hosts as child processes.
-- Portable Lua (5.4 and LuaJIT): os.execute's results differ between them,
-- so the exit status travels through the shell's `echo $?` instead.
local M = {}

--- The host under test (ctest sets LUNOX_HOST) and the build directory.
M.host = os.getenv("LUNOX_HOST") or (jit and "build/lunoxjit" or "build/lunox")
M.build_dir = os.getenv("LUNOX_BUILD_DIR") or "build"

--- The current directory.
function M.cwd()
  local p = io.popen("pwd")
  local dir = p:read("*l")
  p:close()
  return dir
end

--- path made absolute against the current directory.
function M.absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return M.cwd() .. "/" .. path
end

--- Quotes s for /bin/sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

--- A fresh temporary file name (the file exists and is empty).
function M.tmpname()
  return os.tmpname()
end

--- A fresh temporary directory.
function M.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("*l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

function M.remove_tree(path)
  os.execute("rm -rf " .. M.quote(path))
end

--- Runs a shell command line with opts.input on stdin and opts.env
-- (name -> value, or false to unset) in its environment.
-- @return stdout, stderr, exit status (number)
function M.run(cmdline, opts)
  opts = opts or {}
  local input, out, err = M.tmpname(), M.tmpname(), M.tmpname()
  M.write_file(input, opts.input or "")
  -- The environment is set in a subshell, so it covers compound command
  -- lines (`cd / && host ...`) and shell builtins alike.
  local setup = {}
  for name, value in pairs(opts.env or {}) do
    assert(name:match("^[%a_][%w_]*$"), "bad environment variable name")
    if value == false then
      setup[#setup + 1] = "unset " .. name .. ";"
    else
      setup[#setup + 1] = "export " .. name .. "=" .. M.quote(value) .. ";"
    end
  end
  local p = io.popen(("(%s %s) <%s >%s 2>%s; echo $?"):format(
    table.concat(setup, " "), cmdline, M.quote(input), M.quote(out), M.quote(err)))
  local status = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  local stdout, stderr = M.read_file(out), M.read_file(err)
  os.remove(input)
  os.remove(out)
  os.remove(err)
  return stdout, stderr, status
end

--- Runs the host under test with the given arguments (a list, quoted here).
function M.run_host(args, opts)
  local parts = { M.quote(M.host) }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = M.quote(a) end
  return M.run(table.concat(parts, " "), opts)
end

--- Splits terminal output into lines without the \r the terminal adds.
function M.lines(s)
  local out = {}
  for line in (s:gsub("\r", "") .. "\n"):gmatch("(.-)\n") do out[#out + 1] = line end
  return out
end

--- True when some line of s is exactly line.
function M.has_line(s, line)
  for _, l in ipairs(M.lines(s)) do
    if l == line then return true end
  end
  return false
end

return M
