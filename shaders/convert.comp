#version 450
// convert.comp — out = x converted from dtype IN to dtype OUT, with the
// CPU's rules (runtime/core/convert.c, cpu_elementwise.c):
//   float -> integer truncates toward zero and saturates, NaN -> 0;
//   integer -> narrower integer wraps; anything -> bool is != 0 (NaN: true);
//   -> float16 from float32/float16/bfloat16/integers rounds the float32
//   value to nearest even; float64 -> float16 rounds once from the double;
//   -> bfloat16 goes through float32; integer -> float rounds to nearest.
// Every float conversion is integer code on bit patterns: exact on any
// device, denormals and NaN payloads included, and float64 needs only
// shaderInt64 (it is stored as uint64_t bits here). IN == OUT is a copy of
// raw elements.
#define LX_OPERANDS 2
#define LX_F64_BITS

#include "dtypes.glsl"
#if IN_DT == OUT_DT
// A copy: the dtype only matters for its size, and raw elements need none
// of the dtype's features.
#if IN_DT == DT_f64 || DT_IS_INT64(IN_DT)
#define ELEM_BYTES 8
#elif DT_IS_16BIT(IN_DT)
#define ELEM_BYTES 2
#elif DT_IS_BYTE(IN_DT)
#define ELEM_BYTES 1
#else
#define ELEM_BYTES 4
#endif
#define LX_COPY 1
#undef IN_DT
#undef OUT_DT
#define IN_DT DT_none
#define OUT_DT DT_none
#endif

#include "common.glsl"

#ifdef LX_COPY
LX_OUTPUT(RAW_T)
LX_INPUT(1, RAW_T, in1)
void element(ivec4 pos) { out0[pos.x] = in1[pos.y]; }
#else

LX_OUTPUT(OUT_T)
LX_INPUT(1, IN_T, in1)

// The source is read into one of six forms; each destination has one
// overload per form. F32Bits: float32/float16/bfloat16 as float32 bits;
// F64Bits: float64 bits; int: int32; uint: uint8, uint16, uint32, bool
// (0/1); int64_t: int64; uint64_t: uint64.
struct F32Bits { uint b; };
#if LX_INT64
struct F64Bits { uint64_t b; };
#endif

// ----------------------------------------------------- integer -> float32
// Round to nearest even (the conversion instructions' rounding is the
// device's business).
uint lx_u2f(bool neg, uint mag) {
  if (mag == 0u) return 0u;
  int msb = findMSB(mag);
  uint sig;
  if (msb <= 23) {
    sig = mag << uint(23 - msb);
  } else {
    uint sh = uint(msb - 23);
    uint rest = mag & ((1u << sh) - 1u), half_way = 1u << (sh - 1u);
    sig = mag >> sh;
    if (rest > half_way || (rest == half_way && (sig & 1u) != 0u)) sig++;
  }
  return (neg ? 0x80000000u : 0u) | ((uint(msb + 126) << 23) + sig);
}

#if LX_INT64
uint lx_l2f(bool neg, uint64_t mag) {
  uint hi = uint(mag >> 32);
  if (hi == 0u) return lx_u2f(neg, uint(mag));
  int msb = 32 + findMSB(hi);
  uint sh = uint(msb - 23);
  uint64_t rest = mag & ((1ul << sh) - 1ul), half_way = 1ul << (sh - 1u);
  uint sig = uint(mag >> sh);
  if (rest > half_way || (rest == half_way && (sig & 1u) != 0u)) sig++;
  return (neg ? 0x80000000u : 0u) | ((uint(msb + 126) << 23) + sig);
}

// A signed integer's magnitude -> float64 bits, round to nearest even.
// The sign travels separately: Mesa 22's lavapipe miscompiles a compare of
// a sign-extended int32 (int64_t(v) < 0 is always false there), so the
// callers take the sign before any widening.
uint64_t lx_l2d(bool neg, uint64_t mag) {
  if (mag == 0ul) return 0ul;
  uint hi = uint(mag >> 32);
  int msb = hi != 0u ? 32 + findMSB(hi) : findMSB(uint(mag));
  uint64_t sig;
  if (msb <= 52) {
    sig = mag << uint(52 - msb);
  } else {
    uint sh = uint(msb - 52);
    uint64_t rest = mag & ((1ul << sh) - 1ul), half_way = 1ul << (sh - 1u);
    sig = mag >> sh;
    if (rest > half_way || (rest == half_way && (sig & 1ul) != 0ul)) sig++;
  }
  return (neg ? 0x8000000000000000ul : 0ul) | ((uint64_t(msb + 1022) << 52) + sig);
}

// ------------------------------------------------- float64 <-> float32/16
// float32 bits -> float64 bits (exact; a NaN is quieted, as x86 does).
uint64_t lx_f2d(uint u) {
  uint64_t sign = uint64_t(u & 0x80000000u) << 32;
  uint e = (u >> 23) & 0xffu, m = u & 0x7fffffu;
  if (e == 0xffu)
    return sign | 0x7ff0000000000000ul | (m != 0u ? 0x0008000000000000ul | (uint64_t(m) << 29) : 0ul);
  if (e == 0u) {
    if (m == 0u) return sign;
    int msb = findMSB(m); // denormal: m * 2^-149, normal as a double
    return sign | (uint64_t(msb + 874) << 52) | ((uint64_t(m) << uint(52 - msb)) & 0xffffffffffffful);
  }
  return sign | (uint64_t(e + 896u) << 52) | (uint64_t(m) << 29);
}

// float64 bits -> float32 bits, round to nearest even (NaN: quiet, top
// payload bits kept, as x86's cvtsd2ss).
uint lx_d2f(uint64_t u) {
  uint sign = uint(u >> 32) & 0x80000000u;
  int exp = int(uint(u >> 52) & 0x7ffu);
  uint64_t mant = u & 0xffffffffffffful;
  if (exp == 0x7ff) return sign | 0x7f800000u | (mant != 0ul ? 0x400000u | uint(mant >> 29) : 0u);
  int e = exp - 1023 + 127; // biased float32 exponent
  if (e >= 0xff) return sign | 0x7f800000u;
  if (exp == 0) return sign; // double subnormals are far below float32's range
  uint64_t sig = mant | (1ul << 52);
  int shift = 29;
  if (e <= 0) { // float32 subnormal
    shift = 29 + 1 - e;
    if (shift > 63) return sign;
    e = 0;
  }
  uint64_t kept = sig >> uint(shift);
  uint64_t rest = sig & ((1ul << uint(shift)) - 1ul), half_way = 1ul << uint(shift - 1);
  if (rest > half_way || (rest == half_way && (kept & 1ul) != 0ul)) kept++;
  if (e == 0) return sign | uint(kept); // may round up to the smallest normal
  return sign | ((uint(e - 1) << 23) + uint(kept));
}

// float64 bits -> binary16 bits in one rounding (lx_double_to_half):
// through float32 would round twice.
uint lx_d2h(uint64_t u) {
  uint sign = uint(u >> 48) & 0x8000u;
  int exp = int(uint(u >> 52) & 0x7ffu);
  uint64_t mant = u & 0xffffffffffffful;
  if (exp == 0x7ff) return sign | 0x7c00u | (mant != 0ul ? 0x0200u | uint(mant >> 42) : 0u);
  int e = exp - 1023 + 15;
  if (e >= 0x1f) return sign | 0x7c00u;
  if (exp == 0) return sign;
  uint64_t sig = mant | (1ul << 52);
  int shift = 42;
  if (e <= 0) {
    shift = 42 + 1 - e;
    if (shift > 63) return sign;
    e = 0;
  }
  uint64_t kept = sig >> uint(shift);
  uint64_t rest = sig & ((1ul << uint(shift)) - 1ul), half_way = 1ul << uint(shift - 1);
  if (rest > half_way || (rest == half_way && (kept & 1ul) != 0ul)) kept++;
  if (e == 0) return sign | uint(kept);
  return sign | ((uint(e - 1) << 10) + uint(kept));
}

bool lx_d_nan(uint64_t u) { return (u & 0x7ffffffffffffffful) > 0x7ff0000000000000ul; }

// d truncated toward zero into uint64, saturating (NaN and negatives: 0).
uint64_t lx_d_to_u64(uint64_t u) {
  if (lx_d_nan(u) || (u >> 63) != 0ul) return 0ul;
  int e = int(uint(u >> 52) & 0x7ffu) - 1023;
  if (e < 0) return 0ul;
  if (e >= 64) return 0xfffffffffffffffful;
  uint64_t sig = (u & 0xffffffffffffful) | (1ul << 52);
  return e >= 52 ? sig << uint(e - 52) : sig >> uint(52 - e);
}

// |d| truncated toward zero, capped at 2^63 (enough to saturate any
// integer dtype). The caller has dealt with NaN.
uint64_t lx_d_trunc(uint64_t u) {
  int e = int(uint(u >> 52) & 0x7ffu) - 1023;
  if (e < 0) return 0ul;
  if (e >= 63) return 1ul << 63;
  uint64_t sig = (u & 0xffffffffffffful) | (1ul << 52);
  return e >= 52 ? sig << uint(e - 52) : sig >> uint(52 - e);
}
#endif

// ------------------------------------------------------------ float32 bits
uint to_f32(F32Bits v) { return v.b; }
uint to_f32(int v) { return lx_u2f(v < 0, v < 0 ? 0u - uint(v) : uint(v)); }
uint to_f32(uint v) { return lx_u2f(false, v); }
#if LX_INT64
uint to_f32(F64Bits v) { return lx_d2f(v.b); }
uint to_f32(int64_t v) { return lx_l2f(v < 0l, v < 0l ? 0ul - uint64_t(v) : uint64_t(v)); }
uint to_f32(uint64_t v) { return lx_l2f(false, v); }
#endif

// ------------------------------------------------------ float16, bfloat16
uint to_f16(F32Bits v) { return lx_f2h(v.b); }
uint to_f16(int v) { return lx_f2h(to_f32(v)); }
uint to_f16(uint v) { return lx_f2h(to_f32(v)); }
uint to_bf16(F32Bits v) { return lx_f2bf(v.b); }
uint to_bf16(int v) { return lx_f2bf(to_f32(v)); }
uint to_bf16(uint v) { return lx_f2bf(to_f32(v)); }
#if LX_INT64
uint to_f16(F64Bits v) { return lx_d2h(v.b); }
uint to_f16(int64_t v) { return lx_f2h(to_f32(v)); } // |v| >= 65520 is inf either way
uint to_bf16(F64Bits v) { return lx_f2bf(lx_d2f(v.b)); }
uint to_bf16(int64_t v) { return lx_f2bf(to_f32(v)); }
uint to_f16(uint64_t v) { return lx_f2h(to_f32(v)); }
uint to_bf16(uint64_t v) { return lx_f2bf(to_f32(v)); }

// ---------------------------------------------------------- float64 bits
uint64_t to_f64(F32Bits v) { return lx_f2d(v.b); }
uint64_t to_f64(F64Bits v) { return v.b; }
uint64_t to_f64(int v) { return lx_l2d(v < 0, uint64_t(v < 0 ? 0u - uint(v) : uint(v))); }
uint64_t to_f64(uint v) { return lx_l2d(false, uint64_t(v)); }
uint64_t to_f64(int64_t v) { return lx_l2d(v < 0l, v < 0l ? 0ul - uint64_t(v) : uint64_t(v)); }
uint64_t to_f64(uint64_t v) { return lx_l2d(false, v); }
#endif

// ------------------------------------------------------------- integers
// From float32: compare as floats (the bounds are exact in float32), then
// the conversion instruction truncates a value known to be in range.
bool f32_nan(F32Bits v) { return (v.b & 0x7fffffffu) > 0x7f800000u; }
int to_i32(F32Bits v) {
  float f = uintBitsToFloat(v.b);
  if (f32_nan(v)) return 0;
  if (f <= -2147483648.0) return int(0x80000000u);
  if (f >= 2147483648.0) return 0x7fffffff;
  return int(f);
}
uint to_u8(F32Bits v) {
  float f = uintBitsToFloat(v.b);
  if (f32_nan(v) || f <= 0.0) return 0u;
  return f >= 256.0 ? 255u : uint(f);
}
uint to_u32(F32Bits v) {
  float f = uintBitsToFloat(v.b);
  if (f32_nan(v) || f <= 0.0) return 0u;
  return f >= 4294967296.0 ? 0xffffffffu : uint(f);
}
uint to_u16(F32Bits v) {
  float f = uintBitsToFloat(v.b);
  if (f32_nan(v) || f <= 0.0) return 0u;
  return f >= 65536.0 ? 0xffffu : uint(f);
}
uint to_bool(F32Bits v) { return (v.b & 0x7fffffffu) != 0u ? 1u : 0u; }

int to_i32(int v) { return v; }
int to_i32(uint v) { return int(v); }
uint to_u8(int v) { return uint(v) & 0xffu; }
uint to_u8(uint v) { return v & 0xffu; }
uint to_u32(int v) { return uint(v); }
uint to_u32(uint v) { return v; }
uint to_bool(int v) { return v != 0 ? 1u : 0u; }
uint to_bool(uint v) { return v != 0u ? 1u : 0u; }
uint to_u16(int v) { return uint(v) & 0xffffu; }
uint to_u16(uint v) { return v & 0xffffu; }

#if LX_INT64
int64_t to_i64(F32Bits v) {
  float f = uintBitsToFloat(v.b);
  if (f32_nan(v)) return 0l;
  if (f <= -9223372036854775808.0) return int64_t(0x8000000000000000ul);
  if (f >= 9223372036854775808.0) return 0x7fffffffffffffffl;
  return int64_t(f);
}
// From float64: on the bits (saturating at integer bounds is the same as
// saturating the truncated magnitude).
int to_i32(F64Bits v) {
  if (lx_d_nan(v.b)) return 0;
  bool neg = (v.b >> 63) != 0ul;
  uint64_t mag = lx_d_trunc(v.b);
  if (mag >= 0x80000000ul) return neg ? int(0x80000000u) : 0x7fffffff;
  return neg ? -int(mag) : int(mag);
}
int64_t to_i64(F64Bits v) {
  if (lx_d_nan(v.b)) return 0l;
  bool neg = (v.b >> 63) != 0ul;
  uint64_t mag = lx_d_trunc(v.b);
  if (mag >= 0x8000000000000000ul) return neg ? int64_t(0x8000000000000000ul) : 0x7fffffffffffffffl;
  return neg ? -int64_t(mag) : int64_t(mag);
}
uint to_u8(F64Bits v) {
  if (lx_d_nan(v.b) || (v.b >> 63) != 0ul) return 0u;
  return uint(min(lx_d_trunc(v.b), 255ul));
}
uint to_u32(F64Bits v) {
  if (lx_d_nan(v.b) || (v.b >> 63) != 0ul) return 0u;
  return uint(min(lx_d_trunc(v.b), 0xfffffffful));
}
uint to_u16(F64Bits v) {
  if (lx_d_nan(v.b) || (v.b >> 63) != 0ul) return 0u;
  return uint(min(lx_d_trunc(v.b), 0xfffful));
}
uint to_bool(F64Bits v) { return (v.b & 0x7ffffffffffffffful) != 0ul ? 1u : 0u; }

int to_i32(int64_t v) { return int(v); }
int64_t to_i64(int v) { return int64_t(v); }
int64_t to_i64(uint v) { return int64_t(v); }
int64_t to_i64(int64_t v) { return v; }
uint to_u8(int64_t v) { return uint(v) & 0xffu; }
uint to_u32(int64_t v) { return uint(v); }
uint to_bool(int64_t v) { return v != 0l ? 1u : 0u; }
uint to_u16(int64_t v) { return uint(v) & 0xffffu; }

// To and from uint64: integers keep their low bits (int64 <-> uint64 is the
// same bits), floats saturate as above.
uint64_t to_u64(F32Bits v) { return lx_d_to_u64(lx_f2d(v.b)); }
uint64_t to_u64(F64Bits v) { return lx_d_to_u64(v.b); }
uint64_t to_u64(int v) { return uint64_t(int64_t(v)); }
uint64_t to_u64(uint v) { return uint64_t(v); }
uint64_t to_u64(int64_t v) { return uint64_t(v); }
uint64_t to_u64(uint64_t v) { return v; }
int to_i32(uint64_t v) { return int(uint(v)); }
int64_t to_i64(uint64_t v) { return int64_t(v); }
uint to_u8(uint64_t v) { return uint(v) & 0xffu; }
uint to_u16(uint64_t v) { return uint(v) & 0xffffu; }
uint to_u32(uint64_t v) { return uint(v); }
uint to_bool(uint64_t v) { return v != 0ul ? 1u : 0u; }
#endif

#if DT_IS_F32ISH(IN_DT)
#define LOAD_SRC(s) F32Bits(IN_F32BITS(s))
#elif IN_DT == DT_f64
#define LOAD_SRC(s) F64Bits(s)
#elif IN_DT == DT_bool
#define LOAD_SRC(s) (uint(s) != 0u ? 1u : 0u)
#else
#define LOAD_SRC(s) IN_LOAD(s)
#endif

void element(ivec4 pos) { out0[pos.x] = OUT_T(CAT(to_, OUT)(LOAD_SRC(IN_W(in1[pos.y])))); }
#endif
