/*
** ops_matmul.c — NumPy's matmul shape rules: vector promotion, batch
** broadcasting; the backend multiplies.
*/
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>

lx_status lx_matmul(lx_array *a, lx_array *b, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  lx_status st = lx__same_device("matmul", a, b);
  if (st != LX_OK) return st;
  if (a->ndim == 0 || b->ndim == 0)
    return lx_set_error(LX_ERR_SHAPE, "matmul: operands need at least 1 dimension, got "
                        "shapes %s and %s", lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                        lx__shape_str(b->ndim, b->shape, s2, sizeof s2));
  lx_dtype dtype = lx_dtype_promote(a->dtype, b->dtype);
  if (dtype == LX_BOOL)
    return lx_set_error(LX_ERR_DTYPE, "matmul: not defined for bool arrays (cast with "
                        "astype first)");
  /* Vectors become {1,K} and {K,1}; the added axes are dropped at the end. */
  int64_t as[LX_MAX_DIMS], ast[LX_MAX_DIMS], bs[LX_MAX_DIMS], bst[LX_MAX_DIMS];
  int an = a->ndim, bn = b->ndim;
  for (int i = 0; i < an; i++) { as[i] = a->shape[i]; ast[i] = a->strides[i]; }
  for (int i = 0; i < bn; i++) { bs[i] = b->shape[i]; bst[i] = b->strides[i]; }
  if (an == 1) { as[1] = as[0]; ast[1] = ast[0]; as[0] = 1; ast[0] = 0; an = 2; }
  if (bn == 1) { bs[1] = 1; bst[1] = 0; bn = 2; }
  int64_t K = as[an - 1];
  if (bs[bn - 2] != K)
    return lx_set_error(LX_ERR_SHAPE, "matmul: shapes %s and %s do not align (%" PRId64
                        " ~= %" PRId64 ")", lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                        lx__shape_str(b->ndim, b->shape, s2, sizeof s2), K, bs[bn - 2]);
  int nb;
  int64_t batch[LX_MAX_DIMS];
  st = lx__broadcast_shapes("matmul", an - 2, as, bn - 2, bs, &nb, batch);
  if (st != LX_OK) {
    /* Name the operands' shapes, not only their batch parts. */
    char b1[LX_SHAPE_STR_MAX], b2[LX_SHAPE_STR_MAX];
    return lx_set_error(LX_ERR_SHAPE, "matmul: shapes %s and %s: batch axes %s and %s "
                        "cannot be broadcast together",
                        lx__shape_str(a->ndim, a->shape, s1, sizeof s1),
                        lx__shape_str(b->ndim, b->shape, s2, sizeof s2),
                        lx__shape_str(an - 2, as, b1, sizeof b1),
                        lx__shape_str(bn - 2, bs, b2, sizeof b2));
  }
  int nd = nb + 2;
  if (nd > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_SHAPE, "matmul: too many dimensions");
  int64_t M = as[an - 2], N = bs[bn - 1];
  lx_array *ca = NULL, *cb = NULL, *va = NULL, *vb = NULL, *r = NULL;
  if ((st = lx_astype(a, dtype, &ca)) != LX_OK) goto done;
  if ((st = lx_astype(b, dtype, &cb)) != LX_OK) goto done;
  /* Views of the converted arrays with the promoted shapes. A converted
  ** copy is contiguous, so recompute its strides from its own shape. */
  if (ca != a) {
    for (int i = 0; i < a->ndim; i++) ast[a->ndim == 1 ? 1 : i] = ca->strides[i];
  }
  if (cb != b) {
    for (int i = 0; i < b->ndim; i++) bst[i] = cb->strides[i];
    if (b->ndim == 1) bst[1] = 0;
  }
  int64_t vas[LX_MAX_DIMS], vast[LX_MAX_DIMS], vbs[LX_MAX_DIMS], vbst[LX_MAX_DIMS];
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (an - 2)), ib = i - (nb - (bn - 2));
    vas[i] = vbs[i] = batch[i];
    vast[i] = (ia >= 0 && as[ia] == batch[i]) ? ast[ia] : 0;
    vbst[i] = (ib >= 0 && bs[ib] == batch[i]) ? bst[ib] : 0;
  }
  vas[nb] = M; vas[nb + 1] = K; vast[nb] = ast[an - 2]; vast[nb + 1] = ast[an - 1];
  vbs[nb] = K; vbs[nb + 1] = N; vbst[nb] = bst[bn - 2]; vbst[nb + 1] = bst[bn - 1];
  if ((st = lx__array_view(ca, nd, vas, vast, ca->offset, &va)) != LX_OK) goto done;
  if ((st = lx__array_view(cb, nd, vbs, vbst, cb->offset, &vb)) != LX_OK) goto done;
  int64_t rs[LX_MAX_DIMS];
  for (int i = 0; i < nb; i++) rs[i] = batch[i];
  rs[nb] = M; rs[nb + 1] = N;
  if ((st = lx_array_empty(lx__op_device(a, b), dtype, nd, rs, &r)) != LX_OK) goto done;
  lx_op o = {.kind = LX_OP_MATMUL, .ninputs = 2, .in = {va, vb}, .out = r};
  if ((st = lx__run(&o)) != LX_OK) goto done;
  /* Drop the axes that vector operands added. */
  int fn = 0;
  int64_t fs[LX_MAX_DIMS];
  for (int i = 0; i < nb; i++) fs[fn++] = batch[i];
  if (a->ndim > 1) fs[fn++] = M;
  if (b->ndim > 1) fs[fn++] = N;
  st = lx_reshape(r, fn, fs, out);
done:
  lx_array_release(ca); lx_array_release(cb);
  lx_array_release(va); lx_array_release(vb);
  lx_array_release(r);
  return st;
}
