--- Options tables: the last argument of functions that take Equinox's
-- keyword parameters. `check` refuses a non-table and unknown names, so a
-- misspelt option is an error rather than silently ignored.
-- @module lunox.options
local M = {}

local type, error, pairs, tostring = type, error, pairs, tostring

--- Returns opts (or {} for nil) after checking it against `allowed`
-- (name -> true). Errors name fn and point at the user's call, `level`
-- frames above check's caller (1 when the user called check's caller).
function M.check(fn, opts, allowed, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("%s: options must be a table, got %s"):format(fn, type(opts)), level + 2)
  end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      error(("%s: unknown option '%s' (expected %s)"):format(fn, tostring(k),
        table.concat(names, ", ")), level + 2)
    end
  end
  return opts
end

return M
