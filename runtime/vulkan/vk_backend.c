/*
** vk_backend.c — the Vulkan backend behind lx_backend: allocation in the
** arena, host transfers, and ops translated into kernel dispatches.
*/
#include "vk_device.h"
#include "vk_random.h"
#include "vk_reduce_matmul.h"
#include "vk_window_take.h"
#include "vk_conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The push constants every elementwise kernel reads (shaders/common.glsl);
** exactly the 128 bytes Vulkan guarantees. */
typedef struct lx_vk_push {
  uint32_t n, ndim, pad0, pad1;
  uint32_t shape[4];
  int32_t stride[4][4]; /* [operand][axis], elements; operand 0 is the output */
  uint32_t offset[4];
  uint32_t param[4];
} lx_vk_push;
_Static_assert(sizeof(lx_vk_push) == 128, "push constants must be 128 bytes");

#define MAX_INDEX ((int64_t)INT32_MAX)

static lx_vk_device *device_of(lx_device *dev) { return dev->impl; }

/* ------------------------------------------------------------- memory */

static lx_status vk_alloc(lx_device *dev, size_t nbytes, void **handle) {
  lx_vk_device *d;
  lx_status st = lx_vk_device_get(dev, &d);
  if (st != LX_OK) return st;
  pthread_mutex_lock(&d->lock);
  st = lx_vk_alloc_new(d, nbytes, (lx_vk_alloc **)handle);
  pthread_mutex_unlock(&d->lock);
  return st;
}

static void vk_free(lx_device *dev, void *handle, size_t nbytes) {
  lx_vk_device *d = device_of(dev);
  pthread_mutex_lock(&d->lock);
  lx_vk_alloc_free(d, handle);
  pthread_mutex_unlock(&d->lock);
}

static lx_status vk_upload(lx_device *dev, void *handle, size_t offset, const void *src,
                           size_t nbytes) {
  lx_vk_device *d = device_of(dev);
  lx_vk_alloc *a = handle;
  pthread_mutex_lock(&d->lock);
  lx_status st = lx_vk_wait(d, a->last_use); /* never write under running work */
  if (st == LX_OK && d->arena.host_visible) {
    memcpy((char *)a->block->mapped + a->offset + offset, src, nbytes);
  } else if (st == LX_OK) {
    /* Queued behind the work already recorded, without waiting for it. */
    st = lx_vk_ring_upload(d, a, offset, src, nbytes);
    if (st == LX_ERR_ARGUMENT) {
      /* Too large for the ring: through the staging buffer, synchronously
      ** (it is reused by the next transfer). */
      st = lx_vk_staging_reserve(d, nbytes);
      if (st == LX_OK) {
        memcpy(d->arena.staging_mapped, src, nbytes);
        st = lx_vk_record_copy(d, d->arena.staging_buffer, 0, a->block->buffer,
                               a->offset + offset, nbytes, NULL, a);
      }
      if (st == LX_OK) st = lx_vk_wait(d, lx_vk_current_serial(d));
    }
  }
  pthread_mutex_unlock(&d->lock);
  return st;
}

static lx_status vk_download(lx_device *dev, void *handle, size_t offset, void *dst,
                             size_t nbytes) {
  lx_vk_device *d = device_of(dev);
  lx_vk_alloc *a = handle;
  pthread_mutex_lock(&d->lock);
  /* Host reads wait for just the batch that last wrote this buffer. */
  lx_status st = lx_vk_wait(d, a->last_write);
  if (st == LX_OK && d->arena.host_readable) {
    memcpy(dst, (char *)a->block->mapped + a->offset + offset, nbytes);
  } else if (st == LX_OK) {
    st = lx_vk_staging_reserve(d, nbytes);
    if (st == LX_OK)
      st = lx_vk_record_copy(d, a->block->buffer, a->offset + offset, d->arena.staging_buffer, 0,
                             nbytes, a, NULL);
    if (st == LX_OK) st = lx_vk_wait(d, lx_vk_current_serial(d));
    if (st == LX_OK) memcpy(dst, d->arena.staging_mapped, nbytes);
  }
  pthread_mutex_unlock(&d->lock);
  return st;
}

static void *vk_host_address(lx_device *dev, void *handle) {
  lx_set_error(LX_ERR_DEVICE, "the array is in %s memory; copy it with a:to(\"cpu\")", dev->name);
  return NULL;
}

static lx_status vk_sync(lx_device *dev) {
  lx_vk_device *d = device_of(dev);
  if (!d) return LX_OK; /* never used */
  pthread_mutex_lock(&d->lock);
  lx_status st = lx_vk_submit(d);
  if (st == LX_OK) st = lx_vk_wait(d, d->stream.submitted);
  if (st == LX_OK) lx_vk_arena_collect(d);
  pthread_mutex_unlock(&d->lock);
  return st;
}

/* ------------------------------------------------------------ dispatch */

lx_status lx_vk_check_dtype(lx_vk_device *d, lx_dtype t, const char *fn) {
  const lx_vk_physical *p = d->phys;
  const char *need = NULL;
  if ((t == LX_FLOAT16 || t == LX_BFLOAT16) && !p->float16) need = "16-bit storage";
  else if ((t == LX_UINT8 || t == LX_BOOL) && !p->int8_storage) need = "8-bit storage";
  else if (t == LX_UINT16 && !p->int16_storage) need = "16-bit storage";
  else if ((t == LX_INT64 || t == LX_UINT64) && !p->int64) need = "64-bit integers in shaders";
  else if (t == LX_FLOAT64 && !p->float64) need = "float64 in shaders";
  if (!need) return LX_OK;
  return lx_set_error(LX_ERR_DTYPE, "%s: %s arrays need %s, which %s lacks", fn,
                      lx_dtype_name(t), need, p->name);
}

/* The push-constant layout: axes merged as the CPU iterator merges them
** (lx__merge_axes), so most arrays become 1-D. The shaders index at most 4
** axes; a layout that still has more (say a 6-D transposed view) is run as
** one dispatch per index of the outer axes, each with its own offsets. */
typedef struct {
  int nd;
  int64_t shape[LX_MAX_DIMS], strides[4][LX_MAX_DIMS];
} vk_layout;

/* Fills pc for the innermost min(nd, 4) axes with element offsets base[k]. */
static lx_status fill_push(int nops, const vk_layout *l, const int64_t *base,
                           lx_vk_push *pc, const char *fn) {
  int inner = l->nd < 4 ? l->nd : 4, first = l->nd - inner;
  int64_t n = 1;
  memset(pc, 0, sizeof *pc);
  for (int dd = 0; dd < 4; dd++) {
    int64_t extent = dd < inner ? l->shape[first + dd] : 1;
    pc->shape[dd] = (uint32_t)extent;
    n *= extent;
  }
  pc->n = (uint32_t)n;
  pc->ndim = (uint32_t)inner;
  for (int k = 0; k < nops; k++) {
    if (base[k] > MAX_INDEX || base[k] < 0)
      return lx_set_error(LX_ERR_SHAPE, "%s: view offset too large for vulkan kernels", fn);
    pc->offset[k] = (uint32_t)base[k];
    for (int dd = 0; dd < inner; dd++) {
      int64_t s = l->strides[k][first + dd];
      if (s > MAX_INDEX || s < -MAX_INDEX)
        return lx_set_error(LX_ERR_SHAPE, "%s: stride too large for vulkan kernels", fn);
      pc->stride[k][dd] = (int32_t)s;
    }
  }
  return LX_OK;
}

static int size_index(lx_dtype t) {
  switch (lx_dtype_size(t)) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    default: return 3;
  }
}

static lx_status dispatch(lx_vk_device *d, lx_vk_family family, int a, int b, int code,
                          const lx_op *op, int nops, const char *fn, const uint32_t *param) {
  const lx_array *ops[4] = {op->out, op->in[0], op->in[1], op->in[2]};
  for (int k = 0; k < nops; k++) {
    lx_status st = lx_vk_check_dtype(d, ops[k]->dtype, fn);
    if (st != LX_OK) return st;
  }
  if (ops[0]->size > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "%s: vulkan kernels take at most 2^31-1 elements, got "
                        "%lld", fn, (long long)ops[0]->size);
  vk_layout l;
  l.nd = lx__merge_axes(nops, ops, l.shape, l.strides);
  if (l.nd > 4 && ops[0]->size == 0) return LX_OK;
  VkPipeline pipeline;
  lx_status st = lx_vk_pipeline(d, family, a, b, code, &pipeline);
  if (st != LX_OK) return st;
  lx_vk_alloc *bindings[4];
  for (int k = 0; k < nops; k++) bindings[k] = ops[k]->buffer->handle;
  /* Odometer over the axes the shaders cannot index (none when nd <= 4). */
  int outer = l.nd > 4 ? l.nd - 4 : 0;
  int64_t index[LX_MAX_DIMS] = {0}, base[4];
  for (;;) {
    for (int k = 0; k < nops; k++) {
      base[k] = ops[k]->offset;
      for (int dd = 0; dd < outer; dd++) base[k] += index[dd] * l.strides[k][dd];
    }
    lx_vk_push pc;
    if ((st = fill_push(nops, &l, base, &pc, fn)) != LX_OK) return st;
    if (param) memcpy(pc.param, param, sizeof pc.param);
    uint64_t groups = (pc.n + d->workgroup_size - 1) / d->workgroup_size;
    if (groups > 65535) groups = 65535; /* the kernels loop over the rest */
    if (groups == 0) groups = 1;
    st = lx_vk_record_dispatch(d, pipeline, nops, bindings, &pc, sizeof pc, (uint32_t)groups);
    if (st != LX_OK) return st;
    int dd = outer - 1;
    while (dd >= 0 && ++index[dd] == l.shape[dd]) index[dd--] = 0;
    if (dd < 0) return LX_OK;
  }
}

static lx_status run_op(lx_vk_device *d, const lx_op *op) {
  const char *fn;
  lx_dtype in = op->ninputs ? op->in[0]->dtype : op->out->dtype;
  switch (op->kind) {
    case LX_OP_UNARY:
      fn = lx_unary_op_name(op->code);
      if (op->code == LX_LOGICAL_NOT) return dispatch(d, LX_VK_NOT, in, 0, 0, op, 2, fn, NULL);
      return dispatch(d, LX_VK_UNARY, in, 0, op->code, op, 2, fn, NULL);
    case LX_OP_BINARY:
      fn = lx_binary_op_name(op->code);
      if (op->code >= LX_EQ) return dispatch(d, LX_VK_COMPARE, in, 0, op->code, op, 3, fn, NULL);
      return dispatch(d, LX_VK_BINARY, in, 0, op->code, op, 3, fn, NULL);
    case LX_OP_WHERE:
      return dispatch(d, LX_VK_WHERE, size_index(op->out->dtype), 0, 0, op, 4, "where", NULL);
    case LX_OP_CONVERT:
      return dispatch(d, LX_VK_CONVERT, in, op->out->dtype, 0, op, 2, "astype", NULL);
    case LX_OP_FILL: {
      unsigned char value[8] = {0};
      if (op->p.fill.is_int) lx_store_int64(op->out->dtype, op->p.fill.ivalue, value);
      else lx_store_double(op->out->dtype, op->p.fill.value, value);
      uint32_t param[4] = {0};
      memcpy(param, value, 8);
      return dispatch(d, LX_VK_FILL, size_index(op->out->dtype), 0, 0, op, 1, "full", param);
    }
    case LX_OP_REDUCE: return lx_vk_run_reduce(d, op);
    case LX_OP_MATMUL: return lx_vk_run_matmul(d, op);
    case LX_OP_RANDOM: return lx_vk_run_random(d, op);
    case LX_OP_REDUCE_WINDOW: return lx_vk_run_reduce_window(d, op);
    case LX_OP_TAKE: return lx_vk_run_take(d, op);
    case LX_OP_CONV: return lx_vk_run_conv(d, op);
  }
  return lx_set_error(LX_ERR_INTERNAL, "vulkan: unknown op kind %d", (int)op->kind);
}

static lx_status vk_run(lx_device *dev, const lx_op *op) {
  lx_vk_device *d = device_of(dev);
  pthread_mutex_lock(&d->lock);
  lx_status st = run_op(d, op);
  pthread_mutex_unlock(&d->lock);
  return st;
}

static const char *type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

static const char *vendor_name(uint32_t id) {
  switch (id) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x106b: return "Apple";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x10005: return "Mesa";
    default: return "unknown";
  }
}

static lx_status vk_describe(lx_device *dev, lx_device_info *info) {
  int index = atoi(dev->name + 7);
  const lx_vk_physical *p = lx_vk_physical_at(index);
  if (!p) return lx_set_error(LX_ERR_DEVICE, "vulkan: no device %d", index);
  snprintf(info->description, sizeof info->description, "%.160s (%.60s, %s)", p->name, p->driver,
           type_name(p->type));
  snprintf(info->vendor, sizeof info->vendor, "%s", vendor_name(p->vendor_id));
  snprintf(info->type, sizeof info->type, "%s", type_name(p->type));
  info->memory_bytes = p->device_local_bytes;
  info->subgroup_size = p->subgroup_size;
  info->float16 = p->float16;
  info->bfloat16 = p->bfloat16;
  info->int64 = p->int64;
  info->float64 = p->float64;
  info->coopmat = p->coopmat;
  info->is_gpu = p->type != VK_PHYSICAL_DEVICE_TYPE_CPU;
  return LX_OK;
}

const lx_backend lx_vulkan_backend = {
  .kind = "vulkan",
  .buffer_alloc = vk_alloc,
  .buffer_free = vk_free,
  .upload = vk_upload,
  .download = vk_download,
  .run = vk_run,
  .sync = vk_sync,
  .host_address = vk_host_address,
  .describe = vk_describe,
};
