#version 450
// not.comp — logical_not: out (bool) = 1 where x == 0, else 0. Floats test
// their bits: -0 is zero, NaN and denormals are not (as on the CPU, even
// where the device flushes denormals).
#define OUT bool
#define OUT_DT DT_bool
// float64 is only looked at as bits: no shaderFloat64 needed.
#define LX_F64_WORDS
#define LX_OPERANDS 2
#include "common.glsl"
#include "floatbits.glsl"

LX_OUTPUT(OUT_T)
LX_INPUT(1, IN_T, in1)

bool is_zero(IN_W s) {
#ifdef FB
  return fb_zero(IN_BITS(s));
#else
  return IN_LOAD(s) == IN_V(0);
#endif
}

void element(ivec4 pos) { out0[pos.x] = OUT_T(is_zero(IN_W(in1[pos.y])) ? 1u : 0u); }
