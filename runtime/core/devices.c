/*
** devices.c — the device registry (the runtime's one piece of process-wide
** state) and device selection.
*/
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CPU device always exists; each Vulkan physical device becomes
** "vulkan:N" (its logical device is created on first use). */
static lx_device cpu_device = {.backend = &lx_cpu_backend, .name = "cpu"};

#ifdef LUNOX_WITH_VULKAN
#include "vk_internal.h"
extern const lx_backend lx_vulkan_backend;
#define MAX_DEVICES (1 + LX_VK_MAX_DEVICES)
#else
#define MAX_DEVICES 1
#endif

static struct {
  pthread_once_t once;
  atomic_int ready; /* set once the devices are enumerated */
  int count;
  lx_device *devices[MAX_DEVICES];
  lx_device *first_gpu; /* the default when LUNOX_DEVICE is not set */
#ifdef LUNOX_WITH_VULKAN
  lx_device vulkan[LX_VK_MAX_DEVICES];
#endif
} registry = {.once = PTHREAD_ONCE_INIT};

static void registry_init(void) {
  registry.devices[registry.count++] = &cpu_device;
#ifdef LUNOX_WITH_VULKAN
  int n = lx_vk_physical_count();
  for (int i = 0; i < n && i < LX_VK_MAX_DEVICES; i++) {
    lx_device *d = &registry.vulkan[i];
    d->backend = &lx_vulkan_backend;
    snprintf(d->name, sizeof d->name, "vulkan:%d", i);
    registry.devices[registry.count++] = d;
    lx_device_info info;
    if (!registry.first_gpu && lx_device_info_get(d, &info) == LX_OK && info.is_gpu)
      registry.first_gpu = d;
  }
#endif
  atomic_store(&registry.ready, 1);
}

static void registry_ready(void) { pthread_once(&registry.once, registry_init); }

/* The devices enumerated so far, without enumerating: memory accounting
** and sync run on every op and must not start Vulkan (loading drivers costs
** tens of milliseconds) in a process that only uses the CPU. */
static int known_count(void) { return atomic_load(&registry.ready) ? registry.count : 0; }
static lx_device *known_at(int i) { return i == 0 ? &cpu_device : registry.devices[i]; }

lx_device *lx_device_cpu(void) { return &cpu_device; }

const char *lx_device_name(const lx_device *device) { return device->name; }

int lx_device_count(void) {
  registry_ready();
  return registry.count;
}

lx_device *lx_device_at(int index) {
  registry_ready();
  return index >= 0 && index < registry.count ? registry.devices[index] : NULL;
}

const char *lx_backend_unavailable_reason(const char *kind) {
  if (strcmp(kind, "cpu") == 0) return NULL;
  if (strcmp(kind, "vulkan") != 0) return "unknown backend";
#ifdef LUNOX_WITH_VULKAN
  return lx_vk_unavailable_reason();
#else
  return "this build of lunox has no Vulkan backend";
#endif
}

uint64_t lx_vulkan_validation_messages(const char **last) {
#ifdef LUNOX_WITH_VULKAN
  if (last) *last = lx_vk_validation_last();
  return lx_vk_validation_count();
#else
  if (last) *last = "";
  return 0;
#endif
}

lx_status lx_device_find(const char *name, lx_device **out) {
  if (strcmp(name, "cpu") == 0) { /* without starting Vulkan */
    *out = &cpu_device;
    return LX_OK;
  }
  registry_ready();
  /* "vulkan" alone is the first Vulkan device. */
  const char *want = strcmp(name, "vulkan") == 0 ? "vulkan:0" : name;
  for (int i = 0; i < registry.count; i++) {
    if (strcmp(registry.devices[i]->name, want) == 0) {
      *out = registry.devices[i];
      return LX_OK;
    }
  }
  if (strncmp(name, "vulkan", 6) == 0 && (name[6] == 0 || name[6] == ':')) {
    const char *why = lx_backend_unavailable_reason("vulkan");
    return lx_set_error(LX_ERR_DEVICE, "device '%s' is not available: %s", name,
                        why ? why : "no such Vulkan device");
  }
  return lx_set_error(LX_ERR_DEVICE, "unknown device '%s' (expected \"cpu\", \"vulkan\" "
                      "or \"vulkan:N\")", name);
}

/* LUNOX_DEVICE when set; else the first Vulkan device that is a real GPU
** (a CPU driver such as lavapipe is slower than the CPU backend, so it is
** used only when asked for); else the CPU. */
lx_status lx_device_default(lx_device **out) {
  const char *env = getenv("LUNOX_DEVICE");
  if (env && *env) {
    lx_status st = lx_device_find(env, out);
    if (st != LX_OK)
      return lx_set_error(st, "LUNOX_DEVICE=%s: %s", env, lx_last_error());
    return LX_OK;
  }
  registry_ready();
  *out = registry.first_gpu ? registry.first_gpu : &cpu_device;
  return LX_OK;
}

lx_status lx_device_info_get(lx_device *device, lx_device_info *out) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", device->name);
  snprintf(out->kind, sizeof out->kind, "%s", device->backend->kind);
  out->bytes_in_use = atomic_load(&device->bytes_in_use);
  return device->backend->describe(device, out);
}

lx_status lx_sync(lx_device *device) {
  if (device) return device->backend->sync(device);
  int n = known_count() ? known_count() : 1;
  for (int i = 0; i < n; i++) {
    lx_device *d = known_at(i);
    lx_status st = d->backend->sync(d);
    if (st != LX_OK) return st;
  }
  return LX_OK;
}

void lx_memory_trim(void) {
  int n = known_count() ? known_count() : 1;
  for (int i = 0; i < n; i++) {
    lx_device *d = known_at(i);
    if (d->backend->trim) d->backend->trim(d);
  }
}

uint64_t lx_memory_in_use(void) {
  int n = known_count() ? known_count() : 1;
  uint64_t total = 0;
  for (int i = 0; i < n; i++) total += atomic_load(&known_at(i)->bytes_in_use);
  return total;
}
