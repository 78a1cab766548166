/*
** binding_window_take.c — lx.reduce_window and lx.take (also methods:
** a:reduce_window(...), a:take(...)). Lua lists in, one runtime call out;
** take's indices stay 1-based all the way down (lx_take's index_base), so
** errors quote the index the user wrote.
*/
#include "binding_internal.h"

#include <string.h>

#define LXB_METHODS_KEY "lunox.array.methods"

/* A list of integers at idx (at most LX_MAX_DIMS); returns its length. */
static int int_list(lua_State *L, int idx, const char *fn, const char *what, int64_t *out) {
  if (!lua_istable(L, idx) || lxb_test_array(L, idx))
    return lxb_error(L, fn, "%s must be a list of integers such as {2, 2}, got %s", what,
                     luaL_typename(L, idx));
  int n = (int)lxb_rawlen(L, idx);
  if (n > LX_MAX_DIMS) return lxb_error(L, fn, "%s has %d entries (at most %d)", what, n,
                                        LX_MAX_DIMS);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1);
    out[i] = lxb_check_int(L, -1, fn, what);
    lua_pop(L, 1);
  }
  return n;
}

/* Raises unless a list has one entry per axis. */
static void check_rank(lua_State *L, const char *fn, const char *what, int n, int ndim) {
  if (n != ndim)
    lxb_error(L, fn, "%s has %d entries for an array of %d dimensions", what, n, ndim);
}

/* padding: nil (none), "VALID" (none), "SAME" (as lax.padtype_to_pads: the
** output has ceil(n / stride) entries, the extra padding split with the
** odd one above), a list of integers (the same below and above each
** axis), or a list of {lo, hi} pairs. */
static void read_padding(lua_State *L, int idx, int ndim, const int64_t *shape,
                         const int64_t *window, const int64_t *strides, int64_t *lo,
                         int64_t *hi) {
  const char *fn = "reduce_window";
  for (int i = 0; i < ndim; i++) lo[i] = hi[i] = 0;
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    if (strcmp(s, "VALID") == 0) return;
    if (strcmp(s, "SAME") != 0)
      lxb_error(L, fn, "padding must be \"VALID\", \"SAME\", a list of integers or a list of "
                "{lo, hi} pairs, got \"%s\"", s);
    for (int i = 0; i < ndim; i++) {
      int64_t outn = (shape[i] + strides[i] - 1) / strides[i];
      int64_t total = (outn - 1) * strides[i] + window[i] - shape[i];
      if (total < 0) total = 0;
      lo[i] = total / 2;
      hi[i] = total - lo[i];
    }
    return;
  }
  if (!lua_istable(L, idx) || lxb_test_array(L, idx))
    lxb_error(L, fn, "padding must be \"VALID\", \"SAME\", a list of integers or a list of "
              "{lo, hi} pairs, got %s", luaL_typename(L, idx));
  int n = (int)lxb_rawlen(L, idx);
  check_rank(L, fn, "padding", n, ndim);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (lua_istable(L, -1)) {
      if (lxb_rawlen(L, -1) != 2)
        lxb_error(L, fn, "padding entry %d must be an integer or a {lo, hi} pair", i + 1);
      lua_rawgeti(L, -1, 1);
      lo[i] = lxb_check_int(L, -1, fn, "padding");
      lua_rawgeti(L, -2, 2);
      hi[i] = lxb_check_int(L, -1, fn, "padding");
      lua_pop(L, 2);
    } else {
      lo[i] = hi[i] = lxb_check_int(L, -1, fn, "padding");
    }
    lua_pop(L, 1);
  }
}

/* lx.reduce_window(x, op, window [, strides [, padding]]) */
static int l_reduce_window(lua_State *L) {
  const char *fn = "reduce_window";
  lx_array *x = lxb_to_array(L, 1, fn);
  const char *name = lxb_check_string(L, 2, fn, "the op");
  lx_reduce_op op;
  if (strcmp(name, "max") == 0) op = LX_MAX;
  else if (strcmp(name, "sum") == 0) op = LX_SUM;
  else return lxb_error(L, fn, "the op must be \"max\" or \"sum\", got \"%s\"", name);
  int ndim = lx_array_ndim(x);
  const int64_t *shape = lx_array_shape(x);
  int64_t window[LX_MAX_DIMS], strides[LX_MAX_DIMS], lo[LX_MAX_DIMS], hi[LX_MAX_DIMS];
  check_rank(L, fn, "the window", int_list(L, 3, fn, "the window", window), ndim);
  if (lua_isnoneornil(L, 4)) {
    for (int i = 0; i < ndim; i++) strides[i] = 1;
  } else {
    check_rank(L, fn, "the strides", int_list(L, 4, fn, "the strides", strides), ndim);
  }
  for (int i = 0; i < ndim; i++) { /* before SAME divides by them */
    if (window[i] < 1)
      return lxb_error(L, fn, "window %lld on axis %d; windows are at least 1",
                       (long long)window[i], i + 1);
    if (strides[i] < 1)
      return lxb_error(L, fn, "stride %lld on axis %d; strides are at least 1",
                       (long long)strides[i], i + 1);
  }
  read_padding(L, 5, ndim, shape, window, strides, lo, hi);
  lx_array **slot = lxb_new_slot(L);
  if (lx_reduce_window(op, x, ndim, window, strides, lo, hi, slot) != LX_OK)
    return lxb_raise_in(L, fn);
  lxb_account_memory(L);
  return 1;
}

/* Raises unless every number in the (nested) Lua value at idx is an
** integer; `count` numbers the entries in reading order for the message.
** Other values are left for lxb_array_from_lua to judge. */
static void check_integral(lua_State *L, int idx, int depth, int64_t *count) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    ++*count;
    if (lxb_isinteger(L, idx)) return;
    double v = lua_tonumber(L, idx);
    if (v != v || v >= 0x1p63 || v < -0x1p63 || v != (double)(int64_t)v)
      lxb_error(L, "take", "indices must be integers, got %g (entry %lld)", v, (long long)*count);
    return;
  }
  if (!lua_istable(L, idx) || depth > LX_MAX_DIMS) return;
  int n = (int)lxb_rawlen(L, idx);
  luaL_checkstack(L, 2, "take");
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    check_integral(L, lua_gettop(L), depth + 1, count);
    lua_pop(L, 1);
  }
}

/* Indices written as Lua numbers or nested lists: they must be integers
** (Lua numbers would otherwise become float32 arrays); they become int64,
** on the device of `like` when it is an array. Replaces the stack slot. */
static lx_array *lua_indices(lua_State *L, int idx, lx_array *like) {
  int64_t count = 0;
  check_integral(L, idx, 0, &count);
  lx_device *dev = like ? lx_array_device(like) : lxb_default_device(L);
  if (like && lx_array_is_abstract(like)) dev = lxb_default_device(L);
  lx_array **slot = lxb_new_slot(L);
  if (lxb_array_from_lua(L, idx, 1, LX_INT64, dev, slot) != LX_OK) lxb_raise_in(L, "take");
  lua_replace(L, idx);
  return lxb_test_array(L, idx);
}

/* lx.take(a, indices [, axis]): indices count from 1, negative ones from
** the end; without an axis, a is flattened first (as jnp.take). */
static int l_take(lua_State *L) {
  const char *fn = "take";
  lua_settop(L, 3);
  if (lua_isnil(L, 2)) return lxb_error(L, fn, "missing indices");
  lx_array *idx = lxb_test_array(L, 2);
  if (!idx) idx = lua_indices(L, 2, lxb_test_array(L, 1));
  lx_array *a = lxb_to_array(L, 1, fn);
  int axis = 0;
  lx_array *flat = NULL;
  if (lua_isnil(L, 3)) {
    int64_t n = -1;
    if (lx_reshape(a, 1, &n, &flat) != LX_OK) return lxb_raise_in(L, fn);
    lxb_push_array(L, flat); /* owned by the stack from here */
    a = flat;
  } else {
    if (lx_array_ndim(a) == 0) return lxb_error(L, fn, "a 0-d array has no axis to take from");
    axis = lxb_axis(L, 3, lx_array_ndim(a), fn);
  }
  lx_array **slot = lxb_new_slot(L);
  if (lx_take(a, idx, axis, 1, slot) != LX_OK) return lxb_raise_in(L, fn);
  lxb_account_memory(L);
  return 1;
}

void lxb_register_window_take(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"reduce_window", l_reduce_window}, {"take", l_take}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, LXB_METHODS_KEY);
  for (int i = 0; fns[i].name; i++) {
    lua_pushcfunction(L, fns[i].func);
    lua_setfield(L, -2, fns[i].name);
  }
  lua_pop(L, 1);
}
