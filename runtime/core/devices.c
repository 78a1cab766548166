/*
** devices.c — the device registry (the runtime's one piece of process-wide
** state) and device selection.
*/
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CPU device always exists; GPU backends add theirs when they load. */
static lx_device cpu_device = {.backend = &lx_cpu_backend, .name = "cpu"};

lx_device *lx__cpu_device(void) { return &cpu_device; }
lx_device *lx_device_cpu(void) { return &cpu_device; }

int lx_device_count(void) { return 1; }

lx_device *lx_device_at(int index) { return index == 0 ? &cpu_device : NULL; }

const char *lx_backend_unavailable_reason(const char *kind) {
  if (strcmp(kind, "vulkan") == 0) return "this build of lunox has no Vulkan backend";
  if (strcmp(kind, "cpu") == 0) return NULL;
  return "unknown backend";
}

lx_status lx_device_find(const char *name, lx_device **out) {
  for (int i = 0; i < lx_device_count(); i++) {
    lx_device *d = lx_device_at(i);
    if (strcmp(d->name, name) == 0) { *out = d; return LX_OK; }
  }
  if (strncmp(name, "vulkan", 6) == 0 && (name[6] == 0 || name[6] == ':')) {
    const char *why = lx_backend_unavailable_reason("vulkan");
    return lx_set_error(LX_ERR_DEVICE, "device '%s' is not available: %s", name,
                        why ? why : "no such Vulkan device");
  }
  return lx_set_error(LX_ERR_DEVICE, "unknown device '%s' (expected \"cpu\", \"vulkan\" "
                      "or \"vulkan:N\")", name);
}

lx_status lx_device_default(lx_device **out) {
  const char *env = getenv("LUNOX_DEVICE");
  if (env && *env) {
    lx_status st = lx_device_find(env, out);
    if (st != LX_OK)
      return lx_set_error(st, "LUNOX_DEVICE=%s: %s", env, lx_last_error());
    return LX_OK;
  }
  *out = &cpu_device;
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
  for (int i = 0; i < lx_device_count(); i++) {
    lx_device *d = lx_device_at(i);
    lx_status st = d->backend->sync(d);
    if (st != LX_OK) return st;
  }
  return LX_OK;
}

void lx_memory_trim(void) {
  for (int i = 0; i < lx_device_count(); i++) {
    lx_device *d = lx_device_at(i);
    if (d->backend->trim) d->backend->trim(d);
  }
}

uint64_t lx_memory_in_use(void) {
  uint64_t total = 0;
  for (int i = 0; i < lx_device_count(); i++)
    total += atomic_load(&lx_device_at(i)->bytes_in_use);
  return total;
}
