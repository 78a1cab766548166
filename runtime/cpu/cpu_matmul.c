/*
** cpu_matmul.c — batched matrix products on the CPU.
**
** float32/float64 go to OpenBLAS, reading strided operands in place when
** BLAS can describe them (row-major with a leading dimension, or the
** transpose of one) and copying them to a contiguous temporary otherwise.
** float16/bfloat16 are widened to float32, multiplied by sgemm and rounded
** back once. Integers use a plain loop with wrapping arithmetic.
*/
#include "cpu_kernels.h"
#include "cpu_iter.h"
#include "half.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* One batch's operand: element (0,0) and the strides (elements) of its
** rows and columns. */
typedef struct mat {
  const char *p;
  int64_t rows, cols, rs, cs;
} mat;

/* How BLAS reads a matrix in place: row-major with leading dimension ld
** (trans false), or as the transpose of a row-major cols x rows matrix
** (trans true). An axis of extent 1 is never stepped along, so its stride
** does not matter. */
typedef struct blas_view {
  bool trans;
  int64_t ld;
} blas_view;

static bool blas_fits(const mat *m, blas_view *v) {
  if (m->cols <= 1 || m->cs == 1) {
    int64_t need = m->cols > 1 ? m->cols : 1;
    int64_t ld = m->rows <= 1 ? need : m->rs;
    if (ld >= need && ld <= INT_MAX) { v->trans = false; v->ld = ld; return true; }
  }
  if (m->rows <= 1 || m->rs == 1) {
    int64_t need = m->rows > 1 ? m->rows : 1;
    int64_t ld = m->cols <= 1 ? need : m->cs;
    if (ld >= need && ld <= INT_MAX) { v->trans = true; v->ld = ld; return true; }
  }
  return false;
}

/* Copies a strided matrix into a contiguous row-major one, converting
** each element to the destination type. */
#define DEF_GATHER(NAME, T, D, LOAD)                                          \
  static void NAME(void *out, const mat *m) {                                 \
    D *dst = out;                                                             \
    for (int64_t i = 0; i < m->rows; i++) {                                   \
      const T *row = (const T *)m->p + i * m->rs;                             \
      D *d = dst + i * m->cols;                                               \
      if (m->cs == 1)                                                         \
        for (int64_t j = 0; j < m->cols; j++) d[j] = LOAD(row[j]);            \
      else                                                                    \
        for (int64_t j = 0; j < m->cols; j++) d[j] = LOAD(row[j * m->cs]);    \
    }                                                                         \
  }

typedef void (*gather_fn)(void *dst, const mat *m);

#define LOAD_SAME(x) (x)
DEF_GATHER(gather_f32, float, float, LOAD_SAME)
DEF_GATHER(gather_f64, double, double, LOAD_SAME)
DEF_GATHER(gather_f16, uint16_t, float, lx__h2f)
DEF_GATHER(gather_bf16, uint16_t, float, lx__bf2f)

/* ------------------------------------------------------------- batches */

/* Walks the batch axes (all but the last two) with a counter and hands
** out each batch's operands. */
typedef struct batch_walk {
  const lx_array *a, *b;
  lx_array *c;
  int nb;
  int64_t idx[LX_MAX_DIMS];
  bool done;
} batch_walk;

static void batch_start(batch_walk *w, const lx_op *op) {
  w->a = op->in[0];
  w->b = op->in[1];
  w->c = op->out;
  w->nb = w->c->ndim - 2;
  memset(w->idx, 0, sizeof w->idx);
  w->done = false;
}

/* The current batch's matrices; false when every batch has been visited. */
static bool batch_next(batch_walk *w, mat *a, mat *b, char **c) {
  if (w->done) return false;
  const lx_array *A = w->a, *B = w->b;
  lx_array *C = w->c;
  int nb = w->nb;
  int64_t oa = 0, ob = 0, oc = 0;
  for (int d = 0; d < nb; d++) {
    oa += w->idx[d] * A->strides[d];
    ob += w->idx[d] * B->strides[d];
    oc += w->idx[d] * C->strides[d];
  }
  size_t item = lx_dtype_size(C->dtype);
  *a = (mat){lx__cpu_base(A) + oa * (int64_t)item, A->shape[nb], A->shape[nb + 1],
             A->strides[nb], A->strides[nb + 1]};
  *b = (mat){lx__cpu_base(B) + ob * (int64_t)item, B->shape[nb], B->shape[nb + 1],
             B->strides[nb], B->strides[nb + 1]};
  *c = lx__cpu_base(C) + oc * (int64_t)item;
  int d = nb - 1;
  while (d >= 0 && ++w->idx[d] == C->shape[d]) w->idx[d--] = 0;
  if (d < 0) w->done = true;
  return true;
}

/* ---------------------------------------------------------- temporaries */

/* rows x cols elements of `item` bytes, or NULL with the error set. */
static void *alloc_matrix(int64_t rows, int64_t cols, size_t item, const char *what) {
  if (rows < 0 || cols < 0 || (cols > 0 && (uint64_t)rows > SIZE_MAX / item / (uint64_t)cols)) {
    lx_set_error(LX_ERR_MEMORY, "matmul: a %lld x %lld %s is too large",
                 (long long)rows, (long long)cols, what);
    return NULL;
  }
  size_t n = (size_t)rows * (size_t)cols * item;
  void *p = malloc(n ? n : 1);
  if (!p)
    lx_set_error(LX_ERR_MEMORY, "matmul: out of host memory for a %lld x %lld %s (%zu bytes)",
                 (long long)rows, (long long)cols, what, n);
  return p;
}

/* An operand as BLAS will read it: in place, or through a contiguous copy
** made once per distinct matrix (a broadcast operand repeats its pointer
** across batches, so it is copied once). */
typedef struct operand {
  void *copy;      /* the temporary, allocated on first need */
  const char *src; /* the matrix the copy holds */
  blas_view view;
  const void *ptr; /* what BLAS reads */
} operand;

/* Prepares `m` for BLAS. `gather` is NULL when the input already has the
** BLAS type and may be read in place; otherwise (halves) it is always
** converted. */
static lx_status operand_prepare(operand *o, const mat *m, gather_fn gather, gather_fn copy,
                                 size_t item, const char *what) {
  if (!gather && blas_fits(m, &o->view)) {
    o->ptr = m->p;
    return LX_OK;
  }
  gather_fn fn = gather ? gather : copy;
  if (!o->copy) {
    o->copy = alloc_matrix(m->rows, m->cols, item, what);
    if (!o->copy) return LX_ERR_MEMORY;
    o->src = NULL;
  }
  if (o->src != m->p) {
    fn(o->copy, m);
    o->src = m->p;
  }
  o->view.trans = false;
  o->view.ld = m->cols > 1 ? m->cols : 1;
  o->ptr = o->copy;
  return LX_OK;
}

/* --------------------------------------------------------------- floats */

static lx_status matmul_blas(const lx_op *op) {
  lx_dtype dt = op->out->dtype;
  bool dbl = dt == LX_FLOAT64, half = dt == LX_FLOAT16 || dt == LX_BFLOAT16;
  gather_fn gather = dt == LX_FLOAT16 ? gather_f16 : dt == LX_BFLOAT16 ? gather_bf16 : NULL;
  gather_fn copy = dbl ? gather_f64 : gather_f32;
  size_t item = dbl ? sizeof(double) : sizeof(float);
  operand oa = {0}, ob = {0};
  float *ctmp = NULL;
  lx_status st = LX_OK;
  batch_walk w;
  batch_start(&w, op);
  mat a, b;
  char *c;
  while (batch_next(&w, &a, &b, &c)) {
    int M = (int)a.rows, K = (int)a.cols, N = (int)b.cols;
    if ((st = operand_prepare(&oa, &a, gather, copy, item, "left operand")) != LX_OK) break;
    if ((st = operand_prepare(&ob, &b, gather, copy, item, "right operand")) != LX_OK) break;
    enum CBLAS_TRANSPOSE ta = oa.view.trans ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = ob.view.trans ? CblasTrans : CblasNoTrans;
    if (dbl) {
      cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, oa.ptr, (blasint)oa.view.ld, ob.ptr,
                  (blasint)ob.view.ld, 0.0, (double *)c, N);
    } else if (!half) {
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, oa.ptr, (blasint)oa.view.ld, ob.ptr,
                  (blasint)ob.view.ld, 0.0f, (float *)c, N);
    } else {
      if (!ctmp && !(ctmp = alloc_matrix(M, N, sizeof(float), "result"))) {
        st = LX_ERR_MEMORY;
        break;
      }
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, oa.ptr, (blasint)oa.view.ld, ob.ptr,
                  (blasint)ob.view.ld, 0.0f, ctmp, N);
      /* One rounding from the float32 result. */
      uint16_t *ch = (uint16_t *)c;
      int64_t mn = (int64_t)M * N;
      if (dt == LX_FLOAT16)
        for (int64_t i = 0; i < mn; i++) ch[i] = lx__f2h(ctmp[i]);
      else
        for (int64_t i = 0; i < mn; i++) ch[i] = lx__f2bf(ctmp[i]);
    }
  }
  free(oa.copy);
  free(ob.copy);
  free(ctmp);
  return st;
}

/* ------------------------------------------------------------- integers */

/* i-k-j order: the inner loop runs along a row of B and of C. The sums
** wrap modulo 2^n in the unsigned type of the same width (signed overflow
** would be undefined). U of uint8 promotes to int, but 255*255 fits; uint16
** computes in MT = uint32, as its products would overflow int. */
#define DEF_INT_MATMUL(NAME, U) DEF_INT_MATMUL_IN(NAME, U, U)
#define DEF_INT_MATMUL_IN(NAME, U, MT)                                         \
  static void NAME(const mat *a, const mat *b, char *cp) {                     \
    U *c = (U *)cp;                                                            \
    int64_t M = a->rows, K = a->cols, N = b->cols;                             \
    for (int64_t i = 0; i < M; i++) {                                          \
      U *crow = c + i * N;                                                     \
      for (int64_t j = 0; j < N; j++) crow[j] = 0;                             \
      for (int64_t k = 0; k < K; k++) {                                        \
        U av = *((const U *)a->p + i * a->rs + k * a->cs);                     \
        if (av == 0) continue;                                                 \
        const U *brow = (const U *)b->p + k * b->rs;                           \
        if (b->cs == 1)                                                        \
          for (int64_t j = 0; j < N; j++)                                      \
            crow[j] = (U)((MT)crow[j] + (MT)av * (MT)brow[j]);                 \
        else                                                                   \
          for (int64_t j = 0; j < N; j++)                                      \
            crow[j] = (U)((MT)crow[j] + (MT)av * (MT)brow[j * b->cs]);         \
      }                                                                        \
    }                                                                          \
  }

DEF_INT_MATMUL(matmul_u8, uint8_t)
DEF_INT_MATMUL(matmul_u32, uint32_t)
DEF_INT_MATMUL(matmul_u64, uint64_t)
DEF_INT_MATMUL_IN(matmul_u16, uint16_t, uint32_t)

static lx_status matmul_int(const lx_op *op) {
  void (*fn)(const mat *, const mat *, char *);
  switch (op->out->dtype) {
    case LX_UINT8: fn = matmul_u8; break;
    case LX_INT32: case LX_UINT32: fn = matmul_u32; break; /* same bits either way */
    case LX_UINT16: fn = matmul_u16; break;
    case LX_INT64: case LX_UINT64: fn = matmul_u64; break;
    default:
      return lx_set_error(LX_ERR_INTERNAL, "matmul: no cpu kernel for %s",
                          lx_dtype_name(op->out->dtype));
  }
  batch_walk w;
  batch_start(&w, op);
  mat a, b;
  char *c;
  while (batch_next(&w, &a, &b, &c)) fn(&a, &b, c);
  return LX_OK;
}

/* ---------------------------------------------------------------- entry */

lx_status lx__cpu_matmul(const lx_op *op) {
  const lx_array *A = op->in[0], *B = op->in[1];
  lx_array *C = op->out;
  int nd = C->ndim;
  if (nd < 2 || A->ndim != nd || B->ndim != nd || A->dtype != C->dtype ||
      B->dtype != C->dtype)
    return lx_set_error(LX_ERR_INTERNAL, "matmul: operands do not match the cpu kernel's "
                        "contract");
  if (C->size == 0) return LX_OK;
  int64_t M = C->shape[nd - 2], N = C->shape[nd - 1], K = A->shape[nd - 1];
  /* Each batch of C is written as one row-major block (ldc = N). */
  if ((N > 1 && C->strides[nd - 1] != 1) || (M > 1 && C->strides[nd - 2] != N))
    return lx_set_error(LX_ERR_INTERNAL, "matmul: the cpu kernel needs row-major result "
                        "matrices");
  if (K == 0) { /* empty sums: all zero bits, which is 0 in every dtype */
    batch_walk w;
    batch_start(&w, op);
    mat a, b;
    char *c;
    while (batch_next(&w, &a, &b, &c))
      memset(c, 0, (size_t)M * (size_t)N * lx_dtype_size(C->dtype));
    return LX_OK;
  }
  switch (C->dtype) {
    case LX_FLOAT32: case LX_FLOAT64: case LX_FLOAT16: case LX_BFLOAT16:
      /* OpenBLAS takes int dimensions (this build has 32-bit blasint). */
      if (M > INT_MAX || N > INT_MAX || K > INT_MAX)
        return lx_set_error(LX_ERR_SHAPE, "matmul: dimensions %lld x %lld x %lld exceed "
                            "what BLAS accepts (%d)", (long long)M, (long long)K,
                            (long long)N, INT_MAX);
      return matmul_blas(op);
    default:
      return matmul_int(op);
  }
}
