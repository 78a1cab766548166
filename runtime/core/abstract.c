/*
** abstract.c — the "abstract" device of filter_eval_shape.
**
** While abstract evaluation is active on a thread (lx_abstract_begin), every
** new array is placed on this device: the core still checks shapes and
** dtypes and computes result shapes exactly as for real arrays, but buffers
** hold no memory and ops run nothing. A model's skeleton (shapes and dtypes
** of every leaf) is therefore built by running the model's own constructor,
** at the cost of its array headers only. Reading values of an abstract
** array is an error.
*/
#include "internal.h"

#include <stdio.h>

static _Thread_local int abstract_depth;

/* Every abstract buffer shares this address: never read, never written. */
static char abstract_sentinel;

static lx_status no_values(void) {
  return lx_set_error(LX_ERR_DEVICE, "an abstract array (made inside filter_eval_shape) "
                      "has a shape and a dtype but no values");
}

static lx_status abstract_alloc(lx_device *dev, size_t nbytes, void **handle) {
  *handle = &abstract_sentinel;
  return LX_OK;
}

static void abstract_free(lx_device *dev, void *handle, size_t nbytes) {}

static lx_status abstract_upload(lx_device *dev, void *handle, size_t offset,
                                 const void *src, size_t nbytes) {
  return LX_OK; /* the values are dropped: only shapes are kept */
}

static lx_status abstract_download(lx_device *dev, void *handle, size_t offset, void *dst,
                                   size_t nbytes) {
  return no_values();
}

static lx_status abstract_run(lx_device *dev, const lx_op *op) { return LX_OK; }

static lx_status abstract_sync(lx_device *dev) { return LX_OK; }

static void *abstract_host_address(lx_device *dev, void *handle) {
  no_values();
  return NULL;
}

static lx_status abstract_describe(lx_device *dev, lx_device_info *info) {
  snprintf(info->description, sizeof info->description,
           "shapes and dtypes only (filter_eval_shape)");
  snprintf(info->type, sizeof info->type, "abstract");
  return LX_OK;
}

static const lx_backend abstract_backend = {
  .kind = "abstract",
  .holds_no_memory = true,
  .buffer_alloc = abstract_alloc,
  .buffer_free = abstract_free,
  .upload = abstract_upload,
  .download = abstract_download,
  .run = abstract_run,
  .sync = abstract_sync,
  .host_address = abstract_host_address,
  .describe = abstract_describe,
  .trim = NULL,
};

static lx_device abstract_device = {.backend = &abstract_backend, .name = "abstract"};

lx_device *lx__device_abstract(void) { return &abstract_device; }

void lx_abstract_begin(void) { abstract_depth++; }

void lx_abstract_end(void) {
  if (abstract_depth > 0) abstract_depth--;
}

bool lx_abstract_active(void) { return abstract_depth > 0; }

bool lx_array_is_abstract(const lx_array *a) { return a->buffer->device == &abstract_device; }

lx_device *lx__op_device(const lx_array *a, const lx_array *b) {
  if (lx_array_is_abstract(a) || (b && lx_array_is_abstract(b))) return &abstract_device;
  return a->buffer->device;
}
