#version 450
// random.comp — LX_OP_RANDOM (runtime/core/random.c says what each kind
// computes; runtime/cpu/cpu_random.c is the CPU twin, and the two give the
// same bits). One module per output element size (-DELEM_BYTES=1, 2, 4, 8)
// plus one for float64 uniforms (-DLX_RANDOM_F64, which needs shaderFloat64
// only); the kind, the scheme and the output dtype are specialization
// constants. Threefry is 32-bit integer arithmetic, exact on every device.
// 64-bit values travel as two words (low, high); only 64-bit randint uses
// uint64_t (shaderInt64).
#define LX_OWN_KERNEL
#ifdef LX_RANDOM_F64
#define ELEM_BYTES 8
#endif
#if ELEM_BYTES == 8 && !defined(LX_RANDOM_F64)
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
#include "common.glsl"

const int KIND_BITS = 0, KIND_KEYS = 1, KIND_UNIFORM = 2, KIND_RANDINT = 3;
layout(constant_id = 1) const int KIND = KIND_BITS;
layout(constant_id = 2) const int ORIGINAL = 0;     // JAX's original scheme
layout(constant_id = 3) const int OUT_DTYPE = DT_u32; // lx_dtype of the output

// 72 bytes (the host's rnd_push, runtime/vulkan/vk_random.c).
layout(push_constant, std430) uniform Push {
  uint n;                  // invocations: output elements (keys: output keys)
  uint key_off0, key_step0; // key words: key1[off], key1[off + step]
  uint key_off1, key_step1; // randint's second key
  uint counter_lo, counter_hi; // keys: first counter
  uint pad;
  uvec2 lo, diff;          // uniform: bits of minval, maxval - minval (float32
                           // bits in x for f32/f16/bf16; f64 as low, high)
  uvec2 span, mult, minval; // randint, modulo 2^width, as low, high
} pc;

layout(set = 0, binding = 0, std430) writeonly buffer Out0 { RAW_T out0[]; };
layout(set = 0, binding = 1, std430) readonly buffer Key1 { uint key1[]; };
layout(set = 0, binding = 2, std430) readonly buffer Key2 { uint key2[]; };

uint rotl(uint v, int r) { return (v << r) | (v >> (32 - r)); }

// Threefry-2x32, 20 rounds (runtime/core/threefry.h).
uvec2 threefry(uvec2 k, uvec2 x) {
  uint k2 = k.x ^ k.y ^ 0x1BD11BDAu;
  const int R0[4] = int[4](13, 15, 26, 6), R1[4] = int[4](17, 29, 16, 24);
  uint ks[3] = uint[3](k.x, k.y, k2);
  x.x += k.x;
  x.y += k.y;
  for (int g = 0; g < 5; g++) {
    for (int r = 0; r < 4; r++) {
      x.x += x.y;
      x.y = rotl(x.y, (g & 1) == 0 ? R0[r] : R1[r]);
      x.y ^= x.x;
    }
    x.x += ks[(g + 1) % 3];
    x.y += ks[(g + 2) % 3] + uint(g + 1);
  }
  return x;
}

// Word j of the original scheme's stream of nwords words.
uint original_word(uvec2 k, uint nwords, uint j) {
  uint h = nwords / 2u + (nwords & 1u);
  if (j < h) return threefry(k, uvec2(j, j + h < nwords ? j + h : 0u)).x;
  return threefry(k, uvec2(j - h, j)).y;
}

uint bits32(uvec2 k, uint i) {
  if (ORIGINAL != 0) return original_word(k, pc.n, i);
  uvec2 y = threefry(k, uvec2(0u, i));
  return y.x ^ y.y;
}

// (low, high) words of the 64-bit value b0 << 32 | b1.
uvec2 bits64(uvec2 k, uint i) {
  uvec2 y = ORIGINAL != 0 ? threefry(k, uvec2(i, i + pc.n)) : threefry(k, uvec2(0u, i));
  return uvec2(y.y, y.x);
}

uint bits_small(uvec2 k, uint width, uint i) {
  uint mask = (1u << width) - 1u;
  if (ORIGINAL == 0) return bits32(k, i) & mask;
  uint per = 32u / width;
  uint w = original_word(k, (pc.n + per - 1u) / per, i / per);
  return (w >> (width * (i % per))) & mask;
}

uvec2 load_key(bool second) {
  if (second) return uvec2(key2[pc.key_off1], key2[pc.key_off1 + pc.key_step1]);
  return uvec2(key1[pc.key_off0], key1[pc.key_off0 + pc.key_step0]);
}

#if ELEM_BYTES == 8
void store(uint i, uvec2 v) { out0[i] = v; }
#else
void store(uint i, uint v) { out0[i] = RAW_T(v); }
#endif

// Raw bits of the output's width (up to 32).
uint bits_w(uvec2 k, uint i) {
  if (ELEM_BYTES == 4) return bits32(k, i);
  return bits_small(k, uint(ELEM_BYTES) * 8u, i);
}

float round_half(float v) {
  if (OUT_DTYPE == DT_bf16) return uintBitsToFloat(lx_f2bf(floatBitsToUint(v)) << 16);
  return uintBitsToFloat(lx_h2f(lx_f2h(floatBitsToUint(v))));
}

void element(uint i, uvec2 k) {
  if (KIND == KIND_KEYS) {
#if ELEM_BYTES == 4
    uint lo = pc.counter_lo + i;
    uint hi = pc.counter_hi + (lo < i ? 1u : 0u);
    uvec2 y = threefry(k, uvec2(hi, lo));
    out0[2u * i] = y.x;
    out0[2u * i + 1u] = y.y;
#endif
    return;
  }
  if (KIND == KIND_BITS) {
#if ELEM_BYTES == 8
    store(i, bits64(k, i));
#else
    store(i, bits_w(k, i));
#endif
    return;
  }
  if (KIND == KIND_UNIFORM) {
#if defined(LX_RANDOM_F64)
    uvec2 b = bits64(k, i); // (low, high)
    uvec2 m = uvec2((b.x >> 12) | (b.y << 20), (b.y >> 12) | 0x3ff00000u);
    precise double f = packDouble2x32(m) - 1.0LF;
    double lo = packDouble2x32(pc.lo), diff = packDouble2x32(pc.diff);
    precise double t = f * diff;
    precise double r = t + lo;
    if (r < lo) r = lo;
    store(i, unpackDouble2x32(r));
#elif ELEM_BYTES == 4
    uint b = bits32(k, i);
    precise float f = uintBitsToFloat((b >> 9) | 0x3f800000u) - 1.0;
    float lo = uintBitsToFloat(pc.lo.x), diff = uintBitsToFloat(pc.diff.x);
    precise float t = f * diff;
    precise float r = t + lo;
    if (r < lo) r = lo;
    store(i, floatBitsToUint(r));
#elif ELEM_BYTES == 2
    // bfloat16 draws 8 bits, as JAX (at least 8 bits; 7 mantissa bits).
    uint b = bits_small(k, OUT_DTYPE == DT_bf16 ? 8u : 16u, i);
    float one_plus = OUT_DTYPE == DT_bf16 ? uintBitsToFloat(((b >> 1) | 0x3f80u) << 16)
                                          : uintBitsToFloat(lx_h2f((b >> 6) | 0x3c00u));
    precise float f = one_plus - 1.0;
    float lo = uintBitsToFloat(pc.lo.x), diff = uintBitsToFloat(pc.diff.x);
    precise float fd = f * diff;
    float t = round_half(fd);
    precise float tl = t + lo;
    float r = round_half(tl);
    if (r < lo) r = lo;
    uint u = floatBitsToUint(r);
    store(i, OUT_DTYPE == DT_bf16 ? lx_f2bf(u) : lx_f2h(u));
#endif
    return;
  }
  // KIND_RANDINT: ((hi % span) * mult + lo % span) % span + minval, modulo
  // 2^width; x % 0 is x, as XLA's unsigned remainder.
  uvec2 k2 = load_key(true);
#if defined(LX_RANDOM_F64)
  // float64 modules only draw uniforms.
#elif ELEM_BYTES == 8
  uvec2 hw = bits64(k, i), lw = bits64(k2, i);
  uint64_t h = packUint2x32(hw), l = packUint2x32(lw);
  uint64_t span = packUint2x32(pc.span), mult = packUint2x32(pc.mult);
  if (span != 0ul) {
    h %= span;
    l %= span;
  }
  uint64_t off = h * mult + l;
  if (span != 0ul) off %= span;
  store(i, unpackUint2x32(packUint2x32(pc.minval) + off));
#else
  uint mask = ELEM_BYTES == 4 ? 0xffffffffu : (1u << (uint(ELEM_BYTES) * 8u)) - 1u;
  uint h = bits_w(k, i), l = bits_w(k2, i);
  uint span = pc.span.x, mult = pc.mult.x;
  if (span != 0u) {
    h %= span;
    l %= span;
  }
  uint off = (h * mult + l) & mask;
  if (span != 0u) off %= span;
  store(i, (pc.minval.x + off) & mask);
#endif
}

void main() {
  uvec2 k = load_key(false);
  uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) element(i, k);
}
