#version 450
// window.comp — reduce_window (lax.reduce_window with max or sum; op is
// specialization constant 1, lx_reduce_op's LX_SUM = 0 or LX_MAX = 2) of one
// dtype (-DIN=...), with the CPU backend's results (cpu_window.c):
//
//   sum   float32/float16/bfloat16 in float32 with a compensation term
//         (two-sum), rounded once into the dtype; float64 in double;
//         integers wrap in their own width (uint8 in 32 bits, then the low
//         byte, as the CPU's low bits).
//   max   NaN wins; otherwise the largest value, written with its own bits.
//         A window entirely in the padding gives -inf (the lowest integer).
//
// One thread per output element (grid-stride). The host has dropped axes
// that do nothing and merged neighbours that are plain (window 1, stride 1,
// no padding) and contiguous. Up to 4 axes travel in the push constants;
// more in a small int buffer at binding 3 (read only when pc.general is
// set; otherwise binding 3 holds binding 1's buffer again, unread).
// Each window is clipped to the input on every axis, so padding is never
// read: it only ever contributes the identity.
#define OUT IN
#define OUT_DT IN_DT
#define LX_OWN_KERNEL
#include "common.glsl"

const int LX_SUM = 0, LX_MAX = 2;
layout(constant_id = 1) const int OP = LX_SUM;

// 128 bytes (the host's win_push).
layout(push_constant, std430) uniform Push {
  uint nout;       // output elements
  uint ndim;       // axes after merging (>= 1)
  uint in_offset;  // element offset of the input's element 0
  uint out_offset;
  uint general;    // 1: the axes are in lay[] (see ax())
  uint pad0, pad1, pad2;
  uvec4 oshape;    // output extents, outermost first (unused: 1)
  uvec4 ishape;    // input extents
  ivec4 istride;   // input strides, elements
  uvec4 window;
  uvec4 step;      // window strides
  uvec4 lo;        // padding below
} pc;

layout(set = 0, binding = 0, std430) writeonly buffer Out { IN_T out_v[]; };
layout(set = 0, binding = 1, std430) readonly buffer In { IN_T in_v[]; };
// With pc.general: six runs of ndim ints, in the order of the push fields
// above (oshape, ishape, istride, window, step, lo), outermost axis first.
layout(set = 0, binding = 3, std430) readonly buffer Layout { int lay[]; };

const int F_OSHAPE = 0, F_ISHAPE = 1, F_ISTRIDE = 2, F_WINDOW = 3, F_STEP = 4, F_LO = 5;
#define MAX_AXES 32

int ax(int field, int d) {
  if (pc.general != 0u) return lay[field * int(pc.ndim) + d];
  if (field == F_OSHAPE) return int(pc.oshape[d]);
  if (field == F_ISHAPE) return int(pc.ishape[d]);
  if (field == F_ISTRIDE) return pc.istride[d];
  if (field == F_WINDOW) return int(pc.window[d]);
  if (field == F_STEP) return int(pc.step[d]);
  return int(pc.lo[d]);
}

// ------------------------------------------------------------- the values
#if DT_IS_F32ISH(IN_DT)
#define VAL float
VAL val_of(IN_W w) { return IN_LOAD(w); }
bool val_nan(IN_W w) { return (IN_F32BITS(w) & 0x7fffffffu) > 0x7f800000u; }
IN_W lowest_w() { return IN_W(IN_SIGN | IN_INF); } // -inf
#elif IN_DT == DT_f64
#define VAL double
VAL val_of(IN_W w) { return w; }
bool val_nan(IN_W w) {
  uvec2 b = unpackDouble2x32(w);
  return (b.y & 0x7fffffffu) > 0x7ff00000u || ((b.y & 0x7fffffffu) == 0x7ff00000u && b.x != 0u);
}
IN_W lowest_w() { return packDouble2x32(uvec2(0u, 0xfff00000u)); }
#elif IN_DT == DT_i64
#define VAL int64_t
VAL val_of(IN_W w) { return w; }
bool val_nan(IN_W w) { return false; }
IN_W lowest_w() { return int64_t(0x8000000000000000ul); }
#elif IN_DT == DT_i32
#define VAL int
VAL val_of(IN_W w) { return w; }
bool val_nan(IN_W w) { return false; }
IN_W lowest_w() { return int(0x80000000u); }
#else // uint8, uint32
#define VAL uint
VAL val_of(IN_W w) { return w; }
bool val_nan(IN_W w) { return false; }
IN_W lowest_w() { return 0u; }
#endif

// ------------------------------------------------------------ the folding
// Max keeps the best element's own bits (w) and whether it is a NaN; sum
// keeps s (+ c, the compensation, for float32-like dtypes).
IN_W best_w;
bool best_nan;
VAL s;
#if DT_IS_F32ISH(IN_DT)
float c;
#endif

void acc_init() {
  best_w = lowest_w();
  best_nan = false;
  s = VAL(0);
#if DT_IS_F32ISH(IN_DT)
  c = 0.0;
#endif
}

void acc_fold(IN_W w) {
  if (OP == LX_MAX) {
    if (best_nan) return;
    if (val_nan(w)) {
      best_nan = true;
      best_w = w;
    } else if (val_of(w) > val_of(best_w)) {
      best_w = w;
    }
    return;
  }
#if DT_IS_F32ISH(IN_DT)
  // s + x = t + e exactly (Knuth's two-sum); e goes into c.
  float x = val_of(w);
  precise float t = s + x;
  precise float bb = t - s;
  precise float e = (s - (t - bb)) + (x - bb);
  precise float cc = c + e;
  s = t;
  c = cc;
#else
  s += val_of(w);
#endif
}

void acc_store(uint o) {
  if (OP == LX_MAX) {
    out_v[o] = IN_T(best_w);
    return;
  }
#if DT_IS_F32ISH(IN_DT)
  float t = s;
  // Once the sum is inf or NaN the compensation means nothing.
  if ((floatBitsToUint(s) & 0x7fffffffu) < 0x7f800000u) {
    precise float u = s + c;
    t = u;
  }
  out_v[o] = IN_T(OUT_STORE(t));
#else
  out_v[o] = IN_T(s);
#endif
}

void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  int nd = int(pc.ndim);
  for (uint o = gl_GlobalInvocationID.x; o < pc.nout; o += stride) {
    // The window of output o, clipped to the input: cnt[d] elements per
    // axis from position `base`.
    int cnt[MAX_AXES];
    int base = int(pc.in_offset);
    uint box = 1u, rest = o;
    for (int d = nd - 1; d >= 0; d--) {
      uint extent = uint(ax(F_OSHAPE, d));
      uint q = rest / extent;
      int pos = int(rest - q * extent);
      rest = q;
      int start = pos * ax(F_STEP, d) - ax(F_LO, d);
      int first = max(start, 0);
      int end = min(start + ax(F_WINDOW, d), ax(F_ISHAPE, d));
      cnt[d] = max(end - first, 0);
      box *= uint(cnt[d]);
      base += first * ax(F_ISTRIDE, d);
    }
    acc_init();
    if (box > 0u) {
      uint inner = uint(cnt[nd - 1]);
      int istep = ax(F_ISTRIDE, nd - 1);
      uint outer = box / inner;
      for (uint r = 0u; r < outer; r++) {
        int p = base;
        uint t = r;
        for (int d = nd - 2; d >= 0; d--) {
          uint n = uint(cnt[d]);
          uint q = t / n;
          p += int(t - q * n) * ax(F_ISTRIDE, d);
          t = q;
        }
        for (uint i = 0u; i < inner; i++, p += istep) acc_fold(IN_W(in_v[p]));
      }
    }
    acc_store(pc.out_offset + o);
  }
}
