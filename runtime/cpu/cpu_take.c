/*
** cpu_take.c — take along one axis on the CPU: for each position before
** the axis and each index, one row (everything after the axis) copied.
** Indices are checked first, all of them, so a bad one leaves nothing
** half-done and the error names the first in row-major order.
*/
#include "cpu_kernels.h"
#include "cpu_iter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Index v (counted from base; negative from the end) of an axis of n as a
** 0-based position; false when it is outside the axis. */
static bool normalise(int64_t v, int64_t n, int base, int64_t *k) {
  if (v < 0) {
    if (v < -n) return false;
    *k = v + n;
    return true;
  }
  if (v < base || v - base >= n) return false;
  *k = v - base;
  return true;
}

static lx_status out_of_range(const lx_array *idx, int64_t flat, int64_t v, int axis, int64_t n,
                              int base) {
  char where[LX_SHAPE_STR_MAX + 32] = "";
  if (idx->ndim > 0) {
    int64_t pos[LX_MAX_DIMS];
    for (int d = idx->ndim - 1; d >= 0; d--) {
      pos[d] = flat % idx->shape[d] + base;
      flat /= idx->shape[d];
    }
    char sb[LX_SHAPE_STR_MAX];
    snprintf(where, sizeof where, " at position %s of the indices",
             lx__shape_str(idx->ndim, pos, sb, sizeof sb));
  }
  return lx_set_error(LX_ERR_INDEX, "take: index %" PRId64 "%s is out of range for axis %d of "
                      "size %" PRId64 " (valid: %" PRId64 "..%" PRId64 ", or -%" PRId64
                      "..-1 from the end)", v, where, axis + 1, n, (int64_t)base,
                      n - 1 + base, n);
}

lx_status lx__cpu_take(const lx_op *op) {
  const lx_array *a = op->in[0], *idx = op->in[1];
  lx_array *o = op->out;
  int axis = op->p.take.axis, base = op->p.take.base;
  if (axis < 0 || axis >= a->ndim || o->dtype != a->dtype || !lx_array_is_contiguous(a) ||
      !lx_array_is_contiguous(idx) || !lx_array_is_contiguous(o) ||
      !lx_dtype_is_integer(idx->dtype))
    return lx_set_error(LX_ERR_INTERNAL, "take: operands do not match the cpu kernel's "
                        "contract");
  int64_t n = a->shape[axis], outer = 1, row = (int64_t)lx_dtype_size(a->dtype);
  for (int i = 0; i < axis; i++) outer *= a->shape[i];
  for (int i = axis + 1; i < a->ndim; i++) row *= a->shape[i];
  int64_t nidx = idx->size, isz = (int64_t)lx_dtype_size(idx->dtype);
  const char *ip = lx__cpu_base(idx);
  for (int64_t j = 0; j < nidx; j++) {
    int64_t v = lx_load_int64(idx->dtype, ip + j * isz), k;
    if (!normalise(v, n, base, &k)) return out_of_range(idx, j, v, axis, n, base);
  }
  const char *src = lx__cpu_base(a);
  char *dst = lx__cpu_base(o);
  for (int64_t i = 0; i < outer; i++) {
    const char *block = src + i * n * row;
    for (int64_t j = 0; j < nidx; j++) {
      int64_t k = 0;
      normalise(lx_load_int64(idx->dtype, ip + j * isz), n, base, &k);
      memcpy(dst, block + k * row, (size_t)row);
      dst += row;
    }
  }
  return LX_OK;
}
