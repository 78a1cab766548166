/*
** fuzz_npy.c — libFuzzer target for one .npy record from memory: header,
** data, and (when both read) a write and re-read that must give back the
** same dtype, shape and bytes.
*/
#include "lunox_io.h"

#include <stdlib.h>
#include <string.h>

typedef struct sink {
  uint8_t *data;
  size_t len, cap;
} sink;

static lx_status sink_write(void *ctx, const void *src, size_t n) {
  sink *s = ctx;
  if (s->len + n > s->cap) {
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < s->len + n) cap *= 2;
    uint8_t *d = realloc(s->data, cap);
    if (!d) return lx_set_error(LX_ERR_MEMORY, "fuzz sink");
    s->data = d;
    s->cap = cap;
  }
  memcpy(s->data + s->len, src, n);
  s->len += n;
  return LX_OK;
}

/* Reads one record; NULL when the input is refused. */
static lx_array *read_record(const uint8_t *data, size_t size, lx_npy_header *h) {
  lx_memory_source src;
  lx_reader r;
  lx_reader_memory(&r, &src, data, size, "fuzz.npy");
  bool eof;
  lx_array *a = NULL;
  if (lx_npy_read_header(&r, h, &eof) != LX_OK || eof) return NULL;
  if (lx_npy_read_data(&r, h, &a) != LX_OK) return NULL;
  return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lx_npy_header h;
  lx_array *a = read_record(data, size, &h);
  if (!a) return 0;
  /* What was read must survive a round trip unchanged. */
  sink s = {0};
  lx_writer w = {.write = sink_write, .ctx = &s, .name = "fuzz-out.npy"};
  if (lx_npy_write(&w, a) != LX_OK) __builtin_trap();
  lx_npy_header h2;
  lx_array *b = read_record(s.data, s.len, &h2);
  if (!b) __builtin_trap();
  size_t n = lx_array_nbytes(a);
  if (lx_array_dtype(b) != lx_array_dtype(a) || lx_array_ndim(b) != lx_array_ndim(a) ||
      memcmp(lx_array_shape(a), lx_array_shape(b), sizeof(int64_t) * (size_t)lx_array_ndim(a)) ||
      lx_array_nbytes(b) != n || s.len < n || (s.len - n) % 64 != 0)
    __builtin_trap();
  if (n && memcmp(lx_array_host_address(a), lx_array_host_address(b), n) != 0) __builtin_trap();
  lx_array_release(b);
  lx_array_release(a);
  free(s.data);
  return 0;
}
