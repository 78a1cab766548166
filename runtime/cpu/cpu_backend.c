/*
** cpu_backend.c — the CPU backend: host memory, synchronous execution.
*/
#include "cpu_block_cache.h"
#include "cpu_kernels.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Buffers of 1 KiB and more are 64-byte aligned: a cache line, and enough
** for any vector unit. */
#define CPU_ALIGNMENT 64
#define CPU_SMALL_BLOCK ((size_t)1024)
/* Large buffers are aligned to and advised as transparent huge pages, as
** NumPy does: a fresh 40 MB result then costs 20 page faults, not 10,000. */
#define CPU_HUGE_THRESHOLD ((size_t)4 << 20)
#define CPU_HUGE_PAGE ((size_t)2 << 20)

static lx_status cpu_alloc(lx_device *dev, size_t nbytes, void **handle) {
  /* Round up so empty arrays still own a distinct, freeable block. */
  size_t n = lx__cpu_cache_round(nbytes ? nbytes : 1);
  void *p = lx__cpu_cache_take(n);
  if (p) {
    *handle = p;
    return LX_OK;
  }
  size_t align = n >= CPU_HUGE_THRESHOLD ? CPU_HUGE_PAGE : CPU_ALIGNMENT;
  /* Small buffers take malloc's 16-byte alignment (enough for every dtype):
  ** posix_memalign splits chunks, and with one tiny buffer per op the heap
  ** fragmentation cost more than the op itself. */
  if (n < CPU_SMALL_BLOCK) p = malloc(n);
  else if (posix_memalign(&p, align, n) != 0) p = NULL;
  if (!p) return lx_set_error(LX_ERR_MEMORY, "cpu: out of memory allocating %zu bytes", nbytes);
#ifdef MADV_HUGEPAGE
  if (align == CPU_HUGE_PAGE) madvise(p, n & ~(CPU_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
  *handle = p;
  return LX_OK;
}

static void cpu_free(lx_device *dev, void *handle, size_t nbytes) {
  if (!lx__cpu_cache_put(handle, lx__cpu_cache_round(nbytes ? nbytes : 1))) free(handle);
}

static lx_status cpu_upload(lx_device *dev, void *handle, size_t offset, const void *src,
                            size_t nbytes) {
  memcpy((char *)handle + offset, src, nbytes);
  return LX_OK;
}

static lx_status cpu_download(lx_device *dev, void *handle, size_t offset, void *dst,
                              size_t nbytes) {
  memcpy(dst, (char *)handle + offset, nbytes);
  return LX_OK;
}

static lx_status cpu_run(lx_device *dev, const lx_op *op) {
  switch (op->kind) {
    case LX_OP_UNARY: return lx__cpu_unary(op);
    case LX_OP_BINARY: return lx__cpu_binary(op);
    case LX_OP_WHERE: return lx__cpu_where(op);
    case LX_OP_CONVERT: return lx__cpu_convert(op);
    case LX_OP_REDUCE: return lx__cpu_reduce(op);
    case LX_OP_MATMUL: return lx__cpu_matmul(op);
    case LX_OP_FILL: return lx__cpu_fill(op);
    case LX_OP_RANDOM: return lx__cpu_random(op);
    case LX_OP_REDUCE_WINDOW: return lx__cpu_reduce_window(op);
    case LX_OP_TAKE: return lx__cpu_take(op);
    case LX_OP_CONV: return lx__cpu_conv(op);
  }
  return lx_set_error(LX_ERR_INTERNAL, "cpu: unknown op kind %d", (int)op->kind);
}

static lx_status cpu_sync(lx_device *dev) { return LX_OK; }

static void cpu_trim(lx_device *dev) { lx__cpu_cache_trim(); }

static void *cpu_host_address(lx_device *dev, void *handle) { return handle; }

/* The CPU model name from /proc/cpuinfo, when there is one. */
static void cpu_model(char *buf, size_t size) {
  snprintf(buf, size, "CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *colon = strchr(line, ':');
      if (colon) {
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, size, "%s", colon);
      }
      break;
    }
  }
  fclose(f);
}

static lx_status cpu_describe(lx_device *dev, lx_device_info *info) {
  char model[200];
  cpu_model(model, sizeof model);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  snprintf(info->description, sizeof info->description, "%s, %ld cores, OpenBLAS", model,
           cores);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) info->memory_bytes = (uint64_t)pages * (uint64_t)page;
  info->threads = openblas_get_num_threads();
  snprintf(info->type, sizeof info->type, "CPU");
  info->float16 = info->bfloat16 = info->int64 = info->float64 = true;
  return LX_OK;
}

const lx_backend lx_cpu_backend = {
  .kind = "cpu",
  .buffer_alloc = cpu_alloc,
  .buffer_free = cpu_free,
  .upload = cpu_upload,
  .download = cpu_download,
  .run = cpu_run,
  .sync = cpu_sync,
  .host_address = cpu_host_address,
  .describe = cpu_describe,
  .trim = cpu_trim,
};
