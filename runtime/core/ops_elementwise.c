/*
** ops_elementwise.c — unary, binary, where and astype: dtype rules and
** broadcasting here; the arithmetic is the backend's.
*/
#include "internal.h"

#include <math.h>
#include <string.h>

static const char *unary_names[LX_UNARY_COUNT] = {
  "neg", "exp", "log", "sqrt", "abs", "tanh", "sin", "cos", "sigmoid", "logical_not",
  "erf", "erf_inv"};
static const char *binary_names[LX_BINARY_COUNT] = {
  "add", "sub", "mul", "div", "pow", "maximum", "minimum",
  "eq", "ne", "lt", "le", "gt", "ge"};

const char *lx_unary_op_name(lx_unary_op op) {
  return (unsigned)op < LX_UNARY_COUNT ? unary_names[op] : "invalid";
}
const char *lx_binary_op_name(lx_binary_op op) {
  return (unsigned)op < LX_BINARY_COUNT ? binary_names[op] : "invalid";
}

static bool is_comparison(lx_binary_op op) { return op >= LX_EQ && op <= LX_GE; }

/* Returns `a` converted to `dtype` (a new reference either way). */
static lx_status as_dtype(lx_array *a, lx_dtype dtype, lx_array **out) {
  if (a->dtype == dtype) { *out = lx_array_retain(a); return LX_OK; }
  return lx_astype(a, dtype, out);
}

static lx_status new_like_shape(lx_device *dev, lx_dtype dtype, int ndim,
                                const int64_t *shape, lx_array **out) {
  return lx_array_empty(dev, dtype, ndim, shape, out);
}

lx_status lx_astype(lx_array *a, lx_dtype dtype, lx_array **out) {
  if ((unsigned)dtype >= LX_DTYPE_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "astype: invalid dtype %d", (int)dtype);
  if (a->dtype == dtype) { *out = lx_array_retain(a); return LX_OK; }
  lx_array *r;
  lx_status st = new_like_shape(a->buffer->device, dtype, a->ndim, a->shape, &r);
  if (st != LX_OK) return st;
  lx_op op = {.kind = LX_OP_CONVERT, .ninputs = 1, .in = {a}, .out = r};
  st = lx__run(&op);
  if (st != LX_OK) { lx_array_release(r); return st; }
  *out = r;
  return LX_OK;
}

lx_status lx_copy(lx_array *a, lx_array **out) {
  lx_array *r;
  lx_status st = new_like_shape(a->buffer->device, a->dtype, a->ndim, a->shape, &r);
  if (st != LX_OK) return st;
  lx_op op = {.kind = LX_OP_CONVERT, .ninputs = 1, .in = {a}, .out = r};
  st = lx__run(&op);
  if (st != LX_OK) { lx_array_release(r); return st; }
  *out = r;
  return LX_OK;
}

/* ------------------------------------------------------------------ unary */

/* The dtype an op computes in: transcendental functions of integers and
** booleans give float32, as jnp.exp(int) does. */
static lx_status unary_dtype(lx_unary_op op, lx_dtype in, lx_dtype *compute) {
  switch (op) {
    case LX_NEG:
      if (in == LX_BOOL)
        return lx_set_error(LX_ERR_DTYPE, "neg: not defined for bool arrays (use "
                            "lx.logical_not)");
      *compute = in;
      return LX_OK;
    case LX_ABS: case LX_LOGICAL_NOT:
      *compute = in;
      return LX_OK;
    default:
      *compute = lx_dtype_is_float(in) ? in : LX_FLOAT32;
      return LX_OK;
  }
}

lx_status lx_unary(lx_unary_op op, lx_array *a, lx_array **out) {
  if ((unsigned)op >= LX_UNARY_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "unary: invalid op %d", (int)op);
  lx_dtype compute = a->dtype;
  lx_status st = unary_dtype(op, a->dtype, &compute);
  if (st != LX_OK) return st;
  lx_array *x;
  if ((st = as_dtype(a, compute, &x)) != LX_OK) return st;
  lx_array *r;
  lx_dtype out_dtype = op == LX_LOGICAL_NOT ? LX_BOOL : compute;
  st = new_like_shape(a->buffer->device, out_dtype, a->ndim, a->shape, &r);
  if (st == LX_OK) {
    lx_op o = {.kind = LX_OP_UNARY, .code = op, .ninputs = 1, .in = {x}, .out = r};
    st = lx__run(&o);
    if (st != LX_OK) lx_array_release(r);
    else *out = r;
  }
  lx_array_release(x);
  return st;
}

/* ----------------------------------------------------------------- binary */

static lx_status binary_dtype(lx_binary_op op, lx_dtype promoted, lx_dtype *compute,
                              lx_dtype *result) {
  *compute = promoted;
  *result = promoted;
  if (is_comparison(op)) { *result = LX_BOOL; return LX_OK; }
  if (promoted == LX_BOOL && (op == LX_SUB || op == LX_POW))
    return lx_set_error(LX_ERR_DTYPE, "%s: not defined for bool arrays",
                        lx_binary_op_name(op));
  if (op == LX_DIV && !lx_dtype_is_float(promoted)) {
    /* True division, as Python's / and jnp.divide. */
    *compute = *result = LX_FLOAT32;
  }
  return LX_OK;
}

/* `a` viewed with the result's shape; `a` itself when it already has it
** (the common case, and one header fewer per op). */
static lx_status broadcast_operand(lx_array *a, int ndim, const int64_t *shape,
                                   lx_array **out) {
  if (a->ndim == ndim && memcmp(a->shape, shape, (size_t)ndim * sizeof *shape) == 0) {
    *out = lx_array_retain(a);
    return LX_OK;
  }
  return lx_broadcast_to(a, ndim, shape, out);
}

/* Inputs already have the compute dtype; broadcasts and runs. */
static lx_status binary_run(lx_binary_op op, lx_array *x, lx_array *y,
                            lx_dtype result_dtype, lx_array **out) {
  const char *fn = lx_binary_op_name(op);
  lx_status st = lx__same_device(fn, x, y);
  if (st != LX_OK) return st;
  int ndim;
  int64_t shape[LX_MAX_DIMS];
  st = lx__broadcast_shapes(fn, x->ndim, x->shape, y->ndim, y->shape, &ndim, shape);
  if (st != LX_OK) return st;
  lx_array *bx = NULL, *by = NULL, *r = NULL;
  if ((st = broadcast_operand(x, ndim, shape, &bx)) != LX_OK) goto done;
  if ((st = broadcast_operand(y, ndim, shape, &by)) != LX_OK) goto done;
  if ((st = new_like_shape(lx__op_device(x, y), result_dtype, ndim, shape, &r)) != LX_OK)
    goto done;
  lx_op o = {.kind = LX_OP_BINARY, .code = op, .ninputs = 2, .in = {bx, by}, .out = r};
  st = lx__run(&o);
  if (st == LX_OK) { *out = r; r = NULL; }
done:
  lx_array_release(bx);
  lx_array_release(by);
  lx_array_release(r);
  return st;
}

lx_status lx_binary(lx_binary_op op, lx_array *a, lx_array *b, lx_array **out) {
  if ((unsigned)op >= LX_BINARY_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "binary: invalid op %d", (int)op);
  lx_dtype compute, result;
  lx_status st = binary_dtype(op, lx_dtype_promote(a->dtype, b->dtype), &compute, &result);
  if (st != LX_OK) return st;
  lx_array *x = NULL, *y = NULL;
  if ((st = as_dtype(a, compute, &x)) == LX_OK && (st = as_dtype(b, compute, &y)) == LX_OK)
    st = binary_run(op, x, y, result, out);
  lx_array_release(x);
  lx_array_release(y);
  return st;
}

lx_status lx_binary_scalar(lx_binary_op op, lx_array *a, double scalar,
                           bool scalar_first, lx_array **out) {
  if ((unsigned)op >= LX_BINARY_COUNT)
    return lx_set_error(LX_ERR_ARGUMENT, "binary: invalid op %d", (int)op);
  /* A Lua number is weakly typed, like a Python scalar in JAX: it takes the
  ** array's dtype unless that would lose its kind. */
  /* Integral numbers beyond int64 count as floats, except beside a uint64
  ** array, which holds them up to 2^64. */
  double int_limit = a->dtype == LX_UINT64 ? 18446744073709551616.0 : 9.3e18;
  bool integral = scalar == floor(scalar) && fabs(scalar) < int_limit;
  lx_dtype sdtype;
  if (lx_dtype_is_float(a->dtype)) sdtype = a->dtype;
  else if (!integral) sdtype = LX_FLOAT32;
  else if (a->dtype == LX_BOOL) sdtype = LX_INT32;
  else {
    if (!lx_dtype_holds(a->dtype, scalar))
      return lx_set_error(LX_ERR_ARGUMENT, "%s: the number %.17g does not fit the array's "
                          "dtype %s", lx_binary_op_name(op), scalar, lx_dtype_name(a->dtype));
    sdtype = a->dtype;
  }
  lx_dtype compute, result;
  lx_status st = binary_dtype(op, lx_dtype_promote(a->dtype, sdtype), &compute, &result);
  if (st != LX_OK) return st;
  lx_array *s = NULL, *x = NULL;
  st = integral && !lx_dtype_is_float(compute) && fabs(scalar) < 9.2e18
           ? lx_scalar_int64(a->buffer->device, compute, (int64_t)scalar, &s)
           : lx_scalar(a->buffer->device, compute, scalar, &s);
  if (st == LX_OK && (st = as_dtype(a, compute, &x)) == LX_OK)
    st = scalar_first ? binary_run(op, s, x, result, out) : binary_run(op, x, s, result, out);
  lx_array_release(s);
  lx_array_release(x);
  return st;
}

/* ------------------------------------------------------------------ where */

lx_status lx_where(lx_array *cond, lx_array *x, lx_array *y, lx_array **out) {
  lx_status st;
  if ((st = lx__same_device("where", cond, x)) != LX_OK) return st;
  if ((st = lx__same_device("where", cond, y)) != LX_OK) return st;
  int n1, n2;
  int64_t s1[LX_MAX_DIMS], s2[LX_MAX_DIMS];
  if ((st = lx__broadcast_shapes("where", x->ndim, x->shape, y->ndim, y->shape, &n1, s1)) != LX_OK)
    return st;
  if ((st = lx__broadcast_shapes("where", cond->ndim, cond->shape, n1, s1, &n2, s2)) != LX_OK)
    return st;
  lx_dtype dtype = lx_dtype_promote(x->dtype, y->dtype);
  lx_array *c = NULL, *cx = NULL, *cy = NULL, *bc = NULL, *bx = NULL, *by = NULL, *r = NULL;
  if ((st = as_dtype(cond, LX_BOOL, &c)) != LX_OK) goto done;
  if ((st = as_dtype(x, dtype, &cx)) != LX_OK) goto done;
  if ((st = as_dtype(y, dtype, &cy)) != LX_OK) goto done;
  if ((st = broadcast_operand(c, n2, s2, &bc)) != LX_OK) goto done;
  if ((st = broadcast_operand(cx, n2, s2, &bx)) != LX_OK) goto done;
  if ((st = broadcast_operand(cy, n2, s2, &by)) != LX_OK) goto done;
  lx_device *dev = lx_array_is_abstract(cond) ? lx__op_device(cond, NULL) : lx__op_device(x, y);
  if ((st = new_like_shape(dev, dtype, n2, s2, &r)) != LX_OK) goto done;
  lx_op o = {.kind = LX_OP_WHERE, .ninputs = 3, .in = {bc, bx, by}, .out = r};
  st = lx__run(&o);
  if (st == LX_OK) { *out = r; r = NULL; }
done:
  lx_array_release(c); lx_array_release(cx); lx_array_release(cy);
  lx_array_release(bc); lx_array_release(bx); lx_array_release(by);
  lx_array_release(r);
  return st;
}
