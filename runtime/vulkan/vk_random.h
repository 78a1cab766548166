/*
** vk_random.h — LX_OP_RANDOM on the Vulkan backend (shaders/random.comp,
** driven from vk_random.c).
*/
#ifndef LX_VK_RANDOM_H
#define LX_VK_RANDOM_H

#include "vk_device.h"

/* Records the dispatch on d's stream; the caller holds d->lock. */
lx_status lx_vk_run_random(lx_vk_device *d, const lx_op *op);

#endif
