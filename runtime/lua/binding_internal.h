/*
** binding_internal.h — shared pieces of the Lua binding: compatibility
** between Lua 5.4 and LuaJIT, array userdata, argument helpers.
*/
#ifndef LX_BINDING_INTERNAL_H
#define LX_BINDING_INTERNAL_H

#include "lunox.h"

#include <lauxlib.h>
#include <lua.h>

/* ------------------------------------------------ Lua 5.4 / LuaJIT compat */
#if LUA_VERSION_NUM >= 502
#define lxb_rawlen(L, i) lua_rawlen(L, i)
#else
#define lxb_rawlen(L, i) lua_objlen(L, i)
#endif
#if LUA_VERSION_NUM >= 504
#define lxb_newuserdata(L, n) lua_newuserdatauv(L, n, 0)
#else
#define lxb_newuserdata(L, n) lua_newuserdata(L, n)
#endif
#if LUA_VERSION_NUM >= 503
#define lxb_isinteger(L, i) lua_isinteger(L, i)
#else
#define lxb_isinteger(L, i) 0
#endif
/* Counts and sizes: integers on Lua 5.4 (exact to 2^63), numbers on LuaJIT
** (exact to 2^53). */
static inline void lxb_pushcount(lua_State *L, int64_t v) {
#if LUA_VERSION_NUM >= 503
  lua_pushinteger(L, (lua_Integer)v);
#else
  lua_pushnumber(L, (lua_Number)v);
#endif
}
/* Pushes tostring(value at idx) and returns it (luaL_tolstring on 5.4). */
static inline const char *lxb_tolstring(lua_State *L, int idx, size_t *len) {
#if LUA_VERSION_NUM >= 502
  return luaL_tolstring(L, idx, len);
#else
  idx = idx > 0 || idx <= LUA_REGISTRYINDEX ? idx : lua_gettop(L) + idx + 1;
  lua_getglobal(L, "tostring");
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
  return lua_tolstring(L, -1, len);
#endif
}
static inline int lxb_absindex(lua_State *L, int i) {
  return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}

#define LXB_ARRAY_MT "lunox.array"

/* ---------------------------------------------------------------- errors */
/* Raises the runtime's last error as a Lua error (does not return). */
int lxb_raise(lua_State *L);
/* Raises the runtime's last error as an error of `fn`: "fn: message",
** unless the message already starts with "fn:" (does not return). */
int lxb_raise_in(lua_State *L, const char *fn);
/* Raises "fn: message" with printf formatting (does not return). */
int lxb_error(lua_State *L, const char *fn, const char *fmt, ...);
/* Raises unless st is LX_OK. */
#define LXB_CHECK(L, st) do { if ((st) != LX_OK) lxb_raise(L); } while (0)

/* ---------------------------------------------------------------- arrays */
/* Pushes a userdata that will own an array and returns its slot; the slot
** starts NULL (the finaliser accepts that), so an op can write its result
** straight into it and a failing op leaks nothing. */
lx_array **lxb_new_slot(lua_State *L);
/* Pushes `a`, taking over the caller's reference. */
void lxb_push_array(lua_State *L, lx_array *a);
/* The array at `idx`, or NULL when it is not one. */
lx_array *lxb_test_array(lua_State *L, int idx);
/* The array at `idx`; raises naming `fn` otherwise. */
lx_array *lxb_check_array(lua_State *L, int idx, const char *fn);
/* Converts an array-like value at `idx` (array, number, boolean, nested
** list) into an array, replacing the stack slot; returns it (borrowed). */
lx_array *lxb_to_array(lua_State *L, int idx, const char *fn);
/* a <op> number (or number <op> a when scalar_first) for the Lua number at
** idx: weakly typed, and exact for Lua 5.4 integers beside integer arrays. */
lx_status lxb_binary_number(lua_State *L, lx_binary_op op, lx_array *a, int idx,
                            int scalar_first, lx_array **out);
/* Tells the garbage collector about array memory (see binding.c). */
void lxb_account_memory(lua_State *L);

/* -------------------------------------------------------------- arguments */
/* dtype name at idx (or `dflt` when nil/absent). */
lx_dtype lxb_opt_dtype(lua_State *L, int idx, lx_dtype dflt, const char *fn);
/* A shape: a list of non-negative integers, or one integer. */
int lxb_check_shape(lua_State *L, int idx, const char *fn, int64_t *shape);
/* An integer-valued number (exact for Lua 5.4 integers). */
int64_t lxb_check_int(lua_State *L, int idx, const char *fn, const char *what);
/* 1-based (negative from the end) axis -> 0-based; raises when out of range. */
int lxb_axis(lua_State *L, int idx, int ndim, const char *fn);
/* Raises "fn: the number N [at where] does not fit dtype D" when the Lua
** number at idx is outside the integer dtype d's range (lx_dtype_holds). */
void lxb_check_number_fits(lua_State *L, int idx, lx_dtype d, const char *fn,
                           const char *where);
/* The string at idx; raises "fn: <what> must be a string, got T" otherwise
** (luaL_checkstring's message names the function only when Lua's debug
** information can find it, which tail calls lose). */
const char *lxb_check_string(lua_State *L, int idx, const char *fn, const char *what);
/* The device for new arrays: the current default. */
lx_device *lxb_default_device(lua_State *L);

/* ------------------------------------------------------------ conversion */
/* lx.array(value [, dtype]) body: converts value at idx to a new array. */
lx_status lxb_array_from_lua(lua_State *L, int idx, int has_dtype, lx_dtype dtype,
                             lx_device *dev, lx_array **out);
/* Pushes a:tolist() / a:item(). */
void lxb_push_tolist(lua_State *L, lx_array *a);
void lxb_push_item(lua_State *L, lx_array *a);

/* ---------------------------------------------------------- registration */
void lxb_register_array_type(lua_State *L); /* metatable + methods */
void lxb_register_ops(lua_State *L);        /* fills the module table at -1 */
int lxb_l_conv(lua_State *L);               /* lx.conv (binding_conv.c) */
/* Each of these fills the module table at -1 too. */
void lxb_register_io(lua_State *L);          /* .npy records, atomic-write helpers */
void lxb_register_bytesio(lua_State *L);     /* lx.BytesIO */
void lxb_register_json(lua_State *L);        /* json_decode */
void lxb_register_safetensors(lua_State *L); /* safetensors read/write */
void lxb_register_abstract(lua_State *L);    /* abstract evaluation (filter_eval_shape) */
void lxb_register_random(lua_State *L);      /* lx.random's kernels */
void lxb_register_window_take(lua_State *L); /* reduce_window, take */

#endif
