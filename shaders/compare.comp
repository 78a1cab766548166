#version 450
// compare.comp — out (bool) = x OP y for OP in EQ..GE (specialization
// constant 1). Floats compare as IEEE does (NaN unordered: false except
// NE; -0 == +0), on bits so that denormals compare exactly everywhere.
#define OUT bool
#define OUT_DT DT_bool
// float64 is only looked at as bits: no shaderFloat64 needed.
#define LX_F64_WORDS
#define LX_OPERANDS 3
#include "common.glsl"
#include "ops.glsl"
#include "floatbits.glsl"

layout(constant_id = 1) const int OP = LX_EQ;

LX_OUTPUT(OUT_T)
LX_INPUT(1, IN_T, in1)
LX_INPUT(2, IN_T, in2)

bool compare(IN_W sa, IN_W sb) {
#ifdef FB
  FB x = IN_BITS(sa), y = IN_BITS(sb);
  switch (OP) {
    case LX_EQ: return fb_eq(x, y);
    case LX_NE: return !fb_eq(x, y);
    case LX_LT: return fb_lt(x, y);
    case LX_LE: return fb_le(x, y);
    case LX_GT: return fb_lt(y, x);
    case LX_GE: return fb_le(y, x);
  }
#else
  IN_V x = IN_LOAD(sa), y = IN_LOAD(sb);
  switch (OP) {
    case LX_EQ: return x == y;
    case LX_NE: return x != y;
    case LX_LT: return x < y;
    case LX_LE: return x <= y;
    case LX_GT: return x > y;
    case LX_GE: return x >= y;
  }
#endif
  return false;
}

void element(ivec4 pos) { out0[pos.x] = OUT_T(compare(IN_W(in1[pos.y]), IN_W(in2[pos.z])) ? 1u : 0u); }
