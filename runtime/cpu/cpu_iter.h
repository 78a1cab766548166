/*
** cpu_iter.h — walking strided operands of one shape in the CPU kernels.
**
** The outer axes are walked with a counter; the innermost axis is handed to
** a loop function as (count, pointers, byte strides) so that loops over
** contiguous data are plain C loops the compiler vectorises. Adjacent axes
** that are contiguous in every operand are merged first (lx__merge_axes),
** so a contiguous array of any rank is one inner loop.
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
  it->nops = nops;
  it->ndim = lx__merge_axes(nops, ops, it->shape, it->strides);
  for (int k = 0; k < nops; k++) {
    int64_t item = (int64_t)lx_dtype_size(ops[k]->dtype);
    it->base[k] = lx__cpu_base(ops[k]);
    for (int d = 0; d < it->ndim; d++) it->strides[k][d] *= item; /* to bytes */
  }
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
