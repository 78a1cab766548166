/*
** ops_shape.c — reshape, transpose, indexing views, concatenate, stack.
** Arrays are immutable, so views share buffers freely.
*/
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

lx_status lx_reshape(lx_array *a, int ndim, const int64_t *shape, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  if (ndim < 0 || ndim > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_SHAPE, "reshape: %d dimensions (at most %d)", ndim, LX_MAX_DIMS);
  int64_t resolved[LX_MAX_DIMS];
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < ndim; i++) {
    resolved[i] = shape[i];
    if (shape[i] == -1) {
      if (infer >= 0)
        return lx_set_error(LX_ERR_SHAPE, "reshape: only one dimension can be -1, got %s",
                            lx__shape_str(ndim, shape, s1, sizeof s1));
      infer = i;
    } else if (shape[i] < 0) {
      return lx_set_error(LX_ERR_SHAPE, "reshape: negative dimension %" PRId64
                          " at position %d in shape %s", shape[i], i + 1,
                          lx__shape_str(ndim, shape, s1, sizeof s1));
    } else if (shape[i] != 0 && known > INT64_MAX / shape[i]) {
      known = -1; /* overflow: cannot match any real size */
      break;
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known > 0 && a->size % known == 0) resolved[infer] = a->size / known;
  else if (infer >= 0) resolved[infer] = -1; /* no valid size: error below */
  int64_t total = 1;
  bool ok = known >= 0;
  for (int i = 0; i < ndim && ok; i++) {
    if (resolved[i] < 0) ok = false;
    else total *= resolved[i];
  }
  if (!ok || total != a->size)
    return lx_set_error(LX_ERR_SHAPE, "reshape: cannot reshape an array of size %" PRId64
                        " (shape %s) into shape %s", a->size,
                        lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                        lx__shape_str(ndim, shape, s2, sizeof s2));
  if (lx_array_is_contiguous(a)) {
    int64_t strides[LX_MAX_DIMS];
    lx__contiguous_strides(ndim, resolved, strides);
    return lx__array_view(a, ndim, resolved, strides, a->offset, out);
  }
  lx_array *c;
  lx_status st = lx_copy(a, &c);
  if (st != LX_OK) return st;
  st = lx__array_wrap(c->buffer, c->dtype, ndim, resolved, c->offset, out);
  lx_array_release(c);
  return st;
}

lx_status lx_transpose(lx_array *a, const int *perm, lx_array **out) {
  int64_t shape[LX_MAX_DIMS], strides[LX_MAX_DIMS];
  bool seen[LX_MAX_DIMS] = {false};
  for (int i = 0; i < a->ndim; i++) {
    int p = perm ? perm[i] : a->ndim - 1 - i;
    if (p < 0 || p >= a->ndim || seen[p]) {
      char buf[LX_SHAPE_STR_MAX];
      int64_t shown[LX_MAX_DIMS];
      for (int j = 0; j < a->ndim; j++) shown[j] = (perm ? perm[j] : 0) + 1;
      return lx_set_error(LX_ERR_ARGUMENT, "transpose: %s is not a permutation of the %d axes",
                          lx__shape_str(a->ndim, shown, buf, sizeof buf), a->ndim);
    }
    seen[p] = true;
    shape[i] = a->shape[p];
    strides[i] = a->strides[p];
  }
  return lx__array_view(a, a->ndim, shape, strides, a->offset, out);
}

static int64_t slice_length(int64_t start, int64_t stop, int64_t step) {
  if (step > 0) return stop > start ? (stop - start + step - 1) / step : 0;
  return start > stop ? (start - stop + (-step) - 1) / (-step) : 0;
}

lx_status lx_index_view(lx_array *a, int n, const lx_index *index, lx_array **out) {
  if (n < 0 || n > a->ndim)
    return lx_set_error(LX_ERR_INDEX, "index: %d indices for an array of %d dimensions",
                        n, a->ndim);
  int64_t shape[LX_MAX_DIMS], strides[LX_MAX_DIMS];
  int64_t offset = a->offset;
  int nd = 0;
  for (int i = 0; i < a->ndim; i++) {
    int64_t dim = a->shape[i];
    if (i >= n) {
      shape[nd] = dim;
      strides[nd++] = a->strides[i];
      continue;
    }
    const lx_index *ix = &index[i];
    if (ix->kind == LX_INDEX_SINGLE) {
      if (ix->start < 0 || ix->start >= dim)
        return lx_set_error(LX_ERR_INDEX, "index: position %" PRId64 " is out of range for "
                            "axis %d of size %" PRId64, ix->start + 1, i + 1, dim);
      offset += ix->start * a->strides[i];
    } else {
      if (ix->step == 0)
        return lx_set_error(LX_ERR_INDEX, "index: slice step cannot be 0 (axis %d)", i + 1);
      int64_t len = slice_length(ix->start, ix->stop, ix->step);
      if (len > 0) {
        int64_t last = ix->start + (len - 1) * ix->step;
        if (ix->start < 0 || ix->start >= dim || last < 0 || last >= dim)
          return lx_set_error(LX_ERR_INDEX, "index: slice is out of range for axis %d of "
                              "size %" PRId64, i + 1, dim);
        offset += ix->start * a->strides[i];
      }
      shape[nd] = len;
      strides[nd++] = a->strides[i] * ix->step;
    }
  }
  return lx__array_view(a, nd, shape, strides, offset, out);
}

lx_status lx_concatenate(int n, lx_array *const *arrays, int axis, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  if (n < 1) return lx_set_error(LX_ERR_ARGUMENT, "concatenate: needs at least one array");
  lx_array *first = arrays[0];
  if (first->ndim == 0)
    return lx_set_error(LX_ERR_SHAPE, "concatenate: cannot concatenate 0-d arrays (use stack)");
  if (axis < 0 || axis >= first->ndim)
    return lx_set_error(LX_ERR_ARGUMENT, "concatenate: axis %d is out of range for arrays "
                        "of %d dimensions", axis + 1, first->ndim);
  lx_dtype dtype = first->dtype;
  lx_device *dev = first->buffer->device;
  int64_t total = 0;
  for (int k = 0; k < n; k++) {
    lx_array *x = arrays[k];
    lx_status st = lx__same_device("concatenate", first, x);
    if (st != LX_OK) return st;
    if (lx_array_is_abstract(x)) dev = x->buffer->device;
    bool ok = x->ndim == first->ndim;
    for (int i = 0; ok && i < x->ndim; i++)
      if (i != axis && x->shape[i] != first->shape[i]) ok = false;
    if (!ok)
      return lx_set_error(LX_ERR_SHAPE, "concatenate: array %d has shape %s, which does not "
                          "fit array 1's shape %s along axis %d", k + 1,
                          lx__shape_str(x->ndim, x->shape, s1, sizeof s1),
                          lx__shape_str(first->ndim, first->shape, s2, sizeof s2), axis + 1);
    dtype = lx_dtype_promote(dtype, x->dtype);
    total += x->shape[axis];
  }
  int64_t shape[LX_MAX_DIMS];
  for (int i = 0; i < first->ndim; i++) shape[i] = first->shape[i];
  shape[axis] = total;
  lx_array *r;
  lx_status st = lx_array_empty(dev, dtype, first->ndim, shape, &r);
  if (st != LX_OK) return st;
  int64_t pos = 0;
  for (int k = 0; k < n && st == LX_OK; k++) {
    lx_array *x = arrays[k];
    lx_array *dst;
    st = lx__array_view(r, x->ndim, x->shape, r->strides, r->offset + pos * r->strides[axis], &dst);
    if (st != LX_OK) break;
    lx_op o = {.kind = LX_OP_CONVERT, .ninputs = 1, .in = {x}, .out = dst};
    st = lx__run(&o);
    lx_array_release(dst);
    pos += x->shape[axis];
  }
  if (st != LX_OK) { lx_array_release(r); return st; }
  *out = r;
  return LX_OK;
}

lx_status lx_stack(int n, lx_array *const *arrays, int axis, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  if (n < 1) return lx_set_error(LX_ERR_ARGUMENT, "stack: needs at least one array");
  lx_array *first = arrays[0];
  if (axis < 0 || axis > first->ndim)
    return lx_set_error(LX_ERR_ARGUMENT, "stack: axis %d is out of range for arrays of %d "
                        "dimensions (1..%d)", axis + 1, first->ndim, first->ndim + 1);
  if (first->ndim + 1 > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_SHAPE, "stack: too many dimensions");
  lx_array **expanded = calloc((size_t)n, sizeof *expanded);
  if (!expanded) return lx_set_error(LX_ERR_MEMORY, "stack: out of host memory");
  lx_status st = LX_OK;
  for (int k = 0; k < n && st == LX_OK; k++) {
    lx_array *x = arrays[k];
    bool same = x->ndim == first->ndim;
    for (int i = 0; same && i < x->ndim; i++) same = x->shape[i] == first->shape[i];
    if (!same) {
      st = lx_set_error(LX_ERR_SHAPE, "stack: array %d has shape %s but array 1 has shape %s",
                        k + 1, lx__shape_str(x->ndim, x->shape, s1, sizeof s1),
                        lx__shape_str(first->ndim, first->shape, s2, sizeof s2));
      break;
    }
    int64_t shape[LX_MAX_DIMS], strides[LX_MAX_DIMS];
    for (int i = 0, j = 0; i <= x->ndim; i++) {
      if (i == axis) { shape[i] = 1; strides[i] = 0; continue; }
      shape[i] = x->shape[j];
      strides[i] = x->strides[j++];
    }
    st = lx__array_view(x, x->ndim + 1, shape, strides, x->offset, &expanded[k]);
  }
  if (st == LX_OK) st = lx_concatenate(n, expanded, axis, out);
  for (int k = 0; k < n; k++) lx_array_release(expanded[k]);
  free(expanded);
  return st;
}
