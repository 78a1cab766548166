/*
** binding_convert.c — Lua values <-> arrays: nested lists, shapes, dtypes,
** axes, tolist and item.
*/
#include "binding_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- arguments */

static int double_to_int64(double d, int64_t *out) {
  if (!(d == floor(d)) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
  *out = (int64_t)d;
  return 1;
}

int64_t lxb_check_int(lua_State *L, int idx, const char *fn, const char *what) {
  if (lxb_isinteger(L, idx)) return (int64_t)lua_tointeger(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER)
    lxb_error(L, fn, "%s must be an integer, got %s", what, luaL_typename(L, idx));
  int64_t v = 0;
  if (!double_to_int64(lua_tonumber(L, idx), &v))
    lxb_error(L, fn, "%s must be an integer, got %.17g", what, lua_tonumber(L, idx));
  return v;
}

lx_dtype lxb_opt_dtype(lua_State *L, int idx, lx_dtype dflt, const char *fn) {
  if (lua_isnoneornil(L, idx)) return dflt;
  if (lua_type(L, idx) != LUA_TSTRING)
    lxb_error(L, fn, "dtype must be a string such as \"float32\", got %s",
              luaL_typename(L, idx));
  lx_dtype d;
  if (lx_dtype_from_name(lua_tostring(L, idx), &d) != LX_OK)
    lxb_error(L, fn, "%s", lx_last_error());
  return d;
}

int lxb_check_shape(lua_State *L, int idx, const char *fn, int64_t *shape) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    shape[0] = lxb_check_int(L, idx, fn, "shape");
    return 1;
  }
  if (!lua_istable(L, idx))
    lxb_error(L, fn, "shape must be a list of integers such as {3, 4}, got %s",
              luaL_typename(L, idx));
  size_t n = lxb_rawlen(L, idx);
  if (n > LX_MAX_DIMS) lxb_error(L, fn, "shape has %d entries (at most %d)", (int)n, LX_MAX_DIMS);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, (int)i);
    char what[32];
    snprintf(what, sizeof what, "shape entry %d", (int)i);
    shape[i - 1] = lxb_check_int(L, -1, fn, what);
    lua_pop(L, 1);
  }
  return (int)n;
}

int lxb_axis(lua_State *L, int idx, int ndim, const char *fn) {
  int64_t a = lxb_check_int(L, idx, fn, "axis");
  if (a == 0) lxb_error(L, fn, "axis 0 is not valid: axes count from 1 (-1 is the last)");
  int64_t z = a > 0 ? a - 1 : ndim + a;
  if (z < 0 || z >= ndim)
    lxb_error(L, fn, "axis %lld is out of range for an array of %d dimensions", (long long)a,
              ndim);
  return (int)z;
}

const char *lxb_check_string(lua_State *L, int idx, const char *fn, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING)
    lxb_error(L, fn, "%s must be a string, got %s", what, luaL_typename(L, idx));
  return lua_tostring(L, idx);
}

/*
** Lua numbers stored into integer dtypes (lx.array, lx.full): an integral
** number outside the dtype's range is an error on both hosts. Without this
** check lx.array({300}, "uint8") wrapped to 44 under Lua 5.4 (an integer)
** but saturated to 255 under LuaJIT (a double). A fraction truncates toward
** zero, as NumPy's array(2.7, int32) does; what is out of range after that
** (or NaN, or infinite) is an error too, never a silent saturation.
*/
void lxb_check_number_fits(lua_State *L, int idx, lx_dtype d, const char *fn,
                           const char *where) {
  if (!lx_dtype_is_integer(d) || lua_type(L, idx) != LUA_TNUMBER) return;
  char num[32];
  if (lxb_isinteger(L, idx)) {
    int64_t v = (int64_t)lua_tointeger(L, idx);
    if (lx_dtype_holds_int64(d, v)) return;
    snprintf(num, sizeof num, "%lld", (long long)v);
  } else {
    double v = lua_tonumber(L, idx);
    if (lx_dtype_holds(d, v)) return;
    if (isnan(v)) snprintf(num, sizeof num, "nan");
    else snprintf(num, sizeof num, "%.17g", v);
  }
  lxb_error(L, fn, "the number %s%s%s does not fit dtype %s", num, where ? " at " : "",
            where ? where : "", lx_dtype_name(d));
}

/* ----------------------------------------------------- nested Lua lists */

typedef struct list_walk {
  const char *fn;
  int ndim;
  int64_t shape[LX_MAX_DIMS];
  lx_dtype dtype;
  char *data;
  size_t item;
  size_t pos; /* elements written */
  int path[LX_MAX_DIMS + 1]; /* 1-based positions, for messages */
} list_walk;

static const char *path_str(const list_walk *w, int depth, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; i < depth && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "[%d]", w->path[i]);
  if (depth == 0) snprintf(buf, size, "the top level");
  return buf;
}

/* Finds the shape by following first elements: {{1,2},{3,4}} -> {2,2}. */
static void infer_shape(lua_State *L, int idx, list_walk *w) {
  int top = lua_gettop(L);
  lua_pushvalue(L, idx);
  w->ndim = 0;
  while (lua_istable(L, -1) && !lxb_test_array(L, -1)) {
    if (w->ndim == LX_MAX_DIMS)
      lxb_error(L, w->fn, "nested lists deeper than %d levels (a cycle?)", LX_MAX_DIMS);
    /* A Module or a dict would otherwise read as an empty list (its length
    ** is 0): refuse what is not a plain list. */
    if (lua_getmetatable(L, -1)) {
      lua_getfield(L, -1, "__name");
      lxb_error(L, w->fn, "expected a number, boolean, array or nested list, got %s%s "
                "(a table with a metatable)", lua_isstring(L, -1) ? lua_tostring(L, -1) : "a table",
                w->ndim ? " inside the list" : "");
    }
    size_t n = lxb_rawlen(L, -1);
    if (n == 0) {
      lua_pushnil(L);
      if (lua_next(L, -2))
        lxb_error(L, w->fn, "expected a number, boolean, array or nested list, got a table "
                  "with non-list keys (first key: %s)", lxb_tolstring(L, -2, NULL));
    }
    w->shape[w->ndim++] = (int64_t)n;
    if (n == 0) break;
    lua_rawgeti(L, -1, 1);
  }
  lua_settop(L, top);
}

static void store_leaf(lua_State *L, list_walk *w, int depth) {
  char pbuf[LX_MAX_DIMS * 12 + 16];
  char *dst = w->data + w->pos * w->item;
  int t = lua_type(L, -1);
  if (t == LUA_TNUMBER) {
    if (lx_dtype_is_integer(w->dtype))
      lxb_check_number_fits(L, -1, w->dtype, w->fn, path_str(w, depth, pbuf, sizeof pbuf));
    if (lxb_isinteger(L, -1)) lx_store_int64(w->dtype, (int64_t)lua_tointeger(L, -1), dst);
    else lx_store_double(w->dtype, lua_tonumber(L, -1), dst);
  } else if (t == LUA_TBOOLEAN) {
    lx_store_int64(w->dtype, lua_toboolean(L, -1), dst);
  } else {
    lx_array *a = lxb_test_array(L, -1);
    lxb_error(L, w->fn, "expected a number or boolean at %s, got %s%s",
              path_str(w, depth, pbuf, sizeof pbuf), a ? "an array" : luaL_typename(L, -1),
              a ? " (use lx.stack to combine arrays)" : "");
  }
  w->pos++;
}

static void fill_from_list(lua_State *L, list_walk *w, int depth) {
  char pbuf[LX_MAX_DIMS * 12 + 16];
  if (depth == w->ndim) {
    if (lua_istable(L, -1) && !lxb_test_array(L, -1))
      lxb_error(L, w->fn, "ragged nested list: %s is a list, but the elements before it "
                "at that depth are not", path_str(w, depth, pbuf, sizeof pbuf));
    store_leaf(L, w, depth);
    return;
  }
  if (!lua_istable(L, -1) || lxb_test_array(L, -1))
    lxb_error(L, w->fn, "ragged nested list: expected a list of length %lld at %s, got %s",
              (long long)w->shape[depth], path_str(w, depth, pbuf, sizeof pbuf),
              lxb_test_array(L, -1) ? "an array" : luaL_typename(L, -1));
  size_t n = lxb_rawlen(L, -1);
  if ((int64_t)n != w->shape[depth])
    lxb_error(L, w->fn, "ragged nested list: %s has length %d, expected %lld", 
              path_str(w, depth, pbuf, sizeof pbuf), (int)n, (long long)w->shape[depth]);
  luaL_checkstack(L, 2, "nested list");
  for (size_t i = 1; i <= n; i++) {
    w->path[depth] = (int)i;
    lua_rawgeti(L, -1, (int)i);
    fill_from_list(L, w, depth + 1);
    lua_pop(L, 1);
  }
}

/* The dtype of the first leaf: booleans make bool arrays, numbers float32. */
static lx_dtype leaf_dtype(lua_State *L, int idx, const list_walk *w) {
  int top = lua_gettop(L);
  lua_pushvalue(L, idx);
  for (int d = 0; d < w->ndim; d++) lua_rawgeti(L, -1, 1);
  lx_dtype dt = lua_type(L, -1) == LUA_TBOOLEAN ? LX_BOOL : LX_FLOAT32;
  lua_settop(L, top);
  return dt;
}

/* Checks that every leaf has the first leaf's kind when no dtype is given:
** {1, true} is more likely a mistake than a wish for 0/1. */
static void check_leaf_kinds(lua_State *L, list_walk *w, int depth, int want_bool) {
  char pbuf[LX_MAX_DIMS * 12 + 16];
  if (depth == w->ndim) {
    int is_bool = lua_type(L, -1) == LUA_TBOOLEAN;
    if ((lua_type(L, -1) == LUA_TNUMBER || is_bool) && is_bool != want_bool)
      lxb_error(L, w->fn, "mixed booleans and numbers: %s is a %s, the first element a %s "
                "(pass a dtype to convert)", path_str(w, depth, pbuf, sizeof pbuf),
                is_bool ? "boolean" : "number", want_bool ? "boolean" : "number");
    return;
  }
  if (!lua_istable(L, -1)) return; /* fill_from_list reports it */
  size_t n = lxb_rawlen(L, -1);
  for (size_t i = 1; i <= n; i++) {
    w->path[depth] = (int)i;
    lua_rawgeti(L, -1, (int)i);
    check_leaf_kinds(L, w, depth + 1, want_bool);
    lua_pop(L, 1);
  }
}

lx_status lxb_array_from_lua(lua_State *L, int idx, int has_dtype, lx_dtype dtype,
                             lx_device *dev, lx_array **out) {
  idx = lxb_absindex(L, idx);
  lx_array *src = lxb_test_array(L, idx);
  if (src) {
    lx_array *moved;
    lx_status st = lx_array_to_device(src, dev, &moved);
    if (st != LX_OK) return st;
    if (!has_dtype) { *out = moved; return LX_OK; }
    st = lx_astype(moved, dtype, out);
    lx_array_release(moved);
    return st;
  }
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
    lx_dtype d = has_dtype ? dtype : (t == LUA_TBOOLEAN ? LX_BOOL : LX_FLOAT32);
    if (t == LUA_TBOOLEAN) return lx_scalar_int64(dev, d, lua_toboolean(L, idx), out);
    lxb_check_number_fits(L, idx, d, "lx.array", NULL);
    if (lxb_isinteger(L, idx)) return lx_scalar_int64(dev, d, (int64_t)lua_tointeger(L, idx), out);
    return lx_scalar(dev, d, lua_tonumber(L, idx), out);
  }
  list_walk w = {.fn = "lx.array"};
  if (t != LUA_TTABLE)
    lxb_error(L, w.fn, "expected a number, boolean, nested list or array, got %s",
              luaL_typename(L, idx));
  infer_shape(L, idx, &w);
  w.dtype = has_dtype ? dtype : leaf_dtype(L, idx, &w);
  if (!has_dtype) {
    lua_pushvalue(L, idx);
    check_leaf_kinds(L, &w, 0, w.dtype == LX_BOOL);
    lua_pop(L, 1);
  }
  size_t nbytes;
  lx_status st = lx_shape_check(w.fn, w.dtype, w.ndim, w.shape, NULL, &nbytes);
  if (st != LX_OK) return st;
  w.item = lx_dtype_size(w.dtype);
  /* The staging buffer is a userdata so that an error raised while
  ** walking the list cannot leak it. */
  w.data = lxb_newuserdata(L, nbytes ? nbytes : 1);
  lua_pushvalue(L, idx);
  fill_from_list(L, &w, 0);
  lua_pop(L, 1);
  st = lx_array_from_host(dev, w.dtype, w.ndim, w.shape, w.data, out);
  lua_pop(L, 1); /* staging buffer */
  return st;
}

/* ---------------------------------------------------------- tolist, item */

/*
** Elements become Lua values by value: integers on Lua 5.4, numbers on
** LuaJIT. A uint64 above 2^63-1 has no Lua integer of the same value, so it
** becomes the nearest float (18446744073709551615 -> 1.8446744073709552e19)
** rather than the negative integer of the same bits: a value that changes
** sign breaks comparisons and arithmetic silently, a rounded one does not.
** Exact bits: a:astype("int64") wraps, as NumPy's .view(np.int64).
*/
static void push_element(lua_State *L, lx_dtype dt, const char *p) {
  if (dt == LX_BOOL) lua_pushboolean(L, *p != 0);
  else if (dt == LX_UINT64 && lx_load_int64(dt, p) < 0) {
    lua_pushnumber(L, (lua_Number)lx_load_double(dt, p));
  } else if (lx_dtype_is_integer(dt)) {
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)lx_load_int64(dt, p));
#else
    lua_pushnumber(L, (lua_Number)lx_load_int64(dt, p));
#endif
  } else {
    lua_pushnumber(L, lx_load_double(dt, p));
  }
}

static void push_nested(lua_State *L, const lx_array *a, const char **p, int depth) {
  int ndim = lx_array_ndim(a);
  lx_dtype dt = lx_array_dtype(a);
  if (depth == ndim) {
    push_element(L, dt, *p);
    *p += lx_dtype_size(dt);
    return;
  }
  int64_t n = lx_array_shape(a)[depth];
  luaL_checkstack(L, 3, "tolist");
  lua_createtable(L, n < 1 << 26 ? (int)n : 0, 0);
  for (int64_t i = 0; i < n; i++) {
    push_nested(L, a, p, depth + 1);
    lua_rawseti(L, -2, (int)(i + 1));
  }
}

void lxb_push_tolist(lua_State *L, lx_array *a) {
  /* Lua lists are indexed by C ints here (lua_rawseti), and a broadcast
  ** view can have far more elements than memory could hold as a list. */
  if (lx_array_size(a) > INT_MAX)
    lxb_error(L, "tolist", "the array has %lld elements, too many for Lua lists",
              (long long)lx_array_size(a));
  size_t n = lx_array_nbytes(a);
  char *buf = lxb_newuserdata(L, n ? n : 1); /* freed by the GC even on error */
  if (lx_array_read(a, buf, n) != LX_OK) lxb_raise(L);
  const char *p = buf;
  push_nested(L, a, &p, 0);
  lua_remove(L, -2);
}

void lxb_push_item(lua_State *L, lx_array *a) {
  if (lx_array_size(a) != 1) {
    char sb[LX_MAX_DIMS * 21 + 3];
    size_t n = 0;
    sb[0] = 0;
    for (int i = 0; i < lx_array_ndim(a) && n < sizeof sb; i++)
      n += (size_t)snprintf(sb + n, sizeof sb - n, i ? ",%lld" : "%lld",
                            (long long)lx_array_shape(a)[i]);
    lxb_error(L, "item", "the array has shape {%s} (%lld elements); item needs exactly one",
              sb, (long long)lx_array_size(a));
  }
  char buf[8];
  if (lx_array_read(a, buf, lx_array_nbytes(a)) != LX_OK) lxb_raise(L);
  push_element(L, lx_array_dtype(a), buf);
}
