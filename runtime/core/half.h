/*
** half.h — inline float16/bfloat16 <-> float32 conversions for hot loops.
** convert.c holds the reference (double -> half in one rounding); these
** agree with it for float32 inputs.
*/
#ifndef LX_HALF_H
#define LX_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t lx__f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float lx__bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Branch-free, so loops over float16 vectorise: shifting the exponent and
** mantissa into float32 position and scaling by 2^112 rebiases the exponent
** (15 -> 127) and turns half subnormals into the right float value through
** ordinary float multiplication; inf/NaN (exponent 31) are patched after. */
static inline float lx__h2f(uint16_t h) {
  uint32_t em = (uint32_t)(h & 0x7fffu) << 13;
  uint32_t u = lx__f32_bits(lx__bits_f32(em) * 0x1p112f);
  u = em >= (0x7c00u << 13) ? (em | 0x7f800000u) : u;
  return lx__bits_f32(u | ((uint32_t)(h & 0x8000u) << 16));
}

/* float32 -> binary16, round to nearest even. */
static inline uint16_t lx__f2h(float f) {
  uint32_t u = lx__f32_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t au = u & 0x7fffffffu;
  if (au >= 0x7f800000u) /* inf or NaN */
    return sign | 0x7c00u | (au > 0x7f800000u ? (uint16_t)(0x0200u | ((au >> 13) & 0x3ffu)) : 0);
  if (au >= 0x477ff000u) return sign | 0x7c00u; /* rounds to >= 65520: inf */
  if (au < 0x38800000u) { /* below the smallest normal half: subnormal or 0 */
    if (au < 0x33000000u) return sign; /* < 2^-25: rounds to 0 (tie at 2^-25 -> even 0) */
    uint32_t e = au >> 23, sig = (au & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14..24 */
    uint32_t kept = sig >> shift, rest = sig & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (kept & 1u))) kept++;
    return sign | (uint16_t)kept;
  }
  uint32_t r = au - 0x38000000u; /* rebias exponent 127 -> 15 */
  uint32_t kept = r >> 13, rest = r & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (kept & 1u))) kept++;
  return sign | (uint16_t)kept;
}

static inline float lx__bf2f(uint16_t b) { return lx__bits_f32((uint32_t)b << 16); }

static inline uint16_t lx__f2bf(float f) {
  uint32_t u = lx__f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#endif
