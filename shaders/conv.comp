#version 450
// conv.comp — N-d convolution (lax.conv_general_dilated, NC.../OI...
// layouts) for one floating dtype (-DIN=...), computed directly: one
// thread per output element, grid-stride. The CPU backend computes the
// same sums by im2col + GEMM (runtime/cpu/cpu_conv.c); as there, float16
// and bfloat16 accumulate in float32 and are rounded to nearest even once,
// float32 in float32, float64 in double.
//
// x {N, C_in, spatial}, w {C_out, C_in/groups, kernel} and out {N, C_out,
// out spatial} are contiguous from their offsets. Each thread walks the
// kernel positions; for each it finds the input position along every
// spatial axis (skipping padding and lhs-dilation holes), then sums over
// the group's input channels. The per-axis geometry comes from binding 3:
// 8 ints per spatial axis, outermost first:
//   {in size, out size, kernel size, stride, pad_lo, lhs_dilation,
//    rhs_dilation, input element stride}
// All positions are 32-bit ints (the host checks that they fit).
#define OUT IN
#define OUT_DT IN_DT
#define LX_OWN_KERNEL
#include "common.glsl"

// 48 bytes (the host's cv_push).
layout(push_constant, std430) uniform Push {
  uint total;          // output elements
  uint nspatial;
  uint cin, cout;      // channels of x and of out
  uint cg, og;         // per group: input channels, output channels
  uint kprod;          // kernel positions
  uint isp, osp;       // positions per channel of x and of out
  uint x_offset, w_offset, out_offset;
} pc;

layout(set = 0, binding = 0, std430) writeonly buffer Out { IN_T o_v[]; };
layout(set = 0, binding = 1, std430) readonly buffer InX { IN_T x_v[]; };
layout(set = 0, binding = 2, std430) readonly buffer InW { IN_T w_v[]; };
layout(set = 0, binding = 3, std430) readonly buffer Layout { int lay[]; };

#if DT_IS_F32ISH(IN_DT)
#define ACC float
#define LOAD(x) IN_LOAD(IN_W(x))
#define STORE(v) IN_T(OUT_STORE(v))
#else
#define ACC double
#define LOAD(x) (x)
#define STORE(v) (v)
#endif

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  int ns = int(pc.nspatial);
  for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += step) {
    uint sp = i % pc.osp, q = i / pc.osp;
    uint oc = q % pc.cout, n = q / pc.cout;
    uint grp = oc / pc.og;
    int xbase = int(pc.x_offset) + int((n * pc.cin + grp * pc.cg) * pc.isp);
    int wbase = int(pc.w_offset) + int(oc * pc.cg * pc.kprod);
    ACC acc = ACC(0);
    for (uint kidx = 0u; kidx < pc.kprod; kidx++) {
      uint ro = sp, rk = kidx;
      int off = 0;
      bool inside = true;
      for (int d = ns - 1; d >= 0 && inside; d--) {
        int at = 8 * d;
        uint osz = uint(lay[at + 1]), ksz = uint(lay[at + 2]);
        uint o = ro % osz, k = rk % ksz;
        ro /= osz;
        rk /= ksz;
        int lhs = lay[at + 5];
        int pos = int(o) * lay[at + 3] + int(k) * lay[at + 6] - lay[at + 4];
        if (pos < 0 || pos > (lay[at] - 1) * lhs || pos % lhs != 0) inside = false;
        else off += (pos / lhs) * lay[at + 7];
      }
      if (!inside) continue;
      int xp = xbase + off, wp = wbase + int(kidx);
      for (uint c = 0u; c < pc.cg; c++) {
        acc += ACC(LOAD(x_v[xp])) * ACC(LOAD(w_v[wp]));
        xp += int(pc.isp);
        wp += int(pc.kprod);
      }
    }
    o_v[int(pc.out_offset) + int(i)] = STORE(acc);
  }
}
