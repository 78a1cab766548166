/*
** vk_window_take.c — reduce_window (shaders/window.comp) and take
** (shaders/take.comp) on Vulkan.
**
** Pipelines: a table per device, filled on first use (as
** vk_reduce_matmul.c keeps its own), so the elementwise pipeline code needs
** no changes. Positions are 32-bit signed in the shaders: every element an
** operand can reach must lie below 2^31.
**
** take: an index outside the axis is an error on the CPU; here it would
** need a readback of the indices before the result exists (a stall in
** every embedding lookup), so the kernel writes JAX's fill value instead
** (jnp.take's default mode="fill": NaN for floats, the lowest value of
** signed integers, the highest of unsigned ones, true for bool).
*/
#include "vk_window_take.h"
#include "vk_reduce_matmul.h"

#include <stdio.h>
#include <string.h>

#define MAX_INDEX ((int64_t)INT32_MAX)
#define MAX_GROUPS 65535u


/* ------------------------------------------------------------ pipelines */

typedef struct wt_pipelines {
  VkPipeline window[LX_DTYPE_COUNT][2]; /* [dtype][0: sum, 1: max] */
  VkPipeline take[4][LX_DTYPE_COUNT];   /* [element size index][index dtype] */
} wt_pipelines;

static wt_pipelines *table_for(lx_vk_device *d) {
  return lx_vk_table(d, LX_VK_TABLE_WINDOW_TAKE, sizeof(wt_pipelines));
}

static lx_status pipeline(lx_vk_device *d, VkPipeline *slot, const char *name, int code) {
  if (*slot) return LX_OK;
  int32_t spec[2] = {(int32_t)d->workgroup_size, code};
  return lx_vk_make_pipeline(d, name, spec, 2, slot);
}

static uint32_t group_count(int64_t n, uint32_t wg) {
  int64_t g = (n + wg - 1) / wg;
  if (g < 1) g = 1;
  return g > MAX_GROUPS ? MAX_GROUPS : (uint32_t)g;
}

/* ---------------------------------------------------------- reduce_window */

/* shaders/window.comp's push constants. */
typedef struct win_push {
  uint32_t nout, ndim, in_offset, out_offset, general, pad[3];
  uint32_t oshape[4], ishape[4];
  int32_t istride[4];
  uint32_t window[4], step[4], lo[4];
} win_push;
_Static_assert(sizeof(win_push) == 128, "window push constants: 128 bytes");

/* One axis of the walk: output and input extents, input stride, window. */
typedef struct win_axis {
  int64_t oshape, ishape, istride, window, step, lo;
} win_axis;

static bool plain(const win_axis *a) {
  return a->window == 1 && a->step == 1 && a->lo == 0 && a->oshape == a->ishape;
}

lx_status lx_vk_run_reduce_window(lx_vk_device *d, const lx_op *op) {
  const lx_array *x = op->in[0];
  lx_array *o = op->out;
  const char *fn = "reduce_window";
  if ((op->code != LX_SUM && op->code != LX_MAX) || x->dtype == LX_BOOL ||
      (unsigned)x->dtype >= LX_DTYPE_COUNT || o->dtype != x->dtype || o->ndim != x->ndim ||
      !lx_array_is_contiguous(o))
    return lx_set_error(LX_ERR_INTERNAL, "%s: operands do not match the vulkan kernel's "
                        "contract", fn);
  if (o->size == 0) return LX_OK;
  lx_status st = lx_vk_check_dtype(d, x->dtype, fn);
  if (st != LX_OK) return st;

  /* Axes of extent 1 that read their one element drop out; plain axes
  ** (a window of 1 at stride 1) merge into a plain neighbour when the
  ** pair is one run of input memory (the output is contiguous). */
  win_axis axes[LX_MAX_DIMS];
  int n = 0;
  int64_t lo_reach = x->offset, hi_reach = x->offset;
  for (int i = 0; i < x->ndim; i++) {
    win_axis a = {o->shape[i], x->shape[i], x->strides[i], op->p.window.window[i],
                  op->p.window.strides[i], op->p.window.pad_lo[i]};
    if (a.ishape > 0) {
      int64_t span = (a.ishape - 1) * a.istride;
      if (span < 0) lo_reach += span; else hi_reach += span;
    }
    if (a.oshape == 1 && a.ishape == 1 && a.lo == 0) continue;
    if (n > 0 && plain(&a) && plain(&axes[n - 1]) && axes[n - 1].istride == a.istride * a.ishape) {
      axes[n - 1].oshape *= a.oshape;
      axes[n - 1].ishape *= a.ishape;
      axes[n - 1].istride = a.istride;
      continue;
    }
    axes[n++] = a;
  }
  if (n == 0) axes[n++] = (win_axis){1, 1, 0, 1, 1, 0};
  bool empty_input = x->size == 0;
  if (o->size > MAX_INDEX || o->offset > MAX_INDEX - o->size ||
      (!empty_input && (lo_reach < 0 || hi_reach > MAX_INDEX)))
    return lx_set_error(LX_ERR_SHAPE, "%s: vulkan kernels take at most 2^31-1 elements (they "
                        "index with 32-bit integers)", fn);
  for (int i = 0; i < n; i++) {
    const win_axis *a = &axes[i];
    /* Windows reach from -lo to (oshape-1)*step - lo + window. */
    if (a->istride > MAX_INDEX || a->istride < -MAX_INDEX || a->window > MAX_INDEX ||
        a->lo > MAX_INDEX || a->step > MAX_INDEX ||
        (a->oshape - 1) * a->step + a->window > MAX_INDEX)
      return lx_set_error(LX_ERR_SHAPE, "%s: window, stride or padding too large for vulkan "
                          "kernels (they index with 32-bit integers)", fn);
  }

  wt_pipelines *t = table_for(d);
  if (!t) return LX_ERR_INTERNAL;
  VkPipeline *slot = &t->window[x->dtype][op->code == LX_MAX];
  char name[32];
  snprintf(name, sizeof name, "window_%s", lx_vk_dtype_token(x->dtype));
  if ((st = pipeline(d, slot, name, op->code)) != LX_OK) return st;

  win_push pc;
  memset(&pc, 0, sizeof pc);
  pc.nout = (uint32_t)o->size;
  pc.ndim = (uint32_t)n;
  pc.in_offset = (uint32_t)x->offset;
  pc.out_offset = (uint32_t)o->offset;
  lx_vk_alloc *layout = NULL;
  if (n <= 4) {
    for (int i = 0; i < 4; i++) {
      win_axis a = i < n ? axes[i] : (win_axis){1, 1, 0, 1, 1, 0};
      pc.oshape[i] = (uint32_t)a.oshape;
      pc.ishape[i] = (uint32_t)a.ishape;
      pc.istride[i] = (int32_t)a.istride;
      pc.window[i] = (uint32_t)a.window;
      pc.step[i] = (uint32_t)a.step;
      pc.lo[i] = (uint32_t)a.lo;
    }
  } else {
    int32_t words[6 * LX_MAX_DIMS];
    for (int i = 0; i < n; i++) {
      words[0 * n + i] = (int32_t)axes[i].oshape;
      words[1 * n + i] = (int32_t)axes[i].ishape;
      words[2 * n + i] = (int32_t)axes[i].istride;
      words[3 * n + i] = (int32_t)axes[i].window;
      words[4 * n + i] = (int32_t)axes[i].step;
      words[5 * n + i] = (int32_t)axes[i].lo;
    }
    if ((st = lx_vk_upload_words(d, words, (size_t)(6 * n), &layout)) != LX_OK) return st;
    pc.general = 1;
  }
  /* Binding 3 is always bound (the shader uses it statically): the layout
  ** buffer, or else the input's buffer again, never read. An empty input
  ** is never read either (every window is padding). */
  lx_vk_alloc *in = x->buffer->handle;
  lx_vk_alloc *b[4] = {o->buffer->handle, in, in, layout ? layout : in};
  st = lx_vk_record_dispatch(d, *slot, 4, b, &pc, sizeof pc,
                             group_count(o->size, d->workgroup_size));
  if (layout) lx_vk_alloc_free(d, layout);
  return st;
}

/* ------------------------------------------------------------------ take */

/* shaders/take.comp's push constants. */
typedef struct take_push {
  uint32_t nout, inner, nidx, n;
  uint32_t a_offset, idx_offset, out_offset, base;
  uint32_t fill[2], pad[2];
} take_push;
_Static_assert(sizeof(take_push) == 48, "take push constants: 48 bytes");

/* jnp.take's fill value for mode="fill", as bits (low word first). */
static void fill_bits(lx_dtype t, uint32_t fill[2]) {
  uint64_t v = 0;
  switch (t) {
    case LX_FLOAT32: v = 0x7fc00000u; break;
    case LX_FLOAT64: v = 0x7ff8000000000000ull; break;
    case LX_FLOAT16: v = 0x7e00u; break;
    case LX_BFLOAT16: v = 0x7fc0u; break;
    case LX_INT32: v = 0x80000000u; break;
    case LX_INT64: v = 0x8000000000000000ull; break;
    case LX_UINT8: v = 0xffu; break;
    case LX_UINT32: v = 0xffffffffu; break;
    case LX_BOOL: v = 1; break;
    default: v = 0; break;
  }
  fill[0] = (uint32_t)v;
  fill[1] = (uint32_t)(v >> 32);
}

static int size_index(size_t bytes) {
  return bytes == 1 ? 0 : bytes == 2 ? 1 : bytes == 4 ? 2 : 3;
}

lx_status lx_vk_run_take(lx_vk_device *d, const lx_op *op) {
  const lx_array *a = op->in[0], *idx = op->in[1];
  lx_array *o = op->out;
  const char *fn = "take";
  int axis = op->p.take.axis;
  lx_dtype it = idx->dtype;
  if (axis < 0 || axis >= a->ndim || o->dtype != a->dtype || !lx_array_is_contiguous(a) ||
      !lx_array_is_contiguous(idx) || !lx_array_is_contiguous(o) ||
      (it != LX_INT32 && it != LX_INT64 && it != LX_UINT8 && it != LX_UINT32))
    return lx_set_error(LX_ERR_INTERNAL, "%s: operands do not match the vulkan kernel's "
                        "contract", fn);
  if (o->size == 0) return LX_OK;
  lx_status st = lx_vk_check_dtype(d, a->dtype, fn);
  /* int64 indices are read as word pairs: no shaderInt64 needed. */
  if (st == LX_OK && it != LX_INT64) st = lx_vk_check_dtype(d, it, fn);
  if (st != LX_OK) return st;
  int64_t n = a->shape[axis], inner = 1;
  for (int i = axis + 1; i < a->ndim; i++) inner *= a->shape[i];
  int64_t idx_words = it == LX_INT64 ? 2 : 1;
  if (o->size > MAX_INDEX || o->offset > MAX_INDEX - o->size || a->size > MAX_INDEX ||
      a->offset > MAX_INDEX - a->size || (idx->offset + idx->size) * idx_words > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "%s: vulkan kernels take at most 2^31-1 elements (they "
                        "index with 32-bit integers)", fn);

  wt_pipelines *t = table_for(d);
  if (!t) return LX_ERR_INTERNAL;
  int si = size_index(lx_dtype_size(a->dtype));
  VkPipeline *slot = &t->take[si][it];
  char name[32];
  snprintf(name, sizeof name, "take_%d_%s", (int)lx_dtype_size(a->dtype), lx_vk_dtype_token(it));
  if ((st = pipeline(d, slot, name, 0)) != LX_OK) return st;

  take_push pc;
  memset(&pc, 0, sizeof pc);
  pc.nout = (uint32_t)o->size;
  pc.inner = (uint32_t)inner;
  pc.nidx = (uint32_t)idx->size;
  pc.n = (uint32_t)n;
  pc.a_offset = (uint32_t)a->offset;
  pc.idx_offset = (uint32_t)idx->offset;
  pc.out_offset = (uint32_t)o->offset;
  pc.base = (uint32_t)op->p.take.base;
  fill_bits(a->dtype, pc.fill);
  lx_vk_alloc *b[3] = {o->buffer->handle, a->buffer->handle, idx->buffer->handle};
  return lx_vk_record_dispatch(d, *slot, 3, b, &pc, sizeof pc,
                               group_count(o->size, d->workgroup_size));
}
