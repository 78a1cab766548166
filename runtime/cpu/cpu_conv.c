/*
** cpu_conv.c — N-d convolution on the CPU as im2col + GEMM.
**
** For each example and group, the receptive fields of a block of output
** positions are gathered into a column matrix (one row per input channel
** and kernel position, one column per output position) and multiplied by
** the group's weights, a row-major {C_out/groups, C_in/groups * kernel}
** matrix, with OpenBLAS. Blocks keep the column matrix below COL_LIMIT
** elements, so memory stays bounded for large inputs. Positions that fall
** into padding or between lhs-dilated elements read as zero; which input
** element an (output, kernel) coordinate pair reads is tabulated once per
** axis.
**
** dtypes as cpu_matmul.c: float32 and float64 in their own precision
** (sgemm, dgemm); float16/bfloat16 widened to float32, multiplied by sgemm
** and rounded to nearest even once at the end. A 1x1 kernel with unit
** strides and no padding or dilation reads the input as the column matrix
** in place.
*/
#include "cpu_kernels.h"
#include "cpu_iter.h"
#include "half.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Elements per column block: 16 MiB of float32. */
#define COL_LIMIT ((int64_t)1 << 22)

typedef struct geom {
  int ns;
  int64_t isz[LX_MAX_DIMS], ksz[LX_MAX_DIMS], osz[LX_MAX_DIMS];
  int64_t istride[LX_MAX_DIMS]; /* element strides of x's spatial axes */
  int64_t isp, kprod, P;        /* input positions, kernel positions, outputs */
  /* tab[d][k * osz[d] + o]: the input index along axis d that output o and
  ** kernel position k read, or -1 for padding or a dilation hole. */
  int64_t *tab[LX_MAX_DIMS];
  int64_t *tabs;
  /* The innermost axis without lhs dilation is read as a strided run:
  ** its stride, rhs dilation and low padding. */
  bool last_plain;
  int64_t last_stride, last_rhs, last_lo;
} geom;

static lx_status geom_init(geom *g, const lx_op *op) {
  const lx_conv_params *p = op->p.conv;
  const lx_array *X = op->in[0], *W = op->in[1];
  lx_array *O = op->out;
  g->ns = p->nspatial;
  g->isp = g->kprod = g->P = 1;
  int64_t ntab = 0;
  for (int d = 0; d < g->ns; d++) {
    g->isz[d] = X->shape[2 + d];
    g->ksz[d] = W->shape[2 + d];
    g->osz[d] = O->shape[2 + d];
    g->isp *= g->isz[d];
    g->kprod *= g->ksz[d];
    g->P *= g->osz[d];
    ntab += g->ksz[d] * g->osz[d];
  }
  int64_t s = 1;
  for (int d = g->ns - 1; d >= 0; d--) {
    g->istride[d] = s;
    s *= g->isz[d];
  }
  int last = g->ns - 1;
  g->last_plain = p->lhs_dilation[last] == 1;
  g->last_stride = p->stride[last];
  g->last_rhs = p->rhs_dilation[last];
  g->last_lo = p->pad_lo[last];
  g->tabs = malloc((size_t)(ntab ? ntab : 1) * sizeof *g->tabs);
  if (!g->tabs)
    return lx_set_error(LX_ERR_MEMORY, "conv: out of host memory for index tables");
  int64_t *t = g->tabs;
  for (int d = 0; d < g->ns; d++) {
    g->tab[d] = t;
    int64_t lhs = p->lhs_dilation[d], last = (g->isz[d] - 1) * lhs;
    for (int64_t k = 0; k < g->ksz[d]; k++)
      for (int64_t o = 0; o < g->osz[d]; o++) {
        int64_t pos = o * p->stride[d] + k * p->rhs_dilation[d] - p->pad_lo[d];
        *t++ = (pos < 0 || pos > last || pos % lhs != 0) ? -1 : pos / lhs;
      }
  }
  return LX_OK;
}

/* Gathers rows [0, cg * kprod) x columns [p0, p0 + pb) of the column
** matrix of one example and group (`src` points at its first channel) into
** `col`, row-major with pb columns. */
#define DEF_IM2COL(NAME, T)                                                    \
  static void NAME(T *col, const T *src, int64_t cg, const geom *g, int64_t p0, \
                   int64_t pb) {                                               \
    int ns = g->ns, last = ns - 1;                                             \
    int64_t rows = cg * g->kprod;                                              \
    for (int64_t r = 0; r < rows; r++) {                                       \
      int64_t c = r / g->kprod, kr = r % g->kprod, k[LX_MAX_DIMS], o[LX_MAX_DIMS]; \
      for (int d = last; d >= 0; d--) { k[d] = kr % g->ksz[d]; kr /= g->ksz[d]; } \
      int64_t q = p0;                                                          \
      for (int d = last; d >= 0; d--) { o[d] = q % g->osz[d]; q /= g->osz[d]; } \
      const T *chan = src + c * g->isp;                                        \
      T *dst = col + r * pb;                                                   \
      int64_t done = 0;                                                        \
      while (done < pb) {                                                      \
        int64_t run = g->osz[last] - o[last];                                  \
        if (run > pb - done) run = pb - done;                                  \
        int64_t off = 0;                                                       \
        bool hole = false;                                                     \
        for (int d = 0; d < last && !hole; d++) {                              \
          int64_t i = g->tab[d][k[d] * g->osz[d] + o[d]];                      \
          if (i < 0) hole = true;                                              \
          else off += i * g->istride[d];                                       \
        }                                                                      \
        if (hole) {                                                            \
          memset(dst, 0, (size_t)run * sizeof(T));                             \
        } else if (g->last_plain) {                                            \
          /* Input index base + j * st for column j: zeros where it falls   \
          ** outside [0, isz), a strided copy (memcpy at stride 1) inside. */ \
          int64_t st = g->last_stride, isz = g->isz[last];                     \
          int64_t base = o[last] * st + k[last] * g->last_rhs - g->last_lo;    \
          int64_t j0 = base >= 0 ? 0 : (-base + st - 1) / st;                  \
          int64_t j1 = isz > base ? (isz - base + st - 1) / st : 0;            \
          if (j0 > run) j0 = run;                                              \
          if (j1 > run) j1 = run;                                              \
          if (j1 < j0) j1 = j0;                                                \
          const T *s = chan + off + base;                                      \
          /* Guarded: the ends are short or empty, and an empty call to    \
          ** memset (what the compiler makes of these loops) still costs. */ \
          if (j0 > 0) for (int64_t j = 0; j < j0; j++) dst[j] = (T)0;          \
          if (st == 1) memcpy(dst + j0, s + j0, (size_t)(j1 - j0) * sizeof(T)); \
          else for (int64_t j = j0; j < j1; j++) dst[j] = s[j * st];           \
          if (j1 < run) for (int64_t j = j1; j < run; j++) dst[j] = (T)0;      \
        } else {                                                               \
          const int64_t *tl = g->tab[last] + k[last] * g->osz[last] + o[last]; \
          const T *s = chan + off;                                             \
          for (int64_t j = 0; j < run; j++) {                                  \
            int64_t i = tl[j];                                                 \
            dst[j] = i >= 0 ? s[i] : (T)0;                                     \
          }                                                                    \
        }                                                                      \
        dst += run;                                                            \
        done += run;                                                           \
        o[last] += run;                                                        \
        for (int d = last; d > 0 && o[d] == g->osz[d]; d--) {                  \
          o[d] = 0;                                                            \
          o[d - 1]++;                                                          \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }

DEF_IM2COL(im2col_f32, float)
DEF_IM2COL(im2col_f64, double)

/* Scratch memory from the CPU device's own allocator: its block cache
** hands the same blocks back on the next call, so a convolution in a loop
** does not pay fresh page faults for its column matrix every time. */
static void *scratch_new(size_t nbytes, const char *what, lx_buffer **buf) {
  if (lx__buffer_new(lx_device_cpu(), nbytes, buf) != LX_OK) {
    lx_set_error(LX_ERR_MEMORY, "conv: out of host memory for %s (%zu bytes)", what, nbytes);
    *buf = NULL;
    return NULL;
  }
  return (*buf)->handle;
}

/* Whether output positions are input positions and the kernel is one
** element: the column matrix is then the input itself. */
static bool pointwise(const lx_conv_params *p, const geom *g) {
  if (g->kprod != 1) return false;
  for (int d = 0; d < g->ns; d++)
    if (p->stride[d] != 1 || p->lhs_dilation[d] != 1 || p->pad_lo[d] != 0 ||
        g->osz[d] != g->isz[d])
      return false;
  return true;
}

/* Groups with this few output channels (depthwise convolutions: one)
** multiply with plain row updates: a BLAS call per group for a 1 x 9
** matrix costs more in dispatch than the arithmetic. */
#define SMALL_GROUP_OUT 4

/* out[i][0..cols) (rows ldc apart) = sum over r of w[i][r] * b[r][0..cols)
** (rows ldb apart), for i < m. */
#define DEF_SMALL_GEMM(NAME, T)                                                \
  static void NAME(const void *wv, int64_t woff, const void *bv, int64_t ldb,  \
                   void *ov, int64_t ooff, int64_t m, int64_t rows,            \
                   int64_t cols, int64_t ldc) {                                \
    const T *w = (const T *)wv + woff, *b = bv;                                \
    for (int64_t i = 0; i < m; i++) {                                          \
      T *o = (T *)ov + ooff + i * ldc;                                         \
      for (int64_t j = 0; j < cols; j++) o[j] = 0;                             \
      for (int64_t r = 0; r < rows; r++) {                                    \
        T a = w[i * rows + r];                                                 \
        const T *br = b + r * ldb;                                             \
        for (int64_t j = 0; j < cols; j++) o[j] += a * br[j];                  \
      }                                                                        \
    }                                                                          \
  }

DEF_SMALL_GEMM(small_gemm_f32, float)
DEF_SMALL_GEMM(small_gemm_f64, double)

/* out (N x cout x P) = conv of x (N x cin x isp) and w (cout x rows), all
** of type T (float when dbl is false). */
static lx_status conv_gemm(const lx_op *op, const geom *g, bool dbl, const void *x,
                           const void *w, void *out) {
  const lx_conv_params *p = op->p.conv;
  int64_t N = op->in[0]->shape[0], cin = op->in[0]->shape[1], cout = op->in[1]->shape[0];
  int64_t G = p->groups, cg = cin / G, og = cout / G, rows = cg * g->kprod, P = g->P;
  size_t item = dbl ? sizeof(double) : sizeof(float);
  if (og > INT_MAX || rows > INT_MAX || P > INT_MAX)
    return lx_set_error(LX_ERR_SHAPE, "conv: a %lld x %lld x %lld product exceeds what BLAS "
                        "accepts (%d)", (long long)og, (long long)rows, (long long)P, INT_MAX);
  bool direct = pointwise(p, g);
  int64_t pb = direct ? P : COL_LIMIT / (rows ? rows : 1);
  if (pb < 1) pb = 1;
  if (pb > P) pb = P;
  void *col = NULL;
  lx_buffer *colbuf = NULL;
  if (!direct && !(col = scratch_new((size_t)(rows * pb) * item, "the column matrix", &colbuf)))
    return LX_ERR_MEMORY;
  for (int64_t n = 0; n < N; n++)
    for (int64_t gi = 0; gi < G; gi++) {
      int64_t xoff = (n * cin + gi * cg) * g->isp, woff = gi * og * rows;
      int64_t ooff = (n * cout + gi * og) * P;
      for (int64_t p0 = 0; p0 < P; p0 += pb) {
        int64_t cols = P - p0 < pb ? P - p0 : pb;
        const void *b = col;
        if (direct) b = (const char *)x + (size_t)xoff * item;
        else if (dbl) im2col_f64(col, (const double *)x + xoff, cg, g, p0, cols);
        else im2col_f32(col, (const float *)x + xoff, cg, g, p0, cols);
        int ldb = (int)(direct ? P : cols);
        if (og <= SMALL_GROUP_OUT) {
          if (dbl) small_gemm_f64(w, woff, b, ldb, out, ooff + p0, og, rows, cols, P);
          else small_gemm_f32(w, woff, b, ldb, out, ooff + p0, og, rows, cols, P);
        } else if (dbl)
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)cols, (int)rows,
                      1.0, (const double *)w + woff, (int)rows, b, ldb, 0.0,
                      (double *)out + ooff + p0, (int)P);
        else
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)cols, (int)rows,
                      1.0f, (const float *)w + woff, (int)rows, b, ldb, 0.0f,
                      (float *)out + ooff + p0, (int)P);
      }
    }
  lx__buffer_release(colbuf);
  return LX_OK;
}

/* A float32 copy of a contiguous half array, or NULL with the error set. */
static float *widen(const lx_array *a, lx_buffer **buf) {
  float *f = scratch_new((size_t)a->size * sizeof *f, "a float32 copy", buf);
  if (!f) return NULL;
  const uint16_t *h = (const uint16_t *)lx__cpu_base(a);
  if (a->dtype == LX_FLOAT16)
    for (int64_t i = 0; i < a->size; i++) f[i] = lx__h2f(h[i]);
  else
    for (int64_t i = 0; i < a->size; i++) f[i] = lx__bf2f(h[i]);
  return f;
}

lx_status lx__cpu_conv(const lx_op *op) {
  const lx_array *X = op->in[0], *W = op->in[1];
  lx_array *O = op->out;
  lx_dtype dt = O->dtype;
  if (!op->p.conv || X->dtype != dt || W->dtype != dt || !lx_dtype_is_float(dt) ||
      !lx_array_is_contiguous(X) || !lx_array_is_contiguous(W) || !lx_array_is_contiguous(O))
    return lx_set_error(LX_ERR_INTERNAL, "conv: operands do not match the cpu kernel's "
                        "contract");
  if (O->size == 0) return LX_OK;
  geom g;
  lx_status st = geom_init(&g, op);
  if (st != LX_OK) return st;
  if (X->size == 0 || W->size == 0) { /* empty sums: zero bits are 0 in every float */
    memset(lx__cpu_base(O), 0, (size_t)O->size * lx_dtype_size(dt));
    free(g.tabs);
    return LX_OK;
  }
  if (dt == LX_FLOAT32 || dt == LX_FLOAT64) {
    st = conv_gemm(op, &g, dt == LX_FLOAT64, lx__cpu_base(X), lx__cpu_base(W),
                   lx__cpu_base(O));
    free(g.tabs);
    return st;
  }
  lx_buffer *xb = NULL, *wb = NULL, *ob = NULL;
  float *xf = widen(X, &xb), *wf = xf ? widen(W, &wb) : NULL, *of = NULL;
  if (!xf || !wf ||
      !(of = scratch_new((size_t)O->size * sizeof *of, "a float32 result", &ob))) {
    st = LX_ERR_MEMORY;
  } else if ((st = conv_gemm(op, &g, false, xf, wf, of)) == LX_OK) {
    uint16_t *h = (uint16_t *)lx__cpu_base(O);
    if (dt == LX_FLOAT16)
      for (int64_t i = 0; i < O->size; i++) h[i] = lx__f2h(of[i]);
    else
      for (int64_t i = 0; i < O->size; i++) h[i] = lx__f2bf(of[i]);
  }
  lx__buffer_release(xb);
  lx__buffer_release(wb);
  lx__buffer_release(ob);
  free(g.tabs);
  return st;
}
