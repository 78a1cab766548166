/*
** test_core.c — unit tests of the runtime core through the public ABI:
** dtypes and promotion, scalar and half conversions, shape checks, views,
** elementwise ops, and error reporting (per thread, no crash on bad input).
*/
#include "lunox.h"
#include "check.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>


static void test_dtypes(void) {
  lx_dtype d;
  CHECK(lx_dtype_from_name("bfloat16", &d) == LX_OK && d == LX_BFLOAT16, "bfloat16 name");
  CHECK(lx_dtype_from_name("float", &d) == LX_ERR_ARGUMENT, "unknown name rejected");
  CHECK(strstr(lx_last_error(), "'float'") != NULL, "message names the value: %s", lx_last_error());
  CHECK(lx_dtype_size(LX_FLOAT16) == 2 && lx_dtype_size(LX_INT64) == 8 && lx_dtype_size(LX_BOOL) == 1,
        "sizes");
  /* Appended to the enum: the older numbers stay as they were. */
  CHECK(LX_BOOL == 8 && LX_UINT16 == 9 && LX_UINT64 == 10 && LX_DTYPE_COUNT == 11, "enum numbers");
  CHECK(lx_dtype_from_name("uint16", &d) == LX_OK && d == LX_UINT16, "uint16 name");
  CHECK(lx_dtype_from_name("uint64", &d) == LX_OK && d == LX_UINT64, "uint64 name");
  CHECK(strcmp(lx_dtype_short_name(LX_UINT16), "u16") == 0 &&
        strcmp(lx_dtype_short_name(LX_UINT64), "u64") == 0, "short names");
  CHECK(lx_dtype_size(LX_UINT16) == 2 && lx_dtype_size(LX_UINT64) == 8, "uint16/uint64 sizes");
  CHECK(lx_dtype_is_integer(LX_UINT16) && lx_dtype_is_integer(LX_UINT64) &&
        !lx_dtype_is_signed(LX_UINT16) && !lx_dtype_is_signed(LX_UINT64) &&
        !lx_dtype_is_float(LX_UINT64), "uint16/uint64 kinds");
  CHECK(lx_dtype_from_name("u64", &d) == LX_ERR_ARGUMENT &&
        strstr(lx_last_error(), "uint16, uint32, uint64") != NULL,
        "the message lists every dtype: %s", lx_last_error());
  CHECK(lx_dtype_holds(LX_UINT16, 65535.9) && !lx_dtype_holds(LX_UINT16, 65536.0) &&
        !lx_dtype_holds(LX_UINT16, -1.0), "holds uint16");
  CHECK(lx_dtype_holds(LX_UINT64, 18446744073709549568.0) &&
        !lx_dtype_holds(LX_UINT64, 18446744073709551616.0) && !lx_dtype_holds(LX_UINT64, -1.0) &&
        !lx_dtype_holds(LX_UINT64, NAN), "holds uint64 (2^64 - 2048 yes, 2^64 no)");
  CHECK(lx_dtype_holds_int64(LX_UINT64, INT64_MAX) && !lx_dtype_holds_int64(LX_UINT64, -1) &&
        lx_dtype_holds_int64(LX_UINT16, 65535) && !lx_dtype_holds_int64(LX_UINT16, 65536),
        "holds_int64 checks values");
  /* JAX's lattice (x64). */
  struct { lx_dtype a, b, want; } cases[] = {
    {LX_BOOL, LX_UINT8, LX_UINT8},       {LX_UINT8, LX_INT32, LX_INT32},
    {LX_UINT32, LX_INT32, LX_INT64},     {LX_UINT8, LX_UINT32, LX_UINT32},
    {LX_INT64, LX_FLOAT16, LX_FLOAT16},  {LX_FLOAT16, LX_BFLOAT16, LX_FLOAT32},
    {LX_BFLOAT16, LX_FLOAT32, LX_FLOAT32}, {LX_FLOAT32, LX_FLOAT64, LX_FLOAT64},
    {LX_INT32, LX_INT64, LX_INT64},      {LX_BOOL, LX_BOOL, LX_BOOL},
    /* uint16 and uint64 (jax._src.dtypes: u2 < i4, u4; u8 < weak float). */
    {LX_UINT8, LX_UINT16, LX_UINT16},    {LX_UINT16, LX_UINT32, LX_UINT32},
    {LX_UINT16, LX_UINT64, LX_UINT64},   {LX_UINT32, LX_UINT64, LX_UINT64},
    {LX_BOOL, LX_UINT64, LX_UINT64},     {LX_UINT16, LX_INT32, LX_INT32},
    {LX_UINT16, LX_INT64, LX_INT64},     {LX_UINT64, LX_INT32, LX_FLOAT64},
    {LX_UINT64, LX_INT64, LX_FLOAT64},   {LX_UINT64, LX_FLOAT16, LX_FLOAT16},
    {LX_UINT64, LX_BFLOAT16, LX_BFLOAT16}, {LX_UINT64, LX_FLOAT32, LX_FLOAT32},
    {LX_UINT16, LX_FLOAT16, LX_FLOAT16}, {LX_UINT32, LX_INT64, LX_INT64},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lx_dtype r1 = lx_dtype_promote(cases[i].a, cases[i].b);
    lx_dtype r2 = lx_dtype_promote(cases[i].b, cases[i].a);
    CHECK(r1 == cases[i].want && r2 == cases[i].want, "promote %s %s -> %s (got %s)",
          lx_dtype_name(cases[i].a), lx_dtype_name(cases[i].b), lx_dtype_name(cases[i].want),
          lx_dtype_name(r1));
  }
}

static void test_half_conversions(void) {
  /* Hand-derived binary16 patterns. */
  CHECK(lx_float_to_half(1.0f) == 0x3c00, "1.0");
  CHECK(lx_float_to_half(-2.0f) == 0xc000, "-2.0");
  CHECK(lx_float_to_half(65504.0f) == 0x7bff, "max half");
  CHECK(lx_float_to_half(65520.0f) == 0x7c00, "65520 ties to even -> inf");
  CHECK(lx_float_to_half(0x1p-24f) == 0x0001, "smallest subnormal");
  CHECK(lx_float_to_half(0x1p-25f) == 0x0000, "half the smallest subnormal ties to 0");
  CHECK(lx_float_to_half(0x1.8p-25f) == 0x0001, "0.75 ulp rounds up");
  /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0). */
  CHECK(lx_float_to_half(1.0f + 0x1p-11f) == 0x3c00, "tie to even down");
  /* 1 + 3*2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9: up to even. */
  CHECK(lx_float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02, "tie to even up");
  CHECK((lx_float_to_half(NAN) & 0x7c00) == 0x7c00 && (lx_float_to_half(NAN) & 0x3ff), "NaN stays NaN");
  /* From double in one rounding: 1 + 2^-11 + 2^-40 is just above the tie. */
  CHECK(lx_double_to_half(1.0 + 0x1p-11 + 0x1p-40) == 0x3c01, "double rounds once");
  for (uint32_t h = 0; h < 0x10000; h++) {
    float f = lx_half_to_float((uint16_t)h);
    if (f != f) continue;
    if (lx_float_to_half(f) != h) { CHECK(0, "half round trip %04x", h); break; }
  }
  check_pass();
  /* The float32 kernel path and the one-rounding double path agree. */
  int disagree = 0;
  for (uint64_t bits = 0; bits < 0x100000000ull; bits += 4099) {
    uint32_t b32 = (uint32_t)bits;
    float f;
    memcpy(&f, &b32, 4);
    if (f != f) continue;
    if (lx_float_to_half(f) != lx_double_to_half((double)f)) disagree++;
  }
  CHECK(disagree == 0, "float->half and double->half disagree on %d inputs", disagree);
  CHECK(lx_float_to_bfloat16(1.0f) == 0x3f80, "bf16 1.0");
  CHECK(lx_float_to_bfloat16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie to even down");
  CHECK(lx_float_to_bfloat16(1.0f + 3 * 0x1p-8f) == 0x3f82, "bf16 tie to even up");
  CHECK(lx_bfloat16_to_float(0x4049) == 3.140625f, "bf16 3.140625");
}

static void test_scalar_casts(void) {
  unsigned char buf[8];
  lx_store_double(LX_INT32, 3e10, buf);
  CHECK(lx_load_int64(LX_INT32, buf) == 2147483647, "saturate high");
  lx_store_double(LX_INT32, -3e10, buf);
  CHECK(lx_load_int64(LX_INT32, buf) == -2147483647 - 1, "saturate low");
  lx_store_double(LX_UINT8, -5.0, buf);
  CHECK(lx_load_int64(LX_UINT8, buf) == 0, "uint8 from negative saturates to 0");
  lx_store_double(LX_INT64, NAN, buf);
  CHECK(lx_load_int64(LX_INT64, buf) == 0, "NaN -> 0");
  lx_store_double(LX_INT32, -2.7, buf);
  CHECK(lx_load_int64(LX_INT32, buf) == -2, "truncate toward zero");
  lx_store_int64(LX_UINT8, 257, buf);
  CHECK(lx_load_int64(LX_UINT8, buf) == 1, "integer narrowing wraps");
  lx_store_double(LX_BOOL, NAN, buf);
  CHECK(lx_load_int64(LX_BOOL, buf) == 1, "NaN is true");
  lx_store_int64(LX_INT64, INT64_MIN, buf);
  CHECK(lx_load_int64(LX_INT64, buf) == INT64_MIN, "int64 exact");
  /* uint64: bit patterns through the int64 paths, values through double. */
  uint64_t u;
  lx_store_int64(LX_UINT64, -1, buf);
  memcpy(&u, buf, 8);
  CHECK(u == UINT64_MAX && lx_load_int64(LX_UINT64, buf) == -1, "uint64 max as bits");
  CHECK(lx_load_double(LX_UINT64, buf) == 18446744073709551616.0, "uint64 max as a value");
  uint64_t want = UINT64_C(9223372036854775809);
  int64_t two63p1;
  memcpy(&two63p1, &want, 8);
  lx_store_int64(LX_UINT64, two63p1, buf);
  memcpy(&u, buf, 8);
  CHECK(u == UINT64_C(9223372036854775809) && lx_load_int64(LX_UINT64, buf) == two63p1,
        "2^63 + 1 round-trips");
  lx_store_double(LX_UINT64, 1e30, buf);
  memcpy(&u, buf, 8);
  CHECK(u == UINT64_MAX, "uint64 saturates high");
  lx_store_double(LX_UINT64, -3.5, buf);
  memcpy(&u, buf, 8);
  CHECK(u == 0, "uint64 from a negative saturates to 0");
  lx_store_double(LX_UINT64, NAN, buf);
  memcpy(&u, buf, 8);
  CHECK(u == 0, "uint64 NaN -> 0");
  lx_store_double(LX_UINT64, 9223372036854775808.0 + 4096.0, buf);
  memcpy(&u, buf, 8);
  CHECK(u == UINT64_C(9223372036854779904), "uint64 from a double above 2^63 is exact");
  lx_store_int64(LX_UINT16, 65537, buf);
  CHECK(lx_load_int64(LX_UINT16, buf) == 1, "uint16 narrowing wraps");
  lx_store_int64(LX_UINT16, -1, buf);
  CHECK(lx_load_int64(LX_UINT16, buf) == 65535, "uint16 from -1 wraps");
  lx_store_double(LX_UINT16, 70000.0, buf);
  CHECK(lx_load_int64(LX_UINT16, buf) == 65535, "uint16 from a double saturates");
}

static lx_array *vec_f32(int n, const float *v) {
  int64_t shape[1] = {n};
  lx_array *a = NULL;
  if (lx_array_from_host(lx_device_cpu(), LX_FLOAT32, 1, shape, v, &a) != LX_OK)
    printf("from_host failed: %s\n", lx_last_error());
  return a;
}

static void test_shapes_and_errors(void) {
  int64_t neg[2] = {3, -1};
  CHECK(lx_shape_check("zeros", LX_FLOAT32, 2, neg, NULL, NULL) == LX_ERR_SHAPE, "negative dim");
  CHECK(strstr(lx_last_error(), "zeros: negative dimension -1 at position 2") != NULL, "%s",
        lx_last_error());
  int64_t huge[1] = {(int64_t)1 << 62};
  lx_array *a = NULL;
  CHECK(lx_array_empty(NULL, LX_FLOAT32, 1, huge, &a) == LX_ERR_MEMORY && a == NULL,
        "2^62 float32 elements rejected");
  int64_t zero_and_huge[2] = {0, (int64_t)1 << 62};
  int64_t size = -1;
  CHECK(lx_shape_check("zeros", LX_FLOAT64, 2, zero_and_huge, &size, NULL) == LX_OK && size == 0,
        "a zero dimension makes any shape empty");
  int64_t big[1] = {(int64_t)1 << 45}; /* 128 TiB: no machine has it */
  CHECK(lx_array_empty(NULL, LX_FLOAT32, 1, big, &a) == LX_ERR_MEMORY, "huge alloc fails cleanly");
  CHECK(strstr(lx_last_error(), "out of memory") != NULL, "%s", lx_last_error());
  /* Still working afterwards. */
  float v[3] = {1, 2, 3};
  lx_array *x = vec_f32(3, v);
  CHECK(x != NULL, "alloc after failure");
  lx_array *y = vec_f32(2, v);
  lx_array *r = NULL;
  CHECK(lx_binary(LX_ADD, x, y, &r) == LX_ERR_SHAPE, "broadcast mismatch");
  CHECK(strcmp(lx_last_error(), "add: shapes {3} and {2} cannot be broadcast together "
               "(3 vs 2 at axis 1 of the result)") == 0, "%s", lx_last_error());
  int64_t bad[2] = {2, 2};
  CHECK(lx_reshape(x, 2, bad, &r) == LX_ERR_SHAPE, "reshape size mismatch");
  int perm[1] = {1};
  CHECK(lx_transpose(x, perm, &r) == LX_ERR_ARGUMENT, "bad permutation");
  lx_array_release(x);
  lx_array_release(y);
}

static void test_views_and_ops(void) {
  float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  lx_array *a = NULL, *t = NULL, *s = NULL, *sum = NULL;
  lx_array_from_host(NULL, LX_FLOAT32, 2, shape, v, &a);
  CHECK(lx_transpose(a, NULL, &t) == LX_OK && !lx_array_is_contiguous(t), "transpose is a view");
  float out[6];
  lx_array_read(t, out, sizeof out);
  CHECK(out[0] == 1 && out[1] == 4 && out[2] == 2 && out[5] == 6, "transposed read");
  lx_index ix[2] = {{LX_INDEX_SLICE, 0, 2, 1}, {LX_INDEX_SLICE, 2, -1, -1}};
  CHECK(lx_index_view(a, 2, ix, &s) == LX_OK, "reversed slice view");
  lx_array_read(s, out, 6 * sizeof(float));
  CHECK(out[0] == 3 && out[1] == 2 && out[2] == 1 && out[3] == 6, "reversed columns");
  CHECK(lx_binary(LX_ADD, t, t, &sum) == LX_OK, "add strided views");
  lx_array_read(sum, out, sizeof out);
  CHECK(out[1] == 8 && out[4] == 6, "strided add values");
  lx_array *sc = NULL;
  CHECK(lx_binary_scalar(LX_SUB, a, 10, true, &sc) == LX_OK, "scalar first");
  lx_array_read(sc, out, sizeof out);
  CHECK(out[0] == 9 && out[5] == 4, "10 - a");
  lx_array_release(sc);
  /* int32 + 1.5 promotes to float32; int32 + 1 stays int32. */
  int32_t iv[2] = {1, 2};
  int64_t s2[1] = {2};
  lx_array *ia = NULL, *r1 = NULL, *r2 = NULL;
  lx_array_from_host(NULL, LX_INT32, 1, s2, iv, &ia);
  lx_binary_scalar(LX_ADD, ia, 1, false, &r1);
  lx_binary_scalar(LX_ADD, ia, 1.5, false, &r2);
  CHECK(lx_array_dtype(r1) == LX_INT32 && lx_array_dtype(r2) == LX_FLOAT32, "weak scalars");
  lx_array_release(r1); lx_array_release(r2); lx_array_release(ia);
  int64_t used = (int64_t)lx_memory_in_use();
  CHECK(used >= 6 * 4, "memory accounting counts live arrays");
  lx_array_release(a); lx_array_release(t); lx_array_release(s); lx_array_release(sum);
  CHECK((int64_t)lx_memory_in_use() < used, "memory returns when arrays die");
}

static void test_block_reuse(void) {
  int64_t shape[1] = {1 << 20}; /* 4 MiB of float32 */
  lx_array *a = NULL, *b = NULL;
  CHECK(lx_array_empty(NULL, LX_FLOAT32, 1, shape, &a) == LX_OK, "4 MiB array");
  void *first = lx_array_host_address(a);
  lx_array_release(a);
  CHECK(lx_array_empty(NULL, LX_FLOAT32, 1, shape, &b) == LX_OK, "again");
  CHECK(lx_array_host_address(b) == first, "a freed large block is reused for the same size");
  float fill = 0;
  lx_array *z = NULL;
  CHECK(lx_full(NULL, LX_FLOAT32, 1, shape, 0.0, &z) == LX_OK, "zeros on a reused block");
  float probe[4];
  lx_index ix = {LX_INDEX_SLICE, 0, 4, 1};
  lx_array *head = NULL;
  lx_index_view(z, 1, &ix, &head);
  lx_array_read(head, probe, sizeof probe);
  CHECK(probe[0] == fill && probe[3] == fill, "reused memory is filled, not stale");
  lx_array_release(head);
  lx_array_release(z);
  lx_array_release(b);
  lx_memory_trim(); /* must not disturb later allocations */
  CHECK(lx_array_empty(NULL, LX_FLOAT32, 1, shape, &a) == LX_OK, "after trim");
  lx_array_release(a);
}

static void *other_thread(void *arg) {
  lx_dtype d;
  lx_dtype_from_name("nonsense", &d);
  return NULL;
}

static void test_errors_per_thread(void) {
  lx_set_error(LX_ERR_ARGUMENT, "main thread message");
  pthread_t th;
  pthread_create(&th, NULL, other_thread, NULL);
  pthread_join(th, NULL);
  CHECK(strcmp(lx_last_error(), "main thread message") == 0, "errors are per thread: %s",
        lx_last_error());
}

int main(void) {
  test_dtypes();
  test_half_conversions();
  test_scalar_casts();
  test_shapes_and_errors();
  test_views_and_ops();
  test_block_reuse();
  test_errors_per_thread();
  return check_summary();
}
