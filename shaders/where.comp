#version 450
// where.comp — out = cond ? x : y, moving ELEM_BYTES-byte elements as raw
// bits (one module per element size serves every dtype).
// Bindings: 0 out, 1 cond (uint8, non-zero is true), 2 x, 3 y.
#define LX_OPERANDS 4
#define LX_NEEDS_8BIT 1
#include "common.glsl"

LX_OUTPUT(RAW_T)
LX_INPUT(1, uint8_t, cond)
LX_INPUT(2, RAW_T, in_x)
LX_INPUT(3, RAW_T, in_y)

void element(ivec4 pos) {
  // Only the chosen side is read; 8- and 16-bit values may only be copied.
  if (uint(cond[pos.y]) != 0u) out0[pos.x] = in_x[pos.z];
  else out0[pos.x] = in_y[pos.w];
}
