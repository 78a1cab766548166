/*
** shape.c — NumPy broadcasting of shapes and views.
*/
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>

lx_status lx__broadcast_shapes(const char *fn, int na, const int64_t *sa, int nb,
                               const int64_t *sb, int *nout, int64_t *out) {
  int n = na > nb ? na : nb;
  for (int i = 0; i < n; i++) {
    /* Align from the right. */
    int ia = i - (n - na), ib = i - (n - nb);
    int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else {
      char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
      return lx_set_error(LX_ERR_SHAPE, "%s: shapes %s and %s cannot be broadcast "
                          "together (%" PRId64 " vs %" PRId64 " at axis %d of the result)",
                          fn, lx__shape_str(na, sa, s1, sizeof s1),
                          lx__shape_str(nb, sb, s2, sizeof s2), da, db, i + 1);
    }
  }
  *nout = n;
  return LX_OK;
}

lx_status lx_broadcast_to(lx_array *a, int ndim, const int64_t *shape, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  lx_status st = lx_shape_check("broadcast_to", a->dtype, ndim, shape, NULL, NULL);
  if (st != LX_OK) return st;
  if (ndim < a->ndim)
    return lx_set_error(LX_ERR_SHAPE, "broadcast_to: cannot broadcast shape %s to "
                        "fewer dimensions %s", lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                        lx__shape_str(ndim, shape, s2, sizeof s2));
  int64_t strides[LX_MAX_DIMS];
  int lead = ndim - a->ndim;
  for (int i = 0; i < ndim; i++) {
    if (i < lead) { strides[i] = 0; continue; }
    int64_t d = a->shape[i - lead];
    if (d == shape[i]) strides[i] = a->strides[i - lead];
    else if (d == 1) strides[i] = 0;
    else
      return lx_set_error(LX_ERR_SHAPE, "broadcast_to: cannot broadcast shape %s to %s "
                          "(%" PRId64 " vs %" PRId64 " at axis %d)",
                          lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                          lx__shape_str(ndim, shape, s2, sizeof s2), d, shape[i], i + 1);
  }
  return lx__array_view(a, ndim, shape, strides, a->offset, out);
}

int lx__merge_axes(int nops, const lx_array *const *ops, int64_t *shape,
                   int64_t (*strides)[LX_MAX_DIMS]) {
  const lx_array *o = ops[0];
  int nd = 0;
  for (int i = 0; i < o->ndim; i++) {
    if (o->shape[i] == 1) continue;
    bool merge = nd > 0;
    for (int k = 0; k < nops && merge; k++)
      merge = strides[k][nd - 1] == ops[k]->strides[i] * o->shape[i];
    if (merge) {
      shape[nd - 1] *= o->shape[i];
      for (int k = 0; k < nops; k++) strides[k][nd - 1] = ops[k]->strides[i];
      continue;
    }
    shape[nd] = o->shape[i];
    for (int k = 0; k < nops; k++) strides[k][nd] = ops[k]->strides[i];
    nd++;
  }
  if (nd == 0) {
    shape[0] = 1;
    for (int k = 0; k < nops; k++) strides[k][0] = 0;
    nd = 1;
  }
  return nd;
}
