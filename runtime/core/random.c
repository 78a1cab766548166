/*
** random.c — JAX's threefry2x32 PRNG: keys, split, fold_in and the samplers
** that need more than elementwise ops (raw bits, uniform floats, randint,
** permutation). The core checks arguments and does the scalar arithmetic;
** backends run LX_OP_RANDOM over the elements (cpu_random.c,
** shaders/random.comp). Every rule follows jax/_src/prng.py and
** jax/_src/random.py; docs/random.md states the few places lunox differs.
*/
#include "internal.h"
#include "threefry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static lx_status check_key(const char *fn, const lx_array *key) {
  if (key->dtype == LX_UINT32 && key->ndim == 1 && key->shape[0] == 2) return LX_OK;
  char repr[64];
  lx_array_short_repr(key, repr, sizeof repr);
  return lx_set_error(LX_ERR_ARGUMENT, "%s: a key is a uint32 array of shape {2} (from "
                      "PRNGKey, split or fold_in), got %s", fn, repr);
}

/* A fresh output on the keys' device, filled by one LX_OP_RANDOM. */
static lx_status run_random(const char *fn, lx_random_kind kind, lx_array *k1, lx_array *k2,
                            int ndim, const int64_t *shape, lx_dtype dtype, lx_op *op,
                            lx_array **out) {
  lx_status st;
  if (k2 && (st = lx__same_device(fn, k1, k2)) != LX_OK) return st;
  lx_array *r;
  if ((st = lx_array_empty(lx__op_device(k1, k2), dtype, ndim, shape, &r)) != LX_OK) return st;
  op->kind = LX_OP_RANDOM;
  op->code = kind;
  op->ninputs = k2 ? 2 : 1;
  op->in[0] = k1;
  op->in[1] = k2;
  op->out = r;
  if (r->size > 0 && (st = lx__run(op)) != LX_OK) {
    lx_array_release(r);
    return st;
  }
  *out = r;
  return LX_OK;
}

/* The original scheme encrypts one 32-bit counter per word; JAX splits
** draws of 2^32-1 words or more into blocks under subkeys, which lunox does
** not (such a draw is 16 GiB). */
static lx_status check_original_words(const char *fn, uint64_t nwords) {
  if (nwords < 0xffffffffull) return LX_OK;
  return lx_set_error(LX_ERR_SHAPE, "%s: the original threefry scheme draws at most 2^32-2 "
                      "words at once here, and this draw needs %llu (use the partitionable "
                      "scheme)", fn, (unsigned long long)nwords);
}

static bool is_unsigned(lx_dtype t) {
  return lx_dtype_is_integer(t) && !lx_dtype_is_signed(t);
}

static lx_status check_scheme(const char *fn, lx_prng_scheme scheme) {
  if (scheme == LX_PRNG_PARTITIONABLE || scheme == LX_PRNG_ORIGINAL) return LX_OK;
  return lx_set_error(LX_ERR_ARGUMENT, "%s: invalid scheme %d", fn, (int)scheme);
}

lx_status lx_random_key(lx_device *device, int64_t seed, lx_array **out) {
  uint64_t s = (uint64_t)seed;
  uint32_t words[2] = {(uint32_t)(s >> 32), (uint32_t)s};
  int64_t shape = 2;
  return lx_array_from_host(device, LX_UINT32, 1, &shape, words, out);
}

lx_status lx_random_split(lx_array *key, int64_t n, lx_prng_scheme scheme, lx_array **out) {
  lx_status st;
  if ((st = check_key("split", key)) != LX_OK) return st;
  if ((st = check_scheme("split", scheme)) != LX_OK) return st;
  if (n < 0)
    return lx_set_error(LX_ERR_ARGUMENT, "split: the number of keys must be >= 0, got %lld",
                        (long long)n);
  if (n > INT64_MAX / 2)
    return lx_set_error(LX_ERR_ARGUMENT, "split: %lld keys is too many", (long long)n);
  int64_t shape[2] = {n, 2};
  lx_op op = {0};
  if (scheme == LX_PRNG_ORIGINAL) {
    /* threefry_2x32(key, iota(2n)) reshaped to {n, 2}: raw 32-bit words. */
    if ((st = check_original_words("split", (uint64_t)n * 2)) != LX_OK) return st;
    op.p.random.original = true;
    return run_random("split", LX_RANDOM_BITS, key, NULL, 2, shape, LX_UINT32, &op, out);
  }
  return run_random("split", LX_RANDOM_KEYS, key, NULL, 2, shape, LX_UINT32, &op, out);
}

lx_status lx_random_threefry(lx_array *key, uint32_t x0, uint32_t x1, lx_array **out) {
  lx_status st;
  if ((st = check_key("threefry", key)) != LX_OK) return st;
  int64_t shape = 2;
  lx_op op = {0};
  op.p.random.counter = (uint64_t)x0 << 32 | x1;
  return run_random("threefry", LX_RANDOM_KEYS, key, NULL, 1, &shape, LX_UINT32, &op, out);
}

lx_status lx_random_fold_in(lx_array *key, uint32_t data, lx_array **out) {
  lx_status st;
  if ((st = check_key("fold_in", key)) != LX_OK) return st;
  return lx_random_threefry(key, 0, data, out); /* jax: threefry_2x32(key, [0, data]) */
}

static lx_status check_shape(const char *fn, lx_dtype dtype, int ndim, const int64_t *shape,
                             int64_t *size) {
  if (ndim < 0 || ndim > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: shapes have 0 to %d dimensions, got %d", fn,
                        LX_MAX_DIMS, ndim);
  return lx_shape_check(fn, dtype, ndim, shape, size, NULL);
}

/* The checks every sampler makes: the key, the scheme, the dtype's kind
** (`kind_ok`, named `kind` in the message), the shape, and the original
** scheme's word limit for `width`-bit draws. Sets *size. */
static lx_status check_draw(const char *fn, lx_array *key, lx_prng_scheme scheme,
                            lx_dtype dtype, bool kind_ok, const char *kind, int ndim,
                            const int64_t *shape, unsigned width, int64_t *size) {
  lx_status st;
  if ((st = check_key(fn, key)) != LX_OK) return st;
  if ((st = check_scheme(fn, scheme)) != LX_OK) return st;
  if (!kind_ok)
    return lx_set_error(LX_ERR_DTYPE, "%s: dtype must be %s, got %s", fn, kind,
                        lx_dtype_name(dtype));
  if ((st = check_shape(fn, dtype, ndim, shape, size)) != LX_OK) return st;
  if (scheme == LX_PRNG_ORIGINAL)
    return check_original_words(fn, ((uint64_t)*size * width + 31) / 32);
  return LX_OK;
}

lx_status lx_random_bits(lx_array *key, int ndim, const int64_t *shape, lx_dtype dtype,
                         lx_prng_scheme scheme, lx_array **out) {
  lx_status st;
  int64_t size;
  if ((st = check_draw("bits", key, scheme, dtype, is_unsigned(dtype),
                       "an unsigned integer type", ndim, shape,
                       (unsigned)lx_dtype_size(dtype) * 8, &size)) != LX_OK)
    return st;
  lx_op op = {0};
  op.p.random.original = scheme == LX_PRNG_ORIGINAL;
  return run_random("bits", LX_RANDOM_BITS, key, NULL, ndim, shape, dtype, &op, out);
}

/* `v` rounded to the float dtype `t`, as a double. */
static double round_to(lx_dtype t, double v) {
  switch (t) {
    case LX_FLOAT32: return (float)v;
    case LX_FLOAT16: return lx_half_to_float(lx_double_to_half(v));
    case LX_BFLOAT16: return lx_bfloat16_to_float(lx_float_to_bfloat16((float)v));
    default: return v;
  }
}

lx_status lx_random_uniform(lx_array *key, int ndim, const int64_t *shape, lx_dtype dtype,
                            double minval, double maxval, lx_prng_scheme scheme,
                            lx_array **out) {
  lx_status st;
  int64_t size;
  /* jax: rng_bits = max(8, bits) when the mantissa has fewer than 8 bits. */
  unsigned width = dtype == LX_BFLOAT16 ? 8 : (unsigned)lx_dtype_size(dtype) * 8;
  if ((st = check_draw("uniform", key, scheme, dtype, lx_dtype_is_float(dtype), "a float type",
                       ndim, shape, width, &size)) != LX_OK)
    return st;
  lx_op op = {0};
  op.p.random.original = scheme == LX_PRNG_ORIGINAL;
  /* jax: minval, maxval = convert_element_type(..., dtype); the span is
  ** computed in dtype too. */
  op.p.random.lo = round_to(dtype, minval);
  op.p.random.diff = round_to(dtype, round_to(dtype, maxval) - op.p.random.lo);
  return run_random("uniform", LX_RANDOM_UNIFORM, key, NULL, ndim, shape, dtype, &op, out);
}

/* Integer remainder as XLA defines it for unsigned types: x % 0 == x. */
static uint64_t urem(uint64_t x, uint64_t y) { return y ? x % y : x; }

/* The range of integer dtype t, clipped to int64 (uint64's top is larger). */
static void int_range(lx_dtype t, int64_t *lo, int64_t *hi) {
  unsigned bits = (unsigned)lx_dtype_size(t) * 8;
  if (lx_dtype_is_signed(t)) {
    *hi = bits == 64 ? INT64_MAX : (int64_t)((1ull << (bits - 1)) - 1);
    *lo = -*hi - 1;
  } else {
    *lo = 0;
    *hi = bits == 64 ? INT64_MAX : (int64_t)((1ull << bits) - 1);
  }
}

/* jax's randint for one pair of bounds, as numbers modulo 2^width: the
** span (maxval <= minval gives 1; maxval past the dtype's top adds 1, which
** may wrap to 0), the multiplier 2^width % span and minval's bits. */
typedef struct randint_params {
  unsigned width;
  uint64_t mask, span, mult, minval;
} randint_params;

static void randint_setup(lx_dtype dtype, int64_t minval, int64_t maxval, randint_params *p) {
  unsigned bits = (unsigned)lx_dtype_size(dtype) * 8;
  uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  /* jax: maxval_out_of_range = maxval > iinfo(dtype).max; both bounds are
  ** then clipped to the dtype. */
  int64_t dlo, dhi;
  int_range(dtype, &dlo, &dhi);
  bool out_of_range = maxval > dhi;
  int64_t lo = minval < dlo ? dlo : minval > dhi ? dhi : minval;
  int64_t hi = maxval < dlo ? dlo : maxval > dhi ? dhi : maxval;
  uint64_t span = ((uint64_t)hi - (uint64_t)lo) & mask;
  if (hi <= lo) span = 1;
  if (out_of_range && hi > lo) span = (span + 1) & mask;
  uint64_t mult = urem((1ull << (bits / 2)) & mask, span);
  p->width = bits;
  p->mask = mask;
  p->span = span;
  p->mult = urem((mult * mult) & mask, span);
  p->minval = (uint64_t)lo & mask;
}

/* The value from the high and low draws (the backends' kernels do the same). */
static uint64_t randint_value(const randint_params *p, uint64_t h, uint64_t l) {
  h = urem(h, p->span);
  l = urem(l, p->span);
  uint64_t off = urem(((h * p->mult) + l) & p->mask, p->span);
  return (p->minval + off) & p->mask;
}

lx_status lx_random_randint(lx_array *key, int ndim, const int64_t *shape, lx_dtype dtype,
                            int64_t minval, int64_t maxval, lx_prng_scheme scheme,
                            lx_array **out) {
  lx_status st;
  int64_t size;
  if ((st = check_draw("randint", key, scheme, dtype, lx_dtype_is_integer(dtype),
                       "an integer type", ndim, shape, (unsigned)lx_dtype_size(dtype) * 8,
                       &size)) != LX_OK)
    return st;
  randint_params p;
  randint_setup(dtype, minval, maxval, &p);

  lx_array *keys = NULL, *k1 = NULL, *k2 = NULL;
  if ((st = lx_random_split(key, 2, scheme, &keys)) != LX_OK) return st;
  lx_index first = {LX_INDEX_SINGLE, 0, 1, 1}, second = {LX_INDEX_SINGLE, 1, 2, 1};
  st = lx_index_view(keys, 1, &first, &k1);
  if (st == LX_OK) st = lx_index_view(keys, 1, &second, &k2);
  if (st == LX_OK) {
    lx_op op = {0};
    op.p.random.original = scheme == LX_PRNG_ORIGINAL;
    op.p.random.span = p.span;
    op.p.random.multiplier = p.mult;
    op.p.random.minval = p.minval;
    st = run_random("randint", LX_RANDOM_RANDINT, k1, k2, ndim, shape, dtype, &op, out);
  }
  lx_array_release(k1);
  lx_array_release(k2);
  lx_array_release(keys);
  return st;
}

static lx_dtype unsigned_of_width(unsigned width) {
  switch (width) {
    case 8: return LX_UINT8;
    case 16: return LX_UINT16;
    case 32: return LX_UINT32;
    default: return LX_UINT64;
  }
}

/* `bound` as int64 values broadcast to `shape`, read to the host. */
static lx_status read_bound(const char *what, lx_array *bound, int ndim, const int64_t *shape,
                            int64_t size, int64_t *dst) {
  lx_array *wide = NULL, *b = NULL;
  lx_status st = lx_astype(bound, LX_INT64, &wide);
  if (st == LX_OK && (st = lx_broadcast_to(wide, ndim, shape, &b)) != LX_OK) {
    char sa[LX_SHAPE_STR_MAX], sb[LX_SHAPE_STR_MAX];
    st = lx_set_error(LX_ERR_SHAPE, "randint: %s of shape %s does not broadcast to shape %s",
                      what, lx__shape_str(bound->ndim, bound->shape, sa, sizeof sa),
                      lx__shape_str(ndim, shape, sb, sizeof sb));
  }
  if (st == LX_OK) st = lx_array_read(b, dst, (size_t)size * sizeof *dst);
  lx_array_release(b);
  lx_array_release(wide);
  return st;
}

lx_status lx_random_randint_arrays(lx_array *key, int ndim, const int64_t *shape,
                                   lx_dtype dtype, lx_array *minval, lx_array *maxval,
                                   lx_prng_scheme scheme, lx_array **out) {
  lx_status st;
  int64_t size;
  unsigned width = (unsigned)lx_dtype_size(dtype) * 8;
  if ((st = check_draw("randint", key, scheme, dtype, lx_dtype_is_integer(dtype),
                       "an integer type", ndim, shape, width, &size)) != LX_OK)
    return st;
  if (minval->dtype == LX_BOOL || maxval->dtype == LX_BOOL)
    return lx_set_error(LX_ERR_DTYPE, "randint: bounds must be numbers, got a bool array");
  if (lx_array_is_abstract(key) || lx_abstract_active())
    return lx_array_empty(lx__op_device(key, NULL), dtype, ndim, shape, out);
  /* The bounds vary per element: the draws come from the key's device and
  ** the arithmetic runs here, element by element, as jax's does. */
  size_t n = (size_t)(size ? size : 1);
  if ((uint64_t)n > SIZE_MAX / (4 * sizeof(uint64_t)))
    return lx_set_error(LX_ERR_MEMORY, "randint: %lld elements is too many", (long long)size);
  uint64_t *hi = malloc(n * sizeof *hi), *lo = malloc(n * sizeof *lo);
  int64_t *mn = malloc(n * sizeof *mn), *mx = malloc(n * sizeof *mx);
  lx_array *keys = NULL, *k1 = NULL, *k2 = NULL, *hb = NULL, *lb = NULL, *h64 = NULL, *l64 = NULL;
  if (!hi || !lo || !mn || !mx) {
    st = lx_set_error(LX_ERR_MEMORY, "randint: out of memory for %lld elements", (long long)size);
    goto done;
  }
  if ((st = read_bound("minval", minval, ndim, shape, size, mn)) != LX_OK) goto done;
  if ((st = read_bound("maxval", maxval, ndim, shape, size, mx)) != LX_OK) goto done;
  lx_index first = {LX_INDEX_SINGLE, 0, 1, 1}, second = {LX_INDEX_SINGLE, 1, 2, 1};
  lx_dtype ut = unsigned_of_width(width);
  if ((st = lx_random_split(key, 2, scheme, &keys)) != LX_OK ||
      (st = lx_index_view(keys, 1, &first, &k1)) != LX_OK ||
      (st = lx_index_view(keys, 1, &second, &k2)) != LX_OK ||
      (st = lx_random_bits(k1, ndim, shape, ut, scheme, &hb)) != LX_OK ||
      (st = lx_random_bits(k2, ndim, shape, ut, scheme, &lb)) != LX_OK ||
      (st = lx_astype(hb, LX_UINT64, &h64)) != LX_OK ||
      (st = lx_astype(lb, LX_UINT64, &l64)) != LX_OK ||
      (st = lx_array_read(h64, hi, (size_t)size * sizeof *hi)) != LX_OK ||
      (st = lx_array_read(l64, lo, (size_t)size * sizeof *lo)) != LX_OK)
    goto done;
  size_t esize = width / 8;
  unsigned char *data = (unsigned char *)hi; /* results overwrite the high draws */
  for (int64_t i = 0; i < size; i++) {
    randint_params p;
    randint_setup(dtype, mn[i], mx[i], &p);
    uint64_t v = randint_value(&p, hi[i], lo[i]);
    for (size_t b = 0; b < esize; b++) data[(size_t)i * esize + b] = (unsigned char)(v >> (8 * b));
  }
  st = lx_array_from_host(lx__op_device(key, NULL), dtype, ndim, shape, data, out);
done:
  lx_array_release(h64);
  lx_array_release(l64);
  lx_array_release(hb);
  lx_array_release(lb);
  lx_array_release(k1);
  lx_array_release(k2);
  lx_array_release(keys);
  free(hi);
  free(lo);
  free(mn);
  free(mx);
  return st;
}

/* ----------------------------------------------------------- permutation */

typedef struct sort_item {
  uint32_t key;
  int64_t pos;   /* position before this round: ties keep their order */
  int64_t value;
} sort_item;

static int sort_item_cmp(const void *pa, const void *pb) {
  const sort_item *a = pa, *b = pb;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Splits *key into (key, subkey) as jax's `key, subkey = _split(key)`. */
static lx_status next_subkey(lx_array **key, lx_prng_scheme scheme, lx_array **subkey) {
  lx_array *keys;
  lx_status st = lx_random_split(*key, 2, scheme, &keys);
  if (st != LX_OK) return st;
  lx_index first = {LX_INDEX_SINGLE, 0, 1, 1}, second = {LX_INDEX_SINGLE, 1, 2, 1};
  lx_array *k = NULL;
  st = lx_index_view(keys, 1, &first, &k);
  if (st == LX_OK) st = lx_index_view(keys, 1, &second, subkey);
  lx_array_release(keys);
  if (st != LX_OK) { lx_array_release(k); return st; }
  lx_array_release(*key);
  *key = k;
  return LX_OK;
}

lx_status lx_random_permutation(lx_array *key, int64_t n, lx_dtype dtype,
                                lx_prng_scheme scheme, lx_array **out) {
  lx_status st;
  if ((st = check_key("permutation", key)) != LX_OK) return st;
  if ((st = check_scheme("permutation", scheme)) != LX_OK) return st;
  if (!lx_dtype_is_integer(dtype))
    return lx_set_error(LX_ERR_DTYPE, "permutation: dtype must be an integer type, got %s",
                        lx_dtype_name(dtype));
  if (n < 0)
    return lx_set_error(LX_ERR_ARGUMENT, "permutation: n must be >= 0, got %lld",
                        (long long)n);
  if (n > 0 && !lx_dtype_holds_int64(dtype, n - 1))
    return lx_set_error(LX_ERR_DTYPE, "permutation: %s cannot hold %lld",
                        lx_dtype_name(dtype), (long long)(n - 1));
  if (lx_array_is_abstract(key) || lx_abstract_active())
    return lx_array_empty(lx__op_device(key, NULL), dtype, 1, &n, out);
  if ((uint64_t)n > SIZE_MAX / sizeof(sort_item))
    return lx_set_error(LX_ERR_MEMORY, "permutation: %lld elements is too many", (long long)n);
  sort_item *items = malloc((size_t)(n ? n : 1) * sizeof *items);
  uint32_t *sort_keys = malloc((size_t)(n ? n : 1) * sizeof *sort_keys);
  if (!items || !sort_keys) {
    free(items);
    free(sort_keys);
    return lx_set_error(LX_ERR_MEMORY, "permutation: out of memory for %lld elements",
                        (long long)n);
  }
  for (int64_t i = 0; i < n; i++) items[i].value = i;
  /* jax's _shuffle: ceil(3 ln(n) / ln(2^32 - 1)) rounds, each a stable sort
  ** by fresh 32-bit keys (the bits are drawn on the key's device). */
  int rounds = (int)ceil(3.0 * log((double)(n > 1 ? n : 1)) / log(4294967295.0));
  lx_array *k = lx_array_retain(key);
  st = LX_OK;
  for (int r = 0; r < rounds && st == LX_OK; r++) {
    lx_array *subkey = NULL, *bits = NULL;
    st = next_subkey(&k, scheme, &subkey);
    if (st == LX_OK) st = lx_random_bits(subkey, 1, &n, LX_UINT32, scheme, &bits);
    if (st == LX_OK) st = lx_array_read(bits, sort_keys, (size_t)n * sizeof *sort_keys);
    lx_array_release(bits);
    lx_array_release(subkey);
    if (st != LX_OK) break;
    for (int64_t i = 0; i < n; i++) {
      items[i].key = sort_keys[i];
      items[i].pos = i;
    }
    qsort(items, (size_t)n, sizeof *items, sort_item_cmp);
  }
  lx_array_release(k);
  if (st == LX_OK) {
    size_t esize = lx_dtype_size(dtype);
    unsigned char *data = malloc((size_t)(n ? n : 1) * esize);
    if (!data) {
      st = lx_set_error(LX_ERR_MEMORY, "permutation: out of memory for %lld elements",
                        (long long)n);
    } else {
      for (int64_t i = 0; i < n; i++) lx_store_int64(dtype, items[i].value, data + i * esize);
      st = lx_array_from_host(lx__op_device(key, NULL), dtype, 1, &n, data, out);
      free(data);
    }
  }
  free(items);
  free(sort_keys);
  return st;
}
