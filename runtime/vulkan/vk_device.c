/*
** vk_device.c — creating a Vulkan device on first use: queue, features,
** the one pipeline layout every kernel shares, and the on-disk pipeline
** cache that makes the second start fast.
*/
#include "vk_device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static lx_vk_device *created[LX_VK_MAX_DEVICES];
static int ncreated;

static lx_status vk_fail(const char *what, VkResult r) {
  return lx_set_error(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                          ? LX_ERR_MEMORY : LX_ERR_DEVICE,
                      "vulkan: %s failed: %s", what, lx_vk_result_name(r));
}

/* ~/.cache/lunox/pipelines-<vendor>-<device>.bin ($XDG_CACHE_HOME honoured).
** The driver checks the cache header (vendor, device, driver UUID) and
** ignores data from another driver, so a stale file is harmless. */
static void cache_path(const lx_vk_physical *p, char *buf, size_t size) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char dir[400];
  if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/lunox", xdg);
  else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/lunox", home);
  else { buf[0] = 0; return; }
  snprintf(buf, size, "%s/pipelines-%04x-%04x.bin", dir, p->vendor_id, p->device_id);
}

static void make_parent_dirs(const char *path) {
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *s = tmp + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return;
    *s = '/';
  }
}

static void load_pipeline_cache(lx_vk_device *d) {
  cache_path(d->phys, d->cache_path, sizeof d->cache_path);
  void *data = NULL;
  size_t size = 0;
  FILE *f = d->cache_path[0] ? fopen(d->cache_path, "rb") : NULL;
  if (f) {
    if (fseek(f, 0, SEEK_END) == 0) {
      long n = ftell(f);
      if (n > 0 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n))) {
        size = fread(data, 1, (size_t)n, f);
      }
    }
    fclose(f);
  }
  VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                   .initialDataSize = size, .pInitialData = data};
  if (vkCreatePipelineCache(d->device, &ci, NULL, &d->cache) != VK_SUCCESS) {
    ci.initialDataSize = 0; /* unreadable data: start empty */
    ci.pInitialData = NULL;
    if (vkCreatePipelineCache(d->device, &ci, NULL, &d->cache) != VK_SUCCESS) d->cache = VK_NULL_HANDLE;
  }
  free(data);
}

/* Written atomically (temp file + rename) so a crash never leaves half a
** cache behind. */
void lx_vk_pipeline_cache_save(lx_vk_device *d) {
  if (!d->cache || !d->cache_dirty || !d->cache_path[0]) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(d->device, d->cache, &size, NULL) != VK_SUCCESS || size == 0) return;
  void *data = malloc(size);
  if (!data) return;
  if (vkGetPipelineCacheData(d->device, d->cache, &size, data) == VK_SUCCESS) {
    make_parent_dirs(d->cache_path);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", d->cache_path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
      bool ok = fwrite(data, 1, size, f) == size;
      ok = fclose(f) == 0 && ok;
      if (ok) rename(tmp, d->cache_path);
      else remove(tmp);
    }
  }
  free(data);
  d->cache_dirty = false;
}

static void save_all_caches(void) {
  pthread_mutex_lock(&create_lock);
  for (int i = 0; i < ncreated; i++) {
    pthread_mutex_lock(&created[i]->lock);
    lx_vk_pipeline_cache_save(created[i]);
    pthread_mutex_unlock(&created[i]->lock);
  }
  pthread_mutex_unlock(&create_lock);
}

static lx_status create_logical(lx_vk_device *d) {
  const lx_vk_physical *p = d->phys;
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(p->handle, &nq, NULL);
  VkQueueFamilyProperties qf[32];
  if (nq > 32) nq = 32;
  vkGetPhysicalDeviceQueueFamilyProperties(p->handle, &nq, qf);
  /* Prefer a compute-only family (async compute on discrete GPUs). */
  int family = -1;
  for (uint32_t i = 0; i < nq; i++)
    if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
      family = (int)i;
      break;
    }
  for (uint32_t i = 0; i < nq && family < 0; i++)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = (int)i;
  if (family < 0)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: %s has no compute queue", p->name);
  if (!lx_vk_has_device_extension(p->handle, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
    return lx_set_error(LX_ERR_DEVICE, "vulkan: %s lacks VK_KHR_push_descriptor, which lunox "
                        "needs", p->name);
  d->queue_family = (uint32_t)family;

  /* Enable what the device has; kernels that need a missing feature are
  ** refused with a clear error when asked for. */
  VkPhysicalDeviceVulkan12Features have12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features have11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &have12};
  VkPhysicalDeviceFeatures2 have = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &have11};
  vkGetPhysicalDeviceFeatures2(p->handle, &have);
  if (!have12.timelineSemaphore)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: %s lacks timeline semaphores", p->name);
  VkPhysicalDeviceVulkan12Features want12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
    .timelineSemaphore = VK_TRUE,
    .storageBuffer8BitAccess = have12.storageBuffer8BitAccess,
    .shaderInt8 = have12.shaderInt8,
    .shaderFloat16 = have12.shaderFloat16};
  VkPhysicalDeviceVulkan11Features want11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &want12,
    .storageBuffer16BitAccess = have11.storageBuffer16BitAccess};
  VkPhysicalDeviceFeatures2 want = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &want11};
  want.features.shaderInt64 = have.features.shaderInt64;
  want.features.shaderFloat64 = have.features.shaderFloat64;
  want.features.shaderInt16 = have.features.shaderInt16;
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                 .queueFamilyIndex = d->queue_family, .queueCount = 1,
                                 .pQueuePriorities = &priority};
  const char *exts[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &want,
                            .queueCreateInfoCount = 1, .pQueueCreateInfos = &qci,
                            .enabledExtensionCount = 1, .ppEnabledExtensionNames = exts};
  VkResult r = vkCreateDevice(p->handle, &dci, NULL, &d->device);
  if (r != VK_SUCCESS) return vk_fail("vkCreateDevice", r);
  /* One device at a time is loaded into volk's global table; lunox keeps
  ** the table of the last device created, which serves all of them when
  ** they share a driver. */
  volkLoadDevice(d->device);
  vkGetDeviceQueue(d->device, d->queue_family, 0, &d->queue);

  VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                 .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                 .queueFamilyIndex = d->queue_family};
  if ((r = vkCreateCommandPool(d->device, &pci, NULL, &d->pool)) != VK_SUCCESS)
    return vk_fail("vkCreateCommandPool", r);

  VkDescriptorSetLayoutBinding bindings[4];
  for (uint32_t i = 0; i < 4; i++)
    bindings[i] = (VkDescriptorSetLayoutBinding){
      .binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
  VkDescriptorSetLayoutCreateInfo lci = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
    .bindingCount = 4, .pBindings = bindings};
  if ((r = vkCreateDescriptorSetLayout(d->device, &lci, NULL, &d->set_layout)) != VK_SUCCESS)
    return vk_fail("vkCreateDescriptorSetLayout", r);
  VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0,
                               .size = 128};
  VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1, .pSetLayouts = &d->set_layout,
                                     .pushConstantRangeCount = 1, .pPushConstantRanges = &range};
  if ((r = vkCreatePipelineLayout(d->device, &plci, NULL, &d->pipeline_layout)) != VK_SUCCESS)
    return vk_fail("vkCreatePipelineLayout", r);
  d->workgroup_size = p->max_workgroup_invocations >= 256 ? 256 : p->max_workgroup_invocations;
  load_pipeline_cache(d);
  return LX_OK;
}

lx_status lx_vk_device_get(lx_device *dev, lx_vk_device **out) {
  lx_vk_device *d = dev->impl;
  if (d) { *out = d; return LX_OK; }
  pthread_mutex_lock(&create_lock);
  lx_status st = LX_OK;
  if (!dev->impl) {
    int index = atoi(dev->name + 7); /* "vulkan:N" */
    d = calloc(1, sizeof *d);
    if (!d) st = lx_set_error(LX_ERR_MEMORY, "vulkan: out of host memory");
    else {
      d->phys = lx_vk_physical_at(index);
      pthread_mutex_init(&d->lock, NULL);
      if (!d->phys) st = lx_set_error(LX_ERR_DEVICE, "vulkan: no device %d", index);
      if (st == LX_OK) st = create_logical(d);
      if (st == LX_OK) st = lx_vk_arena_init(d);
      if (st == LX_OK) st = lx_vk_stream_init(d);
      if (st != LX_OK) {
        /* Keep the message; leave the device unusable rather than half made. */
        free(d);
        d = NULL;
      } else {
        if (ncreated == 0) atexit(save_all_caches);
        created[ncreated++] = d;
        dev->impl = d;
      }
    }
  }
  pthread_mutex_unlock(&create_lock);
  if (st == LX_OK) *out = dev->impl;
  return st;
}
