-- The trick scripts (scripts/surgery.lua, custom_init.lua, symmetric.lua:
-- the flows of Equinox's "Tricks" page, on lx.nn models): each runs under
-- the host of this spec, from the repository root, from an unrelated
-- directory and from its own directory, exits with status 0 and prints its
-- checks.
local lx = require("lunox")
local process = require("spec.support.process")

-- The repository root: this file's directory's parent.
local spec_dir = (debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or ".")
spec_dir = process.absolute(spec_dir)
local root = spec_dir:match("^(.*)/spec$") or (spec_dir .. "/..")
local tricks_dir = root .. "/scripts"
local host = process.absolute(process.host)

-- The scripts must find lunox with no help from the environment.
local ENV = { LUA_PATH = false, LUA_PATH_5_4 = false, LUA_INIT = false, LUA_INIT_5_4 = false }

-- Runs `host script` in directory dir; returns stdout, stderr, status.
local function run_script(dir, script)
  return process.run(("cd %s && %s %s"):format(process.quote(dir), process.quote(host),
    process.quote(script)), { env = ENV })
end

local function assert_lines(out, lines)
  for _, line in ipairs(lines) do
    assert.is_true(process.has_line(out, line), "missing line: " .. line .. "\n" .. out)
  end
  assert.is_falsy(out:find("[FAIL]", 1, true), out)
end

local EXPECTED = {
  ["surgery.lua"] = {
    "  [ok] the final layer is the new Linear",
    "  [ok] new_mlp has one leaf fewer (7 vs 8: the dropped bias)",
    "  [ok] untouched layers share their arrays with the original (nothing is copied)",
    "  [ok] the original MLP still computes what it did",
    "  [ok] assigning to a field raises an error that points to lx.tree_at",
    "surgery: all checks passed",
  },
  ["custom_init.lua"] = {
    "Re-initialised 4 Linear weights (in tree order: head, then mlp.layers):",
    "  [ok] every weight changed",
    "  [ok] every weight kept its shape and dtype",
    "  [ok] every new weight lies within +-2 * stddev, stddev = sqrt(1 / in_features)",
    "  [ok] biases are untouched (the very same arrays)",
    "  [ok] the re-initialised model runs",
    "custom_init: all checks passed",
  },
  ["symmetric.lua"] = {
    "    weight=Symmetric(matrix=f32[4,4]),",
    "  [ok] all 3 weights are Symmetric wrappers around the original matrices",
    "  [ok] the unresolved model cannot be called",
    "  [ok] every resolved weight equals its transpose",
    "  [ok] resolving gives back a plain MLP (same structure as the original)",
    "  [ok] the resolved model runs: y has shape {4}",
    "symmetric: all checks passed",
  },
}

describe("trick scripts", function()
  local tmp
  setup(function() tmp = process.tmpdir() end)
  teardown(function() process.remove_tree(tmp) end)

  for _, name in ipairs({ "surgery.lua", "custom_init.lua", "symmetric.lua" }) do
    it(name .. " passes its checks from the repository root", function()
      local out, err, status = run_script(root, "scripts/" .. name)
      assert.are.equal(0, status, err)
      assert.are.equal("", err)
      assert_lines(out, EXPECTED[name])
    end)

    it(name .. " prints the same from another directory and from its own", function()
      local ref = run_script(root, "scripts/" .. name)
      local out, err, status = run_script(tmp, tricks_dir .. "/" .. name)
      assert.are.equal(0, status, err)
      -- Printed function names may carry a path, which depends on the
      -- directory; everything else must match.
      local function strip(s)
        return (s:gsub("<function [^>]*>", "<function>"))
      end
      assert.are.equal(strip(ref), strip(out))
      local out2, err2, status2 = run_script(tricks_dir, name)
      assert.are.equal(0, status2, err2)
      assert.are.equal(strip(ref), strip(out2))
    end)
  end

  it("a failing check makes the script exit non-zero", function()
    -- A copy of surgery.lua whose first check cannot pass.
    local src = process.read_file(tricks_dir .. "/surgery.lua")
    local broken, n = src:gsub("check%(rawequal%(new_mlp%.layers%[3%], new_layer%)",
      "check(false")
    assert.are.equal(1, n)
    process.write_file(tmp .. "/broken.lua", broken)
    local out, err, status = run_script(tmp, "broken.lua")
    assert.are_not.equal(0, status)
    assert.is_truthy(out:find("  [FAIL] the final layer is the new Linear", 1, true), out)
    assert.is_truthy(err:find("surgery.lua: 1 check(s) failed", 1, true), err)
  end)
end)
