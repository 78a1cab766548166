/*
** vk_device.h — a Vulkan device as the backend uses it: the logical
** device, its queue, the memory arena, the command stream and pipelines.
*/
#ifndef LX_VK_DEVICE_H
#define LX_VK_DEVICE_H

#include "vk_internal.h"

#include <pthread.h>

/* ----------------------------------------------------------------- memory */

/* One large VkDeviceMemory with one VkBuffer over all of it; arrays get
** aligned ranges of it (no allocation per array). */
typedef struct lx_vk_block {
  VkDeviceMemory memory;
  VkBuffer buffer;
  VkDeviceSize size;
  void *mapped; /* host address when the memory is host-visible */
  /* Free ranges, sorted by offset, coalesced. */
  struct { VkDeviceSize offset, size; } *free;
  int nfree, cap;
  int live; /* allocations in this block */
  bool dedicated;
} lx_vk_block;

/* An array buffer: a range of a block, plus what the command stream needs
** to know about pending work on it. */
typedef struct lx_vk_alloc {
  lx_vk_block *block;
  VkDeviceSize offset, size;
  uint64_t last_use;   /* batch serial that last referenced it */
  uint64_t last_write; /* batch serial that last wrote it */
  uint64_t read_epoch, write_epoch; /* barrier tracking within a batch */
  struct lx_vk_alloc *next_deferred;
} lx_vk_alloc;

typedef struct lx_vk_arena {
  uint32_t memory_type;
  bool host_visible; /* blocks are mapped: uploads need no staging */
  /* Mapped and host-cached, so the CPU reads it fast. Mapped device memory
  ** of a discrete GPU (ReBAR) is write-combined and uncached: reading it
  ** from the CPU is orders of magnitude slower than a GPU copy into cached
  ** staging memory, so downloads take the staging path there. */
  bool host_readable;
  VkDeviceSize block_size, alignment;
  lx_vk_block **blocks;
  int nblocks, cap;
  /* Freed while the GPU may still use them, oldest first. */
  lx_vk_alloc *deferred, *deferred_tail;
  /* Upload ring (devices whose arena memory is not mapped): an upload
  ** copies into a slice and queues a GPU copy without waiting, so it
  ** overlaps the compute already queued; a slice is reused once the batch
  ** that copied from it has completed. */
  VkDeviceMemory ring_memory;
  VkBuffer ring_buffer;
  VkDeviceSize ring_size, ring_head;
  void *ring_mapped;
  struct { VkDeviceSize start, end; uint64_t serial; } ring_busy[64];
  int ring_first, ring_count; /* a FIFO of slices in flight */
  /* Staging for downloads, and for uploads too large for the ring. */
  VkDeviceMemory staging_memory;
  VkBuffer staging_buffer;
  VkDeviceSize staging_size;
  void *staging_mapped;
  uint32_t staging_type;
} lx_vk_arena;

/* ------------------------------------------------------------- pipelines */

#define LX_VK_OPS 16

typedef struct lx_vk_pipelines {
  VkPipeline unary[LX_DTYPE_COUNT][LX_VK_OPS];
  VkPipeline logical_not[LX_DTYPE_COUNT];
  VkPipeline binary[LX_DTYPE_COUNT][LX_VK_OPS];
  VkPipeline compare[LX_DTYPE_COUNT][LX_VK_OPS];
  VkPipeline where[4];
  VkPipeline convert[LX_DTYPE_COUNT][LX_DTYPE_COUNT];
  VkPipeline fill[4];
} lx_vk_pipelines;

/* ---------------------------------------------------------------- stream */

typedef struct lx_vk_cmd {
  VkCommandBuffer cb;
  uint64_t serial; /* the batch it recorded; reusable once completed */
} lx_vk_cmd;

#define LX_VK_CMD_RING 8

typedef struct lx_vk_stream {
  VkSemaphore timeline;
  uint64_t submitted, completed;
  lx_vk_cmd ring[LX_VK_CMD_RING];
  lx_vk_cmd *recording; /* NULL when no batch is open */
  uint64_t epoch;       /* advances at each barrier */
  int dispatches;       /* in the open batch */
} lx_vk_stream;

/* Op families whose pipelines live in their own table (the elementwise ones
** are in lx_vk_pipelines): one block per device each, see lx_vk_table. */
typedef enum lx_vk_table_id {
  LX_VK_TABLE_REDUCE_MATMUL, LX_VK_TABLE_RANDOM, LX_VK_TABLE_WINDOW_TAKE, LX_VK_TABLE_CONV,
  LX_VK_TABLE_COUNT
} lx_vk_table_id;

typedef struct lx_vk_device {
  const lx_vk_physical *phys;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkCommandPool pool;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout pipeline_layout;
  VkPipelineCache cache;
  bool cache_dirty;
  char cache_path[512];
  uint32_t workgroup_size;
  lx_vk_arena arena;
  lx_vk_stream stream;
  lx_vk_pipelines pipes;
  void *tables[LX_VK_TABLE_COUNT]; /* lx_vk_table's blocks, NULL until used */
  pthread_mutex_t lock; /* one per device: Vulkan queues need external sync */
} lx_vk_device;

/* The device behind an lx_device, created on first use. */
lx_status lx_vk_device_get(lx_device *dev, lx_vk_device **out);

/* vk_memory.c (the device lock is held by callers) */
lx_status lx_vk_arena_init(lx_vk_device *d);
lx_status lx_vk_alloc_new(lx_vk_device *d, size_t nbytes, lx_vk_alloc **out);
void lx_vk_alloc_free(lx_vk_device *d, lx_vk_alloc *a);
/* Frees deferred allocations whose work has completed. */
void lx_vk_arena_collect(lx_vk_device *d);
lx_status lx_vk_staging_reserve(lx_vk_device *d, VkDeviceSize size);
/* Queues an upload of `size` bytes into `a` at `offset` through the ring;
** returns LX_ERR_ARGUMENT without doing anything when it does not fit the
** ring (the caller then uploads synchronously). */
lx_status lx_vk_ring_upload(lx_vk_device *d, lx_vk_alloc *a, VkDeviceSize offset,
                            const void *src, VkDeviceSize size);

/* vk_stream.c */
lx_status lx_vk_stream_init(lx_vk_device *d);
/* Records a dispatch. bindings[0] is written, the rest read; offsets are
** the allocations' own (elements are addressed via push constants). */
lx_status lx_vk_record_dispatch(lx_vk_device *d, VkPipeline pipeline, int nbindings,
                                lx_vk_alloc *const *bindings, const void *push,
                                uint32_t push_size, uint32_t groups);
lx_status lx_vk_record_copy(lx_vk_device *d, VkBuffer src, VkDeviceSize src_offset,
                            VkBuffer dst, VkDeviceSize dst_offset, VkDeviceSize size,
                            lx_vk_alloc *read, lx_vk_alloc *written);
lx_status lx_vk_submit(lx_vk_device *d);
/* Waits until batch `serial` has completed (submitting it if open). */
lx_status lx_vk_wait(lx_vk_device *d, uint64_t serial);
lx_status lx_vk_poll(lx_vk_device *d);
/* The serial of the batch being recorded (or the next one). */
uint64_t lx_vk_current_serial(const lx_vk_device *d);

/* vk_pipelines.c */
typedef enum lx_vk_family {
  LX_VK_UNARY, LX_VK_NOT, LX_VK_BINARY, LX_VK_COMPARE, LX_VK_WHERE, LX_VK_CONVERT, LX_VK_FILL
} lx_vk_family;
/* `a`, `b`: dtypes (convert: from, to), or the size index for where/fill. */
lx_status lx_vk_pipeline(lx_vk_device *d, lx_vk_family family, int a, int b, int op,
                         VkPipeline *out);
void lx_vk_pipeline_cache_save(lx_vk_device *d);
/* Family `id`'s table of `size` bytes on this device, zeroed when first
** asked for and kept until exit, as devices are; NULL (with an error set)
** when out of memory. The caller holds d->lock. */
void *lx_vk_table(lx_vk_device *d, lx_vk_table_id id, size_t size);
/* The dtype's token in shader module names: "f32", "bf16", "u64". */
const char *lx_vk_dtype_token(lx_dtype t);
#define LX_VK_MAX_SPEC 8
/* Compiles embedded module `name` into *slot, with specialization constants
** 0..n-1 set to spec[0..n-1] (0: workgroup size, 1: op code, 2...: the
** family's own), in the device's pipeline cache. */
lx_status lx_vk_make_pipeline(lx_vk_device *d, const char *name, const int32_t *spec, int n,
                              VkPipeline *slot);

/* vk_backend.c: whether the device can hold and move arrays of dtype t
** (16/8-bit storage, Int64, Float64); a clear error naming `fn` if not. */
lx_status lx_vk_check_dtype(lx_vk_device *d, lx_dtype t, const char *fn);

extern const lx_backend lx_vulkan_backend;

#endif
