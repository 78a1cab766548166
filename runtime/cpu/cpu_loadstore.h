/*
** cpu_loadstore.h — how the CPU reductions (cpu_reduce.c, cpu_window.c)
** widen elements into accumulators (LOAD_*) and write results back
** (ST_*: value, destination bytes).
*/
#ifndef LX_CPU_LOADSTORE_H
#define LX_CPU_LOADSTORE_H

#include "half.h"

#include <stdint.h>
#include <string.h>

#define LOAD_ID(x) (x)
#define LOAD_DOUBLE(x) ((double)(x))
#define LOAD_H(x) lx__h2f(x)
#define LOAD_HD(x) ((double)lx__h2f(x))
#define LOAD_BF(x) lx__bf2f(x)
#define LOAD_BFD(x) ((double)lx__bf2f(x))
/* Integer sums wrap modulo 2^64 in unsigned arithmetic (no signed-overflow
** UB); the low bits are the sum modulo 2^n of the narrower type. */
#define LOAD_U64(x) ((uint64_t)(x))

#define ST_F32(v, dst) do { float f_ = (float)(v); memcpy((dst), &f_, 4); } while (0)
#define ST_F64(v, dst) do { double d_ = (v); memcpy((dst), &d_, 8); } while (0)
/* One rounding from double, as lx_store_double does. */
#define ST_F16D(v, dst) do { uint16_t h_ = lx_double_to_half(v); memcpy((dst), &h_, 2); } while (0)
/* bfloat16 from double through float32, as lx_store_double (and ml_dtypes). */
#define ST_BF16D(v, dst) do { uint16_t h_ = lx__f2bf((float)(v)); memcpy((dst), &h_, 2); } while (0)
/* Extremes came from the input, so these conversions are exact. */
#define ST_F16(v, dst) do { uint16_t h_ = lx__f2h(v); memcpy((dst), &h_, 2); } while (0)
#define ST_BF16(v, dst) do { uint16_t h_ = lx__f2bf(v); memcpy((dst), &h_, 2); } while (0)
#define ST_U(UT, v, dst) do { UT u_ = (UT)(v); memcpy((dst), &u_, sizeof u_); } while (0)
#define ST_U8(v, dst) ST_U(uint8_t, v, dst)
#define ST_U16(v, dst) ST_U(uint16_t, v, dst)
#define ST_U32(v, dst) ST_U(uint32_t, v, dst)
#define ST_U64(v, dst) ST_U(uint64_t, v, dst)
#define ST_I32(v, dst) do { int32_t i_ = (int32_t)(v); memcpy((dst), &i_, 4); } while (0)
#define ST_I64(v, dst) do { int64_t i_ = (int64_t)(v); memcpy((dst), &i_, 8); } while (0)

#endif
