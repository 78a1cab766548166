-- The REPL (lua/lunox/repl.lua inside the lunox/lunoxjit hosts), driven
-- through a pseudo-terminal by build/tools/pty_run so that readline,
-- history and tab completion are the real thing.
local process = require("spec.support.process")
local repl = require("lunox.repl")

local pty_run = process.build_dir .. "/tools/pty_run"

-- Runs one REPL session typing `keys`; returns its terminal output and
-- exit status. Each session gets its own history file unless given one.
local function session(keys, history)
  local own_history = history == nil
  history = history or process.tmpname()
  local out, err, status = process.run(
    ("%s --timeout 20 -- %s"):format(process.quote(pty_run), process.quote(process.host)),
    { input = keys, env = { LUNOX_HISTORY = history, INPUTRC = "/dev/null" } })
  if own_history then os.remove(history) end
  assert(err == "", "pty_run: " .. err)
  return out, status
end

describe("REPL", function()
  it("prints expression values and suppresses them after a trailing ;", function()
    local out, status = session('1+2\n40+2;\nnil\n"a", nil, 3\nprint("said")\n')
    assert.is_true(process.has_line(out, "3"), out)
    assert.is_false(process.has_line(out, "42"), out)
    assert.is_true(process.has_line(out, "nil"), out)
    assert.is_true(process.has_line(out, "a\tnil\t3"), out)
    -- print returns nothing: its line appears once, with no "nil" after it
    local lines = process.lines(out)
    for i, l in ipairs(lines) do
      if l == "said" then assert.are_not.equal("nil", lines[i + 1]) end
    end
    assert.are.equal(0, status)
  end)

  it("continues an incomplete chunk with the >> prompt", function()
    local out = session("function f(x)\nreturn x*2\nend\nf(21)\n")
    assert.is_true(process.has_line(out, ">> return x*2"), out)
    assert.is_true(process.has_line(out, ">> end"), out)
    assert.is_true(process.has_line(out, "42"), out)
  end)

  it("reports an error with a traceback and carries on", function()
    local out, status = session('error("boom")\n20+1\n')
    assert.is_truthy(out:find("stdin:1: boom", 1, true), out)
    assert.is_truthy(out:find("stack traceback:", 1, true), out)
    assert.is_true(process.has_line(out, "21"), out)
    assert.are.equal(0, status)
  end)

  it("defines the global lx", function()
    local out = session("type(lx)\n")
    assert.is_true(process.has_line(out, "table"), out)
  end)

  it("exits with status 0 on Ctrl-D", function()
    local out, status = session("")
    assert.are.equal(0, status)
    assert.is_truthy(out:find("> \r?\n$"), out) -- the prompt, then the newline on EOF
  end)

  it("persists history to LUNOX_HISTORY and recalls it in the next session", function()
    local history = process.tmpname()
    session('print("from" .. "history")\n', history)
    local saved = process.read_file(history)
    os.remove(history)
    assert.is_truthy(saved:find('print("from" .. "history")', 1, true), saved)

    -- Only the recalled line can print the joined word.
    process.write_file(history, saved)
    local out = session("\27[A\n", history)
    os.remove(history)
    assert.is_true(process.has_line(out, "fromhistory"), out)
  end)

  it("survives an unwritable history file", function()
    local out, status = session("1+1\n", "/nonexistent-dir/lunox-history")
    assert.is_true(process.has_line(out, "2"), out)
    assert.are.equal(0, status)
  end)

  it("completes globals, fields and fields behind __index tables", function()
    local out = session(table.concat({
      "type(collectg\t)\n",               -- a global
      'string.for\t("%05d", 42)\n',        -- a field through a chain
      "t = setmetatable({}, {__index = setmetatable({}, {__index = {deep_field = 7}})})\n",
      "t.deep_f\t\n",                      -- two __index tables down
      's = "abc"\n',
      "s:upp\t()\n",                       -- a method on a string's metatable
    }))
    assert.is_true(process.has_line(out, "function"), out)
    assert.is_true(process.has_line(out, "00042"), out)
    assert.is_true(process.has_line(out, "7"), out)
    assert.is_true(process.has_line(out, "ABC"), out)
  end)

  it("reads plain lines when stdin is not a terminal", function()
    local out, err, status = process.run_host({}, {
      input = "1+2\nx = 5;\nx * 2\n",
      env = { LUNOX_HISTORY = "" },
    })
    assert.are.equal("3\n10\n", out)
    assert.are.equal(0, status)
    assert.is_truthy(err:find("> ", 1, true), err) -- prompts go to stderr
  end)
end)

describe("REPL compile", function()
  it("tells incomplete chunks from wrong ones", function()
    local fn, err, incomplete = repl.compile("function f(x)")
    assert.is_nil(fn)
    assert.is_true(incomplete, err)
    fn, err, incomplete = repl.compile("1 +")
    assert.is_true(incomplete, err)
    fn, err, incomplete = repl.compile("x = = 1")
    assert.is_false(incomplete, err)
    assert.is_truthy(err:find("^stdin:1:"), err)
  end)

  it("compiles expressions to return all their values", function()
    local fn, is_expression = repl.compile("1, nil, 3")
    assert.is_true(is_expression)
    assert.are.equal(3, select("#", fn()))
    fn, is_expression = repl.compile("local y = 1")
    assert.is_false(is_expression)
  end)
end)

describe("REPL completion", function()
  local function set(list)
    local s = {}
    for _, v in ipairs(list) do s[v] = true end
    return s
  end

  it("offers only functions after ':'", function()
    local obj = setmetatable({ data = 1 }, { __index = { run = function() end, size = 3 } })
    local got = set(repl.complete("obj:", "", { obj = obj }))
    assert.is_true(got["obj:run"])
    assert.is_nil(got["obj:size"])
    assert.is_nil(got["obj:data"])
    got = set(repl.complete("obj.", "", { obj = obj }))
    assert.is_true(got["obj.run"] and got["obj.size"] and got["obj.data"])
  end)

  it("follows chains and userdata metatables", function()
    local env = { a = { b = { cat = 1, car = 2, dog = 3 } }, f = io.stdout }
    assert.are.same({ "a.b.car", "a.b.cat" }, repl.complete("a.b.ca", "", env))
    assert.is_true(set(repl.complete("f:wr", "", env))["f:write"])
    assert.are.same({}, repl.complete("a.nothing.x", "", env))
  end)

  it("completes array methods and properties (the __complete table)", function()
    local lx = require("lunox")
    local env = { a = lx.ones({ 2 }), lx = lx }
    assert.are.same({ "a.shape" }, repl.complete("a.sh", "", env))
    assert.are.same({ "a:transpose" }, repl.complete("a:trans", "", env))
    local methods = set(repl.complete("a:", "", env))
    assert.is_true(methods["a:sum"] and methods["a:tolist"])
    assert.is_nil(methods["a:shape"]) -- a property, not a method
    assert.is_true(set(repl.complete("lx.ma", "", env))["lx.matmul"])
  end)

  it("offers keywords and globals, but nothing inside a string", function()
    local got = set(repl.complete("fu", "", { fun = 1 }))
    assert.is_true(got["function"] and got["fun"])
    assert.are.same({}, repl.complete("fu", 'print("', { fun = 1 }))
  end)
end)
