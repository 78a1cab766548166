#version 450
// binary.comp — out = op(x, y) for one arithmetic lx_binary_op (ADD..MINIMUM,
// specialization constant 1); x, y and out share the dtype.
//
// float32/float16/bfloat16 compute in float32 (16-bit results rounded to
// nearest even as half.h does); division is exactly rounded; maximum and
// minimum propagate NaN and work on bits. float64 pow is lx64_pow
// (fmath64.glsl: GLSL has none). Integer add/sub/mul wrap (GLSL integer
// arithmetic does), pow is by squaring with the CPU's rule for negative
// exponents; division is never sent for integers. bool: add and maximum are
// "or", mul and minimum are "and".
#define OUT IN
#define OUT_DT IN_DT
#define LX_OPERANDS 3
#include "common.glsl"
#include "ops.glsl"
#include "floatbits.glsl"
#if DT_IS_F32ISH(IN_DT)
#include "fmath.glsl"
#elif IN_DT == DT_f64
#include "fmath64.glsl"
#endif

layout(constant_id = 1) const int OP = LX_ADD;

LX_OUTPUT(OUT_T)
LX_INPUT(1, IN_T, in1)
LX_INPUT(2, IN_T, in2)

#if DT_IS_F32ISH(IN_DT)
OUT_W binary(IN_W sa, IN_W sb) {
  if (OP == LX_MAXIMUM) return IN_UNBITS(fb_maximum(IN_BITS(sa), IN_BITS(sb)));
  if (OP == LX_MINIMUM) return IN_UNBITS(fb_minimum(IN_BITS(sa), IN_BITS(sb)));
  float x = IN_LOAD(sa), y = IN_LOAD(sb), r = 0.0;
  switch (OP) {
    case LX_ADD: r = x + y; break;
    case LX_SUB: r = x - y; break;
    case LX_MUL: r = x * y; break;
    case LX_DIV: r = lx_fdiv(x, y); break;
    case LX_POW: r = lx_pow(x, y); break;
  }
  return OUT_STORE(r);
}
#elif IN_DT == DT_f64
OUT_W binary(IN_W x, IN_W y) {
  switch (OP) {
    case LX_ADD: return x + y;
    case LX_SUB: return x - y;
    case LX_MUL: return x * y;
    case LX_DIV: return x / y;
    case LX_MAXIMUM: return IN_UNBITS(fb_maximum(IN_BITS(x), IN_BITS(y)));
    case LX_MINIMUM: return IN_UNBITS(fb_minimum(IN_BITS(x), IN_BITS(y)));
    case LX_POW: return lx64_pow(x, y);
  }
  return lx64_nan();
}
#elif IN_DT == DT_bool
OUT_W binary(IN_W sa, IN_W sb) {
  uint x = IN_LOAD(sa), y = IN_LOAD(sb), r = 0u;
  if (OP == LX_ADD || OP == LX_MAXIMUM) r = x | y;
  if (OP == LX_MUL || OP == LX_MINIMUM) r = x & y;
  return OUT_STORE(r);
}
#else // integers
#if DT_IS_INT64(IN_DT)
#define IN_UV uint64_t
#else
#define IN_UV uint
#endif
// Wrapping exponentiation by squaring; a negative exponent truncates
// 1/x^n toward zero, so only 1 and -1 give non-zero results.
IN_V lx_ipow(IN_V base, IN_V e) {
#if DT_IS_SINT(IN_DT)
  if (e < IN_V(0)) {
    if (base == IN_V(1)) return IN_V(1);
    if (base == IN_V(-1)) return (e & IN_V(1)) != IN_V(0) ? IN_V(-1) : IN_V(1);
    return IN_V(0);
  }
#endif
  IN_UV r = IN_UV(1), b = IN_UV(base), k = IN_UV(e);
  while (k != IN_UV(0)) {
    if ((k & IN_UV(1)) != IN_UV(0)) r *= b;
    b *= b;
    k >>= 1;
  }
  return IN_V(r);
}

OUT_W binary(IN_W sa, IN_W sb) {
  IN_V x = IN_LOAD(sa), y = IN_LOAD(sb), r = IN_V(0);
  switch (OP) {
    case LX_ADD: r = x + y; break;
    case LX_SUB: r = x - y; break;
    case LX_MUL: r = x * y; break;
    case LX_POW: r = lx_ipow(x, y); break;
    case LX_MAXIMUM: r = max(x, y); break;
    case LX_MINIMUM: r = min(x, y); break;
  }
  return OUT_STORE(r);
}
#endif

void element(ivec4 pos) { out0[pos.x] = OUT_T(binary(IN_W(in1[pos.y]), IN_W(in2[pos.z]))); }
