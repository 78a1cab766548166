/*
** vk_reduce_matmul.c — reductions and matrix products on Vulkan: layouts
** collapsed on the host, work split into dispatches of
** shaders/reduce.comp and shaders/matmul.comp.
**
** Pipelines: these two families keep their own table per device (filled on
** first use, like vk_pipelines.c's, with the shared pipeline layout and
** cache), so that the elementwise pipeline code needs no changes. Devices
** live until the process exits, and so do their pipelines.
**
** Layouts: axes are merged where memory allows; up to 3 kept + 3 reduced
** axes (reduce) or 3 batch axes (matmul) travel in the push constants, and
** layouts with more go to the shader as a small int buffer at binding 3.
** The one limit (as for the elementwise kernels): positions are 32-bit
** signed in the shaders, so every element an operand can reach must lie
** below 2^31.
*/
#include "vk_reduce_matmul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INDEX ((int64_t)INT32_MAX)
/* Workgroups per dispatch; the shaders loop over any further tiles. */
#define MAX_GROUPS 65535u
/* K advances this many elements per shared-memory stage (matmul.comp's
** constant 2): 16 for 4-byte accumulators, 8 for 8-byte ones (float64,
** int64), which keeps the two staged tiles of a 256-thread group at about
** 8.5 KiB either way, well inside the 16 KiB of shared memory Vulkan
** guarantees. */
#define MATMUL_TILE_K_BYTES 64u

/* ------------------------------------------------------------ pipelines */

typedef struct rm_pipelines {
  VkPipeline reduce[LX_DTYPE_COUNT][LX_REDUCE_COUNT];
  VkPipeline matmul[LX_DTYPE_COUNT];
} rm_pipelines;

/* The device's table (lx_vk_table); every caller holds the device's lock. */
static rm_pipelines *table_for(lx_vk_device *d) {
  return lx_vk_table(d, LX_VK_TABLE_REDUCE_MATMUL, sizeof(rm_pipelines));
}

/* ---------------------------------------------------------------- common */

/* Largest power of two <= n (n >= 1). */
static uint32_t floor_pow2(uint32_t n) {
  uint32_t p = 1;
  while (p <= n / 2) p *= 2;
  return p;
}

/* Smallest power of two >= n, capped at cap (a power of two). */
static uint32_t ceil_pow2(int64_t n, uint32_t cap) {
  uint32_t p = 1;
  while (p < cap && (int64_t)p < n) p *= 2;
  return p;
}

static int log2_u32(uint32_t p) {
  int l = 0;
  while (p > 1) { p >>= 1; l++; }
  return l;
}

/* Checks that every element reachable from `offset` through shape/strides
** has a position in [0, 2^31), the shaders' int arithmetic. */
static lx_status check_reach(const char *fn, int64_t offset, int n, const int64_t *shape,
                             const int64_t *strides) {
  int64_t lo = offset, hi = offset;
  for (int i = 0; i < n; i++) {
    if (shape[i] == 0) return LX_OK; /* no elements: nothing is read */
    if (strides[i] > MAX_INDEX || strides[i] < -MAX_INDEX || shape[i] > MAX_INDEX)
      return lx_set_error(LX_ERR_SHAPE, "%s: stride or extent too large for vulkan kernels "
                          "(they index with 32-bit integers)", fn);
    int64_t span = (shape[i] - 1) * strides[i];
    if (span < 0) lo += span; else hi += span;
  }
  if (lo < 0 || hi > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "%s: the array reaches elements beyond 2^31-1, which "
                        "vulkan kernels cannot index", fn);
  return LX_OK;
}

/* A small buffer of int32 words that a shader reads its layout from when
** the layout does not fit the push constants. The caller frees it with
** lx_vk_alloc_free once the dispatch is recorded (the free waits for the
** GPU). */
lx_status lx_vk_upload_words(lx_vk_device *d, const int32_t *words, size_t n,
                             lx_vk_alloc **out) {
  size_t bytes = n * sizeof *words;
  lx_vk_alloc *a;
  lx_status st = lx_vk_alloc_new(d, bytes, &a);
  if (st != LX_OK) return st;
  /* A new allocation has no pending work: write it directly when mapped. */
  if (d->arena.host_visible) {
    memcpy((char *)a->block->mapped + a->offset, words, bytes);
  } else {
    st = lx_vk_staging_reserve(d, bytes);
    if (st == LX_OK) {
      memcpy(d->arena.staging_mapped, words, bytes);
      st = lx_vk_record_copy(d, d->arena.staging_buffer, 0, a->block->buffer, a->offset, bytes,
                             NULL, a);
    }
    /* The staging buffer is reused by the next transfer: finish now. */
    if (st == LX_OK) st = lx_vk_wait(d, lx_vk_current_serial(d));
    if (st != LX_OK) {
      lx_vk_alloc_free(d, a);
      return st;
    }
  }
  *out = a;
  return LX_OK;
}

/* A list of axes (extents and strides in elements), outermost first. */
typedef struct axis_list {
  int n;
  int64_t shape[LX_MAX_DIMS];
  int64_t stride[LX_MAX_DIMS];
} axis_list;

/* Appends an axis, merged into the previous one when the two nested loops
** walk memory as one loop would (same positions, same order). */
static void axis_push(axis_list *l, int64_t shape, int64_t stride) {
  int k = l->n - 1;
  if (k >= 0 && l->stride[k] == stride * shape) {
    l->shape[k] *= shape;
    l->stride[k] = stride;
    return;
  }
  l->shape[l->n] = shape;
  l->stride[l->n] = stride;
  l->n++;
}

/* The smallest non-zero |stride| of a list, INT64_MAX when none: the axis
** a warp should walk for contiguous reads. */
static int64_t tightest(const axis_list *l) {
  int64_t best = INT64_MAX;
  for (int i = 0; i < l->n; i++) {
    int64_t s = l->stride[i] < 0 ? -l->stride[i] : l->stride[i];
    if (s != 0 && s < best) best = s;
  }
  return best;
}

/* Writes an axis list into the shaders' 3-entry form, innermost axis last
** (in entry 2), unused entries extent 1 and stride 0. */
static void axes_to_push(const axis_list *l, uint32_t shape[4], int32_t stride[4]) {
  for (int i = 0; i < 4; i++) { shape[i] = 1; stride[i] = 0; }
  for (int i = 0; i < l->n; i++) {
    int at = 3 - l->n + i;
    shape[at] = (uint32_t)l->shape[i];
    stride[at] = (int32_t)l->stride[i];
  }
}

/* --------------------------------------------------------------- reduce */

/* shaders/reduce.comp's push constants. */
typedef struct rd_push {
  uint32_t nout, count, chunk, nsplit, mode, tpo_log2, out_major, in_offset;
  uint32_t kshape[4];
  int32_t kstride[4];
  uint32_t rshape[4];
  int32_t rstride[4];
  uint32_t out_offset, general, pad[2];
} rd_push;
_Static_assert(sizeof(rd_push) == 112, "reduce push constants: 112 bytes");

enum { MODE_DIRECT = 0, MODE_PARTIAL = 1, MODE_FINISH = 2 };

/* Splitting: when a reduction would occupy fewer than SPLIT_BELOW
** workgroups and each thread would fold more than SPLIT_ABOVE elements, it
** runs in two dispatches, the first with about SPLIT_TARGET groups but
** never fewer than SPLIT_KEEP elements per thread. */
#define SPLIT_BELOW 64
#define SPLIT_TARGET 256
#define SPLIT_ABOVE 64
#define SPLIT_KEEP 16
/* Bytes per partial accumulator (a uvec4). */
#define PARTIAL_BYTES 16

/* How a dispatch maps threads to outputs (see reduce.comp). */
typedef struct rd_plan {
  uint32_t tpo;       /* threads per output */
  bool out_major;
  uint32_t per_group; /* outputs per workgroup */
} rd_plan;

static rd_plan plan_threads(uint32_t wg, int64_t nout, int64_t count, bool kept_tighter) {
  rd_plan p;
  if (kept_tighter && nout > 1) {
    /* A warp walks the kept axis: as many outputs per group as there are,
    ** the remaining threads share each output's elements. */
    uint32_t outs = ceil_pow2(nout, wg);
    p.tpo = ceil_pow2(count, wg / outs);
    p.out_major = true;
  } else {
    /* A warp walks the reduced axis. With many outputs, aim at some 32
    ** elements per thread: the tree's barriers cost more than folding
    ** (measured on lavapipe: 2x for 2048 sums of 2048). */
    int64_t per_thread = nout >= 256 ? 32 : 1;
    p.tpo = ceil_pow2((count + per_thread - 1) / per_thread, wg);
    p.out_major = false;
  }
  p.per_group = wg / p.tpo;
  return p;
}

static void plan_push(rd_push *pc, const rd_plan *p) {
  pc->tpo_log2 = (uint32_t)log2_u32(p->tpo);
  pc->out_major = p->out_major ? 1u : 0u;
}

static uint32_t group_count(int64_t units, uint32_t per_group) {
  int64_t g = (units + per_group - 1) / per_group;
  if (g < 1) g = 1;
  return g > MAX_GROUPS ? MAX_GROUPS : (uint32_t)g;
}

/* Records the reduction described by pc (layout filled in): one dispatch,
** or two through partial accumulators when the work would otherwise sit on
** a few workgroups. */
static lx_status reduce_dispatches(lx_vk_device *d, VkPipeline pipeline, rd_push *pc,
                                   uint32_t wg, bool kept_tighter, lx_vk_alloc *out,
                                   lx_vk_alloc *in, lx_vk_alloc *layout) {
  int64_t nout = pc->nout, count = pc->count;
  rd_plan plan = plan_threads(wg, nout, count, kept_tighter);
  plan_push(pc, &plan);
  uint32_t groups = group_count(nout, plan.per_group);
  int64_t per_thread = (count + plan.tpo - 1) / plan.tpo;
  int64_t nsplit = 1;
  if (groups < SPLIT_BELOW && per_thread > SPLIT_ABOVE) {
    nsplit = (SPLIT_TARGET + groups - 1) / groups;
    if (nsplit > per_thread / SPLIT_KEEP) nsplit = per_thread / SPLIT_KEEP;
  }
  if (nsplit < 2) {
    pc->mode = MODE_DIRECT;
    lx_vk_alloc *b[4] = {out, in, in, layout};
    return lx_vk_record_dispatch(d, pipeline, 4, b, pc, sizeof *pc, groups);
  }

  /* Two passes through a buffer of nout x nsplit partial accumulators,
  ** split-major (partial u = split * nout + output). */
  int64_t chunk = (count + nsplit - 1) / nsplit;
  nsplit = (count + chunk - 1) / chunk;
  lx_vk_alloc *partial;
  lx_status st = lx_vk_alloc_new(d, (size_t)(nout * nsplit * PARTIAL_BYTES), &partial);
  if (st != LX_OK) return st;
  pc->mode = MODE_PARTIAL;
  pc->chunk = (uint32_t)chunk;
  pc->nsplit = (uint32_t)nsplit;
  /* Units are (split, output) pairs of `chunk` elements each. */
  rd_plan part = plan_threads(wg, nout * nsplit, chunk, kept_tighter);
  plan_push(pc, &part);
  lx_vk_alloc *b1[4] = {partial, in, in, layout};
  st = lx_vk_record_dispatch(d, pipeline, 4, b1, pc, sizeof *pc,
                             group_count(nout * nsplit, part.per_group));
  if (st == LX_OK) {
    /* The partials of one output lie nout apart: a kept axis of stride 1
    ** and a reduced one of stride nout, planned like any reduction. */
    rd_plan fin = plan_threads(wg, nout, nsplit, nout > 1);
    plan_push(pc, &fin);
    pc->mode = MODE_FINISH;
    lx_vk_alloc *b2[4] = {out, partial, partial, layout};
    st = lx_vk_record_dispatch(d, pipeline, 4, b2, pc, sizeof *pc,
                               group_count(nout, fin.per_group));
  }
  lx_vk_alloc_free(d, partial); /* deferred until the GPU is done with it */
  return st;
}

lx_status lx_vk_run_reduce(lx_vk_device *d, const lx_op *op) {
  const lx_array *x = op->in[0];
  lx_array *o = op->out;
  int code = op->code;
  if (code < 0 || code >= LX_REDUCE_COUNT || (unsigned)x->dtype >= LX_DTYPE_COUNT)
    return lx_set_error(LX_ERR_INTERNAL, "reduce: invalid op %d or dtype %d", code,
                        (int)x->dtype);
  const char *fn = lx_reduce_op_name((lx_reduce_op)code);
  bool arg = code == LX_ARGMAX || code == LX_ARGMIN;
  bool sumlike = code == LX_SUM || code == LX_MEAN;
  /* The core casts first: sums never see uint8/uint16/bool, means only
  ** floats. */
  bool kernel = o->dtype == (arg ? LX_INT64 : x->dtype) && o->ndim == x->ndim &&
                !(sumlike && (x->dtype == LX_UINT8 || x->dtype == LX_UINT16 ||
                              x->dtype == LX_BOOL)) &&
                !(code == LX_MEAN && !lx_dtype_is_float(x->dtype));
  if (!kernel)
    return lx_set_error(LX_ERR_INTERNAL, "%s of %s into %s is not a vulkan kernel", fn,
                        lx_dtype_name(x->dtype), lx_dtype_name(o->dtype));
  if (o->size == 0) return LX_OK;
  lx_status st = lx_vk_check_dtype(d, x->dtype, fn);
  if (st != LX_OK) return st;

  /* Kept axes (one output each, in output order) and reduced axes, size-1
  ** axes dropped, neighbours merged where memory allows. */
  axis_list kept = {0}, red = {0};
  int64_t count = 1;
  int order[LX_MAX_DIMS], nred = 0;
  for (int i = 0; i < x->ndim; i++) {
    bool reduced = (op->p.reduce.axes_mask >> i) & 1;
    if (reduced) count *= x->shape[i];
    if (x->shape[i] == 1) continue;
    if (reduced) order[nred++] = i;
    else axis_push(&kept, x->shape[i], x->strides[i]);
  }
  /* Sums and extremes do not care in which order the reduced axes are
  ** walked: largest stride first lets more of them merge. An arg op's index
  ** counts along its one axis, so its order stays. */
  if (!arg) {
    for (int i = 1; i < nred; i++)
      for (int j = i; j > 0; j--) {
        int64_t a = llabs(x->strides[order[j - 1]]), b = llabs(x->strides[order[j]]);
        if (b <= a) break;
        int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
      }
  }
  for (int i = 0; i < nred; i++) axis_push(&red, x->shape[order[i]], x->strides[order[i]]);
  if (arg && red.n > 1)
    return lx_set_error(LX_ERR_INTERNAL, "%s: reduces one axis at a time", fn);
  int64_t nout = o->size;
  if (count > MAX_INDEX || nout > MAX_INDEX || o->offset > MAX_INDEX - nout)
    return lx_set_error(LX_ERR_SHAPE, "%s: vulkan reductions take at most 2^31-1 elements "
                        "per output and outputs in all", fn);
  if ((st = check_reach(fn, x->offset, x->ndim, x->shape, x->strides)) != LX_OK) return st;

  rm_pipelines *t = table_for(d);
  if (!t) return LX_ERR_INTERNAL;
  uint32_t wg = floor_pow2(d->workgroup_size);
  VkPipeline *slot = &t->reduce[x->dtype][code];
  if (!*slot) {
    char name[32];
    snprintf(name, sizeof name, "reduce_%s", lx_vk_dtype_token(x->dtype));
    int32_t spec[2] = {(int32_t)wg, code};
    if ((st = lx_vk_make_pipeline(d, name, spec, 2, slot)) != LX_OK) return st;
  }

  rd_push pc;
  memset(&pc, 0, sizeof pc);
  pc.nout = (uint32_t)nout;
  pc.count = (uint32_t)count;
  pc.chunk = (uint32_t)count;
  pc.nsplit = 1;
  pc.in_offset = (uint32_t)x->offset;
  pc.out_offset = (uint32_t)o->offset;
  lx_vk_alloc *in = x->buffer->handle, *out = o->buffer->handle;
  /* Binding 3 is always bound (the shader uses it statically): the layout
  ** buffer, or else the input's buffer again, never read. */
  lx_vk_alloc *layout = NULL;
  if (kept.n <= 3 && red.n <= 3) {
    axes_to_push(&kept, pc.kshape, pc.kstride);
    axes_to_push(&red, pc.rshape, pc.rstride);
  } else {
    int32_t words[2 + 4 * LX_MAX_DIMS];
    size_t n = 0;
    words[n++] = kept.n;
    words[n++] = red.n;
    for (int i = 0; i < kept.n; i++) words[n++] = (int32_t)kept.shape[i];
    for (int i = 0; i < kept.n; i++) words[n++] = (int32_t)kept.stride[i];
    for (int i = 0; i < red.n; i++) words[n++] = (int32_t)red.shape[i];
    for (int i = 0; i < red.n; i++) words[n++] = (int32_t)red.stride[i];
    if ((st = lx_vk_upload_words(d, words, n, &layout)) != LX_OK) return st;
    pc.general = 1;
  }
  st = reduce_dispatches(d, *slot, &pc, wg, tightest(&kept) < tightest(&red), out, in,
                         layout ? layout : in);
  if (layout) lx_vk_alloc_free(d, layout);
  return st;
}

/* --------------------------------------------------------------- matmul */

/* shaders/matmul.comp's push constants. */
typedef struct mm_push {
  uint32_t M, N, K, batches, tiles_m, tiles_n, flags, c_offset;
  uint32_t bshape[4];
  int32_t a_stride[4], b_stride[4];
  int32_t mat_stride[4]; /* A rows, A columns, B rows, B columns */
  uint32_t a_offset, b_offset, pad0, pad1;
} mm_push;
_Static_assert(sizeof(mm_push) == 112, "matmul push constants: 112 bytes");

lx_status lx_vk_run_matmul(lx_vk_device *d, const lx_op *op) {
  const lx_array *A = op->in[0], *B = op->in[1];
  lx_array *C = op->out;
  int nd = C->ndim;
  if (nd < 2 || A->ndim != nd || B->ndim != nd || A->dtype != C->dtype ||
      B->dtype != C->dtype || C->dtype == LX_BOOL || (unsigned)C->dtype >= LX_DTYPE_COUNT)
    return lx_set_error(LX_ERR_INTERNAL, "matmul: operands do not match the vulkan kernel's "
                        "contract");
  if (C->size == 0) return LX_OK;
  lx_status st = lx_vk_check_dtype(d, C->dtype, "matmul");
  if (st != LX_OK) return st;
  int64_t M = C->shape[nd - 2], N = C->shape[nd - 1], K = A->shape[nd - 1];
  /* The kernel writes C row-major, batch after batch. */
  int64_t expect = 1;
  for (int i = nd - 1; i >= 0; i--) {
    if (C->shape[i] != 1 && C->strides[i] != expect)
      return lx_set_error(LX_ERR_INTERNAL, "matmul: the vulkan kernel needs a contiguous "
                          "result");
    expect *= C->shape[i];
  }
  if (C->size > MAX_INDEX || C->offset > MAX_INDEX - C->size || K > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "matmul: vulkan kernels take results of at most 2^31-1 "
                        "elements and K below 2^31");
  if ((st = check_reach("matmul", A->offset, nd, A->shape, A->strides)) != LX_OK) return st;
  if ((st = check_reach("matmul", B->offset, nd, B->shape, B->strides)) != LX_OK) return st;

  /* Batch axes: size-1 ones dropped, neighbours merged when they are one
  ** run in A, in B and in C (C's always are: it is contiguous). */
  int nb = 0;
  int64_t bshape[LX_MAX_DIMS], bsa[LX_MAX_DIMS], bsb[LX_MAX_DIMS];
  for (int i = 0; i < nd - 2; i++) {
    int64_t n = C->shape[i], sa = A->strides[i], sb = B->strides[i];
    if (n == 1) continue;
    if (nb > 0 && bsa[nb - 1] == sa * n && bsb[nb - 1] == sb * n) {
      bshape[nb - 1] *= n;
      bsa[nb - 1] = sa;
      bsb[nb - 1] = sb;
      continue;
    }
    bshape[nb] = n;
    bsa[nb] = sa;
    bsb[nb] = sb;
    nb++;
  }

  rm_pipelines *t = table_for(d);
  if (!t) return LX_ERR_INTERNAL;
  /* 16 threads along N, the rest along M: 256 threads give 64 x 64 tiles. */
  uint32_t wg = floor_pow2(d->workgroup_size);
  if (wg > 256) wg = 256;
  uint32_t bm = wg / 16 * 4, bn = 64;
  VkPipeline *slot = &t->matmul[C->dtype];
  if (!*slot) {
    char name[32];
    snprintf(name, sizeof name, "matmul_%s", lx_vk_dtype_token(C->dtype));
    uint32_t acc_bytes =
        C->dtype == LX_FLOAT64 || C->dtype == LX_INT64 || C->dtype == LX_UINT64 ? 8 : 4;
    int32_t spec[3] = {(int32_t)wg, 0, (int32_t)(MATMUL_TILE_K_BYTES / acc_bytes)};
    if ((st = lx_vk_make_pipeline(d, name, spec, 3, slot)) != LX_OK) return st;
  }

  mm_push pc;
  memset(&pc, 0, sizeof pc);
  int64_t batches = C->size / (M * N);
  int64_t tiles_m = (M + bm - 1) / bm, tiles_n = (N + bn - 1) / bn;
  if (tiles_m * tiles_n * batches > (int64_t)UINT32_MAX)
    return lx_set_error(LX_ERR_SHAPE, "matmul: too many tiles for the vulkan kernel");
  pc.M = (uint32_t)M;
  pc.N = (uint32_t)N;
  pc.K = (uint32_t)K;
  pc.batches = (uint32_t)batches;
  pc.tiles_m = (uint32_t)tiles_m;
  pc.tiles_n = (uint32_t)tiles_n;
  pc.c_offset = (uint32_t)C->offset;
  /* Binding 3 is always bound (the shader uses it statically): the batch
  ** layout when more than 3 axes remain, else A's buffer again, unread. */
  lx_vk_alloc *layout = NULL;
  if (nb <= 3) {
    axis_list ba = {0}, bb = {0};
    for (int i = 0; i < nb; i++) {
      ba.shape[i] = bb.shape[i] = bshape[i];
      ba.stride[i] = bsa[i];
      bb.stride[i] = bsb[i];
    }
    ba.n = bb.n = nb;
    axes_to_push(&ba, pc.bshape, pc.a_stride);
    axes_to_push(&bb, pc.bshape, pc.b_stride);
  } else {
    int32_t words[1 + 3 * LX_MAX_DIMS];
    size_t n = 0;
    words[n++] = nb;
    for (int i = 0; i < nb; i++) words[n++] = (int32_t)bshape[i];
    for (int i = 0; i < nb; i++) words[n++] = (int32_t)bsa[i];
    for (int i = 0; i < nb; i++) words[n++] = (int32_t)bsb[i];
    if ((st = lx_vk_upload_words(d, words, n, &layout)) != LX_OK) return st;
    pc.flags |= 4u;
  }
  int64_t ars = A->strides[nd - 2], acs = A->strides[nd - 1];
  int64_t brs = B->strides[nd - 2], bcs = B->strides[nd - 1];
  pc.mat_stride[0] = (int32_t)ars;
  pc.mat_stride[1] = (int32_t)acs;
  pc.mat_stride[2] = (int32_t)brs;
  pc.mat_stride[3] = (int32_t)bcs;
  /* Stage tiles walking the operand's tighter axis across threads. */
  if (llabs(acs) <= llabs(ars)) pc.flags |= 1u;
  if (llabs(bcs) <= llabs(brs)) pc.flags |= 2u;
  pc.a_offset = (uint32_t)A->offset;
  pc.b_offset = (uint32_t)B->offset;

  lx_vk_alloc *b[4] = {C->buffer->handle, A->buffer->handle, B->buffer->handle,
                       layout ? layout : A->buffer->handle};
  uint32_t groups = group_count(tiles_m * tiles_n * batches, 1);
  st = lx_vk_record_dispatch(d, *slot, 4, b, &pc, sizeof pc, groups);
  if (layout) lx_vk_alloc_free(d, layout);
  return st;
}

