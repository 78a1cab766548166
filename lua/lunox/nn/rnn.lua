--- GRUCell and LSTMCell, as equinox.nn (equinox/nn/_rnn.py): the same
-- fields, key splitting and initialisation (uniform in +-sqrt(1 /
-- hidden_size)), and one step of the recurrence per call.
-- @module lunox.nn.rnn
local core = require("lunox.core")
local Module = require("lunox.module").Module
local U = require("lunox.nn.util")

local M = {}

local function label(cls, self)
  return ("%s(%d -> %d)"):format(cls, self.input_size, self.hidden_size)
end

-- The i-th of n equal pieces of a 1-D array (jnp.split(x, n)[i]).
local function piece(x, i, n)
  local len = x.shape[1] / n
  return x[{ { (i - 1) * len + 1, i * len } }]
end

local RNN_PARAMS = { "input_size", "hidden_size", "use_bias", "dtype" }
local RNN_KEYWORDS = { use_bias = true, dtype = true }

local function bind_cell(cls, ...)
  local a = U.bind(cls, RNN_PARAMS, RNN_KEYWORDS, ...)
  local out = {
    input_size = U.size(cls, "input_size", a.input_size),
    hidden_size = U.size(cls, "hidden_size", a.hidden_size),
    use_bias = U.flag(cls, "use_bias", a.use_bias, true),
    dtype = U.float_dtype(cls, a.dtype),
    key = U.need_key(cls, a.key, 3),
  }
  -- Equinox's bound: math.sqrt(1 / hidden_size) (not 1 / math.sqrt(...),
  -- which differs in the last bit for some sizes).
  out.lim = math.sqrt(1 / out.hidden_size)
  return out
end

--- GRUCell(input_size, hidden_size [, use_bias = true [, dtype]] [, {key = k}]):
-- weight_ih {3 hidden, input}, weight_hh {3 hidden, hidden}, bias {3 hidden}
-- and bias_n {hidden} (nil without bias), from split(key, 4) in that order.
local GRUCell = Module:extend("GRUCell", {
  fields = { "weight_ih", "weight_hh", "bias", "bias_n" },
  static = { "input_size", "hidden_size", "use_bias" },
})
M.GRUCell = GRUCell

function GRUCell:init(...)
  local a = bind_cell("GRUCell", ...)
  local ihkey, hhkey, bkey, bkey2 = require("lunox.random").split(a.key, 4):unpack()
  local hs = a.hidden_size
  self.weight_ih = U.uniform_init(ihkey, { 3 * hs, a.input_size }, a.dtype, a.lim)
  self.weight_hh = U.uniform_init(hhkey, { 3 * hs, hs }, a.dtype, a.lim)
  -- nil (Equinox's None) without bias; a field must still be assigned.
  self.bias = a.use_bias and U.uniform_init(bkey, { 3 * hs }, a.dtype, a.lim) or nil
  self.bias_n = a.use_bias and U.uniform_init(bkey2, { hs }, a.dtype, a.lim) or nil
  self.input_size = a.input_size
  self.hidden_size = hs
  self.use_bias = a.use_bias
end

--- cell(input, hidden [, {key = k}]) -> the new hidden state {hidden_size}.
-- input {input_size}, hidden {hidden_size}; the key is ignored (Equinox's
-- compatibility argument).
function GRUCell:__call(input, hidden, opts)
  local lab = label("GRUCell", self)
  U.call_opts(lab, opts)
  U.check_input(lab .. " input", input, { self.input_size })
  U.check_input(lab .. " hidden", hidden, { self.hidden_size })
  local ig = core.matmul(self.weight_ih, input)
  if self.use_bias then ig = ig + self.bias end
  local hg = core.matmul(self.weight_hh, hidden)
  local reset = core.sigmoid(piece(ig, 1, 3) + piece(hg, 1, 3))
  local inp = core.sigmoid(piece(ig, 2, 3) + piece(hg, 2, 3))
  local hn = piece(hg, 3, 3)
  if self.use_bias then hn = hn + self.bias_n end
  local new = core.tanh(piece(ig, 3, 3) + reset * hn)
  return new + inp * (hidden - new)
end

--- LSTMCell(input_size, hidden_size [, use_bias = true [, dtype]] [, {key = k}]):
-- weight_ih {4 hidden, input}, weight_hh {4 hidden, hidden} and bias
-- {4 hidden} (nil without bias), from split(key, 3) in that order.
local LSTMCell = Module:extend("LSTMCell", {
  fields = { "weight_ih", "weight_hh", "bias" },
  static = { "input_size", "hidden_size", "use_bias" },
})
M.LSTMCell = LSTMCell

function LSTMCell:init(...)
  local a = bind_cell("LSTMCell", ...)
  local ihkey, hhkey, bkey = require("lunox.random").split(a.key, 3):unpack()
  local hs = a.hidden_size
  self.weight_ih = U.uniform_init(ihkey, { 4 * hs, a.input_size }, a.dtype, a.lim)
  self.weight_hh = U.uniform_init(hhkey, { 4 * hs, hs }, a.dtype, a.lim)
  self.bias = a.use_bias and U.uniform_init(bkey, { 4 * hs }, a.dtype, a.lim) or nil
  self.input_size = a.input_size
  self.hidden_size = hs
  self.use_bias = a.use_bias
end

--- cell(input, {h, c} [, {key = k}]) -> {h, c}: Equinox's (h, c) tuple is a
-- Lua list of two arrays {hidden_size}, in and out (a pytree list node).
-- Gates in Equinox's (PyTorch's) order: input, forget, cell, output.
function LSTMCell:__call(input, hidden, opts)
  local lab = label("LSTMCell", self)
  U.call_opts(lab, opts)
  U.check_input(lab .. " input", input, { self.input_size })
  if type(hidden) ~= "table" or core.is_array(hidden) or #hidden ~= 2 then
    error(("%s: hidden must be a list {h, c} of two arrays of shape {%d}, got %s"):format(lab,
      self.hidden_size, core.is_array(hidden) and ("an array of shape "
      .. U.shape_str(hidden.shape)) or type(hidden) == "table" and ("a table of length "
      .. #hidden) or type(hidden)), 2)
  end
  local h, c = hidden[1], hidden[2]
  U.check_input(lab .. " hidden h", h, { self.hidden_size })
  U.check_input(lab .. " hidden c", c, { self.hidden_size })
  local lin = core.matmul(self.weight_ih, input) + core.matmul(self.weight_hh, h)
  if self.use_bias then lin = lin + self.bias end
  local i = core.sigmoid(piece(lin, 1, 4))
  local f = core.sigmoid(piece(lin, 2, 4))
  local g = core.tanh(piece(lin, 3, 4))
  local o = core.sigmoid(piece(lin, 4, 4))
  c = f * c + i * g
  h = o * core.tanh(c)
  return { h, c }
end

return M
