/*
** host_readline.h — `lunox.readline`, a small Lua module over GNU readline
** used by the REPL (lua/lunox/repl.lua). The hosts preload it.
*/
#ifndef LX_HOST_READLINE_H
#define LX_HOST_READLINE_H

#include <lua.h>

int luaopen_lunox_readline(lua_State *L);

#endif
