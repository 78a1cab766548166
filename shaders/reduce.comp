#version 450
// reduce.comp — sum, mean, max, min, argmax, argmin (lx_reduce_op,
// specialization constant 1) of one dtype (-DIN=...), with the CPU
// backend's results (runtime/cpu/cpu_reduce.c):
//
//   sum, mean   float32/float16/bfloat16 accumulate in float32 with a
//               compensation term (Knuth's two-sum, per thread and in the
//               tree), which keeps nearly the double-precision sum the CPU
//               computes; float64 in double; integers wrap. The 16-bit
//               results are rounded to nearest even once, from float32.
//               mean = sum / count; the mean of nothing is NaN.
//   max, min    NaN wins; otherwise the first extreme in index order (the
//               tie rule only shows for -0 and +0).
//   arg ops     the index of the first NaN, else of the first extreme, as
//               an int64 written as two uint32 words (low, high): no
//               shaderInt64 is needed for it.
// Floats compare on their bits (floatbits.glsl), exact whatever the device
// does with denormals.
//
// Work layout (chosen by the host, runtime/vulkan/vk_reduce_matmul.c): the
// input is a strided view whose kept axes (one output per position) and
// reduced axes the host has merged where memory allows. Up to 3 of each
// travel in the push constants; more (alternate axes of a 7-D array, odd
// views) in a small int buffer at binding 3, read only when pc.general is
// set (otherwise binding 3 holds binding 1's buffer again, unread).
//
// Each output gets TPO = 2^tpo_log2 threads of one workgroup, which stride
// over its reduced elements and then combine in shared memory as a tree.
// Neighbouring threads take neighbouring reduced elements (lane-major), or
// neighbouring outputs when the kept axis is the one contiguous in memory
// (out-major), so that a warp reads consecutive addresses either way.
//
// Long reductions with few outputs are split: a first dispatch (MODE_PARTIAL)
// reduces `chunk` elements per (split, output) unit into a 16-byte partial
// accumulator, and a second (MODE_FINISH) combines the nsplit partials of
// each output, so that more than a few workgroups share the work.
//
// Accumulators travel as uvec3 words everywhere (registers, shared memory,
// partials): the value's bits in x (and y for 64-bit types), and z = the
// index for max/min/arg ops (EMPTY when nothing was folded yet) or the
// compensation term of a float32 sum.
#define OUT IN
#define OUT_DT IN_DT
#define LX_OWN_KERNEL
#include "common.glsl"
#include "floatbits.glsl"

const int LX_SUM = 0, LX_MEAN = 1, LX_MAX = 2, LX_MIN = 3, LX_ARGMAX = 4, LX_ARGMIN = 5;
layout(constant_id = 1) const int OP = LX_SUM;
const bool SUMLIKE = OP == LX_SUM || OP == LX_MEAN;
const bool MAXLIKE = OP == LX_MAX || OP == LX_ARGMAX;
const bool ARG = OP == LX_ARGMAX || OP == LX_ARGMIN;

const uint MODE_DIRECT = 0u, MODE_PARTIAL = 1u, MODE_FINISH = 2u;
const uint EMPTY = 0xffffffffu;

// 112 bytes (the host's rd_push).
layout(push_constant, std430) uniform Push {
  uint nout;      // outputs
  uint count;     // reduced elements per output (mean divides by it)
  uint chunk;     // reduced elements per split (count when not split)
  uint nsplit;    // splits per output
  uint mode;      // MODE_*
  uint tpo_log2;  // threads per output = 1 << tpo_log2
  uint out_major; // 1: neighbouring threads take neighbouring outputs
  uint in_offset; // element offset of the input's element 0
  uvec4 kshape;   // kept axes (x outermost, z innermost; unused: 1)
  ivec4 kstride;  // their input strides, elements
  uvec4 rshape;   // reduced axes, likewise
  ivec4 rstride;
  uint out_offset;
  uint general;   // 1: the axes are in lay[] instead (see kept_position)
  uint pad0, pad1;
} pc;

// Binding 0 is written, binding 1 read (as the command stream tracks
// them). Each is declared once per way this kernel uses it: the output
// dtype, int64 indices as word pairs, partial accumulators.
layout(set = 0, binding = 0, std430) writeonly buffer Out { IN_T out_v[]; };
layout(set = 0, binding = 0, std430) writeonly buffer OutWords { uint out_w[]; };
layout(set = 0, binding = 0, std430) writeonly buffer OutPart { uvec4 part_out[]; };
layout(set = 0, binding = 1, std430) readonly buffer In { IN_T in_v[]; };
layout(set = 0, binding = 1, std430) readonly buffer InPart { uvec4 part_in[]; };
// With pc.general: {nk, nr, kept extents[nk], kept strides[nk], reduced
// extents[nr], reduced strides[nr]}, outermost axis first.
layout(set = 0, binding = 3, std430) readonly buffer Layout { int lay[]; };

shared uvec3 sh[gl_WorkGroupSize.x];

// ------------------------------------------------------------- the values

// An element's bits as two words (high word 0 for types up to 32 bits).
uvec2 words(IN_W w) {
#if IN_DT == DT_f64
  return unpackDouble2x32(w);
#elif DT_IS_INT64(IN_DT)
  return uvec2(uint(w), uint(uint64_t(w) >> 32));
#elif DT_IS_F32ISH(IN_DT)
  return uvec2(IN_BITS(w), 0u);
#else
  return uvec2(uint(w), 0u);
#endif
}

#ifdef FB
#if IN_DT == DT_f64
#define AS_FB(v) (v)
#else
#define AS_FB(v) ((v).x)
#endif
bool v_nan(uvec2 v) { return fb_nan(AS_FB(v)); }
bool v_lt(uvec2 a, uvec2 b) { return fb_lt(AS_FB(a), AS_FB(b)); }
bool v_eq(uvec2 a, uvec2 b) { return fb_eq(AS_FB(a), AS_FB(b)); }
#else
bool v_nan(uvec2 v) { return false; }
bool v_eq(uvec2 a, uvec2 b) { return a == b; }
#if IN_DT == DT_i64
// Signed high words, then unsigned low words: no 64-bit compare needed.
bool v_lt(uvec2 a, uvec2 b) { return int(a.y) < int(b.y) || (a.y == b.y && a.x < b.x); }
#elif IN_DT == DT_u64
bool v_lt(uvec2 a, uvec2 b) { return a.y < b.y || (a.y == b.y && a.x < b.x); }
#elif IN_DT == DT_i32
bool v_lt(uvec2 a, uvec2 b) { return int(a.x) < int(b.x); }
#else
bool v_lt(uvec2 a, uvec2 b) { return a.x < b.x; }
#endif
#endif

// Whether candidate v (value, index) replaces the running best b: NaN is
// final (the first one, by index), then the extreme, then the lower index
// among equals. Folding in index order this is the CPU's scan; combining
// partial results in any order it gives the same answer.
bool better(uvec3 v, uvec3 b) {
  if (v.z == EMPTY) return false;
  if (b.z == EMPTY) return true;
  bool vn = v_nan(v.xy), bn = v_nan(b.xy);
  if (bn) return vn && v.z < b.z;
  if (vn) return true;
  if (MAXLIKE ? v_lt(b.xy, v.xy) : v_lt(v.xy, b.xy)) return true;
  return v.z < b.z && v_eq(v.xy, b.xy);
}

// -------------------------------------------------------------- the sums
#if DT_IS_F32ISH(IN_DT)
// a + b = s + e exactly (any magnitudes; inf/NaN make e NaN, see finish).
float two_sum(float a, float b, out float e) {
  precise float s = a + b;
  precise float bb = s - a;
  precise float err = (a - (s - bb)) + (b - bb);
  e = err;
  return s;
}
uvec3 sum_add(uvec3 acc, float x) {
  float e;
  float s = two_sum(uintBitsToFloat(acc.x), x, e);
  precise float c = uintBitsToFloat(acc.z) + e;
  return uvec3(floatBitsToUint(s), 0u, floatBitsToUint(c));
}
uvec3 sum_combine(uvec3 a, uvec3 b) {
  float e;
  float s = two_sum(uintBitsToFloat(a.x), uintBitsToFloat(b.x), e);
  precise float c = (uintBitsToFloat(a.z) + uintBitsToFloat(b.z)) + e;
  return uvec3(floatBitsToUint(s), 0u, floatBitsToUint(c));
}
// Once the sum is inf or NaN the compensation is meaningless (NaN).
float sum_total(uvec3 a) {
  float s = uintBitsToFloat(a.x);
  if ((a.x & 0x7fffffffu) >= 0x7f800000u) return s;
  precise float t = s + uintBitsToFloat(a.z);
  return t;
}
uvec3 sum_fold(uvec3 acc, IN_W w) { return sum_add(acc, IN_LOAD(w)); }
#elif IN_DT == DT_f64
uvec3 sum_combine(uvec3 a, uvec3 b) {
  return uvec3(unpackDouble2x32(packDouble2x32(a.xy) + packDouble2x32(b.xy)), 0u);
}
uvec3 sum_fold(uvec3 acc, IN_W w) {
  return uvec3(unpackDouble2x32(packDouble2x32(acc.xy) + w), 0u);
}
#elif DT_IS_INT64(IN_DT)
// Wrapping 64-bit addition on words.
uvec3 sum_combine(uvec3 a, uvec3 b) {
  uint carry;
  uint lo = uaddCarry(a.x, b.x, carry);
  return uvec3(lo, a.y + b.y + carry, 0u);
}
uvec3 sum_fold(uvec3 acc, IN_W w) { return sum_combine(acc, uvec3(words(w), 0u)); }
#else // int32, uint32 (uint8/uint16 and bool sums arrive cast to uint32/int32)
uvec3 sum_combine(uvec3 a, uvec3 b) { return uvec3(a.x + b.x, 0u, 0u); }
uvec3 sum_fold(uvec3 acc, IN_W w) { return uvec3(acc.x + uint(w), 0u, 0u); }
#endif

// ---------------------------------------------------------- accumulators
// A branch, not ?: — glslang folds that into a specialization-constant
// select of vectors, which Mesa 22.3's lavapipe evaluates wrongly.
uvec3 acc_empty() {
  if (SUMLIKE) return uvec3(0u);
  return uvec3(0u, 0u, EMPTY);
}

uvec3 acc_combine(uvec3 a, uvec3 b) {
  if (SUMLIKE) return sum_combine(a, b);
  return better(b, a) ? b : a;
}

// Element r (0-based along the reduced axes) with value w.
uvec3 acc_fold(uvec3 a, IN_W w, uint r) {
  if (SUMLIKE) return sum_fold(a, w);
  uvec3 v = uvec3(words(w), r);
  return better(v, a) ? v : a;
}

// ---------------------------------------------------------------- layout
// Element position of linear index i over the n axes at lay[at...]
// (extents, then strides), innermost last.
int lay_offset(uint i, int at, int n) {
  int pos = 0;
  for (int d = n - 1; d >= 0; d--) {
    uint extent = uint(lay[at + d]);
    uint q = i / extent;
    pos += int(i - q * extent) * lay[at + n + d];
    i = q;
  }
  return pos;
}

int kept_position(uint g) {
  if (pc.general != 0u) return int(pc.in_offset) + lay_offset(g, 2, lay[0]);
  uint z = g % pc.kshape.z;
  g /= pc.kshape.z;
  uint y = g % pc.kshape.y;
  uint x = g / pc.kshape.y;
  return int(pc.in_offset) + int(x) * pc.kstride.x + int(y) * pc.kstride.y +
         int(z) * pc.kstride.z;
}

int reduced_offset(uint r) {
  if (pc.general != 0u) return lay_offset(r, 2 + 2 * lay[0], lay[1]);
  uint z = r % pc.rshape.z;
  r /= pc.rshape.z;
  uint y = r % pc.rshape.y;
  uint x = r / pc.rshape.y;
  return int(x) * pc.rstride.x + int(y) * pc.rstride.y + int(z) * pc.rstride.z;
}

// One thread's share of unit u: elements lane, lane + tpo, ... of the
// unit's range.
uvec3 fold_unit(uint u, uint lane, uint tpo) {
  uvec3 a = acc_empty();
  if (pc.mode == MODE_FINISH) {
    // Partials of output u lie nout apart, split after split.
    for (uint s = lane; s < pc.nsplit; s += tpo)
      a = acc_combine(a, part_in[s * pc.nout + u].xyz);
    return a;
  }
  uint split = u / pc.nout, g = u - split * pc.nout;
  uint lo = split * pc.chunk, hi = min(pc.count, lo + pc.chunk);
  int base = kept_position(g);
  if (pc.general == 0u && pc.rshape.x == 1u && pc.rshape.y == 1u) {
    // One reduced axis (the usual case after merging): no divisions.
    int step = int(tpo) * pc.rstride.z;
    int pos = base + int(lo + lane) * pc.rstride.z;
    for (uint r = lo + lane; r < hi; r += tpo, pos += step)
      a = acc_fold(a, IN_W(in_v[pos]), r);
  } else {
    for (uint r = lo + lane; r < hi; r += tpo)
      a = acc_fold(a, IN_W(in_v[base + reduced_offset(r)]), r);
  }
  return a;
}

// ---------------------------------------------------------------- output
void write_value(uint o, uvec3 a) {
  if (ARG) {
    out_w[2u * o] = a.z; // indices < 2^31: the high word is 0
    out_w[2u * o + 1u] = 0u;
    return;
  }
#if DT_IS_F32ISH(IN_DT)
  if (SUMLIKE) {
    float t = sum_total(a);
    if (OP == LX_MEAN) t = pc.count == 0u ? uintBitsToFloat(0x7fc00000u) : t / float(pc.count);
    out_v[o] = IN_T(OUT_STORE(t));
  } else {
    out_v[o] = IN_T(fb_quiet(a.x));
  }
#elif IN_DT == DT_f64
  double t = packDouble2x32(a.xy);
  if (OP == LX_MEAN)
    t = pc.count == 0u ? packDouble2x32(uvec2(0u, 0x7ff80000u)) : t / double(pc.count);
  out_v[o] = t;
#elif DT_IS_INT64(IN_DT)
  out_v[o] = IN_T(uint64_t(a.x) | (uint64_t(a.y) << 32));
#else
  out_v[o] = IN_T(a.x);
#endif
}

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint tpo = 1u << pc.tpo_log2;
  uint per_group = gl_WorkGroupSize.x >> pc.tpo_log2; // outputs per workgroup
  bool out_major = pc.out_major != 0u;
  uint slot = out_major ? lid % per_group : lid >> pc.tpo_log2;
  uint lane = out_major ? lid / per_group : lid & (tpo - 1u);
  uint partner = out_major ? per_group : 1u; // distance to the next lane
  uint units = pc.mode == MODE_FINISH ? pc.nout : pc.nout * pc.nsplit;
  uint tiles = (units + per_group - 1u) / per_group;
  // Workgroup-uniform loop (the barriers need it): more tiles than groups.
  for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
    uint u = tile * per_group + slot;
    sh[lid] = u < units ? fold_unit(u, lane, tpo) : acc_empty();
    barrier();
    for (uint s = tpo >> 1; s > 0u; s >>= 1) {
      if (lane < s) sh[lid] = acc_combine(sh[lid], sh[lid + s * partner]);
      barrier();
    }
    if (lane == 0u && u < units) {
      if (pc.mode == MODE_PARTIAL) part_out[u] = uvec4(sh[lid], 0u);
      else write_value(pc.out_offset + u, sh[lid]);
    }
    barrier(); // the next tile reuses sh
  }
}
