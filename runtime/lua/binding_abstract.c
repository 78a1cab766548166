/*
** binding_abstract.c — abstract evaluation for lx.filter_eval_shape (see
** runtime/core/abstract.c): begin/end around the user's function, and a
** predicate for the arrays it made.
*/
#include "binding_internal.h"

static int l_abstract_begin(lua_State *L) {
  lx_abstract_begin();
  return 0;
}

static int l_abstract_end(lua_State *L) {
  lx_abstract_end();
  return 0;
}

static int l_is_abstract(lua_State *L) {
  lx_array *a = lxb_test_array(L, 1);
  lua_pushboolean(L, a != NULL && lx_array_is_abstract(a));
  return 1;
}

void lxb_register_abstract(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"_abstract_begin", l_abstract_begin},
    {"_abstract_end", l_abstract_end},
    {"is_abstract", l_is_abstract},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
