/*
** dtype.c — names, sizes, kinds and promotion of the element types.
*/
#include "lunox.h"

#include <math.h>
#include <string.h>

typedef struct dtype_desc {
  const char *name;
  const char *short_name;
  size_t size;
} dtype_desc;

static const dtype_desc dtype_table[LX_DTYPE_COUNT] = {
  [LX_FLOAT32] = {"float32", "f32", 4},  [LX_FLOAT64] = {"float64", "f64", 8},
  [LX_FLOAT16] = {"float16", "f16", 2},  [LX_BFLOAT16] = {"bfloat16", "bf16", 2},
  [LX_INT32] = {"int32", "i32", 4},      [LX_INT64] = {"int64", "i64", 8},
  [LX_UINT8] = {"uint8", "u8", 1},       [LX_UINT32] = {"uint32", "u32", 4},
  [LX_BOOL] = {"bool", "bool", 1},      [LX_UINT16] = {"uint16", "u16", 2},
  [LX_UINT64] = {"uint64", "u64", 8},
};

static bool dtype_valid(lx_dtype d) { return (unsigned)d < LX_DTYPE_COUNT; }

const char *lx_dtype_name(lx_dtype d) {
  return dtype_valid(d) ? dtype_table[d].name : "invalid";
}

const char *lx_dtype_short_name(lx_dtype d) {
  return dtype_valid(d) ? dtype_table[d].short_name : "invalid";
}

size_t lx_dtype_size(lx_dtype d) { return dtype_valid(d) ? dtype_table[d].size : 0; }

lx_status lx_dtype_from_name(const char *name, lx_dtype *out) {
  for (int d = 0; d < LX_DTYPE_COUNT; d++) {
    if (strcmp(name, dtype_table[d].name) == 0) {
      *out = (lx_dtype)d;
      return LX_OK;
    }
  }
  return lx_set_error(LX_ERR_ARGUMENT,
                      "unknown dtype '%s' (expected float32, float64, float16, "
                      "bfloat16, int32, int64, uint8, uint16, uint32, uint64 or "
                      "bool)",
                      name);
}

bool lx_dtype_is_float(lx_dtype d) {
  return d == LX_FLOAT32 || d == LX_FLOAT64 || d == LX_FLOAT16 || d == LX_BFLOAT16;
}

bool lx_dtype_is_integer(lx_dtype d) {
  return d == LX_INT32 || d == LX_INT64 || d == LX_UINT8 || d == LX_UINT16 ||
         d == LX_UINT32 || d == LX_UINT64;
}

bool lx_dtype_is_signed(lx_dtype d) {
  return d == LX_INT32 || d == LX_INT64 || lx_dtype_is_float(d);
}

/*
** JAX's promotion lattice (jax._src.dtypes, with 64-bit types enabled),
** restricted to our dtypes: bool < uint8 < uint16 < uint32 < uint64 ;
** int32 < int64 ; uint8 < int16, uint16 < int32, uint32 < int64 (so an
** unsigned type meets a signed one at the narrowest signed type that holds
** both) ; uint64 and int64 both sit below the weakly typed float, so uint64
** with any signed integer is float64 (JAX's canonical float with x64) ;
** every integer < float16, bfloat16 ; float16 and bfloat16 meet at float32 ;
** float32 < float64. Integers never promote to a float wider than the
** float operand, as in JAX (int64 + float16 -> float16).
*/
static int float_rank(lx_dtype d) {
  switch (d) {
    case LX_FLOAT16: case LX_BFLOAT16: return 1;
    case LX_FLOAT32: return 2;
    case LX_FLOAT64: return 3;
    default: return 0;
  }
}

lx_dtype lx_dtype_promote(lx_dtype a, lx_dtype b) {
  if (a == b) return a;
  if (a == LX_BOOL) return b;
  if (b == LX_BOOL) return a;
  bool fa = lx_dtype_is_float(a), fb = lx_dtype_is_float(b);
  if (fa && fb) {
    int ra = float_rank(a), rb = float_rank(b);
    if (ra == 1 && rb == 1) return LX_FLOAT32; /* float16 with bfloat16 */
    return ra > rb ? a : b;
  }
  if (fa) return a;
  if (fb) return b;
  /* Both integers. */
  bool sa = lx_dtype_is_signed(a), sb = lx_dtype_is_signed(b);
  if (sa == sb) return lx_dtype_size(a) >= lx_dtype_size(b) ? a : b;
  lx_dtype u = sa ? b : a, s = sa ? a : b;
  if (u == LX_UINT64) return LX_FLOAT64;          /* no integer holds both */
  /* The signed type twice the unsigned one's width holds it. */
  size_t need = 2 * lx_dtype_size(u), have = lx_dtype_size(s);
  if (have >= need) return s;
  return need <= 4 ? LX_INT32 : LX_INT64;
}

bool lx_dtype_holds(lx_dtype d, double v) {
  if (!lx_dtype_is_integer(d)) return true;
  double t = trunc(v);
  if (!isfinite(t)) return false;
  switch (d) {
    case LX_INT32: return t >= -2147483648.0 && t <= 2147483647.0;
    case LX_INT64: return t >= -9223372036854775808.0 && t < 9223372036854775808.0;
    case LX_UINT8: return t >= 0 && t <= 255.0;
    case LX_UINT16: return t >= 0 && t <= 65535.0;
    case LX_UINT64: return t >= 0 && t < 18446744073709551616.0;
    default: return t >= 0 && t <= 4294967295.0; /* LX_UINT32 */
  }
}

bool lx_dtype_holds_int64(lx_dtype d, int64_t v) {
  switch (d) {
    case LX_INT32: return v >= INT32_MIN && v <= INT32_MAX;
    case LX_UINT8: return v >= 0 && v <= UINT8_MAX;
    case LX_UINT16: return v >= 0 && v <= UINT16_MAX;
    case LX_UINT32: return v >= 0 && v <= (int64_t)UINT32_MAX;
    case LX_UINT64: return v >= 0;
    default: return true;
  }
}
