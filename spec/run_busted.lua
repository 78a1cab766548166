-- Runs busted inside whichever lunox host executes this file, so that every
-- spec runs under `lunox` (Lua 5.4) and `lunoxjit` (LuaJIT) alike.
-- Usage: lunox spec/run_busted.lua [busted options] spec/foo_spec.lua
require("busted.runner")({ standalone = false })
