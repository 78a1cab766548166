/*
** array.c — buffers, array headers, views, host transfers.
*/
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- buffers */

static void human_bytes(uint64_t n, char *buf, size_t size) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024.0 && u < 6) { v /= 1024.0; u++; }
  if (u == 0) snprintf(buf, size, "%" PRIu64 " B", n);
  else snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* A new buffer header over memory that exists already, counted on its
** device unless the device holds none. */
static lx_status buffer_wrap(lx_device *dev, size_t nbytes, void *handle,
                             void (*release)(void *ctx), void *ctx, lx_buffer **out) {
  lx_buffer *b = malloc(sizeof *b);
  if (!b) return lx_set_error(LX_ERR_MEMORY, "out of host memory for a buffer header");
  atomic_init(&b->refcount, 1);
  b->device = dev;
  b->nbytes = nbytes;
  b->handle = handle;
  b->release = release;
  b->release_ctx = ctx;
  if (!dev->backend->holds_no_memory) atomic_fetch_add(&dev->bytes_in_use, nbytes);
  *out = b;
  return LX_OK;
}

lx_status lx__buffer_new(lx_device *dev, size_t nbytes, lx_buffer **out) {
  void *handle = NULL;
  lx_status st = dev->backend->buffer_alloc(dev, nbytes, &handle);
  if (st != LX_OK) return st;
  st = buffer_wrap(dev, nbytes, handle, NULL, NULL, out);
  if (st != LX_OK) dev->backend->buffer_free(dev, handle, nbytes);
  return st;
}

lx_status lx__buffer_external(void *data, size_t nbytes, void (*release)(void *ctx),
                              void *ctx, lx_buffer **out) {
  return buffer_wrap(lx_device_cpu(), nbytes, data, release, ctx, out);
}

lx_buffer *lx__buffer_retain(lx_buffer *b) {
  atomic_fetch_add(&b->refcount, 1);
  return b;
}

void lx__buffer_release(lx_buffer *b) {
  if (!b || atomic_fetch_sub(&b->refcount, 1) != 1) return;
  if (b->release) b->release(b->release_ctx);
  else b->device->backend->buffer_free(b->device, b->handle, b->nbytes);
  if (!b->device->backend->holds_no_memory)
    atomic_fetch_sub(&b->device->bytes_in_use, b->nbytes);
  free(b);
}

/* ---------------------------------------------------------------- shapes */

const char *lx__shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
  size_t n = 0;
  n += (size_t)snprintf(buf + n, size - n, "{");
  for (int i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, i ? ",%" PRId64 : "%" PRId64, shape[i]);
  if (n < size) snprintf(buf + n, size - n, "}");
  return buf;
}

lx_status lx_shape_check(const char *fn, lx_dtype dtype, int ndim,
                         const int64_t *shape, int64_t *size, size_t *nbytes) {
  char sbuf[LX_SHAPE_STR_MAX];
  if (ndim < 0 || ndim > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_SHAPE, "%s: %d dimensions (at most %d are supported)",
                        fn, ndim, LX_MAX_DIMS);
  if ((unsigned)dtype >= LX_DTYPE_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: invalid dtype %d", fn, (int)dtype);
  /* The product of the non-zero dimensions must fit in 64 bits even when a
  ** zero dimension makes the array empty: strides and element counts are
  ** computed from them. */
  uint64_t total = 1;
  bool overflow = false, empty = false;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return lx_set_error(LX_ERR_SHAPE, "%s: negative dimension %" PRId64
                          " at position %d in shape %s", fn, shape[i], i + 1,
                          lx__shape_str(ndim, shape, sbuf, sizeof sbuf));
    if (shape[i] == 0) empty = true;
    else if (total > (uint64_t)INT64_MAX / (uint64_t)shape[i]) overflow = true;
    else total *= (uint64_t)shape[i];
  }
  if (empty && !overflow) total = 0;
  size_t item = lx_dtype_size(dtype);
  if (overflow || total > SIZE_MAX / item)
    return lx_set_error(LX_ERR_MEMORY, "%s: shape %s of %s is too large (its byte "
                        "size overflows 64 bits)", fn,
                        lx__shape_str(ndim, shape, sbuf, sizeof sbuf), lx_dtype_name(dtype));
  if (size) *size = (int64_t)total;
  if (nbytes) *nbytes = (size_t)total * item;
  return LX_OK;
}

void lx__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
}

/* ---------------------------------------------------------------- arrays */

static lx_array *array_header_new(int ndim) {
  lx_array *a = malloc(sizeof *a + 2 * (size_t)ndim * sizeof(int64_t));
  if (!a) {
    lx_set_error(LX_ERR_MEMORY, "out of host memory for an array header");
    return NULL;
  }
  atomic_init(&a->refcount, 1);
  a->shape = a->dims;
  a->strides = a->dims + ndim;
  return a;
}

lx_status lx__array_wrap(lx_buffer *buffer, lx_dtype dtype, int ndim,
                         const int64_t *shape, int64_t offset, lx_array **out) {
  lx_array *a = array_header_new(ndim);
  if (!a) return LX_ERR_MEMORY;
  a->dtype = dtype;
  a->ndim = ndim;
  a->offset = offset;
  a->size = 1;
  for (int i = 0; i < ndim; i++) { a->shape[i] = shape[i]; a->size *= shape[i]; }
  lx__contiguous_strides(ndim, shape, a->strides);
  a->buffer = lx__buffer_retain(buffer);
  *out = a;
  return LX_OK;
}

lx_status lx__array_view(const lx_array *base, int ndim, const int64_t *shape,
                         const int64_t *strides, int64_t offset, lx_array **out) {
  lx_array *a = array_header_new(ndim);
  if (!a) return LX_ERR_MEMORY;
  a->dtype = base->dtype;
  a->ndim = ndim;
  a->offset = offset;
  a->size = 1;
  for (int i = 0; i < ndim; i++) {
    a->shape[i] = shape[i];
    a->strides[i] = strides[i];
    a->size *= shape[i];
  }
  a->buffer = lx__buffer_retain(base->buffer);
  *out = a;
  return LX_OK;
}

lx_array *lx_array_retain(lx_array *a) {
  if (a) atomic_fetch_add(&a->refcount, 1);
  return a;
}

void lx_array_release(lx_array *a) {
  if (!a || atomic_fetch_sub(&a->refcount, 1) != 1) return;
  lx__buffer_release(a->buffer);
  free(a);
}

lx_dtype lx_array_dtype(const lx_array *a) { return a->dtype; }
int lx_array_ndim(const lx_array *a) { return a->ndim; }
const int64_t *lx_array_shape(const lx_array *a) { return a->shape; }
const int64_t *lx_array_strides(const lx_array *a) { return a->strides; }
int64_t lx_array_size(const lx_array *a) { return a->size; }
size_t lx_array_nbytes(const lx_array *a) { return (size_t)a->size * lx_dtype_size(a->dtype); }
lx_device *lx_array_device(const lx_array *a) { return a->buffer->device; }

bool lx_array_is_contiguous(const lx_array *a) {
  if (a->size == 0) return true; /* no element is out of place */
  int64_t expect = 1;
  for (int i = a->ndim - 1; i >= 0; i--) {
    if (a->shape[i] != 1 && a->strides[i] != expect) return false;
    expect *= a->shape[i];
  }
  return true;
}

void *lx_array_host_address(lx_array *a) {
  lx_device *dev = a->buffer->device;
  char *base = dev->backend->host_address(dev, a->buffer->handle);
  if (!base) return NULL;
  return base + (size_t)a->offset * lx_dtype_size(a->dtype);
}

lx_status lx__same_device(const char *fn, const lx_array *a, const lx_array *b) {
  /* An abstract operand makes the result abstract (lx__op_device), whatever
  ** device the other one is on. */
  if (a->buffer->device == b->buffer->device || lx_array_is_abstract(a) ||
      lx_array_is_abstract(b))
    return LX_OK;
  return lx_set_error(LX_ERR_DEVICE, "%s: arrays are on different devices (%s and %s); "
                      "move one with a:to(device)", fn, a->buffer->device->name,
                      b->buffer->device->name);
}

lx_status lx__run(const lx_op *op) {
  lx_device *dev = op->out->buffer->device;
  if (op->out->size == 0) return LX_OK; /* nothing to compute */
  return dev->backend->run(dev, op);
}

lx_status lx_array_empty(lx_device *device, lx_dtype dtype, int ndim,
                         const int64_t *shape, lx_array **out) {
  size_t nbytes;
  lx_status st = lx_shape_check("empty", dtype, ndim, shape, NULL, &nbytes);
  if (st != LX_OK) return st;
  if (!device) device = lx_device_cpu();
  if (lx_abstract_active()) device = lx__device_abstract();
  lx_buffer *buf;
  st = lx__buffer_new(device, nbytes, &buf);
  if (st != LX_OK) {
    if (st == LX_ERR_MEMORY) {
      char hb[32], sb[LX_SHAPE_STR_MAX], detail[512];
      human_bytes(nbytes, hb, sizeof hb);
      /* Say what was being allocated; keep a device's own reason (a buffer
      ** size limit, say), which the CPU's plain malloc failure lacks. */
      bool on_cpu = device == lx_device_cpu();
      snprintf(detail, sizeof detail, "%s", lx_last_error());
      return lx_set_error(LX_ERR_MEMORY, "%s: out of %smemory allocating %s for %s%s%s%s%s",
                          device->name, on_cpu ? "" : "device ", hb, lx_dtype_name(dtype),
                          lx__shape_str(ndim, shape, sb, sizeof sb), on_cpu ? "" : " (",
                          on_cpu ? "" : detail, on_cpu ? "" : ")");
    }
    return st;
  }
  st = lx__array_wrap(buf, dtype, ndim, shape, 0, out);
  lx__buffer_release(buf); /* the array holds its own reference */
  return st;
}

lx_status lx_array_from_host(lx_device *device, lx_dtype dtype, int ndim,
                             const int64_t *shape, const void *data,
                             lx_array **out) {
  lx_array *a;
  lx_status st = lx_array_empty(device, dtype, ndim, shape, &a);
  if (st != LX_OK) return st;
  size_t n = lx_array_nbytes(a);
  if (n > 0) {
    lx_device *dev = a->buffer->device;
    st = dev->backend->upload(dev, a->buffer->handle, 0, data, n);
    if (st != LX_OK) { lx_array_release(a); return st; }
  }
  *out = a;
  return LX_OK;
}

lx_status lx_array_read(lx_array *a, void *dst, size_t nbytes) {
  if (nbytes != lx_array_nbytes(a))
    return lx_set_error(LX_ERR_ARGUMENT, "read: destination holds %zu bytes, the "
                        "array %zu", nbytes, lx_array_nbytes(a));
  if (nbytes == 0) return LX_OK;
  lx_array *src = a;
  lx_status st = LX_OK;
  if (!lx_array_is_contiguous(a)) {
    st = lx_copy(a, &src);
    if (st != LX_OK) return st;
  }
  lx_device *dev = src->buffer->device;
  size_t item = lx_dtype_size(src->dtype);
  st = dev->backend->download(dev, src->buffer->handle, (size_t)src->offset * item, dst, nbytes);
  if (src != a) lx_array_release(src);
  return st;
}

lx_status lx_array_to_device(lx_array *a, lx_device *device, lx_array **out) {
  /* An abstract array stays abstract: it has no values to move. */
  if (a->buffer->device == device || lx_array_is_abstract(a)) {
    *out = lx_array_retain(a);
    return LX_OK;
  }
  size_t n = lx_array_nbytes(a);
  void *tmp = malloc(n ? n : 1);
  if (!tmp) return lx_set_error(LX_ERR_MEMORY, "to: out of host memory staging %zu bytes", n);
  lx_status st = lx_array_read(a, tmp, n);
  if (st == LX_OK) st = lx_array_from_host(device, a->dtype, a->ndim, a->shape, tmp, out);
  free(tmp);
  return st;
}

/* ---------------------------------------------------------- constructors */

static lx_status fill_new(const char *fn, lx_device *device, lx_dtype dtype, int ndim,
                          const int64_t *shape, double value, int64_t ivalue,
                          bool is_int, lx_array **out) {
  lx_status st = lx_shape_check(fn, dtype, ndim, shape, NULL, NULL);
  if (st != LX_OK) return st;
  lx_array *a;
  st = lx_array_empty(device, dtype, ndim, shape, &a);
  if (st != LX_OK) return st;
  lx_op op = {.kind = LX_OP_FILL, .ninputs = 0, .out = a};
  op.p.fill.value = value;
  op.p.fill.ivalue = ivalue;
  op.p.fill.is_int = is_int;
  st = lx__run(&op);
  if (st != LX_OK) { lx_array_release(a); return st; }
  *out = a;
  return LX_OK;
}

lx_status lx_full(lx_device *device, lx_dtype dtype, int ndim,
                  const int64_t *shape, double value, lx_array **out) {
  return fill_new("full", device, dtype, ndim, shape, value, 0, false, out);
}

lx_status lx_full_int64(lx_device *device, lx_dtype dtype, int ndim,
                        const int64_t *shape, int64_t value, lx_array **out) {
  return fill_new("full", device, dtype, ndim, shape, (double)value, value, true, out);
}

lx_status lx_scalar(lx_device *device, lx_dtype dtype, double value, lx_array **out) {
  return fill_new("scalar", device, dtype, 0, NULL, value, 0, false, out);
}

lx_status lx_scalar_int64(lx_device *device, lx_dtype dtype, int64_t value, lx_array **out) {
  return fill_new("scalar", device, dtype, 0, NULL, (double)value, value, true, out);
}

lx_status lx_arange(lx_device *device, double start, double stop, double step,
                    lx_dtype dtype, lx_array **out) {
  if (step == 0 || step != step)
    return lx_set_error(LX_ERR_ARGUMENT, "arange: step must be a non-zero number, got %g", step);
  if (start != start || stop != stop || start - start != 0 || stop - stop != 0)
    return lx_set_error(LX_ERR_ARGUMENT, "arange: start and stop must be finite, got %g and %g",
                        start, stop);
  double count = ceil((stop - start) / step);
  if (count < 0) count = 0;
  if (count > 9.0e18)
    return lx_set_error(LX_ERR_MEMORY, "arange: %g elements are too many", count);
  int64_t n = (int64_t)count;
  lx_array *a;
  lx_status st = lx_array_empty(device, dtype, 1, &n, &a);
  if (st != LX_OK) return st;
  if (lx_array_is_abstract(a)) {
    *out = a;
    return LX_OK;
  }
  /* Computed here, once for every backend, with lx_store_double's exact
  ** rounding: straight into host-addressable memory, else uploaded. */
  size_t item = lx_dtype_size(dtype), nbytes = (size_t)n * item;
  char *dst = lx_array_host_address(a), *tmp = NULL;
  if (!dst && nbytes > 0 && !(dst = tmp = malloc(nbytes))) {
    lx_array_release(a);
    return lx_set_error(LX_ERR_MEMORY, "arange: out of host memory staging %zu bytes", nbytes);
  }
  for (int64_t i = 0; i < n; i++) lx_store_double(dtype, start + (double)i * step, dst + (size_t)i * item);
  if (tmp) {
    lx_device *dev = a->buffer->device;
    st = dev->backend->upload(dev, a->buffer->handle, 0, tmp, nbytes);
    free(tmp);
    if (st != LX_OK) { lx_array_release(a); return st; }
  }
  *out = a;
  return LX_OK;
}
