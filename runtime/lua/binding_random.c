/*
** binding_random.c — the C half of lx.random (lua/lunox/random.lua holds
** the API): keys, split, fold_in and the samplers that run on a backend.
** Each takes the key array first and, last, whether to use JAX's original
** (non-partitionable) scheme, which random.lua reads from lx.config.
*/
#include "binding_internal.h"

#include <math.h>

/* Runs `expr` (writing *slot) and returns the new array, raising the
** runtime's message (which names the function) on failure. */
#define RETURN_ARRAY(L, expr)                       \
  do {                                              \
    lx_array **slot = lxb_new_slot(L);              \
    if ((expr) != LX_OK) return lxb_raise(L);       \
    lxb_account_memory(L);                          \
    return 1;                                       \
  } while (0)

static lx_prng_scheme opt_scheme(lua_State *L, int idx) {
  return lua_toboolean(L, idx) ? LX_PRNG_ORIGINAL : LX_PRNG_PARTITIONABLE;
}

/* _random_key(seed [, device name]) */
static int l_key(lua_State *L) {
  int64_t seed = lxb_check_int(L, 1, "PRNGKey", "seed");
  lx_device *dev = lxb_default_device(L);
  if (!lua_isnoneornil(L, 2) &&
      lx_device_find(lxb_check_string(L, 2, "PRNGKey", "the device"), &dev) != LX_OK)
    return lxb_raise_in(L, "PRNGKey");
  RETURN_ARRAY(L, lx_random_key(dev, seed, slot));
}

/* _random_split(key, n, original) */
static int l_split(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "split");
  int64_t n = lxb_check_int(L, 2, "split", "the number of keys");
  RETURN_ARRAY(L, lx_random_split(key, n, opt_scheme(L, 3), slot));
}

/* _random_fold_in(key, data): data is taken modulo 2^32, as jnp.uint32. */
static int l_fold_in(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "fold_in");
  int64_t data = lxb_check_int(L, 2, "fold_in", "data");
  RETURN_ARRAY(L, lx_random_fold_in(key, (uint32_t)(uint64_t)data, slot));
}

/* _random_threefry(key, x0, x1) */
static int l_threefry(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "threefry");
  int64_t x0 = lxb_check_int(L, 2, "threefry", "x0"), x1 = lxb_check_int(L, 3, "threefry", "x1");
  if (x0 < 0 || x0 > 0xffffffffll || x1 < 0 || x1 > 0xffffffffll)
    return lxb_error(L, "threefry", "counters are uint32 values, got %lld and %lld",
                     (long long)x0, (long long)x1);
  RETURN_ARRAY(L, lx_random_threefry(key, (uint32_t)x0, (uint32_t)x1, slot));
}

/* _random_bits(key, shape, dtype, original) */
static int l_bits(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "bits");
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 2, "bits", shape);
  lx_dtype dtype = lxb_opt_dtype(L, 3, LX_UINT32, "bits");
  RETURN_ARRAY(L, lx_random_bits(key, ndim, shape, dtype, opt_scheme(L, 4), slot));
}

/* _random_uniform(key, shape, dtype, minval, maxval, original) */
static int l_uniform(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "uniform");
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 2, "uniform", shape);
  lx_dtype dtype = lxb_opt_dtype(L, 3, LX_FLOAT32, "uniform");
  double lo = luaL_checknumber(L, 4), hi = luaL_checknumber(L, 5);
  RETURN_ARRAY(L, lx_random_uniform(key, ndim, shape, dtype, lo, hi, opt_scheme(L, 6), slot));
}

/* _random_randint(key, shape, dtype, minval, maxval, original) */
static int l_randint(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "randint");
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 2, "randint", shape);
  lx_dtype dtype = lxb_opt_dtype(L, 3, LX_INT32, "randint");
  int64_t lo = lxb_check_int(L, 4, "randint", "minval");
  int64_t hi = lxb_check_int(L, 5, "randint", "maxval");
  RETURN_ARRAY(L, lx_random_randint(key, ndim, shape, dtype, lo, hi, opt_scheme(L, 6), slot));
}

/* _random_randint_arrays(key, shape, dtype, minval, maxval, original) */
static int l_randint_arrays(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "randint");
  int64_t shape[LX_MAX_DIMS];
  int ndim = lxb_check_shape(L, 2, "randint", shape);
  lx_dtype dtype = lxb_opt_dtype(L, 3, LX_INT32, "randint");
  lx_array *lo = lxb_check_array(L, 4, "randint"), *hi = lxb_check_array(L, 5, "randint");
  RETURN_ARRAY(L, lx_random_randint_arrays(key, ndim, shape, dtype, lo, hi, opt_scheme(L, 6),
                                           slot));
}

/* _random_permutation(key, n, dtype, original) */
static int l_permutation(lua_State *L) {
  lx_array *key = lxb_check_array(L, 1, "permutation");
  int64_t n = lxb_check_int(L, 2, "permutation", "n");
  lx_dtype dtype = lxb_opt_dtype(L, 3, LX_INT32, "permutation");
  RETURN_ARRAY(L, lx_random_permutation(key, n, dtype, opt_scheme(L, 4), slot));
}

/* The float dtype's value next to `x` (rounded to dtype first) toward
** `toward`, as a number: np.nextafter in that dtype. */
static double next_in_dtype(lx_dtype t, double x, double toward) {
  switch (t) {
    case LX_FLOAT32: return nextafterf((float)x, (float)toward);
    case LX_FLOAT64: return nextafter(x, toward);
    default: break;
  }
  /* float16 / bfloat16: step the 16-bit pattern. */
  uint16_t h = t == LX_FLOAT16 ? lx_double_to_half(x) : lx_float_to_bfloat16((float)x);
  double v = t == LX_FLOAT16 ? lx_half_to_float(h) : lx_bfloat16_to_float(h);
  if (isnan(v) || isnan(toward)) return NAN;
  if (v == toward) return toward;
  if (v == 0) h = (uint16_t)((toward > 0 ? 0x0000 : 0x8000) | 1);
  else if ((v < toward) == (v > 0)) h++;
  else h--;
  return t == LX_FLOAT16 ? lx_half_to_float(h) : lx_bfloat16_to_float(h);
}

/* _nextafter(x, toward, dtype) */
static int l_nextafter(lua_State *L) {
  double x = luaL_checknumber(L, 1), toward = luaL_checknumber(L, 2);
  lx_dtype t = lxb_opt_dtype(L, 3, LX_FLOAT32, "nextafter");
  if (!lx_dtype_is_float(t)) return lxb_error(L, "nextafter", "%s is not a float dtype",
                                             lx_dtype_name(t));
  lua_pushnumber(L, next_in_dtype(t, x, toward));
  return 1;
}

void lxb_register_random(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"_random_key", l_key},       {"_random_split", l_split},
    {"_random_fold_in", l_fold_in}, {"_random_threefry", l_threefry}, {"_random_bits", l_bits},
    {"_random_uniform", l_uniform}, {"_random_randint", l_randint},
    {"_random_randint_arrays", l_randint_arrays},
    {"_random_permutation", l_permutation}, {"_nextafter", l_nextafter},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
