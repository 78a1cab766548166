/*
** test_reduce_matmul.c — reductions and matrix products through the public
** API, checked against naive reference loops written here (and a few
** hand-derived literals). Prints one line per failure; exits non-zero if
** any check fails.
*/
#include "lunox.h"
#include "check.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call that must succeed; records a failure with the runtime's message. */
static bool ok_call(lx_status st, const char *what) {
  if (st == LX_OK) return true;
  CHECK(false, "%s: status %d: %s", what, (int)st, lx_last_error());
  return false;
}

#define MAXN 200000

static int64_t shape_size(int nd, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= shape[i];
  return n;
}

static const char *shape_str(int nd, const int64_t *shape, char *buf, size_t size) {
  size_t len = 0;
  len += (size_t)snprintf(buf + len, size - len, "{");
  for (int i = 0; i < nd && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%" PRId64, i ? "," : "", shape[i]);
  if (len < size) snprintf(buf + len, size - len, "}");
  return buf;
}

/* Checks a result's dtype and shape; true when the shape is right (its
** values are worth comparing then). */
static bool check_result(const char *label, const lx_array *r, lx_dtype dtype, int nd,
                         const int64_t *shape) {
  char got[64], want[64];
  CHECK(lx_array_dtype(r) == dtype, "%s: dtype %s, want %s", label,
        lx_dtype_name(lx_array_dtype(r)), lx_dtype_name(dtype));
  bool shape_ok = lx_array_ndim(r) == nd;
  for (int d = 0; shape_ok && d < nd; d++) shape_ok = lx_array_shape(r)[d] == shape[d];
  CHECK(shape_ok, "%s: shape %s, want %s", label,
        shape_str(lx_array_ndim(r), lx_array_shape(r), got, sizeof got),
        shape_str(nd, shape, want, sizeof want));
  return shape_ok;
}

/* ------------------------------------------------------ host <-> array */

/* An array of `dt` from doubles (integers stored exactly through int64). */
static lx_array *make(lx_dtype dt, int nd, const int64_t *shape, const double *v) {
  int64_t n = shape_size(nd, shape);
  size_t item = lx_dtype_size(dt);
  unsigned char *buf = malloc((size_t)(n ? n : 1) * item);
  if (!buf) { CHECK(false, "test: out of memory"); return NULL; }
  for (int64_t i = 0; i < n; i++) {
    if (lx_dtype_is_float(dt)) lx_store_double(dt, v[i], buf + i * item);
    else lx_store_int64(dt, (int64_t)v[i], buf + i * item);
  }
  lx_array *a = NULL;
  ok_call(lx_array_from_host(lx_device_cpu(), dt, nd, shape, buf, &a), "array_from_host");
  free(buf);
  return a;
}

static lx_array *make_raw(lx_dtype dt, int nd, const int64_t *shape, const void *data) {
  lx_array *a = NULL;
  ok_call(lx_array_from_host(lx_device_cpu(), dt, nd, shape, data, &a), "array_from_host");
  return a;
}

/* Reads an array's elements as doubles (and exactly as int64 into `iv`
** when given). Returns the element count, -1 on failure. */
static int64_t read_all(lx_array *a, double *v, int64_t *iv) {
  int64_t n = lx_array_size(a);
  size_t item = lx_dtype_size(lx_array_dtype(a));
  unsigned char *buf = malloc((size_t)(n ? n : 1) * item);
  if (!buf) return -1;
  if (!ok_call(lx_array_read(a, buf, (size_t)n * item), "array_read")) { free(buf); return -1; }
  for (int64_t i = 0; i < n; i++) {
    if (v) v[i] = lx_load_double(lx_array_dtype(a), buf + i * item);
    if (iv) iv[i] = lx_load_int64(lx_array_dtype(a), buf + i * item);
  }
  free(buf);
  return n;
}

/* What a stored value becomes in `dt` (the rounding an ideal kernel does). */
static double in_dtype(lx_dtype dt, double x) {
  unsigned char b[8];
  lx_store_double(dt, x, b);
  return lx_load_double(dt, b);
}

static bool same_value(double got, double want, double tol) {
  if (want != want) return got != got;
  if (got != got) return false;
  if (want == got) return true;
  return fabs(got - want) <= tol * fmax(1.0, fabs(want));
}

/* ------------------------------------------------------------- views */

/* A view of `base` (shape bshape): leading axes sliced by `ix` (slices
** only), then transposed by `perm` (NULL: no transpose). `logical` gets
** the view's values row-major, computed here from `vals` by index
** arithmetic, independently of the runtime's strides. */
static lx_array *make_view(lx_array *base, const double *vals, int nd, const int64_t *bshape,
                           int nix, const lx_index *ix, const int *perm, double *logical,
                           int64_t *vshape) {
  lx_array *s = NULL, *t = NULL;
  if (!ok_call(lx_index_view(base, nix, ix, &s), "index_view")) return NULL;
  int64_t start[16], step[16], sshape[16];
  for (int a = 0; a < nd; a++) {
    if (a < nix) {
      start[a] = ix[a].start;
      step[a] = ix[a].step;
      int64_t len = ix[a].step > 0 ? (ix[a].stop - ix[a].start + ix[a].step - 1) / ix[a].step
                                   : (ix[a].start - ix[a].stop - ix[a].step - 1) / -ix[a].step;
      sshape[a] = len > 0 ? len : 0;
    } else {
      start[a] = 0; step[a] = 1; sshape[a] = bshape[a];
    }
  }
  if (perm) {
    if (!ok_call(lx_transpose(s, perm, &t), "transpose")) { lx_array_release(s); return NULL; }
    lx_array_release(s);
  } else {
    t = s;
  }
  for (int d = 0; d < nd; d++) vshape[d] = sshape[perm ? perm[d] : d];
  int64_t n = shape_size(nd, vshape);
  int64_t v[16] = {0};
  for (int64_t k = 0; k < n; k++) {
    /* view index v -> sliced index u (u[perm[d]] = v[d]) -> base index */
    int64_t flat = 0;
    for (int a = 0; a < nd; a++) {
      int64_t u = 0;
      for (int d = 0; d < nd; d++)
        if ((perm ? perm[d] : d) == a) u = v[d];
      flat = flat * bshape[a] + start[a] + u * step[a];
    }
    logical[k] = vals[flat];
    for (int d = nd - 1; d >= 0; d--) {
      if (++v[d] < vshape[d]) break;
      v[d] = 0;
    }
  }
  char sb[64];
  const int64_t *got = lx_array_shape(t);
  bool same = lx_array_ndim(t) == nd;
  for (int d = 0; same && d < nd; d++) same = got[d] == vshape[d];
  CHECK(same, "view shape %s", shape_str(nd, vshape, sb, sizeof sb));
  return t;
}

/* ------------------------------------------------- reference reductions */

static lx_dtype reduce_result_dtype(lx_reduce_op op, lx_dtype in) {
  switch (op) {
    case LX_SUM:
      return in == LX_BOOL ? LX_INT32 : in == LX_UINT8 || in == LX_UINT16 ? LX_UINT32 : in;
    case LX_MEAN: return lx_dtype_is_float(in) ? in : LX_FLOAT32;
    case LX_ARGMAX: case LX_ARGMIN: return LX_INT64;
    default: return in;
  }
}

/* Reference: every input element, in row-major order, folded into the
** output its kept coordinates name. `pos` counts positions along the
** reduced axes, which for one axis is the arg ops' index. */
static int64_t ref_reduce(lx_reduce_op op, const double *x, int nd, const int64_t *shape,
                          uint64_t mask, double *out) {
  if (mask == 0) mask = nd == 0 ? 0 : (nd == 64 ? ~0ull : (1ull << nd) - 1);
  int64_t oshape[16], n = shape_size(nd, shape), on = 1, count = 1;
  for (int d = 0; d < nd; d++) {
    bool r = (mask >> d) & 1;
    oshape[d] = r ? 1 : shape[d];
    on *= oshape[d];
    if (r) count *= shape[d];
  }
  static double best[MAXN];
  static int64_t seen[MAXN];
  for (int64_t o = 0; o < on; o++) { out[o] = 0; best[o] = 0; seen[o] = 0; }
  int64_t idx[16] = {0};
  for (int64_t k = 0; k < n; k++) {
    int64_t o = 0, pos = 0;
    for (int d = 0; d < nd; d++) {
      o = o * oshape[d] + ((mask >> d) & 1 ? 0 : idx[d]);
      if ((mask >> d) & 1) pos = pos * shape[d] + idx[d];
    }
    double v = x[k];
    int64_t first = seen[o]++ == 0;
    switch (op) {
      case LX_SUM: case LX_MEAN: out[o] += v; break;
      case LX_MAX:
        if (first || v != v || v > out[o]) out[o] = (out[o] != out[o] && !first) ? out[o] : v;
        break;
      case LX_MIN:
        if (first || v != v || v < out[o]) out[o] = (out[o] != out[o] && !first) ? out[o] : v;
        break;
      case LX_ARGMAX: case LX_ARGMIN: {
        bool better;
        if (first) better = true;
        else if (best[o] != best[o]) better = false;
        else if (v != v) better = true;
        else better = op == LX_ARGMAX ? v > best[o] : v < best[o];
        if (better) { best[o] = v; out[o] = (double)pos; }
        break;
      }
      default: break;
    }
    for (int d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  if (op == LX_MEAN)
    for (int64_t o = 0; o < on; o++) out[o] = count ? out[o] / (double)count : NAN;
  return on;
}

static const char *op_names[] = {"sum", "mean", "max", "min", "argmax", "argmin"};

/* Reduces `x` (whose logical values are `vals`) and compares with the
** reference: dtype, shape (with or without kept axes) and values. */
static void check_reduce(const char *what, lx_array *x, const double *vals, lx_reduce_op op,
                         uint64_t mask, bool keepdims, double tol) {
  int nd = lx_array_ndim(x);
  const int64_t *shape = lx_array_shape(x);
  lx_dtype dt = lx_array_dtype(x), rdt = reduce_result_dtype(op, dt);
  char label[160], sb[64];
  snprintf(label, sizeof label, "%s %s %s%s mask=0x%llx%s", what, op_names[op],
           lx_dtype_name(dt), shape_str(nd, shape, sb, sizeof sb), (unsigned long long)mask,
           keepdims ? " keepdims" : "");
  lx_array *r = NULL;
  if (!ok_call(lx_reduce(op, x, mask, keepdims, &r), label)) return;
  static double want[MAXN], got[MAXN];
  int64_t on = ref_reduce(op, vals, nd, shape, mask, want);
  uint64_t m = mask ? mask : ~0ull;
  bool argall = (op == LX_ARGMAX || op == LX_ARGMIN) && nd > 1 &&
                __builtin_popcountll(m & ((nd == 64 ? ~0ull : (1ull << nd) - 1))) > 1;
  if (argall) { /* the index is into the flattened array */
    int64_t flat = shape_size(nd, shape);
    ref_reduce(op, vals, 1, &flat, 1, want);
  }
  int64_t eshape[16];
  int en = 0;
  for (int d = 0; d < nd; d++) {
    if (!((m >> d) & 1)) eshape[en++] = shape[d];
    else if (keepdims) eshape[en++] = 1;
  }
  bool shape_ok = check_result(label, r, rdt, en, eshape);
  if (shape_ok && read_all(r, got, NULL) == on) {
    int bad = 0;
    for (int64_t o = 0; o < on; o++) {
      double w = in_dtype(rdt, want[o]);
      if (!same_value(got[o], w, tol)) {
        if (bad++ < 3) CHECK(false, "%s: element %" PRId64 " is %.17g, want %.17g", label, o,
                             got[o], w);
      }
    }
    if (!bad) check_pass();
  }
  lx_array_release(r);
}

/* Every op over every single axis, every axis subset (for small ranks) and
** all axes, alternating keepdims. */
static void reduce_all_ways(const char *what, lx_array *x, const double *vals, double tol) {
  int nd = lx_array_ndim(x);
  int flip = 0;
  for (int op = 0; op < LX_REDUCE_COUNT; op++) {
    bool arg = op == LX_ARGMAX || op == LX_ARGMIN;
    uint64_t full = (1ull << nd) - 1;
    for (uint64_t mask = 0; mask <= full; mask++) {
      if (arg && __builtin_popcountll(mask) > 1 && mask != full) continue;
      if (lx_array_size(x) == 0 && op >= LX_MAX) continue; /* no identity */
      check_reduce(what, x, vals, (lx_reduce_op)op, mask, (flip++ & 1) != 0, tol);
    }
  }
}

/* Values that are exact in every dtype we test: quarter-integers for the
** floats, small integers otherwise, 0/1 for bool. */
static void fill_values(lx_dtype dt, int64_t n, double *v, unsigned seed) {
  for (int64_t i = 0; i < n; i++) {
    int64_t k = (int64_t)(((uint64_t)i * 7919u + seed * 104729u) % 23u);
    if (lx_dtype_is_float(dt)) v[i] = (double)(k - 11) / 4.0;
    else if (dt == LX_BOOL) v[i] = k % 3 == 0;
    else if (lx_dtype_is_signed(dt)) v[i] = (double)(k - 11);
    else v[i] = (double)k;
  }
}

static void test_reduce_dtypes(void) {
  static const lx_dtype dts[] = {LX_FLOAT32, LX_FLOAT64, LX_FLOAT16, LX_BFLOAT16, LX_INT32,
                                 LX_INT64, LX_UINT8, LX_UINT32, LX_BOOL, LX_UINT16, LX_UINT64};
  static double v[MAXN], lv[MAXN];
  for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
    lx_dtype dt = dts[t];
    double tol = dt == LX_FLOAT32 ? 1e-6 : 1e-12;
    /* contiguous, rank 1..4 */
    static const int64_t s1[] = {13}, s2[] = {4, 6}, s3[] = {3, 4, 5}, s4[] = {2, 3, 4, 5};
    const int64_t *shapes[] = {s1, s2, s3, s4};
    for (int nd = 1; nd <= 4; nd++) {
      fill_values(dt, shape_size(nd, shapes[nd - 1]), v, (unsigned)nd);
      lx_array *x = make(dt, nd, shapes[nd - 1], v);
      if (!x) continue;
      reduce_all_ways("contiguous", x, v, tol);
      lx_array_release(x);
    }
    /* non-contiguous views of a {3,4,5} array */
    fill_values(dt, 60, v, 5);
    lx_array *base = make(dt, 3, s3, v);
    if (!base) continue;
    int64_t vshape[16];
    static const int perm[] = {2, 0, 1};
    lx_array *x = make_view(base, v, 3, s3, 0, NULL, perm, lv, vshape);
    if (x) { reduce_all_ways("transposed", x, lv, tol); lx_array_release(x); }
    /* rows reversed, every other column from the end */
    lx_index rev[] = {{LX_INDEX_SLICE, 2, -1, -1}, {LX_INDEX_SLICE, 3, -1, -2}};
    x = make_view(base, v, 3, s3, 2, rev, NULL, lv, vshape);
    if (x) { reduce_all_ways("reversed", x, lv, tol); lx_array_release(x); }
    /* reversed last axis (negative innermost stride), then transposed */
    lx_index rev3[] = {{LX_INDEX_SLICE, 0, 3, 1}, {LX_INDEX_SLICE, 0, 4, 1},
                       {LX_INDEX_SLICE, 4, -1, -1}};
    static const int perm2[] = {1, 2, 0};
    x = make_view(base, v, 3, s3, 3, rev3, perm2, lv, vshape);
    if (x) { reduce_all_ways("reversed+transposed", x, lv, tol); lx_array_release(x); }
    lx_array_release(base);
  }
}

/* Sizes that cross the kernels' blocks: lanes of 8, row blocks of 1024. */
static void test_reduce_large(void) {
  static double v[MAXN];
  static const lx_dtype dts[] = {LX_FLOAT32, LX_FLOAT64, LX_FLOAT16, LX_INT32};
  static const int64_t shapes[][2] = {{3, 2500}, {2500, 3}, {7, 1031}, {1, 100003}};
  for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      int64_t n = shapes[s][0] * shapes[s][1];
      fill_values(dts[t], n, v, 11);
      if (s == 2) v[5 * 1031 + 1030] = 100; /* an extreme in the last block's tail */
      lx_array *x = make(dts[t], 2, shapes[s], v);
      if (!x) continue;
      double tol = dts[t] == LX_FLOAT32 ? 1e-6 : 1e-12;
      for (int op = 0; op < LX_REDUCE_COUNT; op++)
        for (uint64_t mask = 0; mask <= 3; mask++)
          check_reduce("large", x, v, (lx_reduce_op)op, mask, false, tol);
      lx_array_release(x);
    }
  }
  /* one long contiguous vector */
  int64_t n = 100000;
  fill_values(LX_FLOAT32, n, v, 3);
  lx_array *x = make(LX_FLOAT32, 1, &n, v);
  if (x) {
    for (int op = 0; op < LX_REDUCE_COUNT; op++)
      check_reduce("vector", x, v, (lx_reduce_op)op, 0, false, 1e-6);
    lx_array_release(x);
  }
}

/* Scalar expectations written by hand. */
static void expect_reduce(const char *what, lx_array *x, lx_reduce_op op, uint64_t mask,
                          int n, const double *want, lx_dtype want_dt) {
  lx_array *r = NULL;
  if (!ok_call(lx_reduce(op, x, mask, false, &r), what)) return;
  double got[64];
  CHECK(lx_array_dtype(r) == want_dt, "%s: dtype %s, want %s", what,
        lx_dtype_name(lx_array_dtype(r)), lx_dtype_name(want_dt));
  if (lx_array_size(r) != n) {
    CHECK(false, "%s: %" PRId64 " elements, want %d", what, lx_array_size(r), n);
  } else if (read_all(r, got, NULL) == n) {
    for (int i = 0; i < n; i++)
      CHECK(same_value(got[i], want[i], 0), "%s: element %d is %.17g, want %.17g", what, i,
            got[i], want[i]);
  }
  lx_array_release(r);
}

static void test_reduce_literals(void) {
  const double nan = NAN, inf = INFINITY;
  int64_t s3[] = {3}, s4[] = {4}, s2[] = {2}, s32[] = {3, 2};
  /* NaN propagates through sum, max and min; arg ops take the first NaN. */
  static const lx_dtype fdts[] = {LX_FLOAT32, LX_FLOAT64, LX_FLOAT16, LX_BFLOAT16};
  for (int t = 0; t < 4; t++) {
    lx_dtype dt = fdts[t];
    char w[96];
    lx_array *x = make(dt, 1, s3, (double[]){1, nan, 3});
    lx_array *y = make(dt, 1, s4, (double[]){1, nan, 3, nan});
    lx_array *ties = make(dt, 1, s3, (double[]){3, 1, 3});
    lx_array *ties2 = make(dt, 1, s3, (double[]){2, 1, 1});
    lx_array *infs = make(dt, 1, s2, (double[]){-inf, -inf});
    lx_array *m = make(dt, 2, s32, (double[]){1, 2, nan, 0, 5, nan});
    if (!x || !y || !ties || !ties2 || !infs || !m) return;
    snprintf(w, sizeof w, "%s max with NaN", lx_dtype_name(dt));
    expect_reduce(w, x, LX_MAX, 0, 1, (double[]){nan}, dt);
    snprintf(w, sizeof w, "%s min with NaN", lx_dtype_name(dt));
    expect_reduce(w, x, LX_MIN, 0, 1, (double[]){nan}, dt);
    snprintf(w, sizeof w, "%s sum with NaN", lx_dtype_name(dt));
    expect_reduce(w, x, LX_SUM, 0, 1, (double[]){nan}, dt);
    snprintf(w, sizeof w, "%s argmax first NaN", lx_dtype_name(dt));
    expect_reduce(w, y, LX_ARGMAX, 0, 1, (double[]){1}, LX_INT64);
    snprintf(w, sizeof w, "%s argmin first NaN", lx_dtype_name(dt));
    expect_reduce(w, y, LX_ARGMIN, 0, 1, (double[]){1}, LX_INT64);
    snprintf(w, sizeof w, "%s argmax tie", lx_dtype_name(dt));
    expect_reduce(w, ties, LX_ARGMAX, 0, 1, (double[]){0}, LX_INT64);
    snprintf(w, sizeof w, "%s argmin tie", lx_dtype_name(dt));
    expect_reduce(w, ties2, LX_ARGMIN, 0, 1, (double[]){1}, LX_INT64);
    snprintf(w, sizeof w, "%s argmax all -inf", lx_dtype_name(dt));
    expect_reduce(w, infs, LX_ARGMAX, 0, 1, (double[]){0}, LX_INT64);
    snprintf(w, sizeof w, "%s max all -inf", lx_dtype_name(dt));
    expect_reduce(w, infs, LX_MAX, 0, 1, (double[]){-inf}, dt);
    /* [[1,2],[NaN,0],[5,NaN]] */
    snprintf(w, sizeof w, "%s max axis 1 NaN", lx_dtype_name(dt));
    expect_reduce(w, m, LX_MAX, 1, 2, (double[]){nan, nan}, dt);
    snprintf(w, sizeof w, "%s min axis 2 NaN", lx_dtype_name(dt));
    expect_reduce(w, m, LX_MIN, 2, 3, (double[]){1, nan, nan}, dt);
    snprintf(w, sizeof w, "%s argmax axis 1 NaN", lx_dtype_name(dt));
    expect_reduce(w, m, LX_ARGMAX, 1, 2, (double[]){1, 2}, LX_INT64);
    snprintf(w, sizeof w, "%s argmin axis 2 NaN", lx_dtype_name(dt));
    expect_reduce(w, m, LX_ARGMIN, 2, 3, (double[]){0, 0, 1}, LX_INT64);
    snprintf(w, sizeof w, "%s argmax all NaN", lx_dtype_name(dt));
    expect_reduce(w, m, LX_ARGMAX, 0, 1, (double[]){2}, LX_INT64);
    lx_array_release(x); lx_array_release(y); lx_array_release(ties);
    lx_array_release(ties2); lx_array_release(infs); lx_array_release(m);
  }
  /* Hand-derived sums of a transposed view: [[1,2,3],[4,5,6]]^T */
  {
    int64_t s23[] = {2, 3};
    lx_array *a = make(LX_FLOAT32, 2, s23, (double[]){1, 2, 3, 4, 5, 6}), *t = NULL;
    if (a && ok_call(lx_transpose(a, NULL, &t), "transpose")) {
      expect_reduce("transposed sum axis 1", t, LX_SUM, 1, 2, (double[]){6, 15}, LX_FLOAT32);
      expect_reduce("transposed sum axis 2", t, LX_SUM, 2, 3, (double[]){5, 7, 9}, LX_FLOAT32);
      expect_reduce("transposed argmax axis 2", t, LX_ARGMAX, 2, 3, (double[]){1, 1, 1},
                    LX_INT64);
      expect_reduce("transposed mean", t, LX_MEAN, 0, 1, (double[]){3.5}, LX_FLOAT32);
    }
    lx_array_release(t);
    /* x[::-1] of {1..6}: argmax is at position 0 */
    int64_t s6[] = {6};
    lx_array *b = make(LX_INT32, 1, s6, (double[]){1, 2, 3, 4, 5, 6}), *r = NULL;
    lx_index ix = {LX_INDEX_SLICE, 5, -1, -1};
    if (b && ok_call(lx_index_view(b, 1, &ix, &r), "index_view")) {
      expect_reduce("reversed argmax", r, LX_ARGMAX, 0, 1, (double[]){0}, LX_INT64);
      expect_reduce("reversed argmin", r, LX_ARGMIN, 0, 1, (double[]){5}, LX_INT64);
      expect_reduce("reversed sum", r, LX_SUM, 0, 1, (double[]){21}, LX_INT32);
    }
    lx_array_release(r);
    lx_array_release(a);
    lx_array_release(b);
  }
  /* Integer sums wrap; extremes are exact. */
  {
    int32_t i32[] = {INT32_MAX, 1};
    int64_t i64[] = {INT64_MAX, 1}, i64b[] = {INT64_MIN, INT64_MIN + 1};
    uint32_t u32[] = {UINT32_MAX, 2};
    uint8_t u8[] = {200, 100}, bools[] = {1, 0, 1, 1}, zeros[] = {0, 0}, ones[] = {1, 1};
    lx_array *a = make_raw(LX_INT32, 1, s2, i32), *b = make_raw(LX_INT64, 1, s2, i64);
    lx_array *c = make_raw(LX_UINT32, 1, s2, u32), *d = make_raw(LX_UINT8, 1, s2, u8);
    lx_array *e = make_raw(LX_BOOL, 1, s4, bools), *f = make_raw(LX_BOOL, 1, s2, zeros);
    lx_array *g = make_raw(LX_BOOL, 1, s2, ones), *h = make_raw(LX_INT64, 1, s2, i64b);
    lx_array *r = NULL;
    int64_t iv[4] = {0};
    if (a && ok_call(lx_reduce(LX_SUM, a, 0, false, &r), "int32 sum")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == INT32_MIN, "int32 sum wraps: %" PRId64,
            iv[0]);
      lx_array_release(r);
    }
    if (b && ok_call(lx_reduce(LX_SUM, b, 0, false, &r), "int64 sum")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == INT64_MIN, "int64 sum wraps: %" PRId64,
            iv[0]);
      lx_array_release(r);
    }
    if (h && ok_call(lx_reduce(LX_MAX, h, 0, false, &r), "int64 max")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == INT64_MIN + 1, "int64 max exact");
      lx_array_release(r);
    }
    if (h && ok_call(lx_reduce(LX_ARGMIN, h, 0, false, &r), "int64 argmin")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == 0, "int64 argmin at INT64_MIN");
      lx_array_release(r);
    }
    expect_reduce("uint32 sum wraps", c, LX_SUM, 0, 1, (double[]){1}, LX_UINT32);
    expect_reduce("uint32 max", c, LX_MAX, 0, 1, (double[]){UINT32_MAX}, LX_UINT32);
    expect_reduce("uint8 sum widens", d, LX_SUM, 0, 1, (double[]){300}, LX_UINT32);
    expect_reduce("uint8 min", d, LX_MIN, 0, 1, (double[]){100}, LX_UINT8);
    expect_reduce("uint8 mean", d, LX_MEAN, 0, 1, (double[]){150}, LX_FLOAT32);
    expect_reduce("bool sum counts", e, LX_SUM, 0, 1, (double[]){3}, LX_INT32);
    expect_reduce("bool max is any", e, LX_MAX, 0, 1, (double[]){1}, LX_BOOL);
    expect_reduce("bool min is all", e, LX_MIN, 0, 1, (double[]){0}, LX_BOOL);
    expect_reduce("bool any of zeros", f, LX_MAX, 0, 1, (double[]){0}, LX_BOOL);
    expect_reduce("bool all of ones", g, LX_MIN, 0, 1, (double[]){1}, LX_BOOL);
    /* uint16 sums widen to uint32 (as uint8's); uint64 works on all 64 bits. */
    uint16_t u16[] = {65535, 65535};
    uint64_t u64[] = {UINT64_MAX, 2}, u64b[] = {UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1, 5};
    lx_array *p = make_raw(LX_UINT16, 1, s2, u16), *q = make_raw(LX_UINT64, 1, s2, u64);
    lx_array *w = make_raw(LX_UINT64, 1, (int64_t[]){3}, u64b);
    expect_reduce("uint16 sum widens", p, LX_SUM, 0, 1, (double[]){131070}, LX_UINT32);
    expect_reduce("uint16 max", p, LX_MAX, 0, 1, (double[]){65535}, LX_UINT16);
    if (q && ok_call(lx_reduce(LX_SUM, q, 0, false, &r), "uint64 sum")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == 1, "uint64 sum wraps: %" PRId64, iv[0]);
      lx_array_release(r);
    }
    if (w && ok_call(lx_reduce(LX_MAX, w, 0, false, &r), "uint64 max")) {
      CHECK(read_all(r, NULL, iv) == 1 && (uint64_t)iv[0] == (UINT64_C(1) << 63) + 1,
            "uint64 max compares unsigned");
      lx_array_release(r);
    }
    if (w && ok_call(lx_reduce(LX_ARGMIN, w, 0, false, &r), "uint64 argmin")) {
      CHECK(read_all(r, NULL, iv) == 1 && iv[0] == 2, "uint64 argmin: 5 < 2^63");
      lx_array_release(r);
    }
    lx_array_release(p);
    lx_array_release(q);
    lx_array_release(w);
    expect_reduce("bool argmax", e, LX_ARGMAX, 0, 1, (double[]){0}, LX_INT64);
    expect_reduce("bool argmin", e, LX_ARGMIN, 0, 1, (double[]){1}, LX_INT64);
    expect_reduce("bool mean", e, LX_MEAN, 0, 1, (double[]){0.75}, LX_FLOAT32);
    lx_array_release(a); lx_array_release(b); lx_array_release(c); lx_array_release(d);
    lx_array_release(e); lx_array_release(f); lx_array_release(g); lx_array_release(h);
  }
  /* Empty reductions: sums are 0, means NaN, max has no identity. */
  {
    int64_t s0[] = {0}, s20[] = {2, 0}, s03[] = {0, 3};
    lx_array *a = make(LX_FLOAT32, 1, s0, NULL), *b = make(LX_FLOAT64, 2, s20, NULL);
    lx_array *c = make(LX_INT32, 2, s03, NULL), *d = make(LX_FLOAT16, 1, s0, NULL);
    if (!a || !b || !c || !d) return;
    expect_reduce("empty sum", a, LX_SUM, 0, 1, (double[]){0}, LX_FLOAT32);
    expect_reduce("empty mean", a, LX_MEAN, 0, 1, (double[]){NAN}, LX_FLOAT32);
    expect_reduce("empty f16 sum", d, LX_SUM, 0, 1, (double[]){0}, LX_FLOAT16);
    expect_reduce("empty axis sum", b, LX_SUM, 2, 2, (double[]){0, 0}, LX_FLOAT64);
    expect_reduce("empty axis mean", b, LX_MEAN, 2, 2, (double[]){NAN, NAN}, LX_FLOAT64);
    expect_reduce("empty leading axis sum", c, LX_SUM, 1, 3, (double[]){0, 0, 0}, LX_INT32);
    lx_array *r = NULL;
    CHECK(lx_reduce(LX_MAX, a, 0, false, &r) != LX_OK, "max of an empty array must fail");
    lx_array_release(r);
    r = NULL;
    /* max over the non-empty axis of {0,3}: an empty result, no error */
    if (ok_call(lx_reduce(LX_MAX, c, 2, false, &r), "max to an empty result"))
      CHECK(lx_array_size(r) == 0, "max to an empty result has size 0");
    lx_array_release(r);
    lx_array_release(a); lx_array_release(b); lx_array_release(c); lx_array_release(d);
  }
  /* A 0-d array reduces to itself; argmax of it is 0. */
  {
    lx_array *s = make(LX_FLOAT64, 0, NULL, (double[]){2.5});
    if (s) {
      expect_reduce("0-d sum", s, LX_SUM, 0, 1, (double[]){2.5}, LX_FLOAT64);
      expect_reduce("0-d argmax", s, LX_ARGMAX, 0, 1, (double[]){0}, LX_INT64);
      lx_array_release(s);
    }
  }
  /* A broadcast input (stride 0) */
  {
    int64_t s15[] = {1, 5}, s45[] = {4, 5};
    double v[] = {1, -2, 3.5, 4, 0.25}, lv[20];
    for (int i = 0; i < 20; i++) lv[i] = v[i % 5];
    lx_array *a = make(LX_FLOAT32, 2, s15, v), *b = NULL;
    if (a && ok_call(lx_broadcast_to(a, 2, s45, &b), "broadcast_to")) {
      for (int op = 0; op < LX_REDUCE_COUNT; op++)
        for (uint64_t mask = 0; mask <= 3; mask++)
          check_reduce("broadcast", b, lv, (lx_reduce_op)op, mask, false, 1e-6);
    }
    lx_array_release(b);
    lx_array_release(a);
  }
}

/* Every float16 bit pattern survives max of (h, h): checks the kernels'
** half -> float conversion against the runtime's scalar one. */
static void test_half_exhaustive(void) {
  int64_t shape[] = {65536, 2};
  uint16_t *h = malloc(65536 * 2 * sizeof *h), *got = malloc(65536 * sizeof *got);
  lx_array *x = NULL, *r = NULL;
  if (!h || !got) { CHECK(false, "test: out of memory"); goto done; }
  for (uint32_t i = 0; i < 65536; i++) h[2 * i] = h[2 * i + 1] = (uint16_t)i;
  if (!(x = make_raw(LX_FLOAT16, 2, shape, h))) goto done;
  if (!ok_call(lx_reduce(LX_MAX, x, 2, false, &r), "f16 max of pairs")) goto done;
  if (!ok_call(lx_array_read(r, got, 65536 * sizeof *got), "array_read")) goto done;
  int bad = 0;
  for (uint32_t i = 0; i < 65536; i++) {
    float want = lx_half_to_float((uint16_t)i), g = lx_half_to_float(got[i]);
    bool same = want != want ? g != g : got[i] == i;
    if (!same && bad++ < 3) CHECK(false, "f16 max(h, h) for h=0x%04x gave 0x%04x", i, got[i]);
  }
  if (!bad) check_pass();
done:
  lx_array_release(r);
  lx_array_release(x);
  free(h);
  free(got);
}

/* ------------------------------------------------------------- matmul */

/* Reference product of logical row-major operands with NumPy's rules:
** vectors promoted, batch axes broadcast. Floats in double; integers in
** uint64 (wrapping), returned in `iout`. Returns the output size and
** writes the expected shape. */
static int64_t ref_matmul(int an, const int64_t *ash, const double *a, int bn,
                          const int64_t *bsh, const double *b, double *out, uint64_t *iout,
                          int *on, int64_t *osh) {
  int64_t as[16] = {0}, bs[16] = {0};
  int pan = an, pbn = bn;
  for (int i = 0; i < an; i++) as[i] = ash[i];
  for (int i = 0; i < bn; i++) bs[i] = bsh[i];
  if (an == 1) { as[1] = as[0]; as[0] = 1; pan = 2; }
  if (bn == 1) { bs[1] = 1; pbn = 2; }
  int nb = (pan > pbn ? pan : pbn) - 2;
  int64_t batch[16], abt[16], bbt[16];
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (pan - 2)), ib = i - (nb - (pbn - 2));
    abt[i] = ia >= 0 ? as[ia] : 1;
    bbt[i] = ib >= 0 ? bs[ib] : 1;
    batch[i] = abt[i] > bbt[i] ? abt[i] : bbt[i];
  }
  int64_t M = as[pan - 2], K = as[pan - 1], N = bs[pbn - 1];
  int64_t nbatch = shape_size(nb, batch);
  int64_t bi[16] = {0};
  for (int64_t t = 0; t < nbatch; t++) {
    int64_t ao = 0, bo = 0;
    for (int i = 0; i < nb; i++) {
      ao = ao * abt[i] + (abt[i] == 1 ? 0 : bi[i]);
      bo = bo * bbt[i] + (bbt[i] == 1 ? 0 : bi[i]);
    }
    const double *A = a + ao * M * K, *B = b + bo * K * N;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double s = 0;
        uint64_t u = 0;
        for (int64_t k = 0; k < K; k++) {
          s += A[i * K + k] * B[k * N + j];
          u += (uint64_t)(int64_t)A[i * K + k] * (uint64_t)(int64_t)B[k * N + j];
        }
        out[t * M * N + i * N + j] = s;
        iout[t * M * N + i * N + j] = u;
      }
    for (int i = nb - 1; i >= 0; i--) {
      if (++bi[i] < batch[i]) break;
      bi[i] = 0;
    }
  }
  *on = 0;
  for (int i = 0; i < nb; i++) osh[(*on)++] = batch[i];
  if (an > 1) osh[(*on)++] = M;
  if (bn > 1) osh[(*on)++] = N;
  return nbatch * M * N;
}

static void check_matmul(const char *what, lx_array *A, const double *a, lx_array *B,
                         const double *b, double tol) {
  static double want[MAXN], got[MAXN];
  static uint64_t iwant[MAXN];
  static int64_t igot[MAXN];
  char label[200], s1[64], s2[64];
  int an = lx_array_ndim(A), bn = lx_array_ndim(B);
  snprintf(label, sizeof label, "matmul %s %s%s @ %s%s", what,
           lx_dtype_name(lx_array_dtype(A)), shape_str(an, lx_array_shape(A), s1, sizeof s1),
           lx_dtype_name(lx_array_dtype(B)), shape_str(bn, lx_array_shape(B), s2, sizeof s2));
  lx_array *C = NULL;
  if (!ok_call(lx_matmul(A, B, &C), label)) return;
  int on;
  int64_t osh[16];
  int64_t n = ref_matmul(an, lx_array_shape(A), a, bn, lx_array_shape(B), b, want, iwant, &on,
                         osh);
  lx_dtype dt = lx_dtype_promote(lx_array_dtype(A), lx_array_dtype(B));
  bool shape_ok = check_result(label, C, dt, on, osh);
  if (shape_ok && read_all(C, got, igot) == n) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
      bool ok;
      if (lx_dtype_is_float(dt)) {
        ok = same_value(got[i], in_dtype(dt, want[i]), tol);
      } else {
        unsigned char w[8];
        lx_store_int64(dt, (int64_t)iwant[i], w);
        ok = igot[i] == lx_load_int64(dt, w);
      }
      if (!ok && bad++ < 3)
        CHECK(false, "%s: element %" PRId64 " is %.17g, want %.17g", label, i, got[i],
              want[i]);
    }
    if (!bad) check_pass();
  }
  lx_array_release(C);
}

/* Small values whose products and sums are exact in every float type:
** multiples of 1/8 (1/2 for the halves) of magnitude <= 2, integers for
** the integer types. */
static void mm_values(lx_dtype dt, int64_t n, double *v, unsigned seed) {
  for (int64_t i = 0; i < n; i++) {
    int64_t k = (int64_t)(((uint64_t)i * 6151u + seed * 7919u) % 17u) - 8;
    if (dt == LX_FLOAT32 || dt == LX_FLOAT64) v[i] = (double)k / 8.0;
    else if (dt == LX_FLOAT16 || dt == LX_BFLOAT16) v[i] = (double)k / 2.0;
    else if (!lx_dtype_is_signed(dt)) v[i] = (double)(k + 8); /* unsigned */
    else v[i] = (double)k;
  }
}

/* A, B made contiguous with the given shapes, checked. */
static void mm_case(const char *what, lx_dtype dt, int an, const int64_t *ash, int bn,
                    const int64_t *bsh, double tol) {
  static double a[MAXN], b[MAXN];
  mm_values(dt, shape_size(an, ash), a, 1);
  mm_values(dt, shape_size(bn, bsh), b, 2);
  lx_array *A = make(dt, an, ash, a), *B = make(dt, bn, bsh, b);
  if (A && B) check_matmul(what, A, a, B, b, tol);
  lx_array_release(A);
  lx_array_release(B);
}

static void test_matmul(void) {
  static const lx_dtype dts[] = {LX_FLOAT32, LX_FLOAT64, LX_FLOAT16, LX_BFLOAT16, LX_INT32,
                                 LX_INT64, LX_UINT8, LX_UINT32, LX_UINT16, LX_UINT64};
  static double a[MAXN], b[MAXN], la[MAXN], lb[MAXN];
  for (size_t t = 0; t < sizeof dts / sizeof dts[0]; t++) {
    lx_dtype dt = dts[t];
    double tol = 1e-12;
    int64_t s34[] = {3, 4}, s45[] = {4, 5}, s4[] = {4}, s2134[] = {2, 1, 3, 4},
            s542[] = {5, 4, 2}, s30[] = {3, 0}, s02[] = {0, 2}, s230[] = {2, 3, 0},
            s1[] = {1}, s11[] = {1, 1}, s41[] = {4, 1}, s14[] = {1, 4}, s234[] = {2, 3, 4},
            s45b[] = {4, 5};
    mm_case("2-D", dt, 2, s34, 2, s45, tol);
    mm_case("batched broadcast", dt, 4, s2134, 3, s542, tol);
    mm_case("batched @ 2-D", dt, 3, s234, 2, s45b, tol);
    mm_case("vector @ matrix", dt, 1, s4, 2, s45, tol);
    mm_case("matrix @ vector", dt, 2, s34, 1, s4, tol);
    mm_case("vector @ vector", dt, 1, s4, 1, s4, tol);
    mm_case("batched @ vector", dt, 3, s234, 1, s4, tol);
    mm_case("K=0", dt, 2, s30, 2, s02, tol);
    mm_case("batched K=0", dt, 3, s230, 2, s02, tol);
    mm_case("1x1", dt, 1, s1, 2, s11, tol);
    mm_case("outer product", dt, 2, s41, 2, s14, tol);

    /* Transposed operands: column-major matrices (BLAS Trans path). */
    int64_t s43[] = {4, 3}, s54[] = {5, 4}, s243[] = {2, 4, 3}, vshape[16], vb[16];
    static const int perm021[] = {0, 2, 1};
    mm_values(dt, 12, a, 3);
    mm_values(dt, 20, b, 4);
    lx_array *A0 = make(dt, 2, s43, a), *B0 = make(dt, 2, s54, b);
    lx_array *A = NULL, *B = NULL;
    if (A0 && B0 && ok_call(lx_transpose(A0, NULL, &A), "transpose") &&
        ok_call(lx_transpose(B0, NULL, &B), "transpose")) {
      /* logical values of the transposes */
      for (int i = 0; i < 3; i++) for (int k = 0; k < 4; k++) la[i * 4 + k] = a[k * 3 + i];
      for (int k = 0; k < 4; k++) for (int j = 0; j < 5; j++) lb[k * 5 + j] = b[j * 4 + k];
      double bc[20];
      mm_values(dt, 20, bc, 4);
      lx_array *Bc = make(dt, 2, s45, bc);
      if (Bc) {
        check_matmul("A transposed", A, la, Bc, bc, tol);
        lx_array_release(Bc);
      }
      lx_array *Ac = make(dt, 2, s34, la);
      if (Ac) {
        check_matmul("B transposed", Ac, la, B, lb, tol);
        lx_array_release(Ac);
      }
      check_matmul("both transposed", A, la, B, lb, tol);
    }
    lx_array_release(A); lx_array_release(B); lx_array_release(A0); lx_array_release(B0);
    A = B = NULL;

    /* Batched transposed A {2,4,3} -> {2,3,4} */
    mm_values(dt, 24, a, 5);
    mm_values(dt, 20, b, 6);
    A0 = make(dt, 3, s243, a);
    B0 = make(dt, 2, s45, b);
    if (A0 && B0) {
      A = make_view(A0, a, 3, s243, 0, NULL, perm021, la, vshape);
      if (A) check_matmul("batched transposed", A, la, B0, b, tol);
    }
    lx_array_release(A); lx_array_release(A0); lx_array_release(B0);
    A = NULL;

    /* Reversed slices (negative strides: copied), every other column
    ** (stride 2: copied), every other row (leading dimension 2K: in place). */
    int64_t s38[] = {3, 8}, s64[] = {6, 4}, s410[] = {4, 10};
    mm_values(dt, 12, a, 7);
    mm_values(dt, 20, b, 8);
    A0 = make(dt, 2, s34, a);
    B0 = make(dt, 2, s45, b);
    lx_index rr[] = {{LX_INDEX_SLICE, 2, -1, -1}, {LX_INDEX_SLICE, 3, -1, -1}};
    lx_index rb[] = {{LX_INDEX_SLICE, 3, -1, -1}};
    if (A0 && B0) {
      A = make_view(A0, a, 2, s34, 2, rr, NULL, la, vshape);
      B = make_view(B0, b, 2, s45, 1, rb, NULL, lb, vb);
      if (A && B) {
        check_matmul("reversed A", A, la, B0, b, tol);
        check_matmul("reversed B", A0, a, B, lb, tol);
        check_matmul("reversed both", A, la, B, lb, tol);
      }
    }
    lx_array_release(A); lx_array_release(B); lx_array_release(A0); lx_array_release(B0);
    A = B = NULL;
    static double c38[24], c64[24], c410[40];
    mm_values(dt, 24, c38, 9);
    mm_values(dt, 24, c64, 10);
    mm_values(dt, 40, c410, 11);
    lx_array *X = make(dt, 2, s38, c38), *Y = make(dt, 2, s64, c64), *Z = make(dt, 2, s410, c410);
    lx_index cols2[] = {{LX_INDEX_SLICE, 0, 3, 1}, {LX_INDEX_SLICE, 1, 8, 2}};
    lx_index rows2[] = {{LX_INDEX_SLICE, 0, 6, 2}};
    lx_index sub[] = {{LX_INDEX_SLICE, 0, 4, 1}, {LX_INDEX_SLICE, 2, 7, 1}};
    if (X && Y && Z) {
      A = make_view(X, c38, 2, s38, 2, cols2, NULL, la, vshape);
      B = make_view(Z, c410, 2, s410, 2, sub, NULL, lb, vb);
      if (A && B) check_matmul("column-strided A, sub-block B", A, la, B, lb, tol);
      lx_array_release(A);
      A = make_view(Y, c64, 2, s64, 1, rows2, NULL, la, vshape);
      if (A && B) check_matmul("row-strided A", A, la, B, lb, tol);
      lx_array_release(A); lx_array_release(B);
      A = B = NULL;
    }
    lx_array_release(X); lx_array_release(Y); lx_array_release(Z);

    /* A broadcast row (stride 0 inside the matrix): copied. */
    mm_values(dt, 4, a, 12);
    mm_values(dt, 20, b, 13);
    A0 = make(dt, 2, s14, a);
    B0 = make(dt, 2, s45, b);
    if (A0 && B0 && ok_call(lx_broadcast_to(A0, 2, s34, &A), "broadcast_to")) {
      for (int i = 0; i < 12; i++) la[i] = a[i % 4];
      check_matmul("broadcast rows", A, la, B0, b, tol);
    }
    lx_array_release(A); lx_array_release(A0); lx_array_release(B0);
    A = NULL;
  }

  /* Larger float products (BLAS blocking), with a tolerance. */
  {
    int64_t sa[] = {3, 64, 48}, sb[] = {48, 33};
    static double x[MAXN], y[MAXN];
    for (int i = 0; i < 3 * 64 * 48; i++) x[i] = sin(i * 0.37);
    for (int i = 0; i < 48 * 33; i++) y[i] = cos(i * 0.11);
    lx_array *A = make(LX_FLOAT64, 3, sa, x), *B = make(LX_FLOAT64, 2, sb, y);
    if (A && B) check_matmul("large f64", A, x, B, y, 1e-12);
    lx_array_release(A); lx_array_release(B);
    A = make(LX_FLOAT32, 3, sa, x);
    B = make(LX_FLOAT32, 2, sb, y);
    /* the reference uses the float32-rounded inputs */
    static double xf[MAXN], yf[MAXN];
    for (int i = 0; i < 3 * 64 * 48; i++) xf[i] = (float)x[i];
    for (int i = 0; i < 48 * 33; i++) yf[i] = (float)y[i];
    if (A && B) check_matmul("large f32", A, xf, B, yf, 1e-5);
    lx_array_release(A); lx_array_release(B);
  }

  /* Integer products wrap modulo 2^n. */
  {
    int64_t s11[] = {1, 1}, s12[] = {1, 2}, s21[] = {2, 1};
    int32_t p[] = {65536}, q[] = {INT32_MAX}, two[] = {2};
    uint8_t u[] = {16}, uu[] = {255, 255}, vv[] = {255, 2};
    lx_array *P = make_raw(LX_INT32, 2, s11, p), *Q = make_raw(LX_INT32, 2, s11, q);
    lx_array *T = make_raw(LX_INT32, 2, s11, two), *U = make_raw(LX_UINT8, 2, s11, u);
    lx_array *UU = make_raw(LX_UINT8, 2, s12, uu), *VV = make_raw(LX_UINT8, 2, s21, vv);
    lx_array *C = NULL;
    int64_t iv[4] = {0};
    if (P && ok_call(lx_matmul(P, P, &C), "int32 matmul")) {
      CHECK(read_all(C, NULL, iv) == 1 && iv[0] == 0, "int32 65536*65536 wraps to 0");
      lx_array_release(C);
    }
    if (Q && T && ok_call(lx_matmul(Q, T, &C), "int32 matmul")) {
      CHECK(read_all(C, NULL, iv) == 1 && iv[0] == -2, "int32 INT32_MAX*2 wraps to -2: %" PRId64,
            iv[0]);
      lx_array_release(C);
    }
    if (U && ok_call(lx_matmul(U, U, &C), "uint8 matmul")) {
      CHECK(read_all(C, NULL, iv) == 1 && iv[0] == 0, "uint8 16*16 wraps to 0");
      lx_array_release(C);
    }
    if (UU && VV && ok_call(lx_matmul(UU, VV, &C), "uint8 matmul")) {
      /* 255*255 + 255*2 = 65535 -> 255 */
      CHECK(read_all(C, NULL, iv) == 1 && iv[0] == 255, "uint8 dot wraps to 255: %" PRId64,
            iv[0]);
      lx_array_release(C);
    }
    lx_array_release(P); lx_array_release(Q); lx_array_release(T); lx_array_release(U);
    lx_array_release(UU); lx_array_release(VV);
  }

  /* Hand-derived: [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]], in
  ** float16 and through a transpose. */
  {
    int64_t s22[] = {2, 2};
    lx_array *A = make(LX_FLOAT16, 2, s22, (double[]){1, 2, 3, 4});
    lx_array *B = make(LX_BFLOAT16, 2, s22, (double[]){5, 7, 6, 8}), *Bt = NULL, *C = NULL;
    if (A && B && ok_call(lx_transpose(B, NULL, &Bt), "transpose") &&
        ok_call(lx_matmul(A, Bt, &C), "f16 @ bf16")) {
      double got[4];
      /* float16 and bfloat16 promote to float32 (JAX) */
      CHECK(lx_array_dtype(C) == LX_FLOAT32, "f16 @ bf16 dtype %s",
            lx_dtype_name(lx_array_dtype(C)));
      CHECK(read_all(C, got, NULL) == 4 && got[0] == 19 && got[1] == 22 && got[2] == 43 &&
            got[3] == 50, "[[1,2],[3,4]] @ [[5,6],[7,8]]");
    }
    lx_array_release(C);
    C = NULL;
    lx_array *B16 = NULL;
    if (A && Bt && ok_call(lx_astype(Bt, LX_FLOAT16, &B16), "astype") &&
        ok_call(lx_matmul(A, B16, &C), "f16 matmul")) {
      double got[4];
      CHECK(lx_array_dtype(C) == LX_FLOAT16, "f16 @ f16 dtype");
      CHECK(read_all(C, got, NULL) == 4 && got[0] == 19 && got[1] == 22 && got[2] == 43 &&
            got[3] == 50, "f16 [[1,2],[3,4]] @ [[5,6],[7,8]]");
    }
    lx_array_release(C); lx_array_release(B16);
    lx_array_release(A); lx_array_release(B); lx_array_release(Bt);
  }
  /* float16 rounds once: 1 + 2^-11 + 2^-11 in float32 is 1+2^-10, exact
  ** in float16; a per-term rounding would give 1. */
  {
    int64_t s13[] = {1, 3}, s31[] = {3, 1};
    double eps = ldexp(1, -11);
    lx_array *A = make(LX_FLOAT32, 2, s13, (double[]){1, eps, eps});
    lx_array *B = make(LX_FLOAT16, 2, s31, (double[]){1, 1, 1}), *Ah = NULL, *C = NULL;
    /* 2^-11 is exact in float16 (a normal number) */
    if (A && B && ok_call(lx_astype(A, LX_FLOAT16, &Ah), "astype") &&
        ok_call(lx_matmul(Ah, B, &C), "f16 matmul")) {
      double got[1];
      CHECK(read_all(C, got, NULL) == 1 && got[0] == 1 + 2 * eps,
            "float16 sum accumulates in float32: %.17g", got[0]);
    }
    lx_array_release(C); lx_array_release(Ah); lx_array_release(A); lx_array_release(B);
  }
}

int main(void) {
  test_reduce_dtypes();
  test_reduce_large();
  test_reduce_literals();
  test_half_exhaustive();
  test_matmul();
  return check_summary();
}
