/*
** safetensors.c — the header of a safetensors file: parsing and validation
** by the reference implementation's rules (huggingface/safetensors).
**
** Layout: an 8-byte little-endian length N, N bytes of JSON (an object of
** tensors {dtype, shape, data_offsets} and an optional "__metadata__" map of
** strings), then the data section. Everything is checked before a caller
** trusts an offset: the length against the limit and the file, each
** tensor's byte count against its shape and dtype (64-bit overflow
** included), and the offsets for a contiguous cover of the data section
** from 0 to its end with no gap, overlap or trailing byte.
**
** Messages end with "(<file>, byte <offset>)", the offset into the file:
** 8 + the position in the JSON for header problems.
*/
#include "io_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- dtypes */

static const struct {
  const char *name;
  size_t size;
} st_dtypes[LX_ST_DTYPE_COUNT] = {
  [LX_ST_BOOL] = {"BOOL", 1},       [LX_ST_U8] = {"U8", 1},   [LX_ST_I8] = {"I8", 1},
  [LX_ST_F8_E5M2] = {"F8_E5M2", 1}, [LX_ST_F8_E4M3] = {"F8_E4M3", 1},
  [LX_ST_I16] = {"I16", 2},         [LX_ST_U16] = {"U16", 2}, [LX_ST_F16] = {"F16", 2},
  [LX_ST_BF16] = {"BF16", 2},       [LX_ST_I32] = {"I32", 4}, [LX_ST_U32] = {"U32", 4},
  [LX_ST_F32] = {"F32", 4},         [LX_ST_F64] = {"F64", 8}, [LX_ST_I64] = {"I64", 8},
  [LX_ST_U64] = {"U64", 8},
};

const char *lx_st_dtype_name(lx_st_dtype d) {
  return (unsigned)d < LX_ST_DTYPE_COUNT ? st_dtypes[d].name : "unknown";
}

size_t lx_st_dtype_size(lx_st_dtype d) {
  return (unsigned)d < LX_ST_DTYPE_COUNT ? st_dtypes[d].size : 0;
}

bool lx_st_dtype_to_lx(lx_st_dtype d, lx_dtype *out) {
  lx_dtype r;
  switch (d) {
    case LX_ST_F32: r = LX_FLOAT32; break;
    case LX_ST_F64: r = LX_FLOAT64; break;
    case LX_ST_F16: r = LX_FLOAT16; break;
    case LX_ST_BF16: r = LX_BFLOAT16; break;
    case LX_ST_I32: r = LX_INT32; break;
    case LX_ST_I64: r = LX_INT64; break;
    case LX_ST_U8: r = LX_UINT8; break;
    case LX_ST_U32: r = LX_UINT32; break;
    case LX_ST_BOOL: r = LX_BOOL; break;
    case LX_ST_U16: r = LX_UINT16; break;
    case LX_ST_U64: r = LX_UINT64; break;
    default: return false;
  }
  if (out) *out = r;
  return true;
}

lx_st_dtype lx_st_dtype_from_lx(lx_dtype d) {
  switch (d) {
    case LX_FLOAT32: return LX_ST_F32;
    case LX_FLOAT64: return LX_ST_F64;
    case LX_FLOAT16: return LX_ST_F16;
    case LX_BFLOAT16: return LX_ST_BF16;
    case LX_INT32: return LX_ST_I32;
    case LX_INT64: return LX_ST_I64;
    case LX_UINT8: return LX_ST_U8;
    case LX_UINT32: return LX_ST_U32;
    case LX_BOOL: return LX_ST_BOOL;
    case LX_UINT16: return LX_ST_U16;
    case LX_UINT64: return LX_ST_U64;
    default: return LX_ST_DTYPE_COUNT;
  }
}

/* ------------------------------------------------------------- messages */

typedef struct checker {
  const char *name;         /* the file, for messages (may be NULL) */
  const char *json;         /* the header text */
  size_t json_len;
  uint64_t data_len;        /* bytes of the data section */
  uint64_t header_len;
} checker;

static lx_status st_fail(const char *name, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static lx_status st_fail(const char *name, uint64_t offset, const char *fmt, ...) {
  char what[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return lx__io_error(LX_ERR_IO, name, offset, "safetensors: %s", what);
}

/* A header problem at JSON position `at`. */
#define hfail(c, at, ...) st_fail((c)->name, 8 + (uint64_t)(at), __VA_ARGS__)

/* A tensor name or key for messages: single quotes, escapes for bytes that
** would garble the message, cut after ~max bytes on a character boundary. */
static const char *quoted(char *buf, size_t cap, const char *s, size_t n) {
  const size_t max = 120;
  size_t o = 0;
  buf[o++] = '\'';
  for (size_t i = 0; i < n && o + 8 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (i >= max && (c & 0xC0) != 0x80) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (c == '\'' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '\'';
  buf[o] = 0;
  return buf;
}

#define QUOTE_CAP 160

static const char *type_name(const lx_json_value *v) {
  switch (v->type) {
    case LX_JSON_NULL: return "null";
    case LX_JSON_FALSE:
    case LX_JSON_TRUE: return "a boolean";
    case LX_JSON_INTEGER:
    case LX_JSON_NUMBER: return "a number";
    case LX_JSON_STRING: return "a string";
    case LX_JSON_ARRAY: return "a list";
    case LX_JSON_OBJECT: return "an object";
  }
  return "a value";
}

/* The text of the number at `v`, as written (what a message should show,
** since a double would print 1e30 or 2.0 differently). */
static bool is_number_char(char ch) {
  return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
}

static void number_text(const checker *c, const lx_json_value *v, char *buf, size_t cap) {
  size_t n = 0, at = v->offset;
  while (at + n < c->json_len && n + 4 < cap && is_number_char(c->json[at + n])) n++;
  memcpy(buf, c->json + at, n);
  if (at + n < c->json_len && is_number_char(c->json[at + n]))
    memcpy(buf + n, "...", 4);
  else
    buf[n] = 0;
}

static bool key_is(const lx_json_member *m, const char *key) {
  size_t n = strlen(key);
  return m->key_len == n && memcmp(m->key, key, n) == 0;
}

static void format_shape(const lx_st_tensor *t, char *buf, size_t cap) {
  size_t o = 0;
  buf[o++] = '[';
  for (int i = 0; i < t->ndim && o + 24 < cap; i++)
    o += (size_t)snprintf(buf + o, cap - o, i ? ",%" PRId64 : "%" PRId64, t->shape[i]);
  if (o + 2 > cap) o = cap - 2;
  buf[o++] = ']';
  buf[o] = 0;
}

/* ------------------------------------------------------------ validation */

/* A non-negative int64 from the JSON value, or an error naming `what`. */
static lx_status check_count(const checker *c, const lx_json_value *v, const char *tname,
                             const char *what, int64_t *out) {
  char num[48];
  if (v->type == LX_JSON_INTEGER) {
    if (v->u.integer >= 0) {
      *out = v->u.integer;
      return LX_OK;
    }
    return hfail(c, v->offset, "tensor %s: %s is %" PRId64 ", but it must be a non-negative integer",
                 tname, what, v->u.integer);
  }
  if (v->type == LX_JSON_NUMBER) {
    number_text(c, v, num, sizeof num);
    bool integral = !strpbrk(num, ".eE");
    return hfail(c, v->offset, "tensor %s: %s is %s, %s", tname, what, num,
                 integral ? (num[0] == '-' ? "but it must be a non-negative integer"
                                           : "too large for a 64-bit integer")
                          : "but it must be an integer");
  }
  return hfail(c, v->offset, "tensor %s: %s must be a non-negative integer, found %s", tname, what,
               type_name(v));
}

static lx_status check_tensor(const checker *c, const lx_json_member *m, lx_st_tensor *t) {
  char q[QUOTE_CAP];
  const char *tname = quoted(q, sizeof q, m->key, m->key_len);
  const lx_json_value *v = &m->value;
  if (memchr(m->key, 0, m->key_len))
    return hfail(c, v->offset, "tensor name %s contains a NUL byte", tname);
  if (v->type != LX_JSON_OBJECT)
    return hfail(c, v->offset,
                 "tensor %s must be an object {\"dtype\", \"shape\", \"data_offsets\"}, found %s",
                 tname, type_name(v));
  const lx_json_value *dtype = NULL, *shape = NULL, *offsets = NULL;
  for (size_t i = 0; i < v->u.object.count; i++) {
    const lx_json_member *f = &v->u.object.members[i];
    if (key_is(f, "dtype")) dtype = &f->value;
    else if (key_is(f, "shape")) shape = &f->value;
    else if (key_is(f, "data_offsets")) offsets = &f->value;
    else {
      char k[QUOTE_CAP];
      return hfail(c, f->value.offset,
                   "tensor %s has an unknown key %s (a tensor has exactly \"dtype\", \"shape\" "
                   "and \"data_offsets\")",
                   tname, quoted(k, sizeof k, f->key, f->key_len));
    }
  }
  const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
  if (missing) return hfail(c, v->offset, "tensor %s has no \"%s\"", tname, missing);

  t->name = m->key;
  t->name_len = m->key_len;

  /* dtype */
  if (dtype->type != LX_JSON_STRING)
    return hfail(c, dtype->offset, "tensor %s: \"dtype\" must be a string, found %s", tname,
                 type_name(dtype));
  int found = -1;
  for (int d = 0; d < LX_ST_DTYPE_COUNT; d++) {
    const char *dn = st_dtypes[d].name;
    if (strlen(dn) == dtype->u.string.len && !memcmp(dn, dtype->u.string.s, dtype->u.string.len))
      found = d;
  }
  if (found < 0) {
    char dq[QUOTE_CAP];
    return hfail(c, dtype->offset,
                 "tensor %s has unknown dtype %s (expected one of BOOL, U8, I8, F8_E5M2, "
                 "F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)",
                 tname, quoted(dq, sizeof dq, dtype->u.string.s, dtype->u.string.len));
  }
  t->dtype = (lx_st_dtype)found;

  /* shape */
  if (shape->type != LX_JSON_ARRAY)
    return hfail(c, shape->offset, "tensor %s: \"shape\" must be a list of integers, found %s",
                 tname, type_name(shape));
  if (shape->u.array.count > LX_MAX_DIMS)
    return hfail(c, shape->offset, "tensor %s has %zu dimensions in \"shape\"; at most %d are supported",
                 tname, shape->u.array.count, LX_MAX_DIMS);
  t->ndim = (int)shape->u.array.count;
  for (int i = 0; i < t->ndim; i++) {
    char what[48];
    snprintf(what, sizeof what, "dimension %d of \"shape\"", i + 1);
    lx_status st = check_count(c, &shape->u.array.items[i], tname, what, &t->shape[i]);
    if (st != LX_OK) return st;
  }

  /* data_offsets */
  if (offsets->type != LX_JSON_ARRAY)
    return hfail(c, offsets->offset,
                 "tensor %s: \"data_offsets\" must be a list of two integers [begin, end], "
                 "found %s",
                 tname, type_name(offsets));
  if (offsets->u.array.count != 2)
    return hfail(c, offsets->offset,
                 "tensor %s: \"data_offsets\" must be a list of two integers [begin, end], "
                 "found a list of %zu",
                 tname, offsets->u.array.count);
  int64_t begin, end;
  lx_status st = check_count(c, &offsets->u.array.items[0], tname, "begin of \"data_offsets\"", &begin);
  if (st != LX_OK) return st;
  st = check_count(c, &offsets->u.array.items[1], tname, "end of \"data_offsets\"", &end);
  if (st != LX_OK) return st;
  if (begin > end)
    return hfail(c, offsets->offset,
                 "tensor %s: \"data_offsets\" [%" PRId64 ", %" PRId64 "] begins after it ends",
                 tname, begin, end);
  t->begin = (uint64_t)begin;
  t->end = (uint64_t)end;

  /* The byte count its shape and dtype need, which must not wrap: a wrapped
  ** product could match small offsets and let a reader run off the data.
  ** As in the reference implementation, a zero dimension does not excuse
  ** the others: lunox computes strides from them, in int64. */
  uint64_t nbytes = st_dtypes[t->dtype].size;
  bool zero = false, overflow = false;
  for (int i = 0; i < t->ndim; i++) {
    uint64_t d = (uint64_t)t->shape[i];
    if (d == 0) zero = true;
    else if (nbytes > (uint64_t)INT64_MAX / d) overflow = true;
    else nbytes *= d;
  }
  if (zero) nbytes = 0;
  char sh[QUOTE_CAP * 4];
  format_shape(t, sh, sizeof sh);
  if (overflow)
    return hfail(c, shape->offset, "tensor %s: shape %s of %s is too large: its byte size "
                 "does not fit in 63 bits", tname, sh, st_dtypes[t->dtype].name);
  if (t->end - t->begin != nbytes)
    return hfail(c, offsets->offset,
                 "tensor %s has %" PRIu64 " bytes in data_offsets [%" PRIu64 ", %" PRIu64
                 "] but shape %s of %s needs %" PRIu64,
                 tname, t->end - t->begin, t->begin, t->end, sh, st_dtypes[t->dtype].name,
                 nbytes);
  return LX_OK;
}

static lx_status check_metadata(const checker *c, const lx_json_value *v, lx_st_header *h) {
  if (v->type != LX_JSON_OBJECT)
    return hfail(c, v->offset,
                 "\"__metadata__\" must be an object of strings, found %s (no tensor may be "
                 "named __metadata__)",
                 type_name(v));
  size_t n = v->u.object.count;
  if (n) {
    h->meta = calloc(n, sizeof *h->meta);
    if (!h->meta) return lx_set_error(LX_ERR_MEMORY, "safetensors: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    const lx_json_member *m = &v->u.object.members[i];
    if (m->value.type != LX_JSON_STRING) {
      char q[QUOTE_CAP];
      return hfail(c, m->value.offset,
                   "\"__metadata__\" must map strings to strings, but %s maps to %s (no "
                   "tensor may be named __metadata__)",
                   quoted(q, sizeof q, m->key, m->key_len), type_name(&m->value));
    }
    h->meta[i].key = m->key;
    h->meta[i].key_len = m->key_len;
    h->meta[i].value = m->value.u.string.s;
    h->meta[i].value_len = m->value.u.string.len;
  }
  h->meta_count = n;
  return LX_OK;
}

/* Order of the data section; ties (zero-size tensors at one offset) by name
** so that the order never depends on qsort. */
static int compare_tensors(const void *a, const void *b) {
  const lx_st_tensor *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
  int r = n ? memcmp(x->name, y->name, n) : 0;
  if (r) return r;
  return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* The position in the JSON of a tensor's data_offsets (for messages). */
static size_t offsets_pos(const lx_json_value *root, const lx_st_tensor *t) {
  for (size_t i = 0; i < root->u.object.count; i++) {
    const lx_json_member *m = &root->u.object.members[i];
    if (m->key == t->name) {
      const lx_json_value *o = lx_json_get(&m->value, "data_offsets");
      return o ? o->offset : m->value.offset;
    }
  }
  return 0;
}

static lx_status check_layout(const checker *c, const lx_json_value *root, lx_st_header *h) {
  if (h->count > 1) qsort(h->tensors, h->count, sizeof *h->tensors, compare_tensors);
  uint64_t expected = 0;
  char q1[QUOTE_CAP], q2[QUOTE_CAP];
  for (size_t i = 0; i < h->count; i++) {
    const lx_st_tensor *t = &h->tensors[i], *prev = i ? &h->tensors[i - 1] : NULL;
    const char *tn = quoted(q1, sizeof q1, t->name, t->name_len);
    if (t->begin == expected) {
      expected = t->end;
      continue;
    }
    size_t at = offsets_pos(root, t);
    if (!prev)
      return hfail(c, at,
                   "the first tensor in the data section, %s, begins at data byte %" PRIu64
                   " instead of 0 (a gap of %" PRIu64 " bytes; tensors must cover the data "
                   "section contiguously)",
                   tn, t->begin, t->begin);
    const char *pn = quoted(q2, sizeof q2, prev->name, prev->name_len);
    if (t->begin > expected)
      return hfail(c, at,
                   "gap of %" PRIu64 " bytes in the data section between tensor %s (data bytes "
                   "[%" PRIu64 ", %" PRIu64 ")) and tensor %s ([%" PRIu64 ", %" PRIu64
                   ")); tensors must be contiguous",
                   t->begin - expected, pn, prev->begin, prev->end, tn, t->begin, t->end);
    return hfail(c, at,
                 "tensor %s (data bytes [%" PRIu64 ", %" PRIu64 ")) overlaps tensor %s ([%" PRIu64
                 ", %" PRIu64 "))",
                 tn, t->begin, t->end, pn, prev->begin, prev->end);
  }
  if (expected < c->data_len) {
    uint64_t at = 8 + c->header_len + expected;
    if (!h->count)
      return st_fail(c->name, at,
                     "the header lists no tensors but the data section has %" PRIu64
                     " bytes (trailing bytes after the header)",
                     c->data_len);
    const lx_st_tensor *last = &h->tensors[h->count - 1];
    return st_fail(c->name, at,
                   "%" PRIu64 " trailing bytes after the last tensor %s: the data section has %" PRIu64
                   " bytes but the tensors end at data byte %" PRIu64,
                   c->data_len - expected, quoted(q1, sizeof q1, last->name, last->name_len),
                   c->data_len, expected);
  }
  if (expected > c->data_len) {
    const lx_st_tensor *last = &h->tensors[h->count - 1];
    return hfail(c, offsets_pos(root, last),
                 "tensor %s ends at data byte %" PRIu64 " but the data section has only %" PRIu64
                 " bytes (is the file truncated?)",
                 quoted(q1, sizeof q1, last->name, last->name_len), expected, c->data_len);
  }
  return LX_OK;
}

/* The JSON parser's "line L, column C (byte B): what" for a header, with the
** file offset (8 + B) at the end as every safetensors message has it. */
static lx_status json_failure(const checker *c, lx_status st) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", lx_last_error());
  unsigned long long line, column, byte;
  int skip = -1;
  if (sscanf(msg, "line %llu, column %llu (byte %llu): %n", &line, &column, &byte, &skip) == 3 &&
      skip > 0)
    return st_fail(c->name, 8 + (uint64_t)byte, "invalid JSON in the header at line %llu, column %llu: %s",
                   line, column, msg + skip);
  if (st == LX_ERR_MEMORY) return lx_set_error(st, "safetensors: %s", msg);
  return st_fail(c->name, 8, "invalid JSON in the header: %s", msg);
}

void lx_safetensors_free(lx_st_header *h) {
  if (!h) return;
  lx_json_free(h->doc);
  free(h->tensors);
  free(h->meta);
  free(h);
}

lx_status lx_safetensors_parse(const uint8_t *data, size_t avail, uint64_t file_len,
                               const char *name, lx_st_header **out, size_t *need) {
  if (!out) return lx_set_error(LX_ERR_ARGUMENT, "lx_safetensors_parse: out is NULL");
  *out = NULL;
  if (need) *need = 0;
  if (!data && avail) return lx_set_error(LX_ERR_ARGUMENT, "lx_safetensors_parse: data is NULL");
  if (avail > file_len)
    return lx_set_error(LX_ERR_ARGUMENT,
                        "lx_safetensors_parse: %zu bytes available but the file has %" PRIu64,
                        avail, file_len);
  if (file_len < 8)
    return st_fail(name, 0,
                   "the file has %" PRIu64 " bytes, fewer than the 8 of the header length "
                   "(not a safetensors file, or truncated)",
                   file_len);
  if (avail < 8) {
    if (need) *need = 8;
    return LX_OK;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | data[i];
  if (n > LX_SAFETENSORS_HEADER_MAX)
    return st_fail(name, 0,
                   "the header length %" PRIu64 " is over the limit of %u bytes (not a "
                   "safetensors file?)",
                   n, LX_SAFETENSORS_HEADER_MAX);
  if (n > file_len - 8)
    return st_fail(name, 0,
                   "the header length %" PRIu64 " runs past the end of the file: 8 + %" PRIu64
                   " bytes needed, the file has %" PRIu64,
                   n, n, file_len);
  if (avail - 8 < n) {
    if (!need)
      return lx_set_error(LX_ERR_ARGUMENT,
                          "lx_safetensors_parse: the header needs %" PRIu64 " bytes, %zu given",
                          8 + n, avail);
    *need = (size_t)(8 + n);
    return LX_OK;
  }
  checker c = {name, (const char *)data + 8, (size_t)n, file_len - 8 - n, n};
  size_t first = 0;
  while (first < c.json_len && (c.json[first] == ' ' || c.json[first] == '\t' ||
                                c.json[first] == '\r' || c.json[first] == '\n'))
    first++;
  if (first == c.json_len)
    return hfail(&c, first, "the header is %s (expected a JSON object)", n ? "blank" : "empty");
  if (c.json[first] != '{') {
    unsigned char b = (unsigned char)c.json[first];
    char what[40];
    if (b >= 0x20 && b < 0x7f) snprintf(what, sizeof what, "'%c'", b);
    else snprintf(what, sizeof what, "byte 0x%02X", b);
    return hfail(&c, first,
                 "the header must be a JSON object, but it starts with %s (not a safetensors "
                 "file?)",
                 what);
  }

  lx_st_header *h = calloc(1, sizeof *h);
  if (!h) return lx_set_error(LX_ERR_MEMORY, "safetensors: out of memory");
  h->header_len = n;
  h->data_offset = 8 + n;
  lx_status st = lx_json_parse(c.json, c.json_len, NULL, NULL, &h->doc);
  if (st != LX_OK) {
    st = json_failure(&c, st);
    goto fail;
  }
  const lx_json_value *root = lx_json_root(h->doc);
  if (root->type != LX_JSON_OBJECT) { /* cannot happen after the '{' check */
    st = hfail(&c, root->offset, "the header must be a JSON object, found %s", type_name(root));
    goto fail;
  }
  size_t count = 0;
  for (size_t i = 0; i < root->u.object.count; i++)
    if (!key_is(&root->u.object.members[i], "__metadata__")) count++;
  if (count) {
    h->tensors = calloc(count, sizeof *h->tensors);
    if (!h->tensors) {
      st = lx_set_error(LX_ERR_MEMORY, "safetensors: out of memory");
      goto fail;
    }
  }
  for (size_t i = 0; i < root->u.object.count; i++) {
    const lx_json_member *m = &root->u.object.members[i];
    if (key_is(m, "__metadata__")) st = check_metadata(&c, &m->value, h);
    else st = check_tensor(&c, m, &h->tensors[h->count++]);
    if (st != LX_OK) goto fail;
  }
  st = check_layout(&c, root, h);
  if (st != LX_OK) goto fail;
  *out = h;
  return LX_OK;
fail:
  lx_safetensors_free(h);
  return st;
}
