// dtypes.glsl — dtype numbers (as lx_dtype in lunox.h) and the predicates
// that #if uses on them. Preprocessor only, so a family can test its dtypes
// before common.glsl emits anything.
#ifndef LX_DTYPES_GLSL
#define LX_DTYPES_GLSL

#define DT_none (-1)
#define DT_f32 0
#define DT_f64 1
#define DT_f16 2
#define DT_bf16 3
#define DT_i32 4
#define DT_i64 5
#define DT_u8 6
#define DT_u32 7
#define DT_bool 8
#define DT_u16 9
#define DT_u64 10

#ifndef IN_DT
#define IN_DT DT_none
#endif
#ifndef OUT_DT
#define OUT_DT DT_none
#endif

// float32, float16 and bfloat16 compute in float32 (the 16-bit ones are
// stored as bit patterns and decoded with integer code, so no variant
// depends on the device's float16 rounding or arithmetic).
#define DT_IS_F32ISH(dt) ((dt) == DT_f32 || (dt) == DT_f16 || (dt) == DT_bf16)
#define DT_IS_HALF(dt) ((dt) == DT_f16 || (dt) == DT_bf16)
#define DT_IS_BYTE(dt) ((dt) == DT_u8 || (dt) == DT_bool)
// Types stored in 16 bits (GL_EXT_shader_16bit_storage), in 64 (shaderInt64).
#define DT_IS_16BIT(dt) (DT_IS_HALF(dt) || (dt) == DT_u16)
#define DT_IS_INT64(dt) ((dt) == DT_i64 || (dt) == DT_u64)
#define DT_IS_SINT(dt) ((dt) == DT_i32 || (dt) == DT_i64)
#define DT_IS_UINT(dt) ((dt) == DT_u8 || (dt) == DT_u16 || (dt) == DT_u32 || (dt) == DT_u64)

#endif
