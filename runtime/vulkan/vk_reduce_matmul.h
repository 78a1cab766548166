/*
** vk_reduce_matmul.h — reductions (LX_OP_REDUCE) and matrix products
** (LX_OP_MATMUL) on the Vulkan backend: shaders/reduce.comp and
** shaders/matmul.comp, driven from vk_reduce_matmul.c.
*/
#ifndef LX_VK_REDUCE_MATMUL_H
#define LX_VK_REDUCE_MATMUL_H

#include "vk_device.h"

/* Both record their dispatches on d's stream; the caller holds d->lock
** (as vk_backend.c's run_op does). */
lx_status lx_vk_run_reduce(lx_vk_device *d, const lx_op *op);
lx_status lx_vk_run_matmul(lx_vk_device *d, const lx_op *op);
/* A small device buffer holding `n` int32 words, for layouts that do not
** fit push constants (vk_conv.c uses it too); free it with
** lx_vk_alloc_free once the dispatch that reads it is recorded. */
lx_status lx_vk_upload_words(lx_vk_device *d, const int32_t *words, size_t n,
                             lx_vk_alloc **out);

#endif
