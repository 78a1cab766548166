/*
** threefry.h — the Threefry-2x32 block cipher (Salmon et al., "Parallel
** random numbers: as easy as 1, 2, 3", SC 2011) with 20 rounds, as JAX's
** threefry2x32 primitive computes it, and the counter layouts of JAX's two
** key schemes. Shared by the core (small host-side computations) and the
** CPU backend's kernels; shaders/random.comp is the GLSL twin.
*/
#ifndef LX_THREEFRY_H
#define LX_THREEFRY_H

#include <stdint.h>

static inline uint32_t lx__rotl32(uint32_t v, int r) {
  return (v << r) | (v >> (32 - r));
}

/* Four rounds with rotations r0..r3. */
#define LX__TF_ROUNDS(x0, x1, r0, r1, r2, r3)            \
  do {                                                   \
    x0 += x1; x1 = lx__rotl32(x1, r0); x1 ^= x0;         \
    x0 += x1; x1 = lx__rotl32(x1, r1); x1 ^= x0;         \
    x0 += x1; x1 = lx__rotl32(x1, r2); x1 ^= x0;         \
    x0 += x1; x1 = lx__rotl32(x1, r3); x1 ^= x0;         \
  } while (0)

/* Encrypts the counter pair (x0, x1) under key (k0, k1). */
static inline void lx__threefry2x32(uint32_t k0, uint32_t k1, uint32_t x0, uint32_t x1,
                                    uint32_t *y0, uint32_t *y1) {
  uint32_t k2 = k0 ^ k1 ^ 0x1BD11BDAu;
  x0 += k0; x1 += k1;
  LX__TF_ROUNDS(x0, x1, 13, 15, 26, 6);
  x0 += k1; x1 += k2 + 1u;
  LX__TF_ROUNDS(x0, x1, 17, 29, 16, 24);
  x0 += k2; x1 += k0 + 2u;
  LX__TF_ROUNDS(x0, x1, 13, 15, 26, 6);
  x0 += k0; x1 += k1 + 3u;
  LX__TF_ROUNDS(x0, x1, 17, 29, 16, 24);
  x0 += k1; x1 += k2 + 4u;
  LX__TF_ROUNDS(x0, x1, 13, 15, 26, 6);
  x0 += k2; x1 += k0 + 5u;
  *y0 = x0;
  *y1 = x1;
}

/*
** The original scheme (jax_threefry_partitionable = False) encrypts the
** counters iota(nwords) split in halves: pair j is (j, j + h) with
** h = ceil(nwords / 2) (the missing last counter of an odd count is 0), and
** the output is all first words then all second words, cut to nwords.
** Word j of that stream:
*/
static inline uint32_t lx__threefry_original_word(uint32_t k0, uint32_t k1, uint64_t nwords,
                                                  uint64_t j) {
  uint64_t h = (nwords + 1) / 2;
  uint32_t y0, y1;
  if (j < h) {
    uint64_t second = j + h < nwords ? j + h : 0;
    lx__threefry2x32(k0, k1, (uint32_t)j, (uint32_t)second, &y0, &y1);
    return y0;
  }
  lx__threefry2x32(k0, k1, (uint32_t)(j - h), (uint32_t)j, &y0, &y1);
  return y1;
}

#endif
