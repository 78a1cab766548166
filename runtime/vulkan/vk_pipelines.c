/*
** vk_pipelines.c — compute pipelines from the SPIR-V embedded at build
** time, created on first use and kept per device. The op code and the
** workgroup size are specialization constants, so one module serves every
** op of a family and dtype.
*/
#include "vk_device.h"
#include "vk_spirv.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const dtype_tokens[LX_DTYPE_COUNT] = {
  [LX_FLOAT32] = "f32", [LX_FLOAT64] = "f64", [LX_FLOAT16] = "f16", [LX_BFLOAT16] = "bf16",
  [LX_INT32] = "i32",   [LX_INT64] = "i64",   [LX_UINT8] = "u8",    [LX_UINT32] = "u32",
  [LX_BOOL] = "bool",   [LX_UINT16] = "u16",  [LX_UINT64] = "u64"};
static const int sizes[4] = {1, 2, 4, 8};

const char *lx_vk_dtype_token(lx_dtype t) {
  return (unsigned)t < LX_DTYPE_COUNT && dtype_tokens[t] ? dtype_tokens[t] : "invalid";
}

void *lx_vk_table(lx_vk_device *d, lx_vk_table_id id, size_t size) {
  if (!d->tables[id]) {
    d->tables[id] = calloc(1, size);
    if (!d->tables[id]) lx_set_error(LX_ERR_MEMORY, "vulkan: out of memory for a pipeline table");
  }
  return d->tables[id];
}

/* The slot for a pipeline, and the module name that builds it. */
static VkPipeline *slot_for(lx_vk_device *d, lx_vk_family f, int a, int b, int op, char *name,
                            size_t size) {
  lx_vk_pipelines *p = &d->pipes;
  switch (f) {
    case LX_VK_UNARY:
      snprintf(name, size, "unary_%s", dtype_tokens[a]);
      return &p->unary[a][op];
    case LX_VK_NOT:
      snprintf(name, size, "not_%s", dtype_tokens[a]);
      return &p->logical_not[a];
    case LX_VK_BINARY:
      snprintf(name, size, "binary_%s", dtype_tokens[a]);
      return &p->binary[a][op];
    case LX_VK_COMPARE:
      snprintf(name, size, "compare_%s", dtype_tokens[a]);
      return &p->compare[a][op];
    case LX_VK_WHERE:
      snprintf(name, size, "where_%d", sizes[a]);
      return &p->where[a];
    case LX_VK_CONVERT:
      snprintf(name, size, "convert_%s_%s", dtype_tokens[a], dtype_tokens[b]);
      return &p->convert[a][b];
    case LX_VK_FILL:
      snprintf(name, size, "fill_%d", sizes[a]);
      return &p->fill[a];
  }
  return NULL;
}

lx_status lx_vk_make_pipeline(lx_vk_device *d, const char *name, const int32_t *spec, int n,
                              VkPipeline *slot) {
  if (n < 0 || n > LX_VK_MAX_SPEC)
    return lx_set_error(LX_ERR_INTERNAL, "vulkan: %d specialization constants", n);
  const lx_spirv *spv = lx_spirv_find(name);
  if (!spv)
    return lx_set_error(LX_ERR_INTERNAL, "vulkan: shader '%s' is missing from this build", name);
  VkShaderModuleCreateInfo mci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                  .codeSize = spv->size_bytes, .pCode = spv->code};
  VkShaderModule module;
  VkResult r = vkCreateShaderModule(d->device, &mci, NULL, &module);
  if (r != VK_SUCCESS)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: shader '%s' was rejected: %s", name,
                        lx_vk_result_name(r));
  VkSpecializationMapEntry entries[LX_VK_MAX_SPEC];
  for (int i = 0; i < n; i++)
    entries[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(4 * i), 4};
  VkSpecializationInfo si = {.mapEntryCount = (uint32_t)n, .pMapEntries = entries,
                             .dataSize = (size_t)n * 4, .pData = spec};
  VkComputePipelineCreateInfo pci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
              .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = module, .pName = "main",
              .pSpecializationInfo = &si},
    .layout = d->pipeline_layout};
  r = vkCreateComputePipelines(d->device, d->cache, 1, &pci, NULL, slot);
  vkDestroyShaderModule(d->device, module, NULL);
  if (r != VK_SUCCESS) {
    *slot = VK_NULL_HANDLE;
    return lx_set_error(LX_ERR_DEVICE, "vulkan: pipeline for shader '%s' failed: %s", name,
                        lx_vk_result_name(r));
  }
  d->cache_dirty = true;
  return LX_OK;
}

lx_status lx_vk_pipeline(lx_vk_device *d, lx_vk_family family, int a, int b, int op,
                         VkPipeline *out) {
  char name[64];
  if (op < 0 || op >= LX_VK_OPS)
    return lx_set_error(LX_ERR_INTERNAL, "vulkan: op code %d out of range", op);
  VkPipeline *slot = slot_for(d, family, a, b, op, name, sizeof name);
  if (!slot) return lx_set_error(LX_ERR_INTERNAL, "vulkan: unknown kernel family %d", family);
  if (*slot) { *out = *slot; return LX_OK; }
  int32_t spec[2] = {(int32_t)d->workgroup_size, op};
  lx_status st = lx_vk_make_pipeline(d, name, spec, 2, slot);
  if (st != LX_OK) return st;
  *out = *slot;
  return LX_OK;
}
