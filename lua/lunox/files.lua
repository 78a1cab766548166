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
-- temporary file beside it, renamed over it at the end (over the file a
-- symlink points to, which keeps the link). Raises "fn: ..." on failure,
-- leaving `path` untouched. A path that exists and is not a regular file
-- (a FIFO, /dev/stdout) cannot be replaced: it is written directly.
function M.write_atomic(fn, path, body)
  local tmp, target = core._tempfile(path, fn)
  local f, err = io.open(tmp or path, "wb")
  if not f then
    if tmp then os.remove(tmp) end
    error(("%s: cannot open '%s' for writing: %s"):format(fn, tmp or path, tostring(err)), 0)
  end
  local ok, msg = pcall(body, f)
  if ok and io.type(f) ~= "file" then
    ok, msg = false, ("%s: the file was closed while '%s' was being written (by a "
      .. "filter_spec?)"):format(fn, path)
  end
  if ok and tmp then ok, msg = pcall(core._fsync, f, path, fn) end
  -- body may have closed the handle itself (a user's filter_spec can).
  local closed, cerr = true, nil
  if io.type(f) == "file" then closed, cerr = f:close() end
  if ok and not closed then ok, msg = false, ("%s: writing '%s' failed: %s"):format(fn, path,
      tostring(cerr)) end
  if not ok then
    if tmp then os.remove(tmp) end
    error(msg, 0)
  end
  if tmp then core._commit_file(tmp, target, fn) end
end

return M
