/*
** vk_instance.c — loading Vulkan through volk, the instance (with the
** Khronos validation layer on request), and the physical devices.
*/
#include "vk_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
  pthread_once_t once;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  int count;
  lx_vk_physical devices[LX_VK_MAX_DEVICES];
  char unavailable[256];
  _Atomic uint64_t validation_count;
  char validation_last[1024];
  pthread_mutex_t validation_lock;
} vk = {.once = PTHREAD_ONCE_INIT, .validation_lock = PTHREAD_MUTEX_INITIALIZER};

const char *lx_vk_result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    default: return "VkResult (unknown)";
  }
}

/* Every validation message counts against the parity suite, so keep the
** count and the last text; print them too when asked. */
static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
  vk.validation_count++;
  pthread_mutex_lock(&vk.validation_lock);
  snprintf(vk.validation_last, sizeof vk.validation_last, "%s",
           data && data->pMessage ? data->pMessage : "(no message)");
  pthread_mutex_unlock(&vk.validation_lock);
  if (getenv("LUNOX_VULKAN_VALIDATION_PRINT"))
    fprintf(stderr, "lunox: vulkan validation: %s\n", vk.validation_last);
  return VK_FALSE;
}

static bool has_layer(const char *name) {
  uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
  VkLayerProperties *props = calloc(n, sizeof *props);
  if (!props) return false;
  bool found = false;
  if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = strcmp(props[i].layerName, name) == 0;
  free(props);
  return found;
}

bool lx_vk_has_device_extension(VkPhysicalDevice pd, const char *name) {
  uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return false;
  VkExtensionProperties *props = calloc(n, sizeof *props);
  if (!props) return false;
  bool found = false;
  if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, props) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++) found = strcmp(props[i].extensionName, name) == 0;
  free(props);
  return found;
}

static void describe_physical(VkPhysicalDevice pd, lx_vk_physical *d) {
  memset(d, 0, sizeof *d);
  d->handle = pd;
  VkPhysicalDeviceSubgroupProperties subgroup = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceDriverProperties driver = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &subgroup};
  VkPhysicalDeviceProperties2 props = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &driver};
  vkGetPhysicalDeviceProperties2(pd, &props);
  snprintf(d->name, sizeof d->name, "%s", props.properties.deviceName);
  snprintf(d->driver, sizeof d->driver, "%.63s", driver.driverName);
  d->vendor_id = props.properties.vendorID;
  d->device_id = props.properties.deviceID;
  d->type = props.properties.deviceType;
  d->subgroup_size = subgroup.subgroupSize;
  d->max_workgroup_invocations = props.properties.limits.maxComputeWorkGroupInvocations;
  d->max_push_constants = props.properties.limits.maxPushConstantsSize;
  d->max_storage_buffer_range = props.properties.limits.maxStorageBufferRange;

  VkPhysicalDeviceVulkan12Features f12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features f11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, .pNext = &f12};
  VkPhysicalDeviceFeatures2 features = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
  vkGetPhysicalDeviceFeatures2(pd, &features);
  d->int64 = features.features.shaderInt64;
  d->float64 = features.features.shaderFloat64;
  d->float16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess;
  d->int8_storage = f12.storageBuffer8BitAccess && f12.shaderInt8;
  /* uint16 is only loaded, stored and widened to 32 bits: no shaderInt16. */
  d->int16_storage = f11.storageBuffer16BitAccess;
  d->coopmat = lx_vk_has_device_extension(pd, "VK_KHR_cooperative_matrix");
  d->bfloat16 = lx_vk_has_device_extension(pd, "VK_KHR_shader_bfloat16");

  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t i = 0; i < mem.memoryHeapCount; i++)
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d->device_local_bytes += mem.memoryHeaps[i].size;
  for (uint32_t i = 0; i < mem.memoryTypeCount; i++) {
    VkMemoryPropertyFlags f = mem.memoryTypes[i].propertyFlags;
    if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      d->uma = true;
  }
}

/* volk finds libvulkan.so.1 by itself; LUNOX_VULKAN_LOADER names another
** loader library (one outside the library path, or none at all in tests). */
static bool load_loader(void) {
  const char *path = getenv("LUNOX_VULKAN_LOADER");
  if (!path || !*path) {
    if (volkInitialize() == VK_SUCCESS) return true;
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "no Vulkan loader found (libvulkan.so.1; Debian: libvulkan1)");
    return false;
  }
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  PFN_vkGetInstanceProcAddr gipa = lib ? (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr") : NULL;
  if (!gipa) {
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "no Vulkan loader at LUNOX_VULKAN_LOADER=%.180s", path);
    return false;
  }
  volkInitializeCustom(gipa);
  return true;
}

static void init_once(void) {
  if (!load_loader()) return;
  VkResult r;
  if (volkGetInstanceVersion() < VK_API_VERSION_1_2) {
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "the Vulkan loader is older than 1.2");
    return;
  }
  const char *want_validation = getenv("LUNOX_VULKAN_VALIDATION");
  bool validation = want_validation && *want_validation && strcmp(want_validation, "0") != 0;
  const char *layers[1] = {"VK_LAYER_KHRONOS_validation"};
  const char *extensions[1] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  if (validation && !has_layer(layers[0])) {
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "LUNOX_VULKAN_VALIDATION is set but the Khronos validation layer is not "
             "installed (Debian: vulkan-validationlayers)");
    return;
  }
  VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                           .pApplicationName = "lunox",
                           .pEngineName = "lunox",
                           .apiVersion = VK_API_VERSION_1_2};
  VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                             .pApplicationInfo = &app,
                             .enabledLayerCount = validation ? 1 : 0,
                             .ppEnabledLayerNames = layers,
                             .enabledExtensionCount = validation ? 1 : 0,
                             .ppEnabledExtensionNames = extensions};
  r = vkCreateInstance(&ci, NULL, &vk.instance);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "the Vulkan loader found no driver (install the GPU vendor's Vulkan driver, or "
             "Debian's mesa-vulkan-drivers for lavapipe)");
    return;
  }
  if (r != VK_SUCCESS) {
    snprintf(vk.unavailable, sizeof vk.unavailable, "vkCreateInstance failed: %s",
             lx_vk_result_name(r));
    return;
  }
  volkLoadInstanceOnly(vk.instance);
  if (validation) {
    VkDebugUtilsMessengerCreateInfoEXT mi = {
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
      .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
      .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
      .pfnUserCallback = on_validation};
    vkCreateDebugUtilsMessengerEXT(vk.instance, &mi, NULL, &vk.messenger);
  }
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(vk.instance, &n, NULL);
  if (n == 0) {
    snprintf(vk.unavailable, sizeof vk.unavailable,
             "the Vulkan loader found no device (no driver installed? Debian: "
             "mesa-vulkan-drivers for lavapipe)");
    return;
  }
  VkPhysicalDevice pds[LX_VK_MAX_DEVICES];
  if (n > LX_VK_MAX_DEVICES) n = LX_VK_MAX_DEVICES;
  vkEnumeratePhysicalDevices(vk.instance, &n, pds);
  for (uint32_t i = 0; i < n; i++) {
    describe_physical(pds[i], &vk.devices[vk.count]);
    if (vk.devices[vk.count].max_workgroup_invocations < 64) continue; /* too small */
    vk.count++;
  }
}

void lx_vk_init(void) { pthread_once(&vk.once, init_once); }

int lx_vk_physical_count(void) {
  lx_vk_init();
  return vk.count;
}

const lx_vk_physical *lx_vk_physical_at(int index) {
  lx_vk_init();
  return index >= 0 && index < vk.count ? &vk.devices[index] : NULL;
}

const char *lx_vk_unavailable_reason(void) {
  lx_vk_init();
  return vk.unavailable[0] ? vk.unavailable : NULL;
}

VkInstance lx_vk_instance(void) { return vk.instance; }

uint64_t lx_vk_validation_count(void) { return vk.validation_count; }

const char *lx_vk_validation_last(void) { return vk.validation_last; }
