#version 450
// unary.comp — out = op(x) for one lx_unary_op (specialization constant 1),
// output dtype = input dtype. CMake builds one module per dtype (-DIN=...).
//
// float32/float16/bfloat16 compute in float32 and round back as half.h
// does; negation and abs work on the bits, as exact as the CPU's. float64
// exp/log/tanh/sin/cos/sigmoid/erf/erf_inv are written out in fmath64.glsl
// (GLSL has no double-precision versions). Integers negate and abs with wrap-around; other ops
// are never sent for them and write 0. bool: abs is the identity.
#define OUT IN
#define OUT_DT IN_DT
#define LX_OPERANDS 2
#include "common.glsl"
#include "ops.glsl"
#include "floatbits.glsl"
#if DT_IS_F32ISH(IN_DT)
#include "fmath.glsl"
#elif IN_DT == DT_f64
#include "fmath64.glsl"
#endif

layout(constant_id = 1) const int OP = LX_NEG;

LX_OUTPUT(OUT_T)
LX_INPUT(1, IN_T, in1)

#if DT_IS_F32ISH(IN_DT)
OUT_W unary(IN_W s) {
  if (OP == LX_NEG) return IN_UNBITS(fb_quiet(fb_flip(IN_BITS(s))));
  if (OP == LX_ABS) return IN_UNBITS(fb_quiet(fb_abs(IN_BITS(s))));
  float x = IN_LOAD(s), y = 0.0;
  switch (OP) {
    case LX_EXP: y = lx_exp(x); break;
    case LX_LOG: y = lx_log(x); break;
    case LX_SQRT: y = uintBitsToFloat(lx_fsqrt_bits(floatBitsToUint(x))); break;
    case LX_TANH: y = lx_tanh(x); break;
    case LX_SIN: y = lx_sin(x); break;
    case LX_COS: y = lx_cos(x); break;
    case LX_SIGMOID: y = lx_sigmoid(x); break;
    case LX_ERF: y = lx_erf(x); break;
    case LX_ERF_INV: y = lx_erf_inv(x); break;
  }
  return OUT_STORE(y);
}
#elif IN_DT == DT_f64
OUT_W unary(IN_W x) {
  if (OP == LX_NEG) return IN_UNBITS(fb_flip(IN_BITS(x)));
  if (OP == LX_ABS) return IN_UNBITS(fb_abs(IN_BITS(x)));
  switch (OP) {
    case LX_SQRT: return sqrt(x);
    case LX_EXP: return lx64_exp(x);
    case LX_LOG: return lx64_log(x);
    case LX_TANH: return lx64_tanh(x);
    case LX_SIN: return lx64_sin(x);
    case LX_COS: return lx64_cos(x);
    case LX_SIGMOID: return lx64_sigmoid(x);
    case LX_ERF: return lx64_erf(x);
    case LX_ERF_INV: return lx64_erf_inv(x);
  }
  return lx64_nan();
}
#else // integers and bool
OUT_W unary(IN_W s) {
  IN_V x = IN_LOAD(s), zero = IN_V(0), y = zero;
#if IN_DT != DT_bool
  if (OP == LX_NEG) y = zero - x; // wraps
#endif
#if DT_IS_SINT(IN_DT)
  if (OP == LX_ABS) y = x < zero ? zero - x : x; // abs(INT_MIN) wraps to INT_MIN
#else
  if (OP == LX_ABS) y = x;
#endif
  return OUT_STORE(y);
}
#endif

void element(ivec4 pos) { out0[pos.x] = OUT_T(unary(IN_W(in1[pos.y]))); }
