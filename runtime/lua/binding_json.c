/*
** binding_json.c — core.json_decode(text [, name]): JSON text to Lua values
** with the runtime's strict parser (lx.json.decode in lua/lunox/json.lua).
**
** object -> table with string keys, array -> list, null -> lx.none (the
** sentinel binding_tree.c keeps in the registry), integers -> Lua integers
** on 5.4 (numbers on LuaJIT), other numbers -> floats.
*/
#include "binding_internal.h"
#include "lunox_io.h"

#include <limits.h>

#define FN "lx.json.decode"
#define DOC_MT "lunox.json_doc"

/* The parsed document sits in a userdata while it becomes Lua values, so a
** memory error in the middle (a longjmp) still frees it. */
static int doc_gc(lua_State *L) {
  lx_json_doc **slot = luaL_checkudata(L, 1, DOC_MT);
  lx_json_free(*slot);
  *slot = NULL;
  return 0;
}

/* Table size hints for lua_createtable (an int). */
static int size_hint(size_t n) { return n > INT_MAX ? INT_MAX : (int)n; }

/* Pushes v; `none` is the stack index of lx.none. Recursion is bounded by
** the parser's depth limit (512). */
static void push_value(lua_State *L, const lx_json_value *v, int none) {
  if (!lua_checkstack(L, 4)) {
    lxb_error(L, FN, "the document is nested too deeply for the Lua stack");
    return;
  }
  switch (v->type) {
    case LX_JSON_NULL: lua_pushvalue(L, none); break;
    case LX_JSON_FALSE: lua_pushboolean(L, 0); break;
    case LX_JSON_TRUE: lua_pushboolean(L, 1); break;
    case LX_JSON_INTEGER:
#if LUA_VERSION_NUM >= 503
      lua_pushinteger(L, (lua_Integer)v->u.integer);
#else
      lua_pushnumber(L, (lua_Number)v->u.integer);
#endif
      break;
    case LX_JSON_NUMBER: lua_pushnumber(L, (lua_Number)v->u.number); break;
    case LX_JSON_STRING: lua_pushlstring(L, v->u.string.s, v->u.string.len); break;
    case LX_JSON_ARRAY:
      lua_createtable(L, size_hint(v->u.array.count), 0);
      for (size_t i = 0; i < v->u.array.count; i++) {
        push_value(L, &v->u.array.items[i], none);
        lua_rawseti(L, -2, (lua_Integer)(i + 1));
      }
      break;
    case LX_JSON_OBJECT:
      lua_createtable(L, 0, size_hint(v->u.object.count));
      for (size_t i = 0; i < v->u.object.count; i++) {
        const lx_json_member *m = &v->u.object.members[i];
        lua_pushlstring(L, m->key, m->key_len);
        push_value(L, &m->value, none);
        lua_rawset(L, -3);
      }
      break;
  }
}

static int l_json_decode(lua_State *L) {
  size_t len;
  const char *text;
  if (lua_type(L, 1) != LUA_TSTRING)
    return lxb_error(L, FN, "the text must be a string, got %s", luaL_typename(L, 1));
  text = lua_tolstring(L, 1, &len);
  const char *name = NULL;
  if (!lua_isnoneornil(L, 2)) name = lxb_check_string(L, 2, FN, "the name");
  lua_settop(L, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.none");
  if (lua_isnil(L, -1)) return lxb_error(L, FN, "lx.none is not registered (a bug in lunox)");
  int none = lua_gettop(L);
  lx_json_doc **slot = lxb_newuserdata(L, sizeof *slot);
  *slot = NULL;
  luaL_getmetatable(L, DOC_MT);
  lua_setmetatable(L, -2);
  /* No "file:line:" in front: the message names the place in the text,
  ** and the caller is lx.json.decode, not the user's code. (Nor lxb_error,
  ** whose 512-byte buffer a message naming a long file could outgrow.) */
  if (lx_json_parse(text, len, name, NULL, slot) != LX_OK) {
    lua_pushfstring(L, "%s: %s", FN, lx_last_error());
    return lua_error(L);
  }
  push_value(L, lx_json_root(*slot), none);
  lx_json_free(*slot);
  *slot = NULL;
  return 1;
}

void lxb_register_json(lua_State *L) {
  if (luaL_newmetatable(L, DOC_MT)) {
    lua_pushcfunction(L, doc_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_json_decode);
  lua_setfield(L, -2, "json_decode");
}
