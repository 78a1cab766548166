/*
** lunox.h — public ABI of the lunox runtime (C11, knows nothing of Lua).
**
** Conventions
**  - Every function that can fail returns an lx_status; LX_OK is 0. On failure
**    the message is kept per thread and read with lx_last_error().
**  - Axes and indices in this ABI are 0-based (C's habit). Error messages,
**    which users of the Lua API read, number axes from 1 as Lua does.
**  - Arrays are immutable and reference counted. Functions that produce an
**    array hand the caller one reference (release it with lx_array_release).
**    Views (transpose, slice, broadcast, reshape of contiguous data) share the
**    buffer of their source.
**  - Devices are asynchronous: an op may return before its result is
**    computed. Reading data back (lx_array_read) waits for the work it needs.
*/
#ifndef LUNOX_H
#define LUNOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LX_VERSION "0.1.0"
#define LX_MAX_DIMS 32

typedef enum lx_status {
  LX_OK = 0,
  LX_ERR_ARGUMENT,  /* a bad value: wrong dtype name, bad axis, ... */
  LX_ERR_SHAPE,     /* shapes that do not fit together */
  LX_ERR_DTYPE,     /* an op not defined for a dtype */
  LX_ERR_INDEX,     /* an index out of range */
  LX_ERR_MEMORY,    /* allocation failed (host or device) */
  LX_ERR_DEVICE,    /* device missing, lost, or mismatched */
  LX_ERR_IO,        /* file or stream errors */
  LX_ERR_INTERNAL   /* a bug in lunox: please report */
} lx_status;

/* Message of the last failure on the calling thread ("" when none). */
const char *lx_last_error(void);
/* Sets the calling thread's message (printf-style) and returns `status`. */
lx_status lx_set_error(lx_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---------------------------------------------------------------- dtypes */

typedef enum lx_dtype {
  LX_FLOAT32 = 0,
  LX_FLOAT64,
  LX_FLOAT16,
  LX_BFLOAT16,
  LX_INT32,
  LX_INT64,
  LX_UINT8,
  LX_UINT32,
  LX_BOOL,
  /* Added later: at the end, so that the numbers above stay as they were. */
  LX_UINT16,
  LX_UINT64,
  LX_DTYPE_COUNT
} lx_dtype;

const char *lx_dtype_name(lx_dtype dtype);       /* "float32", ... */
const char *lx_dtype_short_name(lx_dtype dtype); /* "f32", "bf16", "i64", "bool" */
lx_status lx_dtype_from_name(const char *name, lx_dtype *out);
size_t lx_dtype_size(lx_dtype dtype);
bool lx_dtype_is_float(lx_dtype dtype);   /* float16/bfloat16/32/64 */
bool lx_dtype_is_integer(lx_dtype dtype); /* signed or unsigned, not bool */
bool lx_dtype_is_signed(lx_dtype dtype);
/* The dtype two arrays are promoted to (JAX's lattice, see docs/arrays.md). */
lx_dtype lx_dtype_promote(lx_dtype a, lx_dtype b);

/* Whether an integer dtype can hold the value (other dtypes hold every
** number). For a double, its truncation toward zero is checked, and NaN and
** infinities never fit. These check values, not bit patterns: no negative
** int64 fits uint64. */
bool lx_dtype_holds(lx_dtype dtype, double value);
bool lx_dtype_holds_int64(lx_dtype dtype, int64_t value);

/* Scalar conversions with lunox's casting rules: float -> int saturates and
** maps NaN to 0 (as XLA), float -> half rounds to nearest even. */
uint16_t lx_float_to_half(float f);
float lx_half_to_float(uint16_t h);
uint16_t lx_double_to_half(double d);
uint16_t lx_float_to_bfloat16(float f);
float lx_bfloat16_to_float(uint16_t b);
/* Writes `value` converted to `dtype` at `dst` (lx_dtype_size(dtype) bytes).
** uint64 travels through lx_store_int64/lx_load_int64 as its bit pattern
** (values from 2^63 up are the negative int64 of the same bits, as NumPy's
** .view(np.int64)); lx_load_double gives its value (rounded above 2^53). */
void lx_store_double(lx_dtype dtype, double value, void *dst);
void lx_store_int64(lx_dtype dtype, int64_t value, void *dst);
double lx_load_double(lx_dtype dtype, const void *src);
int64_t lx_load_int64(lx_dtype dtype, const void *src); /* exact for ints */

/* --------------------------------------------------------------- devices */

typedef struct lx_device lx_device;

typedef struct lx_device_info {
  char name[64];        /* "cpu", "vulkan:0" */
  char kind[16];        /* "cpu", "vulkan" */
  char description[256];/* human readable: CPU model, GPU name, driver */
  char vendor[32];      /* "NVIDIA", "AMD", "Intel", "Mesa", ... ("" for cpu) */
  char type[32];        /* "CPU", "discrete GPU", "integrated GPU", ... */
  uint64_t memory_bytes;/* total memory (host RAM for cpu) */
  uint64_t bytes_in_use;/* live array buffers on this device */
  int threads;          /* cpu: BLAS threads; others 0 */
  uint32_t subgroup_size; /* GPUs: threads that run in lockstep */
  bool is_gpu;          /* a real GPU (not the CPU backend, not lavapipe) */
  /* Which dtypes and paths the device supports. */
  bool float16, bfloat16, int64, float64, coopmat;
} lx_device_info;

/* Devices are created once per process and live until exit. */
int lx_device_count(void);
lx_device *lx_device_at(int index);     /* NULL when out of range */
lx_device *lx_device_cpu(void);
const char *lx_device_name(const lx_device *device); /* "cpu", "vulkan:0" */
/* Default device: LUNOX_DEVICE when set, else the first real GPU, else cpu. */
lx_status lx_device_default(lx_device **out);
/* Finds "cpu", "vulkan", "vulkan:N". */
lx_status lx_device_find(const char *name, lx_device **out);
lx_status lx_device_info_get(lx_device *device, lx_device_info *out);
/* Why a backend compiled into lunox is not available here (or NULL). */
const char *lx_backend_unavailable_reason(const char *kind);
/* Messages the Khronos validation layer reported so far (it is enabled when
** LUNOX_VULKAN_VALIDATION=1 at startup); `last` gets the latest text. */
uint64_t lx_vulkan_validation_messages(const char **last);
/* Waits for all work queued on `device` (NULL: every device). */
lx_status lx_sync(lx_device *device);
/* Bytes of live array buffers over all devices: the binding feeds this to the
** Lua garbage collector. */
uint64_t lx_memory_in_use(void);
/* Hands memory that backends keep for reuse (freed blocks) back to the
** system. */
void lx_memory_trim(void);

/* Abstract evaluation (filter_eval_shape): between begin and end, on the
** calling thread, every new array goes to the "abstract" device, which keeps
** shapes and dtypes and allocates no memory; ops check and compute shapes as
** usual and run nothing. Reading an abstract array's values is an error.
** Calls nest. */
void lx_abstract_begin(void);
void lx_abstract_end(void);
bool lx_abstract_active(void);

/* ---------------------------------------------------------------- arrays */

typedef struct lx_array lx_array;

lx_array *lx_array_retain(lx_array *a);
void lx_array_release(lx_array *a); /* NULL is fine */

lx_dtype lx_array_dtype(const lx_array *a);
int lx_array_ndim(const lx_array *a);
const int64_t *lx_array_shape(const lx_array *a);
const int64_t *lx_array_strides(const lx_array *a); /* in elements */
int64_t lx_array_size(const lx_array *a);
size_t lx_array_nbytes(const lx_array *a); /* size * dtype size */
lx_device *lx_array_device(const lx_array *a);
bool lx_array_is_contiguous(const lx_array *a); /* row-major, no gaps */
bool lx_array_is_abstract(const lx_array *a);   /* made by abstract evaluation */
/* Address of element 0 when the array lives in host-addressable memory and
** is computed (waits for it); NULL otherwise, with the reason as the error. */
void *lx_array_host_address(lx_array *a);

/* Checks a shape (no negative dims) and computes its element count and byte
** size without overflow; `fn` names the caller in the message. */
lx_status lx_shape_check(const char *fn, lx_dtype dtype, int ndim,
                         const int64_t *shape, int64_t *size, size_t *nbytes);

/* A new array whose contents are undefined until written. */
lx_status lx_array_empty(lx_device *device, lx_dtype dtype, int ndim,
                         const int64_t *shape, lx_array **out);
/* A new array with `data` (row-major, lx_array_nbytes bytes) copied in. */
lx_status lx_array_from_host(lx_device *device, lx_dtype dtype, int ndim,
                             const int64_t *shape, const void *data,
                             lx_array **out);
/* Copies the array, row-major and contiguous, into `dst` (`nbytes` must be
** lx_array_nbytes). Waits for pending work on the array. */
lx_status lx_array_read(lx_array *a, void *dst, size_t nbytes);
/* Copies `a` to another device (a new reference to `a` when it is there). */
lx_status lx_array_to_device(lx_array *a, lx_device *device, lx_array **out);

/* Constructors. */
lx_status lx_full(lx_device *device, lx_dtype dtype, int ndim,
                  const int64_t *shape, double value, lx_array **out);
/* lx_full with an integer value, exact for int64 (a double holds 53 bits). */
lx_status lx_full_int64(lx_device *device, lx_dtype dtype, int ndim,
                        const int64_t *shape, int64_t value, lx_array **out);
/* start, start+step, ... while < stop (> stop for negative step). */
lx_status lx_arange(lx_device *device, double start, double stop, double step,
                    lx_dtype dtype, lx_array **out);
/* A 0-d array holding `value` (exact for integers via lx_scalar_int64). */
lx_status lx_scalar(lx_device *device, lx_dtype dtype, double value,
                    lx_array **out);
lx_status lx_scalar_int64(lx_device *device, lx_dtype dtype, int64_t value,
                          lx_array **out);

/* ------------------------------------------------------------ operations */

typedef enum lx_unary_op {
  LX_NEG = 0, LX_EXP, LX_LOG, LX_SQRT, LX_ABS, LX_TANH, LX_SIN, LX_COS,
  LX_SIGMOID, LX_LOGICAL_NOT, LX_ERF, LX_ERF_INV, LX_UNARY_COUNT
} lx_unary_op;

typedef enum lx_binary_op {
  LX_ADD = 0, LX_SUB, LX_MUL, LX_DIV, LX_POW, LX_MAXIMUM, LX_MINIMUM,
  LX_EQ, LX_NE, LX_LT, LX_LE, LX_GT, LX_GE, LX_BINARY_COUNT
} lx_binary_op;

typedef enum lx_reduce_op {
  LX_SUM = 0, LX_MEAN, LX_MAX, LX_MIN, LX_ARGMAX, LX_ARGMIN, LX_REDUCE_COUNT
} lx_reduce_op;

const char *lx_unary_op_name(lx_unary_op op);   /* "exp" */
const char *lx_binary_op_name(lx_binary_op op); /* "add" */
const char *lx_reduce_op_name(lx_reduce_op op); /* "sum" */

/* Elementwise ops broadcast like NumPy and promote dtypes like JAX. */
lx_status lx_unary(lx_unary_op op, lx_array *a, lx_array **out);
lx_status lx_binary(lx_binary_op op, lx_array *a, lx_array *b, lx_array **out);
/* A binary op with a weakly typed scalar (a Lua or Python number): the
** array's dtype wins unless the scalar is not integral and the array is not
** floating point, then float32. `scalar_first` puts the scalar on the left. */
lx_status lx_binary_scalar(lx_binary_op op, lx_array *a, double scalar,
                           bool scalar_first, lx_array **out);
lx_status lx_where(lx_array *cond, lx_array *x, lx_array *y, lx_array **out);
lx_status lx_astype(lx_array *a, lx_dtype dtype, lx_array **out);
/* A contiguous copy (a new buffer even when `a` is contiguous). */
lx_status lx_copy(lx_array *a, lx_array **out);

/* Reduces over the axes whose bit is set in `axes_mask` (bit i = axis i);
** all axes when the mask is 0 and reduce_all is true. argmax/argmin accept
** one axis or all (then the index is into the flattened array) and return
** 0-based int64 indices. */
lx_status lx_reduce(lx_reduce_op op, lx_array *a, uint64_t axes_mask,
                    bool keepdims, lx_array **out);

/* NumPy's matmul: 1-D operands are promoted and the added axis removed;
** leading batch axes broadcast. */
lx_status lx_matmul(lx_array *a, lx_array *b, lx_array **out);

/* Shape ops: views where the data allows, copies otherwise. */
/* `shape` may hold one -1, inferred from the size. */
lx_status lx_reshape(lx_array *a, int ndim, const int64_t *shape,
                     lx_array **out);
/* `perm` is a permutation of 0..ndim-1; NULL reverses the axes. */
lx_status lx_transpose(lx_array *a, const int *perm, lx_array **out);
lx_status lx_broadcast_to(lx_array *a, int ndim, const int64_t *shape,
                          lx_array **out);

typedef enum lx_index_kind {
  LX_INDEX_SINGLE = 0, /* one position; the axis is removed */
  LX_INDEX_SLICE       /* start, stop (exclusive), step != 0 */
} lx_index_kind;

typedef struct lx_index {
  lx_index_kind kind;
  int64_t start; /* 0-based, already normalised (0 <= start <= dim) */
  int64_t stop;  /* exclusive; may be -1 for negative steps */
  int64_t step;
} lx_index;

/* Indexes the leading `n` axes (n <= ndim); the rest are kept whole.
** Positions must be in range (the binding normalises Lua indices). */
lx_status lx_index_view(lx_array *a, int n, const lx_index *index,
                        lx_array **out);
lx_status lx_concatenate(int n, lx_array *const *arrays, int axis,
                         lx_array **out);
/* `axis` is the position of the new axis, 0..ndim. */
lx_status lx_stack(int n, lx_array *const *arrays, int axis, lx_array **out);

/* N-d convolution: lax.conv_general_dilated with the layouts Equinox uses,
** x {N, C_in, s_1..s_n}, w {C_out, C_in/groups, k_1..k_n} ->
** out {N, C_out, o_1..o_n} (n = nspatial >= 1; N may be 1 for one example).
** Along spatial axis i, x is dilated by lhs_dilation[i] (that many - 1 zeros
** between neighbours: transposed convolution), padded with pad_lo[i] and
** pad_hi[i] zeros (negative values crop), and the kernel, dilated by
** rhs_dilation[i], slides with stride[i]:
**   o_i = (pad_lo + (s_i - 1) * lhs_dilation + 1 + pad_hi
**          - (k_i - 1) * rhs_dilation - 1) / stride + 1    (rounded down)
** which must be >= 1. NULL means all 1 (stride, dilations) or all 0 (pads).
** Output channel o sees input channels of group o / (C_out / groups).
** Floating dtypes only, promoted like matmul; float16/bfloat16 accumulate
** in float32 and are rounded once. The kernel is not flipped
** (cross-correlation, as in lax). */
lx_status lx_conv(lx_array *x, lx_array *w, int nspatial, const int64_t *stride,
                  const int64_t *pad_lo, const int64_t *pad_hi,
                  const int64_t *lhs_dilation, const int64_t *rhs_dilation,
                  int64_t groups, lx_array **out);

/* ---------------------------------------------------------------- random */

/* JAX's threefry2x32 PRNG, bit for bit. A key is a uint32 array of shape
** {2}. JAX has two ways to lay counters out: the partitionable scheme
** (jax_threefry_partitionable = True, JAX's default since 0.5) and the
** original one; split and every sampler depend on it, fold_in does not. */
typedef enum lx_prng_scheme {
  LX_PRNG_PARTITIONABLE = 0,
  LX_PRNG_ORIGINAL
} lx_prng_scheme;

/* {seed >> 32, seed & 0xffffffff} (JAX's threefry_seed of a 64-bit seed). */
lx_status lx_random_key(lx_device *device, int64_t seed, lx_array **out);
/* n new keys as a uint32 array {n, 2}. */
lx_status lx_random_split(lx_array *key, int64_t n, lx_prng_scheme scheme,
                          lx_array **out);
/* threefry(key, {0, data}): a new key, the same in both schemes. */
lx_status lx_random_fold_in(lx_array *key, uint32_t data, lx_array **out);
/* The block cipher itself: threefry2x32(key, {x0, x1}) as a uint32 {2}. */
lx_status lx_random_threefry(lx_array *key, uint32_t x0, uint32_t x1, lx_array **out);
/* Raw bits: dtype uint8, uint16, uint32 or uint64. */
lx_status lx_random_bits(lx_array *key, int ndim, const int64_t *shape,
                         lx_dtype dtype, lx_prng_scheme scheme, lx_array **out);
/* Uniform floats in [minval, maxval) as jax.random.uniform: minval and
** maxval are rounded to the float dtype first. */
lx_status lx_random_uniform(lx_array *key, int ndim, const int64_t *shape,
                            lx_dtype dtype, double minval, double maxval,
                            lx_prng_scheme scheme, lx_array **out);
/* Integers in [minval, maxval) as jax.random.randint (bounds clipped to the
** dtype; maxval <= minval gives minval). */
lx_status lx_random_randint(lx_array *key, int ndim, const int64_t *shape,
                            lx_dtype dtype, int64_t minval, int64_t maxval,
                            lx_prng_scheme scheme, lx_array **out);
/* randint with bounds that are arrays broadcasting to `shape` (any integer
** or float dtype; floats truncate toward zero, as jax's astype(int)). */
lx_status lx_random_randint_arrays(lx_array *key, int ndim, const int64_t *shape,
                                   lx_dtype dtype, lx_array *minval, lx_array *maxval,
                                   lx_prng_scheme scheme, lx_array **out);
/* A random permutation of 0..n-1 (jax.random.permutation(key, n)): rounds
** of a stable sort by fresh 32-bit keys. dtype: an integer dtype. */
lx_status lx_random_permutation(lx_array *key, int64_t n, lx_dtype dtype,
                                lx_prng_scheme scheme, lx_array **out);
/* ------------------------------------------- windowed reductions, take */

/* lax.reduce_window with max or sum (op is LX_MAX or LX_SUM) over every
** axis of x: `ndim` must be x's, window[i] >= 1 (1 on axes not pooled),
** strides[i] >= 1 (NULL: all 1), pad_lo[i], pad_hi[i] >= 0 (NULL: none).
** Axis i of the result has (n + lo + hi - window) / stride + 1 entries
** (rounded down; a window larger than the padded axis is an error, except
** on an empty axis, which stays empty). Padding contributes the op's identity, as in
** lax: -inf for float max (the dtype's lowest value for integers), 0 for
** sum. The result has x's dtype; float sums accumulate in double on the CPU
** and in compensated float32 (float64: double) on Vulkan, integer sums
** wrap. Bool is refused. */
lx_status lx_reduce_window(lx_reduce_op op, lx_array *x, int ndim, const int64_t *window,
                           const int64_t *strides, const int64_t *pad_lo,
                           const int64_t *pad_hi, lx_array **out);

/* jnp.take(a, indices, axis): shape a.shape[:axis] + indices.shape +
** a.shape[axis+1:], entry [..., j..., ...] = a[..., indices[j...], ...].
** Indices are integers (int32, int64, uint8, uint32) counted from
** `index_base` (0 in C, 1 for the Lua binding); negative ones count from
** the end (-1 is the last). An index outside the axis is an error naming
** it and its position (in index_base numbering) where the indices are in
** host memory (cpu); Vulkan kernels cannot report one without a readback
** and write JAX's fill value there instead (mode="fill": NaN for floats,
** the lowest value for signed integers, the highest for unsigned). */
lx_status lx_take(lx_array *a, lx_array *indices, int axis, int index_base,
                  lx_array **out);

/* ------------------------------------------------------------- printing */

typedef struct lx_format_options {
  int64_t threshold;   /* summarise when size > threshold (NumPy: 1000) */
  int edgeitems;       /* items kept at each edge when summarising (3) */
  int linewidth;       /* wrap width (75) */
  const char *prefix;  /* "Array(" ; NULL for the bare nested lists */
  bool show_dtype;     /* append ", dtype=float32)" */
} lx_format_options;

void lx_format_options_default(lx_format_options *opts);
/* Formats like NumPy's repr. `*out` is malloc'ed; free it with free(). */
lx_status lx_array_format(lx_array *a, const lx_format_options *opts,
                          char **out);
/* Short form used in pytrees: "f32[3,4]". Writes at most `size` bytes. */
void lx_array_short_repr(const lx_array *a, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
