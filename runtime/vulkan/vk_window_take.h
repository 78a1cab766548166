/*
** vk_window_take.h — windowed reductions (LX_OP_REDUCE_WINDOW) and take
** (LX_OP_TAKE) on the Vulkan backend: shaders/window.comp and
** shaders/take.comp, driven from vk_window_take.c.
*/
#ifndef LX_VK_WINDOW_TAKE_H
#define LX_VK_WINDOW_TAKE_H

#include "vk_device.h"

/* Both record their dispatches on d's stream; the caller holds d->lock. */
lx_status lx_vk_run_reduce_window(lx_vk_device *d, const lx_op *op);
lx_status lx_vk_run_take(lx_vk_device *d, const lx_op *op);

#endif
