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

#endif
