/*
** cpu_kernels.h — the CPU backend's kernel entry points, one per op family.
** Each receives an op the core has validated (see lx_op in internal.h).
*/
#ifndef LX_CPU_KERNELS_H
#define LX_CPU_KERNELS_H

#include "internal.h"

lx_status lx__cpu_unary(const lx_op *op);
lx_status lx__cpu_binary(const lx_op *op);
lx_status lx__cpu_where(const lx_op *op);
lx_status lx__cpu_convert(const lx_op *op);
lx_status lx__cpu_fill(const lx_op *op);
lx_status lx__cpu_reduce(const lx_op *op);
lx_status lx__cpu_matmul(const lx_op *op);
lx_status lx__cpu_random(const lx_op *op);
lx_status lx__cpu_reduce_window(const lx_op *op);
lx_status lx__cpu_take(const lx_op *op);
lx_status lx__cpu_conv(const lx_op *op);

#endif
