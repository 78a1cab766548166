/*
** test_npy.c — the byte streams (runtime/io/stream.c) and NumPy's .npy
** records (runtime/io/npy.c): round trips of every dtype, headers byte for
** byte against numpy.save's (literals copied from NumPy 1.24's output),
** fortran-order and big-endian data, hostile headers, truncation at every
** byte, readers that do not know their length, and stdio errors.
*/
#include "lunox_io.h"
#include "check.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

/* A writer into a growable buffer. */
typedef struct membuf {
  uint8_t *data;
  size_t len, cap;
} membuf;

static lx_status membuf_write(void *ctx, const void *src, size_t n) {
  membuf *m = ctx;
  if (m->len + n > m->cap) {
    size_t cap = m->cap ? m->cap : 256;
    while (cap < m->len + n) cap *= 2;
    uint8_t *d = realloc(m->data, cap);
    if (!d) return lx_set_error(LX_ERR_MEMORY, "test buffer");
    m->data = d;
    m->cap = cap;
  }
  memcpy(m->data + m->len, src, n);
  m->len += n;
  return LX_OK;
}

static void membuf_writer(lx_writer *w, membuf *m, const char *name) {
  memset(m, 0, sizeof *m);
  w->write = membuf_write;
  w->ctx = m;
  w->name = name;
  w->offset = 0;
}

/* A reader over memory that hands out at most `chunk` bytes per call (as a
** pipe does) and may hide its length, like a reader over a socket. */
typedef struct chunky {
  const uint8_t *data;
  size_t len, pos, chunk;
  size_t calls;
} chunky;

static int64_t chunky_read(void *ctx, void *dst, size_t n) {
  chunky *c = ctx;
  c->calls++;
  size_t left = c->len - c->pos;
  if (n > left) n = left;
  if (n > c->chunk) n = c->chunk;
  memcpy(dst, c->data + c->pos, n);
  c->pos += n;
  return (int64_t)n;
}

static void chunky_reader(lx_reader *r, chunky *c, const void *data, size_t len, size_t chunk,
                          bool know_length) {
  c->data = data;
  c->len = len;
  c->pos = 0;
  c->chunk = chunk;
  c->calls = 0;
  r->read = chunky_read;
  r->ctx = c;
  r->name = "t.npy";
  r->offset = 0;
  r->remaining = know_length ? (int64_t)len : -1;
}

/* A record with `dict` as its header text (padded to 64 like numpy.save),
** format `version`, then `data`. */
static size_t make_record(uint8_t *out, const char *dict, int version, const void *data,
                          size_t nbytes) {
  size_t prefix = version == 1 ? 10 : 12, n = strlen(dict);
  size_t hlen = n + 1;
  hlen += (64 - (prefix + hlen) % 64) % 64;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (uint8_t)version;
  out[7] = 0;
  for (size_t i = 0; i < prefix - 8; i++) out[8 + i] = (uint8_t)(hlen >> (8 * i));
  memcpy(out + prefix, dict, n);
  memset(out + prefix + n, ' ', hlen - n - 1);
  out[prefix + hlen - 1] = '\n';
  if (nbytes) memcpy(out + prefix + hlen, data, nbytes);
  return prefix + hlen + nbytes;
}

/* Reads one record from memory: header then data. */
static lx_status read_one(const uint8_t *buf, size_t len, lx_npy_header *h, lx_array **out) {
  lx_memory_source src;
  lx_reader r;
  lx_reader_memory(&r, &src, buf, len, "t.npy");
  bool eof;
  *out = NULL;
  lx_status st = lx_npy_read_header(&r, h, &eof);
  if (st != LX_OK) return st;
  if (eof) return lx_set_error(LX_ERR_INTERNAL, "unexpected eof");
  return lx_npy_read_data(&r, h, out);
}

static bool array_bytes_equal(lx_array *a, const void *want, size_t n) {
  if (lx_array_nbytes(a) != n) return false;
  uint8_t *got = malloc(n ? n : 1);
  bool ok = got && lx_array_read(a, got, n) == LX_OK && memcmp(got, want, n) == 0;
  free(got);
  return ok;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* -------------------------------------------------------------- tests */

static void test_descr(void) {
  static const char *want[LX_DTYPE_COUNT] = {
    [LX_FLOAT32] = "<f4", [LX_FLOAT64] = "<f8", [LX_FLOAT16] = "<f2", [LX_BFLOAT16] = "<V2",
    [LX_INT32] = "<i4",   [LX_INT64] = "<i8",   [LX_UINT8] = "|u1",   [LX_UINT32] = "<u4",
    [LX_BOOL] = "|b1",    [LX_UINT16] = "<u2",  [LX_UINT64] = "<u8"};
  for (int d = 0; d < LX_DTYPE_COUNT; d++)
    CHECK(lx_npy_descr(d) && strcmp(lx_npy_descr(d), want[d]) == 0, "descr of %s: %s",
          lx_dtype_name(d), lx_npy_descr(d) ? lx_npy_descr(d) : "NULL");
  CHECK(lx_npy_descr(LX_DTYPE_COUNT) == NULL, "no descr for an invalid dtype");
}

/* Literals: numpy.save's output (NumPy 1.24) for these dtypes and shapes;
** the (2**40,), (2**63-1, 2) and (12345678901,) ones from
** numpy.lib.format._write_array_header, which numpy.save calls. */
static void test_header_literals(void) {
  static const int64_t ones[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  struct {
    lx_dtype dtype;
    int ndim;
    int64_t shape[3];
    const char *want;
    size_t want_len;
  } cases[] = {
#define LIT(s) s, sizeof(s) - 1
    {LX_FLOAT32, 1, {3}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, "
      "'shape': (3,), }                                                            \x0a")},
    {LX_FLOAT64, 0, {0}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, "
      "'shape': (), }                                                              \x0a")},
    {LX_INT64, 2, {3, 4}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, "
      "'shape': (3, 4), }                                                          \x0a")},
    {LX_BOOL, 1, {0}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, "
      "'shape': (0,), }                                                            \x0a")},
    {LX_BFLOAT16, 1, {INT64_C(1099511627776)}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<V2', "
      "'fortran_order': False, 'shape': (1099511627776,), }                                "
      "                \x0a")},
    {LX_FLOAT16, 3, {2, 0, 3}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': "
      "False, 'shape': (2, 0, 3), }                                                       \x0a")},
    {LX_UINT32, 2, {INT64_MAX, 2}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<u4', "
      "'fortran_order': False, 'shape': (9223372036854775807, 2), }                       "
      "                 \x0a")},
    {LX_INT32, 1, {INT64_C(12345678901)}, LIT("\x93NUMPY\x01\x00v\x00{'descr': '<i4', "
      "'fortran_order': False, 'shape': (12345678901,), }                                 "
      "                 \x0a")},
  };
  char buf[1024];
  size_t len;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lx_status st = lx_npy_format_header(cases[i].dtype, cases[i].ndim, cases[i].shape, buf,
                                        sizeof buf, &len);
    CHECK(st == LX_OK && len == cases[i].want_len && memcmp(buf, cases[i].want, len) == 0,
          "header %zu (%s) matches numpy.save (len %zu, want %zu)", i,
          lx_dtype_name(cases[i].dtype), len, cases[i].want_len);
  }
  /* 32 dimensions of 1, uint8: a 192-byte header. */
  static const char want32[] =
    "\x93NUMPY\x01\x00\xb6\x00{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1, "
    "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), "
    "}                                \x0a";
  lx_status st = lx_npy_format_header(LX_UINT8, 32, ones, buf, sizeof buf, &len);
  CHECK(st == LX_OK && len == sizeof want32 - 1 && memcmp(buf, want32, len) == 0,
        "32-d header matches numpy.save (len %zu)", len);
  /* Every header numpy.save writes is a multiple of 64 bytes, ends in '\n'. */
  for (int nd = 0; nd <= 32; nd++) {
    int64_t shape[32];
    for (int i = 0; i < nd; i++) shape[i] = (int64_t)(rng() % 1000000);
    st = lx_npy_format_header(LX_FLOAT32, nd, shape, buf, sizeof buf, &len);
    if (st != LX_OK || len % 64 != 0 || buf[len - 1] != '\n') {
      CHECK(0, "header of %d dims: len %zu", nd, len);
      break;
    }
  }
  check_pass();
  st = lx_npy_format_header(LX_FLOAT32, 1, (int64_t[]){3}, buf, 100, &len);
  CHECK(st == LX_ERR_ARGUMENT && strstr(lx_last_error(), "too small"), "small buffer: %s",
        lx_last_error());
  st = lx_npy_format_header(LX_FLOAT32, 1, (int64_t[]){-1}, buf, sizeof buf, &len);
  CHECK(st != LX_OK && strstr(lx_last_error(), "negative"), "negative dim: %s", lx_last_error());
  st = lx_npy_format_header(LX_FLOAT32, 33, ones, buf, sizeof buf, &len);
  CHECK(st != LX_OK, "33 dims refused");
}

/* Random bytes that are valid values of the dtype (bools 0/1). */
static void fill_random(lx_dtype d, uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng();
  if (d == LX_BOOL)
    for (size_t i = 0; i < n; i++) p[i] &= 1;
}

static void test_round_trips(void) {
  static const struct { int ndim; int64_t shape[4]; } shapes[] = {
    {0, {0}}, {1, {5}}, {2, {3, 4}}, {3, {2, 0, 3}}, {3, {2, 3, 4}}, {1, {0}}, {4, {1, 2, 1, 3}}};
  for (int d = 0; d < LX_DTYPE_COUNT; d++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      int ndim = shapes[s].ndim;
      const int64_t *shape = shapes[s].shape;
      size_t nbytes;
      lx_shape_check("t", d, ndim, shape, NULL, &nbytes);
      uint8_t data[256];
      fill_random(d, data, nbytes);
      lx_array *a = NULL, *b = NULL;
      lx_status st = lx_array_from_host(lx_device_cpu(), d, ndim, shape, data, &a);
      membuf m;
      lx_writer w;
      membuf_writer(&w, &m, "t.npy");
      if (st == LX_OK) st = lx_npy_write(&w, a);
      char hdr[1024];
      size_t hlen = 0;
      lx_npy_format_header(d, ndim, shape, hdr, sizeof hdr, &hlen);
      bool layout = st == LX_OK && m.len == hlen + nbytes && w.offset == m.len &&
                    memcmp(m.data, hdr, hlen) == 0 && memcmp(m.data + hlen, data, nbytes) == 0;
      lx_npy_header h;
      if (st == LX_OK) st = read_one(m.data, m.len, &h, &b);
      bool same = st == LX_OK && lx_array_dtype(b) == (lx_dtype)d && lx_array_ndim(b) == ndim &&
                  memcmp(lx_array_shape(b), shape, (size_t)ndim * sizeof(int64_t)) == 0 &&
                  array_bytes_equal(b, data, nbytes) && h.nbytes == nbytes &&
                  h.data_offset == hlen && h.version == 1 && !h.fortran_order &&
                  !h.big_endian && strcmp(h.descr, lx_npy_descr(d)) == 0 &&
                  lx_array_device(b) == lx_device_cpu() &&
                  (nbytes == 0 || lx_array_is_contiguous(b));
      CHECK(layout && same, "round trip %s shape #%zu: %s", lx_dtype_name(d), s,
            st == LX_OK ? "bytes differ" : lx_last_error());
      lx_array_release(a);
      lx_array_release(b);
      free(m.data);
    }
  }
}

/* Strided views are written row-major, as lx_array_read gives them, also
** when they are larger than the writer's copy buffer (8 MiB) and when one
** row alone is. */
static void test_write_views(void) {
  int64_t shape[2] = {3, 4};
  float v[12];
  for (int i = 0; i < 12; i++) v[i] = (float)i;
  lx_array *a, *t;
  lx_array_from_host(lx_device_cpu(), LX_FLOAT32, 2, shape, v, &a);
  lx_transpose(a, NULL, &t);
  membuf m;
  lx_writer w;
  membuf_writer(&w, &m, "t.npy");
  lx_status st = lx_write_array_data(&w, t);
  float want[12];
  lx_array_read(t, want, sizeof want);
  CHECK(st == LX_OK && m.len == sizeof want && memcmp(m.data, want, sizeof want) == 0 &&
        want[1] == 4.0f, "transposed view written row-major");
  free(m.data);
  lx_array_release(t);
  lx_array_release(a);

  for (int pass = 0; pass < 2; pass++) {
    /* pass 0: (3e6, 3) transposed to (3, 3e6): each 12 MB row exceeds the
    ** buffer; pass 1: (3, 3e6) transposed to (3e6, 3): rows of 12 bytes. */
    int64_t big[2] = {pass == 0 ? 3000000 : 3, pass == 0 ? 3 : 3000000};
    lx_array *ar = NULL, *tr = NULL;
    st = lx_arange(lx_device_cpu(), 0, 9000000, 1, LX_FLOAT32, &ar);
    lx_array *r2 = NULL;
    if (st == LX_OK) st = lx_reshape(ar, 2, big, &r2);
    if (st == LX_OK) st = lx_transpose(r2, NULL, &tr);
    size_t n = 9000000 * sizeof(float);
    float *expect = malloc(n);
    membuf_writer(&w, &m, "big.npy");
    if (st == LX_OK && expect) st = lx_array_read(tr, expect, n);
    if (st == LX_OK) st = lx_write_array_data(&w, tr);
    CHECK(st == LX_OK && m.len == n && memcmp(m.data, expect, n) == 0,
          "large strided view pass %d written row-major: %s", pass,
          st == LX_OK ? "bytes differ" : lx_last_error());
    free(expect);
    free(m.data);
    lx_array_release(ar);
    lx_array_release(r2);
    lx_array_release(tr);
  }

  /* A broadcast view (stride 0). */
  lx_array *s, *bc;
  lx_scalar(lx_device_cpu(), LX_INT32, 7, &s);
  int64_t bshape[2] = {2, 3};
  lx_broadcast_to(s, 2, bshape, &bc);
  membuf_writer(&w, &m, "t.npy");
  st = lx_npy_write(&w, bc);
  lx_npy_header h;
  lx_array *back = NULL;
  if (st == LX_OK) st = read_one(m.data, m.len, &h, &back);
  int32_t sevens[6] = {7, 7, 7, 7, 7, 7};
  CHECK(st == LX_OK && array_bytes_equal(back, sevens, sizeof sevens), "broadcast view");
  lx_array_release(back);
  lx_array_release(bc);
  lx_array_release(s);
  free(m.data);

  /* Device arrays (where a Vulkan device exists, lavapipe included):
  ** contiguous, and a transposed view larger than the copy buffer. */
  lx_device *dev = NULL;
  if (lx_device_find("vulkan", &dev) == LX_OK) {
    int64_t dshape[2] = {2100, 1100};
    size_t dn = 2100 * 1100 * sizeof(float);
    lx_array *hx = NULL, *hr = NULL, *dx = NULL, *dt = NULL;
    float *expect = malloc(dn);
    st = lx_arange(lx_device_cpu(), 0, 2100 * 1100, 1, LX_FLOAT32, &hx);
    if (st == LX_OK) st = lx_reshape(hx, 2, dshape, &hr);
    if (st == LX_OK) st = lx_array_to_device(hr, dev, &dx);
    if (st == LX_OK) st = lx_transpose(dx, NULL, &dt);
    for (int k = 0; k < 2 && st == LX_OK; k++) {
      lx_array *src = k ? dt : dx;
      lx_array *back = NULL;
      lx_npy_header dh;
      membuf_writer(&w, &m, "dev.npy");
      st = lx_array_read(src, expect, dn);
      if (st == LX_OK) st = lx_npy_write(&w, src);
      if (st == LX_OK) st = read_one(m.data, m.len, &dh, &back);
      CHECK(st == LX_OK && lx_array_shape(back)[0] == lx_array_shape(src)[0] &&
            array_bytes_equal(back, expect, dn), "%s device array written: %s",
            k ? "transposed" : "contiguous", st == LX_OK ? "values" : lx_last_error());
      lx_array_release(back);
      free(m.data);
    }
    CHECK(st == LX_OK, "device arrays: %s", lx_last_error());
    free(expect);
    lx_array_release(hx);
    lx_array_release(hr);
    lx_array_release(dx);
    lx_array_release(dt);
  }

  /* Abstract arrays have no values: refused before anything is written. */
  lx_abstract_begin();
  lx_array *ab = NULL;
  st = lx_array_empty(lx_device_cpu(), LX_FLOAT32, 2, shape, &ab);
  lx_abstract_end();
  membuf_writer(&w, &m, "t.npy");
  if (st == LX_OK) st = lx_npy_write(&w, ab);
  CHECK(st == LX_ERR_DEVICE && m.len == 0 && strstr(lx_last_error(), "abstract"),
        "abstract array refused: %s", lx_last_error());
  lx_array_release(ab);
  free(m.data);
}

static void test_fortran_and_byte_order(void) {
  uint8_t rec[512];
  lx_npy_header h;
  lx_array *a;
  /* a[i][j] = 10 i + j for shape (2, 3), stored column-major. */
  int32_t colmajor[6] = {0, 10, 1, 11, 2, 12}, rowmajor[6] = {0, 1, 2, 10, 11, 12};
  size_t n = make_record(rec, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", 1,
                         colmajor, sizeof colmajor);
  lx_status st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && h.fortran_order && lx_array_shape(a)[0] == 2 &&
        lx_array_shape(a)[1] == 3 && lx_array_is_contiguous(a) &&
        array_bytes_equal(a, rowmajor, sizeof rowmajor), "fortran (2, 3) int32: %s",
        st == LX_OK ? "values" : lx_last_error());
  lx_array_release(a);

  /* 3-d: a[i][j][k] = 100 i + 10 j + k, shape (2, 3, 4); column-major puts
  ** i fastest. */
  double col3[24], row3[24];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 4; k++) {
        double v = 100 * i + 10 * j + k;
        row3[(i * 3 + j) * 4 + k] = v;
        col3[i + 2 * (j + 3 * k)] = v;
      }
  n = make_record(rec, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", 1,
                  col3, sizeof col3);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && lx_array_ndim(a) == 3 && array_bytes_equal(a, row3, sizeof row3),
        "fortran (2, 3, 4) float64: %s", st == LX_OK ? "values" : lx_last_error());
  lx_array_release(a);

  /* Big-endian: '>f4' 1.0, -2.5; '>i8' 1, -2; '>f2' 1.0; '>u4' 0x01020304. */
  static const uint8_t bf4[] = {0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0};
  float wf4[2] = {1.0f, -2.5f};
  n = make_record(rec, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 1, bf4,
                  sizeof bf4);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && h.big_endian && lx_array_dtype(a) == LX_FLOAT32 &&
        array_bytes_equal(a, wf4, sizeof wf4), "big-endian f4");
  lx_array_release(a);
  static const uint8_t bi8[] = {0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xfe};
  int64_t wi8[2] = {1, -2};
  n = make_record(rec, "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", 1, bi8,
                  sizeof bi8);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && array_bytes_equal(a, wi8, sizeof wi8), "big-endian i8");
  lx_array_release(a);
  static const uint8_t bf2[] = {0x3c, 0x00};
  uint16_t wf2 = 0x3c00;
  n = make_record(rec, "{'descr': '>f2', 'fortran_order': False, 'shape': (), }", 1, bf2, 2);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && lx_array_dtype(a) == LX_FLOAT16 && array_bytes_equal(a, &wf2, 2),
        "big-endian f2");
  lx_array_release(a);
  /* Big-endian and fortran together: (2, 2) uint32, column-major. */
  static const uint8_t bu4[] = {0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4};
  uint32_t wu4[4] = {1, 2, 3, 4};
  n = make_record(rec, "{'descr': '>u4', 'fortran_order': True, 'shape': (2, 2), }", 1, bu4,
                  sizeof bu4);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && array_bytes_equal(a, wu4, sizeof wu4), "big-endian fortran u4");
  lx_array_release(a);
  /* '=' is native, little-endian here. */
  n = make_record(rec, "{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }", 1, wf4,
                  sizeof wf4);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && !h.big_endian && array_bytes_equal(a, wf4, sizeof wf4), "native f4");
  lx_array_release(a);

  /* bfloat16 as JAX saves it, and the '|V2' spelling. */
  uint16_t bf16[2] = {0x3f80, 0xc020};
  for (int k = 0; k < 2; k++) {
    n = make_record(rec, k ? "{'descr': '|V2', 'fortran_order': False, 'shape': (2,), }"
                           : "{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }",
                    1, bf16, sizeof bf16);
    st = read_one(rec, n, &h, &a);
    CHECK(st == LX_OK && lx_array_dtype(a) == LX_BFLOAT16 && array_bytes_equal(a, bf16, 4),
          "bfloat16 from %s", k ? "|V2" : "<V2");
    lx_array_release(a);
  }
  /* One-byte types with any byte order; bools other than 0/1 become 1. */
  const char *u1s[] = {"'<u1'", "'>u1'", "'=u1'", "'|u1'"};
  for (int k = 0; k < 4; k++) {
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': %s, 'fortran_order': False, 'shape': (3,), }",
             u1s[k]);
    uint8_t v[3] = {1, 200, 255};
    n = make_record(rec, dict, 1, v, 3);
    st = read_one(rec, n, &h, &a);
    CHECK(st == LX_OK && lx_array_dtype(a) == LX_UINT8 && array_bytes_equal(a, v, 3),
          "uint8 as %s", u1s[k]);
    lx_array_release(a);
  }
  uint8_t bools[5] = {0, 1, 2, 255, 0x80}, norm[5] = {0, 1, 1, 1, 1};
  n = make_record(rec, "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }", 1, bools, 5);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && lx_array_dtype(a) == LX_BOOL && array_bytes_equal(a, norm, 5),
        "bool bytes normalised to 0/1");
  lx_array_release(a);

  /* Header spellings NumPy accepts: double quotes, any key order, no
  ** trailing comma, no spaces, spaces inside the tuple, format 2.0 and 3.0. */
  const char *spellings[] = {
    "{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}",
    "{'shape':(2,),'fortran_order':False,'descr':'<f4'}",
    "  {'descr': '<f4',\t'fortran_order': False, 'shape': ( 2 , ), }",
    "{'fortran_order': False, 'descr': '<f4', 'shape': (2,),}",
  };
  for (int k = 0; k < 4; k++) {
    for (int version = 1; version <= 3; version++) {
      n = make_record(rec, spellings[k], version, wf4, sizeof wf4);
      st = read_one(rec, n, &h, &a);
      CHECK(st == LX_OK && h.version == version && array_bytes_equal(a, wf4, sizeof wf4) &&
            h.data_offset == n - sizeof wf4, "spelling %d, version %d: %s", k, version,
            st == LX_OK ? "values" : lx_last_error());
      lx_array_release(a);
    }
  }
  int64_t six[6] = {1, 2, 3, 4, 5, 6};
  n = make_record(rec, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3,), }", 1, six,
                  sizeof six);
  st = read_one(rec, n, &h, &a);
  CHECK(st == LX_OK && lx_array_ndim(a) == 2 && lx_array_shape(a)[1] == 3 &&
        array_bytes_equal(a, six, sizeof six), "(2, 3,) with a trailing comma");
  lx_array_release(a);
}

/* Header problems: the status, a phrase of the message, and the stream
** offset it names (the offending byte). */
static void expect_refused(const char *dict, int version, const char *phrase,
                           const char *at_text) {
  uint8_t rec[8192];
  uint8_t data[64] = {0};
  size_t n = make_record(rec, dict, version, data, sizeof data);
  lx_npy_header h;
  lx_array *a = NULL;
  lx_status st = read_one(rec, n, &h, &a);
  char where[64] = "";
  if (at_text) {
    const char *p = strstr(dict, at_text);
    snprintf(where, sizeof where, "(t.npy, byte %zu)",
             (size_t)(p - dict) + (version == 1 ? 10 : 12));
  }
  const char *msg = lx_last_error();
  CHECK(st == LX_ERR_IO && strstr(msg, phrase) && strstr(msg, "(t.npy, byte ") &&
        (!at_text || strstr(msg, where)), "refused %s: got %d '%s' (want '%s' %s)", dict,
        (int)st, msg, phrase, where);
  lx_array_release(a);
}

static void test_hostile_headers(void) {
#define F "'fortran_order': False"
  expect_refused("{'descr': '|O', " F ", 'shape': (3,), }", 1,
                 "object arrays are refused: loading them would need pickle", "'|O'");
  expect_refused("{'descr': '<O', " F ", 'shape': (3,), }", 1, "object arrays are refused",
                 NULL);
  expect_refused("{'descr': 'O8', " F ", 'shape': (3,), }", 1, "object arrays are refused",
                 NULL);
  expect_refused("{'descr': '<i2', " F ", 'shape': (3,), }", 1,
                 "npy header: unsupported dtype '<i2': lunox reads '<f4' (float32)", "'<i2'");
  const char *bad_descrs[] = {"'>V2'", "'|f4'", "'f4'", "'<c16'", "'<f16'", "''",
                              "'<U3'", "'float32'", "'<m8[s]'", "'<i4x'"};
  for (size_t i = 0; i < sizeof bad_descrs / sizeof bad_descrs[0]; i++) {
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': %s, " F ", 'shape': (3,), }", bad_descrs[i]);
    expect_refused(dict, 1, "unsupported dtype", bad_descrs[i]);
  }
  expect_refused("{'descr': [('a', '<f4'), ('b', '<i4')], " F ", 'shape': (3,), }", 1,
                 "structured dtypes", "[(");
  expect_refused("{'descr': 5, " F ", 'shape': (3,), }", 1, "'descr' must be a string",
                 "5,");
  expect_refused("{'descr': '<f4\\'', " F ", 'shape': (3,), }", 1, "escape sequences",
                 "\\");
  expect_refused("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", 1,
                 "'fortran_order' must be True or False, found '0'", "0,");
  expect_refused("{'descr': '<f4', 'fortran_order': 'False', 'shape': (3,), }", 1,
                 "'fortran_order' must be True or False, found ''False''", "'False'");
  expect_refused("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3,), }", 1,
                 "'fortran_order' must be True or False", NULL);
  expect_refused("{'descr': '<f4', " F ", 'shape': [3], }", 1,
                 "'shape' must be a tuple, found '[3]'", "[3]");
  expect_refused("{'descr': '<f4', " F ", 'shape': 3, }", 1, "'shape' must be a tuple",
                 "3, }");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3), }", 1,
                 "'shape' must be a tuple, found '(3)'", "(3)");
  expect_refused("{'descr': '<f4', " F ", 'shape': (-3,), }", 1,
                 "npy header: negative dimension -3 in 'shape'", "-3");
  expect_refused("{'descr': '<f4', " F ", 'shape': (2, -1), }", 1, "negative dimension -1",
                 "-1");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3.0,), }", 1,
                 "dimension '3.0' in 'shape' is not an integer", "3.0");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3e2,), }", 1, "is not an integer", "3e2");
  expect_refused("{'descr': '<f4', " F ", 'shape': (0x10,), }", 1, "is not an integer", "0x");
  expect_refused("{'descr': '<f4', " F ", 'shape': (n,), }", 1, "is not an integer", "n,");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3L,), }", 1, "is not an integer", "3L");
  expect_refused("{'descr': '<f4', " F ", 'shape': (-,), }", 1, "is not an integer", "-,");
  expect_refused("{'descr': '<f4', " F ", 'shape': (99999999999999999999,), }", 1,
                 "dimension 99999999999999999999 in 'shape' does not fit in 64 bits", "9999");
  expect_refused("{'descr': '<f4', " F ", 'shape': (9223372036854775808,), }", 1,
                 "does not fit in 64 bits", "9223");
  expect_refused("{'descr': '<f4', " F ", 'shape': (,), }", 1, "expected a dimension", ",)");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,,), }", 1, "expected a dimension",
                 ",)");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3 4), }", 1, "expected ',' or ')'",
                 "4)");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,", 1, "expected", NULL);
  /* Products and byte sizes that overflow 64 bits. */
  expect_refused("{'descr': '<f4', " F ", 'shape': (4611686018427387904, 4), }", 1,
                 "too large", NULL);
  expect_refused("{'descr': '<f8', " F ", 'shape': (1099511627776, 1099511627776), }", 1,
                 "too large", NULL);
  expect_refused("{'descr': '<f8', " F ", 'shape': (2305843009213693952,), }", 1,
                 "npy header: shape (2305843009213693952,) of float64 is too large: its byte "
                 "size overflows 64 bits", "(2305");
  expect_refused("{'descr': '<f8', " F ", 'shape': (1152921504606846976,), }", 1,
                 "too large", "(1152");
  /* Empty, but NumPy refuses it too: the other dimensions overflow. */
  expect_refused("{'descr': '|u1', " F ", 'shape': (1099, 11627776, 10995116776, 0), }", 1,
                 "too large", "(1099");
  /* Empty with a 2^62 dimension: NumPy makes it, so does lunox. */
  {
    uint8_t rec[256];
    size_t n = make_record(rec, "{'descr': '|u1', " F ", 'shape': (0, 4611686018427387904), }",
                           1, NULL, 0);
    lx_npy_header h;
    lx_array *a = NULL;
    lx_status st = read_one(rec, n, &h, &a);
    CHECK(st == LX_OK && h.nbytes == 0 && lx_array_size(a) == 0 &&
          lx_array_shape(a)[1] == INT64_C(4611686018427387904), "empty (0, 2^62): %s",
          st == LX_OK ? "shape" : lx_last_error());
    lx_array_release(a);
  }
  /* More than LX_MAX_DIMS. */
  char dict[512];
  int k = snprintf(dict, sizeof dict, "{'descr': '<f4', " F ", 'shape': (");
  for (int i = 0; i < 33; i++) k += snprintf(dict + k, sizeof dict - (size_t)k, "1, ");
  snprintf(dict + k, sizeof dict - (size_t)k, "), }");
  expect_refused(dict, 1, "more than 32 dimensions", NULL);
  /* Keys. */
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), 'extra': 1, }", 1,
                 "unknown key 'extra'", "'extra'");
  expect_refused("{'descr': '<f4', " F ", }", 1, "missing key 'shape'", NULL);
  expect_refused("{}", 1, "missing key 'descr'", NULL);
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), 'shape': (3,), }", 1,
                 "duplicate key 'shape'", "'shape': (3,), }");
  expect_refused("{descr: '<f4', " F ", 'shape': (3,), }", 1, "expected a quoted key", "descr");
  expect_refused("{'descr' '<f4', " F ", 'shape': (3,), }", 1, "expected ':' after 'descr'",
                 "'<f4'");
  expect_refused("{'descr': '<f4' " F ", 'shape': (3,), }", 1,
                 "expected ',' or '}' after the value of 'descr'", "'fortran");
  expect_refused("{'descr': '<f4', " F ",, 'shape': (3,), }", 1, "expected a quoted key",
                 ", 'shape'");
  expect_refused("{'descr: '<f4', " F ", 'shape': (3,), }", 1, "unknown key", NULL);
  expect_refused("{'descr': '<f4, " F ", 'shape': (3,), }", 1, "unsupported dtype", NULL);
  expect_refused("[('descr', '<f4')]", 1, "expected the header's dict", "[");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), } x", 1,
                 "unexpected 'x' after the header's dict", "x");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), }}", 1,
                 "unexpected '}' after the header's dict", NULL);
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), }\n", 1, "after the header's dict",
                 "\n");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,), \x01}", 1, "byte 0x01", "\x01");
  expect_refused("{'descr': '<f\xc3\xa9', " F ", 'shape': (3,), }", 3, "byte 0xc3", "\xc3");
  expect_refused("{'descr': '<f4', " F ", 'shape': (3,)", 1, "expected ',' or '}'", NULL);
#undef F

  /* Problems outside the dict. */
  uint8_t rec[256];
  size_t n = make_record(rec, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 1,
                         "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
  lx_npy_header h;
  lx_array *a = NULL;
  struct { size_t at; uint8_t value; const char *phrase; const char *where; } pokes[] = {
    {0, 'x', "not an npy record: expected the magic string \"\\x93NUMPY\" but found \"xNUMPY\"",
     "(t.npy, byte 0)"},
    {6, 4, "unsupported npy format version 4.0", "(t.npy, byte 6)"},
    {7, 1, "unsupported npy format version 1.1", "(t.npy, byte 6)"},
    {6, 0, "unsupported npy format version 0.0", "(t.npy, byte 6)"},
    {127, ' ', "does not end with a newline", "(t.npy, byte 127)"},
    /* The length says 64 bytes: the header is cut inside the dict. */
    {8, 64, "does not end with a newline (its last byte is ' '; is its length right?)",
     "(t.npy, byte 73)"},
    /* The length says 128 bytes: the header runs into the data. */
    {8, 128, "npy header: ", "(t.npy, byte "},
  };
  for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
    uint8_t copy[256];
    memcpy(copy, rec, n);
    copy[pokes[i].at] = pokes[i].value;
    lx_status st = read_one(copy, n, &h, &a);
    CHECK(st == LX_ERR_IO && strstr(lx_last_error(), pokes[i].phrase) &&
          strstr(lx_last_error(), pokes[i].where), "poke %zu: %s", i, lx_last_error());
    lx_array_release(a);
  }
  /* Header lengths: 0, over the limit (format 2.0), past the end. */
  uint8_t v2[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x71, 0x11, 0x01, 0x00};
  lx_status st = read_one(v2, 12, &h, &a);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "length 70001 exceeds lunox's limit of "
        "65536 bytes (t.npy, byte 8)"), "header too long: %s", lx_last_error());
  v2[8] = 0; v2[9] = 0; v2[10] = 0;
  st = read_one(v2, 12, &h, &a);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "empty"), "empty header: %s",
        lx_last_error());
  v2[9] = 0x10; /* 4096 bytes, 4 present */
  st = read_one(v2, 16, &h, &a);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "truncated file: expected 4096 bytes of npy "
        "header but only 4 remain (t.npy, byte 12)"), "header past the end: %s",
        lx_last_error());
  /* A data section shorter than the shape needs. */
  st = read_one(rec, n - 1, &h, &a);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "truncated file: expected 12 bytes of npy "
        "data but only 11 remain (t.npy, byte 128)"), "short data: %s", lx_last_error());
}

/* Cutting a valid 2-record stream at every byte: an error or a clean end
** where a record ends, never a crash or a partial record read as whole. */
static void test_truncation(void) {
  uint8_t stream[512];
  float f[3] = {1, 2, 3};
  int64_t i8[2][2] = {{1, 2}, {3, 4}};
  size_t n1 = make_record(stream, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                          1, f, sizeof f);
  size_t n2 = make_record(stream + n1, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, "
                          "2), }", 2, i8, sizeof i8);
  size_t total = n1 + n2;
  int failures = 0;
  for (int mode = 0; mode < 4; mode++) {
    /* mode bit 0: the reader hides its length; bit 1: skip the data. */
    for (size_t cut = 0; cut <= total; cut++) {
      chunky c;
      lx_reader r;
      chunky_reader(&r, &c, stream, cut, 1 + cut % 7, !(mode & 1));
      int records = 0;
      bool clean_eof = false;
      lx_status st = LX_OK;
      for (int guard = 0; guard < 4; guard++) {
        lx_npy_header h;
        bool eof;
        st = lx_npy_read_header(&r, &h, &eof);
        if (st != LX_OK) break;
        if (eof) { clean_eof = true; break; }
        if (mode & 2) st = lx_npy_skip_data(&r, &h);
        else {
          lx_array *a = NULL;
          st = lx_npy_read_data(&r, &h, &a);
          if (st == LX_OK) {
            bool ok = records == 0 ? array_bytes_equal(a, f, sizeof f)
                                   : lx_array_shape(a)[0] == 2 && lx_array_ndim(a) == 2;
            if (!ok) failures++;
          }
          lx_array_release(a);
        }
        if (st != LX_OK) break;
        records++;
      }
      bool want_ok = cut == 0 || cut == n1 || cut == total;
      int want_records = cut == total ? 2 : cut == n1 ? 1 : 0;
      bool good = want_ok ? clean_eof && records == want_records
                          : st == LX_ERR_IO && !clean_eof &&
                              strstr(lx_last_error(), "truncated file: expected") &&
                              strstr(lx_last_error(), "(t.npy, byte ");
      if (!good) {
        failures++;
        if (failures < 5)
          printf("  cut %zu mode %d: st %d records %d eof %d: %s\n", cut, mode, (int)st,
                 records, clean_eof, lx_last_error());
      }
    }
  }
  CHECK(failures == 0, "truncation at every byte of %zu (4 reader modes)", total);
}

/* A header claiming far more data than the stream holds: refused before
** allocating when the length is known, and without allocating the claim
** when it is not. */
static void test_lying_headers(void) {
  uint8_t rec[256];
  size_t n = make_record(rec, "{'descr': '|u1', 'fortran_order': False, 'shape': "
                         "(1099511627776,), }", 1, "0123456789", 10);
  uint64_t before = lx_memory_in_use();
  for (int know = 0; know < 2; know++) {
    chunky c;
    lx_reader r;
    chunky_reader(&r, &c, rec, n, 4096, know);
    lx_npy_header h;
    bool eof;
    lx_status st = lx_npy_read_header(&r, &h, &eof);
    CHECK(st == LX_OK && h.nbytes == (size_t)1 << 40, "2^40-byte header parses");
    lx_array *a = NULL;
    st = lx_npy_read_data(&r, &h, &a);
    CHECK(st == LX_ERR_IO && a == NULL && lx_memory_in_use() == before &&
          strstr(lx_last_error(), "truncated file: expected 1099511627776 bytes of npy data "
                 "but only 10 remain (t.npy, byte 128)"),
          "2^40-byte claim, length %s: %s", know ? "known" : "unknown", lx_last_error());
    if (!know) CHECK(c.calls < 10, "failed fast (%zu reads)", c.calls);
  }
  /* Unknown length, 3 MiB present, 1 GiB claimed: staged reading stops at
  ** the end of what is there. */
  size_t big = 3u << 20;
  uint8_t *buf = malloc(128 + big);
  n = make_record(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (268435456,), }", 1,
                  NULL, 0);
  memset(buf + n, 7, big);
  chunky c;
  lx_reader r;
  chunky_reader(&r, &c, buf, n + big, 1 << 16, false);
  lx_npy_header h;
  bool eof;
  lx_array *a = NULL;
  lx_status st = lx_npy_read_header(&r, &h, &eof);
  if (st == LX_OK) st = lx_npy_read_data(&r, &h, &a);
  CHECK(st == LX_ERR_IO && lx_memory_in_use() == before &&
        strstr(lx_last_error(), "but only 3145728 remain"), "1 GiB claim over 3 MiB: %s",
        lx_last_error());
  free(buf);

  /* Unknown length and a true 5 MiB record (staged, then read in place),
  ** big-endian and fortran to exercise the conversions after staging. */
  int64_t rows = 1024, cols = 1280; /* 5 MiB of int32 */
  size_t nb = (size_t)(rows * cols) * 4;
  buf = malloc(128 + nb);
  uint32_t *rowmajor = malloc(nb);
  n = make_record(buf, "{'descr': '>i4', 'fortran_order': True, 'shape': (1024, 1280), }", 1,
                  NULL, 0);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) {
      uint32_t v = (uint32_t)(i * 100000 + j);
      rowmajor[i * cols + j] = v;
      uint8_t *p = buf + n + (size_t)(j * rows + i) * 4;
      p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8);
      p[3] = (uint8_t)v;
    }
  for (int know = 0; know < 2; know++) {
    chunky_reader(&r, &c, buf, n + nb, 100000, know);
    st = lx_npy_read_header(&r, &h, &eof);
    if (st == LX_OK) st = lx_npy_read_data(&r, &h, &a);
    CHECK(st == LX_OK && array_bytes_equal(a, rowmajor, nb) && r.offset == n + nb,
          "5 MiB big-endian fortran record, length %s: %s", know ? "known" : "unknown",
          st == LX_OK ? "values" : lx_last_error());
    lx_array_release(a);
    a = NULL;
    st = lx_npy_read_header(&r, &h, &eof);
    CHECK(st == LX_OK && eof, "then a clean end");
  }
  free(buf);
  free(rowmajor);
}

static void test_eof_and_streams(void) {
  lx_memory_source src;
  lx_reader r;
  lx_npy_header h;
  bool eof = false;
  lx_reader_memory(&r, &src, "", 0, "empty.eqx");
  CHECK(lx_npy_read_header(&r, &h, &eof) == LX_OK && eof, "empty stream: eof");
  chunky c;
  chunky_reader(&r, &c, "", 0, 1, false);
  eof = false;
  CHECK(lx_npy_read_header(&r, &h, &eof) == LX_OK && eof, "empty unknown-length stream: eof");
  /* A partial magic string is truncation; other bytes are not a record. */
  chunky_reader(&r, &c, "\x93NUM", 4, 1, false);
  lx_status st = lx_npy_read_header(&r, &h, &eof);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "truncated file: expected 6 bytes of npy "
        "magic string but only 4 remain (t.npy, byte 0)"), "partial magic: %s",
        lx_last_error());
  uint8_t rec[256];
  size_t n = make_record(rec, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 1,
                         "\0\0\0\0\0\0\xf0\x3f", 8);
  memcpy(rec + n, "PK\x03", 3);
  lx_reader_memory(&r, &src, rec, n + 3, "m.eqx");
  lx_array *a = NULL;
  st = lx_npy_read_header(&r, &h, &eof);
  if (st == LX_OK) st = lx_npy_read_data(&r, &h, &a);
  double one = 1.0;
  CHECK(st == LX_OK && lx_array_ndim(a) == 0 && array_bytes_equal(a, &one, 8) &&
        h.offset == 0 && h.data_offset == 128, "0-d float64");
  lx_array_release(a);
  st = lx_npy_read_header(&r, &h, &eof);
  CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "not an npy record: expected the magic "
        "string \"\\x93NUMPY\" but found \"PK\\x03\" (m.eqx, byte 136)"), "trailing junk: %s",
        lx_last_error());
  /* Reading data from the wrong position is a caller error. */
  lx_reader_memory(&r, &src, rec, n, "m.eqx");
  st = lx_npy_read_header(&r, &h, &eof);
  h.data_offset = 0;
  CHECK(lx_npy_read_data(&r, &h, &a) == LX_ERR_ARGUMENT, "data read out of place");

  /* lx_read_exact and lx_read_some keep offset and remaining, loop over
  ** short reads and name what was cut. */
  chunky_reader(&r, &c, "abcdefgh", 8, 1, true);
  r.name = "x.bin";
  char buf[16];
  size_t got;
  st = lx_read_exact(&r, buf, 5, "thing");
  CHECK(st == LX_OK && memcmp(buf, "abcde", 5) == 0 && r.offset == 5 && r.remaining == 3 &&
        c.calls == 5, "read_exact loops over 1-byte reads");
  st = lx_read_exact(&r, buf, 8, "thing");
  CHECK(st == LX_ERR_IO && strcmp(lx_last_error(), "truncated file: expected 8 bytes of thing "
        "but only 3 remain (x.bin, byte 5)") == 0, "read_exact message: %s", lx_last_error());
  chunky_reader(&r, &c, "abcdefgh", 8, 3, false);
  r.name = "x.bin";
  st = lx_read_exact(&r, buf, 2, "thing");
  st = lx_read_exact(&r, buf, 8, "thing");
  CHECK(st == LX_ERR_IO && strcmp(lx_last_error(), "truncated file: expected 8 bytes of thing "
        "but only 6 remain (x.bin, byte 2)") == 0 && r.offset == 8 && r.remaining == -1,
        "read_exact message, unknown length: %s", lx_last_error());
  chunky_reader(&r, &c, "abcdefgh", 8, 3, true);
  st = lx_read_some(&r, buf, 16, &got);
  CHECK(st == LX_OK && got == 8 && r.remaining == 0 && r.offset == 8, "read_some to the end");
}

static int64_t failing_read(void *ctx, void *dst, size_t n) {
  lx_set_error(LX_ERR_IO, "read failed: Connection reset");
  return -1;
}

static void test_stdio(void) {
  /* Write two records to a file, then read them from byte 3 of a file with
  ** 3 bytes in front. */
  FILE *f = tmpfile();
  CHECK(f != NULL, "tmpfile");
  if (!f) return;
  fwrite("abc", 1, 3, f);
  lx_writer w;
  lx_writer_stdio(&w, f, "tmp.eqx");
  CHECK(w.offset == 3, "writer starts at the stream's position");
  int64_t shape[1] = {4};
  int32_t v[4] = {5, 6, 7, 8};
  lx_array *a, *b = NULL;
  lx_array_from_host(lx_device_cpu(), LX_INT32, 1, shape, v, &a);
  lx_status st = lx_npy_write(&w, a);
  if (st == LX_OK) st = lx_npy_write(&w, a);
  CHECK(st == LX_OK && w.offset == 3 + 2 * (128 + 16), "two records written");
  fflush(f);
  fseek(f, 3, SEEK_SET);
  lx_reader r;
  lx_reader_stdio(&r, f, "tmp.eqx");
  CHECK(r.offset == 3 && r.remaining == 2 * (128 + 16), "stdio reader: offset %" PRIu64
        ", remaining %" PRId64, r.offset, r.remaining);
  int records = 0;
  for (;;) {
    lx_npy_header h;
    bool eof;
    st = lx_npy_read_header(&r, &h, &eof);
    if (st != LX_OK || eof) break;
    st = lx_npy_read_data(&r, &h, &b);
    if (st != LX_OK) break;
    if (array_bytes_equal(b, v, sizeof v) && h.offset == 3 + (uint64_t)records * 144) records++;
    lx_array_release(b);
  }
  CHECK(st == LX_OK && records == 2, "stdio round trip: %d records %s", records,
        st == LX_OK ? "" : lx_last_error());
  fclose(f);

  /* A device that is full: the message names the file and the reason. */
  FILE *full = fopen("/dev/full", "wb");
  if (full) {
    setvbuf(full, NULL, _IONBF, 0);
    lx_writer_stdio(&w, full, "out.eqx");
    st = lx_npy_write(&w, a);
    CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "No space left on device") &&
          strstr(lx_last_error(), "(out.eqx, byte 0)"), "write to /dev/full: %s",
          lx_last_error());
    fclose(full);
  }
  /* A read error: the message of the callback, then where. */
  lx_reader bad = {.read = failing_read, .name = "sock", .remaining = -1};
  lx_npy_header h;
  bool eof;
  st = lx_npy_read_header(&bad, &h, &eof);
  CHECK(st == LX_ERR_IO && strcmp(lx_last_error(), "read failed: Connection reset (sock, byte "
        "0)") == 0, "read error located: %s", lx_last_error());
  /* A directory opens but does not read: EISDIR. */
  FILE *dir = fopen("/", "rb");
  if (dir) {
    lx_reader_stdio(&r, dir, "/");
    st = lx_npy_read_header(&r, &h, &eof);
    CHECK(st == LX_ERR_IO && strstr(lx_last_error(), "read failed: Is a directory (/, byte 0)"),
          "directory read: %s", lx_last_error());
    fclose(dir);
  }
  lx_array_release(a);
}

int main(void) {
  test_descr();
  test_header_literals();
  test_round_trips();
  test_write_views();
  test_fortran_and_byte_order();
  test_hostile_headers();
  test_truncation();
  test_lying_headers();
  test_eof_and_streams();
  test_stdio();
  return check_summary();
}
