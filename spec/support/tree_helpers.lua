-- Helpers shared by the pytree specs.
local assert = require("luassert")

local M = {}

-- Records every table reachable from root with its raw contents and
-- metatable; the returned function asserts that nothing changed since.
function M.snapshot(root)
  local seen, order = {}, {}
  local function walk(t)
    if type(t) ~= "table" or seen[t] then return end
    local copy = { n = 0, mt = getmetatable(t), kv = {} }
    seen[t] = copy
    order[#order + 1] = t
    for k, v in next, t do
      copy.kv[k] = v
      copy.n = copy.n + 1
      walk(k)
      walk(v)
    end
  end
  walk(root)
  return function()
    for _, t in ipairs(order) do
      local copy = seen[t]
      local n = 0
      for k, v in next, t do
        n = n + 1
        assert.is_true(rawequal(copy.kv[k], v), "a table of the tree changed at key " .. tostring(k))
      end
      assert.are.equal(copy.n, n, "a table of the tree gained or lost keys")
      assert.is_true(rawequal(copy.mt, getmetatable(t)), "a metatable changed")
    end
  end
end

return M
