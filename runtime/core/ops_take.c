/*
** ops_take.c — take (jnp.take along one axis, the gather of nn.Embedding):
** checks, the result's shape, and the backend loops (LX_OP_TAKE). The
** backends get contiguous operands: a strided view is copied first, which
** keeps their kernels three plain loops (outer, index, inner).
*/
#include "internal.h"

static bool index_dtype(lx_dtype t) {
  return t == LX_INT32 || t == LX_INT64 || t == LX_UINT8 || t == LX_UINT32;
}

/* `a` itself (retained) when contiguous, else a contiguous copy. */
static lx_status contiguous(lx_array *a, lx_array **out) {
  if (lx_array_is_contiguous(a)) {
    *out = lx_array_retain(a);
    return LX_OK;
  }
  return lx_copy(a, out);
}

lx_status lx_take(lx_array *a, lx_array *indices, int axis, int index_base,
                  lx_array **out) {
  const char *fn = "take";
  if (a->ndim == 0)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: a 0-d array has no axis to take from", fn);
  if (axis < 0 || axis >= a->ndim)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: axis %d is out of range for an array of %d "
                        "dimensions", fn, axis + 1, a->ndim);
  if (!index_dtype(indices->dtype))
    return lx_set_error(LX_ERR_DTYPE, "%s: indices must be int32, int64, uint8 or uint32, got "
                        "%s", fn, lx_dtype_name(indices->dtype));
  if (index_base != 0 && index_base != 1)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: index_base must be 0 or 1, got %d", fn,
                        index_base);
  lx_status st = lx__same_device(fn, a, indices);
  if (st != LX_OK) return st;
  int ndim = a->ndim - 1 + indices->ndim;
  if (ndim > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_SHAPE, "%s: the result would have %d dimensions (at most %d)", fn,
                        ndim, LX_MAX_DIMS);
  if (a->shape[axis] == 0 && indices->size > 0)
    return lx_set_error(LX_ERR_INDEX, "%s: cannot take from axis %d of size 0", fn, axis + 1);
  int64_t shape[LX_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < axis; i++) shape[k++] = a->shape[i];
  for (int i = 0; i < indices->ndim; i++) shape[k++] = indices->shape[i];
  for (int i = axis + 1; i < a->ndim; i++) shape[k++] = a->shape[i];
  lx_array *r;
  if ((st = lx_array_empty(lx__op_device(a, indices), a->dtype, ndim, shape, &r)) != LX_OK)
    return st;
  lx_array *ac = NULL, *ic = NULL;
  if (r->size > 0) {
    st = contiguous(a, &ac);
    if (st == LX_OK) st = contiguous(indices, &ic);
    if (st == LX_OK) {
      lx_op o = {.kind = LX_OP_TAKE, .ninputs = 2, .in = {ac, ic}, .out = r};
      o.p.take.axis = axis;
      o.p.take.base = index_base;
      st = lx__run(&o);
    }
  }
  lx_array_release(ac);
  lx_array_release(ic);
  if (st != LX_OK) {
    lx_array_release(r);
    return st;
  }
  *out = r;
  return LX_OK;
}
