-- The host command line (lunox / lunoxjit): options, `arg`, `...`, stdin,
-- errors, module search with no environment variables, C modules, install.
local process = require("spec.support.process")

local quote = process.quote
local host = process.host

-- No LUA_PATH / LUA_INIT from the caller's shell may help (or hinder).
local CLEAN_ENV = {
  LUA_PATH = false, LUA_PATH_5_4 = false, LUA_CPATH = false, LUA_CPATH_5_4 = false,
  LUA_INIT = false, LUA_INIT_5_4 = false, LUNOX_HISTORY = "",
}

local function with_env(extra)
  local env = {}
  for k, v in pairs(CLEAN_ENV) do env[k] = v end
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

local function script_file(source)
  local path = process.tmpname()
  process.write_file(path, source)
  return path
end

local function command_exists(name)
  local out = process.run("command -v " .. quote(name), { env = CLEAN_ENV })
  return out ~= ""
end

describe("host command line", function()
  it("passes script arguments in `arg` and `...`", function()
    local script = script_file([[
print(select("#", ...), ...)
for i = -3, #arg do print(i, arg[i]) end
print(x)
]])
    local out, err, status = process.run_host({ "-e", "x = 'from -e'", script, "a", "b c" },
      { env = CLEAN_ENV })
    os.remove(script)
    assert.are.equal("", err)
    assert.are.equal(0, status)
    assert.are.equal(table.concat({
      "2\ta\tb c",
      "-3\t" .. host, "-2\t-e", "-1\tx = 'from -e'", "0\t" .. script, "1\ta", "2\tb c",
      "from -e", "",
    }, "\n"), out)
  end)

  it("runs repeated -e in order, and sets arg[0] to the host without a script", function()
    local out, _, status = process.run_host({ "-e", "y = 20", "-e", "print(y + 1, arg[0], arg[1])" },
      { env = CLEAN_ENV })
    assert.are.equal(0, status)
    assert.are.equal("21\t" .. host .. "\t-e\n", out)
  end)

  it("reads the chunk from stdin with -", function()
    local out, _, status = process.run_host({ "-", "p", "q" },
      { input = 'print(arg[0], ...)\n', env = CLEAN_ENV })
    assert.are.equal(0, status)
    assert.are.equal("-\tp\tq\n", out)
  end)

  it("reports errors with a traceback on stderr and exits with 1", function()
    local script = script_file('local function inner() error("kaboom") end\ninner()\n')
    local out, err, status = process.run_host({ script }, { env = CLEAN_ENV })
    os.remove(script)
    assert.are.equal(1, status)
    assert.are.equal("", out)
    assert.is_truthy(err:find(script .. ":1: kaboom", 1, true), err)
    assert.is_truthy(err:find("stack traceback:", 1, true), err)
    assert.is_truthy(err:find(script .. ":2:", 1, true), err) -- the caller's line

    local _, err2, status2 = process.run_host({ "-e", "x = = 1" }, { env = CLEAN_ENV })
    assert.are.equal(1, status2)
    assert.is_truthy(err2:find("(command line):1:", 1, true), err2)
  end)

  it("exits with the status os.exit gives", function()
    local _, _, status = process.run_host({ "-e", "os.exit(3)" }, { env = CLEAN_ENV })
    assert.are.equal(3, status)
  end)

  it("rejects unknown options and prints the version with -v", function()
    local _, err, status = process.run_host({ "-x" }, { env = CLEAN_ENV })
    assert.are.equal(1, status)
    assert.is_truthy(err:find("unrecognized option '-x'", 1, true), err)
    local out, _, vstatus = process.run_host({ "-v" }, { env = CLEAN_ENV })
    assert.are.equal(0, vstatus)
    assert.is_truthy(out:match("^lunox %d+%.%d+%.%d+ %((.-)%)\n"), out)
  end)

  it("honours LUA_INIT unless -E", function()
    local out = process.run_host({ "-e", "print(from_init)" },
      { env = with_env({ LUA_INIT = "from_init = 42" }) })
    assert.are.equal("42\n", out)
    out = process.run_host({ "-E", "-e", "print(from_init)" },
      { env = with_env({ LUA_INIT = "from_init = 42" }) })
    assert.are.equal("nil\n", out)
  end)

  it("runs the REPL after the script with -i", function()
    local script = script_file("y = 7\n")
    local out, _, status = process.run_host({ "-i", script }, { input = "y * 6\n", env = CLEAN_ENV })
    os.remove(script)
    assert.are.equal(0, status)
    assert.are.equal("42\n", out)
  end)
end)

describe("host module search", function()
  it("finds lunox in the source tree with no environment variables, from any directory", function()
    local out, err, status = process.run(
      "cd / && " .. quote(host) .. " -e " ..
      quote('local lx = require("lunox"); print(package.searchpath("lunox", package.path))'),
      { env = CLEAN_ENV })
    assert.are.equal("", err)
    assert.are.equal(0, status)
    local found = out:match("^(.-)\n$")
    assert.is_truthy(found and found:find("/lua/lunox/init.lua$"), out)
    assert.is_truthy(process.read_file(found), found)
  end)

  it("preloads lunox.core and lunox.readline", function()
    local out = process.run_host({ "-e",
      'print(type(package.preload["lunox.core"]), type(require("lunox.readline").readline))' },
      { env = CLEAN_ENV })
    assert.are.equal("function\tfunction\n", out)
  end)

  it("loads C modules built for the stock interpreter", function()
    local out, err, status = process.run_host({ "-e",
      'require("system"); require("term"); require("lfs"); print("loaded")' }, { env = CLEAN_ENV })
    assert.are.equal("", err)
    assert.are.equal(0, status)
    assert.are.equal("loaded\n", out)
  end)

  it("finds lunox next to an installed host", function()
    if not command_exists("cmake") then
      pending("cmake is not available")
      return
    end
    local prefix = process.tmpdir()
    local ok, failure = pcall(function()
      local _, err, status = process.run(("cmake --install %s --prefix %s"):format(
        quote(process.build_dir), quote(prefix)), { env = CLEAN_ENV })
      assert.are.equal(0, status, err)
      local real_prefix = process.run("cd " .. quote(prefix) .. " && pwd -P"):match("^(.-)\n")
      local name = host:match("([^/]+)$")
      local installed = prefix .. "/bin/" .. name

      -- Through a symlink elsewhere, so the source tree and cwd cannot help.
      local link = prefix .. "/elsewhere"
      assert.are.equal(0, select(3, process.run(("mkdir %s && ln -s %s %s/%s"):format(
        quote(link), quote(installed), quote(link), name))))
      local out, err2, status2 = process.run(
        "cd / && " .. quote(link .. "/" .. name) .. " -e " ..
        quote('require("lunox"); print(package.searchpath("lunox", package.path))'),
        { env = CLEAN_ENV })
      assert.are.equal("", err2)
      assert.are.equal(0, status2)
      assert.are.equal(real_prefix .. "/share/lunox/lua/lunox/init.lua\n", out)
    end)
    process.remove_tree(prefix)
    if not ok then error(failure, 0) end
  end)
end)
