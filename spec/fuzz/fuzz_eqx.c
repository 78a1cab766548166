/*
** fuzz_eqx.c — libFuzzer target for an .eqx stream: .npy records read
** until the end, as tree_deserialise_leaves does.
**
** The first byte of the input picks how the stream is read and the rest is
** the stream:
**   bit 0  the reader hides its length (remaining = -1), as a pipe or a Lua
**          reader does, so the limits that do not rely on it are exercised;
**   bit 1  records' data are skipped instead of read;
**   bits 2-7  the reader hands out at most 1 + 37 * (bits) bytes per call
**          (a short-reading source; 0 means no limit).
** The seed corpus (spec/fuzz/make_npy_corpus.py) has each stream under
** several mode bytes.
*/
#include "lunox_io.h"

#include <string.h>

typedef struct source {
  const uint8_t *data;
  size_t len, pos, chunk;
} source;

static int64_t source_read(void *ctx, void *dst, size_t n) {
  source *s = ctx;
  size_t left = s->len - s->pos;
  if (n > left) n = left;
  if (s->chunk && n > s->chunk) n = s->chunk;
  memcpy(dst, s->data + s->pos, n);
  s->pos += n;
  return (int64_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  source src = {.data = data + 1, .len = size - 1, .pos = 0,
                .chunk = (mode >> 2) ? 1 + 37 * (size_t)(mode >> 2) : 0};
  lx_reader r = {.read = source_read, .ctx = &src, .name = "fuzz.eqx", .offset = 0,
                 .remaining = (mode & 1) ? -1 : (int64_t)src.len};
  /* Every record takes at least 11 bytes, so this ends; the guard only
  ** turns a bug that would loop forever into a crash that is reported. */
  for (size_t records = 0;; records++) {
    if (records > size) __builtin_trap();
    lx_npy_header h;
    bool eof;
    uint64_t before = r.offset;
    if (lx_npy_read_header(&r, &h, &eof) != LX_OK || eof) break;
    if (h.offset != before || h.data_offset != r.offset) __builtin_trap();
    if (mode & 2) {
      if (lx_npy_skip_data(&r, &h) != LX_OK) break;
    } else {
      lx_array *a = NULL;
      if (lx_npy_read_data(&r, &h, &a) != LX_OK) break;
      if (lx_array_nbytes(a) != h.nbytes) __builtin_trap();
      lx_array_release(a);
    }
    if (r.offset != h.data_offset + h.nbytes) __builtin_trap();
  }
  return 0;
}
