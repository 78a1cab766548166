/*
** format.c — printing arrays the way JAX's repr does.
**
** JAX's repr is NumPy's array2string (separator ", ", the "Array(" prefix, a
** "," suffix) followed by "dtype=NAME)". The rules reproduced here are
** NumPy's defaults (legacy=False, floatmode "maxprec", precision 8,
** sign "-"):
**
**  - floats print the shortest decimal that reads back as the same value of
**    their own dtype, with at most 8 fraction digits, in one of two styles
**    chosen for the whole array: positional ("1.5", decimal points aligned)
**    or scientific ("1.5e-05", one mantissa width and one exponent width);
**  - integers right-aligned to the widest, bools " True"/"False";
**  - rows wrap at the line width, continuation lines indented under the
**    first element; arrays larger than `threshold` keep `edgeitems` at each
**    end of every axis with "..." between, and the column widths are
**    computed over the elements that are shown only.
**
** The data is read once to the host with lx_array_read (any device, any
** strides); everything after that is host code over the contiguous copy.
*/
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NumPy's default precision: at most this many fraction digits. */
#define FLOAT_PRECISION 8
/* Longest element text: sign, 17 digits, point, exponent; with room. */
#define WORD_MAX 64

/* ------------------------------------------------------- output buffer */

/* A growing string. The first failed allocation sticks so that the
** printer can write freely and check once at the end. */
typedef struct strbuf {
  char *data;
  size_t len, cap;
  bool failed;
} strbuf;

static bool sb_reserve(strbuf *b, size_t extra) {
  if (b->failed) return false;
  if (extra > SIZE_MAX - b->len - 1) { b->failed = true; return false; }
  size_t need = b->len + extra + 1; /* +1: the terminating NUL */
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) { b->failed = true; return false; }
  b->data = p;
  b->cap = cap;
  return true;
}

static void sb_append(strbuf *b, const char *s, size_t n) {
  if (!sb_reserve(b, n)) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s) { sb_append(b, s, strlen(s)); }

static void sb_repeat(strbuf *b, char c, size_t n) {
  if (!sb_reserve(b, n)) return;
  memset(b->data + b->len, c, n);
  b->len += n;
  b->data[b->len] = '\0';
}

/* ------------------------------------------------------------- decimals */

/* A finite float as decimal digits: value = d1.d2d3... x 10^exp10, with no
** trailing zero digits. Zero has ndigits == 0. */
typedef struct decimal {
  bool negative;
  int ndigits;
  int exp10;
  char digits[48];
} decimal;

static void decimal_strip_zeros(decimal *d) {
  while (d->ndigits > 0 && d->digits[d->ndigits - 1] == '0') d->ndigits--;
  if (d->ndigits == 0) d->exp10 = 0;
}

/*
** Reads printf output ("%e" or "%f" style, for a value >= 0) into a decimal.
** The radix character is whatever is not a digit, so that a locale with a
** decimal comma changes nothing.
*/
static void decimal_from_printf(const char *text, decimal *d) {
  const char *p = text;
  int int_digits = 0, leading_zeros = 0;
  bool seen_radix = false;
  d->ndigits = 0;
  for (; *p && *p != 'e' && *p != 'E'; p++) {
    if (*p < '0' || *p > '9') { seen_radix = true; continue; }
    if (!seen_radix) int_digits++;
    if (d->ndigits == 0 && *p == '0') { leading_zeros++; continue; }
    if (d->ndigits < (int)sizeof d->digits) d->digits[d->ndigits++] = *p;
  }
  int exp = (*p == 'e' || *p == 'E') ? atoi(p + 1) : 0;
  /* text = 0.<all digits> x 10^(int_digits + exp); dropping the leading
  ** zeros moves the point right past them. */
  d->exp10 = int_digits + exp - leading_zeros - 1;
  decimal_strip_zeros(d);
}

/* The decimal as text that strtod/strtof read in any locale: "12345e-7". */
static void decimal_to_c_text(const decimal *d, char *buf, size_t size) {
  if (d->ndigits == 0) { snprintf(buf, size, "0"); return; }
  snprintf(buf, size, "%.*se%d", d->ndigits, d->digits, d->exp10 - d->ndigits + 1);
}

/* Whether `d` (non-negative) read as a `dtype` value is `x` (> 0) again. */
static bool decimal_reads_back(const decimal *d, lx_dtype dtype, double x) {
  char text[80];
  decimal_to_c_text(d, text, sizeof text);
  switch (dtype) {
    /* strtof rounds once: going through double could round twice. */
    case LX_FLOAT32: return strtof(text, NULL) == (float)x;
    case LX_FLOAT16: return lx_double_to_half(strtod(text, NULL)) == lx_double_to_half(x);
    case LX_BFLOAT16:
      return lx_float_to_bfloat16(strtof(text, NULL)) == lx_float_to_bfloat16((float)x);
    default: return strtod(text, NULL) == x;
  }
}

/* The n-digit decimal next to `d` (n == d->ndigits, trailing zeros kept)
** one unit in the last place up or down. */
static void decimal_step(decimal *d, bool up) {
  int i = d->ndigits - 1;
  if (up) {
    while (i >= 0 && d->digits[i] == '9') d->digits[i--] = '0';
    if (i >= 0) { d->digits[i]++; return; }
    d->digits[0] = '1'; /* 9.99 -> 10.0: one more power of ten */
    d->exp10++;
    return;
  }
  while (i >= 0 && d->digits[i] == '0') d->digits[i--] = '9';
  if (i >= 0) d->digits[i]--;
  if (d->digits[0] == '0') { /* 1.00 -> 0.999: keep n digits, all nines */
    memset(d->digits, '9', (size_t)d->ndigits);
    d->exp10--;
  }
}

/*
** The shortest decimal with at most `max_sig` significant digits that reads
** back as x (> 0) in `dtype`; false when there is none. Among the n-digit
** decimals only the two around x can read back; the nearer is preferred,
** the other matters just above a power of two where the gap below x is half
** the gap above (NumPy's Dragon4 finds the same digits).
*/
static bool shortest_decimal(double x, lx_dtype dtype, int max_sig, decimal *out) {
  if (max_sig > 17) max_sig = 17; /* 17 digits always identify a double */
  for (int n = 1; n <= max_sig; n++) {
    char text[64];
    decimal d;
    snprintf(text, sizeof text, "%.*e", n - 1, x);
    decimal_from_printf(text, &d);
    /* Re-expand to n digits so that the neighbour step works per digit. */
    while (d.ndigits < n) d.digits[d.ndigits++] = '0';
    if (decimal_reads_back(&d, dtype, x)) {
      *out = d;
      decimal_strip_zeros(out);
      return true;
    }
    char ctext[80];
    decimal_to_c_text(&d, ctext, sizeof ctext);
    decimal_step(&d, strtod(ctext, NULL) < x);
    if (decimal_reads_back(&d, dtype, x)) {
      *out = d;
      decimal_strip_zeros(out);
      return true;
    }
  }
  return false;
}

/* floor(log10(x)) for x > 0, from enough digits that rounding up to the
** next power of ten cannot happen for a double. */
static int decimal_exponent(double x) {
  char text[80];
  snprintf(text, sizeof text, "%.40e", x);
  const char *e = strchr(text, 'e');
  return e ? atoi(e + 1) : 0;
}

/*
** x in positional style: shortest digits, or rounded at 8 fraction digits
** when the shortest needs more (NumPy's fractional cutoff). With
** `whole_integer` the integer part is printed in full even where fewer
** digits would identify the value (float16 12144 prints "12144.", not
** "12140."): NumPy measures the widths without that and prints with it.
*/
static void decimal_positional(double x, lx_dtype dtype, bool whole_integer,
                               decimal *d) {
  bool negative = signbit(x) != 0;
  double ax = fabs(x);
  d->ndigits = 0;
  d->exp10 = 0;
  if (ax != 0) {
    int max_sig = decimal_exponent(ax) + 1 + FLOAT_PRECISION;
    char text[400];
    if (max_sig < 1 || !shortest_decimal(ax, dtype, max_sig, d)) {
      snprintf(text, sizeof text, "%.*f", FLOAT_PRECISION, ax);
      decimal_from_printf(text, d);
    } else if (whole_integer && d->exp10 - d->ndigits + 1 > 0) {
      snprintf(text, sizeof text, "%.0f", ax);
      decimal_from_printf(text, d);
    }
  }
  d->negative = negative;
}

/* x in scientific style: at most 1 + 8 significant digits. */
static void decimal_scientific(double x, lx_dtype dtype, decimal *d) {
  bool negative = signbit(x) != 0;
  double ax = fabs(x);
  d->ndigits = 0;
  d->exp10 = 0;
  if (ax != 0 && !shortest_decimal(ax, dtype, 1 + FLOAT_PRECISION, d)) {
    char text[64];
    snprintf(text, sizeof text, "%.*e", FLOAT_PRECISION, ax);
    decimal_from_printf(text, d);
  }
  d->negative = negative;
}

/* Length of the integer part in positional style, sign included. */
static int positional_int_len(const decimal *d) {
  int n = (d->ndigits == 0 || d->exp10 < 0) ? 1 : d->exp10 + 1;
  return n + (d->negative ? 1 : 0);
}

static int positional_frac_len(const decimal *d) {
  if (d->ndigits == 0) return 0;
  int n = d->ndigits - 1 - d->exp10;
  return n > 0 ? n : 0;
}

static int exponent_digits(int exp10) {
  int n = 0, e = abs(exp10);
  do { n++; e /= 10; } while (e);
  return n < 2 ? 2 : n;
}

/* ------------------------------------------------------ element formats */

typedef struct float_format {
  bool scientific;
  int pad_left;   /* width of the integer part (sign included) */
  int pad_right;  /* positional: fraction width; scientific: all after it */
  int precision;  /* scientific: mantissa fraction digits */
  int exp_digits; /* scientific: exponent width */
} float_format;

typedef struct elem_format {
  lx_dtype dtype;
  size_t itemsize;
  bool zero_dim;  /* 0-d arrays print "True" without the aligning space */
  int int_width;  /* integers: widest */
  float_format f;
} elem_format;

/* One element's text. Appends past the end are dropped, so a broken
** invariant shows as a short word, never as an overrun. */
typedef struct word {
  char s[WORD_MAX];
  size_t n;
} word;

static void word_char(word *w, char c) {
  if (w->n + 1 < WORD_MAX) w->s[w->n++] = c;
  w->s[w->n] = '\0';
}

static void word_str(word *w, const char *s) {
  while (*s) word_char(w, *s++);
}

static void word_spaces(word *w, int n) {
  while (n-- > 0) word_char(w, ' ');
}

static void render_positional(const float_format *ff, const decimal *d, word *w) {
  int int_len = positional_int_len(d), frac = positional_frac_len(d);
  word_spaces(w, ff->pad_left - int_len);
  if (d->negative) word_char(w, '-');
  if (d->ndigits == 0 || d->exp10 < 0) {
    word_char(w, '0');
  } else {
    for (int i = 0; i <= d->exp10; i++) word_char(w, i < d->ndigits ? d->digits[i] : '0');
  }
  word_char(w, '.');
  for (int i = 0; i < frac; i++) {
    int pos = d->exp10 + 1 + i; /* index into digits of this fraction digit */
    word_char(w, (pos >= 0 && pos < d->ndigits) ? d->digits[pos] : '0');
  }
  word_spaces(w, ff->pad_right - frac);
}

static void render_scientific(const float_format *ff, const decimal *d, word *w) {
  word_spaces(w, ff->pad_left - (d->negative ? 2 : 1));
  if (d->negative) word_char(w, '-');
  word_char(w, d->ndigits ? d->digits[0] : '0');
  word_char(w, '.');
  for (int i = 1; i <= ff->precision; i++) word_char(w, i < d->ndigits ? d->digits[i] : '0');
  char exp[16];
  snprintf(exp, sizeof exp, "e%c%0*d", d->exp10 < 0 ? '-' : '+',
           ff->exp_digits < 9 ? ff->exp_digits : 9, abs(d->exp10));
  word_str(w, exp);
}

static void render_float(const float_format *ff, lx_dtype dtype, double x, word *w) {
  if (!isfinite(x)) {
    const char *text = isnan(x) ? "nan" : x < 0 ? "-inf" : "inf";
    word_spaces(w, ff->pad_left + ff->pad_right + 1 - (int)strlen(text));
    word_str(w, text);
    return;
  }
  decimal d;
  if (ff->scientific) {
    decimal_scientific(x, dtype, &d);
    /* NumPy fills the common mantissa width with further digits of the
    ** value itself (Dragon4's min_digits), not with zeros: float32 0.1
    ** next to 1.2345e-05 prints "1.00000001e-01". */
    if (d.ndigits > 0 && d.ndigits - 1 < ff->precision) {
      char text[64];
      snprintf(text, sizeof text, "%.*e", ff->precision, fabs(x));
      decimal_from_printf(text, &d);
      d.negative = signbit(x) != 0;
    }
    render_scientific(ff, &d, w);
  } else {
    decimal_positional(x, dtype, true, &d);
    render_positional(ff, &d, w);
  }
}

/* An integer element in decimal; uint64 as unsigned, as NumPy and JAX
** print it (lx_load_int64 gives its bit pattern). */
static int int_text(lx_dtype dtype, const unsigned char *p, char *text, size_t size) {
  int64_t v = lx_load_int64(dtype, p);
  if (dtype == LX_UINT64) return snprintf(text, size, "%" PRIu64, (uint64_t)v);
  return snprintf(text, size, "%" PRId64, v);
}

static void render_element(const elem_format *ef, const unsigned char *p, word *w) {
  w->n = 0;
  w->s[0] = '\0';
  if (lx_dtype_is_float(ef->dtype)) {
    render_float(&ef->f, ef->dtype, lx_load_double(ef->dtype, p), w);
  } else if (ef->dtype == LX_BOOL) {
    bool v = lx_load_int64(LX_BOOL, p) != 0;
    word_str(w, v ? (ef->zero_dim ? "True" : " True") : "False");
  } else {
    char text[32];
    int n = int_text(ef->dtype, p, text, sizeof text);
    word_spaces(w, ef->int_width - n);
    word_str(w, text);
  }
}

/* ---------------------------------------------------------- shown items */

/* The host copy and which of its elements are shown. */
typedef struct view {
  const unsigned char *data;
  size_t itemsize;
  int ndim;
  const int64_t *shape;
  int64_t strides[LX_MAX_DIMS]; /* row-major, in elements, of the host copy */
  bool summarise;
  int64_t edge;
  /* The host copy holds only the shown items (see gather_shown): on a cut
  ** axis, item i of the array is at i, or after the head for the tail. */
  bool compact;
} view;

/* Whether axis length n is cut with "..." in the middle. */
static bool view_cuts(const view *v, int64_t n) {
  return v->summarise && n > 2 * v->edge;
}

/* Index of the first trailing item shown after the "...". NumPy shows the
** last item even when edgeitems is 0. */
static int64_t view_tail_start(const view *v, int64_t n) {
  return n - (v->edge > 0 ? v->edge : 1);
}

/* Offset in the host copy of item i along `axis`. */
static int64_t view_offset(const view *v, int axis, int64_t i) {
  int64_t n = v->shape[axis];
  if (v->compact && view_cuts(v, n) && i >= v->edge) i = i - view_tail_start(v, n) + v->edge;
  return i * v->strides[axis];
}

typedef void (*visit_fn)(void *ctx, const unsigned char *elem);

/* Calls fn on every shown element (the same ones the printer prints). */
static void visit_shown(const view *v, int axis, int64_t base, visit_fn fn, void *ctx) {
  if (axis == v->ndim) {
    fn(ctx, v->data + (size_t)base * v->itemsize);
    return;
  }
  int64_t n = v->shape[axis];
  bool cut = view_cuts(v, n);
  for (int64_t i = 0; i < n; i++) {
    if (cut && i == v->edge) i = view_tail_start(v, n);
    visit_shown(v, axis + 1, base + view_offset(v, axis, i), fn, ctx);
  }
}

/* ---------------------------------------------------- choosing formats */

/* First float pass: the range of the finite values decides the style. */
typedef struct float_range {
  lx_dtype dtype;
  double min_abs, max_abs; /* over finite non-zero values */
  bool any_nonzero, any_finite, any_nonfinite, any_neg_inf;
} float_range;

static void visit_range(void *ctx, const unsigned char *p) {
  float_range *r = ctx;
  double x = lx_load_double(r->dtype, p);
  if (!isfinite(x)) {
    r->any_nonfinite = true;
    if (isinf(x) && x < 0) r->any_neg_inf = true;
    return;
  }
  r->any_finite = true;
  if (x == 0) return;
  double ax = fabs(x);
  if (!r->any_nonzero || ax < r->min_abs) r->min_abs = ax;
  if (!r->any_nonzero || ax > r->max_abs) r->max_abs = ax;
  r->any_nonzero = true;
}

/* Second float pass: the widest parts in the chosen style. */
typedef struct float_widths {
  lx_dtype dtype;
  bool scientific;
  int int_len, frac_len, exp_digits;
} float_widths;

static void visit_widths(void *ctx, const unsigned char *p) {
  float_widths *w = ctx;
  double x = lx_load_double(w->dtype, p);
  if (!isfinite(x)) return;
  decimal d;
  int int_len, frac_len;
  if (w->scientific) {
    decimal_scientific(x, w->dtype, &d);
    int_len = d.negative ? 2 : 1;
    frac_len = d.ndigits > 1 ? d.ndigits - 1 : 0;
    int ed = exponent_digits(d.exp10);
    if (ed > w->exp_digits) w->exp_digits = ed;
  } else {
    decimal_positional(x, w->dtype, false, &d);
    int_len = positional_int_len(&d);
    frac_len = positional_frac_len(&d);
  }
  if (int_len > w->int_len) w->int_len = int_len;
  if (frac_len > w->frac_len) w->frac_len = frac_len;
}

/* v rounded to `dtype`. */
static double in_dtype(lx_dtype dtype, double v) {
  unsigned char tmp[8];
  lx_store_double(dtype, v, tmp);
  return lx_load_double(dtype, tmp);
}

static void choose_float_format(const view *v, lx_dtype dtype, float_format *ff) {
  float_range r = {.dtype = dtype};
  visit_shown(v, 0, 0, visit_range, &r);
  memset(ff, 0, sizeof *ff);
  /* NumPy does these comparisons and the division in the array's dtype:
  ** float16 1e-4 is 1.0002e-04, and float16 1e8 is inf. */
  ff->scientific = r.any_nonzero &&
      (r.max_abs >= in_dtype(dtype, 1e8) || r.min_abs < in_dtype(dtype, 1e-4) ||
       in_dtype(dtype, r.max_abs / r.min_abs) > 1e3);
  if (r.any_finite) {
    float_widths w = {.dtype = dtype, .scientific = ff->scientific};
    visit_shown(v, 0, 0, visit_widths, &w);
    ff->pad_left = w.int_len;
    if (ff->scientific) {
      ff->precision = w.frac_len;
      ff->exp_digits = w.exp_digits;
      ff->pad_right = w.exp_digits + 2 + w.frac_len; /* "e+XX" and digits */
    } else {
      ff->pad_right = w.frac_len;
    }
  }
  if (r.any_nonfinite) {
    /* "nan"/"inf" (or "-inf") right-aligned within the common width. */
    int offset = ff->pad_right + 1;
    int inf_len = r.any_neg_inf ? 4 : 3;
    if (3 - offset > ff->pad_left) ff->pad_left = 3 - offset;
    if (inf_len - offset > ff->pad_left) ff->pad_left = inf_len - offset;
  }
}

typedef struct int_widths { lx_dtype dtype; int width; } int_widths;

static void visit_int_width(void *ctx, const unsigned char *p) {
  int_widths *w = ctx;
  char text[32];
  int n = int_text(w->dtype, p, text, sizeof text);
  if (n > w->width) w->width = n;
}

static void choose_format(const view *v, lx_dtype dtype, elem_format *ef) {
  memset(ef, 0, sizeof *ef);
  ef->dtype = dtype;
  ef->itemsize = lx_dtype_size(dtype);
  ef->zero_dim = v->ndim == 0;
  if (lx_dtype_is_float(dtype)) {
    choose_float_format(v, dtype, &ef->f);
  } else if (dtype != LX_BOOL) {
    int_widths w = {.dtype = dtype, .width = 0};
    visit_shown(v, 0, 0, visit_int_width, &w);
    ef->int_width = w.width;
  }
}

/* -------------------------------------------------------------- layout */

typedef struct printer {
  strbuf *out;
  const view *v;
  const elem_format *ef;
  size_t indent0;   /* hanging indent at depth 0: len(prefix) + 1 */
  int line_width;   /* wrap width, the suffix already taken off */
  size_t line_start;/* offset in out of the current line */
} printer;

static void newline(printer *pr) {
  sb_append(pr->out, "\n", 1);
  pr->line_start = pr->out->len;
}

/* Appends a word to the current row, wrapping first when it would pass
** `width`, unless the line holds nothing but its indent (wrapping would not
** help then). */
static void put_word(printer *pr, const char *word, size_t indent, int width) {
  strbuf *b = pr->out;
  size_t line_len = b->len - pr->line_start;
  size_t wlen = strlen(word);
  if (line_len > indent && line_len + wlen > (size_t)(width > 0 ? width : 0)) {
    /* The separator's trailing space does not end a line. */
    while (b->len > pr->line_start && b->data[b->len - 1] == ' ') b->len--;
    if (b->data) b->data[b->len] = '\0';
    newline(pr);
    sb_repeat(b, ' ', indent);
  }
  sb_append(b, word, wlen);
}

/* The innermost axis: elements separated by ", ", wrapped. */
static void print_row(printer *pr, int depth, int64_t base) {
  const view *v = pr->v;
  int64_t n = v->shape[depth];
  size_t indent = pr->indent0 + (size_t)depth;
  int width = pr->line_width - depth - 1; /* room for "," or "]" */
  bool cut = view_cuts(v, n);
  word w;
  sb_append(pr->out, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (cut && i == v->edge) {
      put_word(pr, "...", indent, width);
      sb_append(pr->out, ", ", 2);
      i = view_tail_start(v, n);
    }
    render_element(pr->ef, v->data + (size_t)(base + view_offset(v, depth, i)) * v->itemsize, &w);
    put_word(pr, w.s, indent, width);
    if (i + 1 < n) sb_append(pr->out, ", ", 2);
  }
  sb_append(pr->out, "]", 1);
}

/* A separator between sub-arrays: "," and one newline per axis below. */
static void block_separator(printer *pr, int axes_below) {
  sb_append(pr->out, ",", 1);
  for (int k = 0; k < axes_below; k++) newline(pr);
}

static void print_block(printer *pr, int depth, int64_t base) {
  const view *v = pr->v;
  if (depth == v->ndim) { /* 0-d */
    word w;
    render_element(pr->ef, v->data, &w);
    sb_puts(pr->out, w.s);
    return;
  }
  if (depth == v->ndim - 1) {
    print_row(pr, depth, base);
    return;
  }
  int64_t n = v->shape[depth];
  size_t indent = pr->indent0 + (size_t)depth;
  int axes_below = v->ndim - depth - 1;
  bool cut = view_cuts(v, n);
  sb_append(pr->out, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i > 0) sb_repeat(pr->out, ' ', indent);
    if (cut && i == v->edge) {
      sb_append(pr->out, "...", 3);
      block_separator(pr, axes_below);
      sb_repeat(pr->out, ' ', indent);
      i = view_tail_start(v, n);
    }
    print_block(pr, depth + 1, base + view_offset(v, depth, i));
    if (i + 1 < n) block_separator(pr, axes_below);
  }
  sb_append(pr->out, "]", 1);
}

/* ------------------------------------------------------------ the repr */

void lx_format_options_default(lx_format_options *o) {
  o->threshold = 1000;
  o->edgeitems = 3;
  o->linewidth = 75;
  o->prefix = "Array(";
  o->show_dtype = true;
}

/* Python's repr of a shape tuple: "(0,)", "(0, 3)". */
static void append_shape_tuple(strbuf *b, const lx_array *a) {
  char num[32];
  sb_puts(b, "(");
  for (int i = 0; i < a->ndim; i++) {
    snprintf(num, sizeof num, "%s%" PRId64, i ? ", " : "", a->shape[i]);
    sb_puts(b, num);
  }
  sb_puts(b, a->ndim == 1 ? ",)" : ")");
}

/* Item range [start, stop) of `a` along `axis`, as a view. */
static lx_status axis_slice(lx_array *a, int axis, int64_t start, int64_t stop, lx_array **out) {
  lx_index ix[LX_MAX_DIMS];
  for (int d = 0; d < axis; d++) ix[d] = (lx_index){LX_INDEX_SLICE, 0, a->shape[d], 1};
  ix[axis] = (lx_index){LX_INDEX_SLICE, start, stop, 1};
  return lx_index_view(a, axis + 1, ix, out);
}

/*
** The shown items of a summarised array as one compact array: on every cut
** axis the head and the tail are concatenated. Only views are taken until
** the innermost pieces, so nothing larger than the shown items is copied
** (a broadcast view of 2^62 elements prints as cheaply as a small array).
*/
static lx_status gather_shown(const view *v, lx_array *a, int axis, lx_array **out) {
  if (axis == a->ndim) { *out = lx_array_retain(a); return LX_OK; }
  int64_t n = a->shape[axis];
  if (!view_cuts(v, n)) return gather_shown(v, a, axis + 1, out);
  lx_array *head = NULL, *tail = NULL, *parts[2] = {NULL, NULL};
  lx_status st = axis_slice(a, axis, 0, v->edge, &head);
  if (st == LX_OK) st = axis_slice(a, axis, view_tail_start(v, n), n, &tail);
  if (st == LX_OK) st = gather_shown(v, head, axis + 1, &parts[0]);
  if (st == LX_OK) st = gather_shown(v, tail, axis + 1, &parts[1]);
  if (st == LX_OK) st = lx_concatenate(2, parts, axis, out);
  lx_array_release(head); lx_array_release(tail);
  lx_array_release(parts[0]); lx_array_release(parts[1]);
  return st;
}

/* The nested lists of a non-empty array into b. */
static lx_status append_body(strbuf *b, lx_array *a, const lx_format_options *o,
                             size_t prefix_len, int line_width) {
  view v = {.itemsize = lx_dtype_size(a->dtype), .ndim = a->ndim, .shape = a->shape,
            .summarise = a->size > o->threshold, .edge = o->edgeitems > 0 ? o->edgeitems : 0};
  lx_array *shown = NULL;
  lx_status st = v.summarise ? gather_shown(&v, a, 0, &shown) : LX_OK;
  if (st != LX_OK) return st;
  v.compact = shown != NULL;
  lx_array *src = shown ? shown : a;
  size_t nbytes = lx_array_nbytes(src);
  unsigned char *data = malloc(nbytes ? nbytes : 1);
  if (!data) {
    lx_array_release(shown);
    return lx_set_error(LX_ERR_MEMORY, "format: out of host memory reading %zu bytes", nbytes);
  }
  st = lx_array_read(src, data, nbytes);
  lx__contiguous_strides(src->ndim, src->shape, v.strides);
  lx_array_release(shown);
  if (st != LX_OK) { free(data); return st; }
  v.data = data;
  elem_format ef;
  choose_format(&v, a->dtype, &ef);
  printer pr = {.out = b, .v = &v, .ef = &ef, .indent0 = prefix_len + 1,
                .line_width = line_width, .line_start = 0};
  print_block(&pr, 0, 0);
  free(data);
  return LX_OK;
}

/*
** JAX puts "dtype=..." after the last line, separated by one space, or by
** len(prefix) spaces when its (slightly overestimated) line length says it
** would not fit. The overestimate and the spaces are JAX's, kept so that
** the output matches it.
*/
static void append_dtype(strbuf *b, const lx_array *a, size_t body_start,
                         size_t prefix_len, int linewidth) {
  char dtype_str[48];
  snprintf(dtype_str, sizeof dtype_str, "dtype=%s)", lx_dtype_name(a->dtype));
  if (b->failed) return;
  size_t body_len = b->len - body_start;
  size_t last_nl = body_len; /* none */
  for (size_t i = body_len; i-- > 0;)
    if (b->data[body_start + i] == '\n') { last_nl = i; break; }
  size_t last_line_len = last_nl == body_len ? body_len + 2 : body_len - last_nl + 1;
  sb_puts(b, ",");
  if ((long long)(last_line_len + strlen(dtype_str) + 1) > (long long)linewidth)
    sb_repeat(b, ' ', prefix_len);
  else
    sb_puts(b, " ");
  sb_puts(b, dtype_str);
}

lx_status lx_array_format(lx_array *a, const lx_format_options *opts, char **out) {
  if (!a || !out) return lx_set_error(LX_ERR_ARGUMENT, "format: no array or no output");
  *out = NULL;
  if (lx_array_is_abstract(a)) {
    /* No values to print: JAX's name for a shape-and-dtype-only value. */
    char shape[LX_SHAPE_STR_MAX + 32];
    lx_array_short_repr(a, shape, sizeof shape);
    size_t n = strlen(shape) + 32;
    if (!(*out = malloc(n))) return lx_set_error(LX_ERR_MEMORY, "format: out of memory");
    snprintf(*out, n, "ShapedArray(%s)", shape);
    return LX_OK;
  }
  lx_format_options o;
  if (opts) o = *opts;
  else lx_format_options_default(&o);

  strbuf b = {0};
  size_t prefix_len = o.prefix ? strlen(o.prefix) : 0;
  if (o.prefix) sb_puts(&b, o.prefix);
  size_t body_start = b.len;
  /* NumPy narrows the wrap width by the suffix that follows the body: JAX
  ** passes ",", a bare ")" closes the prefix when the dtype is hidden. */
  if (o.linewidth < 0) o.linewidth = 0; /* nothing fits: one element a line */
  int line_width = o.prefix ? o.linewidth - 1 : o.linewidth;

  lx_status st = LX_OK;
  if (a->size == 0) {
    sb_puts(&b, "[]");
    if (o.prefix) {
      sb_puts(&b, ", shape=");
      append_shape_tuple(&b, a);
    }
  } else {
    st = append_body(&b, a, &o, prefix_len, line_width);
  }
  if (st == LX_OK && o.prefix) {
    if (o.show_dtype) append_dtype(&b, a, body_start, prefix_len, o.linewidth);
    else sb_puts(&b, ")");
  }
  if (st == LX_OK && !b.failed && !b.data) sb_reserve(&b, 0); /* "" stays valid */
  if (st == LX_OK && b.failed)
    st = lx_set_error(LX_ERR_MEMORY, "format: out of host memory for the text");
  if (st != LX_OK) { free(b.data); return st; }
  *out = b.data;
  return LX_OK;
}

void lx_array_short_repr(const lx_array *a, char *buf, size_t size) {
  if (!buf || size == 0) return;
  buf[0] = '\0';
  if (!a) return;
  size_t n = 0;
  int w = snprintf(buf, size, "%s[", lx_dtype_short_name(a->dtype));
  if (w < 0) return;
  n = (size_t)w;
  for (int i = 0; i < a->ndim && n < size; i++) {
    w = snprintf(buf + n, size - n, i ? ",%" PRId64 : "%" PRId64, a->shape[i]);
    if (w < 0) return;
    n += (size_t)w;
  }
  if (n < size) snprintf(buf + n, size - n, "]");
}
