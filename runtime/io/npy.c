/*
** npy.c — NumPy's .npy records (format 1.0, 2.0 and 3.0), the unit of
** Equinox's .eqx files.
**
** A record is the magic string "\x93NUMPY", two version bytes, the header's
** length (2 bytes little-endian in 1.0, 4 in 2.0 and 3.0), the header — a
** Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': ...}
** padded with spaces and ended by '\n' — then the raw data.
**
** NumPy reads the header with ast.literal_eval. lunox reads the subset of
** Python literals any writer uses for these three keys, and refuses the
** rest with a message naming the offending byte: input is hostile, and
** nothing is allocated from its numbers before they are checked against
** the limits and against what the stream holds.
**
** The writer reproduces numpy.save's header byte for byte, so that an .eqx
** file lunox writes is the one Python Equinox writes for the same leaves.
*/
#include "io_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* lunox keeps arrays in the files' byte order; '=' (native) in a descr
** therefore means little-endian, and data is never swapped on write. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "lunox's file formats assume a little-endian host");
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* Data arriving from a stream of unknown length is staged in a buffer that
** starts at this size and doubles with what actually arrives, so a header
** that lies about the data's size costs at most about twice the bytes the
** stream really holds. */
#define STAGE_START ((size_t)1 << 20)
/* Bytes discarded per read when skipping. */
#define SKIP_CHUNK ((size_t)256 << 10)
/* NumPy's GROWTH_AXIS_MAX_DIGITS: numpy.save pads the header so that the
** first dimension could grow to this many digits in place. */
#define GROWTH_AXIS_DIGITS 21
#define NPY_ALIGN 64

static const char *rname(const lx_reader *r) { return r->name ? r->name : "<stream>"; }

/* ------------------------------------------------------------- dtypes */

typedef struct npy_type {
  const char *code; /* descr without its byte-order character */
  lx_dtype dtype;
  const char *descr; /* what numpy.save writes */
} npy_type;

static const npy_type npy_types[] = {
  {"f4", LX_FLOAT32, "<f4"}, {"f8", LX_FLOAT64, "<f8"}, {"f2", LX_FLOAT16, "<f2"},
  /* ml_dtypes' bfloat16 (JAX) has no NumPy type code: its descr is a
  ** 2-byte void. */
  {"V2", LX_BFLOAT16, "<V2"},
  {"i4", LX_INT32, "<i4"}, {"i8", LX_INT64, "<i8"}, {"u1", LX_UINT8, "|u1"},
  {"u4", LX_UINT32, "<u4"}, {"b1", LX_BOOL, "|b1"}, {"u2", LX_UINT16, "<u2"},
  {"u8", LX_UINT64, "<u8"},
};
#define NPY_TYPE_COUNT (sizeof npy_types / sizeof npy_types[0])

#define SUPPORTED_DESCRS                                                              \
  "lunox reads '<f4' (float32), '<f8' (float64), '<f2' (float16), '<V2' (bfloat16), " \
  "'<i4' (int32), '<i8' (int64), '|u1' (uint8), '<u2' (uint16), '<u4' (uint32), "     \
  "'<u8' (uint64), '|b1' (bool), and their '>' big-endian and '=' native forms"

const char *lx_npy_descr(lx_dtype dtype) {
  for (size_t i = 0; i < NPY_TYPE_COUNT; i++)
    if (npy_types[i].dtype == dtype) return npy_types[i].descr;
  return NULL;
}

typedef enum descr_kind { DESCR_OK, DESCR_SIZED, DESCR_OBJECT, DESCR_UNSUPPORTED } descr_kind;

static descr_kind classify_known(const char *s, size_t len, lx_dtype *dtype, bool *big);

/* The largest element of a type lunox lacks that it still skips over
** ('|S1048576'); beyond that a descr is refused outright. */
#define SIZED_ITEM_MAX ((size_t)1 << 20)

/* A plain NumPy type lunox lacks, with the byte order NumPy writes for it:
** kind letter and element count as in '<i2', '<c16', '|S8', '<U3', '|V5'.
** Sets *itemsize (U counts 4-byte characters). */
static bool sized_descr(char order, const char *s, size_t len, size_t *itemsize) {
  if (len < 2 || !strchr("biufcVSU", s[0]) || s[1] == '0') return false;
  size_t n = 0;
  for (size_t i = 1; i < len; i++) {
    if (s[i] < '0' || s[i] > '9' || n > SIZED_ITEM_MAX) return false;
    n = n * 10 + (size_t)(s[i] - '0');
  }
  size_t bytes = s[0] == 'U' ? n * 4 : n;
  if (bytes == 0 || bytes > SIZED_ITEM_MAX) return false;
  switch (s[0]) {
    case 'b': if (n != 1) return false; break;
    case 'i': case 'u': if (n != 1 && n != 2 && n != 4 && n != 8) return false; break;
    case 'f': if (n != 2 && n != 4 && n != 8 && n != 16) return false; break;
    case 'c': if (n != 8 && n != 16 && n != 32) return false; break;
    default: break; /* V, S, U: any length */
  }
  /* '|' only where byte order means nothing; bytes and voids never swap. */
  if (order == '|' && bytes > 1 && s[0] != 'V' && s[0] != 'S') return false;
  if (order == '>' && (s[0] == 'V' || s[0] == 'S')) return false;
  *itemsize = bytes;
  return true;
}

/* Classifies a descr string. Byte order is '<' little, '>' big, '=' native
** (little here), '|' not applicable: accepted where NumPy would write it
** for that type, i.e. any order for one-byte types, and no '>' for the void
** type that stands for bfloat16 (its bytes are never swapped by NumPy). */
static descr_kind classify_descr(const char *s, size_t len, lx_dtype *dtype, bool *big,
                                 size_t *itemsize) {
  *big = false;
  descr_kind kind = classify_known(s, len, dtype, big);
  if (kind == DESCR_OK) *itemsize = lx_dtype_size(*dtype);
  if (kind != DESCR_UNSUPPORTED || len < 1 || !strchr("<>|=", s[0])) return kind;
  if (!sized_descr(s[0], s + 1, len - 1, itemsize)) return DESCR_UNSUPPORTED;
  *dtype = LX_DTYPE_COUNT;
  *big = s[0] == '>';
  return DESCR_SIZED;
}

/* The descrs of lunox's own dtypes, and object arrays. */
static descr_kind classify_known(const char *s, size_t len, lx_dtype *dtype, bool *big) {
  if (len == 0) return DESCR_UNSUPPORTED;
  char order = 0;
  if (strchr("<>|=", s[0])) { order = s[0]; s++; len--; }
  if (len >= 1 && s[0] == 'O') {
    size_t i = 1;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    if (i == len) return DESCR_OBJECT;
  }
  if (!order || len != 2) return DESCR_UNSUPPORTED;
  for (size_t i = 0; i < NPY_TYPE_COUNT; i++) {
    if (memcmp(npy_types[i].code, s, 2) != 0) continue;
    lx_dtype d = npy_types[i].dtype;
    if (lx_dtype_size(d) == 1) {
      *dtype = d;
      return DESCR_OK;
    }
    if (d == LX_BFLOAT16) {
      if (order == '>') return DESCR_UNSUPPORTED;
    } else if (order == '|') {
      return DESCR_UNSUPPORTED;
    }
    *dtype = d;
    *big = order == '>';
    return DESCR_OK;
  }
  return DESCR_UNSUPPORTED;
}

/* ----------------------------------------------------- header parsing */

typedef struct hparser {
  const char *s;
  size_t len;    /* the dict and its padding, without the final '\n' */
  size_t pos;
  const lx_reader *r;
  uint64_t base; /* stream offset of s[0] */
  size_t shape_at; /* where the value of 'shape' starts */
} hparser;

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static lx_status herr(const hparser *p, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static lx_status herr(const hparser *p, size_t at, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return lx__io_error(LX_ERR_IO, rname(p->r), p->base + at, "npy header: %s", msg);
}

/* Describes the byte at `at` for a message: 'x', byte 0x93, or the end. */
static const char *found_at(const hparser *p, size_t at, char *buf, size_t size) {
  if (at >= p->len) snprintf(buf, size, "the end of the header");
  else {
    unsigned char c = (unsigned char)p->s[at];
    if (c >= 0x20 && c < 0x7f) snprintf(buf, size, "'%c'", c);
    else snprintf(buf, size, "byte 0x%02x", c);
  }
  return buf;
}

/* Up to `n` bytes of the header from `at` for a message (non-printable
** ones as \xNN), with "..." when they do not all fit. */
static const char *excerpt(const hparser *p, size_t at, size_t n, char *buf, size_t size) {
  size_t k = 0, i = at, end = at + n < p->len ? at + n : p->len;
  for (; i < end && k + 8 < size; i++) {
    unsigned char c = (unsigned char)p->s[i];
    if (c >= 0x20 && c < 0x7f) buf[k++] = (char)c;
    else k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
  }
  if (i < end) { memcpy(buf + k, "...", 3); k += 3; }
  buf[k] = 0;
  return buf;
}

/* The text of a value for a message: up to the next ',' or '}'. */
static const char *value_text(const hparser *p, size_t at, char *buf, size_t size) {
  size_t end = at;
  while (end < p->len && end - at < 40 && p->s[end] != ',' && p->s[end] != '}') end++;
  while (end > at && (p->s[end - 1] == ' ' || p->s[end - 1] == '\t')) end--;
  return excerpt(p, at, end > at ? end - at : 1, buf, size);
}

static void skip_ws(hparser *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')) p->pos++;
}

static bool is_word_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_' || c == '.' || c == '+' || c == '-';
}

/* A quoted string without escapes: *str and *n receive its contents. */
static lx_status parse_string(hparser *p, const char *what, const char **str, size_t *n) {
  size_t start = p->pos;
  char q = p->s[start];
  for (size_t i = start + 1; i < p->len; i++) {
    char c = p->s[i];
    if (c == q) {
      *str = p->s + start + 1;
      *n = i - start - 1;
      p->pos = i + 1;
      return LX_OK;
    }
    if (c == '\\')
      return herr(p, i, "escape sequences are not supported in %s", what);
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
      char fb[32];
      return herr(p, i, "unexpected %s in %s", found_at(p, i, fb, sizeof fb), what);
    }
  }
  return herr(p, start, "unterminated string in %s", what);
}

static lx_status parse_descr(hparser *p, lx_npy_header *h) {
  char fb[32];
  size_t at = p->pos;
  if (at < p->len && p->s[at] == '[')
    return herr(p, at, "structured dtypes (a list as 'descr') are not supported: lunox reads "
                "arrays of one plain dtype");
  if (at >= p->len || (p->s[at] != '\'' && p->s[at] != '"'))
    return herr(p, at, "'descr' must be a string, found %s", found_at(p, at, fb, sizeof fb));
  const char *s;
  size_t n;
  lx_status st = parse_string(p, "'descr'", &s, &n);
  if (st != LX_OK) return st;
  size_t keep = n < sizeof h->descr - 1 ? n : sizeof h->descr - 1;
  memcpy(h->descr, s, keep);
  h->descr[keep] = 0;
  h->descr_offset = p->base + at;
  switch (classify_descr(s, n, &h->dtype, &h->big_endian, &h->itemsize)) {
    case DESCR_OK:
      h->supported = true;
      return LX_OK;
    case DESCR_SIZED: return LX_OK;
    case DESCR_OBJECT:
      return herr(p, at, "object arrays are refused: loading them would need pickle "
                  "(dtype '%s')", h->descr);
    default:
      return herr(p, at, "unsupported dtype '%s%s': " SUPPORTED_DESCRS, h->descr,
                  keep < n ? "..." : "");
  }
}

static lx_status parse_fortran(hparser *p, lx_npy_header *h) {
  size_t at = p->pos, end = at;
  while (end < p->len && is_word_char(p->s[end])) end++;
  if (end - at == 4 && memcmp(p->s + at, "True", 4) == 0) h->fortran_order = true;
  else if (end - at == 5 && memcmp(p->s + at, "False", 5) == 0) h->fortran_order = false;
  else {
    char eb[64];
    return herr(p, at, "'fortran_order' must be True or False, found '%s'",
                value_text(p, at, eb, sizeof eb));
  }
  p->pos = end;
  return LX_OK;
}

/* One dimension: an optionally signed decimal integer. */
static lx_status parse_dim(hparser *p, lx_npy_header *h) {
  char eb[64], fb[32];
  size_t at = p->pos, end = at;
  while (end < p->len && is_word_char(p->s[end])) end++;
  if (end == at)
    return herr(p, at, "expected a dimension in 'shape', found %s",
                found_at(p, at, fb, sizeof fb));
  const char *t = p->s + at;
  size_t n = end - at, i = 0;
  bool negative = false;
  if (t[0] == '-' || t[0] == '+') { negative = t[0] == '-'; i = 1; }
  if (i == n) goto not_integer;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < n; i++) {
    if (t[i] < '0' || t[i] > '9') goto not_integer;
    unsigned d = (unsigned)(t[i] - '0');
    if (v > ((uint64_t)INT64_MAX - d) / 10) overflow = true;
    else v = v * 10 + d;
  }
  if (negative && (v != 0 || overflow))
    return herr(p, at, "negative dimension %s in 'shape'", excerpt(p, at, n, eb, sizeof eb));
  if (overflow)
    return herr(p, at, "dimension %s in 'shape' does not fit in 64 bits",
                excerpt(p, at, n, eb, sizeof eb));
  if (h->ndim >= LX_MAX_DIMS)
    return herr(p, at, "'shape' has more than %d dimensions (lunox supports at most %d)",
                LX_MAX_DIMS, LX_MAX_DIMS);
  h->shape[h->ndim++] = (int64_t)v;
  p->pos = end;
  return LX_OK;
not_integer:
  return herr(p, at, "dimension '%s' in 'shape' is not an integer",
              excerpt(p, at, n, eb, sizeof eb));
}

/* A tuple of integers: (), (3,), (3, 4), (3, 4,). */
static lx_status parse_shape(hparser *p, lx_npy_header *h) {
  char fb[32], eb[64];
  size_t at = p->shape_at = p->pos;
  if (at >= p->len || p->s[at] != '(')
    return herr(p, at, "'shape' must be a tuple, found '%s'", value_text(p, at, eb, sizeof eb));
  p->pos++;
  h->ndim = 0;
  bool trailing_comma = false;
  for (;;) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ')') break;
    lx_status st = parse_dim(p, h);
    if (st != LX_OK) return st;
    skip_ws(p);
    trailing_comma = false;
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      trailing_comma = true;
      continue;
    }
    if (p->pos < p->len && p->s[p->pos] == ')') break;
    return herr(p, p->pos, "expected ',' or ')' in 'shape', found %s",
                found_at(p, p->pos, fb, sizeof fb));
  }
  /* In Python "(3)" is the integer 3, not a tuple: NumPy refuses it. */
  if (h->ndim == 1 && !trailing_comma)
    return herr(p, at, "'shape' must be a tuple, found '%s' (an integer in Python; a "
                "1-d shape is written (n,))", excerpt(p, at, p->pos + 1 - at, eb, sizeof eb));
  p->pos++;
  return LX_OK;
}

static lx_status parse_dict(hparser *p, lx_npy_header *h) {
  static const struct { const char *name; int bit; } keys[] = {
    {"descr", KEY_DESCR}, {"fortran_order", KEY_FORTRAN}, {"shape", KEY_SHAPE}};
  char fb[32], eb[64];
  skip_ws(p);
  if (p->pos >= p->len || p->s[p->pos] != '{')
    return herr(p, p->pos, "expected the header's dict ('{'), found %s",
                found_at(p, p->pos, fb, sizeof fb));
  p->pos++;
  int seen = 0;
  for (;;) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') break;
    size_t key_at = p->pos;
    if (key_at >= p->len || (p->s[key_at] != '\'' && p->s[key_at] != '"'))
      return herr(p, key_at, "expected a quoted key or '}', found %s",
                  found_at(p, key_at, fb, sizeof fb));
    const char *k;
    size_t kn;
    lx_status st = parse_string(p, "a key", &k, &kn);
    if (st != LX_OK) return st;
    int bit = 0;
    const char *name = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (strlen(keys[i].name) == kn && memcmp(keys[i].name, k, kn) == 0) {
        bit = keys[i].bit;
        name = keys[i].name;
      }
    if (!bit)
      return herr(p, key_at, "unknown key %s (the keys are 'descr', 'fortran_order' and "
                  "'shape')", excerpt(p, key_at, kn + 2, eb, sizeof eb));
    if (seen & bit) return herr(p, key_at, "duplicate key '%s'", name);
    seen |= bit;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
      return herr(p, p->pos, "expected ':' after '%s', found %s", name,
                  found_at(p, p->pos, fb, sizeof fb));
    p->pos++;
    skip_ws(p);
    st = bit == KEY_DESCR ? parse_descr(p, h) : bit == KEY_FORTRAN ? parse_fortran(p, h)
                                                                  : parse_shape(p, h);
    if (st != LX_OK) return st;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
    if (p->pos < p->len && p->s[p->pos] == '}') break;
    return herr(p, p->pos, "expected ',' or '}' after the value of '%s', found %s", name,
                found_at(p, p->pos, fb, sizeof fb));
  }
  size_t close = p->pos++;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (!(seen & keys[i].bit)) return herr(p, close, "missing key '%s'", keys[i].name);
  /* Only the padding may follow: spaces up to the final newline. */
  for (size_t i = p->pos; i < p->len; i++)
    if (p->s[i] != ' ')
      return herr(p, i, "unexpected %s after the header's dict (only spaces may pad it)",
                  found_at(p, i, fb, sizeof fb));
  return LX_OK;
}

/* ------------------------------------------------------------- reading */

static lx_status short_stream(const lx_reader *r, uint64_t at, uint64_t want, const char *what,
                              uint64_t have) {
  return lx__io_error(LX_ERR_IO, rname(r), at, "truncated file: expected %" PRIu64 " bytes of "
                      "%s but only %" PRIu64 " remain", want, what, have);
}

static uint32_t le16(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8; }
static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

lx_status lx_npy_read_header(lx_reader *r, lx_npy_header *h, bool *eof) {
  memset(h, 0, sizeof *h);
  *eof = false;
  uint64_t start = r->offset;
  h->offset = start;
  if (r->remaining == 0) {
    *eof = true;
    return LX_OK;
  }
  uint8_t pre[12];
  size_t got;
  lx_status st = lx_read_some(r, pre, sizeof npy_magic, &got);
  if (st != LX_OK) return st;
  if (got == 0) {
    *eof = true;
    return LX_OK;
  }
  /* A stray tail is "not an npy record"; a cut magic string is truncation. */
  if (memcmp(pre, npy_magic, got) != 0) {
    char shown[64];
    size_t k = 0;
    for (size_t i = 0; i < got; i++) {
      if (pre[i] >= 0x20 && pre[i] < 0x7f && pre[i] != '\\' && pre[i] != '"')
        shown[k++] = (char)pre[i];
      else
        k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02x", pre[i]);
    }
    shown[k] = 0;
    return lx__io_error(LX_ERR_IO, rname(r), start, "not an npy record: expected the magic "
                        "string \"\\x93NUMPY\" but found \"%s\"", shown);
  }
  if (got < sizeof npy_magic)
    return short_stream(r, start, sizeof npy_magic, "npy magic string", got);
  if ((st = lx_read_exact(r, pre + 6, 2, "npy format version")) != LX_OK) return st;
  unsigned major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    return lx__io_error(LX_ERR_IO, rname(r), start + 6, "unsupported npy format version %u.%u "
                        "(lunox reads 1.0, 2.0 and 3.0)", major, minor);
  h->version = (int)major;
  size_t len_bytes = major == 1 ? 2 : 4;
  if ((st = lx_read_exact(r, pre + 8, len_bytes, "npy header length")) != LX_OK) return st;
  uint32_t hlen = major == 1 ? le16(pre + 8) : le32(pre + 8);
  uint64_t text_at = start + 8 + len_bytes;
  if (hlen == 0)
    return lx__io_error(LX_ERR_IO, rname(r), start + 8, "npy header: the header is empty");
  if (hlen > LX_NPY_HEADER_MAX)
    return lx__io_error(LX_ERR_IO, rname(r), start + 8, "npy header: its length %" PRIu32
                        " exceeds lunox's limit of %d bytes", hlen, LX_NPY_HEADER_MAX);
  if (r->remaining >= 0 && (uint64_t)r->remaining < hlen)
    return short_stream(r, text_at, hlen, "npy header", (uint64_t)r->remaining);
  char *text = malloc(hlen);
  if (!text)
    return lx_set_error(LX_ERR_MEMORY, "out of host memory for a %" PRIu32 "-byte npy header",
                        hlen);
  st = lx_read_exact(r, text, hlen, "npy header");
  hparser p = {.s = text, .len = hlen - 1, .pos = 0, .r = r, .base = text_at};
  if (st == LX_OK) {
    if (text[hlen - 1] != '\n') {
      char fb[32];
      p.len = hlen;
      st = herr(&p, hlen - 1, "the header does not end with a newline (its last byte is %s; is "
                "its length right?)", found_at(&p, hlen - 1, fb, sizeof fb));
    } else {
      st = parse_dict(&p, h);
    }
  }
  free(text);
  if (st != LX_OK) return st;
  /* As NumPy, refuse shapes whose byte size overflows even when a zero
  ** dimension makes them empty (np.empty((2**62, 4, 0)) is "too big"):
  ** no file NumPy writes has one, and strides over them would overflow. */
  char sbuf[LX_MAX_DIMS * 21 + 3];
  uint64_t bytes = h->itemsize;
  bool empty = false;
  for (int i = 0; i < h->ndim; i++) {
    uint64_t d = (uint64_t)h->shape[i];
    if (d == 0) {
      empty = true;
      continue;
    }
    if (bytes > (uint64_t)INT64_MAX / d) {
      size_t k = 0;
      for (int j = 0; j < h->ndim && k < sizeof sbuf; j++)
        k += (size_t)snprintf(sbuf + k, sizeof sbuf - k, j ? ", %" PRId64 : "%" PRId64,
                              h->shape[j]);
      return herr(&p, p.shape_at, "shape (%s%s) of %s is too large: its byte size overflows "
                  "64 bits", sbuf, h->ndim == 1 ? "," : "",
                  h->supported ? lx_dtype_name(h->dtype) : h->descr);
    }
    bytes *= d;
  }
  if (!h->supported) {
    h->nbytes = empty ? 0 : (size_t)bytes;
  } else if (lx_shape_check("npy header", h->dtype, h->ndim, h->shape, NULL, &h->nbytes) !=
             LX_OK) {
    return lx__io_error(LX_ERR_IO, rname(r), p.base + p.shape_at, "%s", lx_last_error());
  }
  h->data_offset = r->offset;
  return LX_OK;
}

static lx_status check_position(const lx_reader *r, const lx_npy_header *h, const char *fn) {
  if (r->offset != h->data_offset)
    return lx_set_error(LX_ERR_ARGUMENT, "%s: the reader is at byte %" PRIu64 ", not at the "
                        "record's data (byte %" PRIu64 ") (%s)", fn, r->offset,
                        h->data_offset, rname(r));
  if (r->remaining >= 0 && h->nbytes > (uint64_t)r->remaining)
    return short_stream(r, h->data_offset, h->nbytes, "npy data", (uint64_t)r->remaining);
  return LX_OK;
}

/* Reads the data bytes [from, to) of the record into dst (NULL: drops
** them); a short stream is reported against the whole data section. */
static lx_status read_span(lx_reader *r, const lx_npy_header *h, uint8_t *dst, size_t from,
                           size_t to) {
  uint8_t *scratch = NULL;
  if (!dst) {
    size_t cap = to - from < SKIP_CHUNK ? to - from : SKIP_CHUNK;
    if (cap == 0) return LX_OK;
    if (!(scratch = malloc(cap)))
      return lx_set_error(LX_ERR_MEMORY, "out of host memory skipping npy data");
  }
  lx_status st = LX_OK;
  size_t pos = from;
  while (pos < to) {
    size_t want = to - pos, got;
    if (scratch && want > SKIP_CHUNK) want = SKIP_CHUNK;
    st = lx_read_some(r, scratch ? scratch : dst + (pos - from), want, &got);
    if (st != LX_OK) break;
    pos += got;
    if (got < want) {
      st = short_stream(r, h->data_offset, h->nbytes, "npy data", pos);
      break;
    }
  }
  free(scratch);
  return st;
}

/* Stages data of unknown availability until at least half of it has
** arrived, so that the array is never larger than twice what the stream
** really holds. */
static lx_status stage(lx_reader *r, const lx_npy_header *h, uint8_t **buf, size_t *len) {
  size_t cap = STAGE_START, have = 0;
  uint8_t *b = malloc(cap);
  if (!b) return lx_set_error(LX_ERR_MEMORY, "out of host memory staging npy data");
  for (;;) {
    lx_status st = read_span(r, h, b + have, have, cap);
    if (st != LX_OK) { free(b); return st; }
    have = cap;
    if (have >= h->nbytes - have) break;
    /* have < nbytes / 2, so doubling stays below nbytes. */
    size_t next = cap * 2;
    uint8_t *nb = realloc(b, next);
    if (!nb) {
      free(b);
      return lx_set_error(LX_ERR_MEMORY, "out of host memory staging npy data (%zu bytes)",
                          next);
    }
    b = nb;
    cap = next;
  }
  *buf = b;
  *len = have;
  return LX_OK;
}

static void byteswap(uint8_t *p, size_t nbytes, size_t item) {
  for (size_t i = 0; i + item <= nbytes; i += item)
    for (size_t a = 0, b = item - 1; a < b; a++, b--) {
      uint8_t t = p[i + a];
      p[i + a] = p[i + b];
      p[i + b] = t;
    }
}

lx_status lx_npy_read_data(lx_reader *r, const lx_npy_header *h, lx_array **out) {
  if (!h->supported)
    return lx__io_error(LX_ERR_IO, rname(r), h->descr_offset, "npy header: unsupported dtype "
                        "'%s': " SUPPORTED_DESCRS, h->descr);
  lx_status st = check_position(r, h, "npy read");
  if (st != LX_OK) return st;
  /* Column-major data of shape (a, b, c) is row-major data of (c, b, a). */
  int64_t shape[LX_MAX_DIMS];
  for (int i = 0; i < h->ndim; i++)
    shape[i] = h->fortran_order ? h->shape[h->ndim - 1 - i] : h->shape[i];
  uint8_t *staged = NULL;
  size_t nstaged = 0;
  if (r->remaining < 0 && h->nbytes > STAGE_START) {
    st = stage(r, h, &staged, &nstaged);
    if (st != LX_OK) return st;
  }
  lx_array *a;
  st = lx_array_empty(lx_device_cpu(), h->dtype, h->ndim, shape, &a);
  if (st != LX_OK) { free(staged); return st; }
  /* Inside filter_eval_shape arrays are abstract: the data is consumed but
  ** not kept. */
  uint8_t *dst = NULL;
  if (!lx_array_is_abstract(a) && h->nbytes > 0) {
    dst = lx_array_host_address(a);
    if (!dst) { free(staged); lx_array_release(a); return LX_ERR_DEVICE; }
  }
  if (dst && nstaged) memcpy(dst, staged, nstaged);
  free(staged);
  st = read_span(r, h, dst ? dst + nstaged : NULL, nstaged, h->nbytes);
  if (st != LX_OK) { lx_array_release(a); return st; }
  if (dst) {
    size_t item = lx_dtype_size(h->dtype);
    if (h->big_endian && item > 1) byteswap(dst, h->nbytes, item);
    if (h->dtype == LX_BOOL)
      for (size_t i = 0; i < h->nbytes; i++) dst[i] = dst[i] != 0;
  }
  if (h->fortran_order && h->ndim > 1) {
    lx_array *t, *c;
    st = lx_transpose(a, NULL, &t);
    lx_array_release(a);
    if (st != LX_OK) return st;
    st = lx_copy(t, &c);
    lx_array_release(t);
    if (st != LX_OK) return st;
    a = c;
  }
  *out = a;
  return LX_OK;
}

lx_status lx_npy_skip_data(lx_reader *r, const lx_npy_header *h) {
  lx_status st = check_position(r, h, "npy skip");
  if (st != LX_OK) return st;
  return read_span(r, h, NULL, 0, h->nbytes);
}

/* ------------------------------------------------------------- writing */

static size_t append(char *buf, size_t size, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static size_t append(char *buf, size_t size, size_t n, const char *fmt, ...) {
  if (n >= size) return n;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + n, size - n, fmt, ap);
  va_end(ap);
  return k > 0 ? n + (size_t)k : n;
}

lx_status lx_npy_format_header(lx_dtype dtype, int ndim, const int64_t *shape, char *buf,
                               size_t cap, size_t *len) {
  const char *descr = lx_npy_descr(dtype);
  if (!descr) return lx_set_error(LX_ERR_ARGUMENT, "npy header: invalid dtype %d", (int)dtype);
  if (ndim < 0 || ndim > LX_MAX_DIMS)
    return lx_set_error(LX_ERR_ARGUMENT, "npy header: %d dimensions (at most %d are supported)",
                        ndim, LX_MAX_DIMS);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0)
      return lx_set_error(LX_ERR_SHAPE, "npy header: negative dimension %" PRId64
                          " at position %d", shape[i], i + 1);
  /* Python's repr of the sorted dict: "{'descr': '<f4', 'fortran_order':
  ** False, 'shape': (3, 4), }", where a 1-tuple keeps its comma. */
  char dict[96 + LX_MAX_DIMS * 22 + GROWTH_AXIS_DIGITS];
  size_t n = append(dict, sizeof dict, 0, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                    descr);
  for (int i = 0; i < ndim; i++)
    n = append(dict, sizeof dict, n, i ? ", %" PRId64 : "%" PRId64, shape[i]);
  n = append(dict, sizeof dict, n, "%s), }", ndim == 1 ? "," : "");
  /* numpy.save leaves room for the first dimension to grow in place to
  ** GROWTH_AXIS_DIGITS digits. */
  if (ndim > 0) {
    char digits[24];
    int d = snprintf(digits, sizeof digits, "%" PRId64, shape[0]);
    for (int i = d; i < GROWTH_AXIS_DIGITS; i++) n = append(dict, sizeof dict, n, " ");
  }
  if (n >= sizeof dict)
    return lx_set_error(LX_ERR_INTERNAL, "npy header: the dict overflowed its buffer");
  /* Version 1.0 unless the length does not fit its 2-byte field. Padding
  ** makes magic + version + length + header a multiple of 64 bytes (a whole
  ** 64 when it already is one: numpy.save's arithmetic). */
  int version = 1;
  size_t prefix = 10;
  size_t field = n + 1 + (NPY_ALIGN - (prefix + n + 1) % NPY_ALIGN);
  if (field > 0xffff) {
    version = 2;
    prefix = 12;
    field = n + 1 + (NPY_ALIGN - (prefix + n + 1) % NPY_ALIGN);
  }
  size_t total = prefix + field;
  if (cap < total)
    return lx_set_error(LX_ERR_ARGUMENT, "npy header: a buffer of %zu bytes is too small (the "
                        "header takes %zu)", cap, total);
  uint8_t *o = (uint8_t *)buf;
  memcpy(o, npy_magic, sizeof npy_magic);
  o[6] = (uint8_t)version;
  o[7] = 0;
  for (size_t i = 0; i < prefix - 8; i++) o[8 + i] = (uint8_t)(field >> (8 * i));
  memcpy(o + prefix, dict, n);
  memset(o + prefix + n, ' ', field - n - 1);
  o[total - 1] = '\n';
  *len = total;
  return LX_OK;
}

lx_status lx_npy_write(lx_writer *w, lx_array *a) {
  /* Refused before the header goes out, so no half record is written. */
  if (lx_array_is_abstract(a)) return lx_write_array_data(w, a);
  char header[1024];
  size_t len;
  lx_status st = lx_npy_format_header(lx_array_dtype(a), lx_array_ndim(a), lx_array_shape(a),
                                      header, sizeof header, &len);
  if (st != LX_OK) return st;
  if ((st = lx_write_all(w, header, len)) != LX_OK) return st;
  return lx_write_array_data(w, a);
}
