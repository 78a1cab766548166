/*
** ops_conv.c — lax.conv_general_dilated's shape rules for the NC.../OI...
** layouts: argument checks, the output shape, dtype promotion; the backend
** convolves (LX_OP_CONV).
*/
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>

/* Largest stride, dilation or |padding| accepted: far beyond any real
** convolution, and small enough that the shape arithmetic below cannot
** overflow int64 (every term stays below 2^62). */
#define CONV_PARAM_MAX ((int64_t)1 << 31)
#define CONV_DIM_MAX ((int64_t)1 << 31)

static lx_status check_positive(const char *what, const int64_t *v, int n) {
  for (int i = 0; v && i < n; i++)
    if (v[i] < 1 || v[i] > CONV_PARAM_MAX)
      return lx_set_error(LX_ERR_ARGUMENT, "conv: %s must be between 1 and 2^31 on every "
                          "spatial axis, got %" PRId64 " on spatial axis %d", what, v[i], i + 1);
  return LX_OK;
}

static lx_status check_padding(const char *what, const int64_t *v, int n) {
  for (int i = 0; v && i < n; i++)
    if (v[i] < -CONV_PARAM_MAX || v[i] > CONV_PARAM_MAX)
      return lx_set_error(LX_ERR_ARGUMENT, "conv: %s %" PRId64 " on spatial axis %d is out "
                          "of range (|padding| <= 2^31)", what, v[i], i + 1);
  return LX_OK;
}

/* A contiguous array of `dtype` with a's values: a itself (retained) when
** it already is one. */
static lx_status as_contiguous(lx_array *a, lx_dtype dtype, lx_array **out) {
  lx_array *c = NULL;
  lx_status st = lx_astype(a, dtype, &c);
  if (st != LX_OK) return st;
  if (lx_array_is_contiguous(c)) {
    *out = c;
    return LX_OK;
  }
  st = lx_copy(c, out);
  lx_array_release(c);
  return st;
}

lx_status lx_conv(lx_array *x, lx_array *w, int nspatial, const int64_t *stride,
                  const int64_t *pad_lo, const int64_t *pad_hi,
                  const int64_t *lhs_dilation, const int64_t *rhs_dilation,
                  int64_t groups, lx_array **out) {
  char s1[LX_SHAPE_STR_MAX], s2[LX_SHAPE_STR_MAX];
  lx_status st = lx__same_device("conv", x, w);
  if (st != LX_OK) return st;
  if (nspatial < 1 || nspatial > LX_MAX_DIMS - 2)
    return lx_set_error(LX_ERR_ARGUMENT, "conv: the number of spatial axes must be between 1 "
                        "and %d, got %d", LX_MAX_DIMS - 2, nspatial);
  int nd = nspatial + 2;
  if (x->ndim != nd)
    return lx_set_error(LX_ERR_SHAPE, "conv: a %d-d convolution needs an input of rank %d "
                        "{N, C_in, %d spatial}, got shape %s (rank %d)", nspatial, nd, nspatial,
                        lx__shape_str(x->ndim, x->shape, s1, sizeof s1), x->ndim);
  if (w->ndim != nd)
    return lx_set_error(LX_ERR_SHAPE, "conv: a %d-d convolution needs a weight of rank %d "
                        "{C_out, C_in/groups, %d kernel}, got shape %s (rank %d)", nspatial, nd,
                        nspatial, lx__shape_str(w->ndim, w->shape, s1, sizeof s1), w->ndim);
  if (!lx_dtype_is_float(x->dtype) || !lx_dtype_is_float(w->dtype))
    return lx_set_error(LX_ERR_DTYPE, "conv: needs floating point arrays, got input %s and "
                        "weight %s (cast with astype first)", lx_dtype_name(x->dtype),
                        lx_dtype_name(w->dtype));
  int64_t cin = x->shape[1], cout = w->shape[0];
  if (groups < 1)
    return lx_set_error(LX_ERR_ARGUMENT, "conv: groups must be >= 1, got %" PRId64, groups);
  if (cin % groups != 0)
    return lx_set_error(LX_ERR_SHAPE, "conv: groups=%" PRId64 " does not divide the input's "
                        "%" PRId64 " channels (input shape %s)", groups, cin,
                        lx__shape_str(x->ndim, x->shape, s1, sizeof s1));
  if (cout % groups != 0)
    return lx_set_error(LX_ERR_SHAPE, "conv: groups=%" PRId64 " does not divide the weight's "
                        "%" PRId64 " output channels (weight shape %s)", groups, cout,
                        lx__shape_str(w->ndim, w->shape, s1, sizeof s1));
  if (w->shape[1] != cin / groups)
    return lx_set_error(LX_ERR_SHAPE, "conv: input has %" PRId64 " channels but weight expects "
                        "%" PRId64 " (groups=%" PRId64 "; input shape %s, weight shape %s)", cin,
                        w->shape[1] * groups, groups,
                        lx__shape_str(x->ndim, x->shape, s1, sizeof s1),
                        lx__shape_str(w->ndim, w->shape, s2, sizeof s2));
  if ((st = check_positive("stride", stride, nspatial)) != LX_OK) return st;
  if ((st = check_positive("lhs_dilation", lhs_dilation, nspatial)) != LX_OK) return st;
  if ((st = check_positive("rhs_dilation", rhs_dilation, nspatial)) != LX_OK) return st;
  if ((st = check_padding("padding (low)", pad_lo, nspatial)) != LX_OK) return st;
  if ((st = check_padding("padding (high)", pad_hi, nspatial)) != LX_OK) return st;

  lx_conv_params p = {.nspatial = nspatial, .groups = groups};
  int64_t shape[LX_MAX_DIMS];
  shape[0] = x->shape[0];
  shape[1] = cout;
  for (int i = 0; i < nspatial; i++) {
    int64_t s = x->shape[2 + i], k = w->shape[2 + i];
    p.stride[i] = stride ? stride[i] : 1;
    p.lhs_dilation[i] = lhs_dilation ? lhs_dilation[i] : 1;
    p.rhs_dilation[i] = rhs_dilation ? rhs_dilation[i] : 1;
    p.pad_lo[i] = pad_lo ? pad_lo[i] : 0;
    int64_t hi = pad_hi ? pad_hi[i] : 0;
    if (k < 1)
      return lx_set_error(LX_ERR_SHAPE, "conv: the weight's kernel is empty along spatial "
                          "axis %d (weight shape %s)", i + 1,
                          lx__shape_str(w->ndim, w->shape, s1, sizeof s1));
    if (s > CONV_DIM_MAX || k > CONV_DIM_MAX)
      return lx_set_error(LX_ERR_SHAPE, "conv: spatial axis %d is longer than 2^31", i + 1);
    int64_t dilated = s > 0 ? (s - 1) * p.lhs_dilation[i] + 1 : 0;
    int64_t padded = p.pad_lo[i] + dilated + hi;
    int64_t window = (k - 1) * p.rhs_dilation[i] + 1;
    if (padded < window)
      return lx_set_error(LX_ERR_SHAPE, "conv: output size would be < 1 on spatial axis %d: "
                          "input %" PRId64 " (%" PRId64 " after lhs_dilation, %" PRId64
                          " after padding %" PRId64 ",%" PRId64 ") is shorter than the kernel "
                          "window %" PRId64 " (size %" PRId64 ", rhs_dilation %" PRId64 ")",
                          i + 1, s, dilated, padded, p.pad_lo[i], hi, window, k,
                          p.rhs_dilation[i]);
    shape[2 + i] = (padded - window) / p.stride[i] + 1;
  }

  lx_dtype dtype = lx_dtype_promote(x->dtype, w->dtype);
  /* No input channels or an empty input axis that padding keeps alive:
  ** every sum is empty. Backends never see empty operands. */
  if (x->size == 0 || w->size == 0)
    return lx_full(lx__op_device(x, w), dtype, nd, shape, 0.0, out);
  lx_array *cx = NULL, *cw = NULL, *r = NULL;
  if ((st = as_contiguous(x, dtype, &cx)) != LX_OK) goto done;
  if ((st = as_contiguous(w, dtype, &cw)) != LX_OK) goto done;
  if ((st = lx_array_empty(lx__op_device(x, w), dtype, nd, shape, &r)) != LX_OK) goto done;
  lx_op o = {.kind = LX_OP_CONV, .ninputs = 2, .in = {cx, cw}, .out = r, .p.conv = &p};
  if ((st = lx__run(&o)) != LX_OK) goto done;
  *out = r;
  r = NULL;
done:
  lx_array_release(cx);
  lx_array_release(cw);
  lx_array_release(r);
  return st;
}
