/*
** mapped_file.c — read-only files mapped into memory, and CPU arrays that
** are views of them (zero-copy loading of safetensors).
**
** The mapping is private and writable: pages are shared with the page
** cache until something writes to them (an FFI pointer, say), and a write
** copies the page instead of touching the file. Each array made from the
** mapping holds a reference; the file stays mapped until the last goes.
*/
#include "internal.h"
#include "lunox_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct lx_mapped_file {
  atomic_int refcount;
  uint8_t *data; /* NULL for an empty file */
  size_t size;
};

lx_status lx_file_map(const char *path, lx_mapped_file **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lx_set_error(LX_ERR_IO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return lx_set_error(LX_ERR_IO, "%s: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return lx_set_error(LX_ERR_IO, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
    close(fd);
    return lx_set_error(LX_ERR_IO, "%s: too large to map", path);
  }
  lx_mapped_file *m = malloc(sizeof *m);
  if (!m) {
    close(fd);
    return lx_set_error(LX_ERR_MEMORY, "%s: out of memory", path);
  }
  atomic_init(&m->refcount, 1);
  m->size = (size_t)st.st_size;
  m->data = NULL;
  if (m->size > 0) {
    /* MAP_POPULATE builds the page tables up front: one pass in the kernel
    ** instead of a fault per 64 KiB when the arrays are first read. It must
    ** populate a read-only mapping: on a writable private one it would copy
    ** every page. Write access is added afterwards, so that a write (through
    ** an FFI pointer) copies its page instead of faulting. */
    void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p != MAP_FAILED && mprotect(p, m->size, PROT_READ | PROT_WRITE) != 0) {
      int e = errno;
      munmap(p, m->size);
      p = MAP_FAILED;
      errno = e;
    }
    if (p == MAP_FAILED) {
      int e = errno;
      close(fd);
      free(m);
      return lx_set_error(e == ENOMEM ? LX_ERR_MEMORY : LX_ERR_IO, "%s: cannot map: %s", path,
                          strerror(e));
    }
    m->data = p;
  }
  close(fd); /* the mapping keeps the file open */
  *out = m;
  return LX_OK;
}

const uint8_t *lx_mapped_data(const lx_mapped_file *m) { return m->data; }
size_t lx_mapped_size(const lx_mapped_file *m) { return m->size; }

void lx_mapped_release(lx_mapped_file *m) {
  if (!m || atomic_fetch_sub(&m->refcount, 1) != 1) return;
  if (m->data) munmap(m->data, m->size);
  free(m);
}

static void release_mapping(void *ctx) { lx_mapped_release(ctx); }

/* Bool bytes other than 0 and 1 would break kernels that assume them. */
static bool bools_valid(const uint8_t *p, size_t n) {
  uint8_t bad = 0;
  for (size_t i = 0; i < n; i++) bad |= p[i] & 0xFE;
  return bad == 0;
}

lx_status lx_mapped_array(lx_mapped_file *m, uint64_t offset, lx_dtype dtype, int ndim,
                          const int64_t *shape, lx_array **out) {
  size_t nbytes;
  lx_status st = lx_shape_check("mapped array", dtype, ndim, shape, NULL, &nbytes);
  if (st != LX_OK) return st;
  if (offset > m->size || nbytes > m->size - offset)
    return lx_set_error(LX_ERR_IO, "mapped array: bytes %llu..%llu are outside the file "
                        "(%zu bytes)", (unsigned long long)offset,
                        (unsigned long long)(offset + nbytes), m->size);
  const uint8_t *src = m->data ? m->data + offset : NULL;
  size_t item = lx_dtype_size(dtype);
  bool zero_copy = nbytes > 0 && (uintptr_t)src % item == 0 &&
                   (dtype != LX_BOOL || bools_valid(src, nbytes));
  if (!zero_copy) {
    /* Misaligned data (a writer that did not pad), invalid bools or an empty
    ** array: an ordinary array with the bytes copied in. */
    lx_array *a;
    st = lx_array_empty(lx_device_cpu(), dtype, ndim, shape, &a);
    if (st != LX_OK) return st;
    if (nbytes > 0) {
      uint8_t *dst = lx_array_host_address(a);
      if (!dst) {
        lx_array_release(a);
        return LX_ERR_DEVICE;
      }
      memcpy(dst, src, nbytes);
      if (dtype == LX_BOOL)
        for (size_t i = 0; i < nbytes; i++) dst[i] = dst[i] != 0;
    }
    *out = a;
    return LX_OK;
  }
  lx_buffer *buf;
  atomic_fetch_add(&m->refcount, 1);
  st = lx__buffer_external((void *)src, nbytes, release_mapping, m, &buf);
  if (st != LX_OK) {
    lx_mapped_release(m);
    return st;
  }
  st = lx__array_wrap(buf, dtype, ndim, shape, 0, out);
  lx__buffer_release(buf); /* the array holds its own reference */
  return st;
}
