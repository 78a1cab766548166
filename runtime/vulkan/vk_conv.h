/*
** vk_conv.h — convolutions (LX_OP_CONV) on the Vulkan backend:
** shaders/conv.comp, driven from vk_conv.c.
*/
#ifndef LX_VK_CONV_H
#define LX_VK_CONV_H

#include "vk_device.h"

/* Records the dispatch on d's stream; the caller holds d->lock (as
** vk_backend.c's run_op does). */
lx_status lx_vk_run_conv(lx_vk_device *d, const lx_op *op);

#endif
