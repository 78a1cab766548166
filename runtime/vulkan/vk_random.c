/*
** vk_random.c — random numbers on Vulkan: one dispatch of shaders/random.comp
** per LX_OP_RANDOM. Pipelines are specialised on (output dtype, kind,
** scheme) and kept in a per-device table, filled on first use as
** vk_reduce_matmul.c does. The core hands over fresh, contiguous outputs
** and 2-element keys with any stride.
*/
#include "vk_random.h"

#include <stdio.h>
#include <string.h>

#define MAX_INDEX ((int64_t)INT32_MAX)
#define MAX_GROUPS 65535u
#define KINDS 4

typedef struct rnd_pipelines {
  VkPipeline slot[LX_DTYPE_COUNT][KINDS][2];
} rnd_pipelines;

static rnd_pipelines *table_for(lx_vk_device *d) {
  return lx_vk_table(d, LX_VK_TABLE_RANDOM, sizeof(rnd_pipelines));
}

/* shaders/random.comp's push constants. */
typedef struct rnd_push {
  uint32_t n;
  uint32_t key_off0, key_step0, key_off1, key_step1;
  uint32_t counter_lo, counter_hi, pad;
  uint32_t lo[2], diff[2];
  uint32_t span[2], mult[2], minval[2];
} rnd_push;
_Static_assert(sizeof(rnd_push) == 72, "random push constants: 72 bytes");

static void words(uint64_t v, uint32_t w[2]) {
  w[0] = (uint32_t)v;
  w[1] = (uint32_t)(v >> 32);
}

/* A float parameter as the shader reads it: float32 bits for the 32- and
** 16-bit float dtypes (the values are exact in float32), double words for
** float64. */
static void float_param(lx_dtype t, double v, uint32_t w[2]) {
  if (t == LX_FLOAT64) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    words(b, w);
  } else {
    float f = (float)v;
    memcpy(&w[0], &f, sizeof f);
    w[1] = 0;
  }
}

static lx_status key_position(const lx_array *key, uint32_t *off, uint32_t *step) {
  int64_t s = key->strides[0], o = key->offset;
  int64_t last = o + s;
  if (o < 0 || o > MAX_INDEX || s < 0 || last > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "random: key view out of the vulkan kernels' reach");
  *off = (uint32_t)o;
  *step = (uint32_t)s;
  return LX_OK;
}

lx_status lx_vk_run_random(lx_vk_device *d, const lx_op *op) {
  const lx_array *out = op->out;
  lx_dtype t = out->dtype;
  int kind = op->code;
  lx_status st = lx_vk_check_dtype(d, t, "random");
  if (st != LX_OK) return st;
  size_t esize = lx_dtype_size(t);
  if (kind == LX_RANDOM_RANDINT && esize == 8 && !d->phys->int64)
    return lx_set_error(LX_ERR_DTYPE, "randint: 64-bit integers need 64-bit integers in "
                        "shaders, which %s lacks", d->phys->name);
  int64_t n = kind == LX_RANDOM_KEYS ? out->size / 2 : out->size;
  if (out->size > MAX_INDEX)
    return lx_set_error(LX_ERR_SHAPE, "random: vulkan kernels take at most 2^31-1 elements, "
                        "got %lld", (long long)out->size);
  if (out->offset != 0)
    return lx_set_error(LX_ERR_INTERNAL, "random: the output must be a fresh array");

  rnd_push pc;
  memset(&pc, 0, sizeof pc);
  pc.n = (uint32_t)n;
  if ((st = key_position(op->in[0], &pc.key_off0, &pc.key_step0)) != LX_OK) return st;
  const lx_array *k2 = op->ninputs > 1 ? op->in[1] : op->in[0];
  if ((st = key_position(k2, &pc.key_off1, &pc.key_step1)) != LX_OK) return st;
  pc.counter_lo = (uint32_t)op->p.random.counter;
  pc.counter_hi = (uint32_t)(op->p.random.counter >> 32);
  float_param(t, op->p.random.lo, pc.lo);
  float_param(t, op->p.random.diff, pc.diff);
  words(op->p.random.span, pc.span);
  words(op->p.random.multiplier, pc.mult);
  words(op->p.random.minval, pc.minval);

  rnd_pipelines *table = table_for(d);
  if (!table) return LX_ERR_INTERNAL;
  int original = op->p.random.original ? 1 : 0;
  VkPipeline *slot = &table->slot[t][kind][original];
  if (!*slot) {
    char name[32];
    if (t == LX_FLOAT64) snprintf(name, sizeof name, "random_f64");
    else snprintf(name, sizeof name, "random_%zu", esize);
    int32_t spec[4] = {(int32_t)d->workgroup_size, kind, original, (int32_t)t};
    if ((st = lx_vk_make_pipeline(d, name, spec, 4, slot)) != LX_OK) return st;
  }
  lx_vk_alloc *b[3] = {out->buffer->handle, op->in[0]->buffer->handle, k2->buffer->handle};
  int64_t groups = (n + d->workgroup_size - 1) / d->workgroup_size;
  if (groups < 1) groups = 1;
  if (groups > MAX_GROUPS) groups = MAX_GROUPS; /* the shader loops over the rest */
  return lx_vk_record_dispatch(d, *slot, 3, b, &pc, sizeof pc, (uint32_t)groups);
}
