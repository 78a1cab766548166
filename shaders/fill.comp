#version 450
// fill.comp — every element of the output = the ELEM_BYTES-byte value whose
// bits are in pc.param.x (low word) and pc.param.y (high word).
#define LX_OPERANDS 1
#include "common.glsl"

LX_OUTPUT(RAW_T)

void element(ivec4 pos) {
#if ELEM_BYTES == 8
  out0[pos.x] = uvec2(pc.param.x, pc.param.y);
#else
  out0[pos.x] = RAW_T(pc.param.x); // narrower types keep the low bits
#endif
}
