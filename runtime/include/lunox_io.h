/*
** lunox_io.h — file formats of the lunox runtime: NumPy .npy records (and
** the .eqx stream of them that Equinox writes), safetensors, JSON.
**
** Every reader treats its input as hostile: lengths, counts and shapes are
** checked (bounds and 64-bit overflow) before anything is allocated, and a
** failure is an lx_status with a message that names the problem, the file
** and the byte offset, e.g.
**   "npy header: negative dimension -3 in 'shape' (model.eqx, byte 1984)".
** Nothing here knows of Lua; the binding supplies readers and writers over
** Lua files and lx.BytesIO.
*/
#ifndef LUNOX_IO_H
#define LUNOX_IO_H

#include "lunox.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --------------------------------------------------------------- streams */

/* A source of bytes. `read` fills up to n bytes of dst and returns how many
** it read (fewer than n only at the end of the stream), or -1 after setting
** the error. The functions below keep `offset` and `remaining` up to date. */
typedef struct lx_reader {
  int64_t (*read)(void *ctx, void *dst, size_t n);
  void *ctx;
  const char *name;  /* the file, for messages: "model.eqx", "<BytesIO>" */
  uint64_t offset;   /* position in the stream (for messages) */
  int64_t remaining; /* bytes left when known (files, memory); -1 if not */
} lx_reader;

/* A sink of bytes: `write` writes all n bytes or sets the error. */
typedef struct lx_writer {
  lx_status (*write)(void *ctx, const void *src, size_t n);
  void *ctx;
  const char *name;
  uint64_t offset;
} lx_writer;

/* Reads exactly n bytes; at the end of the stream the error says that the
** file is truncated, naming `what` was being read. */
lx_status lx_read_exact(lx_reader *r, void *dst, size_t n, const char *what);
/* Reads up to n bytes (fewer only at the end); *got receives the count. */
lx_status lx_read_some(lx_reader *r, void *dst, size_t n, size_t *got);
lx_status lx_write_all(lx_writer *w, const void *src, size_t n);

/* A reader over memory (ctx is the lx_memory_source, which must outlive
** the reader). */
typedef struct lx_memory_source {
  const uint8_t *data;
  size_t len, pos;
} lx_memory_source;
void lx_reader_memory(lx_reader *r, lx_memory_source *src, const void *data, size_t len,
                      const char *name);

/* A reader or writer over a stdio stream, starting at its current position.
** `remaining` is known for regular files. */
void lx_reader_stdio(lx_reader *r, FILE *f, const char *name);
void lx_writer_stdio(lx_writer *w, FILE *f, const char *name);

/* Writes the array's elements, row-major, little-endian (any device, any
** layout: non-contiguous views and device arrays are copied out first). */
lx_status lx_write_array_data(lx_writer *w, lx_array *a);

/* --------------------------------------------------------------- .npy */

/* The longest header lunox reads or writes (numpy.save writes ~128 bytes;
** NumPy itself refuses headers over 10000 bytes by default). */
#define LX_NPY_HEADER_MAX 65536

typedef struct lx_npy_header {
  /* A record of a plain NumPy type lunox lacks ('<i2', '<c16', '|S8', ...)
  ** has a header all the same, so that it can be skipped: dtype is then
  ** LX_DTYPE_COUNT, and reading its data is the error. */
  lx_dtype dtype;
  bool supported;     /* dtype is a lunox dtype */
  size_t itemsize;    /* bytes per element, from the descr */
  int ndim;
  int64_t shape[LX_MAX_DIMS];
  bool fortran_order; /* data in column-major order */
  bool big_endian;    /* data bytes must be swapped */
  char descr[32];     /* the descr as written (for messages) */
  int version;        /* 1, 2 or 3 */
  size_t nbytes;      /* bytes of data after the header */
  uint64_t offset;    /* stream offset of the record (its magic string) */
  uint64_t descr_offset; /* stream offset of the descr's value, for messages */
  uint64_t data_offset;
} lx_npy_header;

/* Reads one record's header. At a clean end of stream (not one byte left)
** returns LX_OK with *eof set; a partial record is an error. */
lx_status lx_npy_read_header(lx_reader *r, lx_npy_header *h, bool *eof);
/* Reads the record's data into a new, contiguous CPU array (row-major:
** a record whose dtype lunox lacks is refused, naming it;
** fortran_order and big-endian data are converted; bool bytes are
** normalised to 0/1). When the reader knows its remaining length, a record
** claiming more data than is left is refused before anything is allocated. */
lx_status lx_npy_read_data(lx_reader *r, const lx_npy_header *h, lx_array **out);
/* Skips over the record's data. */
lx_status lx_npy_skip_data(lx_reader *r, const lx_npy_header *h);
/* The header numpy.save writes for this dtype and shape (format 1.0, or
** 2.0 when it does not fit), byte for byte. *len receives its length. */
lx_status lx_npy_format_header(lx_dtype dtype, int ndim, const int64_t *shape, char *buf,
                               size_t cap, size_t *len);
/* Writes `a` as one .npy record (header + data), as numpy.save does. */
lx_status lx_npy_write(lx_writer *w, lx_array *a);
/* NumPy's descr for a lunox dtype: "<f4", "<V2" (bfloat16), "|b1", ... */
const char *lx_npy_descr(lx_dtype dtype);

/* --------------------------------------------------------------- JSON */

typedef enum lx_json_type {
  LX_JSON_NULL = 0,
  LX_JSON_FALSE,
  LX_JSON_TRUE,
  LX_JSON_INTEGER, /* no fraction or exponent, fits int64 */
  LX_JSON_NUMBER,  /* anything else (a double) */
  LX_JSON_STRING,
  LX_JSON_ARRAY,
  LX_JSON_OBJECT
} lx_json_type;

typedef struct lx_json_value lx_json_value;
typedef struct lx_json_member lx_json_member;

struct lx_json_value {
  lx_json_type type;
  size_t offset; /* byte offset of the value in the text */
  union {
    int64_t integer;
    double number;
    struct { const char *s; size_t len; } string;        /* UTF-8, unescaped, NUL-terminated */
    struct { lx_json_value *items; size_t count; } array;
    struct { lx_json_member *members; size_t count; } object; /* in text order */
  } u;
};

struct lx_json_member {
  const char *key;
  size_t key_len;
  lx_json_value value;
};

typedef struct lx_json_limits {
  int max_depth;     /* nesting of arrays and objects (default 512) */
  size_t max_length; /* text length (default: none) */
} lx_json_limits;

/* A parsed document: every value lives in it until lx_json_free. */
typedef struct lx_json_doc lx_json_doc;

/* Parses strict RFC 8259 JSON: one value, optional surrounding whitespace.
** Refused, with "line L, column C (byte B)" in the message: anything else
** after the value, invalid UTF-8 (in strings or anywhere), lone surrogate
** escapes, control characters in strings, NaN/Infinity and other
** non-JSON literals, leading zeros, duplicate keys in an object, nesting
** deeper than max_depth. `name` names the text in messages (a file name,
** or NULL). `limits` may be NULL. */
lx_status lx_json_parse(const char *text, size_t len, const char *name,
                        const lx_json_limits *limits, lx_json_doc **out);
const lx_json_value *lx_json_root(const lx_json_doc *doc);
void lx_json_free(lx_json_doc *doc);
/* The member of an object named key, or NULL. */
const lx_json_value *lx_json_get(const lx_json_value *object, const char *key);

/* ----------------------------------------------------------- safetensors */

/* The reference implementation's limit on the header's length. */
#define LX_SAFETENSORS_HEADER_MAX 100000000u

typedef enum lx_st_dtype {
  LX_ST_BOOL = 0, LX_ST_U8, LX_ST_I8, LX_ST_F8_E5M2, LX_ST_F8_E4M3,
  LX_ST_I16, LX_ST_U16, LX_ST_F16, LX_ST_BF16,
  LX_ST_I32, LX_ST_U32, LX_ST_F32,
  LX_ST_F64, LX_ST_I64, LX_ST_U64,
  LX_ST_DTYPE_COUNT
} lx_st_dtype;

const char *lx_st_dtype_name(lx_st_dtype d); /* "F32" */
size_t lx_st_dtype_size(lx_st_dtype d);
/* The lunox dtype of a safetensors dtype; false for those lunox lacks. */
bool lx_st_dtype_to_lx(lx_st_dtype d, lx_dtype *out);
lx_st_dtype lx_st_dtype_from_lx(lx_dtype d);

typedef struct lx_st_tensor {
  const char *name; /* NUL-terminated, valid while the header lives */
  size_t name_len;
  lx_st_dtype dtype;
  int ndim;
  int64_t shape[LX_MAX_DIMS];
  uint64_t begin, end; /* data_offsets: bytes into the data section */
} lx_st_tensor;

typedef struct lx_st_meta {
  const char *key, *value;
  size_t key_len, value_len;
} lx_st_meta;

typedef struct lx_st_header {
  uint64_t header_len;  /* N, the JSON's length */
  uint64_t data_offset; /* 8 + N: where the data section starts in the file */
  size_t count;         /* tensors, sorted by begin offset */
  lx_st_tensor *tensors;
  size_t meta_count;    /* __metadata__ entries, in text order */
  lx_st_meta *meta;
  lx_json_doc *doc;     /* owns the strings */
} lx_st_header;

/* Parses and validates the header at the start of a safetensors file of
** `file_len` bytes, of which `avail` (>= 8) are at `data`; needs the whole
** header in memory (8 + N bytes), and reports how much when it is not:
** LX_OK with *out NULL and *need set. Validation follows the reference
** implementation: N <= 100 MB and within the file, the header a JSON object
** of tensors {dtype, shape, data_offsets} plus an optional __metadata__ map
** of strings; offsets contiguous from 0 in order, each tensor's byte length
** matching its shape and dtype, and the last end at the end of the file. */
lx_status lx_safetensors_parse(const uint8_t *data, size_t avail, uint64_t file_len,
                               const char *name, lx_st_header **out, size_t *need);
void lx_safetensors_free(lx_st_header *h);

/* ------------------------------------------------------- mapped files */

/* A read-only file mapped into memory (private, copy-on-write), reference
** counted: arrays made from it keep it mapped. */
typedef struct lx_mapped_file lx_mapped_file;
lx_status lx_file_map(const char *path, lx_mapped_file **out);
const uint8_t *lx_mapped_data(const lx_mapped_file *m);
size_t lx_mapped_size(const lx_mapped_file *m);
void lx_mapped_release(lx_mapped_file *m);
/* A CPU array over bytes [offset, offset + nbytes) of the mapping, without
** copying when the address suits the dtype's alignment (a copy otherwise). */
lx_status lx_mapped_array(lx_mapped_file *m, uint64_t offset, lx_dtype dtype, int ndim,
                          const int64_t *shape, lx_array **out);

#ifdef __cplusplus
}
#endif
#endif
