/*
** test_format.c — lx_array_format and lx_array_short_repr against exact
** strings.
**
** The expected strings were produced with NumPy 1.24 by JAX's own recipe
** (np.array2string(x, prefix="Array(", suffix=",", separator=", ") and then
** "dtype=..." after one space, or after len("Array(") spaces when JAX's
** line-length estimate says it would not fit) and pasted here: NumPy is
** not needed to run this test. Where NumPy has no such dtype (bfloat16) or
** NumPy versions differ, the comment says how the string was derived.
*/
#include "lunox.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *name, bool ok, const char *want, const char *got) {
  CHECK(ok, "%s\n--- expected:\n%s\n--- got:\n%s\n---", name, want, got ? got : "(null)");
}

/* An array of `dtype` from doubles (each value converted like astype). */
static lx_array *from_doubles(lx_dtype dtype, int ndim, const int64_t *shape,
                              const double *values) {
  int64_t size = 1;
  for (int i = 0; i < ndim; i++) size *= shape[i];
  size_t item = lx_dtype_size(dtype);
  unsigned char *buf = malloc(size ? (size_t)size * item : 1);
  if (!buf) return NULL;
  for (int64_t i = 0; i < size; i++) lx_store_double(dtype, values[i], buf + i * item);
  lx_array *a = NULL;
  if (lx_array_from_host(lx_device_cpu(), dtype, ndim, shape, buf, &a) != LX_OK) {
    printf("array creation failed: %s\n", lx_last_error());
    a = NULL;
  }
  free(buf);
  return a;
}

/* Formats `a` (released here) and compares with `want`. */
static void check_opts(const char *name, lx_array *a, const lx_format_options *o,
                       const char *want) {
  if (!a) { report(name, false, want, "(array creation failed)"); return; }
  char *got = NULL;
  lx_status st = lx_array_format(a, o, &got);
  if (st != LX_OK) {
    report(name, false, want, lx_last_error());
  } else {
    report(name, strcmp(got, want) == 0, want, got);
  }
  free(got);
  lx_array_release(a);
}

static void check(const char *name, lx_array *a, const char *want) {
  check_opts(name, a, NULL, want);
}

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

/* A 1-D array from a literal list. */
#define VEC(dtype, ...)                                                   \
  from_doubles(dtype, 1, (int64_t[]){N(((double[]){__VA_ARGS__}))},       \
               (double[]){__VA_ARGS__})

static lx_array *scalar(lx_dtype dtype, double v) {
  return from_doubles(dtype, 0, NULL, &v);
}

/* 0, 1, 2, ... in `dtype` and `shape`. */
static lx_array *iota(lx_dtype dtype, int ndim, const int64_t *shape) {
  int64_t size = 1;
  for (int i = 0; i < ndim; i++) size *= shape[i];
  double *v = malloc((size_t)(size ? size : 1) * sizeof *v);
  if (!v) return NULL;
  for (int64_t i = 0; i < size; i++) v[i] = (double)i;
  lx_array *a = from_doubles(dtype, ndim, shape, v);
  free(v);
  return a;
}

/* --------------------------------------------------------------- floats */

static void test_float32(void) {
  check("f32 vector", VEC(LX_FLOAT32, 1, 2, 3), "Array([1., 2., 3.], dtype=float32)");
  check("f32 matrix", from_doubles(LX_FLOAT32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4}),
        "Array([[1., 2.],\n"
        "       [3., 4.]], dtype=float32)");
  /* Shortest digits that read back as the same float32. */
  check("f32 shortest", VEC(LX_FLOAT32, 0.1, 0.2, 0.3), "Array([0.1, 0.2, 0.3], dtype=float32)");
  check("f32 thirds", VEC(LX_FLOAT32, 1.0 / 3, 2.0 / 3, 1),
        "Array([0.33333334, 0.6666667 , 1.        ], dtype=float32)");
  check("f32 aligned points", VEC(LX_FLOAT32, 1.5, 2, 10.25),
        "Array([ 1.5 ,  2.  , 10.25], dtype=float32)");
  check("f32 signs", VEC(LX_FLOAT32, -1.5, 10.25, 0, -0.0),
        "Array([-1.5 , 10.25,  0.  , -0.  ], dtype=float32)");
  check("f32 negative zero", VEC(LX_FLOAT32, -0.0), "Array([-0.], dtype=float32)");
  check("f32 grid", from_doubles(LX_FLOAT32, 2, (int64_t[]){3, 4},
                                 (double[]){-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5}),
        "Array([[-2. , -1.5, -1. , -0.5],\n"
        "       [ 0. ,  0.5,  1. ,  1.5],\n"
        "       [ 2. ,  2.5,  3. ,  3.5]], dtype=float32)");
  check("f32 nan/inf", VEC(LX_FLOAT32, NAN, INFINITY, -INFINITY, 1.5),
        "Array([ nan,  inf, -inf,  1.5], dtype=float32)");
  check("f32 nan only", VEC(LX_FLOAT32, NAN, NAN), "Array([nan, nan], dtype=float32)");
  check("f32 0-d", scalar(LX_FLOAT32, 1), "Array(1., dtype=float32)");
  check("f32 0-d negative", scalar(LX_FLOAT32, -2.5), "Array(-2.5, dtype=float32)");
}

static void test_scientific(void) {
  check("f32 large", VEC(LX_FLOAT32, 1e10, 1), "Array([1.e+10, 1.e+00], dtype=float32)");
  check("f32 small", VEC(LX_FLOAT32, 1e-5, 1.5e-5, 1),
        "Array([1.0e-05, 1.5e-05, 1.0e+00], dtype=float32)");
  /* The common mantissa width is filled with more digits of the value. */
  check("f32 mantissa width", VEC(LX_FLOAT32, 0.1, 1.2345e-5),
        "Array([1.0000e-01, 1.2345e-05], dtype=float32)");
  check("f32 sci nan", VEC(LX_FLOAT32, 1e-5, NAN, -INFINITY),
        "Array([1.e-05,    nan,   -inf], dtype=float32)");
  check("f64 3-digit exponent", VEC(LX_FLOAT64, 1e100, 1e-5),
        "Array([1.e+100, 1.e-005], dtype=float64)");
  check("f64 pi, 8 fraction digits", scalar(LX_FLOAT64, 3.14159265358979323846),
        "Array(3.14159265, dtype=float64)");
  /* 1/512 = 0.001953125 rounds half to even at 8 fraction digits. */
  check("f64 cutoff tie", VEC(LX_FLOAT64, 1.0 / 512, 1),
        "Array([0.00195312, 1.        ], dtype=float64)");
  /* float32(1e-4) is just below 1e-4. NumPy >= 2 compares it with 1e-4 in
  ** float32 (NEP 50: 1e-4 is weakly typed), so it stays positional; NumPy
  ** 1.x compared in float64 and printed "1.e-04". */
  check("f32 1e-4 threshold", scalar(LX_FLOAT32, 1e-4), "Array(0.0001, dtype=float32)");
}

static void test_half(void) {
  check("f16 positional", VEC(LX_FLOAT16, 0.1, 1.0 / 3, 2.5),
        "Array([0.1   , 0.3333, 2.5   ], dtype=float16)");
  check("f16 scientific", VEC(LX_FLOAT16, 0.1, 0.5, 65504),
        "Array([1.00e-01, 5.00e-01, 6.55e+04], dtype=float16)");
  /* More digits of the float16 value fill the width: -0.34 is -0.340088. */
  check("f16 scientific digits", VEC(LX_FLOAT16, -0.34, 1e-3, 2.29, 1000),
        "Array([-3.40e-01,  1.00e-03,  2.29e+00,  1.00e+03], dtype=float16)");
  /* The integer part is printed in full, not as "12140.". */
  check("f16 whole integer part", VEC(LX_FLOAT16, 12144, 254.8),
        "Array([12144. ,   254.8], dtype=float16)");
  /* bfloat16: NumPy has no such type. Shortest digits that read back as
  ** the bfloat16 value (0.1 is 0.10009765625, 3.14 is 3.140625), laid out
  ** like float32 [0.1, 3.14, 25.5]; the scientific case by NumPy's rules
  ** (mantissa width 2, filled with digits of 0.10009765625). */
  check("bf16 positional", VEC(LX_BFLOAT16, 0.1, 3.14, 25.5),
        "Array([ 0.1 ,  3.14, 25.5 ], dtype=bfloat16)");
  check("bf16 scientific", VEC(LX_BFLOAT16, 0.1, 3.14, 256),
        "Array([1.00e-01, 3.14e+00, 2.56e+02], dtype=bfloat16)");
}

/* ------------------------------------------------------ integers, bools */

static lx_array *int64_vec(int n, const int64_t *v) {
  lx_array *a = NULL;
  if (lx_array_from_host(lx_device_cpu(), LX_INT64, 1, (int64_t[]){n}, v, &a) != LX_OK)
    return NULL;
  return a;
}

static void test_integers(void) {
  check("i32", VEC(LX_INT32, 1, -1000, 123456789),
        "Array([        1,     -1000, 123456789], dtype=int32)");
  check("i32 signs", VEC(LX_INT32, -1, 2, -3), "Array([-1,  2, -3], dtype=int32)");
  /* JAX's line estimate puts len("Array(") spaces before dtype here. */
  check("i64 extremes", int64_vec(3, (int64_t[]){INT64_MIN, 0, INT64_MAX}),
        "Array([-9223372036854775808,                    0,  9223372036854775807],"
        "      dtype=int64)");
  check("u8", VEC(LX_UINT8, 0, 7, 255), "Array([  0,   7, 255], dtype=uint8)");
  check("u32", VEC(LX_UINT32, 4294967295.0, 1), "Array([4294967295,          1], dtype=uint32)");
  check("u16", VEC(LX_UINT16, 65535, 0, 7), "Array([65535,     0,     7], dtype=uint16)");
  /* uint64 prints unsigned (its bits reach the formatter as an int64). */
  {
    uint64_t u[3] = {UINT64_MAX, UINT64_C(16822122385914693683), 1};
    lx_array *a = NULL;
    if (lx_array_from_host(lx_device_cpu(), LX_UINT64, 1, (int64_t[]){3}, u, &a) != LX_OK)
      a = NULL;
    check("u64 above 2^63", a,
          "Array([18446744073709551615, 16822122385914693683,                    1],"
          "      dtype=uint64)");
    uint64_t one = UINT64_C(9223372036854775809);
    if (lx_array_from_host(lx_device_cpu(), LX_UINT64, 0, NULL, &one, &a) != LX_OK) a = NULL;
    check("u64 0-d", a, "Array(9223372036854775809, dtype=uint64)");
  }
  check("i32 0-d", scalar(LX_INT32, -7), "Array(-7, dtype=int32)");
  check("bool", VEC(LX_BOOL, 1, 0), "Array([ True, False], dtype=bool)");
  check("bool all true", VEC(LX_BOOL, 1, 1), "Array([ True,  True], dtype=bool)");
  check("bool 0-d", scalar(LX_BOOL, 1), "Array(True, dtype=bool)");
}

/* --------------------------------------------------------------- layout */

static void test_layout(void) {
  check("empty 1-D", from_doubles(LX_FLOAT32, 1, (int64_t[]){0}, NULL),
        "Array([], shape=(0,), dtype=float32)");
  check("empty 2-D", from_doubles(LX_FLOAT32, 2, (int64_t[]){0, 3}, NULL),
        "Array([], shape=(0, 3), dtype=float32)");
  check("3-D", iota(LX_FLOAT32, 3, (int64_t[]){2, 3, 4}),
        "Array([[[ 0.,  1.,  2.,  3.],\n"
        "        [ 4.,  5.,  6.,  7.],\n"
        "        [ 8.,  9., 10., 11.]],\n"
        "\n"
        "       [[12., 13., 14., 15.],\n"
        "        [16., 17., 18., 19.],\n"
        "        [20., 21., 22., 23.]]], dtype=float32)");
  check("wrap 30", iota(LX_FLOAT32, 1, (int64_t[]){30}),
        "Array([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n"
        "       13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n"
        "       26., 27., 28., 29.], dtype=float32)");
  double lin[10];
  for (int i = 0; i < 10; i++) lin[i] = i / 9.0;
  check("linspace, dtype spacing", from_doubles(LX_FLOAT32, 1, (int64_t[]){10}, lin),
        "Array([0.        , 0.11111111, 0.22222222, 0.33333334, 0.44444445,\n"
        "       0.5555556 , 0.6666667 , 0.7777778 , 0.8888889 , 1.        ],"
        "      dtype=float32)");
  lx_array *m = iota(LX_FLOAT32, 2, (int64_t[]){2, 3}), *t = NULL;
  if (m && lx_transpose(m, NULL, &t) != LX_OK) t = NULL;
  lx_array_release(m);
  check("transposed view", t,
        "Array([[0., 3.],\n"
        "       [1., 4.],\n"
        "       [2., 5.]], dtype=float32)");
}

static void test_summary(void) {
  check("2000 summarised", iota(LX_FLOAT32, 1, (int64_t[]){2000}),
        "Array([0.000e+00, 1.000e+00, 2.000e+00, ..., 1.997e+03, 1.998e+03,\n"
        "       1.999e+03], dtype=float32)");
  check("100x100 summarised", iota(LX_FLOAT32, 2, (int64_t[]){100, 100}),
        "Array([[0.000e+00, 1.000e+00, 2.000e+00, ..., 9.700e+01, 9.800e+01,\n"
        "        9.900e+01],\n"
        "       [1.000e+02, 1.010e+02, 1.020e+02, ..., 1.970e+02, 1.980e+02,\n"
        "        1.990e+02],\n"
        "       [2.000e+02, 2.010e+02, 2.020e+02, ..., 2.970e+02, 2.980e+02,\n"
        "        2.990e+02],\n"
        "       ...,\n"
        "       [9.700e+03, 9.701e+03, 9.702e+03, ..., 9.797e+03, 9.798e+03,\n"
        "        9.799e+03],\n"
        "       [9.800e+03, 9.801e+03, 9.802e+03, ..., 9.897e+03, 9.898e+03,\n"
        "        9.899e+03],\n"
        "       [9.900e+03, 9.901e+03, 9.902e+03, ..., 9.997e+03, 9.998e+03,\n"
        "        9.999e+03]], dtype=float32)");
  check("3-D summarised", iota(LX_INT32, 3, (int64_t[]){20, 20, 20}),
        "Array([[[   0,    1,    2, ...,   17,   18,   19],\n"
        "        [  20,   21,   22, ...,   37,   38,   39],\n"
        "        [  40,   41,   42, ...,   57,   58,   59],\n"
        "        ...,\n"
        "        [ 340,  341,  342, ...,  357,  358,  359],\n"
        "        [ 360,  361,  362, ...,  377,  378,  379],\n"
        "        [ 380,  381,  382, ...,  397,  398,  399]],\n"
        "\n"
        "       [[ 400,  401,  402, ...,  417,  418,  419],\n"
        "        [ 420,  421,  422, ...,  437,  438,  439],\n"
        "        [ 440,  441,  442, ...,  457,  458,  459],\n"
        "        ...,\n"
        "        [ 740,  741,  742, ...,  757,  758,  759],\n"
        "        [ 760,  761,  762, ...,  777,  778,  779],\n"
        "        [ 780,  781,  782, ...,  797,  798,  799]],\n"
        "\n"
        "       [[ 800,  801,  802, ...,  817,  818,  819],\n"
        "        [ 820,  821,  822, ...,  837,  838,  839],\n"
        "        [ 840,  841,  842, ...,  857,  858,  859],\n"
        "        ...,\n"
        "        [1140, 1141, 1142, ..., 1157, 1158, 1159],\n"
        "        [1160, 1161, 1162, ..., 1177, 1178, 1179],\n"
        "        [1180, 1181, 1182, ..., 1197, 1198, 1199]],\n"
        "\n"
        "       ...,\n"
        "\n"
        "       [[6800, 6801, 6802, ..., 6817, 6818, 6819],\n"
        "        [6820, 6821, 6822, ..., 6837, 6838, 6839],\n"
        "        [6840, 6841, 6842, ..., 6857, 6858, 6859],\n"
        "        ...,\n"
        "        [7140, 7141, 7142, ..., 7157, 7158, 7159],\n"
        "        [7160, 7161, 7162, ..., 7177, 7178, 7179],\n"
        "        [7180, 7181, 7182, ..., 7197, 7198, 7199]],\n"
        "\n"
        "       [[7200, 7201, 7202, ..., 7217, 7218, 7219],\n"
        "        [7220, 7221, 7222, ..., 7237, 7238, 7239],\n"
        "        [7240, 7241, 7242, ..., 7257, 7258, 7259],\n"
        "        ...,\n"
        "        [7540, 7541, 7542, ..., 7557, 7558, 7559],\n"
        "        [7560, 7561, 7562, ..., 7577, 7578, 7579],\n"
        "        [7580, 7581, 7582, ..., 7597, 7598, 7599]],\n"
        "\n"
        "       [[7600, 7601, 7602, ..., 7617, 7618, 7619],\n"
        "        [7620, 7621, 7622, ..., 7637, 7638, 7639],\n"
        "        [7640, 7641, 7642, ..., 7657, 7658, 7659],\n"
        "        ...,\n"
        "        [7940, 7941, 7942, ..., 7957, 7958, 7959],\n"
        "        [7960, 7961, 7962, ..., 7977, 7978, 7979],\n"
        "        [7980, 7981, 7982, ..., 7997, 7998, 7999]]], dtype=int32)");
  check("1001 summarised", iota(LX_INT32, 1, (int64_t[]){1001}),
        "Array([   0,    1,    2, ...,  998,  999, 1000], dtype=int32)");

  /* Exactly the threshold: printed in full. */
  lx_array *a = iota(LX_INT32, 1, (int64_t[]){1000});
  char *s = NULL;
  bool ok = a && lx_array_format(a, NULL, &s) == LX_OK && !strstr(s, "...") &&
            strncmp(s, "Array([  0,   1,   2,", 21) == 0 &&
            strstr(s, "\n       988, 989, 990, 991, 992, 993, 994, 995, 996, 997, 998, 999],"
                      "      dtype=int32)") != NULL;
  report("1000 not summarised", ok, "all 1000 elements", s);
  free(s);
  lx_array_release(a);
}

/* -------------------------------------------------------------- options */

static void test_options(void) {
  lx_format_options o;
  lx_format_options_default(&o);
  bool ok = o.threshold == 1000 && o.edgeitems == 3 && o.linewidth == 75 &&
            o.prefix && strcmp(o.prefix, "Array(") == 0 && o.show_dtype;
  report("defaults", ok, "1000 3 75 Array( true", ok ? "same" : "different");

  lx_format_options plain = o;
  plain.prefix = NULL;
  check_opts("no prefix", from_doubles(LX_FLOAT32, 2, (int64_t[]){2, 2}, (double[]){1, 2, 3, 4}),
             &plain, "[[1., 2.],\n [3., 4.]]");
  check_opts("no prefix wraps at 75", iota(LX_FLOAT32, 1, (int64_t[]){30}), &plain,
             "[ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13., 14.,\n"
             " 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27., 28., 29.]");
  check_opts("no prefix empty", from_doubles(LX_FLOAT32, 2, (int64_t[]){0, 3}, NULL), &plain, "[]");

  lx_format_options nodtype = o;
  nodtype.show_dtype = false;
  check_opts("no dtype", iota(LX_FLOAT32, 1, (int64_t[]){30}), &nodtype,
             "Array([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n"
             "       13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n"
             "       26., 27., 28., 29.])");

  lx_format_options small = o;
  small.threshold = 5;
  small.edgeitems = 1;
  small.linewidth = 40;
  check_opts("threshold 5, edgeitems 1", iota(LX_FLOAT32, 2, (int64_t[]){4, 6}), &small,
             "Array([[ 0., ...,  5.],\n"
             "       ...,\n"
             "       [18., ..., 23.]], dtype=float32)");
}

/* ----------------------------------------------------------- short repr */

static void check_short(const char *name, lx_array *a, size_t size, const char *want) {
  char buf[80]; /* larger than `size`: the bytes past it must stay 'x' */
  memset(buf, 'x', sizeof buf);
  if (a) lx_array_short_repr(a, buf, size);
  bool ok = a && strcmp(buf, want) == 0 && buf[size] == 'x';
  report(name, ok, want, a ? buf : "(array creation failed)");
  lx_array_release(a);
}

static void test_short_repr(void) {
  check_short("short f32[3,4]", iota(LX_FLOAT32, 2, (int64_t[]){3, 4}), 64, "f32[3,4]");
  check_short("short i64[]", scalar(LX_INT64, 1), 64, "i64[]");
  check_short("short bool[2]", VEC(LX_BOOL, 1, 0), 64, "bool[2]");
  check_short("short bf16[0]", from_doubles(LX_BFLOAT16, 1, (int64_t[]){0}, NULL), 64, "bf16[0]");
  check_short("short truncated", iota(LX_FLOAT32, 2, (int64_t[]){3, 4}), 5, "f32[");
}

int main(void) {
  test_float32();
  test_scientific();
  test_half();
  test_integers();
  test_layout();
  test_summary();
  test_options();
  test_short_repr();
  return check_summary();
}
