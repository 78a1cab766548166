/*
** vk_internal.h — the Vulkan backend's shared state (volk-loaded; lunox
** links no Vulkan library).
*/
#ifndef LX_VK_INTERNAL_H
#define LX_VK_INTERNAL_H

#include "internal.h"

#include <volk.h>

#define LX_VK_MAX_DEVICES 16

/* What lunox needs to know of a physical device, read once at startup. */
typedef struct lx_vk_physical {
  VkPhysicalDevice handle;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  char driver[64];
  uint32_t vendor_id, device_id;
  VkPhysicalDeviceType type;
  uint64_t device_local_bytes;
  uint32_t subgroup_size;
  uint32_t max_workgroup_invocations;
  uint32_t max_push_constants;
  uint64_t max_storage_buffer_range;
  bool float16;       /* shaderFloat16 + 16-bit storage */
  bool int8_storage;  /* 8-bit storage (uint8, bool) */
  bool int16_storage; /* 16-bit storage (uint16) */
  bool int64;         /* shaderInt64 */
  bool float64;       /* shaderFloat64 */
  bool bfloat16;      /* VK_KHR_shader_bfloat16 */
  bool coopmat;       /* VK_KHR_cooperative_matrix */
  bool uma;           /* device-local memory that is also host-visible */
} lx_vk_physical;

/* Loads Vulkan and enumerates devices, once; never fails the process: when
** Vulkan is missing, lx_vk_unavailable_reason() says why. */
void lx_vk_init(void);
int lx_vk_physical_count(void);
const lx_vk_physical *lx_vk_physical_at(int index);
const char *lx_vk_unavailable_reason(void);
VkInstance lx_vk_instance(void);
/* Messages the Khronos validation layer reported (LUNOX_VULKAN_VALIDATION=1). */
uint64_t lx_vk_validation_count(void);
const char *lx_vk_validation_last(void);
const char *lx_vk_result_name(VkResult r);
bool lx_vk_has_device_extension(VkPhysicalDevice pd, const char *name);

#endif
