/*
** vk_spirv.h — the SPIR-V modules compiled from shaders/ at build time
** (cmake/shaders.cmake) and embedded in the runtime.
**
** Names: unary_<dt>, not_<dt>, binary_<dt>, compare_<dt>, convert_<src>_<dst>
** (dt: f32 f64 f16 bf16 i32 i64 u8 u32 bool), where_<bytes>, fill_<bytes>
** (bytes: 1 2 4 8), reduce_<dt>, matmul_<dt> (every dt but bool).
*/
#ifndef LX_VK_SPIRV_H
#define LX_VK_SPIRV_H

#include <stddef.h>
#include <stdint.h>

typedef struct lx_spirv {
  const char *name;
  const uint32_t *code; /* SPIR-V words, 4-byte aligned */
  size_t size_bytes;
} lx_spirv;

/* The module called `name`, or NULL when this build has none. */
const lx_spirv *lx_spirv_find(const char *name);

#endif
