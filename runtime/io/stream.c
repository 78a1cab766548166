/*
** stream.c — byte readers and writers under the file formats, and the
** writing of an array's elements.
**
** Readers and writers report where a failure happened: an error from a
** `read` or `write` callback gets " (<name>, byte <offset>)" appended, so a
** callback's own message should say what went wrong and nothing about
** where (e.g. "read failed: Is a directory").
*/
#include "io_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* One callback call moves at most this much, so that a byte count always
** fits the int64_t a `read` returns, and one failing call loses little. */
#define STREAM_CALL_MAX ((size_t)1 << 30)

/* Chunks for copying arrays out of devices or strided views: large enough
** that per-chunk costs vanish, small enough not to double a big model's
** memory. */
#define ARRAY_CHUNK_BYTES ((size_t)8 << 20)

static const char *stream_name(const char *name) { return name ? name : "<stream>"; }

lx_status lx__io_error(lx_status st, const char *name, uint64_t offset, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!name) return lx_set_error(st, "%s (byte %" PRIu64 ")", msg, offset);
  return lx_set_error(st, "%s (%s, byte %" PRIu64 ")", msg, name, offset);
}

/* Appends the stream position to the message a callback left. */
static lx_status located(lx_status st, const char *name, uint64_t offset) {
  return lx__io_error(st, stream_name(name), offset, "%s", lx_last_error());
}

/* ---------------------------------------------------------------- reading */

lx_status lx_read_some(lx_reader *r, void *dst, size_t n, size_t *got) {
  size_t done = 0;
  uint8_t *p = dst;
  /* `read` may stop short before the end (a pipe, a socket, a Lua reader
  ** returning what it has): only 0 means the end. */
  while (done < n) {
    size_t ask = n - done < STREAM_CALL_MAX ? n - done : STREAM_CALL_MAX;
    int64_t k = r->read(r->ctx, p + done, ask);
    if (k < 0) {
      *got = done;
      return located(LX_ERR_IO, r->name, r->offset);
    }
    if ((uint64_t)k > ask) {
      *got = done;
      return lx_set_error(LX_ERR_INTERNAL, "reader returned %" PRId64 " bytes for a read of "
                          "%zu (%s, byte %" PRIu64 ")", k, ask, stream_name(r->name),
                          r->offset);
    }
    if (k == 0) break;
    done += (size_t)k;
    r->offset += (uint64_t)k;
    if (r->remaining >= 0)
      r->remaining = (uint64_t)k < (uint64_t)r->remaining ? r->remaining - k : 0;
  }
  *got = done;
  return LX_OK;
}

lx_status lx_read_exact(lx_reader *r, void *dst, size_t n, const char *what) {
  uint64_t start = r->offset;
  /* A known length settles it without reading (nor waiting for) anything. */
  if (r->remaining >= 0 && (uint64_t)r->remaining < n)
    return lx__io_error(LX_ERR_IO, stream_name(r->name), start, "truncated file: expected %zu "
                        "bytes of %s but only %" PRId64 " remain", n, what, r->remaining);
  size_t got;
  lx_status st = lx_read_some(r, dst, n, &got);
  if (st != LX_OK) return st;
  if (got < n)
    return lx__io_error(LX_ERR_IO, stream_name(r->name), start, "truncated file: expected %zu "
                        "bytes of %s but only %zu remain", n, what, got);
  return LX_OK;
}

static int64_t memory_read(void *ctx, void *dst, size_t n) {
  lx_memory_source *src = ctx;
  size_t left = src->pos < src->len ? src->len - src->pos : 0;
  if (n > left) n = left;
  if (n) memcpy(dst, src->data + src->pos, n);
  src->pos += n;
  return (int64_t)n;
}

void lx_reader_memory(lx_reader *r, lx_memory_source *src, const void *data, size_t len,
                      const char *name) {
  src->data = data;
  src->len = len;
  src->pos = 0;
  r->read = memory_read;
  r->ctx = src;
  r->name = name;
  r->offset = 0;
  r->remaining = len > (size_t)INT64_MAX ? INT64_MAX : (int64_t)len;
}

static int64_t stdio_read(void *ctx, void *dst, size_t n) {
  FILE *f = ctx;
  size_t k = fread(dst, 1, n, f);
  if (k < n && ferror(f)) {
    int err = errno;
    lx_set_error(LX_ERR_IO, "read failed: %s", err ? strerror(err) : "I/O error");
    return -1;
  }
  return (int64_t)k;
}

void lx_reader_stdio(lx_reader *r, FILE *f, const char *name) {
  r->read = stdio_read;
  r->ctx = f;
  r->name = name;
  off_t pos = ftello(f);
  r->offset = pos >= 0 ? (uint64_t)pos : 0;
  r->remaining = -1;
  /* Only a regular file's size says how much is left; pipes, terminals and
  ** devices are read until they end. */
  struct stat sb;
  if (pos >= 0 && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode))
    r->remaining = sb.st_size > pos ? (int64_t)(sb.st_size - pos) : 0;
}

/* ---------------------------------------------------------------- writing */

lx_status lx_write_all(lx_writer *w, const void *src, size_t n) {
  if (n == 0) return LX_OK;
  lx_status st = w->write(w->ctx, src, n);
  if (st != LX_OK) return located(st, w->name, w->offset);
  w->offset += n;
  return LX_OK;
}

static lx_status stdio_write(void *ctx, const void *src, size_t n) {
  FILE *f = ctx;
  errno = 0;
  if (fwrite(src, 1, n, f) < n || ferror(f)) {
    int err = errno;
    return lx_set_error(LX_ERR_IO, "write failed: %s", err ? strerror(err) : "I/O error");
  }
  return LX_OK;
}

void lx_writer_stdio(lx_writer *w, FILE *f, const char *name) {
  w->write = stdio_write;
  w->ctx = f;
  w->name = name;
  off_t pos = ftello(f);
  w->offset = pos >= 0 ? (uint64_t)pos : 0;
}

/* Copies `a` out through `buf` (cap bytes) and writes it, a block of
** leading-axis rows at a time; a row larger than the buffer is split along
** its own leading axis, recursively. Each block is a view, so only the
** block is ever copied (on the device for strided views). */
static lx_status write_blocks(lx_writer *w, lx_array *a, void *buf, size_t cap) {
  size_t nbytes = lx_array_nbytes(a);
  if (nbytes <= cap) {
    lx_status st = lx_array_read(a, buf, nbytes);
    return st != LX_OK ? st : lx_write_all(w, buf, nbytes);
  }
  /* nbytes > cap >= one element: at least one axis, none of size 0. */
  int64_t rows = lx_array_shape(a)[0];
  size_t row_bytes = nbytes / (size_t)rows;
  int64_t per_block = row_bytes <= cap ? (int64_t)(cap / row_bytes) : 1;
  for (int64_t i = 0; i < rows; i += per_block) {
    int64_t stop = rows - i < per_block ? rows : i + per_block;
    lx_index ix = {.kind = LX_INDEX_SLICE, .start = i, .stop = stop, .step = 1};
    if (row_bytes > cap) ix = (lx_index){.kind = LX_INDEX_SINGLE, .start = i};
    lx_array *block;
    lx_status st = lx_index_view(a, 1, &ix, &block);
    if (st != LX_OK) return st;
    st = write_blocks(w, block, buf, cap);
    lx_array_release(block);
    if (st != LX_OK) return st;
  }
  return LX_OK;
}

lx_status lx_write_array_data(lx_writer *w, lx_array *a) {
  if (lx_array_is_abstract(a))
    return lx_set_error(LX_ERR_DEVICE, "cannot write an abstract array (made inside "
                        "filter_eval_shape): it has a shape and a dtype but no values");
  size_t nbytes = lx_array_nbytes(a);
  if (nbytes == 0) return LX_OK;
  /* lunox's memory layout is the files' (little-endian, row-major): a
  ** contiguous CPU array goes out as it is, in one call. Device memory is
  ** not read in place even when mapped: it may be uncached. */
  if (lx_array_device(a) == lx_device_cpu() && lx_array_is_contiguous(a)) {
    const void *p = lx_array_host_address(a);
    if (p) return lx_write_all(w, p, nbytes);
  }
  size_t cap = nbytes < ARRAY_CHUNK_BYTES ? nbytes : ARRAY_CHUNK_BYTES;
  void *buf = malloc(cap);
  if (!buf)
    return lx_set_error(LX_ERR_MEMORY, "out of host memory for a %zu-byte write buffer (%s)",
                        cap, stream_name(w->name));
  lx_status st = write_blocks(w, a, buf, cap);
  free(buf);
  return st;
}
