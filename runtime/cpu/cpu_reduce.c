/*
** cpu_reduce.c — sum, mean, max, min, argmax, argmin on the CPU.
**
** The driver splits the input's axes into kept axes (one per output
** element) and reduced axes, drops size-1 axes and merges neighbours that
** are contiguous with each other, then picks one of two loop orders:
**
**  - inner: for each output, fold the reduced elements, the reduced axis
**    with the smallest stride innermost. Reducing all of a contiguous array
**    or its last axis lands here as one contiguous inner loop per output,
**    which the kernels split over LANES independent accumulators so that
**    the loop vectorises without reassociating anything.
**  - rows: when a kept axis is the one with the smallest stride (reducing a
**    leading axis of a contiguous array), walk the reduced positions in the
**    outer loop and fold each row of the kept axis into a row of
**    accumulators, instead of walking each column with a stride.
**
** The per-dtype kernels come from macros; the driver only sees a table of
** function pointers and opaque accumulators. Float sums accumulate in
** double, integer sums in uint64 (wrapping), extremes in the dtype itself
** (float for the 16-bit floats).
*/
#include "cpu_kernels.h"
#include "cpu_iter.h"
#include "cpu_loadstore.h"
#include "half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Independent partial sums in contiguous inner loops. */
#define LANES 8
/* Max/min keep their partial results in a small array in memory: the
** vectoriser handles an elementwise select over an array, but not a
** select-based reduction in registers (without -ffast-math it cannot turn
** `v > b ? v : b` into a max instruction: NaNs and signed zeros). */
#define EXT_LANES 32
/* The arg ops scan blocks of this many elements for their extreme first
** (vectorised) and look for its position only in blocks that improve. */
#define ARG_BLOCK 256
/* The rows order wants accumulators for a whole row, so that each pass
** reads the input as one contiguous stream; longer rows go in pieces of
** this many. If even that cannot be allocated, STACK_CHUNK on the stack. */
#define ROW_MAX ((int64_t)1 << 16)
#define STACK_CHUNK 512

/* Accumulators: values (double, uint64 or the dtype's compare type), and
** for the arg ops the index of each value. */
typedef struct acc_ref {
  void *val;
  int64_t *idx;
} acc_ref;

typedef struct red_kernel {
  /* Sets n accumulators to the op's identity. */
  void (*init)(acc_ref a, int64_t n);
  /* Folds n elements at p, p+s, ... (bytes) into accumulator 0. */
  void (*inner)(acc_ref a, const char *p, int64_t n, int64_t s);
  /* Folds element j of a row (p + j*s) into accumulator j, for j < n; r is
  ** the row's position along the reduced axis (the arg ops record it). */
  void (*rows)(acc_ref a, const char *p, int64_t n, int64_t s, int64_t r);
  /* Writes n accumulators to out, os bytes apart; count is the number of
  ** elements each one folded (mean divides by it). */
  void (*store)(acc_ref a, char *out, int64_t n, int64_t os, int64_t count);
} red_kernel;

/* ------------------------------------------------------------ sum, mean */

#define DEF_SUM(NAME, T, ACC, LOAD, STORE)                                              \
  static void NAME##_sum_init(acc_ref a, int64_t n) {                                   \
    ACC *acc = a.val;                                                                   \
    for (int64_t j = 0; j < n; j++) acc[j] = 0;                                         \
  }                                                                                     \
  static void NAME##_sum_inner(acc_ref a, const char *p, int64_t n, int64_t s) {        \
    ACC t = 0;                                                                          \
    if (s == (int64_t)sizeof(T)) {                                                      \
      const T *x = (const T *)p;                                                        \
      ACC l[LANES] = {0};                                                               \
      int64_t i = 0;                                                                    \
      for (; i + LANES <= n; i += LANES)                                                \
        for (int k = 0; k < LANES; k++) l[k] += LOAD(x[i + k]);                         \
      for (; i < n; i++) t += LOAD(x[i]);                                               \
      for (int k = 0; k < LANES; k++) t += l[k];                                        \
    } else {                                                                            \
      for (int64_t i = 0; i < n; i++) t += LOAD(*(const T *)(p + i * s));               \
    }                                                                                   \
    *(ACC *)a.val += t;                                                                 \
  }                                                                                     \
  static void NAME##_sum_rows(acc_ref a, const char *p, int64_t n, int64_t s, int64_t r) { \
    ACC *acc = a.val;                                                                   \
    if (s == (int64_t)sizeof(T)) {                                                      \
      const T *x = (const T *)p;                                                        \
      for (int64_t j = 0; j < n; j++) acc[j] += LOAD(x[j]);                             \
    } else {                                                                            \
      for (int64_t j = 0; j < n; j++) acc[j] += LOAD(*(const T *)(p + j * s));          \
    }                                                                                   \
  }                                                                                     \
  static void NAME##_sum_store(acc_ref a, char *o, int64_t n, int64_t os,               \
                               int64_t count) {                                         \
    const ACC *acc = a.val;                                                             \
    for (int64_t j = 0; j < n; j++) STORE(acc[j], o + j * os);                          \
  }

/* Mean shares sum's accumulation; count 0 gives NaN, as NumPy does. */
#define DEF_MEAN(NAME, STORE)                                                           \
  static void NAME##_mean_store(acc_ref a, char *o, int64_t n, int64_t os,              \
                                int64_t count) {                                        \
    const double *acc = a.val;                                                          \
    for (int64_t j = 0; j < n; j++)                                                     \
      STORE(count > 0 ? acc[j] / (double)count : (double)NAN, o + j * os);              \
  }

/* ---------------------------------------------------------- max, min */

/* "v replaces the running extreme b". NaN is sticky: a NaN v always
** replaces, and nothing compares greater or less than a NaN b. For the
** integer types v != v is false and folds away. Bitwise | rather than ||
** and selects rather than branches, so that the loops if-convert. */
#define MAX_BETTER(v, b) (((v) != (v)) | ((v) > (b)))
#define MIN_BETTER(v, b) (((v) != (v)) | ((v) < (b)))

#define DEF_EXTREME(NAME, OP, T, V, LOAD, STOREV, IDENT, BETTER)                        \
  static void NAME##_##OP##_init(acc_ref a, int64_t n) {                                \
    V *acc = a.val;                                                                     \
    for (int64_t j = 0; j < n; j++) acc[j] = IDENT;                                     \
  }                                                                                     \
  static void NAME##_##OP##_inner(acc_ref a, const char *p, int64_t n, int64_t s) {     \
    V b = *(V *)a.val;                                                                  \
    int64_t i = 0;                                                                      \
    if (s == (int64_t)sizeof(T)) {                                                      \
      const T *x = (const T *)p;                                                        \
      V l[EXT_LANES];                                                                   \
      for (int k = 0; k < EXT_LANES; k++) l[k] = b;                                     \
      for (; i + EXT_LANES <= n; i += EXT_LANES)                                        \
        for (int k = 0; k < EXT_LANES; k++) {                                           \
          V v = LOAD(x[i + k]);                                                         \
          l[k] = BETTER(v, l[k]) ? v : l[k];                                            \
        }                                                                               \
      for (int k = 0; k < EXT_LANES; k++) b = BETTER(l[k], b) ? l[k] : b;               \
    }                                                                                   \
    for (; i < n; i++) {                                                                \
      V v = LOAD(*(const T *)(p + i * s));                                              \
      b = BETTER(v, b) ? v : b;                                                         \
    }                                                                                   \
    *(V *)a.val = b;                                                                    \
  }                                                                                     \
  static void NAME##_##OP##_rows(acc_ref a, const char *p, int64_t n, int64_t s,        \
                                 int64_t r) {                                           \
    V *acc = a.val;                                                                     \
    if (s == (int64_t)sizeof(T)) {                                                      \
      const T *x = (const T *)p;                                                        \
      for (int64_t j = 0; j < n; j++) {                                                 \
        V v = LOAD(x[j]);                                                               \
        acc[j] = BETTER(v, acc[j]) ? v : acc[j];                                        \
      }                                                                                 \
    } else {                                                                            \
      for (int64_t j = 0; j < n; j++) {                                                 \
        V v = LOAD(*(const T *)(p + j * s));                                            \
        acc[j] = BETTER(v, acc[j]) ? v : acc[j];                                        \
      }                                                                                 \
    }                                                                                   \
  }                                                                                     \
  static void NAME##_##OP##_store(acc_ref a, char *o, int64_t n, int64_t os,            \
                                  int64_t count) {                                      \
    const V *acc = a.val;                                                               \
    for (int64_t j = 0; j < n; j++) STOREV(acc[j], o + j * os);                         \
  }

/* ------------------------------------------------------ argmax, argmin */

/* As above, except that once the best is NaN nothing replaces it, so the
** first NaN wins; a strict comparison keeps the first of equal values. */
#define ARGMAX_BETTER(v, b) (((b) == (b)) & (((v) != (v)) | ((v) > (b))))
#define ARGMIN_BETTER(v, b) (((b) == (b)) & (((v) != (v)) | ((v) < (b))))

/* The identity with index 0 is right even when every element equals the
** identity (all -inf for argmax): then element 0 is the first extreme.
** EXT is the matching max/min kernel, used to skip blocks that hold
** nothing strictly better than the best so far. */
#define DEF_ARG(NAME, OP, EXT, T, V, LOAD, IDENT, BETTER)                               \
  static void NAME##_##OP##_init(acc_ref a, int64_t n) {                                \
    V *best = a.val;                                                                    \
    for (int64_t j = 0; j < n; j++) { best[j] = IDENT; a.idx[j] = 0; }                  \
  }                                                                                     \
  /* The first position in [i0, i0+n) better than *b, updating *b and *bi. */           \
  static void NAME##_##OP##_scan(V *b, int64_t *bi, const char *p, int64_t i0,          \
                                 int64_t n, int64_t s) {                                \
    for (int64_t i = i0; i < i0 + n; i++) {                                             \
      V v = LOAD(*(const T *)(p + i * s));                                              \
      if (BETTER(v, *b)) {                                                              \
        *b = v;                                                                         \
        *bi = i;                                                                        \
        if (v != v) return; /* the first NaN is final */                                \
      }                                                                                 \
    }                                                                                   \
  }                                                                                     \
  static void NAME##_##OP##_inner(acc_ref a, const char *p, int64_t n, int64_t s) {     \
    V b = *(V *)a.val;                                                                  \
    int64_t bi = a.idx[0];                                                              \
    if (s == (int64_t)sizeof(T)) {                                                      \
      for (int64_t i0 = 0; i0 < n && b == b; i0 += ARG_BLOCK) {                         \
        int64_t m = n - i0 < ARG_BLOCK ? n - i0 : ARG_BLOCK;                            \
        V e = IDENT;                                                                    \
        NAME##_##EXT##_inner((acc_ref){&e, NULL}, p + i0 * s, m, s);                    \
        if (BETTER(e, b)) NAME##_##OP##_scan(&b, &bi, p, i0, m, s);                     \
      }                                                                                 \
    } else {                                                                            \
      NAME##_##OP##_scan(&b, &bi, p, 0, n, s);                                          \
    }                                                                                   \
    *(V *)a.val = b;                                                                    \
    a.idx[0] = bi;                                                                      \
  }                                                                                     \
  static void NAME##_##OP##_rows(acc_ref a, const char *p, int64_t n, int64_t s,        \
                                 int64_t r) {                                           \
    V *best = a.val;                                                                    \
    int64_t *ix = a.idx;                                                                \
    for (int64_t j = 0; j < n; j++) {                                                   \
      V v = LOAD(*(const T *)(p + j * s));                                              \
      bool u = BETTER(v, best[j]);                                                      \
      best[j] = u ? v : best[j];                                                        \
      ix[j] = u ? r : ix[j];                                                            \
    }                                                                                   \
  }                                                                                     \
  static void NAME##_##OP##_store(acc_ref a, char *o, int64_t n, int64_t os,            \
                                  int64_t count) {                                      \
    for (int64_t j = 0; j < n; j++) memcpy(o + j * os, &a.idx[j], sizeof(int64_t));     \
  }
#define DEF_COMPARE(NAME, T, V, LOAD, STOREV, LOWEST, HIGHEST)                          \
  DEF_EXTREME(NAME, max, T, V, LOAD, STOREV, LOWEST, MAX_BETTER)                        \
  DEF_EXTREME(NAME, min, T, V, LOAD, STOREV, HIGHEST, MIN_BETTER)                       \
  DEF_ARG(NAME, argmax, max, T, V, LOAD, LOWEST, ARGMAX_BETTER)                         \
  DEF_ARG(NAME, argmin, min, T, V, LOAD, HIGHEST, ARGMIN_BETTER)

/* ------------------------------------------------- per-dtype load/store */


/* LOAD_* and ST_*: cpu_loadstore.h. */

DEF_SUM(f32, float, double, LOAD_DOUBLE, ST_F32)
DEF_SUM(f64, double, double, LOAD_DOUBLE, ST_F64)
DEF_SUM(f16, uint16_t, double, LOAD_HD, ST_F16D)
DEF_SUM(bf16, uint16_t, double, LOAD_BFD, ST_BF16D)
DEF_SUM(i32, int32_t, uint64_t, LOAD_U64, ST_U32)
DEF_SUM(i64, int64_t, uint64_t, LOAD_U64, ST_U64)
DEF_SUM(u8, uint8_t, uint64_t, LOAD_U64, ST_U8)
DEF_SUM(u32, uint32_t, uint64_t, LOAD_U64, ST_U32)
DEF_SUM(u16, uint16_t, uint64_t, LOAD_U64, ST_U16)
DEF_SUM(u64, uint64_t, uint64_t, LOAD_U64, ST_U64)

DEF_MEAN(f32, ST_F32)
DEF_MEAN(f64, ST_F64)
DEF_MEAN(f16, ST_F16D)
DEF_MEAN(bf16, ST_BF16D)

DEF_COMPARE(f32, float, float, LOAD_ID, ST_F32, -INFINITY, INFINITY)
DEF_COMPARE(f64, double, double, LOAD_ID, ST_F64, -INFINITY, INFINITY)
DEF_COMPARE(f16, uint16_t, float, LOAD_H, ST_F16, -INFINITY, INFINITY)
DEF_COMPARE(bf16, uint16_t, float, LOAD_BF, ST_BF16, -INFINITY, INFINITY)
DEF_COMPARE(i32, int32_t, int32_t, LOAD_ID, ST_I32, INT32_MIN, INT32_MAX)
DEF_COMPARE(i64, int64_t, int64_t, LOAD_ID, ST_I64, INT64_MIN, INT64_MAX)
DEF_COMPARE(u8, uint8_t, uint8_t, LOAD_ID, ST_U8, 0, UINT8_MAX)
DEF_COMPARE(u32, uint32_t, uint32_t, LOAD_ID, ST_U32, 0, UINT32_MAX)
DEF_COMPARE(u16, uint16_t, uint16_t, LOAD_ID, ST_U16, 0, UINT16_MAX)
DEF_COMPARE(u64, uint64_t, uint64_t, LOAD_ID, ST_U64, 0, UINT64_MAX)
/* bool is 0/1 in a byte: max is any, min is all. */
DEF_COMPARE(b8, uint8_t, uint8_t, LOAD_ID, ST_U8, 0, 1)

#define KERNEL(NAME, OP) \
  {NAME##_##OP##_init, NAME##_##OP##_inner, NAME##_##OP##_rows, NAME##_##OP##_store}
#define MEAN_KERNEL(NAME) \
  {NAME##_sum_init, NAME##_sum_inner, NAME##_sum_rows, NAME##_mean_store}
#define COMPARE_KERNELS(NAME)                                                   \
  [LX_MAX] = KERNEL(NAME, max), [LX_MIN] = KERNEL(NAME, min),                   \
  [LX_ARGMAX] = KERNEL(NAME, argmax), [LX_ARGMIN] = KERNEL(NAME, argmin)

/* Missing entries (integer means, bool sums) never arrive: the core casts
** first. The driver reports them as internal errors. */
static const red_kernel kernels[LX_DTYPE_COUNT][LX_REDUCE_COUNT] = {
  [LX_FLOAT32] = {[LX_SUM] = KERNEL(f32, sum), [LX_MEAN] = MEAN_KERNEL(f32), COMPARE_KERNELS(f32)},
  [LX_FLOAT64] = {[LX_SUM] = KERNEL(f64, sum), [LX_MEAN] = MEAN_KERNEL(f64), COMPARE_KERNELS(f64)},
  [LX_FLOAT16] = {[LX_SUM] = KERNEL(f16, sum), [LX_MEAN] = MEAN_KERNEL(f16), COMPARE_KERNELS(f16)},
  [LX_BFLOAT16] = {[LX_SUM] = KERNEL(bf16, sum), [LX_MEAN] = MEAN_KERNEL(bf16),
                   COMPARE_KERNELS(bf16)},
  [LX_INT32] = {[LX_SUM] = KERNEL(i32, sum), COMPARE_KERNELS(i32)},
  [LX_INT64] = {[LX_SUM] = KERNEL(i64, sum), COMPARE_KERNELS(i64)},
  [LX_UINT8] = {[LX_SUM] = KERNEL(u8, sum), COMPARE_KERNELS(u8)},
  [LX_UINT32] = {[LX_SUM] = KERNEL(u32, sum), COMPARE_KERNELS(u32)},
  [LX_BOOL] = {COMPARE_KERNELS(b8)},
  [LX_UINT16] = {[LX_SUM] = KERNEL(u16, sum), COMPARE_KERNELS(u16)},
  [LX_UINT64] = {[LX_SUM] = KERNEL(u64, sum), COMPARE_KERNELS(u64)},
};

/* ------------------------------------------------------------- driver */

/* A list of axes: extents, input strides and output strides (bytes). */
typedef struct axis_list {
  int n;
  int64_t shape[LX_MAX_DIMS];
  int64_t in[LX_MAX_DIMS];
  int64_t out[LX_MAX_DIMS];
} axis_list;

/* Appends an axis, merging it into the previous one when the pair is one
** run of memory in the input and in the output: the pair's nested loops
** then visit the same elements in the same order as one loop. */
static void axis_push(axis_list *l, int64_t shape, int64_t in, int64_t out) {
  int k = l->n - 1;
  if (k >= 0 && l->in[k] == in * shape && l->out[k] == out * shape) {
    l->shape[k] *= shape;
    l->in[k] = in;
    l->out[k] = out;
    return;
  }
  l->shape[l->n] = shape;
  l->in[l->n] = in;
  l->out[l->n] = out;
  l->n++;
}

/* Moves axis i out of the list (to be the innermost loop). */
static void axis_take(axis_list *l, int i, int64_t *shape, int64_t *in, int64_t *out) {
  *shape = l->shape[i];
  *in = l->in[i];
  *out = l->out[i];
  for (int k = i; k + 1 < l->n; k++) {
    l->shape[k] = l->shape[k + 1];
    l->in[k] = l->in[k + 1];
    l->out[k] = l->out[k + 1];
  }
  l->n--;
}

/* Memory distance of one step along an axis, for choosing the innermost
** loop; a broadcast (stride 0) axis gains nothing from being innermost. */
static int64_t stride_cost(int64_t s) { return s == 0 ? INT64_MAX : (s < 0 ? -s : s); }

static int smallest_stride(const axis_list *l) {
  int best = 0;
  for (int i = 1; i < l->n; i++)
    if (stride_cost(l->in[i]) < stride_cost(l->in[best])) best = i;
  return best;
}

/* Row-major odometer over a list's axes; false once it wraps around. */
static bool odometer_next(const axis_list *l, int64_t *idx) {
  for (int d = l->n - 1; d >= 0; d--) {
    if (++idx[d] < l->shape[d]) return true;
    idx[d] = 0;
  }
  return false;
}

static void odometer_offsets(const axis_list *l, const int64_t *idx, int64_t *in,
                             int64_t *out) {
  int64_t a = 0, b = 0;
  for (int d = 0; d < l->n; d++) {
    a += idx[d] * l->in[d];
    b += idx[d] * l->out[d];
  }
  *in = a;
  *out = b;
}

/* For each output, fold its reduced elements; the reduced axis with the
** smallest stride is the inner loop. */
static void reduce_inner_order(const red_kernel *k, axis_list *kept, axis_list *red,
                               const char *in, char *out, int64_t count) {
  int64_t n, s, unused;
  axis_take(red, smallest_stride(red), &n, &s, &unused);
  uint64_t val; /* room for any accumulator type */
  int64_t idx;
  acc_ref acc = {&val, &idx};
  int64_t ki[LX_MAX_DIMS] = {0};
  do {
    int64_t ioff, ooff;
    odometer_offsets(kept, ki, &ioff, &ooff);
    k->init(acc, 1);
    if (count > 0) {
      int64_t ri[LX_MAX_DIMS] = {0};
      do {
        int64_t roff, r_unused;
        odometer_offsets(red, ri, &roff, &r_unused);
        k->inner(acc, in + ioff + roff, n, s);
      } while (odometer_next(red, ri));
    }
    k->store(acc, out + ooff, 1, 0, count);
  } while (odometer_next(kept, ki));
}

/* Fold whole rows of the kept axis with the smallest stride into a row of
** accumulators, the reduced positions in the outer loop: the input is read
** row after row, as it lies in memory for a leading-axis reduction. */
static void reduce_rows_order(const red_kernel *k, axis_list *kept, axis_list *red,
                              const char *in, char *out, int64_t count) {
  int64_t len, is, os;
  axis_take(kept, smallest_stride(kept), &len, &is, &os);
  /* A failed allocation only costs speed: fall back to a stack block. */
  int64_t chunk = len < ROW_MAX ? len : ROW_MAX;
  uint64_t *heap = malloc((size_t)chunk * 2 * sizeof(uint64_t));
  uint64_t stack[2 * STACK_CHUNK];
  if (!heap) chunk = len < STACK_CHUNK ? len : STACK_CHUNK;
  uint64_t *buf = heap ? heap : stack;
  acc_ref acc = {buf, (int64_t *)(buf + chunk)};
  int64_t ki[LX_MAX_DIMS] = {0};
  do {
    int64_t ioff, ooff;
    odometer_offsets(kept, ki, &ioff, &ooff);
    for (int64_t c = 0; c < len; c += chunk) {
      int64_t n = len - c < chunk ? len - c : chunk;
      k->init(acc, n);
      if (count > 0) {
        int64_t ri[LX_MAX_DIMS] = {0}, r = 0;
        do {
          int64_t roff, r_unused;
          odometer_offsets(red, ri, &roff, &r_unused);
          k->rows(acc, in + ioff + c * is + roff, n, is, r++);
        } while (odometer_next(red, ri));
      }
      k->store(acc, out + ooff + c * os, n, os, count);
    }
  } while (odometer_next(kept, ki));
  free(heap);
}

lx_status lx__cpu_reduce(const lx_op *op) {
  const lx_array *x = op->in[0];
  lx_array *o = op->out;
  int code = op->code;
  if (o->size == 0) return LX_OK; /* no output to write (the core skips these) */
  if (code < 0 || code >= LX_REDUCE_COUNT || (unsigned)x->dtype >= LX_DTYPE_COUNT)
    return lx_set_error(LX_ERR_INTERNAL, "reduce: invalid op %d or dtype %d", code,
                        (int)x->dtype);
  bool arg = code == LX_ARGMAX || code == LX_ARGMIN;
  const red_kernel *k = &kernels[x->dtype][code];
  if (!k->init || o->dtype != (arg ? LX_INT64 : x->dtype) || o->ndim != x->ndim)
    return lx_set_error(LX_ERR_INTERNAL, "reduce: %s of %s into %s is not a cpu kernel",
                        lx_reduce_op_name((lx_reduce_op)code), lx_dtype_name(x->dtype),
                        lx_dtype_name(o->dtype));
  int64_t isz = (int64_t)lx_dtype_size(x->dtype), osz = (int64_t)lx_dtype_size(o->dtype);
  axis_list kept = {0}, red = {0};
  int64_t count = 1;
  for (int i = 0; i < x->ndim; i++) {
    bool reduced = (op->p.reduce.axes_mask >> i) & 1;
    if (reduced) count *= x->shape[i];
    if (x->shape[i] == 1) continue; /* contributes nothing to the walk */
    if (reduced) axis_push(&red, x->shape[i], x->strides[i] * isz, 0);
    else axis_push(&kept, x->shape[i], x->strides[i] * isz, o->strides[i] * osz);
  }
  /* An arg op's index is a position along its one axis: the loops number
  ** the reduced elements 0, 1, ... so there must be a single reduced axis. */
  if (arg && red.n > 1)
    return lx_set_error(LX_ERR_INTERNAL, "%s: reduces one axis at a time",
                        lx_reduce_op_name((lx_reduce_op)code));
  /* No reduced axis left (all of size 1): each output folds one element. */
  if (red.n == 0) axis_push(&red, 1, 0, 0);
  const char *in = lx__cpu_base(x);
  char *out = lx__cpu_base(o);
  /* Rows order when a kept axis is closer-packed than every reduced one,
  ** or when the reduced run is too short for the inner loop to pay. */
  bool rows = false;
  if (kept.n > 0) {
    int ki = smallest_stride(&kept), ri = smallest_stride(&red);
    int64_t kc = stride_cost(kept.in[ki]), rc = stride_cost(red.in[ri]);
    rows = kc < rc || (red.shape[ri] < LANES && kept.shape[ki] >= LANES && kc != INT64_MAX);
  }
  if (rows) reduce_rows_order(k, &kept, &red, in, out, count);
  else reduce_inner_order(k, &kept, &red, in, out, count);
  return LX_OK;
}
