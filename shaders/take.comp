#version 450
// take.comp — jnp.take along one axis (runtime/vulkan/vk_window_take.c):
// out[o, j, i] = a[o, idx[j], i] over contiguous operands, the data moved
// as raw elements of ELEM_BYTES bytes (any dtype of that size), the
// indices of dtype IDX (i32, i64, u8, u32). Indices count from pc.base;
// negative ones from the end. One the CPU would refuse (a check here would
// need a readback) gets JAX's fill value, whose bits the host passes.
// int64 indices are read as two words, so no shaderInt64 is needed.
#include "dtypes.glsl"
#if IDX_DT == DT_u8
#define LX_NEEDS_8BIT 1
#endif
#define LX_OWN_KERNEL
#include "common.glsl"

// 48 bytes (the host's take_push).
layout(push_constant, std430) uniform Push {
  uint nout;       // output elements
  uint inner;      // elements after the axis (one row)
  uint nidx;       // indices
  uint n;          // extent of the axis
  uint a_offset, idx_offset, out_offset;
  uint base;       // what the first entry is called (0 or 1)
  uvec2 fill;      // the fill value's bits (low word first)
  uint pad0, pad1;
} pc;

layout(set = 0, binding = 0, std430) writeonly buffer Out { RAW_T out_v[]; };
layout(set = 0, binding = 1, std430) readonly buffer A { RAW_T a_v[]; };
#if IDX_DT == DT_u8
layout(set = 0, binding = 2, std430) readonly buffer Idx { uint8_t idx_v[]; };
#else
layout(set = 0, binding = 2, std430) readonly buffer Idx { uint idx_v[]; };
#endif

// The 0-based position of index j along the axis, or -1 when outside it.
int position(uint j) {
#if IDX_DT == DT_i64
  uint lo = idx_v[2u * (pc.idx_offset + j)], hi = idx_v[2u * (pc.idx_offset + j) + 1u];
  if (hi == 0xffffffffu && lo >= 0x80000000u) { // -2^31 .. -1
    int v = int(lo);
    return v >= -int(pc.n) ? v + int(pc.n) : -1;
  }
  if (hi != 0u) return -1;
  uint u = lo;
#elif IDX_DT == DT_i32
  int v = int(idx_v[pc.idx_offset + j]);
  if (v < 0) return v >= -int(pc.n) ? v + int(pc.n) : -1;
  uint u = uint(v);
#else
  uint u = uint(idx_v[pc.idx_offset + j]);
#endif
  return u >= pc.base && u - pc.base < pc.n ? int(u - pc.base) : -1;
}

RAW_T fill_value() {
#if ELEM_BYTES == 8
  return pc.fill;
#else
  return RAW_T(pc.fill.x);
#endif
}

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint e = gl_GlobalInvocationID.x; e < pc.nout; e += step) {
    uint t = e / pc.inner, i = e - t * pc.inner;
    uint o = t / pc.nidx, j = t - o * pc.nidx;
    int k = position(j);
    out_v[pc.out_offset + e] =
        k < 0 ? fill_value() : a_v[pc.a_offset + (o * pc.n + uint(k)) * pc.inner + i];
  }
}
