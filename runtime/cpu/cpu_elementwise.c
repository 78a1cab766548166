/*
** cpu_elementwise.c — unary, binary, where, dtype conversion and fill
** loops for the CPU backend.
**
** Loops are generated per dtype from one expression each (X-macros), with a
** contiguous path (plain indexed loops over restrict pointers, which the
** compiler vectorises at -O3), scalar-operand paths for broadcasts, and a
** strided path. 16-bit floats compute in float32 and round back, as XLA's
** CPU backend and ml_dtypes do. Integer arithmetic wraps through unsigned
** types so that overflow is defined.
*/
#include "cpu_iter.h"
#include "cpu_kernels.h"
#include "half.h"
#include "cpu_special.h"

#include <math.h>
#include <string.h>

/* --------------------------------------------------- dtype descriptions */

/* X(name, storage type, compute type, load, store, math suffix) */
#define ID(v) (v)
#define MF_f(fn) fn##f
#define MF_d(fn) fn
#define FLOAT_TYPES(X)                                  \
  X(f32, float, float, ID, ID, MF_f)                    \
  X(f64, double, double, ID, ID, MF_d)                  \
  X(f16, uint16_t, float, lx__h2f, lx__f2h, MF_f)       \
  X(bf16, uint16_t, float, lx__bf2f, lx__f2bf, MF_f)

/* X(name, storage type, unsigned type to compute in: the same width, or
** for uint16 one that does not promote to int, whose products overflow) */
#define INT_TYPES(X)              \
  X(i32, int32_t, uint32_t)       \
  X(i64, int64_t, uint64_t)       \
  X(u8, uint8_t, uint8_t)         \
  X(u32, uint32_t, uint32_t)      \
  X(u16, uint16_t, uint32_t)      \
  X(u64, uint64_t, uint64_t)

static int dtype_slot(lx_dtype d) { return (int)d; } /* tables are indexed by lx_dtype */

/* ------------------------------------------------------ loop generators */

#define BINARY_LOOP(NAME, T, CT, LOAD, OT, STORE, EXPR)                                  \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    (void)ctx;                                                                           \
    const int64_t to = (int64_t)sizeof(OT), ti = (int64_t)sizeof(T);                     \
    if (s[0] == to && s[1] == ti && s[2] == ti) {                                        \
      OT *restrict o = (OT *)p[0];                                                       \
      const T *restrict a = (const T *)p[1], *restrict b = (const T *)p[2];              \
      for (int64_t i = 0; i < n; i++) {                                                  \
        CT x = LOAD(a[i]), y = LOAD(b[i]);                                               \
        o[i] = STORE(EXPR);                                                              \
      }                                                                                  \
    } else if (s[0] == to && s[1] == ti && s[2] == 0) {                                  \
      OT *restrict o = (OT *)p[0];                                                       \
      const T *restrict a = (const T *)p[1];                                             \
      const CT y = LOAD(*(const T *)p[2]);                                               \
      for (int64_t i = 0; i < n; i++) {                                                  \
        CT x = LOAD(a[i]);                                                               \
        o[i] = STORE(EXPR);                                                              \
      }                                                                                  \
    } else if (s[0] == to && s[1] == 0 && s[2] == ti) {                                  \
      OT *restrict o = (OT *)p[0];                                                       \
      const T *restrict b = (const T *)p[2];                                             \
      const CT x = LOAD(*(const T *)p[1]);                                               \
      for (int64_t i = 0; i < n; i++) {                                                  \
        CT y = LOAD(b[i]);                                                               \
        o[i] = STORE(EXPR);                                                              \
      }                                                                                  \
    } else {                                                                             \
      char *po = p[0];                                                                   \
      const char *pa = p[1], *pb = p[2];                                                 \
      for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {              \
        CT x = LOAD(*(const T *)pa), y = LOAD(*(const T *)pb);                           \
        *(OT *)po = STORE(EXPR);                                                         \
      }                                                                                  \
    }                                                                                    \
  }

#define UNARY_LOOP(NAME, T, CT, LOAD, OT, STORE, EXPR)                                   \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    (void)ctx;                                                                           \
    if (s[0] == (int64_t)sizeof(OT) && s[1] == (int64_t)sizeof(T)) {                     \
      OT *restrict o = (OT *)p[0];                                                       \
      const T *restrict a = (const T *)p[1];                                             \
      for (int64_t i = 0; i < n; i++) {                                                  \
        CT x = LOAD(a[i]);                                                               \
        o[i] = STORE(EXPR);                                                              \
      }                                                                                  \
    } else {                                                                             \
      char *po = p[0];                                                                   \
      const char *pa = p[1];                                                             \
      for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                          \
        CT x = LOAD(*(const T *)pa);                                                     \
        *(OT *)po = STORE(EXPR);                                                         \
      }                                                                                  \
    }                                                                                    \
  }

#define TO_BOOL(v) ((uint8_t)((v) ? 1 : 0))

/* ------------------------------------------------------- float kernels */

/* NaN-propagating maximum/minimum, as NumPy and JAX. */
#define FMAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define FMIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))

/* A sigmoid that neither overflows nor loses precision for large |x|. */
#define SIGMOID(M, x) ((x) >= 0 ? 1 / (1 + M(exp)(-(x))) : M(exp)(x) / (1 + M(exp)(x)))
#define DEF_FLOAT_OPS(name, T, CT, LOAD, STORE, M)                                       \
  BINARY_LOOP(bin_add_##name, T, CT, LOAD, T, STORE, x + y)                              \
  BINARY_LOOP(bin_sub_##name, T, CT, LOAD, T, STORE, x - y)                              \
  BINARY_LOOP(bin_mul_##name, T, CT, LOAD, T, STORE, x * y)                              \
  BINARY_LOOP(bin_div_##name, T, CT, LOAD, T, STORE, x / y)                              \
  BINARY_LOOP(bin_pow_##name, T, CT, LOAD, T, STORE, M(pow)(x, y))                       \
  BINARY_LOOP(bin_maximum_##name, T, CT, LOAD, T, STORE, FMAX(x, y))                     \
  BINARY_LOOP(bin_minimum_##name, T, CT, LOAD, T, STORE, FMIN(x, y))                     \
  BINARY_LOOP(bin_eq_##name, T, CT, LOAD, uint8_t, TO_BOOL, x == y)                      \
  BINARY_LOOP(bin_ne_##name, T, CT, LOAD, uint8_t, TO_BOOL, x != y)                      \
  BINARY_LOOP(bin_lt_##name, T, CT, LOAD, uint8_t, TO_BOOL, x < y)                       \
  BINARY_LOOP(bin_le_##name, T, CT, LOAD, uint8_t, TO_BOOL, x <= y)                      \
  BINARY_LOOP(bin_gt_##name, T, CT, LOAD, uint8_t, TO_BOOL, x > y)                       \
  BINARY_LOOP(bin_ge_##name, T, CT, LOAD, uint8_t, TO_BOOL, x >= y)                      \
  UNARY_LOOP(un_neg_##name, T, CT, LOAD, T, STORE, -x)                                   \
  UNARY_LOOP(un_exp_##name, T, CT, LOAD, T, STORE, M(exp)(x))                            \
  UNARY_LOOP(un_log_##name, T, CT, LOAD, T, STORE, M(log)(x))                            \
  UNARY_LOOP(un_sqrt_##name, T, CT, LOAD, T, STORE, M(sqrt)(x))                          \
  UNARY_LOOP(un_abs_##name, T, CT, LOAD, T, STORE, M(fabs)(x))                           \
  UNARY_LOOP(un_tanh_##name, T, CT, LOAD, T, STORE, M(tanh)(x))                          \
  UNARY_LOOP(un_sin_##name, T, CT, LOAD, T, STORE, M(sin)(x))                            \
  UNARY_LOOP(un_cos_##name, T, CT, LOAD, T, STORE, M(cos)(x))                            \
  UNARY_LOOP(un_sigmoid_##name, T, CT, LOAD, T, STORE, SIGMOID(M, x))                    \
  UNARY_LOOP(un_logical_not_##name, T, CT, LOAD, uint8_t, TO_BOOL, x == 0)                \
  UNARY_LOOP(un_erf_##name, T, CT, LOAD, T, STORE, M(lx_erf)(x))                        \
  UNARY_LOOP(un_erf_inv_##name, T, CT, LOAD, T, STORE, M(lx_erf_inv)(x))

FLOAT_TYPES(DEF_FLOAT_OPS)

/* ----------------------------------------------------- integer kernels */

/* Exponentiation by squaring, wrapping; negative exponents truncate 1/x^n
** toward zero (only 1 and -1 give non-zero results). */
static int64_t int_pow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp & 1) ? -1 : 1;
    return 0;
  }
  uint64_t result = 1, b = (uint64_t)base;
  uint64_t e = (uint64_t)exp;
  while (e) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)result;
}

/* The same for unsigned operands, whose exponents may exceed INT64_MAX. */
static uint64_t uint_pow(uint64_t b, uint64_t e) {
  uint64_t result = 1;
  while (e) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return result;
}
#define POW_i32(x, y) int_pow((int64_t)(x), (int64_t)(y))
#define POW_i64(x, y) int_pow((int64_t)(x), (int64_t)(y))
#define POW_u8(x, y) uint_pow((uint64_t)(x), (uint64_t)(y))
#define POW_u16(x, y) uint_pow((uint64_t)(x), (uint64_t)(y))
#define POW_u32(x, y) uint_pow((uint64_t)(x), (uint64_t)(y))
#define POW_u64(x, y) uint_pow((uint64_t)(x), (uint64_t)(y))

#define IMAX(x, y) ((x) > (y) ? (x) : (y))
#define IMIN(x, y) ((x) < (y) ? (x) : (y))

#define DEF_INT(name, T, UT)                                                             \
  BINARY_LOOP(bin_add_##name, T, T, ID, T, ID, (T)((UT)x + (UT)y))                       \
  BINARY_LOOP(bin_sub_##name, T, T, ID, T, ID, (T)((UT)x - (UT)y))                       \
  BINARY_LOOP(bin_mul_##name, T, T, ID, T, ID, (T)((UT)x * (UT)y))                       \
  BINARY_LOOP(bin_pow_##name, T, T, ID, T, ID, (T)(UT)POW_##name(x, y))   \
  BINARY_LOOP(bin_maximum_##name, T, T, ID, T, ID, IMAX(x, y))                           \
  BINARY_LOOP(bin_minimum_##name, T, T, ID, T, ID, IMIN(x, y))                           \
  BINARY_LOOP(bin_eq_##name, T, T, ID, uint8_t, TO_BOOL, x == y)                         \
  BINARY_LOOP(bin_ne_##name, T, T, ID, uint8_t, TO_BOOL, x != y)                         \
  BINARY_LOOP(bin_lt_##name, T, T, ID, uint8_t, TO_BOOL, x < y)                          \
  BINARY_LOOP(bin_le_##name, T, T, ID, uint8_t, TO_BOOL, x <= y)                         \
  BINARY_LOOP(bin_gt_##name, T, T, ID, uint8_t, TO_BOOL, x > y)                          \
  BINARY_LOOP(bin_ge_##name, T, T, ID, uint8_t, TO_BOOL, x >= y)                         \
  UNARY_LOOP(un_neg_##name, T, T, ID, T, ID, (T)(0 - (UT)x))                             \
  UNARY_LOOP(un_abs_##name, T, T, ID, T, ID, (T)(x < 0 ? 0 - (UT)x : (UT)x))             \
  UNARY_LOOP(un_logical_not_##name, T, T, ID, uint8_t, TO_BOOL, x == 0)

#if defined(__GNUC__)
/* `x < 0` is always false for the unsigned instantiations. */
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
INT_TYPES(DEF_INT)

/* bool: + and max are "or", * and min are "and", as NumPy and JAX. */
BINARY_LOOP(bin_add_bool, uint8_t, uint8_t, ID, uint8_t, ID, (uint8_t)(x | y))
BINARY_LOOP(bin_mul_bool, uint8_t, uint8_t, ID, uint8_t, ID, (uint8_t)(x & y))
BINARY_LOOP(bin_maximum_bool, uint8_t, uint8_t, ID, uint8_t, ID, (uint8_t)(x | y))
BINARY_LOOP(bin_minimum_bool, uint8_t, uint8_t, ID, uint8_t, ID, (uint8_t)(x & y))
BINARY_LOOP(bin_eq_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x == y)
BINARY_LOOP(bin_ne_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x != y)
BINARY_LOOP(bin_lt_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x < y)
BINARY_LOOP(bin_le_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x <= y)
BINARY_LOOP(bin_gt_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x > y)
BINARY_LOOP(bin_ge_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x >= y)
UNARY_LOOP(un_abs_bool, uint8_t, uint8_t, ID, uint8_t, ID, x)
UNARY_LOOP(un_logical_not_bool, uint8_t, uint8_t, ID, uint8_t, TO_BOOL, x == 0)

/* ---------------------------------------------------------- op tables */

/* Rows in lx_dtype order: f32 f64 f16 bf16 i32 i64 u8 u32 bool u16 u64.
** NULL marks a combination the core never sends (it converts first or
** refuses). */
#define ROW_ALL(op)                                                                      \
  {op##_f32, op##_f64, op##_f16, op##_bf16, op##_i32, op##_i64, op##_u8, op##_u32,       \
   op##_bool, op##_u16, op##_u64}
#define ROW_NUM(op)                                                                      \
  {op##_f32, op##_f64, op##_f16, op##_bf16, op##_i32, op##_i64, op##_u8, op##_u32,       \
   NULL, op##_u16, op##_u64}
#define ROW_FLOAT(op) {op##_f32, op##_f64, op##_f16, op##_bf16, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

static const lx_loop_fn binary_table[LX_BINARY_COUNT][LX_DTYPE_COUNT] = {
  [LX_ADD] = ROW_ALL(bin_add), [LX_SUB] = ROW_NUM(bin_sub), [LX_MUL] = ROW_ALL(bin_mul),
  [LX_DIV] = ROW_FLOAT(bin_div), [LX_POW] = ROW_NUM(bin_pow),
  [LX_MAXIMUM] = ROW_ALL(bin_maximum), [LX_MINIMUM] = ROW_ALL(bin_minimum),
  [LX_EQ] = ROW_ALL(bin_eq), [LX_NE] = ROW_ALL(bin_ne), [LX_LT] = ROW_ALL(bin_lt),
  [LX_LE] = ROW_ALL(bin_le), [LX_GT] = ROW_ALL(bin_gt), [LX_GE] = ROW_ALL(bin_ge),
};

static const lx_loop_fn unary_table[LX_UNARY_COUNT][LX_DTYPE_COUNT] = {
  [LX_NEG] = ROW_NUM(un_neg), [LX_EXP] = ROW_FLOAT(un_exp), [LX_LOG] = ROW_FLOAT(un_log),
  [LX_SQRT] = ROW_FLOAT(un_sqrt), [LX_ABS] = ROW_ALL(un_abs), [LX_TANH] = ROW_FLOAT(un_tanh),
  [LX_SIN] = ROW_FLOAT(un_sin), [LX_COS] = ROW_FLOAT(un_cos),
  [LX_SIGMOID] = ROW_FLOAT(un_sigmoid), [LX_LOGICAL_NOT] = ROW_ALL(un_logical_not),
  [LX_ERF] = ROW_FLOAT(un_erf), [LX_ERF_INV] = ROW_FLOAT(un_erf_inv),
};

static lx_status run_table(const char *what, lx_loop_fn fn, int nops, const lx_op *op) {
  if (!fn)
    return lx_set_error(LX_ERR_INTERNAL, "cpu: no %s kernel for %s", what,
                        lx_dtype_name(op->in[0]->dtype));
  const lx_array *ops[LX_ITER_MAX_OPERANDS] = {op->out, op->in[0], op->in[1], op->in[2]};
  lx_iter it;
  lx__iter_init(&it, nops, ops);
  lx__iter_run(&it, fn, NULL);
  return LX_OK;
}

lx_status lx__cpu_binary(const lx_op *op) {
  return run_table(lx_binary_op_name(op->code),
                   binary_table[op->code][dtype_slot(op->in[0]->dtype)], 3, op);
}

lx_status lx__cpu_unary(const lx_op *op) {
  return run_table(lx_unary_op_name(op->code),
                   unary_table[op->code][dtype_slot(op->in[0]->dtype)], 2, op);
}

/* ---------------------------------------------------------------- where */

#define WHERE_LOOP(NAME, T)                                                              \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    (void)ctx;                                                                           \
    char *po = p[0];                                                                     \
    const char *pc = p[1], *px = p[2], *py = p[3];                                       \
    for (int64_t i = 0; i < n; i++, po += s[0], pc += s[1], px += s[2], py += s[3])      \
      *(T *)po = *(const uint8_t *)pc ? *(const T *)px : *(const T *)py;                 \
  }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_2, uint16_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)

lx_status lx__cpu_where(const lx_op *op) {
  lx_loop_fn fn;
  switch (lx_dtype_size(op->out->dtype)) {
    case 1: fn = where_1; break;
    case 2: fn = where_2; break;
    case 4: fn = where_4; break;
    default: fn = where_8; break;
  }
  return run_table("where", fn, 4, op);
}

/* ---------------------------------------------------------- conversions */

/* Loading any dtype as double (floats) or int64 (integers and bool). */
#define LD_f32(v) ((double)(v))
#define LD_f64(v) (v)
#define LD_f16(v) ((double)lx__h2f(v))
#define LD_bf16(v) ((double)lx__bf2f(v))
#define LD_i32(v) ((int64_t)(v))
#define LD_i64(v) (v)
#define LD_u8(v) ((int64_t)(v))
#define LD_u32(v) ((int64_t)(v))
#define LD_u16(v) ((int64_t)(v))
#define LD_u64(v) ((uint64_t)(v))
#define LD_b8(v) ((int64_t)((v) != 0))

static inline int64_t sat_i64(double d, double lo, double hi, int64_t lo_i, int64_t hi_i) {
  if (d != d) return 0;
  if (d <= lo) return lo_i;
  if (d >= hi) return hi_i;
  return (int64_t)d;
}

static inline uint64_t sat_u64(double d) {
  if (d != d || d <= 0) return 0;
  if (d >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)d;
}

/* Storing a double (D), an int64 (I) or a uint64 (U) into each dtype.
** Integer destinations take the low bits either way (narrowing wraps). */
#define STD_f32(d) ((float)(d))
#define STD_f64(d) ((double)(d))
#define STD_f16(d) lx_double_to_half(d)
#define STD_bf16(d) lx__f2bf((float)(d))
#define STD_i32(d) ((int32_t)sat_i64(d, -2147483648.0, 2147483648.0, INT32_MIN, INT32_MAX))
#define STD_i64(d) sat_i64(d, -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX)
#define STD_u8(d) ((uint8_t)sat_i64(d, 0.0, 256.0, 0, 255))
#define STD_u32(d) ((uint32_t)sat_i64(d, 0.0, 4294967296.0, 0, UINT32_MAX))
#define STD_u16(d) ((uint16_t)sat_i64(d, 0.0, 65536.0, 0, UINT16_MAX))
#define STD_u64(d) sat_u64(d)
#define STD_b8(d) TO_BOOL((d) != 0)
#define STI_f32(i) ((float)(i))
#define STI_f64(i) ((double)(i))
#define STI_f16(i) lx_double_to_half((double)(i))
#define STI_bf16(i) lx__f2bf((float)(i))
#define STI_i32(i) ((int32_t)(uint32_t)(uint64_t)(i))
#define STI_i64(i) ((int64_t)(i))
#define STI_u8(i) ((uint8_t)(uint64_t)(i))
#define STI_u32(i) ((uint32_t)(uint64_t)(i))
#define STI_u16(i) ((uint16_t)(uint64_t)(i))
#define STI_u64(i) ((uint64_t)(i))
#define STI_b8(i) TO_BOOL((i) != 0)
/* uint64 to floats from its value, in one rounding where C allows it. */
#define STU_f32(u) ((float)(u))
#define STU_f64(u) ((double)(u))
#define STU_f16(u) lx_double_to_half((double)(u)) /* >= 65520 is inf either way */
#define STU_bf16(u) lx__f2bf((float)(u))
#define STU_i32(u) STI_i32(u)
#define STU_i64(u) ((int64_t)(u)) /* wraps, as NumPy's astype */
#define STU_u8(u) STI_u8(u)
#define STU_u32(u) STI_u32(u)
#define STU_u16(u) STI_u16(u)
#define STU_u64(u) (u)
#define STU_b8(u) TO_BOOL((u) != 0)

/* Faster float32 <-> half paths than going through double. */
#define CONVERT_LOOP(NAME, TS, TD, EXPR)                                                 \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    (void)ctx;                                                                           \
    if (s[0] == (int64_t)sizeof(TD) && s[1] == (int64_t)sizeof(TS)) {                    \
      TD *restrict o = (TD *)p[0];                                                       \
      const TS *restrict a = (const TS *)p[1];                                           \
      for (int64_t i = 0; i < n; i++) { TS v = a[i]; o[i] = EXPR; }                      \
    } else {                                                                             \
      char *po = p[0];                                                                   \
      const char *pa = p[1];                                                             \
      for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                          \
        TS v = *(const TS *)pa;                                                          \
        *(TD *)po = EXPR;                                                                \
      }                                                                                  \
    }                                                                                    \
  }

/* Source kinds: F = load as double, I = load as int64. bool is spelled b8
** here: <stdbool.h> makes `bool` a macro, which X-macro arguments expand. */
#define SRC_TYPES(X, DST, TD)                                                            \
  X(f32, float, F, DST, TD) X(f64, double, F, DST, TD) X(f16, uint16_t, F, DST, TD)      \
  X(bf16, uint16_t, F, DST, TD) X(i32, int32_t, I, DST, TD) X(i64, int64_t, I, DST, TD)  \
  X(u8, uint8_t, I, DST, TD) X(u32, uint32_t, I, DST, TD) X(b8, uint8_t, I, DST, TD)   \
  X(u16, uint16_t, I, DST, TD) X(u64, uint64_t, U, DST, TD)
#define STORE_F(dst, x) STD_##dst(x)
#define STORE_I(dst, x) STI_##dst(x)
#define STORE_U(dst, x) STU_##dst(x)
#define DEF_CVT(src, TS, KIND, dst, TD) \
  CONVERT_LOOP(cvt_##src##_##dst, TS, TD, STORE_##KIND(dst, LD_##src(v)))
#define DST_TYPES(X)                                                                     \
  X(f32, float) X(f64, double) X(f16, uint16_t) X(bf16, uint16_t) X(i32, int32_t)        \
  X(i64, int64_t) X(u8, uint8_t) X(u32, uint32_t) X(b8, uint8_t) X(u16, uint16_t)       \
  X(u64, uint64_t)
#define DEF_CVT_TO(dst, TD) SRC_TYPES(DEF_CVT, dst, TD)
DST_TYPES(DEF_CVT_TO)
/* float32 -> half without the double detour (same rounding). */
CONVERT_LOOP(cvt_fast_f32_f16, float, uint16_t, lx__f2h(v))

#define CVT_ROW(src)                                                                     \
  {cvt_##src##_f32, cvt_##src##_f64, cvt_##src##_f16, cvt_##src##_bf16, cvt_##src##_i32, \
   cvt_##src##_i64, cvt_##src##_u8, cvt_##src##_u32, cvt_##src##_b8, cvt_##src##_u16,    \
   cvt_##src##_u64}
static const lx_loop_fn convert_table[LX_DTYPE_COUNT][LX_DTYPE_COUNT] = {
  CVT_ROW(f32), CVT_ROW(f64), CVT_ROW(f16), CVT_ROW(bf16), CVT_ROW(i32), CVT_ROW(i64),
  CVT_ROW(u8),  CVT_ROW(u32), CVT_ROW(b8),  CVT_ROW(u16),  CVT_ROW(u64),
};

/* Same-dtype copies move bytes: memcpy when both sides are contiguous. */
#define COPY_LOOP(NAME, T)                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    (void)ctx;                                                                           \
    if (s[0] == (int64_t)sizeof(T) && s[1] == (int64_t)sizeof(T)) {                      \
      memcpy(p[0], p[1], (size_t)n * sizeof(T));                                         \
      return;                                                                            \
    }                                                                                    \
    char *po = p[0];                                                                     \
    const char *pa = p[1];                                                               \
    for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) *(T *)po = *(const T *)pa;   \
  }
COPY_LOOP(copy_1, uint8_t)
COPY_LOOP(copy_2, uint16_t)
COPY_LOOP(copy_4, uint32_t)
COPY_LOOP(copy_8, uint64_t)

lx_status lx__cpu_convert(const lx_op *op) {
  lx_dtype from = op->in[0]->dtype, to = op->out->dtype;
  lx_loop_fn fn;
  if (from == to) {
    switch (lx_dtype_size(to)) {
      case 1: fn = copy_1; break;
      case 2: fn = copy_2; break;
      case 4: fn = copy_4; break;
      default: fn = copy_8; break;
    }
  } else if (from == LX_FLOAT32 && to == LX_FLOAT16) {
    fn = cvt_fast_f32_f16;
  } else {
    fn = convert_table[from][to];
  }
  return run_table("convert", fn, 2, op);
}

/* ----------------------------------------------------------------- fill */

#define FILL_LOOP(NAME, T)                                                               \
  static void NAME(int64_t n, char **p, const int64_t *s, void *ctx) {                   \
    T v;                                                                                 \
    memcpy(&v, ctx, sizeof v);                                                           \
    if (s[0] == (int64_t)sizeof(T)) {                                                    \
      T *restrict o = (T *)p[0];                                                         \
      for (int64_t i = 0; i < n; i++) o[i] = v;                                          \
    } else {                                                                             \
      char *po = p[0];                                                                   \
      for (int64_t i = 0; i < n; i++, po += s[0]) *(T *)po = v;                          \
    }                                                                                    \
  }
FILL_LOOP(fill_1, uint8_t)
FILL_LOOP(fill_2, uint16_t)
FILL_LOOP(fill_4, uint32_t)
FILL_LOOP(fill_8, uint64_t)

lx_status lx__cpu_fill(const lx_op *op) {
  unsigned char value[8] = {0};
  lx_dtype dt = op->out->dtype;
  if (op->p.fill.is_int) lx_store_int64(dt, op->p.fill.ivalue, value);
  else lx_store_double(dt, op->p.fill.value, value);
  size_t item = lx_dtype_size(dt);
  bool zero = true;
  for (size_t i = 0; i < item; i++) zero = zero && value[i] == 0;
  if (zero && lx_array_is_contiguous(op->out)) {
    memset(lx__cpu_base(op->out), 0, lx_array_nbytes(op->out));
    return LX_OK;
  }
  lx_loop_fn fn = item == 1 ? fill_1 : item == 2 ? fill_2 : item == 4 ? fill_4 : fill_8;
  const lx_array *ops[1] = {op->out};
  lx_iter it;
  lx__iter_init(&it, 1, ops);
  lx__iter_run(&it, fn, value);
  return LX_OK;
}
