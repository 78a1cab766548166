--- lunox.nn: Equinox's layers (equinox.nn) with Equinox's constructors,
-- fields and initialisation: the same key gives the same weights as Python
-- Equinox. Layers act on single examples, as in Equinox. See docs/nn.md.
-- @module lunox.nn
local M = {}

local function import(name)
  for k, v in pairs(require(name)) do
    if M[k] ~= nil then error("lunox.nn: " .. k .. " is defined twice") end
    M[k] = v
  end
end

import("lunox.nn.activations")
import("lunox.nn.linear")
import("lunox.nn.sequential")
import("lunox.nn.state")
import("lunox.nn.dropout")
import("lunox.nn.attention")
import("lunox.nn.rnn")
import("lunox.nn.normalisation")
import("lunox.nn.embedding")
import("lunox.nn.conv")
import("lunox.nn.pool")

return M
