/*
** internal.h — structures shared by the runtime core and its backends.
** Not installed: the public ABI is lunox.h.
*/
#ifndef LX_INTERNAL_H
#define LX_INTERNAL_H

#include "lunox.h"

#include <stdatomic.h>

/* A block of device memory. Arrays (and views) hold references to it. */
typedef struct lx_buffer {
  atomic_int refcount;
  lx_device *device;
  size_t nbytes;
  void *handle; /* the backend's: a host pointer for cpu */
  /* Memory the backend did not allocate (a mapped file): released through
  ** this instead of the backend's buffer_free. */
  void (*release)(void *ctx);
  void *release_ctx;
} lx_buffer;

struct lx_array {
  atomic_int refcount;
  lx_dtype dtype;
  int ndim;
  int64_t size;
  int64_t offset; /* in elements, into buffer */
  lx_buffer *buffer;
  /* Both point into `dims`, sized for ndim: a header costs ~64 bytes plus
  ** 16 per axis, which matters when every op makes one. */
  int64_t *shape;
  int64_t *strides; /* in elements; 0 for broadcast axes */
  int64_t dims[];
};

/* What a backend is asked to run. The core has already checked shapes and
** dtypes, broadcast the inputs to the output's shape (stride 0 where
** broadcast) and allocated the output, which may be a strided view into a
** larger buffer (concatenate writes through such views). */
typedef enum lx_op_kind {
  LX_OP_UNARY,   /* code: lx_unary_op; in[0] and out share dtype (bool for
                    logical_not) */
  LX_OP_BINARY,  /* code: lx_binary_op; in[0], in[1] share a dtype; out has it
                    too, or bool for comparisons */
  LX_OP_WHERE,   /* in[0] bool, in[1], in[2] and out share a dtype */
  LX_OP_CONVERT, /* in[0] -> out, any dtypes, same shape (astype, copies) */
  LX_OP_REDUCE,  /* code: lx_reduce_op; out (contiguous) has in[0]'s ndim with size 1 on
                    reduced axes; out dtype as the core decided (int64 for
                    arg ops); in[0] dtype equals out's for sum/mean/max/min */
  LX_OP_MATMUL,  /* in[0] {..., M, K}, in[1] {..., K, N}, out {..., M, N}:
                    same ndim >= 2, batch axes already broadcast, one dtype;
                    out is contiguous (a fresh array) */
  LX_OP_FILL,    /* out[...] = value */
  LX_OP_RANDOM,  /* code: lx_random_kind; in[0] (and in[1] for randint) are
                    uint32 keys of 2 elements (any strides); out is fresh
                    and contiguous. See random.c for each kind's layout. */
  LX_OP_REDUCE_WINDOW, /* code: LX_MAX or LX_SUM; in[0] and out (contiguous)
                          share a dtype, not bool; p.window, one entry per
                          axis (padding above follows from out's shape) */
  LX_OP_TAKE,    /* in[0] data and in[1] integer indices, both contiguous;
                    out contiguous, in[0]'s dtype; p.take */
  LX_OP_CONV     /* p.conv: in[0] x {N, C_in, spatial...}, in[1] w {C_out,
                    C_in/groups, kernel...}, out {N, C_out, out spatial...}:
                    one floating dtype, all three contiguous (offsets
                    allowed), shapes checked by ops_conv.c */
} lx_op_kind;

/* What LX_OP_RANDOM computes for flat output element i (random.c). */
typedef enum lx_random_kind {
  LX_RANDOM_BITS,    /* out uint8/uint16/uint32/uint64: JAX's _random_bits of
                        out's width, in the scheme p.random.original says */
  LX_RANDOM_KEYS,    /* out uint32 {n, 2}: key j = threefry(key, counter + j
                        as hi/lo words) (partitionable split, fold_in) */
  LX_RANDOM_UNIFORM, /* out float: bits of out's width (8 for bfloat16, as
                        JAX) made a float in [0, 1),
                        then * p.random.diff + p.random.lo, max(lo, .), each
                        step rounded to out's dtype */
  LX_RANDOM_RANDINT  /* out integer: JAX's randint from the bits of in[0] (high)
                        and in[1] (low) with span, multiplier and minval */
} lx_random_kind;

/* LX_OP_CONV's geometry, per spatial axis (see lx_conv in lunox.h). */
typedef struct lx_conv_params {
  int nspatial;
  int64_t groups;
  int64_t stride[LX_MAX_DIMS], pad_lo[LX_MAX_DIMS];
  int64_t lhs_dilation[LX_MAX_DIMS], rhs_dilation[LX_MAX_DIMS];
} lx_conv_params;

typedef struct lx_op {
  lx_op_kind kind;
  int code;
  int ninputs;
  const lx_array *in[3];
  lx_array *out;
  union {
    struct { double value; int64_t ivalue; bool is_int; } fill;
    struct { uint64_t axes_mask; int64_t count; } reduce; /* count: elements
                                                   reduced per output */
    struct {
      bool original;      /* JAX's original (non-partitionable) scheme */
      uint64_t counter;   /* keys: first counter */
      double lo, diff;    /* uniform: minval and maxval - minval, exact in out's
                             dtype */
      uint64_t span, multiplier, minval; /* randint, modulo 2^width */
    } random;
    struct { const int64_t *window, *strides, *pad_lo; } window;
    struct { int axis; int base; } take; /* base: what index 0 is called */
    const lx_conv_params *conv;
  } p;
} lx_op;

typedef struct lx_backend {
  const char *kind; /* "cpu", "vulkan", "abstract" */
  /* True for the abstract device: its buffers take no memory, so they are
  ** left out of the memory accounting. */
  bool holds_no_memory;
  lx_status (*buffer_alloc)(lx_device *dev, size_t nbytes, void **handle);
  void (*buffer_free)(lx_device *dev, void *handle, size_t nbytes);
  /* Host <-> device copies of byte ranges of a buffer. download waits for
  ** the work that writes the buffer. */
  lx_status (*upload)(lx_device *dev, void *handle, size_t offset,
                      const void *src, size_t nbytes);
  lx_status (*download)(lx_device *dev, void *handle, size_t offset, void *dst,
                        size_t nbytes);
  lx_status (*run)(lx_device *dev, const lx_op *op);
  lx_status (*sync)(lx_device *dev);
  /* Host address of a buffer's memory once its pending work is done, or
  ** NULL (with an error set) when the memory is not host-addressable. */
  void *(*host_address)(lx_device *dev, void *handle);
  lx_status (*describe)(lx_device *dev, lx_device_info *info);
  /* Returns memory the backend keeps for reuse (caches, idle blocks). */
  void (*trim)(lx_device *dev);
} lx_backend;

struct lx_device {
  const lx_backend *backend;
  char name[64];
  void *impl; /* the backend's per-device state */
  atomic_uint_fast64_t bytes_in_use;
};

/* array.c */
lx_status lx__buffer_new(lx_device *dev, size_t nbytes, lx_buffer **out);
/* A CPU buffer over host memory owned by someone else: `release(ctx)` runs
** when the last reference goes. */
lx_status lx__buffer_external(void *data, size_t nbytes, void (*release)(void *ctx),
                              void *ctx, lx_buffer **out);
lx_buffer *lx__buffer_retain(lx_buffer *b);
void lx__buffer_release(lx_buffer *b);
/* A new array header over `buffer` (retained), contiguous strides. */
lx_status lx__array_wrap(lx_buffer *buffer, lx_dtype dtype, int ndim,
                         const int64_t *shape, int64_t offset, lx_array **out);
/* A view: same buffer, new shape/strides/offset. */
lx_status lx__array_view(const lx_array *base, int ndim, const int64_t *shape,
                         const int64_t *strides, int64_t offset,
                         lx_array **out);
void lx__contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
lx_status lx__run(const lx_op *op);
/* Common operand checks. */
lx_status lx__same_device(const char *fn, const lx_array *a, const lx_array *b);
/* Formats a shape as "{3,4}" into buf. */
const char *lx__shape_str(int ndim, const int64_t *shape, char *buf,
                          size_t size);
#define LX_SHAPE_STR_MAX (LX_MAX_DIMS * 21 + 3)

/* shape.c */
/* The iteration layout of operands sharing ops[0]'s shape: size-1 axes
** dropped, and each axis merged into the previous one when every operand is
** contiguous across the pair. Writes shape[nd] and strides[k][nd] (in
** elements) and returns nd >= 1 (a scalar gives one axis of extent 1). */
int lx__merge_axes(int nops, const lx_array *const *ops, int64_t *shape,
                   int64_t (*strides)[LX_MAX_DIMS]);
lx_status lx__broadcast_shapes(const char *fn, int na, const int64_t *sa,
                               int nb, const int64_t *sb, int *nout,
                               int64_t *out);

/* devices.c */
extern const lx_backend lx_cpu_backend;

/* abstract.c */
lx_device *lx__device_abstract(void);
/* The device of an op's result: the abstract device when an operand is
** abstract (b may be NULL), else a's. */
lx_device *lx__op_device(const lx_array *a, const lx_array *b);

#endif
