/*
** ops_window.c — reduce_window (lax.reduce_window with max or sum): the
** checks, the result's shape, and the backend loops (LX_OP_REDUCE_WINDOW).
*/
#include "internal.h"

#include <inttypes.h>

lx_status lx_reduce_window(lx_reduce_op op, lx_array *x, int ndim, const int64_t *window,
                           const int64_t *strides, const int64_t *pad_lo,
                           const int64_t *pad_hi, lx_array **out) {
  const char *fn = "reduce_window";
  if (op != LX_MAX && op != LX_SUM)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: the op must be max or sum, got %s", fn,
                        lx_reduce_op_name(op));
  if (ndim != x->ndim)
    return lx_set_error(LX_ERR_SHAPE, "%s: the window has %d entries for an array of %d "
                        "dimensions", fn, ndim, x->ndim);
  /* The dtypes with kernels on both backends. */
  bool kernel = lx_dtype_is_float(x->dtype) || x->dtype == LX_INT32 || x->dtype == LX_INT64 ||
                x->dtype == LX_UINT8 || x->dtype == LX_UINT32;
  if (!kernel)
    return lx_set_error(LX_ERR_DTYPE, "%s: %s of %s arrays is not supported; convert with "
                        "astype first", fn, lx_reduce_op_name(op), lx_dtype_name(x->dtype));
  if (!window && ndim > 0)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: no window given", fn);
  int64_t ones[LX_MAX_DIMS], zeros[LX_MAX_DIMS], shape[LX_MAX_DIMS];
  for (int i = 0; i < ndim; i++) { ones[i] = 1; zeros[i] = 0; }
  if (!strides) strides = ones;
  if (!pad_lo) pad_lo = zeros;
  if (!pad_hi) pad_hi = zeros;
  for (int i = 0; i < ndim; i++) {
    int64_t n = x->shape[i], w = window[i], s = strides[i], lo = pad_lo[i], hi = pad_hi[i];
    if (w < 1)
      return lx_set_error(LX_ERR_ARGUMENT, "%s: window %" PRId64 " on axis %d; windows are at "
                          "least 1", fn, w, i + 1);
    if (s < 1)
      return lx_set_error(LX_ERR_ARGUMENT, "%s: stride %" PRId64 " on axis %d; strides are at "
                          "least 1", fn, s, i + 1);
    if (lo < 0 || hi < 0)
      return lx_set_error(LX_ERR_ARGUMENT, "%s: padding (%" PRId64 ", %" PRId64 ") on axis %d; "
                          "padding cannot be negative", fn, lo, hi, i + 1);
    /* Bounded so that n + lo + hi and the window arithmetic cannot overflow
    ** (extents are below 2^62 after lx_shape_check). */
    if (lo > INT32_MAX || hi > INT32_MAX || w > INT64_MAX / 4 || s > INT64_MAX / 4)
      return lx_set_error(LX_ERR_ARGUMENT, "%s: window, stride or padding too large on axis %d",
                          fn, i + 1);
    int64_t padded = n + lo + hi;
    if (padded < w && n == 0) { /* an empty axis stays empty */
      shape[i] = 0;
      continue;
    }
    if (padded < w)
      return lx_set_error(LX_ERR_SHAPE, "%s: window %" PRId64 " is larger than axis %d of size "
                          "%" PRId64 " with padding (%" PRId64 ", %" PRId64 "): the result "
                          "would have no entries", fn, w, i + 1, n, lo, hi);
    shape[i] = (padded - w) / s + 1;
  }
  lx_array *r;
  lx_status st = lx_array_empty(lx__op_device(x, NULL), x->dtype, ndim, shape, &r);
  if (st != LX_OK) return st;
  lx_op o = {.kind = LX_OP_REDUCE_WINDOW, .code = op, .ninputs = 1, .in = {x}, .out = r};
  o.p.window.window = window;
  o.p.window.strides = strides;
  o.p.window.pad_lo = pad_lo;
  if ((st = lx__run(&o)) != LX_OK) {
    lx_array_release(r);
    return st;
  }
  *out = r;
  return LX_OK;
}
