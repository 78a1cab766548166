/*
** binding_array.c — the array userdata: lifetime, properties, indexing,
** metamethods and methods.
*/
#include "binding_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LXB_METHODS_KEY "lunox.array.methods"

/* ------------------------------------------------------------- userdata */

lx_array **lxb_new_slot(lua_State *L) {
  lx_array **slot = lxb_newuserdata(L, sizeof *slot);
  *slot = NULL;
  luaL_setmetatable(L, LXB_ARRAY_MT);
  return slot;
}

void lxb_push_array(lua_State *L, lx_array *a) {
  /* The header must not leak if the userdata allocation raises. */
  lx_array **slot = lua_newuserdata(L, sizeof *slot);
  *slot = a;
  luaL_setmetatable(L, LXB_ARRAY_MT);
  lxb_account_memory(L);
}

lx_array *lxb_test_array(lua_State *L, int idx) {
  lx_array **slot = luaL_testudata(L, idx, LXB_ARRAY_MT);
  if (!slot) return NULL;
  if (!*slot) luaL_error(L, "array used after it was closed");
  return *slot;
}

lx_array *lxb_check_array(lua_State *L, int idx, const char *fn) {
  lx_array *a = lxb_test_array(L, idx);
  if (!a) lxb_error(L, fn, "argument %d must be an array, got %s", idx, luaL_typename(L, idx));
  return a;
}

lx_array *lxb_to_array(lua_State *L, int idx, const char *fn) {
  lx_array *a = lxb_test_array(L, idx);
  if (a) return a;
  idx = lxb_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t != LUA_TNUMBER && t != LUA_TBOOLEAN && t != LUA_TTABLE)
    lxb_error(L, fn, "argument %d must be an array or array-like value, got %s", idx,
              luaL_typename(L, idx));
  lx_array **slot = lxb_new_slot(L);
  if (lxb_array_from_lua(L, idx, 0, LX_FLOAT32, lxb_default_device(L), slot) != LX_OK)
    lxb_raise(L);
  lua_replace(L, idx);
  return *slot;
}

static int l_gc(lua_State *L) {
  lx_array **slot = luaL_checkudata(L, 1, LXB_ARRAY_MT);
  lx_array_release(*slot);
  *slot = NULL;
  return 0;
}

/* ------------------------------------------------------------ indexing */

static int64_t normalise_position(lua_State *L, int64_t i, int64_t dim, int axis) {
  if (i == 0)
    lxb_error(L, "index", "0 is not a valid index on axis %d: indices count from 1 (-1 is "
              "the last)", axis + 1);
  int64_t z = i > 0 ? i - 1 : dim + i;
  if (z < 0 || z >= dim)
    lxb_error(L, "index", "index %lld is out of range for axis %d of size %lld", (long long)i,
              axis + 1, (long long)dim);
  return z;
}

/* 1-based inclusive bound -> 0-based position, clamped to [lo, hi]. */
static int64_t slice_bound(lua_State *L, int64_t b, int64_t dim, int axis, int64_t lo,
                           int64_t hi) {
  if (b == 0)
    lxb_error(L, "index", "0 is not a valid slice bound on axis %d: indices count from 1",
              axis + 1);
  int64_t z = b > 0 ? b - 1 : dim + b;
  return z < lo ? lo : z > hi ? hi : z;
}

static int64_t opt_field_int(lua_State *L, int t, int k, int64_t dflt, int *present) {
  lua_rawgeti(L, t, k);
  int64_t v = dflt;
  *present = !lua_isnil(L, -1);
  if (*present) v = lxb_check_int(L, -1, "index", "slice bound");
  lua_pop(L, 1);
  return v;
}

/* {lo, hi [, step]}: inclusive, either bound optional, {} is the whole axis. */
static void parse_slice(lua_State *L, int t, int64_t dim, int axis, lx_index *ix) {
  int has_lo, has_hi, has_step;
  int64_t step = opt_field_int(L, t, 3, 1, &has_step);
  if (step == 0) lxb_error(L, "index", "slice step cannot be 0 (axis %d)", axis + 1);
  int64_t lo = opt_field_int(L, t, 1, 0, &has_lo);
  int64_t hi = opt_field_int(L, t, 2, 0, &has_hi);
  ix->kind = LX_INDEX_SLICE;
  ix->step = step;
  if (step > 0) {
    int64_t s = has_lo ? slice_bound(L, lo, dim, axis, 0, dim) : 0;
    int64_t e = has_hi ? slice_bound(L, hi, dim, axis, -1, dim - 1) : dim - 1;
    ix->start = s;
    ix->stop = e + 1 > s ? e + 1 : s;
  } else {
    int64_t s = has_lo ? slice_bound(L, lo, dim, axis, -1, dim - 1) : dim - 1;
    int64_t e = has_hi ? slice_bound(L, hi, dim, axis, 0, dim) : 0;
    ix->start = s;
    ix->stop = e - 1 < s ? e - 1 : s;
  }
}

static void parse_index_entry(lua_State *L, int idx, const lx_array *a, int axis, lx_index *ix) {
  int64_t dim = lx_array_shape(a)[axis];
  if (lua_type(L, idx) == LUA_TNUMBER) {
    ix->kind = LX_INDEX_SINGLE;
    ix->start = normalise_position(L, lxb_check_int(L, idx, "index", "index"), dim, axis);
    ix->stop = ix->start + 1;
    ix->step = 1;
  } else if (lua_istable(L, idx)) {
    parse_slice(L, lxb_absindex(L, idx), dim, axis, ix);
  } else {
    lxb_error(L, "index", "axis %d: expected an integer or a {lo, hi [, step]} slice, got %s",
              axis + 1, luaL_typename(L, idx));
  }
}

static int index_array(lua_State *L, lx_array *a, int key) {
  lx_index ix[LX_MAX_DIMS];
  int n = 0;
  int ndim = lx_array_ndim(a);
  if (lua_type(L, key) == LUA_TNUMBER) {
    if (ndim == 0) lxb_error(L, "index", "cannot index a 0-d array (use item())");
    parse_index_entry(L, key, a, 0, &ix[0]);
    n = 1;
  } else {
    size_t len = lxb_rawlen(L, key);
    if ((int)len > ndim)
      lxb_error(L, "index", "%d indices for an array of %d dimensions", (int)len, ndim);
    for (size_t i = 1; i <= len; i++) {
      lua_rawgeti(L, key, (int)i);
      parse_index_entry(L, -1, a, (int)i - 1, &ix[i - 1]);
      lua_pop(L, 1);
    }
    n = (int)len;
  }
  lx_array **slot = lxb_new_slot(L);
  LXB_CHECK(L, lx_index_view(a, n, ix, slot));
  return 1;
}

/* ---------------------------------------------------------- properties */

static void push_shape(lua_State *L, const lx_array *a) {
  int n = lx_array_ndim(a);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lxb_pushcount(L, lx_array_shape(a)[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

static int push_property(lua_State *L, lx_array *a, const char *k) {
  if (strcmp(k, "shape") == 0) push_shape(L, a);
  else if (strcmp(k, "dtype") == 0) lua_pushstring(L, lx_dtype_name(lx_array_dtype(a)));
  else if (strcmp(k, "ndim") == 0) lua_pushinteger(L, lx_array_ndim(a));
  else if (strcmp(k, "size") == 0) lxb_pushcount(L, lx_array_size(a));
  else if (strcmp(k, "device") == 0) lua_pushstring(L, lx_device_name(lx_array_device(a)));
  else if (strcmp(k, "T") == 0) {
    lx_array **slot = lxb_new_slot(L);
    LXB_CHECK(L, lx_transpose(a, NULL, slot));
  } else return 0;
  return 1;
}

static int l_index(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "index");
  int t = lua_type(L, 2);
  if (t == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1)); /* methods */
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    if (push_property(L, a, lua_tostring(L, 2))) return 1;
    lua_pushnil(L); /* unknown names read as nil, like any Lua object */
    return 1;
  }
  if (t == LUA_TNUMBER || t == LUA_TTABLE) return index_array(L, a, 2);
  return lxb_error(L, "index", "cannot index an array with a %s", luaL_typename(L, 2));
}

static int l_newindex(lua_State *L) {
  return lxb_error(L, "index", "arrays are immutable: build a new array instead (for "
                   "example with lx.where, or lx.tree_at for a model's leaves)");
}

static int l_len(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "#");
  if (lx_array_ndim(a) == 0) return lxb_error(L, "#", "a 0-d array has no length");
  lxb_pushcount(L, lx_array_shape(a)[0]);
  return 1;
}

static int l_tostring(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "tostring");
  lx_format_options opts;
  lx_format_options_default(&opts);
  char *s = NULL;
  if (lx_array_format(a, &opts, &s) != LX_OK) return lxb_raise(L);
  lua_pushstring(L, s);
  free(s);
  return 1;
}

/* -------------------------------------------------------- metamethods */

static int arith(lua_State *L, lx_binary_op op) {
  const char *fn = lx_binary_op_name(op);
  lx_array *x = lxb_test_array(L, 1), *y = lxb_test_array(L, 2);
  lx_array **slot;
  lx_status st;
  if (x && y) {
    slot = lxb_new_slot(L);
    st = lx_binary(op, x, y, slot);
  } else if (x && lua_type(L, 2) == LUA_TNUMBER) {
    slot = lxb_new_slot(L);
    st = lxb_binary_number(L, op, x, 2, 0, slot);
  } else if (y && lua_type(L, 1) == LUA_TNUMBER) {
    slot = lxb_new_slot(L);
    st = lxb_binary_number(L, op, y, 1, 1, slot);
  } else {
    x = lxb_to_array(L, 1, fn);
    y = lxb_to_array(L, 2, fn);
    slot = lxb_new_slot(L);
    st = lx_binary(op, x, y, slot);
  }
  if (st != LX_OK) return lxb_raise_in(L, fn);
  lxb_account_memory(L);
  return 1;
}

static int l_add(lua_State *L) { return arith(L, LX_ADD); }
static int l_sub(lua_State *L) { return arith(L, LX_SUB); }
static int l_mul(lua_State *L) { return arith(L, LX_MUL); }
static int l_div(lua_State *L) { return arith(L, LX_DIV); }
static int l_pow(lua_State *L) { return arith(L, LX_POW); }

static int l_unm(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "neg");
  lx_array **slot = lxb_new_slot(L);
  if (lx_unary(LX_NEG, a, slot) != LX_OK) return lxb_raise_in(L, "neg");
  lxb_account_memory(L);
  return 1;
}

/* ------------------------------------------------------------- methods */

static int m_tolist(lua_State *L) {
  lxb_push_tolist(L, lxb_check_array(L, 1, "tolist"));
  return 1;
}

static int m_item(lua_State *L) {
  lxb_push_item(L, lxb_check_array(L, 1, "item"));
  return 1;
}

static int m_to(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "to");
  lx_device *dev;
  if (lx_device_find(lxb_check_string(L, 2, "to", "the device"), &dev) != LX_OK)
    return lxb_raise_in(L, "to");
  lx_array **slot = lxb_new_slot(L);
  if (lx_array_to_device(a, dev, slot) != LX_OK) return lxb_raise_in(L, "to");
  lxb_account_memory(L);
  return 1;
}

static int m_copy(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "copy");
  lx_array **slot = lxb_new_slot(L);
  if (lx_copy(a, slot) != LX_OK) return lxb_raise_in(L, "copy");
  lxb_account_memory(L);
  return 1;
}

/* a:unpack() -> a[1], ..., a[n] (views along the first axis). */
static int m_unpack(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "unpack");
  if (lx_array_ndim(a) == 0) return lxb_error(L, "unpack", "cannot unpack a 0-d array");
  int64_t n = lx_array_shape(a)[0];
  if (n > 100000) return lxb_error(L, "unpack", "%lld values are too many", (long long)n);
  luaL_checkstack(L, (int)n + 2, "unpack");
  for (int64_t i = 0; i < n; i++) {
    lx_index ix = {LX_INDEX_SINGLE, i, i + 1, 1};
    lx_array **slot = lxb_new_slot(L);
    LXB_CHECK(L, lx_index_view(a, 1, &ix, slot));
  }
  return (int)n;
}

/* a:close() (and <close> on Lua 5.4) frees the memory now; using the
** array afterwards raises. Views keep the shared buffer alive. */
static int m_close(lua_State *L) {
  lx_array **slot = luaL_testudata(L, 1, LXB_ARRAY_MT);
  if (!slot)
    return lxb_error(L, "close", "argument 1 must be an array, got %s", luaL_typename(L, 1));
  lx_array_release(*slot);
  *slot = NULL;
  return 0;
}

void lxb_register_array_type(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"tolist", m_tolist}, {"item", m_item}, {"to", m_to}, {"copy", m_copy},
    {"unpack", m_unpack}, {"close", m_close}, {NULL, NULL},
  };
  static const luaL_Reg meta[] = {
    {"__gc", l_gc},       {"__newindex", l_newindex}, {"__len", l_len},
    {"__tostring", l_tostring}, {"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul},
    {"__div", l_div},     {"__pow", l_pow},       {"__unm", l_unm},
#if LUA_VERSION_NUM >= 504
    {"__close", m_close},
#endif
    {NULL, NULL},
  };
  luaL_newmetatable(L, LXB_ARRAY_MT);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L); /* methods; binding_ops.c adds the op methods */
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, LXB_METHODS_KEY);
  /* For the REPL's completion: the methods, and the properties as `true`
  ** (a field that is not a function). binding_ops.c adds op methods to the
  ** same methods table, so they appear here too. */
  lua_newtable(L);
  static const char *const properties[] = {"shape", "dtype", "ndim", "size", "device", "T", NULL};
  for (int i = 0; properties[i]; i++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, properties[i]);
  }
  lua_newtable(L); /* its metatable: fall back to the methods */
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -3, "__complete");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "lunox.array");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}
