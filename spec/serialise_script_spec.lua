-- scripts/serialise_hyperparams.lua (Equinox's weights + hyperparameters
-- recipe) runs under the host of this spec from any directory, exits with
-- status 0 and prints each check it makes.
local process = require("spec.support.process")

local root = process.absolute((debug.getinfo(1, "S").source:match("^@(.*)[/\\]spec[/\\]") or "."))
local script = root .. "/scripts/serialise_hyperparams.lua"
local host = process.absolute(process.host)

describe("scripts/serialise_hyperparams.lua", function()
  for _, dir in ipairs({ root, "/" }) do
    it("runs from " .. (dir == "/" and "/" or "the repository root"), function()
      local out, err, status = process.run(("cd %s && %s %s"):format(process.quote(dir),
        process.quote(host), process.quote(script)),
        { env = { LUA_PATH = false, LUA_PATH_5_4 = false, LUA_INIT = false } })
      assert.are.equal(0, status, (out or "") .. (err or ""))
      for _, line in ipairs({
        '   first line: {"activation":"relu","depth":2,"size":5,"width":10}',
        "  [ok] the loaded model equals the saved one",
        "  [ok] the filled skeleton equals the saved model",
        "  [ok] the safetensors model equals the saved one",
        "all checks passed",
      }) do
        assert.is_true(process.has_line(out, line), "missing line: " .. line .. "\n" .. out)
      end
      assert.is_nil(out:find("FAIL", 1, true))
    end)
  end
end)
