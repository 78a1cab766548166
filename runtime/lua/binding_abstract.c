/*
** binding_abstract.c — abstract evaluation for lx.filter_eval_shape (see
** runtime/core/abstract.c): begin/end around the user's function, and a
** predicate for the arrays it made.
*/
#include "binding_internal.h"

/* core._eval_abstract(fn, ...) -> fn(...) run with abstract evaluation on.
** fn runs under lua_pcall from C, so a coroutine yield inside it is an
** error rather than a way out that would leave abstract mode on for the
** whole thread. */
static int l_eval_abstract(lua_State *L) {
  luaL_checkany(L, 1);
  int nargs = lua_gettop(L) - 1;
  lx_abstract_begin();
  int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  lx_abstract_end();
  if (status != 0) return lua_error(L);
  return lua_gettop(L);
}

static int l_is_abstract(lua_State *L) {
  lx_array *a = lxb_test_array(L, 1);
  lua_pushboolean(L, a != NULL && lx_array_is_abstract(a));
  return 1;
}

void lxb_register_abstract(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"_eval_abstract", l_eval_abstract},
    {"is_abstract", l_is_abstract},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
