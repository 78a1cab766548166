/*
** binding_ops.c — the lx.* array functions: constructors, elementwise ops,
** reductions, matmul and shape ops. Each converts Lua arguments (1-based
** axes, Lua lists) and calls one runtime function.
*/
#include "binding_internal.h"

#include <math.h>
#include <string.h>

#define LXB_METHODS_KEY "lunox.array.methods"

/* Runs `expr` (a runtime call writing *slot) and returns the new array;
** a failure is raised as an error of `fn`. */
#define RETURN_ARRAY(L, fn, expr)                     \
  do {                                                \
    lx_array **slot = lxb_new_slot(L);                \
    if ((expr) != LX_OK) return lxb_raise_in(L, fn);  \
    lxb_account_memory(L);                            \
    return 1;                                         \
  } while (0)

/* ---------------------------------------------------------- constructors */

/* A trailing dtype string, or an options table {dtype=, device=}. */
typedef struct creation_opts {
  int has_dtype;
  lx_dtype dtype;
  lx_device *device;
} creation_opts;

static creation_opts opt_creation(lua_State *L, int idx, const char *fn) {
  creation_opts o = {0, LX_FLOAT32, NULL};
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "dtype");
    o.has_dtype = !lua_isnil(L, -1);
    o.dtype = lxb_opt_dtype(L, -1, LX_FLOAT32, fn);
    lua_getfield(L, idx, "device");
    if (!lua_isnil(L, -1)) {
      if (lx_device_find(lxb_check_string(L, -1, fn, "the device"), &o.device) != LX_OK)
        lxb_raise_in(L, fn);
    }
    lua_pop(L, 2);
  } else {
    o.has_dtype = !lua_isnoneornil(L, idx);
    o.dtype = lxb_opt_dtype(L, idx, LX_FLOAT32, fn);
  }
  if (!o.device) o.device = lxb_default_device(L);
  return o;
}

static int l_array(lua_State *L) {
  if (lua_isnone(L, 1))
    return lxb_error(L, "lx.array", "expected a number, boolean, nested list or array, got "
                     "no value");
  creation_opts o = opt_creation(L, 2, "lx.array");
  RETURN_ARRAY(L, "lx.array", lxb_array_from_lua(L, 1, o.has_dtype, o.dtype, o.device, slot));
}

static int fill(lua_State *L, const char *fn, int value_idx, double value) {
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 1, fn, shape);
  creation_opts o = opt_creation(L, value_idx ? value_idx + 1 : 2, fn);
  if (lx_shape_check(fn, o.dtype, ndim, shape, NULL, NULL) != LX_OK) return lxb_raise(L);
  if (value_idx) {
    if (lua_type(L, value_idx) == LUA_TBOOLEAN) value = lua_toboolean(L, value_idx);
    else if (lua_type(L, value_idx) == LUA_TNUMBER) value = lua_tonumber(L, value_idx);
    else return lxb_error(L, fn, "the fill value must be a number or boolean, got %s",
                          luaL_typename(L, value_idx));
    lxb_check_number_fits(L, value_idx, o.dtype, fn, NULL);
    /* Exact for Lua 5.4 integers into int64 arrays. */
    if (lxb_isinteger(L, value_idx) && lx_dtype_is_integer(o.dtype))
      RETURN_ARRAY(L, fn, lx_full_int64(o.device, o.dtype, ndim, shape,
                                        (int64_t)lua_tointeger(L, value_idx), slot));
  }
  RETURN_ARRAY(L, fn, lx_full(o.device, o.dtype, ndim, shape, value, slot));
}

static int l_zeros(lua_State *L) { return fill(L, "zeros", 0, 0.0); }
static int l_ones(lua_State *L) { return fill(L, "ones", 0, 1.0); }
static int l_full(lua_State *L) { return fill(L, "full", 2, 0.0); }

/* arange(n [, dtype]) or arange(start, stop [, step [, dtype]]). */
static int l_arange(lua_State *L) {
  double start = 0, stop, step = 1;
  int nnum = 0;
  while (nnum < 3 && lua_type(L, nnum + 1) == LUA_TNUMBER) nnum++;
  if (nnum == 0) return lxb_error(L, "arange", "expected numbers, got %s", luaL_typename(L, 1));
  if (nnum == 1) stop = lua_tonumber(L, 1);
  else {
    start = lua_tonumber(L, 1);
    stop = lua_tonumber(L, 2);
    if (nnum == 3) step = lua_tonumber(L, 3);
  }
  creation_opts o = opt_creation(L, nnum + 1, "arange");
  RETURN_ARRAY(L, "arange", lx_arange(o.device, start, stop, step, o.dtype, slot));
}

/* ------------------------------------------------------------ elementwise */

static int unary(lua_State *L, lx_unary_op op) {
  lx_array *a = lxb_to_array(L, 1, lx_unary_op_name(op));
  RETURN_ARRAY(L, lx_unary_op_name(op), lx_unary(op, a, slot));
}

#define UNARY_FN(name, op) \
  static int l_##name(lua_State *L) { return unary(L, op); }
UNARY_FN(neg, LX_NEG)
UNARY_FN(exp, LX_EXP)
UNARY_FN(log, LX_LOG)
UNARY_FN(sqrt, LX_SQRT)
UNARY_FN(abs, LX_ABS)
UNARY_FN(tanh, LX_TANH)
UNARY_FN(sin, LX_SIN)
UNARY_FN(cos, LX_COS)
UNARY_FN(sigmoid, LX_SIGMOID)
UNARY_FN(logical_not, LX_LOGICAL_NOT)
UNARY_FN(erf, LX_ERF)
UNARY_FN(erf_inv, LX_ERF_INV)

lx_status lxb_binary_number(lua_State *L, lx_binary_op op, lx_array *a, int idx,
                            int scalar_first, lx_array **out) {
  lx_dtype d = lx_array_dtype(a);
  /* lx_binary_scalar takes a double, which holds integers exactly only up
  ** to 2^53: a Lua 5.4 integer beside an integer array goes in as an int64
  ** scalar of the array's dtype, which is what the weak rule gives it. */
  if (lxb_isinteger(L, idx) && lx_dtype_is_integer(d)) {
    int64_t v = (int64_t)lua_tointeger(L, idx);
    if (!lx_dtype_holds_int64(d, v))
      return lx_set_error(LX_ERR_ARGUMENT, "%s: the number %lld does not fit the array's "
                          "dtype %s", lx_binary_op_name(op), (long long)v, lx_dtype_name(d));
    lx_array *s = NULL;
    lx_status st = lx_scalar_int64(lx_array_device(a), d, v, &s);
    if (st == LX_OK) st = scalar_first ? lx_binary(op, s, a, out) : lx_binary(op, a, s, out);
    lx_array_release(s);
    return st;
  }
  return lx_binary_scalar(op, a, lua_tonumber(L, idx), scalar_first != 0, out);
}

/* Numbers are weakly typed scalars (see lx_binary_scalar). */
static int binary(lua_State *L, lx_binary_op op) {
  const char *fn = lx_binary_op_name(op);
  lx_array *x = lxb_test_array(L, 1), *y = lxb_test_array(L, 2);
  if (x && lua_type(L, 2) == LUA_TNUMBER)
    RETURN_ARRAY(L, fn, lxb_binary_number(L, op, x, 2, 0, slot));
  if (y && lua_type(L, 1) == LUA_TNUMBER)
    RETURN_ARRAY(L, fn, lxb_binary_number(L, op, y, 1, 1, slot));
  x = lxb_to_array(L, 1, fn);
  y = lxb_to_array(L, 2, fn);
  RETURN_ARRAY(L, fn, lx_binary(op, x, y, slot));
}

#define BINARY_FN(name, op) \
  static int l_##name(lua_State *L) { return binary(L, op); }
BINARY_FN(add, LX_ADD)
BINARY_FN(sub, LX_SUB)
BINARY_FN(mul, LX_MUL)
BINARY_FN(div, LX_DIV)
BINARY_FN(pow, LX_POW)
BINARY_FN(maximum, LX_MAXIMUM)
BINARY_FN(minimum, LX_MINIMUM)
BINARY_FN(eq, LX_EQ)
BINARY_FN(ne, LX_NE)
BINARY_FN(lt, LX_LT)
BINARY_FN(le, LX_LE)
BINARY_FN(gt, LX_GT)
BINARY_FN(ge, LX_GE)

/* A number beside an array takes the array's dtype (weak typing), or
** float32 when it is fractional and the array is not floating point. */
static void weak_operand(lua_State *L, int idx, const lx_array *other, const char *fn) {
  if (lua_type(L, idx) != LUA_TNUMBER || !other) {
    lxb_to_array(L, idx, fn);
    return;
  }
  double v = lua_tonumber(L, idx);
  lx_dtype d = lx_array_dtype(other);
  if (!lx_dtype_is_float(d) && v != floor(v)) d = LX_FLOAT32;
  /* No silent saturation or wrapping (as the arithmetic ops), both hosts. */
  lxb_check_number_fits(L, idx, d, fn, NULL);
  lx_array **slot = lxb_new_slot(L);
  if (lxb_isinteger(L, idx) && lx_dtype_is_integer(d)) {
    /* Exact beyond 2^53. */
    if (lx_scalar_int64(lx_array_device(other), d, (int64_t)lua_tointeger(L, idx), slot) != LX_OK)
      lxb_raise_in(L, fn);
  } else if (lx_scalar(lx_array_device(other), d, v, slot) != LX_OK) {
    lxb_raise_in(L, fn);
  }
  lua_replace(L, idx);
}

static int l_where(lua_State *L) {
  lx_array *c = lxb_to_array(L, 1, "where");
  lx_array *x = lxb_test_array(L, 2), *y = lxb_test_array(L, 3);
  weak_operand(L, 2, y, "where");
  x = lxb_test_array(L, 2);
  weak_operand(L, 3, x, "where");
  y = lxb_test_array(L, 3);
  RETURN_ARRAY(L, "where", lx_where(c, x, y, slot));
}

static int l_astype(lua_State *L) {
  lx_array *a = lxb_to_array(L, 1, "astype");
  if (lua_isnoneornil(L, 2)) return lxb_error(L, "astype", "missing dtype");
  lx_dtype d = lxb_opt_dtype(L, 2, LX_FLOAT32, "astype");
  RETURN_ARRAY(L, "astype", lx_astype(a, d, slot));
}

/* ------------------------------------------------------------ reductions */

/* axis: nil (all), an integer, or a list of integers. */
static uint64_t axes_mask(lua_State *L, int idx, int ndim, const char *fn) {
  if (lua_isnoneornil(L, idx)) return 0;
  if (lua_istable(L, idx)) {
    uint64_t mask = 0;
    size_t n = lxb_rawlen(L, idx);
    if (n == 0) return 0;
    for (size_t i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (int)i);
      int ax = lxb_axis(L, -1, ndim, fn);
      lua_pop(L, 1);
      if (mask & (1ull << ax)) lxb_error(L, fn, "axis %d is repeated", ax + 1);
      mask |= 1ull << ax;
    }
    return mask;
  }
  return 1ull << lxb_axis(L, idx, ndim, fn);
}

static int reduce(lua_State *L, lx_reduce_op op) {
  const char *fn = lx_reduce_op_name(op);
  lx_array *a = lxb_to_array(L, 1, fn);
  if (lx_array_ndim(a) == 0 && !lua_isnoneornil(L, 2))
    return lxb_error(L, fn, "a 0-d array has no axes");
  uint64_t mask = axes_mask(L, 2, lx_array_ndim(a), fn);
  int keepdims = lua_toboolean(L, 3);
  if (op != LX_ARGMAX && op != LX_ARGMIN)
    RETURN_ARRAY(L, fn, lx_reduce(op, a, mask, keepdims, slot));
  /* Indices are 1-based in Lua. */
  lx_array *r = NULL;
  if (lx_reduce(op, a, mask, keepdims, &r) != LX_OK) return lxb_raise_in(L, fn);
  lx_array **slot = lxb_new_slot(L);
  lx_status st = lx_binary_scalar(LX_ADD, r, 1, false, slot);
  lx_array_release(r);
  if (st != LX_OK) return lxb_raise_in(L, fn);
  return 1;
}

#define REDUCE_FN(name, op) \
  static int l_##name(lua_State *L) { return reduce(L, op); }
REDUCE_FN(sum, LX_SUM)
REDUCE_FN(mean, LX_MEAN)
REDUCE_FN(max, LX_MAX)
REDUCE_FN(min, LX_MIN)
REDUCE_FN(argmax, LX_ARGMAX)
REDUCE_FN(argmin, LX_ARGMIN)

/* ---------------------------------------------------------- linear algebra */

static int matmul(lua_State *L, const char *fn) {
  lx_array *a = lxb_to_array(L, 1, fn);
  lx_array *b = lxb_to_array(L, 2, fn);
  RETURN_ARRAY(L, "matmul", lx_matmul(a, b, slot));
}

/* Two C functions, so that tracebacks name the one the user called. */
static int l_matmul(lua_State *L) { return matmul(L, "matmul"); }
static int l_dot(lua_State *L) { return matmul(L, "dot"); }

/* ------------------------------------------------------------- shape ops */

/* a:reshape({2, 3}) or a:reshape(2, 3), as Torch's view. */
static int l_reshape(lua_State *L) {
  lx_array *a = lxb_to_array(L, 1, "reshape");
  int64_t shape[LX_MAX_DIMS];
  int ndim;
  if (lua_type(L, 2) == LUA_TNUMBER && lua_gettop(L) > 2) {
    ndim = lua_gettop(L) - 1;
    if (ndim > LX_MAX_DIMS) return lxb_error(L, "reshape", "too many dimensions");
    for (int i = 0; i < ndim; i++) shape[i] = lxb_check_int(L, i + 2, "reshape", "shape entry");
  } else {
    ndim = lxb_check_shape(L, 2, "reshape", shape);
  }
  RETURN_ARRAY(L, "reshape", lx_reshape(a, ndim, shape, slot));
}

static int l_transpose(lua_State *L) {
  lx_array *a = lxb_to_array(L, 1, "transpose");
  int ndim = lx_array_ndim(a);
  if (lua_isnoneornil(L, 2)) RETURN_ARRAY(L, "transpose", lx_transpose(a, NULL, slot));
  if (!lua_istable(L, 2))
    return lxb_error(L, "transpose", "the permutation must be a list of axes such as {2, 1}, "
                     "got %s", luaL_typename(L, 2));
  int perm[LX_MAX_DIMS];
  if ((int)lxb_rawlen(L, 2) != ndim)
    return lxb_error(L, "transpose", "the permutation has %d entries for an array of %d "
                     "dimensions", (int)lxb_rawlen(L, 2), ndim);
  for (int i = 0; i < ndim; i++) {
    lua_rawgeti(L, 2, i + 1);
    perm[i] = lxb_axis(L, -1, ndim, "transpose");
    lua_pop(L, 1);
  }
  RETURN_ARRAY(L, "transpose", lx_transpose(a, perm, slot));
}

/* Converts list entries to arrays kept on the stack; returns the count. */
static int collect_arrays(lua_State *L, int list, const char *fn, lx_array **out) {
  if (!lua_istable(L, list) || lxb_test_array(L, list))
    lxb_error(L, fn, "expected a list of arrays, got %s", luaL_typename(L, list));
  int n = (int)lxb_rawlen(L, list);
  if (n == 0) lxb_error(L, fn, "needs at least one array");
  luaL_checkstack(L, n + 4, fn);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    out[i - 1] = lxb_to_array(L, -1, fn);
  }
  return n;
}

static int join(lua_State *L, int stack) {
  const char *fn = stack ? "stack" : "concatenate";
  /* Pin the axis at index 2 (nil when absent): the scratch userdata pushed
  ** below must not land there and be read as the axis. */
  lua_settop(L, 2);
  int n = (int)(lua_istable(L, 1) ? lxb_rawlen(L, 1) : 0);
  lx_array **arrays = lxb_newuserdata(L, sizeof(lx_array *) * (size_t)(n ? n : 1));
  int base = lua_gettop(L);
  n = collect_arrays(L, 1, fn, arrays);
  int ndim = lx_array_ndim(arrays[0]) + (stack ? 1 : 0);
  int axis = 0;
  if (!lua_isnoneornil(L, 2)) {
    if (ndim == 0) return lxb_error(L, fn, "cannot concatenate 0-d arrays (use stack)");
    axis = lxb_axis(L, 2, ndim, fn);
  }
  (void)base;
  if (stack) RETURN_ARRAY(L, fn, lx_stack(n, arrays, axis, slot));
  RETURN_ARRAY(L, fn, lx_concatenate(n, arrays, axis, slot));
}

static int l_concatenate(lua_State *L) { return join(L, 0); }
static int l_stack(lua_State *L) { return join(L, 1); }

static int l_broadcast_to(lua_State *L) {
  lx_array *a = lxb_to_array(L, 1, "broadcast_to");
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 2, "broadcast_to", shape);
  RETURN_ARRAY(L, "broadcast_to", lx_broadcast_to(a, ndim, shape, slot));
}

static int l_is_array(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, "lunox.array") != NULL);
  return 1;
}

void lxb_register_ops(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"array", l_array}, {"zeros", l_zeros}, {"ones", l_ones}, {"full", l_full},
    {"arange", l_arange},
    {"neg", l_neg}, {"exp", l_exp}, {"log", l_log}, {"sqrt", l_sqrt}, {"abs", l_abs},
    {"tanh", l_tanh}, {"sin", l_sin}, {"cos", l_cos}, {"sigmoid", l_sigmoid},
    {"logical_not", l_logical_not}, {"erf", l_erf}, {"erf_inv", l_erf_inv},
    {"add", l_add}, {"sub", l_sub}, {"mul", l_mul}, {"div", l_div}, {"pow", l_pow},
    {"maximum", l_maximum}, {"minimum", l_minimum},
    {"eq", l_eq}, {"ne", l_ne}, {"lt", l_lt}, {"le", l_le}, {"gt", l_gt}, {"ge", l_ge},
    {"where", l_where}, {"astype", l_astype},
    {"sum", l_sum}, {"mean", l_mean}, {"max", l_max}, {"min", l_min},
    {"argmax", l_argmax}, {"argmin", l_argmin},
    {"matmul", l_matmul}, {"dot", l_dot},
    {"reshape", l_reshape}, {"transpose", l_transpose}, {"broadcast_to", l_broadcast_to},
    {"concatenate", l_concatenate}, {"stack", l_stack},
    {"is_array", l_is_array},
    {"conv", lxb_l_conv},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
  /* The ops that take an array first are methods too: a:sum(1), a:exp(). */
  static const char *const methods[] = {
    "astype", "reshape", "transpose", "broadcast_to", "sum", "mean", "max", "min",
    "argmax", "argmin", "exp", "log", "sqrt", "abs", "tanh", "sin", "cos", "sigmoid",
    "neg", "logical_not", "erf", "erf_inv", "matmul", "dot", "add", "sub", "mul", "div", "pow", "maximum",
    "minimum", "eq", "ne", "lt", "le", "gt", "ge", NULL};
  lua_getfield(L, LUA_REGISTRYINDEX, LXB_METHODS_KEY);
  for (int i = 0; methods[i]; i++) {
    lua_getfield(L, -2, methods[i]);
    lua_setfield(L, -2, methods[i]);
  }
  lua_pop(L, 1);
}
