/*
** vk_memory.c — the device memory arena: large blocks, each one
** VkDeviceMemory with one VkBuffer over it, suballocated first-fit with
** coalescing. Arrays never get a Vulkan allocation of their own (drivers
** limit their number and allocation is slow); blocks are 64 MiB, and
** larger requests get a dedicated block that is returned when freed.
**
** Memory type: device-local and host-visible when the device has enough of
** it (integrated GPUs, lavapipe, discrete GPUs with ReBAR), so uploads and
** downloads are plain memcpy; otherwise device-local with a staging buffer.
*/
#include "vk_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE ((VkDeviceSize)64 << 20)
#define ALIGNMENT ((VkDeviceSize)256) /* >= every minStorageBufferOffsetAlignment */

static lx_status oom(VkDeviceSize size) {
  return lx_set_error(LX_ERR_MEMORY, "vulkan: out of device memory allocating %llu bytes",
                      (unsigned long long)size);
}

static int find_type(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want) {
  for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
    if ((mp->memoryTypes[i].propertyFlags & want) == want) return (int)i;
  return -1;
}

lx_status lx_vk_arena_init(lx_vk_device *d) {
  lx_vk_arena *ar = &d->arena;
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(d->phys->handle, &mp);
  VkDeviceSize largest_local = 0;
  for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
    if ((mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
        mp.memoryHeaps[i].size > largest_local)
      largest_local = mp.memoryHeaps[i].size;
  const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  const VkMemoryPropertyFlags mapped = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int uma = find_type(&mp, local | mapped);
  /* LUNOX_VULKAN_STAGING=1 takes the staging path even where device memory
  ** is mappable, so machines without a discrete GPU (lavapipe) test it. */
  const char *force = getenv("LUNOX_VULKAN_STAGING");
  bool staging_only = force && *force && strcmp(force, "0") != 0;
  /* A small host-visible device heap (the 256 MiB BAR window without
  ** ReBAR) is not worth it for arrays. */
  if (!staging_only && uma >= 0 &&
      mp.memoryHeaps[mp.memoryTypes[uma].heapIndex].size * 2 >= largest_local) {
    ar->memory_type = (uint32_t)uma;
    ar->host_visible = true;
    ar->host_readable =
        (mp.memoryTypes[uma].propertyFlags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) != 0;
  } else {
    int t = find_type(&mp, local);
    if (t < 0) t = find_type(&mp, 0);
    if (t < 0) return lx_set_error(LX_ERR_DEVICE, "vulkan: %s has no usable memory type", d->phys->name);
    ar->memory_type = (uint32_t)t;
    ar->host_visible = false;
  }
  int staging = find_type(&mp, mapped | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  if (staging < 0) staging = find_type(&mp, mapped);
  if (staging < 0 && !ar->host_visible)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: %s has no host-visible memory", d->phys->name);
  ar->staging_type = staging < 0 ? 0 : (uint32_t)staging;
  ar->block_size = BLOCK_SIZE;
  ar->alignment = ALIGNMENT;
  return LX_OK;
}

/* A VkBuffer over new memory of `size` bytes of `type`. */
static lx_status new_buffer(lx_vk_device *d, uint32_t type, VkDeviceSize size, bool map,
                            VkDeviceMemory *memory, VkBuffer *buffer, void **mapped) {
  VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                            .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                            .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
  VkResult r = vkCreateBuffer(d->device, &bci, NULL, buffer);
  if (r != VK_SUCCESS) return oom(size);
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(d->device, *buffer, &req);
  if (!(req.memoryTypeBits & (1u << type))) {
    vkDestroyBuffer(d->device, *buffer, NULL);
    return lx_set_error(LX_ERR_DEVICE, "vulkan: buffers cannot use memory type %u", type);
  }
  VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                              .allocationSize = req.size, .memoryTypeIndex = type};
  r = vkAllocateMemory(d->device, &mai, NULL, memory);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(d->device, *buffer, NULL);
    return oom(size);
  }
  vkBindBufferMemory(d->device, *buffer, *memory, 0);
  *mapped = NULL;
  if (map && vkMapMemory(d->device, *memory, 0, VK_WHOLE_SIZE, 0, mapped) != VK_SUCCESS) {
    vkDestroyBuffer(d->device, *buffer, NULL);
    vkFreeMemory(d->device, *memory, NULL);
    return lx_set_error(LX_ERR_DEVICE, "vulkan: vkMapMemory failed");
  }
  return LX_OK;
}

static lx_status block_new(lx_vk_device *d, VkDeviceSize size, bool dedicated, lx_vk_block **out) {
  lx_vk_arena *ar = &d->arena;
  if (ar->nblocks == ar->cap) {
    int cap = ar->cap ? ar->cap * 2 : 16;
    lx_vk_block **grown = realloc(ar->blocks, (size_t)cap * sizeof *grown);
    if (!grown) return lx_set_error(LX_ERR_MEMORY, "vulkan: out of host memory");
    ar->blocks = grown;
    ar->cap = cap;
  }
  lx_vk_block *b = calloc(1, sizeof *b);
  if (!b) return lx_set_error(LX_ERR_MEMORY, "vulkan: out of host memory");
  b->free = malloc(8 * sizeof *b->free);
  if (!b->free) { free(b); return lx_set_error(LX_ERR_MEMORY, "vulkan: out of host memory"); }
  b->cap = 8;
  lx_status st = new_buffer(d, ar->memory_type, size, ar->host_visible, &b->memory, &b->buffer,
                            &b->mapped);
  if (st != LX_OK) { free(b->free); free(b); return st; }
  b->size = size;
  b->dedicated = dedicated;
  b->free[0].offset = 0;
  b->free[0].size = size;
  b->nfree = 1;
  ar->blocks[ar->nblocks++] = b;
  *out = b;
  return LX_OK;
}

static void block_destroy(lx_vk_device *d, lx_vk_block *b) {
  lx_vk_arena *ar = &d->arena;
  for (int i = 0; i < ar->nblocks; i++)
    if (ar->blocks[i] == b) { ar->blocks[i] = ar->blocks[--ar->nblocks]; break; }
  vkDestroyBuffer(d->device, b->buffer, NULL);
  vkFreeMemory(d->device, b->memory, NULL);
  free(b->free);
  free(b);
}

/* First fit; returns the offset or -1. */
static int64_t block_take(lx_vk_block *b, VkDeviceSize size) {
  for (int i = 0; i < b->nfree; i++) {
    if (b->free[i].size < size) continue;
    VkDeviceSize off = b->free[i].offset;
    b->free[i].offset += size;
    b->free[i].size -= size;
    if (b->free[i].size == 0) {
      memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
      b->nfree--;
    }
    return (int64_t)off;
  }
  return -1;
}

/* Returns a range, merging with its neighbours. */
static bool block_give(lx_vk_block *b, VkDeviceSize off, VkDeviceSize size) {
  int i = 0;
  while (i < b->nfree && b->free[i].offset < off) i++;
  bool merge_prev = i > 0 && b->free[i - 1].offset + b->free[i - 1].size == off;
  bool merge_next = i < b->nfree && off + size == b->free[i].offset;
  if (merge_prev && merge_next) {
    b->free[i - 1].size += size + b->free[i].size;
    memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
    b->nfree--;
  } else if (merge_prev) {
    b->free[i - 1].size += size;
  } else if (merge_next) {
    b->free[i].offset = off;
    b->free[i].size += size;
  } else {
    if (b->nfree == b->cap) {
      int cap = b->cap * 2;
      void *grown = realloc(b->free, (size_t)cap * sizeof *b->free);
      if (!grown) return false; /* the range leaks inside the block, nothing worse */
      b->free = grown;
      b->cap = cap;
    }
    memmove(&b->free[i + 1], &b->free[i], (size_t)(b->nfree - i) * sizeof *b->free);
    b->free[i].offset = off;
    b->free[i].size = size;
    b->nfree++;
  }
  return true;
}

lx_status lx_vk_alloc_new(lx_vk_device *d, size_t nbytes, lx_vk_alloc **out) {
  lx_vk_arena *ar = &d->arena;
  lx_vk_arena_collect(d);
  VkDeviceSize size = ((VkDeviceSize)(nbytes ? nbytes : 1) + ar->alignment - 1) &
                      ~(ar->alignment - 1);
  if (size > d->phys->max_storage_buffer_range)
    return lx_set_error(LX_ERR_MEMORY, "vulkan: %llu bytes exceed the device's largest "
                        "storage buffer (%llu bytes)", (unsigned long long)size,
                        (unsigned long long)d->phys->max_storage_buffer_range);
  lx_vk_alloc *a = calloc(1, sizeof *a);
  if (!a) return lx_set_error(LX_ERR_MEMORY, "vulkan: out of host memory");
  lx_vk_block *block = NULL;
  int64_t off = -1;
  if (size <= ar->block_size / 4) {
    for (int i = 0; i < ar->nblocks && off < 0; i++) {
      if (ar->blocks[i]->dedicated) continue;
      off = block_take(ar->blocks[i], size);
      if (off >= 0) block = ar->blocks[i];
    }
    if (off < 0) {
      lx_status st = block_new(d, ar->block_size, false, &block);
      if (st != LX_OK) { free(a); return st; }
      off = block_take(block, size);
    }
  } else {
    lx_status st = block_new(d, size, true, &block);
    if (st != LX_OK) { free(a); return st; }
    off = block_take(block, size);
  }
  a->block = block;
  a->offset = (VkDeviceSize)off;
  a->size = size;
  block->live++;
  *out = a;
  return LX_OK;
}

static void release_now(lx_vk_device *d, lx_vk_alloc *a) {
  lx_vk_block *b = a->block;
  block_give(b, a->offset, a->size);
  b->live--;
  free(a);
  /* Dedicated blocks go back to the driver at once; shared blocks stay for
  ** reuse (lx_memory_trim could return empty ones). */
  if (b->dedicated && b->live == 0) block_destroy(d, b);
}

void lx_vk_alloc_free(lx_vk_device *d, lx_vk_alloc *a) {
  /* Work still queued or running may read or write it: wait for that
  ** batch to finish before reusing the range. */
  if (a->last_use > d->stream.completed) {
    a->next_deferred = NULL;
    if (d->arena.deferred_tail) d->arena.deferred_tail->next_deferred = a;
    else d->arena.deferred = a;
    d->arena.deferred_tail = a;
    return;
  }
  release_now(d, a);
}

/* Releases from the head of the queue while its work is done. The queue is
** in order of freeing, which follows batch order closely enough: stopping
** at the first busy entry keeps this O(released) per call (walking the
** whole queue on every allocation was quadratic). */
void lx_vk_arena_collect(lx_vk_device *d) {
  lx_vk_arena *ar = &d->arena;
  if (!ar->deferred) return;
  lx_vk_poll(d);
  while (ar->deferred && ar->deferred->last_use <= d->stream.completed) {
    lx_vk_alloc *a = ar->deferred;
    ar->deferred = a->next_deferred;
    if (!ar->deferred) ar->deferred_tail = NULL;
    release_now(d, a);
  }
}

lx_status lx_vk_staging_reserve(lx_vk_device *d, VkDeviceSize size) {
  lx_vk_arena *ar = &d->arena;
  if (ar->staging_size >= size) return LX_OK;
  if (ar->staging_buffer) {
    vkDestroyBuffer(d->device, ar->staging_buffer, NULL);
    vkFreeMemory(d->device, ar->staging_memory, NULL);
    ar->staging_buffer = VK_NULL_HANDLE;
    ar->staging_size = 0;
  }
  VkDeviceSize want = size < ((VkDeviceSize)16 << 20) ? ((VkDeviceSize)16 << 20) : size;
  lx_status st = new_buffer(d, ar->staging_type, want, true, &ar->staging_memory,
                            &ar->staging_buffer, &ar->staging_mapped);
  if (st == LX_OK) ar->staging_size = want;
  return st;
}

#define RING_SIZE ((VkDeviceSize)64 << 20)
#define RING_SLOTS 64

/* Waits until no queued copy reads [start, end) of the ring and a slot is
** free. Slices are taken in ring order, so waiting for the oldest one in
** flight is always the way forward. */
static lx_status ring_make_room(lx_vk_device *d, VkDeviceSize start, VkDeviceSize end) {
  lx_vk_arena *ar = &d->arena;
  for (;;) {
    lx_status st = lx_vk_poll(d);
    if (st != LX_OK) return st;
    while (ar->ring_count > 0 && ar->ring_busy[ar->ring_first].serial <= d->stream.completed) {
      ar->ring_first = (ar->ring_first + 1) % RING_SLOTS;
      ar->ring_count--;
    }
    bool blocked = ar->ring_count == RING_SLOTS;
    for (int k = 0; k < ar->ring_count && !blocked; k++) {
      int j = (ar->ring_first + k) % RING_SLOTS;
      blocked = ar->ring_busy[j].start < end && start < ar->ring_busy[j].end;
    }
    if (!blocked) return LX_OK;
    if ((st = lx_vk_wait(d, ar->ring_busy[ar->ring_first].serial)) != LX_OK) return st;
  }
}

lx_status lx_vk_ring_upload(lx_vk_device *d, lx_vk_alloc *a, VkDeviceSize offset,
                            const void *src, VkDeviceSize size) {
  lx_vk_arena *ar = &d->arena;
  if (size > RING_SIZE / 4) return LX_ERR_ARGUMENT;
  if (!ar->ring_buffer) {
    lx_status st = new_buffer(d, ar->staging_type, RING_SIZE, true, &ar->ring_memory,
                              &ar->ring_buffer, &ar->ring_mapped);
    if (st != LX_OK) return st;
    ar->ring_size = RING_SIZE;
  }
  /* Copies need 4-byte aligned offsets and sizes are padded by the arena. */
  VkDeviceSize start = (ar->ring_head + 15) & ~(VkDeviceSize)15;
  if (start + size > ar->ring_size) start = 0;
  lx_status st = ring_make_room(d, start, start + size);
  if (st != LX_OK) return st;
  memcpy((char *)ar->ring_mapped + start, src, (size_t)size);
  st = lx_vk_record_copy(d, ar->ring_buffer, start, a->block->buffer, a->offset + offset, size,
                         NULL, a);
  if (st != LX_OK) return st;
  int slot = (ar->ring_first + ar->ring_count) % RING_SLOTS;
  ar->ring_busy[slot].start = start;
  ar->ring_busy[slot].end = start + size;
  ar->ring_busy[slot].serial = a->last_write; /* the batch holding the copy */
  ar->ring_count++;
  ar->ring_head = start + size;
  return LX_OK;
}
