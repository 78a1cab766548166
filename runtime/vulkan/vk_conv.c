/*
** vk_conv.c — convolutions (LX_OP_CONV) on Vulkan: shaders/conv.comp, one
** dispatch per op, the per-axis geometry in a small int buffer at binding
** 3 (any number of spatial axes).
**
** Pipelines live in a table per device, filled on first use, like
** vk_reduce_matmul.c's; devices live until the process exits, and so do
** their pipelines. Positions are 32-bit signed in the shader: every
** element index and every intermediate position must stay below 2^31.
*/
#include "vk_conv.h"
#include "vk_reduce_matmul.h"

#include <stdio.h>
#include <string.h>

#define MAX_INDEX ((int64_t)INT32_MAX)
#define MAX_GROUPS 65535u

/* shaders/conv.comp's push constants. */
typedef struct cv_push {
  uint32_t total, nspatial, cin, cout, cg, og, kprod, isp, osp;
  uint32_t x_offset, w_offset, out_offset;
} cv_push;
_Static_assert(sizeof(cv_push) == 48, "conv push constants: 48 bytes");

typedef struct conv_pipelines {
  VkPipeline conv[LX_DTYPE_COUNT];
} conv_pipelines;

static conv_pipelines *table_for(lx_vk_device *d) {
  return lx_vk_table(d, LX_VK_TABLE_CONV, sizeof(conv_pipelines));
}

static const char *dtype_token(lx_dtype t) {
  switch (t) {
    case LX_FLOAT32: return "f32";
    case LX_FLOAT64: return "f64";
    case LX_FLOAT16: return "f16";
    case LX_BFLOAT16: return "bf16";
    default: return NULL;
  }
}

static lx_status too_large(void) {
  return lx_set_error(LX_ERR_SHAPE, "conv: the arrays or positions reach beyond 2^31-1 "
                      "elements, which vulkan kernels cannot index");
}

lx_status lx_vk_run_conv(lx_vk_device *d, const lx_op *op) {
  const lx_conv_params *p = op->p.conv;
  const lx_array *X = op->in[0], *W = op->in[1];
  lx_array *O = op->out;
  lx_dtype dt = O->dtype;
  const char *token = dtype_token(dt);
  if (!p || !token || X->dtype != dt || W->dtype != dt || !lx_array_is_contiguous(X) ||
      !lx_array_is_contiguous(W) || !lx_array_is_contiguous(O))
    return lx_set_error(LX_ERR_INTERNAL, "conv: operands do not match the vulkan kernel's "
                        "contract");
  if (O->size == 0) return LX_OK;
  lx_status st = lx_vk_check_dtype(d, dt, "conv");
  if (st != LX_OK) return st;

  int ns = p->nspatial;
  int64_t isp = 1, osp = 1, kprod = 1;
  int32_t words[8 * LX_MAX_DIMS];
  int64_t istride = 1;
  for (int a = ns - 1; a >= 0; a--) {
    int64_t in = X->shape[2 + a], os = O->shape[2 + a], k = W->shape[2 + a];
    int64_t reach = (os - 1) * p->stride[a] + (k - 1) * p->rhs_dilation[a];
    int64_t lo = p->pad_lo[a] < 0 ? -p->pad_lo[a] : p->pad_lo[a];
    if (reach + lo > MAX_INDEX || (in > 0 ? (in - 1) * p->lhs_dilation[a] : 0) > MAX_INDEX ||
        istride > MAX_INDEX)
      return too_large();
    int32_t *w = words + 8 * a;
    w[0] = (int32_t)in;
    w[1] = (int32_t)os;
    w[2] = (int32_t)k;
    w[3] = (int32_t)p->stride[a];
    w[4] = (int32_t)p->pad_lo[a];
    w[5] = (int32_t)p->lhs_dilation[a];
    w[6] = (int32_t)p->rhs_dilation[a];
    w[7] = (int32_t)istride;
    istride *= in;
    isp *= in;
    osp *= os;
    kprod *= k;
  }
  if (X->size > MAX_INDEX || X->offset > MAX_INDEX - X->size || W->size > MAX_INDEX ||
      W->offset > MAX_INDEX - W->size || O->size > MAX_INDEX || O->offset > MAX_INDEX - O->size)
    return too_large();
  /* Empty sums are filled with zeros by the core (binding an empty x or w
  ** range is not allowed). */
  if (X->size == 0 || W->size == 0)
    return lx_set_error(LX_ERR_INTERNAL, "conv: the vulkan kernel got an empty operand");

  conv_pipelines *t = table_for(d);
  if (!t) return LX_ERR_INTERNAL;
  uint32_t wg = d->workgroup_size;
  VkPipeline *slot = &t->conv[dt];
  if (!*slot) {
    char name[32];
    snprintf(name, sizeof name, "conv_%s", token);
    int32_t spec[1] = {(int32_t)wg};
    if ((st = lx_vk_make_pipeline(d, name, spec, 1, slot)) != LX_OK) return st;
  }
  lx_vk_alloc *layout;
  if ((st = lx_vk_upload_words(d, words, 8 * (size_t)ns, &layout)) != LX_OK) return st;

  int64_t cin = X->shape[1], cout = W->shape[0];
  cv_push pc = {
    .total = (uint32_t)O->size, .nspatial = (uint32_t)ns,
    .cin = (uint32_t)cin, .cout = (uint32_t)cout,
    .cg = (uint32_t)(cin / p->groups), .og = (uint32_t)(cout / p->groups),
    .kprod = (uint32_t)kprod, .isp = (uint32_t)isp, .osp = (uint32_t)osp,
    .x_offset = (uint32_t)X->offset, .w_offset = (uint32_t)W->offset,
    .out_offset = (uint32_t)O->offset};
  int64_t groups = (O->size + wg - 1) / wg;
  if (groups > MAX_GROUPS) groups = MAX_GROUPS;
  lx_vk_alloc *b[4] = {O->buffer->handle, X->buffer->handle, W->buffer->handle, layout};
  st = lx_vk_record_dispatch(d, *slot, 4, b, &pc, sizeof pc, (uint32_t)groups);
  lx_vk_alloc_free(d, layout);
  return st;
}
