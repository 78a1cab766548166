/*
** binding_conv.c — lx.conv(x, w [, opts]): lax.conv_general_dilated's
** options as a Lua table, turned into lx_conv's per-axis arrays.
**
** opts (every field optional; see docs/arrays.md):
**   stride, lhs_dilation, rhs_dilation  a number (every spatial axis) or a
**                                       list with one number per axis
**   padding   a number p (p on both sides of every axis), a list of
**             numbers (per axis, both sides), a list of {lo, hi} pairs, or
**             "VALID", "SAME", "SAME_LOWER" (lax's padding strings)
**   groups    lax's feature_group_count (default 1)
*/
#include "binding_internal.h"

#include <stdio.h>
#include <string.h>

#define FN "conv"

/* opts[field]: nil (all `dflt`), a number, or a list of ns numbers. */
static void per_axis(lua_State *L, int opts, const char *field, int ns, int64_t dflt,
                     int64_t *out) {
  for (int i = 0; i < ns; i++) out[i] = dflt;
  if (!opts) return;
  lua_getfield(L, opts, field);
  int idx = lua_gettop(L);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int64_t v = lxb_check_int(L, idx, FN, field);
    for (int i = 0; i < ns; i++) out[i] = v;
  } else if (lua_istable(L, idx)) {
    int n = (int)lxb_rawlen(L, idx);
    if (n != ns)
      lxb_error(L, FN, "%s has %d entries for %d spatial axes", field, n, ns);
    for (int i = 0; i < ns; i++) {
      char what[64];
      lua_rawgeti(L, idx, i + 1);
      snprintf(what, sizeof what, "%s[%d]", field, i + 1);
      out[i] = lxb_check_int(L, -1, FN, what);
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, idx)) {
    lxb_error(L, FN, "%s must be a number or a list of numbers, got %s", field,
              luaL_typename(L, idx));
  }
  lua_pop(L, 1);
}

/* lax.padtype_to_pads: "SAME" keeps ceil(in / stride) outputs, the odd
** element of padding going after ("SAME") or before ("SAME_LOWER"). The
** input is measured after lhs dilation, the kernel after rhs dilation. */
static void padding_string(lua_State *L, const char *mode, lx_array *x, lx_array *w, int ns,
                           const int64_t *stride, const int64_t *lhs, const int64_t *rhs,
                           int64_t *lo, int64_t *hi) {
  bool valid = strcmp(mode, "VALID") == 0, lower = strcmp(mode, "SAME_LOWER") == 0;
  if (!valid && !lower && strcmp(mode, "SAME") != 0)
    lxb_error(L, FN, "padding must be \"VALID\", \"SAME\" or \"SAME_LOWER\", got \"%s\"", mode);
  const int64_t *xs = lx_array_shape(x), *ws = lx_array_shape(w);
  for (int i = 0; i < ns; i++) {
    lo[i] = hi[i] = 0;
    if (valid) continue;
    /* Values out of range are refused by lx_conv: only keep the arithmetic
    ** meaningful here. */
    if (stride[i] < 1 || lhs[i] < 1 || rhs[i] < 1 || ws[2 + i] < 1) continue;
    int64_t in = xs[2 + i] > 0 ? (xs[2 + i] - 1) * lhs[i] + 1 : 0;
    int64_t window = (ws[2 + i] - 1) * rhs[i] + 1;
    int64_t outs = (in + stride[i] - 1) / stride[i];
    int64_t pad = (outs - 1) * stride[i] + window - in;
    if (pad < 0) pad = 0;
    lo[i] = lower ? pad - pad / 2 : pad / 2;
    hi[i] = pad - lo[i];
  }
}

static void padding_table(lua_State *L, int idx, int ns, int64_t *lo, int64_t *hi) {
  int n = (int)lxb_rawlen(L, idx);
  if (n != ns)
    lxb_error(L, FN, "padding has %d entries for %d spatial axes", n, ns);
  for (int i = 0; i < ns; i++) {
    lua_rawgeti(L, idx, i + 1);
    int e = lua_gettop(L);
    char what[64];
    if (lua_type(L, e) == LUA_TNUMBER) {
      snprintf(what, sizeof what, "padding[%d]", i + 1);
      lo[i] = hi[i] = lxb_check_int(L, e, FN, what);
    } else if (lua_istable(L, e) && lxb_rawlen(L, e) == 2) {
      lua_rawgeti(L, e, 1);
      snprintf(what, sizeof what, "padding[%d][1]", i + 1);
      lo[i] = lxb_check_int(L, -1, FN, what);
      lua_rawgeti(L, e, 2);
      snprintf(what, sizeof what, "padding[%d][2]", i + 1);
      hi[i] = lxb_check_int(L, -1, FN, what);
      lua_pop(L, 2);
    } else {
      lxb_error(L, FN, "padding[%d] must be a number or a {lo, hi} pair, got %s", i + 1,
                lua_istable(L, e) ? "a table that is not a pair" : luaL_typename(L, e));
    }
    lua_pop(L, 1);
  }
}

static const char *const known_options[] = {"stride", "padding", "lhs_dilation",
                                            "rhs_dilation", "groups", NULL};

static void check_option_names(lua_State *L, int opts) {
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    bool ok = false;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (int i = 0; known_options[i] && !ok; i++) ok = strcmp(k, known_options[i]) == 0;
    }
    if (!ok) {
      lua_pushvalue(L, -2);
      const char *k = lxb_tolstring(L, -1, NULL);
      lxb_error(L, FN, "unknown option '%s' (expected stride, padding, lhs_dilation, "
                "rhs_dilation, groups)", k ? k : "?");
    }
    lua_pop(L, 1);
  }
}

int lxb_l_conv(lua_State *L) {
  lua_settop(L, 3);
  lx_array *x = lxb_to_array(L, 1, FN);
  lx_array *w = lxb_to_array(L, 2, FN);
  int opts = 0;
  if (lua_istable(L, 3)) opts = 3;
  else if (!lua_isnil(L, 3))
    return lxb_error(L, FN, "options must be a table, got %s", luaL_typename(L, 3));
  if (opts) check_option_names(L, opts);
  int ns = lx_array_ndim(w) - 2;
  if (ns < 1) {
    char buf[64];
    lx_array_short_repr(w, buf, sizeof buf);
    return lxb_error(L, FN, "the weight must have shape {C_out, C_in/groups, kernel...} with "
                     "at least one kernel axis, got %s", buf);
  }
  int64_t stride[LX_MAX_DIMS], lhs[LX_MAX_DIMS], rhs[LX_MAX_DIMS];
  int64_t lo[LX_MAX_DIMS], hi[LX_MAX_DIMS], groups = 1;
  per_axis(L, opts, "stride", ns, 1, stride);
  per_axis(L, opts, "lhs_dilation", ns, 1, lhs);
  per_axis(L, opts, "rhs_dilation", ns, 1, rhs);
  for (int i = 0; i < ns; i++) lo[i] = hi[i] = 0;
  if (opts) {
    lua_getfield(L, opts, "padding");
    int p = lua_gettop(L);
    if (lua_type(L, p) == LUA_TSTRING) {
      /* lx_conv checks ranks; the string needs the spatial sizes first. */
      if (lx_array_ndim(x) == ns + 2)
        padding_string(L, lua_tostring(L, p), x, w, ns, stride, lhs, rhs, lo, hi);
    } else if (lua_type(L, p) == LUA_TNUMBER) {
      int64_t v = lxb_check_int(L, p, FN, "padding");
      for (int i = 0; i < ns; i++) lo[i] = hi[i] = v;
    } else if (lua_istable(L, p)) {
      padding_table(L, p, ns, lo, hi);
    } else if (!lua_isnil(L, p)) {
      return lxb_error(L, FN, "padding must be a number, a list, or \"VALID\"/\"SAME\"/"
                       "\"SAME_LOWER\", got %s", luaL_typename(L, p));
    }
    lua_pop(L, 1);
    lua_getfield(L, opts, "groups");
    if (!lua_isnil(L, -1)) groups = lxb_check_int(L, -1, FN, "groups");
    lua_pop(L, 1);
  }
  lx_array **slot = lxb_new_slot(L);
  if (lx_conv(x, w, ns, stride, lo, hi, lhs, rhs, groups, slot) != LX_OK)
    return lxb_raise_in(L, FN);
  lxb_account_memory(L);
  return 1;
}
