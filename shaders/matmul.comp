#version 450
// matmul.comp — C[b] = A[b] @ B[b] for one dtype (-DIN=...), as the CPU
// backend computes it (runtime/cpu/cpu_matmul.c): float32 in float32,
// float16/bfloat16 in float32 rounded to nearest even once at the end,
// float64 in double, integers with wrapping arithmetic (uint8 modulo 256).
//
// A and B are read in place through their strides (any: transposed views,
// 0 for broadcast, negative); C is contiguous. Each workgroup (WG threads,
// specialization constant 0: a power of two, 64..256) computes BM x BN
// tiles of C: the threads as TY rows of TX = 16, each a 4 x 4 block of
// accumulators in registers (rows 4ty.., columns 4tx..). K advances TILE_K
// at a time (specialization constant 2: 16, or 8 for 8-byte types so that
// the tiles stay well inside 16 KiB of shared memory) through A and B tiles
// staged in shared memory as 4-vectors: a step of the inner loop is two
// vector loads (A's 4 rows, B's 4 columns) and four vector multiply-adds.
// Elements past M, N or K read as 0.
//
// Tiles are numbered batch-major, then along M, then N; each workgroup
// takes tiles gl_WorkGroupID.x, + gl_NumWorkGroups.x, ... (the host may
// launch fewer groups than tiles). The batch index is split over the batch
// axes for A's and B's offsets (stride 0 where broadcast): up to 3 in the
// push constants, more in a small int buffer at binding 3 (flag bit 2;
// otherwise binding 3 is a copy of binding 1's buffer, never read).
#define OUT IN
#define OUT_DT IN_DT
#define LX_OWN_KERNEL
#include "common.glsl"

layout(constant_id = 2) const uint TILE_K = 16;
const uint TX = 16;
const uint TY = gl_WorkGroupSize.x / TX;
const uint BM = TY * 4;
const uint BN = TX * 4;
// Shared rows (in 4-vectors) one vector longer than the tile: the stores
// that walk K across threads then spread over the banks.
const uint LDA = BM / 4 + 1;
const uint LDB = BN / 4 + 1;

// 112 bytes (the host's mm_push).
layout(push_constant, std430) uniform Push {
  uint M, N, K, batches;
  uint tiles_m, tiles_n;
  uint flags;        // bit 0: load A along K first; bit 1: load B along N
                     // first; bit 2: batch axes in lay[]
  uint c_offset;
  uvec4 bshape;      // batch axes (x outermost, z innermost; unused: 1)
  ivec4 a_stride;    // A's strides along the batch axes (elements)
  ivec4 b_stride;
  ivec4 mat_stride;  // A rows, A columns, B rows, B columns
  uint a_offset, b_offset, pad0, pad1;
} pc;

layout(set = 0, binding = 0, std430) writeonly buffer Out { IN_T c_v[]; };
layout(set = 0, binding = 1, std430) readonly buffer InA { IN_T a_v[]; };
layout(set = 0, binding = 2, std430) readonly buffer InB { IN_T b_v[]; };
// With flag bit 2: {nb, extents[nb], A strides[nb], B strides[nb]}.
layout(set = 0, binding = 3, std430) readonly buffer Layout { int lay[]; };

// The accumulator type, and elements into and out of it.
#if DT_IS_F32ISH(IN_DT)
#define ACC float
#define ACC4 vec4
#define LOAD(x) IN_LOAD(IN_W(x))
#define STORE(v) IN_T(OUT_STORE(v))
#elif IN_DT == DT_f64
#define ACC double
#define ACC4 dvec4
#define LOAD(x) (x)
#define STORE(v) (v)
#elif DT_IS_INT64(IN_DT)
#define ACC uint64_t
#define ACC4 u64vec4
#define LOAD(x) uint64_t(x)
#define STORE(v) IN_T(v)
#else // int32, uint32, uint16, uint8: wrapping uint arithmetic, the low bits kept
#define ACC uint
#define ACC4 uvec4
#define LOAD(x) uint(x)
#define STORE(v) IN_T(v)
#endif

shared ACC4 As[TILE_K * LDA]; // A(m, k) in As[k * LDA + m / 4][m % 4]
shared ACC4 Bs[TILE_K * LDB]; // B(k, n) in Bs[k * LDB + n / 4][n % 4]

void main() {
  uint lid = gl_LocalInvocationID.x;
  uint tx = lid % TX, ty = lid / TX;
  uint M = pc.M, N = pc.N, K = pc.K;
  int a_rs = pc.mat_stride.x, a_cs = pc.mat_stride.y;
  int b_rs = pc.mat_stride.z, b_cs = pc.mat_stride.w;
  bool a_kfirst = (pc.flags & 1u) != 0u, b_nfirst = (pc.flags & 2u) != 0u;
  uint per_batch = pc.tiles_m * pc.tiles_n;
  uint tiles = per_batch * pc.batches;
  for (uint t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {
    uint batch = t / per_batch, rest = t - batch * per_batch;
    uint m0 = (rest / pc.tiles_n) * BM, n0 = (rest % pc.tiles_n) * BN;
    int a_base = int(pc.a_offset), b_base = int(pc.b_offset);
    if ((pc.flags & 4u) != 0u) {
      int nb = lay[0];
      uint q = batch;
      for (int d = nb - 1; d >= 0; d--) {
        uint extent = uint(lay[1 + d]), r = q / extent;
        int i = int(q - r * extent);
        a_base += i * lay[1 + nb + d];
        b_base += i * lay[1 + 2 * nb + d];
        q = r;
      }
    } else {
      uint bz = batch % pc.bshape.z, q = batch / pc.bshape.z;
      uint by = q % pc.bshape.y, bx = q / pc.bshape.y;
      a_base += int(bx) * pc.a_stride.x + int(by) * pc.a_stride.y + int(bz) * pc.a_stride.z;
      b_base += int(bx) * pc.b_stride.x + int(by) * pc.b_stride.y + int(bz) * pc.b_stride.z;
    }

    ACC4 acc[4]; // acc[i][j]: C(m0 + 4ty + i, n0 + 4tx + j)
    for (int i = 0; i < 4; i++) acc[i] = ACC4(0);

    for (uint k0 = 0u; k0 < K; k0 += TILE_K) {
      // Stage the A tile (BM x TILE_K) and the B tile (TILE_K x BN);
      // neighbouring threads take the neighbouring elements in memory.
      for (uint e = lid; e < BM * TILE_K; e += gl_WorkGroupSize.x) {
        uint m = a_kfirst ? e / TILE_K : e % BM, k = a_kfirst ? e % TILE_K : e / BM;
        uint gm = m0 + m, gk = k0 + k;
        ACC v = ACC(0);
        if (gm < M && gk < K) v = LOAD(a_v[a_base + int(gm) * a_rs + int(gk) * a_cs]);
        As[k * LDA + m / 4u][m % 4u] = v;
      }
      for (uint e = lid; e < TILE_K * BN; e += gl_WorkGroupSize.x) {
        uint n = b_nfirst ? e % BN : e / TILE_K, k = b_nfirst ? e / BN : e % TILE_K;
        uint gn = n0 + n, gk = k0 + k;
        ACC v = ACC(0);
        if (gn < N && gk < K) v = LOAD(b_v[b_base + int(gk) * b_rs + int(gn) * b_cs]);
        Bs[k * LDB + n / 4u][n % 4u] = v;
      }
      barrier();
      for (uint k = 0u; k < TILE_K; k++) {
        ACC4 a = As[k * LDA + ty], b = Bs[k * LDB + tx];
        acc[0] += a.x * b;
        acc[1] += a.y * b;
        acc[2] += a.z * b;
        acc[3] += a.w * b;
      }
      barrier(); // the next K step overwrites the tiles
    }

    int c_base = int(pc.c_offset) + int(batch * M * N);
    for (int i = 0; i < 4; i++) {
      uint m = m0 + 4u * ty + uint(i);
      if (m >= M) break;
      for (int j = 0; j < 4; j++) {
        uint n = n0 + 4u * tx + uint(j);
        if (n < N) c_v[c_base + int(m * N + n)] = STORE(acc[i][j]);
      }
    }
  }
}
