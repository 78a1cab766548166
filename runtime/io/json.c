/*
** json.c — a strict RFC 8259 JSON reader for hostile input.
**
** The parser is iterative: open arrays and objects live on explicit stacks,
** so no input can exhaust the C stack whatever max_depth a caller picks.
** Items of an open container collect on a scratch stack and move into the
** document's arena, in one exact-size block, when the container closes; the
** arena therefore holds each value once, and everything it holds is bounded
** by a constant times the text's length (a value costs at least one byte of
** text, a string's unescaped bytes never outnumber its escaped ones).
**
** Duplicate keys are found when an object closes, by sorting pointers to its
** members (n log n, where a scan per member would be quadratic).
**
** Numbers are converted with strtod, but from a rewritten text with no
** radix character ("1.25e3" -> "125e1"), which every C locale reads alike:
** no locale object, no global state, and glibc's strtod rounds correctly.
*/
#include "lunox_io.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_DEPTH 512

/* --------------------------------------------------------------- arena */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  /* data follows, aligned for any JSON struct (malloc's alignment and a
  ** header of pointer-sized fields) */
} chunk;

#define CHUNK_MIN 4096u
#define CHUNK_MAX (1u << 20)

struct lx_json_doc {
  lx_json_value root;
  chunk *chunks;    /* every block, freed together */
  chunk *current;   /* where small requests are carved from */
  size_t next_cap;  /* grows so that big documents need few chunks */
};

static unsigned char *chunk_data(chunk *c) { return (unsigned char *)(c + 1); }

/* `size` bytes aligned to `align` (a power of two), or NULL when out of
** memory. Requests bigger than a quarter of a chunk get a block of their own,
** so at most a quarter of any chunk is left unused. */
static void *arena_alloc(lx_json_doc *doc, size_t size, size_t align) {
  chunk *c = doc->current;
  if (c) {
    uintptr_t base = (uintptr_t)chunk_data(c);
    size_t at = (size_t)(((base + c->used + (align - 1)) & ~(uintptr_t)(align - 1)) - base);
    if (at <= c->cap && size <= c->cap - at) {
      c->used = at + size;
      return chunk_data(c) + at;
    }
  }
  size_t cap = doc->next_cap;
  bool own = size + align > cap / 4;
  if (own) cap = size + align;
  if (cap < size || cap > SIZE_MAX - sizeof(chunk)) return NULL;
  chunk *n = malloc(sizeof(chunk) + cap);
  if (!n) return NULL;
  n->cap = cap;
  n->next = doc->chunks;
  doc->chunks = n;
  uintptr_t base = (uintptr_t)chunk_data(n);
  size_t at = (size_t)(((base + (align - 1)) & ~(uintptr_t)(align - 1)) - base);
  n->used = at + size;
  if (!own) {
    doc->current = n;
    if (doc->next_cap < CHUNK_MAX) doc->next_cap *= 2;
  }
  return chunk_data(n) + at;
}

/* -------------------------------------------------------------- parser */

typedef struct member_slot {
  lx_json_member m;
  size_t key_offset; /* for messages about duplicates */
} member_slot;

typedef struct frame {
  bool is_object;
  size_t base;   /* first slot of this container on its scratch stack */
  size_t offset; /* of the '[' or '{' */
} frame;

typedef struct parser {
  const unsigned char *text;
  size_t len, pos;
  const char *name;
  int max_depth;
  lx_json_doc *doc;
  lx_json_value *items; /* items of open arrays */
  size_t items_len, items_cap;
  member_slot *members; /* members of open objects */
  size_t members_len, members_cap;
  frame *frames;
  size_t depth, frames_cap;
  member_slot **sorted; /* scratch for duplicate detection */
  size_t sorted_cap;
  char *numbuf; /* scratch for number conversion */
  size_t numbuf_cap;
} parser;

/* Grows *buf (of *cap elements of `size` bytes) to hold at least `need`. */
static bool grow(void **buf, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap : 16;
  while (n < need) {
    if (n > SIZE_MAX / 2) return false;
    n *= 2;
  }
  if (n > SIZE_MAX / size) return false;
  void *p = realloc(*buf, n * size);
  if (!p) return false;
  *buf = p;
  *cap = n;
  return true;
}

static void line_column(const parser *p, size_t offset, size_t *line, size_t *column) {
  size_t l = 1, start = 0;
  if (offset > p->len) offset = p->len;
  const unsigned char *s = p->text, *nl;
  while (start < offset && (nl = memchr(s + start, '\n', offset - start)) != NULL) {
    l++;
    start = (size_t)(nl - s) + 1;
  }
  *line = l;
  *column = offset - start + 1;
}

static lx_status fail_status(parser *p, lx_status st, size_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static lx_status fail_status(parser *p, lx_status st, size_t offset, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  size_t line, column;
  line_column(p, offset, &line, &column);
  return lx_set_error(st, "%s%sline %zu, column %zu (byte %zu): %s", p->name ? p->name : "",
                      p->name ? ": " : "", line, column, offset, what);
}

#define fail(p, offset, ...) fail_status((p), LX_ERR_ARGUMENT, (offset), __VA_ARGS__)

static lx_status out_of_memory(parser *p) {
  return fail_status(p, LX_ERR_MEMORY, p->pos, "out of memory");
}

/* What is at `at`, for "expected X, found Y" messages. */
static const char *describe(const parser *p, size_t at, char *buf, size_t cap) {
  if (at >= p->len) return "end of text";
  unsigned char c = p->text[at];
  if (c >= 0x20 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
  else if (c < 0x20 || c == 0x7f) snprintf(buf, cap, "control character 0x%02X", c);
  else snprintf(buf, cap, "byte 0x%02X (non-ASCII characters may only appear in strings)", c);
  return buf;
}

/* A decoded string for messages: quotes, escapes for what would garble the
** message, and a cut at `max` bytes (on a character boundary). */
static void quote(char *buf, size_t cap, const char *s, size_t n, size_t max) {
  size_t o = 0;
  if (cap < 16) { if (cap) buf[0] = 0; return; }
  buf[o++] = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (i >= max && (c & 0xC0) != 0x80) {
      if (o + 4 < cap) { memcpy(buf + o, "...", 3); o += 3; }
      break;
    }
    if (o + 8 >= cap) break;
    if (c == '"' || c == '\\') { buf[o++] = '\\'; buf[o++] = (char)c; }
    else if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(buf + o, cap - o, "\\u%04X", c);
    else buf[o++] = (char)c;
  }
  buf[o++] = '"';
  buf[o] = 0;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static void skip_ws(parser *p) {
  while (p->pos < p->len && is_ws(p->text[p->pos])) p->pos++;
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The 4 hex digits at `at`, or -1. */
static long hex4(const parser *p, size_t at) {
  if (at > p->len || p->len - at < 4) return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(p->text[at + (size_t)i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

static size_t put_utf8(char *dst, unsigned long cp) {
  if (cp < 0x80) { dst[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    dst[0] = (char)(0xC0 | (cp >> 6));
    dst[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    dst[0] = (char)(0xE0 | (cp >> 12));
    dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  dst[0] = (char)(0xF0 | (cp >> 18));
  dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  dst[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Checks the UTF-8 sequence at p->pos (a byte >= 0x80) by RFC 3629's table,
** and sets *n to its length. */
static lx_status check_utf8(parser *p, size_t *n) {
  const unsigned char *s = p->text + p->pos;
  size_t left = p->len - p->pos;
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
  if (c < 0xC0) return fail(p, p->pos, "invalid UTF-8: unexpected continuation byte 0x%02X", c);
  if (c < 0xC2)
    return fail(p, p->pos, "invalid UTF-8: overlong encoding (lead byte 0x%02X)", c);
  if (c < 0xE0) len = 2;
  else if (c < 0xF0) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;      /* below: overlong */
    else if (c == 0xED) hi = 0x9F; /* above: UTF-16 surrogates */
  } else if (c < 0xF5) {
    len = 4;
    if (c == 0xF0) lo = 0x90;      /* below: overlong */
    else if (c == 0xF4) hi = 0x8F; /* above: beyond U+10FFFF */
  } else if (c < 0xF8) {
    return fail(p, p->pos, "invalid UTF-8: code point above U+10FFFF (lead byte 0x%02X)", c);
  } else {
    return fail(p, p->pos, "invalid UTF-8: byte 0x%02X never appears in UTF-8", c);
  }
  for (size_t i = 1; i < len; i++) {
    if (i >= left)
      return fail(p, p->pos, "invalid UTF-8: truncated %zu-byte sequence at the end of the text",
                  len);
    unsigned char b = s[i];
    if (i == 1 && (b < lo || b > hi) && b >= 0x80 && b <= 0xBF) {
      if (c == 0xED)
        return fail(p, p->pos, "invalid UTF-8: encoded UTF-16 surrogate (bytes 0x%02X 0x%02X)",
                    c, b);
      if (c == 0xF4)
        return fail(p, p->pos, "invalid UTF-8: code point above U+10FFFF (bytes 0x%02X 0x%02X)",
                    c, b);
      return fail(p, p->pos, "invalid UTF-8: overlong encoding (bytes 0x%02X 0x%02X)", c, b);
    }
    if (b < 0x80 || b > 0xBF)
      return fail(p, p->pos,
                  "invalid UTF-8: truncated %zu-byte sequence (byte 0x%02X where a "
                  "continuation byte should be)",
                  len, b);
  }
  *n = len;
  return LX_OK;
}

static lx_status unterminated(parser *p, size_t start) {
  size_t line, column;
  line_column(p, start, &line, &column);
  return fail(p, p->len, "end of text inside a string (the string starts at line %zu, column %zu)",
              line, column);
}

static lx_status overrun(parser *p) {
  return fail_status(p, LX_ERR_INTERNAL, p->pos, "string longer than its bound (a bug)");
}

/* Reads the string at p->pos (its opening quote) into the arena. */
static lx_status parse_string(parser *p, const char **out, size_t *out_len) {
  size_t start = p->pos;
  const unsigned char *t = p->text;
  /* An upper bound of the unescaped length: the bytes up to the closing
  ** quote (an escape never unescapes to more bytes than it is written in). */
  size_t i = start + 1;
  while (i < p->len && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
  if (i > p->len) i = p->len;
  size_t bound = i - (start + 1);
  char *dst = arena_alloc(p->doc, bound + 1, 1);
  if (!dst) return out_of_memory(p);
  size_t n = 0;
  p->pos = start + 1;
  while (p->pos < p->len) {
    unsigned char c = t[p->pos];
    if (c == '"') {
      p->pos++;
      dst[n] = 0;
      *out = dst;
      *out_len = n;
      return LX_OK;
    }
    if (c == '\\') {
      if (p->pos + 1 >= p->len) return unterminated(p, start);
      unsigned char e = t[p->pos + 1];
      char simple = 0;
      switch (e) {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': break;
        default: {
          char what[80];
          return fail(p, p->pos, "invalid escape '\\' followed by %s in a string",
                      describe(p, p->pos + 1, what, sizeof what));
        }
      }
      if (simple) {
        if (n >= bound) return overrun(p); /* cannot happen: see the bound above */
        dst[n++] = simple;
        p->pos += 2;
        continue;
      }
      long cp = hex4(p, p->pos + 2);
      if (cp < 0) return fail(p, p->pos, "invalid \\u escape: expected 4 hex digits after \\u");
      size_t used = 6;
      if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, p->pos, "lone low surrogate \\u%04lX (not preceded by a high surrogate)",
                    cp);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        size_t at = p->pos + 6;
        if (at + 1 >= p->len || t[at] != '\\' || t[at + 1] != 'u')
          return fail(p, p->pos,
                      "lone high surrogate \\u%04lX (not followed by a \\u escape of a low "
                      "surrogate)",
                      cp);
        long low = hex4(p, at + 2);
        if (low < 0) return fail(p, at, "invalid \\u escape: expected 4 hex digits after \\u");
        if (low < 0xDC00 || low > 0xDFFF)
          return fail(p, p->pos,
                      "high surrogate \\u%04lX is followed by \\u%04lX, which is not a low "
                      "surrogate",
                      cp, low);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        used = 12;
      }
      if (bound - n < 4) return overrun(p); /* cannot happen: see the bound above */
      n += put_utf8(dst + n, (unsigned long)cp);
      p->pos += used;
      continue;
    }
    if (c < 0x20) {
      static const char *const names[32] = {
        [0] = "NUL", ['\b'] = "\\b", ['\t'] = "tab", ['\n'] = "newline",
        ['\f'] = "\\f", ['\r'] = "carriage return",
      };
      return fail(p, p->pos, "control character 0x%02X%s%s%s in a string (write it as an escape)",
                  c, names[c] ? " (" : "", names[c] ? names[c] : "", names[c] ? ")" : "");
    }
    size_t k = 1;
    if (c >= 0x80) {
      lx_status st = check_utf8(p, &k);
      if (st != LX_OK) return st;
    }
    if (bound - n < k) return overrun(p); /* cannot happen: see the bound above */
    memcpy(dst + n, t + p->pos, k);
    n += k;
    p->pos += k;
  }
  return unterminated(p, start);
}

/* Reads the number at p->pos. */
static lx_status parse_number(parser *p, lx_json_value *v) {
  const unsigned char *t = p->text;
  size_t start = p->pos, pos = p->pos;
  bool neg = false;
  if (t[pos] == '-') {
    neg = true;
    pos++;
    if (pos < p->len && !is_digit(t[pos]) && (t[pos] | 32) >= 'a' && (t[pos] | 32) <= 'z') {
      size_t end = pos;
      while (end < p->len && end - pos < 16 && (t[end] | 32) >= 'a' && (t[end] | 32) <= 'z') end++;
      char lower[17] = {0};
      for (size_t i = pos; i < end; i++) lower[i - pos] = (char)(t[i] | 32);
      if (!strcmp(lower, "nan") || !strcmp(lower, "inf") || !strcmp(lower, "infinity"))
        return fail(p, start, "'-%.*s' is not JSON (JSON has no NaN or Infinity)",
                    (int)(end - pos), (const char *)t + pos);
    }
    if (pos >= p->len || !is_digit(t[pos])) {
      char what[80];
      return fail(p, pos, "expected a digit after '-', found %s", describe(p, pos, what, sizeof what));
    }
  }
  size_t int_start = pos;
  if (t[pos] == '0') {
    pos++;
    if (pos < p->len && is_digit(t[pos]))
      return fail(p, start, "leading zeros are not allowed in numbers");
  } else {
    while (pos < p->len && is_digit(t[pos])) pos++;
  }
  size_t int_end = pos, frac_start = pos, frac_end = pos;
  bool is_int = true;
  if (pos < p->len && t[pos] == '.') {
    is_int = false;
    pos++;
    frac_start = pos;
    if (pos >= p->len || !is_digit(t[pos])) {
      char what[80];
      return fail(p, pos, "expected a digit after the decimal point, found %s",
                  describe(p, pos, what, sizeof what));
    }
    while (pos < p->len && is_digit(t[pos])) pos++;
    frac_end = pos;
  }
  int64_t exponent = 0;
  if (pos < p->len && (t[pos] == 'e' || t[pos] == 'E')) {
    is_int = false;
    pos++;
    bool eneg = false;
    if (pos < p->len && (t[pos] == '+' || t[pos] == '-')) eneg = t[pos++] == '-';
    if (pos >= p->len || !is_digit(t[pos])) {
      char what[80];
      return fail(p, pos, "expected a digit in the exponent, found %s",
                  describe(p, pos, what, sizeof what));
    }
    /* Saturates: any exponent this large already means 0 or infinity. */
    for (; pos < p->len && is_digit(t[pos]); pos++)
      if (exponent < INT64_C(1000000000000)) exponent = exponent * 10 + (t[pos] - '0');
    if (eneg) exponent = -exponent;
  }
  p->pos = pos;
  v->offset = start;
  if (is_int) {
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    bool fits = true;
    for (size_t i = int_start; i < int_end; i++) {
      unsigned d = (unsigned)(t[i] - '0');
      if (mag > (limit - d) / 10) { fits = false; break; }
      mag = mag * 10 + d;
    }
    if (fits) {
      v->type = LX_JSON_INTEGER;
      v->u.integer = !neg ? (int64_t)mag : mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                                                         : -(int64_t)mag;
      return LX_OK;
    }
  }
  /* "-12.5e3" -> "-125e2": digits and an exponent only, read alike in every
  ** locale. The exponent is clamped where the value is 0 or infinite anyway
  ** (the mantissa has at most `digits` digits). */
  size_t digits = (int_end - int_start) + (frac_end - frac_start);
  int64_t adjusted = exponent - (int64_t)(frac_end - frac_start);
  int64_t low = -(int64_t)digits - 100000, high = 100000;
  if (adjusted < low) adjusted = low;
  if (adjusted > high) adjusted = high;
  size_t need = digits + 32;
  if (!grow((void **)&p->numbuf, &p->numbuf_cap, need, 1)) return out_of_memory(p);
  char *b = p->numbuf;
  size_t o = 0;
  if (neg) b[o++] = '-';
  memcpy(b + o, t + int_start, int_end - int_start);
  o += int_end - int_start;
  memcpy(b + o, t + frac_start, frac_end - frac_start);
  o += frac_end - frac_start;
  snprintf(b + o, need - o, "e%" PRId64, adjusted);
  double d = strtod(b, NULL);
  if (isinf(d)) {
    size_t shown = pos - start < 40 ? pos - start : 40;
    return fail(p, start, "number %.*s%s is too large for a double", (int)shown,
                (const char *)t + start, pos - start > shown ? "..." : "");
  }
  v->type = LX_JSON_NUMBER;
  v->u.number = d;
  return LX_OK;
}

/* true, false, null — and clear refusals of the words that are not JSON. */
static lx_status parse_literal(parser *p, lx_json_value *v) {
  size_t start = p->pos, end = start;
  const unsigned char *t = p->text;
  while (end < p->len && (t[end] == '_' || is_digit(t[end]) || ((t[end] | 32) >= 'a' && (t[end] | 32) <= 'z')))
    end++;
  size_t n = end - start;
  static const struct { const char *word; lx_json_type type; } words[] = {
    {"true", LX_JSON_TRUE}, {"false", LX_JSON_FALSE}, {"null", LX_JSON_NULL},
  };
  for (size_t k = 0; k < 3; k++) {
    size_t wl = strlen(words[k].word);
    if (n == wl && memcmp(t + start, words[k].word, n) == 0) {
      v->type = words[k].type;
      v->offset = start;
      p->pos = end;
      return LX_OK;
    }
    if (end == p->len && n < wl && memcmp(t + start, words[k].word, n) == 0)
      return fail(p, p->len, "end of text inside the literal '%s'", words[k].word);
  }
  int shown = (int)(n < 32 ? n : 32);
  const char *more = n > 32 ? "..." : "";
  char lower[16] = {0};
  for (size_t i = 0; i < n && i < sizeof lower - 1; i++) lower[i] = (char)(t[start + i] | 32);
  if (n < sizeof lower &&
      (!strcmp(lower, "nan") || !strcmp(lower, "inf") || !strcmp(lower, "infinity")))
    return fail(p, start, "'%.*s' is not JSON (JSON has no NaN or Infinity)", shown,
                (const char *)t + start);
  return fail(p, start, "invalid literal '%.*s%s' (expected true, false or null)", shown,
              (const char *)t + start, more);
}

/* Reads a key (p->pos at its quote) and the ':' after it, and opens its
** member slot. */
static lx_status parse_key(parser *p) {
  size_t at = p->pos;
  if (!grow((void **)&p->members, &p->members_cap, p->members_len + 1, sizeof *p->members))
    return out_of_memory(p);
  member_slot *s = &p->members[p->members_len];
  memset(s, 0, sizeof *s);
  lx_status st = parse_string(p, &s->m.key, &s->m.key_len);
  if (st != LX_OK) return st;
  s->key_offset = at;
  p->members_len++;
  skip_ws(p);
  if (p->pos >= p->len || p->text[p->pos] != ':') {
    char what[80], key[96];
    quote(key, sizeof key, s->m.key, s->m.key_len, 40);
    return fail(p, p->pos, "expected ':' after the object key %s, found %s", key,
                describe(p, p->pos, what, sizeof what));
  }
  p->pos++;
  return LX_OK;
}

static int compare_keys(const void *a, const void *b) {
  const member_slot *x = *(const member_slot *const *)a, *y = *(const member_slot *const *)b;
  size_t n = x->m.key_len < y->m.key_len ? x->m.key_len : y->m.key_len;
  int c = n ? memcmp(x->m.key, y->m.key, n) : 0;
  if (c) return c;
  if (x->m.key_len != y->m.key_len) return x->m.key_len < y->m.key_len ? -1 : 1;
  return x < y ? -1 : x > y; /* text order among equal keys */
}

/* Refuses the object whose members are members[base..] if two keys are
** equal, naming the earliest repeat in the text. */
static lx_status check_duplicates(parser *p, size_t base) {
  size_t n = p->members_len - base;
  if (n < 2) return LX_OK;
  if (!grow((void **)&p->sorted, &p->sorted_cap, n, sizeof *p->sorted)) return out_of_memory(p);
  for (size_t i = 0; i < n; i++) p->sorted[i] = &p->members[base + i];
  qsort(p->sorted, n, sizeof *p->sorted, compare_keys);
  /* Equal keys sort together, in text order: in each run of equal keys the
  ** first is the original and the second its earliest repeat. */
  member_slot *first = NULL, *repeat = NULL;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && p->sorted[j]->m.key_len == p->sorted[i]->m.key_len &&
           memcmp(p->sorted[j]->m.key, p->sorted[i]->m.key, p->sorted[i]->m.key_len) == 0)
      j++;
    if (j - i >= 2 && (!repeat || p->sorted[i + 1] < repeat)) {
      first = p->sorted[i];
      repeat = p->sorted[i + 1];
    }
    i = j;
  }
  if (!repeat) return LX_OK;
  char key[96];
  size_t line, column;
  quote(key, sizeof key, repeat->m.key, repeat->m.key_len, 60);
  line_column(p, first->key_offset, &line, &column);
  return fail(p, repeat->key_offset,
              "duplicate key %s in an object (first at line %zu, column %zu); keys must be unique",
              key, line, column);
}

/* Closes the innermost container into *v. */
static lx_status close_container(parser *p, lx_json_value *v) {
  frame *f = &p->frames[p->depth - 1];
  memset(v, 0, sizeof *v);
  v->offset = f->offset;
  if (f->is_object) {
    lx_status st = check_duplicates(p, f->base);
    if (st != LX_OK) return st;
    size_t n = p->members_len - f->base;
    lx_json_member *m = NULL;
    if (n) {
      if (n > SIZE_MAX / sizeof *m) return out_of_memory(p);
      m = arena_alloc(p->doc, n * sizeof *m, _Alignof(lx_json_member));
      if (!m) return out_of_memory(p);
      for (size_t i = 0; i < n; i++) m[i] = p->members[f->base + i].m;
    }
    v->type = LX_JSON_OBJECT;
    v->u.object.members = m;
    v->u.object.count = n;
    p->members_len = f->base;
  } else {
    size_t n = p->items_len - f->base;
    lx_json_value *items = NULL;
    if (n) {
      if (n > SIZE_MAX / sizeof *items) return out_of_memory(p);
      items = arena_alloc(p->doc, n * sizeof *items, _Alignof(lx_json_value));
      if (!items) return out_of_memory(p);
      memcpy(items, p->items + f->base, n * sizeof *items);
    }
    v->type = LX_JSON_ARRAY;
    v->u.array.items = items;
    v->u.array.count = n;
    p->items_len = f->base;
  }
  p->depth--;
  return LX_OK;
}

static lx_status parse_scalar(parser *p, lx_json_value *v) {
  unsigned char c = p->text[p->pos];
  memset(v, 0, sizeof *v);
  if (c == '"') {
    v->type = LX_JSON_STRING;
    v->offset = p->pos;
    return parse_string(p, &v->u.string.s, &v->u.string.len);
  }
  if (c == '-' || is_digit(c)) return parse_number(p, v);
  if ((c | 32) >= 'a' && (c | 32) <= 'z') return parse_literal(p, v);
  char what[96];
  if (c == '+') return fail(p, p->pos, "a number may not start with '+'");
  if (c == '.') return fail(p, p->pos, "a number may not start with '.' (write 0.5, not .5)");
  if (c == '\'') return fail(p, p->pos, "strings must be in double quotes, found '''");
  if (p->pos == 0 && p->len >= 3 && c == 0xEF && p->text[1] == 0xBB && p->text[2] == 0xBF)
    return fail(p, 0, "the text starts with a UTF-8 byte order mark, which JSON does not allow");
  return fail(p, p->pos, "expected a value, found %s", describe(p, p->pos, what, sizeof what));
}

static lx_status parse_document(parser *p) {
  lx_json_value v;
  char what[96];
  for (;;) {
    /* A value is expected here. */
    skip_ws(p);
    if (p->pos >= p->len)
      return fail(p, p->len, p->depth || p->len ? "expected a value, found end of text"
                                                : "expected a value, found an empty text");
    unsigned char c = p->text[p->pos];
    if (c == '[' || c == '{') {
      if (p->depth >= (size_t)p->max_depth)
        return fail(p, p->pos, "nesting deeper than %d levels of arrays and objects",
                    p->max_depth);
      if (!grow((void **)&p->frames, &p->frames_cap, p->depth + 1, sizeof *p->frames))
        return out_of_memory(p);
      frame *f = &p->frames[p->depth++];
      f->is_object = c == '{';
      f->base = f->is_object ? p->members_len : p->items_len;
      f->offset = p->pos;
      p->pos++;
      skip_ws(p);
      if (p->pos < p->len && p->text[p->pos] == (f->is_object ? '}' : ']')) {
        p->pos++;
        lx_status st = close_container(p, &v);
        if (st != LX_OK) return st;
      } else if (!f->is_object) {
        continue;
      } else if (p->pos < p->len && p->text[p->pos] == '"') {
        lx_status st = parse_key(p);
        if (st != LX_OK) return st;
        continue;
      } else {
        return fail(p, p->pos, "expected a string key or '}' after '{', found %s",
                    describe(p, p->pos, what, sizeof what));
      }
    } else {
      lx_status st = parse_scalar(p, &v);
      if (st != LX_OK) return st;
    }
    /* Hands v to its container, closing containers that end here, until
    ** one wants another value. */
    for (;;) {
      if (p->depth == 0) {
        p->doc->root = v;
        skip_ws(p);
        if (p->pos < p->len)
          return fail(p, p->pos, "unexpected %s after the JSON value (only whitespace may follow it)",
                      describe(p, p->pos, what, sizeof what));
        return LX_OK;
      }
      frame *f = &p->frames[p->depth - 1];
      if (f->is_object) {
        p->members[p->members_len - 1].m.value = v;
      } else {
        if (!grow((void **)&p->items, &p->items_cap, p->items_len + 1, sizeof *p->items))
          return out_of_memory(p);
        p->items[p->items_len++] = v;
      }
      skip_ws(p);
      char closer = f->is_object ? '}' : ']';
      const char *after = f->is_object ? "an object member" : "an array item";
      if (p->pos >= p->len)
        return fail(p, p->len, "expected ',' or '%c' after %s, found end of text", closer, after);
      c = p->text[p->pos];
      if (c == closer) {
        p->pos++;
        lx_status st = close_container(p, &v);
        if (st != LX_OK) return st;
        continue;
      }
      if (c != ',')
        return fail(p, p->pos, "expected ',' or '%c' after %s, found %s", closer, after,
                    describe(p, p->pos, what, sizeof what));
      size_t comma = p->pos++;
      skip_ws(p);
      if (p->pos < p->len && p->text[p->pos] == closer)
        return fail(p, comma, "trailing comma before '%c' (JSON does not allow one)", closer);
      if (f->is_object) {
        if (p->pos >= p->len || p->text[p->pos] != '"')
          return fail(p, p->pos, "expected a string key after ',', found %s",
                      describe(p, p->pos, what, sizeof what));
        lx_status st = parse_key(p);
        if (st != LX_OK) return st;
      }
      break;
    }
  }
}

lx_status lx_json_parse(const char *text, size_t len, const char *name,
                        const lx_json_limits *limits, lx_json_doc **out) {
  if (!out) return lx_set_error(LX_ERR_ARGUMENT, "lx_json_parse: out is NULL");
  *out = NULL;
  if (!text && len) return lx_set_error(LX_ERR_ARGUMENT, "lx_json_parse: text is NULL");
  int max_depth = limits && limits->max_depth > 0 ? limits->max_depth : DEFAULT_MAX_DEPTH;
  if (limits && limits->max_length > 0 && len > limits->max_length)
    return lx_set_error(LX_ERR_ARGUMENT, "%s%sthe text is %zu bytes long, over the limit of %zu",
                        name ? name : "", name ? ": " : "", len, limits->max_length);
  lx_json_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return lx_set_error(LX_ERR_MEMORY, "%s%sout of memory", name ? name : "", name ? ": " : "");
  doc->next_cap = CHUNK_MIN;
  parser p = {0};
  p.text = (const unsigned char *)(text ? text : "");
  p.len = len;
  p.name = name;
  p.max_depth = max_depth;
  p.doc = doc;
  lx_status st = parse_document(&p);
  free(p.items);
  free(p.members);
  free(p.frames);
  free(p.sorted);
  free(p.numbuf);
  if (st != LX_OK) {
    lx_json_free(doc);
    return st;
  }
  *out = doc;
  return LX_OK;
}

const lx_json_value *lx_json_root(const lx_json_doc *doc) { return doc ? &doc->root : NULL; }

void lx_json_free(lx_json_doc *doc) {
  if (!doc) return;
  chunk *c = doc->chunks;
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
  free(doc);
}

const lx_json_value *lx_json_get(const lx_json_value *object, const char *key) {
  if (!object || !key || object->type != LX_JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < object->u.object.count; i++) {
    const lx_json_member *m = &object->u.object.members[i];
    if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
  }
  return NULL;
}
