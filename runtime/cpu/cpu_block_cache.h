/*
** cpu_block_cache.h — reuse of freed large CPU blocks (see the .c file).
*/
#ifndef LX_CPU_BLOCK_CACHE_H
#define LX_CPU_BLOCK_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* The size a block of `size` bytes is allocated with, so equal requests
** round to equal, reusable blocks. */
size_t lx__cpu_cache_round(size_t size);
/* A cached block of exactly `size` (rounded) bytes, or NULL. */
void *lx__cpu_cache_take(size_t size);
/* Keeps a freed block for reuse; false when the caller must free it. */
bool lx__cpu_cache_put(void *ptr, size_t size);
/* Frees every cached block. */
void lx__cpu_cache_trim(void);
size_t lx__cpu_cache_bytes(void);

#endif
