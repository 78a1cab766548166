// common.glsl — what every elementwise shader shares: the dtype table, the
// extensions a variant needs, the push-constant block, the index math and
// the grid-stride main loop.
//
// A family file (unary.comp, ...) defines its dtype roles before including
// this file, then defines `void element(ivec4 pos)`: pos holds the element
// index of each operand (x: output, y/z/w: inputs 1..3). CMake passes the
// dtypes twice, as a name for token pasting (-DIN=f16) and as a number for
// #if (-DIN_DT=DT_f16): glslang's #if cannot evaluate pasted tokens.

#include "dtypes.glsl"

// Per dtype: the buffer element (STORAGE), the 32/64-bit type a value
// travels in (WIDE: 8- and 16-bit types may only be loaded, stored and
// converted, never passed to functions), the arithmetic type (VALUE), and
// the conversions between them. A kernel reads W = WIDE(storage), works,
// and stores STORAGE(W).
// float64 is a double where arithmetic needs one; convert.comp keeps it as
// its bits in uint64_t (LX_F64_BITS: shaderInt64, no shaderFloat64), and
// the families that only look at bits as two words (LX_F64_WORDS: neither).
#define STORAGE_f32 uint
#define STORAGE_f16 uint16_t
#define STORAGE_bf16 uint16_t
#define STORAGE_i32 int
#define STORAGE_i64 int64_t
#define STORAGE_u8 uint8_t
#define STORAGE_u32 uint
#define STORAGE_bool uint8_t
#define STORAGE_u16 uint16_t
#define STORAGE_u64 uint64_t
#if defined(LX_F64_BITS)
#define STORAGE_f64 uint64_t
#define WIDE_f64 uint64_t
#elif defined(LX_F64_WORDS)
#define STORAGE_f64 uvec2
#define WIDE_f64 uvec2
#define BITS_f64(w) (w)
#define UNBITS_f64(b) (b)
#else
#define STORAGE_f64 double
#define WIDE_f64 double
#define BITS_f64(w) unpackDouble2x32(w)
#define UNBITS_f64(b) packDouble2x32(b)
#endif

#define WIDE_f32 uint
#define WIDE_f16 uint
#define WIDE_bf16 uint
#define WIDE_i32 int
#define WIDE_i64 int64_t
#define WIDE_u8 uint
#define WIDE_u32 uint
#define WIDE_bool uint
#define WIDE_u16 uint
#define WIDE_u64 uint64_t

#define VALUE_f32 float
#define VALUE_f16 float
#define VALUE_bf16 float
#define VALUE_f64 double
#define VALUE_i32 int
#define VALUE_i64 int64_t
#define VALUE_u8 uint
#define VALUE_u32 uint
#define VALUE_bool uint
#define VALUE_u16 uint
#define VALUE_u64 uint64_t

// Float32-like dtypes as float32 bit patterns (16-bit floats decoded with
// integer code, exactly), then as values; values back to wide storage.
#define F32BITS_f32(w) (w)
#define F32BITS_f16(w) lx_h2f(w)
#define F32BITS_bf16(w) ((w) << 16)
#define LOAD_f32(w) uintBitsToFloat(F32BITS_f32(w))
#define LOAD_f16(w) uintBitsToFloat(F32BITS_f16(w))
#define LOAD_bf16(w) uintBitsToFloat(F32BITS_bf16(w))
#define LOAD_f64(w) (w)
#define LOAD_i32(w) (w)
#define LOAD_i64(w) (w)
#define LOAD_u8(w) (w)
#define LOAD_u32(w) (w)
#define LOAD_bool(w) (w)
#define LOAD_u16(w) (w)
#define LOAD_u64(w) (w)
#define STORE_f32(v) floatBitsToUint(v)
#define STORE_f16(v) lx_f2h(floatBitsToUint(v))
#define STORE_bf16(v) lx_f2bf(floatBitsToUint(v))
#define STORE_f64(v) (v)
#define STORE_i32(v) (v)
#define STORE_i64(v) (v)
#define STORE_u8(v) (v)
#define STORE_u32(v) (v)
#define STORE_bool(v) (v)
#define STORE_u16(v) (v)
#define STORE_u64(v) (v)

// Float formats as bits (float64 as uvec2 lo/hi words), from and to wide.
// Used by the operations that the CPU does exactly (negation, abs,
// comparisons, maximum/minimum, conversions), so that they stay exact
// whatever the device does with denormals and NaNs.
#define BITS_f32(w) (w)
#define BITS_f16(w) (w)
#define BITS_bf16(w) (w)
#define UNBITS_f32(b) (b)
#define UNBITS_f16(b) (b)
#define UNBITS_bf16(b) (b)
// Magnitude mask, infinity, sign bit, and the bit the CPU sets when a NaN
// goes through float32 and back (float16/bfloat16 only: lx__f2h, lx__f2bf).
#define MAG_f32 0x7fffffffu
#define INF_f32 0x7f800000u
#define SIGN_f32 0x80000000u
#define QUIET_f32 0u
#define MAG_f16 0x7fffu
#define INF_f16 0x7c00u
#define SIGN_f16 0x8000u
#define QUIET_f16 0x0200u
#define MAG_bf16 0x7fffu
#define INF_bf16 0x7f80u
#define SIGN_bf16 0x8000u
#define QUIET_bf16 0x0040u

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#ifdef IN
#define IN_T CAT(STORAGE_, IN)
#define IN_W CAT(WIDE_, IN)
#define IN_V CAT(VALUE_, IN)
#define IN_LOAD(w) CAT(LOAD_, IN)(w)
#define IN_F32BITS(w) CAT(F32BITS_, IN)(w)
#define IN_BITS(w) CAT(BITS_, IN)(w)
#define IN_UNBITS(b) CAT(UNBITS_, IN)(b)
#define IN_MAG CAT(MAG_, IN)
#define IN_INF CAT(INF_, IN)
#define IN_SIGN CAT(SIGN_, IN)
#define IN_QUIET CAT(QUIET_, IN)
#endif
#ifdef OUT
#define OUT_T CAT(STORAGE_, OUT)
#define OUT_W CAT(WIDE_, OUT)
#define OUT_STORE(v) CAT(STORE_, OUT)(v)
#endif

// ------------------------------------------------------------ extensions
// A variant enables only what its own types need: a device without int64
// or float64 still runs every other variant.
#ifndef ELEM_BYTES
#define ELEM_BYTES 0
#endif
#ifndef LX_NEEDS_8BIT
#define LX_NEEDS_8BIT 0
#endif
#if DT_IS_BYTE(IN_DT) || DT_IS_BYTE(OUT_DT) || ELEM_BYTES == 1 || LX_NEEDS_8BIT
#extension GL_EXT_shader_8bit_storage : require
#endif
#if DT_IS_16BIT(IN_DT) || DT_IS_16BIT(OUT_DT) || ELEM_BYTES == 2
#extension GL_EXT_shader_16bit_storage : require
#endif
#if defined(LX_F64_BITS) && (IN_DT == DT_f64 || OUT_DT == DT_f64)
#define LX_INT64 1
#elif DT_IS_INT64(IN_DT) || DT_IS_INT64(OUT_DT)
#define LX_INT64 1
#else
#define LX_INT64 0
#endif
#if LX_INT64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif

// Raw elements of ELEM_BYTES bytes (where, fill, same-dtype copies): 8-byte
// ones move as two words, so they need no shaderInt64.
#if ELEM_BYTES == 1
#define RAW_T uint8_t
#elif ELEM_BYTES == 2
#define RAW_T uint16_t
#elif ELEM_BYTES == 4
#define RAW_T uint
#elif ELEM_BYTES == 8
#define RAW_T uvec2
#endif

// ------------------------------------------------------- push constants
// Families with their own push constants and main() (reduce.comp,
// matmul.comp) define LX_OWN_KERNEL and take only the dtype tables,
// extensions, workgroup size and codecs from this file.
#ifndef LX_OWN_KERNEL
// 128 bytes, the same for every elementwise variant (the host's layout).
layout(push_constant, std430) uniform Push {
  uint n;          // number of elements (< 2^31: positions are 32-bit ints)
  uint ndim;       // 1..4, axes merged by the host
  uint pad0, pad1;
  uvec4 shape;     // outermost first; unused entries are 1
  ivec4 stride[4]; // stride[k][d] of operand k (0 = output), in elements
  uvec4 offset;    // element offset of element 0, per operand
  uvec4 param;     // fill: value bits, low word in x, high in y
} pc;
#endif

// 256 unless the host specialises it (constant 0).
layout(local_size_x = 256, local_size_x_id = 0) in;

#define LX_OUTPUT(T) \
  layout(set = 0, binding = 0, std430) writeonly buffer Out0 { T out0[]; };
#define LX_INPUT(b, T, name) \
  layout(set = 0, binding = b, std430) readonly buffer In##b { T name[]; };

// -------------------------------------------- float16/bfloat16 bit codecs
// Integer-only, bit-identical to half.h; they work on float32 bit patterns
// so that half subnormals and float32 denormals survive devices that flush
// denormals in float arithmetic.

// binary16 bits -> float32 bits (exact).
uint lx_h2f(uint h) {
  uint sign = (h & 0x8000u) << 16;
  uint em = h & 0x7fffu;
  if (em >= 0x7c00u) return sign | 0x7f800000u | ((em & 0x3ffu) << 13); // inf, NaN
  if (em >= 0x0400u) return sign | ((em << 13) + 0x38000000u); // rebias 15 -> 127
  if (em == 0u) return sign;
  int msb = findMSB(em); // subnormal: em * 2^-24, normalised
  return sign | (uint(msb + 103) << 23) | ((em << (23 - msb)) & 0x7fffffu);
}

// float32 bits -> binary16 bits, round to nearest even (lx__f2h).
uint lx_f2h(uint u) {
  uint sign = (u >> 16) & 0x8000u;
  uint au = u & 0x7fffffffu;
  if (au >= 0x7f800000u) // inf or NaN (kept quiet and non-zero)
    return sign | 0x7c00u | (au > 0x7f800000u ? (0x0200u | ((au >> 13) & 0x3ffu)) : 0u);
  if (au >= 0x477ff000u) return sign | 0x7c00u; // rounds to >= 65520: inf
  if (au < 0x38800000u) { // below the smallest normal half
    if (au < 0x33000000u) return sign; // < 2^-25, tie at 2^-25 goes to even 0
    uint e = au >> 23, sig = (au & 0x7fffffu) | 0x800000u;
    uint shift = 126u - e; // 14..24
    uint kept = sig >> shift, rest = sig & ((1u << shift) - 1u), half_way = 1u << (shift - 1u);
    if (rest > half_way || (rest == half_way && (kept & 1u) != 0u)) kept++;
    return sign | kept;
  }
  uint r = au - 0x38000000u; // rebias 127 -> 15
  uint kept = r >> 13, rest = r & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (kept & 1u) != 0u)) kept++;
  return sign | kept; // a carry rolls into the exponent, up to inf
}

// float32 bits -> bfloat16 bits, round to nearest even; NaN stays quiet.
uint lx_f2bf(uint u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x0040u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

// ----------------------------------------------------------- index math
#ifndef LX_OWN_KERNEL
void element(ivec4 pos);

#ifndef LX_OPERANDS
#define LX_OPERANDS 2
#endif

// Element position of every operand for linear index i (row-major over
// pc.shape), in 32-bit arithmetic as the host guarantees it fits.
ivec4 lx_positions(uint i) {
  ivec4 pos = ivec4(pc.offset);
  for (uint d = pc.ndim; d > 0u;) {
    d--;
    uint extent = pc.shape[d];
    uint q = i / extent;
    int idx = int(i - q * extent);
    i = q;
    pos += idx * ivec4(pc.stride[0][d], pc.stride[1][d], pc.stride[2][d], pc.stride[3][d]);
  }
  return pos;
}

bool lx_contiguous() {
  if (pc.ndim != 1u) return false;
  for (int k = 0; k < LX_OPERANDS; k++)
    if (pc.stride[k][0] != 1) return false;
  return true;
}

void main() {
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  // Uniform choices, made once; element() has a single call site so that
  // each module holds one copy of the kernel body.
  bool contiguous = lx_contiguous(), one_axis = pc.ndim == 1u;
  ivec4 base = ivec4(pc.offset);
  ivec4 s = ivec4(pc.stride[0][0], pc.stride[1][0], pc.stride[2][0], pc.stride[3][0]);
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) {
    ivec4 pos;
    if (contiguous) pos = base + int(i);
    else if (one_axis) pos = base + int(i) * s;
    else pos = lx_positions(i);
    element(pos);
  }
}
#endif // LX_OWN_KERNEL
