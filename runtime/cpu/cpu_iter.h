/*
** cpu_iter.h — walking strided operands of one shape in the CPU kernels.
**
** The outer axes are walked with a counter; the innermost axis is handed to
** a loop function as (count, pointers, byte strides) so that loops over
** contiguous data are plain C loops the compiler vectorises. Adjacent axes
** that are contiguous in every operand are merged first, so a contiguous
** array of any rank is one inner loop.
*/
#ifndef LX_CPU_ITER_H
#define LX_CPU_ITER_H

#include "internal.h"

#define LX_ITER_MAX_OPERANDS 4

typedef struct lx_iter {
  int nops;
  int ndim;                                   /* after merging; >= 1 */
  int64_t shape[LX_MAX_DIMS];
  int64_t strides[LX_ITER_MAX_OPERANDS][LX_MAX_DIMS]; /* bytes */
  char *base[LX_ITER_MAX_OPERANDS];
} lx_iter;

/* Inner loop: n elements; p[k] and s[k] (bytes) for each operand. */
typedef void (*lx_loop_fn)(int64_t n, char **p, const int64_t *s, void *ctx);

/* Address of element 0 of an array on the CPU backend. */
static inline char *lx__cpu_base(const lx_array *a) {
  return (char *)a->buffer->handle + (size_t)a->offset * lx_dtype_size(a->dtype);
}

/* Operands share `ops[0]`'s shape (the output's). */
static inline void lx__iter_init(lx_iter *it, int nops, const lx_array *const *ops) {
  const lx_array *o = ops[0];
  it->nops = nops;
  for (int k = 0; k < nops; k++) it->base[k] = lx__cpu_base(ops[k]);
  int nd = 0;
  /* Drop size-1 axes, then merge an axis into the previous one when
  ** every operand is contiguous across the pair. */
  for (int i = 0; i < o->ndim; i++) {
    if (o->shape[i] == 1) continue;
    if (nd > 0) {
      bool merge = true;
      for (int k = 0; k < nops && merge; k++) {
        int64_t item = (int64_t)lx_dtype_size(ops[k]->dtype);
        merge = it->strides[k][nd - 1] == ops[k]->strides[i] * item * o->shape[i];
      }
      if (merge) {
        it->shape[nd - 1] *= o->shape[i];
        for (int k = 0; k < nops; k++)
          it->strides[k][nd - 1] = ops[k]->strides[i] * (int64_t)lx_dtype_size(ops[k]->dtype);
        continue;
      }
    }
    it->shape[nd] = o->shape[i];
    for (int k = 0; k < nops; k++)
      it->strides[k][nd] = ops[k]->strides[i] * (int64_t)lx_dtype_size(ops[k]->dtype);
    nd++;
  }
  if (nd == 0) { /* a scalar, or all axes of size 1 */
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
    nd = 1;
  }
  it->ndim = nd;
}

static inline void lx__iter_run(const lx_iter *it, lx_loop_fn fn, void *ctx) {
  int nd = it->ndim, nops = it->nops;
  /* An empty axis means no work (and the counter below would never wrap). */
  for (int d = 0; d < nd; d++)
    if (it->shape[d] == 0) return;
  int64_t inner = it->shape[nd - 1];
  int64_t s[LX_ITER_MAX_OPERANDS];
  char *p[LX_ITER_MAX_OPERANDS];
  for (int k = 0; k < nops; k++) s[k] = it->strides[k][nd - 1];
  int64_t idx[LX_MAX_DIMS] = {0};
  for (;;) {
    for (int k = 0; k < nops; k++) {
      p[k] = it->base[k];
      for (int d = 0; d < nd - 1; d++) p[k] += idx[d] * it->strides[k][d];
    }
    fn(inner, p, s, ctx);
    int d = nd - 2;
    while (d >= 0 && ++idx[d] == it->shape[d]) idx[d--] = 0;
    if (d < 0) break;
  }
}

#endif
