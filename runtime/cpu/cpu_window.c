/*
** cpu_window.c — reduce_window (max, sum) on the CPU.
**
** For each output position, the window is clipped to the input on every
** axis (padding only ever contributes the identity, so it is skipped), and
** the clipped box is folded row by row, its last axis as the inner loop.
** Sums accumulate as lx.sum does here (cpu_reduce.c): floats in double,
** rounded once into the dtype; integers in uint64, wrapping. Max keeps the
** dtype's own values (float for the 16-bit floats), NaN sticky, starting
** from -inf (the dtype's lowest value for integers).
*/
#include "cpu_kernels.h"
#include "cpu_iter.h"
#include "cpu_loadstore.h"
#include "half.h"

#include <math.h>
#include <string.h>

typedef struct win_kernel {
  void (*init)(void *acc);
  /* Folds n elements at p, p+s, ... (bytes) into the accumulator. */
  void (*fold)(void *acc, const char *p, int64_t n, int64_t s);
  void (*store)(const void *acc, char *out);
} win_kernel;

/* LOAD_* and ST_*: cpu_loadstore.h (integer sums wrap: the low bits of the
** uint64 sum). */

#define DEF_WSUM(NAME, T, ACC, LOAD, STORE)                                             \
  static void NAME##_sum_init(void *acc) { *(ACC *)acc = 0; }                           \
  static void NAME##_sum_fold(void *acc, const char *p, int64_t n, int64_t s) {         \
    ACC t = *(ACC *)acc;                                                                \
    for (int64_t i = 0; i < n; i++) t += LOAD(*(const T *)(p + i * s));                 \
    *(ACC *)acc = t;                                                                    \
  }                                                                                     \
  static void NAME##_sum_store(const void *acc, char *o) { STORE(*(const ACC *)acc, o); }

/* NaN is sticky: a NaN v replaces, and nothing is greater than a NaN b. */
#define DEF_WMAX(NAME, T, V, LOAD, STORE, LOWEST)                                       \
  static void NAME##_max_init(void *acc) { *(V *)acc = LOWEST; }                        \
  static void NAME##_max_fold(void *acc, const char *p, int64_t n, int64_t s) {         \
    V b = *(V *)acc;                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                   \
      V v = LOAD(*(const T *)(p + i * s));                                              \
      b = ((v != v) | (v > b)) ? v : b;                                                 \
    }                                                                                   \
    *(V *)acc = b;                                                                      \
  }                                                                                     \
  static void NAME##_max_store(const void *acc, char *o) { STORE(*(const V *)acc, o); }

DEF_WSUM(f32, float, double, LOAD_DOUBLE, ST_F32)
DEF_WSUM(f64, double, double, LOAD_DOUBLE, ST_F64)
DEF_WSUM(f16, uint16_t, double, LOAD_HD, ST_F16D)
DEF_WSUM(bf16, uint16_t, double, LOAD_BFD, ST_BF16D)
DEF_WSUM(i32, int32_t, uint64_t, LOAD_U64, ST_U32)
DEF_WSUM(i64, int64_t, uint64_t, LOAD_U64, ST_U64)
DEF_WSUM(u8, uint8_t, uint64_t, LOAD_U64, ST_U8)
DEF_WSUM(u32, uint32_t, uint64_t, LOAD_U64, ST_U32)

DEF_WMAX(f32, float, float, LOAD_ID, ST_F32, -INFINITY)
DEF_WMAX(f64, double, double, LOAD_ID, ST_F64, -INFINITY)
DEF_WMAX(f16, uint16_t, float, LOAD_H, ST_F16, -INFINITY)
DEF_WMAX(bf16, uint16_t, float, LOAD_BF, ST_BF16, -INFINITY)
DEF_WMAX(i32, int32_t, int32_t, LOAD_ID, ST_I32, INT32_MIN)
DEF_WMAX(i64, int64_t, int64_t, LOAD_ID, ST_I64, INT64_MIN)
DEF_WMAX(u8, uint8_t, uint8_t, LOAD_ID, ST_U8, 0)
DEF_WMAX(u32, uint32_t, uint32_t, LOAD_ID, ST_U32, 0)

#define WK(NAME, OP) {NAME##_##OP##_init, NAME##_##OP##_fold, NAME##_##OP##_store}
#define WKS(NAME) {WK(NAME, sum), WK(NAME, max)}

/* [dtype][0: sum, 1: max]; bool never arrives (the core refuses it). */
static const win_kernel kernels[LX_DTYPE_COUNT][2] = {
  [LX_FLOAT32] = WKS(f32), [LX_FLOAT64] = WKS(f64), [LX_FLOAT16] = WKS(f16),
  [LX_BFLOAT16] = WKS(bf16), [LX_INT32] = WKS(i32), [LX_INT64] = WKS(i64),
  [LX_UINT8] = WKS(u8), [LX_UINT32] = WKS(u32),
};

lx_status lx__cpu_reduce_window(const lx_op *op) {
  const lx_array *x = op->in[0];
  lx_array *o = op->out;
  if ((op->code != LX_SUM && op->code != LX_MAX) || (unsigned)x->dtype >= LX_DTYPE_COUNT ||
      o->dtype != x->dtype || o->ndim != x->ndim || !lx_array_is_contiguous(o) ||
      !kernels[x->dtype][op->code == LX_MAX].init)
    return lx_set_error(LX_ERR_INTERNAL, "reduce_window: %s of %s is not a cpu kernel",
                        lx_reduce_op_name((lx_reduce_op)op->code), lx_dtype_name(x->dtype));
  const win_kernel *k = &kernels[x->dtype][op->code == LX_MAX];
  int nd = x->ndim;
  int64_t isz = (int64_t)lx_dtype_size(x->dtype), osz = (int64_t)lx_dtype_size(o->dtype);
  const char *in = lx__cpu_base(x);
  char *out = lx__cpu_base(o);
  uint64_t acc[2]; /* room for any accumulator */
  if (nd == 0) { /* one element, one window */
    k->init(acc);
    k->fold(acc, in, 1, 0);
    k->store(acc, out);
    return LX_OK;
  }
  const int64_t *w = op->p.window.window, *s = op->p.window.strides,
                *lo = op->p.window.pad_lo;
  int64_t pos[LX_MAX_DIMS] = {0}; /* the output position, row-major */
  for (int64_t e = 0; e < o->size; e++) {
    /* The window clipped to the input: box[d] elements from first[d]. */
    int64_t box[LX_MAX_DIMS], base = 0;
    bool empty = false;
    for (int d = 0; d < nd; d++) {
      int64_t start = pos[d] * s[d] - lo[d];
      int64_t first = start < 0 ? 0 : start;
      int64_t end = start + w[d] < x->shape[d] ? start + w[d] : x->shape[d];
      box[d] = end - first;
      if (box[d] <= 0) empty = true;
      base += first * x->strides[d];
    }
    k->init(acc);
    if (!empty) {
      /* Odometer over the box's outer axes; its last axis is one fold. */
      int64_t bi[LX_MAX_DIMS] = {0};
      int64_t inner_stride = x->strides[nd - 1] * isz;
      for (;;) {
        int64_t off = base;
        for (int d = 0; d < nd - 1; d++) off += bi[d] * x->strides[d];
        k->fold(acc, in + off * isz, box[nd - 1], inner_stride);
        int d = nd - 2;
        while (d >= 0 && ++bi[d] == box[d]) bi[d--] = 0;
        if (d < 0) break;
      }
    }
    k->store(acc, out + e * osz);
    for (int d = nd - 1; d >= 0 && ++pos[d] == o->shape[d]; d--) pos[d] = 0;
  }
  return LX_OK;
}
