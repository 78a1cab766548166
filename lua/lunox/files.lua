--- Saving to a path atomically, and the error plumbing the file formats share.
--
-- `write_atomic(fn, path, body)` writes through a temporary file in the
-- target's directory (".<name>.tmp-XXXXXX"), flushes and fsyncs it, then
-- renames it over the target: readers see the old file or the new one,
-- never half of one. When `body` raises (a bad leaf, a full disk, an error
-- in a user's filter_spec) the temporary file is removed and the previous
-- file is left as it was.
-- @module lunox.files
local core = require("lunox.core")

local M = {}

local type, error, pcall, tostring = type, error, pcall, tostring

--- Our own frames' "lunox/x.lua:12: " prefixes and a repeated "fn: " are
-- dropped from a message that is re-raised under fn, so that errors read
-- "fn: leaf .x: what went wrong".
function M.clean_message(fn, msg)
  if type(msg) ~= "string" then return tostring(msg) end
  local changed = true
  while changed do
    changed = false
    local rest = msg:match("^[^\n]-lunox/[%w_]+%.lua:%d+: (.*)$")
    if rest then msg, changed = rest, true end
    local plain = fn .. ": "
    if msg:sub(1, #plain) == plain then msg, changed = msg:sub(#plain + 1), true end
  end
  return msg
end

--- "script.lua:12: " for the caller `level` frames up (the user's call
-- site), or "" when the debug library is absent.
function M.where(level)
  local info = debug and debug.getinfo and debug.getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

--- Writes `path` atomically: body(f) writes to an io.open handle on a
-- temporary file. Raises "fn: ..." on failure, leaving `path` untouched.
function M.write_atomic(fn, path, body)
  local tmp = core._tempfile(path, fn)
  local f, err = io.open(tmp, "wb")
  if not f then
    os.remove(tmp)
    error(("%s: cannot open a temporary file beside '%s': %s"):format(fn, path, tostring(err)), 0)
  end
  local ok, msg = pcall(body, f)
  if ok then ok, msg = pcall(core._fsync, f, path, fn) end
  local closed, cerr = f:close()
  if ok and not closed then ok, msg = false, ("%s: writing '%s' failed: %s"):format(fn, path,
      tostring(cerr)) end
  if not ok then
    os.remove(tmp)
    error(msg, 0)
  end
  core._commit_file(tmp, path, fn)
end

return M
