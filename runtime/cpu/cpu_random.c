/*
** cpu_random.c — LX_OP_RANDOM on the CPU: threefry2x32 per element in the
** counter layouts of JAX's two schemes (random.c says what each kind
** computes). The partitionable float32 path, which model initialisation
** spends its time in, is a branch-free loop the compiler vectorises.
** Compiled with -ffp-contract=off: minval + u * span must round twice, as
** XLA's separate multiply and add do.
*/
#include "cpu_kernels.h"
#include "threefry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The hot loops get AVX-512 and AVX2 clones (AVX-512 rotates in one
** instruction) where the compiler and the C library
** support picking one at load time (x86-64 with GCC or Clang). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define LX_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LX_HOT
#endif

typedef struct rng {
  uint32_t k0, k1;
  bool original;
  uint64_t size;       /* elements of the output */
  uint64_t begin, end; /* the elements (keys for LX_RANDOM_KEYS) to compute */
} rng;

static void load_key(const lx_array *key, uint32_t *k0, uint32_t *k1) {
  const uint32_t *w = (const uint32_t *)key->buffer->handle + key->offset;
  *k0 = w[0];
  *k1 = w[key->strides[0]];
}

/* Element i of _random_bits(key, width, shape) for width 8, 16, 32 or 64. */
static inline uint32_t bits32_at(const rng *g, uint64_t i) {
  if (g->original) return lx__threefry_original_word(g->k0, g->k1, g->size, i);
  uint32_t y0, y1;
  lx__threefry2x32(g->k0, g->k1, (uint32_t)(i >> 32), (uint32_t)i, &y0, &y1);
  return y0 ^ y1;
}

static inline uint64_t bits64_at(const rng *g, uint64_t i) {
  uint32_t y0, y1;
  if (g->original) /* words i and i + size of iota(2 size): one pair */
    lx__threefry2x32(g->k0, g->k1, (uint32_t)i, (uint32_t)(i + g->size), &y0, &y1);
  else
    lx__threefry2x32(g->k0, g->k1, (uint32_t)(i >> 32), (uint32_t)i, &y0, &y1);
  return (uint64_t)y0 << 32 | y1;
}

/* 8 and 16 bits: the original scheme cuts each 32-bit word into pieces,
** lowest first; the partitionable one truncates one word per element. */
static inline uint32_t bits_small_at(const rng *g, unsigned width, uint64_t i) {
  uint32_t mask = (1u << width) - 1;
  if (!g->original) return bits32_at(g, i) & mask;
  unsigned per = 32 / width;
  uint64_t nwords = (g->size + per - 1) / per;
  uint32_t w = lx__threefry_original_word(g->k0, g->k1, nwords, i / per);
  return (w >> (width * (unsigned)(i % per))) & mask;
}

static inline uint64_t bits_at(const rng *g, unsigned width, uint64_t i) {
  switch (width) {
    case 64: return bits64_at(g, i);
    case 32: return bits32_at(g, i);
    default: return bits_small_at(g, width, i);
  }
}

static void store_width(void *out, unsigned width, uint64_t i, uint64_t v) {
  switch (width) {
    case 8: ((uint8_t *)out)[i] = (uint8_t)v; break;
    case 16: ((uint16_t *)out)[i] = (uint16_t)v; break;
    case 32: ((uint32_t *)out)[i] = (uint32_t)v; break;
    default: ((uint64_t *)out)[i] = v; break;
  }
}

LX_HOT static void run_bits(const rng *g, unsigned width, void *out) {
  if (width == 32 && !g->original) {
    uint32_t *o = out;
    for (uint64_t i = g->begin; i < g->end; i++) {
      uint32_t y0, y1;
      lx__threefry2x32(g->k0, g->k1, (uint32_t)(i >> 32), (uint32_t)i, &y0, &y1);
      o[i] = y0 ^ y1;
    }
    return;
  }
  for (uint64_t i = g->begin; i < g->end; i++) store_width(out, width, i, bits_at(g, width, i));
}

static void run_keys(const rng *g, uint64_t counter, uint32_t *out) {
  for (uint64_t j = g->begin; j < g->end; j++) {
    uint64_t c = counter + j;
    lx__threefry2x32(g->k0, g->k1, (uint32_t)(c >> 32), (uint32_t)c, &out[2 * j],
                     &out[2 * j + 1]);
  }
}

static inline float f32_from_bits(uint32_t b) {
  uint32_t u = (b >> 9) | 0x3f800000u; /* a float in [1, 2) */
  float f;
  memcpy(&f, &u, sizeof f);
  return f - 1.0f;
}

LX_HOT static void uniform_f32(const rng *g, float lo, float diff, float *o) {
  if (!g->original) {
    for (uint64_t i = g->begin; i < g->end; i++) {
      uint32_t y0, y1;
      lx__threefry2x32(g->k0, g->k1, (uint32_t)(i >> 32), (uint32_t)i, &y0, &y1);
      float r = f32_from_bits(y0 ^ y1) * diff + lo;
      o[i] = r < lo ? lo : r;
    }
    return;
  }
  for (uint64_t i = g->begin; i < g->end; i++) {
    float r = f32_from_bits(bits32_at(g, i)) * diff + lo;
    o[i] = r < lo ? lo : r;
  }
}

static void uniform_f64(const rng *g, double lo, double diff, double *o) {
  for (uint64_t i = g->begin; i < g->end; i++) {
    uint64_t u = (bits64_at(g, i) >> 12) | 0x3ff0000000000000ull;
    double f;
    memcpy(&f, &u, sizeof f);
    double r = (f - 1.0) * diff + lo;
    o[i] = r < lo ? lo : r;
  }
}

/* float16: 16 random bits under the exponent of 1.0; bfloat16: 8 (JAX
** draws at least 8 bits, and bfloat16's 7-bit mantissa takes 8 bits
** shifted right by 1). The product and the sum are each rounded to the half
** type (exact in float32 first, so the single rounding is the half type's
** own). */
static void uniform_half(const rng *g, bool bf16, float lo, float diff, uint16_t *o) {
  for (uint64_t i = g->begin; i < g->end; i++) {
    uint32_t b = bits_small_at(g, bf16 ? 8 : 16, i);
    float f, t, r;
    if (bf16) {
      f = lx_bfloat16_to_float((uint16_t)((b >> 1) | 0x3f80u)) - 1.0f;
      t = lx_bfloat16_to_float(lx_float_to_bfloat16(f * diff));
      r = lx_bfloat16_to_float(lx_float_to_bfloat16(t + lo));
    } else {
      f = lx_half_to_float((uint16_t)((b >> 6) | 0x3c00u)) - 1.0f;
      t = lx_half_to_float(lx_float_to_half(f * diff));
      r = lx_half_to_float(lx_float_to_half(t + lo));
    }
    if (r < lo) r = lo;
    o[i] = bf16 ? lx_float_to_bfloat16(r) : lx_float_to_half(r);
  }
}

/* jax's randint: offset = ((hi % span) * mult + lo % span) % span in
** unsigned width-bit arithmetic, plus minval with wrap-around. */
static void run_randint(const rng *hi, const rng *lo, unsigned width, const lx_op *op,
                        void *out) {
  uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  uint64_t span = op->p.random.span, mult = op->p.random.multiplier;
  uint64_t minval = op->p.random.minval;
  for (uint64_t i = hi->begin; i < hi->end; i++) {
    uint64_t h = bits_at(hi, width, i), l = bits_at(lo, width, i);
    if (span) {
      h %= span;
      l %= span;
    }
    uint64_t off = ((h * mult & mask) + l) & mask;
    if (span) off %= span;
    store_width(out, width, i, (minval + off) & mask);
  }
}

/* One thread's share of an op. */
typedef struct task {
  const lx_op *op;
  rng hi, lo; /* lo: randint's second key */
  void *out;
  unsigned width;
  lx_status status;
} task;

static void *run_task(void *p) {
  task *t = p;
  const lx_op *op = t->op;
  void *o = t->out;
  t->status = LX_OK;
  switch ((lx_random_kind)op->code) {
    case LX_RANDOM_BITS: run_bits(&t->hi, t->width, o); return NULL;
    case LX_RANDOM_KEYS: run_keys(&t->hi, op->p.random.counter, o); return NULL;
    case LX_RANDOM_UNIFORM:
      switch (op->out->dtype) {
        case LX_FLOAT32:
          uniform_f32(&t->hi, (float)op->p.random.lo, (float)op->p.random.diff, o);
          return NULL;
        case LX_FLOAT64: uniform_f64(&t->hi, op->p.random.lo, op->p.random.diff, o); return NULL;
        case LX_FLOAT16: case LX_BFLOAT16:
          uniform_half(&t->hi, op->out->dtype == LX_BFLOAT16, (float)op->p.random.lo,
                       (float)op->p.random.diff, o);
          return NULL;
        default: break;
      }
      break;
    case LX_RANDOM_RANDINT: run_randint(&t->hi, &t->lo, t->width, op, o); return NULL;
  }
  t->status = lx_set_error(LX_ERR_INTERNAL, "cpu: random kind %d for %s", op->code,
                           lx_dtype_name(op->out->dtype));
  return NULL;
}

/* Threads for one op: LUNOX_NUM_THREADS when set to a positive integer,
** else the online cores. */
static uint64_t thread_budget(void) {
  const char *env = getenv("LUNOX_NUM_THREADS");
  if (env && *env) {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == 0 && v > 0) return (uint64_t)v;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? (uint64_t)cores : 1;
}

/* Work below this many elements per thread is not worth a thread. */
#define MIN_PER_THREAD ((uint64_t)1 << 16)
#define MAX_THREADS 16

lx_status lx__cpu_random(const lx_op *op) {
  lx_array *out = op->out;
  task base = {.op = op, .width = (unsigned)lx_dtype_size(out->dtype) * 8};
  base.hi.original = op->p.random.original;
  base.hi.size = (uint64_t)out->size;
  load_key(op->in[0], &base.hi.k0, &base.hi.k1);
  base.lo = base.hi;
  if (op->code == LX_RANDOM_RANDINT) load_key(op->in[1], &base.lo.k0, &base.lo.k1);
  base.out = (char *)out->buffer->handle + out->offset * (int64_t)lx_dtype_size(out->dtype);
  uint64_t units = op->code == LX_RANDOM_KEYS ? base.hi.size / 2 : base.hi.size;

  /* Every element is independent: split the range over the cores. */
  uint64_t nthreads = units / MIN_PER_THREAD;
  uint64_t budget = thread_budget();
  if (nthreads > budget) nthreads = budget;
  if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
  if (nthreads < 1) nthreads = 1;
  task tasks[MAX_THREADS];
  pthread_t threads[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (uint64_t t = 0; t < nthreads; t++) {
    tasks[t] = base;
    tasks[t].hi.begin = tasks[t].lo.begin = units * t / nthreads;
    tasks[t].hi.end = tasks[t].lo.end = units * (t + 1) / nthreads;
    /* Thread 0 is the caller; a thread that cannot start runs inline. */
    if (t > 0) started[t] = pthread_create(&threads[t], NULL, run_task, &tasks[t]) == 0;
  }
  run_task(&tasks[0]);
  lx_status st = tasks[0].status;
  for (uint64_t t = 1; t < nthreads; t++) {
    if (started[t]) pthread_join(threads[t], NULL);
    else run_task(&tasks[t]);
    if (st == LX_OK) st = tasks[t].status;
  }
  return st;
}
