/*
** binding.h — the Lua binding of the lunox runtime (one source for Lua 5.4
** and LuaJIT). The hosts preload it as `lunox.core`; built as a module it is
** lunox/core.so.
*/
#ifndef LX_BINDING_H
#define LX_BINDING_H

#include <lua.h>

int luaopen_lunox_core(lua_State *L);

#endif
