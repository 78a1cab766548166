/*
** ops_reduce.c — sum, mean, max, min, argmax, argmin: axes, keepdims,
** result dtypes and empty-input rules; the backend loops.
*/
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>

static const char *reduce_names[LX_REDUCE_COUNT] = {"sum", "mean", "max", "min",
                                                    "argmax", "argmin"};

const char *lx_reduce_op_name(lx_reduce_op op) {
  return (unsigned)op < LX_REDUCE_COUNT ? reduce_names[op] : "invalid";
}

/* jnp's rules: small integer sums widen to 32 bits, means of integers are
** float32, arg ops give (here 0-based, int64) indices. */
static lx_dtype reduce_dtype(lx_reduce_op op, lx_dtype in) {
  switch (op) {
    case LX_SUM:
      if (in == LX_BOOL) return LX_INT32;
      if (in == LX_UINT8 || in == LX_UINT16) return LX_UINT32;
      return in;
    case LX_MEAN: return lx_dtype_is_float(in) ? in : LX_FLOAT32;
    case LX_ARGMAX: case LX_ARGMIN: return LX_INT64;
    default: return in;
  }
}

static lx_status run_reduce(lx_reduce_op op, lx_array *in, uint64_t mask, bool keepdims,
                            lx_dtype out_dtype, lx_array **out) {
  const char *fn = lx_reduce_op_name(op);
  int64_t kshape[LX_MAX_DIMS], rshape[LX_MAX_DIMS];
  int rdim = 0;
  int64_t count = 1, out_size = 1;
  for (int i = 0; i < in->ndim; i++) {
    if (mask & (1ull << i)) {
      kshape[i] = 1;
      count *= in->shape[i];
      if (keepdims) rshape[rdim++] = 1;
    } else {
      kshape[i] = in->shape[i];
      rshape[rdim++] = in->shape[i];
      out_size *= in->shape[i];
    }
  }
  if (count == 0 && out_size > 0 && op != LX_SUM && op != LX_MEAN) {
    char sb[LX_SHAPE_STR_MAX];
    return lx_set_error(LX_ERR_SHAPE, "%s: cannot reduce over a zero-size axis of shape %s "
                        "(the operation has no identity)", fn,
                        lx__shape_str(in->ndim, in->shape, sb, sizeof sb));
  }
  lx_array *r, *result;
  lx_status st = lx_array_empty(in->buffer->device, out_dtype, in->ndim, kshape, &r);
  if (st != LX_OK) return st;
  lx_op o = {.kind = LX_OP_REDUCE, .code = op, .ninputs = 1, .in = {in}, .out = r};
  o.p.reduce.axes_mask = mask;
  o.p.reduce.count = count;
  st = lx__run(&o);
  if (st == LX_OK) {
    /* Dropping size-1 axes of a contiguous array is a view. */
    st = lx_reshape(r, rdim, rshape, &result);
    if (st == LX_OK) *out = result;
  }
  lx_array_release(r);
  return st;
}

lx_status lx_reduce(lx_reduce_op op, lx_array *a, uint64_t axes_mask, bool keepdims,
                    lx_array **out) {
  if ((unsigned)op >= LX_REDUCE_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "reduce: invalid op %d", (int)op);
  const char *fn = lx_reduce_op_name(op);
  uint64_t all = a->ndim == 64 ? ~0ull : (1ull << a->ndim) - 1;
  if (axes_mask & ~all) {
    for (int i = 0; i < 64; i++)
      if ((axes_mask >> i) & 1 && i >= a->ndim)
        return lx_set_error(LX_ERR_ARGUMENT, "%s: axis %d is out of range for an array "
                            "of %d dimensions", fn, i + 1, a->ndim);
  }
  if (axes_mask == 0) axes_mask = all;
  lx_dtype out_dtype = reduce_dtype(op, a->dtype);
  lx_status st;
  if (op == LX_ARGMAX || op == LX_ARGMIN) {
    int naxes = 0;
    for (int i = 0; i < a->ndim; i++) naxes += (int)((axes_mask >> i) & 1);
    if (naxes > 1) {
      /* Over several axes: the index is into the flattened array. */
      if (axes_mask != all)
        return lx_set_error(LX_ERR_ARGUMENT, "%s: takes one axis or all of them", fn);
      int64_t flat = a->size;
      lx_array *f, *r;
      if ((st = lx_reshape(a, 1, &flat, &f)) != LX_OK) return st;
      st = run_reduce(op, f, 1, false, out_dtype, &r);
      lx_array_release(f);
      if (st != LX_OK || !keepdims) { if (st == LX_OK) *out = r; return st; }
      int64_t ones[LX_MAX_DIMS];
      for (int i = 0; i < a->ndim; i++) ones[i] = 1;
      st = lx_reshape(r, a->ndim, ones, out);
      lx_array_release(r);
      return st;
    }
    return run_reduce(op, a, axes_mask, keepdims, out_dtype, out);
  }
  lx_array *x;
  if ((st = lx_astype(a, out_dtype, &x)) != LX_OK) return st;
  st = run_reduce(op, x, axes_mask, keepdims, out_dtype, out);
  lx_array_release(x);
  return st;
}
