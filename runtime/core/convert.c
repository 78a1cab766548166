/*
** convert.c — scalar conversions between dtypes, including the two 16-bit
** float formats. Rounding is to nearest even everywhere, as ml_dtypes and
** NumPy do; float -> integer saturates and sends NaN to 0, as XLA does, so
** no conversion is undefined behaviour in C.
*/
#include "lunox.h"
#include "half.h"

#include <math.h>
#include <string.h>

static uint64_t double_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/*
** IEEE binary16 from binary64 in one rounding step: converting through
** float32 first would round twice and differ from NumPy on ties.
*/
uint16_t lx_double_to_half(double d) {
  uint64_t u = double_bits(d);
  uint16_t sign = (uint16_t)((u >> 48) & 0x8000u);
  int exp = (int)((u >> 52) & 0x7ff);
  uint64_t mant = u & 0xfffffffffffffull;
  if (exp == 0x7ff) /* inf or NaN (keep NaN quiet and non-zero) */
    return sign | 0x7c00u | (mant ? 0x0200u | (uint16_t)(mant >> 42) : 0);
  int e = exp - 1023 + 15; /* biased half exponent */
  if (e >= 0x1f) return sign | 0x7c00u;      /* overflow -> inf */
  if (exp == 0) return sign;                  /* double subnormal -> 0 */
  /* 53-bit significand with the implicit bit. */
  uint64_t sig = mant | (1ull << 52);
  int shift; /* how many low bits to drop to get the half significand */
  if (e <= 0) { /* half subnormal */
    shift = 42 + 1 - e;
    if (shift > 63) return sign;
    e = 0;
  } else {
    shift = 42;
  }
  uint64_t kept = sig >> shift;
  uint64_t rest = sig & ((1ull << shift) - 1);
  uint64_t half_way = 1ull << (shift - 1);
  if (rest > half_way || (rest == half_way && (kept & 1))) kept++;
  /* For normals `kept` includes the implicit bit (bit 10); adding the
  ** exponent field lets a mantissa carry roll into the exponent. */
  if (e == 0) return sign | (uint16_t)kept; /* may round up to min normal */
  return sign | (uint16_t)(((uint32_t)(e - 1) << 10) + kept);
}

/* The float32 paths are the inline ones the kernels use (half.h). */
uint16_t lx_float_to_half(float f) { return lx__f2h(f); }
float lx_half_to_float(uint16_t h) { return lx__h2f(h); }
uint16_t lx_float_to_bfloat16(float f) { return lx__f2bf(f); }
float lx_bfloat16_to_float(uint16_t b) { return lx__bf2f(b); }

/* Saturating float -> signed integer of the given range. */
static int64_t saturate_signed(double d, double lo, double hi_exclusive,
                               int64_t lo_i, int64_t hi_i) {
  if (d != d) return 0;
  if (d <= lo) return lo_i;
  if (d >= hi_exclusive) return hi_i;
  return (int64_t)d;
}

static uint64_t saturate_unsigned(double d, double hi_exclusive, uint64_t hi_i) {
  if (d != d || d <= 0) return 0;
  if (d >= hi_exclusive) return hi_i;
  return (uint64_t)d;
}

void lx_store_double(lx_dtype dtype, double v, void *dst) {
  switch (dtype) {
    case LX_FLOAT32: { float f = (float)v; memcpy(dst, &f, 4); break; }
    case LX_FLOAT64: memcpy(dst, &v, 8); break;
    case LX_FLOAT16: { uint16_t h = lx_double_to_half(v); memcpy(dst, &h, 2); break; }
    /* bfloat16 from double goes through float32, as ml_dtypes does. */
    case LX_BFLOAT16: { uint16_t b = lx_float_to_bfloat16((float)v); memcpy(dst, &b, 2); break; }
    case LX_INT32: {
      int32_t i = (int32_t)saturate_signed(v, -2147483648.0, 2147483648.0,
                                           INT32_MIN, INT32_MAX);
      memcpy(dst, &i, 4);
      break;
    }
    case LX_INT64: {
      int64_t i = saturate_signed(v, -9223372036854775808.0,
                                  9223372036854775808.0, INT64_MIN, INT64_MAX);
      memcpy(dst, &i, 8);
      break;
    }
    case LX_UINT8: { uint8_t i = (uint8_t)saturate_unsigned(v, 256.0, 255); memcpy(dst, &i, 1); break; }
    case LX_UINT32: {
      uint32_t i = (uint32_t)saturate_unsigned(v, 4294967296.0, UINT32_MAX);
      memcpy(dst, &i, 4);
      break;
    }
    case LX_BOOL: { uint8_t b = v != 0; memcpy(dst, &b, 1); break; } /* NaN -> true */
    case LX_UINT16: {
      uint16_t i = (uint16_t)saturate_unsigned(v, 65536.0, UINT16_MAX);
      memcpy(dst, &i, 2);
      break;
    }
    case LX_UINT64: {
      uint64_t i = saturate_unsigned(v, 18446744073709551616.0, UINT64_MAX);
      memcpy(dst, &i, 8);
      break;
    }
    default: break;
  }
}

void lx_store_int64(lx_dtype dtype, int64_t v, void *dst) {
  /* Integer narrowing wraps modulo 2^n (through unsigned types, so it is
  ** defined), as NumPy and JAX do. */
  switch (dtype) {
    case LX_INT32: { int32_t i = (int32_t)(uint32_t)(uint64_t)v; memcpy(dst, &i, 4); break; }
    case LX_INT64: memcpy(dst, &v, 8); break;
    case LX_UINT8: { uint8_t i = (uint8_t)(uint64_t)v; memcpy(dst, &i, 1); break; }
    case LX_UINT16: { uint16_t i = (uint16_t)(uint64_t)v; memcpy(dst, &i, 2); break; }
    case LX_UINT32: { uint32_t i = (uint32_t)(uint64_t)v; memcpy(dst, &i, 4); break; }
    case LX_UINT64: { uint64_t i = (uint64_t)v; memcpy(dst, &i, 8); break; }
    case LX_BOOL: { uint8_t b = v != 0; memcpy(dst, &b, 1); break; }
    default: lx_store_double(dtype, (double)v, dst); break;
  }
}

double lx_load_double(lx_dtype dtype, const void *src) {
  switch (dtype) {
    case LX_FLOAT32: { float f; memcpy(&f, src, 4); return f; }
    case LX_FLOAT64: { double d; memcpy(&d, src, 8); return d; }
    case LX_FLOAT16: { uint16_t h; memcpy(&h, src, 2); return lx__h2f(h); }
    case LX_BFLOAT16: { uint16_t b; memcpy(&b, src, 2); return lx__bf2f(b); }
    case LX_INT32: { int32_t i; memcpy(&i, src, 4); return i; }
    case LX_INT64: { int64_t i; memcpy(&i, src, 8); return (double)i; }
    case LX_UINT8: { uint8_t i; memcpy(&i, src, 1); return i; }
    case LX_UINT32: { uint32_t i; memcpy(&i, src, 4); return i; }
    case LX_BOOL: { uint8_t b; memcpy(&b, src, 1); return b != 0; }
    case LX_UINT16: { uint16_t i; memcpy(&i, src, 2); return i; }
    case LX_UINT64: { uint64_t i; memcpy(&i, src, 8); return (double)i; }
    default: return 0;
  }
}

int64_t lx_load_int64(lx_dtype dtype, const void *src) {
  switch (dtype) {
    case LX_INT32: { int32_t i; memcpy(&i, src, 4); return i; }
    case LX_INT64: { int64_t i; memcpy(&i, src, 8); return i; }
    case LX_UINT8: { uint8_t i; memcpy(&i, src, 1); return i; }
    case LX_UINT32: { uint32_t i; memcpy(&i, src, 4); return i; }
    case LX_BOOL: { uint8_t b; memcpy(&b, src, 1); return b != 0; }
    case LX_UINT16: { uint16_t i; memcpy(&i, src, 2); return i; }
    /* The bit pattern: 2^63 and up come back negative (see lunox.h). */
    case LX_UINT64: { int64_t i; memcpy(&i, src, 8); return i; }
    default:
      return saturate_signed(lx_load_double(dtype, src), -9223372036854775808.0,
                             9223372036854775808.0, INT64_MIN, INT64_MAX);
  }
}
