/*
** test_json.c — the strict JSON reader (lx_json_parse): values, numbers
** (exact int64 limits, correctly rounded doubles), strings (escapes,
** surrogates, UTF-8), and every refusal with its line, column and byte,
** truncation at every byte, deep nesting, limits and large documents.
*/
#include "lunox_io.h"
#include "check.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses text (NUL-terminated here for convenience; the parser never sees
** the NUL since len excludes it). */
static lx_json_doc *parse_ok(const char *what, const char *text) {
  lx_json_doc *doc = NULL;
  lx_status st = lx_json_parse(text, strlen(text), "t.json", NULL, &doc);
  CHECK(st == LX_OK && doc, "%s: parse failed: %s", what, lx_last_error());
  return st == LX_OK ? doc : NULL;
}

/* Expects a refusal whose message is exactly `want` (with "t.json: "). */
static void parse_fails_n(const char *text, size_t len, const char *want) {
  lx_json_doc *doc = (lx_json_doc *)1;
  lx_status st = lx_json_parse(text, len, "t.json", NULL, &doc);
  CHECK(st != LX_OK && doc == NULL, "'%.*s' parsed but should fail with: %s", (int)len, text,
        want);
  if (st != LX_OK) {
    char full[1024];
    snprintf(full, sizeof full, "t.json: %s", want);
    CHECK(strcmp(lx_last_error(), full) == 0, "'%.*s'\n  want: %s\n  got:  %s", (int)len, text,
          full, lx_last_error());
  } else {
    lx_json_free(doc);
  }
}

static void parse_fails(const char *text, const char *want) {
  parse_fails_n(text, strlen(text), want);
}

/* Expects a refusal whose message contains `part`. */
static void fails_with(const char *text, size_t len, const char *part) {
  lx_json_doc *doc = NULL;
  lx_status st = lx_json_parse(text, len, NULL, NULL, &doc);
  CHECK(st != LX_OK && !doc, "'%.*s' parsed but should fail (%s)", (int)(len > 60 ? 60 : len),
        text, part);
  if (st != LX_OK)
    CHECK(strstr(lx_last_error(), part) != NULL, "'%.*s': message '%s' lacks '%s'",
          (int)(len > 60 ? 60 : len), text, lx_last_error(), part);
  lx_json_free(doc);
}

static const lx_json_value *root_of(lx_json_doc *doc) { return doc ? lx_json_root(doc) : NULL; }

static void test_values(void) {
  lx_json_doc *doc = parse_ok("values",
                              " {\"a\": 1, \"b\": [1.5, true, false, null], \"c\": \"\\u00e9\","
                              " \"d\": {}, \"e\": [], \"f\": \"\"}\r\n\t");
  const lx_json_value *r = root_of(doc);
  if (r) {
    CHECK(r->type == LX_JSON_OBJECT && r->u.object.count == 6, "root object of 6");
    CHECK(r->offset == 1, "root offset %zu", r->offset);
    const char *order[] = {"a", "b", "c", "d", "e", "f"};
    for (int i = 0; i < 6; i++)
      CHECK(strcmp(r->u.object.members[i].key, order[i]) == 0, "member %d in text order", i);
    const lx_json_value *a = lx_json_get(r, "a"), *b = lx_json_get(r, "b"),
                        *c = lx_json_get(r, "c"), *d = lx_json_get(r, "d"),
                        *e = lx_json_get(r, "e"), *f = lx_json_get(r, "f");
    CHECK(a && a->type == LX_JSON_INTEGER && a->u.integer == 1 && a->offset == 7, "a");
    CHECK(b && b->type == LX_JSON_ARRAY && b->u.array.count == 4, "b");
    if (b && b->type == LX_JSON_ARRAY && b->u.array.count == 4) {
      const lx_json_value *it = b->u.array.items;
      CHECK(it[0].type == LX_JSON_NUMBER && it[0].u.number == 1.5, "b[0]");
      CHECK(it[1].type == LX_JSON_TRUE && it[2].type == LX_JSON_FALSE &&
                it[3].type == LX_JSON_NULL, "b literals");
      CHECK(it[0].offset == 16 && it[3].offset == 34, "item offsets %zu %zu", it[0].offset,
            it[3].offset);
    }
    CHECK(c && c->type == LX_JSON_STRING && c->u.string.len == 2 &&
              strcmp(c->u.string.s, "\xc3\xa9") == 0, "c unescaped to UTF-8");
    CHECK(d && d->type == LX_JSON_OBJECT && d->u.object.count == 0, "d");
    CHECK(e && e->type == LX_JSON_ARRAY && e->u.array.count == 0, "e");
    CHECK(f && f->type == LX_JSON_STRING && f->u.string.len == 0 && f->u.string.s[0] == 0, "f");
    CHECK(lx_json_get(r, "zz") == NULL && lx_json_get(a, "a") == NULL &&
              lx_json_get(NULL, "a") == NULL, "lx_json_get misses");
  }
  lx_json_free(doc);

  /* Scalars at the top level. */
  const char *scalars[] = {"0", "-1", "true", "false", "null", "\"s\"", "  7  ", "1e2"};
  lx_json_type types[] = {LX_JSON_INTEGER, LX_JSON_INTEGER, LX_JSON_TRUE, LX_JSON_FALSE,
                          LX_JSON_NULL, LX_JSON_STRING, LX_JSON_INTEGER, LX_JSON_NUMBER};
  for (int i = 0; i < 8; i++) {
    doc = parse_ok(scalars[i], scalars[i]);
    CHECK(doc && root_of(doc)->type == types[i], "type of %s", scalars[i]);
    lx_json_free(doc);
  }
  lx_json_free(NULL);
  CHECK(lx_json_root(NULL) == NULL, "root of NULL");

  /* The text need not be NUL-terminated: a buffer cut after the value. */
  char buf[4] = {'[', '1', ']', 'x'};
  doc = NULL;
  CHECK(lx_json_parse(buf, 3, NULL, NULL, &doc) == LX_OK && doc, "unterminated buffer");
  lx_json_free(doc);
  /* Keys with NUL bytes are kept with their length; lx_json_get compares
  ** the whole key. */
  doc = parse_ok("nul key", "{\"a\\u0000b\": 1, \"a\": 2}");
  if (doc) {
    const lx_json_value *v = lx_json_get(root_of(doc), "a");
    CHECK(v && v->u.integer == 2, "lx_json_get skips \"a\\0b\"");
    CHECK(root_of(doc)->u.object.members[0].key_len == 3, "key length with NUL");
  }
  lx_json_free(doc);
}

static double number_of(const char *text, lx_json_type *type) {
  lx_json_doc *doc = parse_ok(text, text);
  double d = NAN;
  *type = LX_JSON_NULL;
  if (doc) {
    const lx_json_value *r = root_of(doc);
    *type = r->type;
    d = r->type == LX_JSON_NUMBER ? r->u.number : r->type == LX_JSON_INTEGER ? (double)r->u.integer : NAN;
  }
  lx_json_free(doc);
  return d;
}

static void integer_is(const char *text, int64_t want) {
  lx_json_doc *doc = parse_ok(text, text);
  if (!doc) return;
  const lx_json_value *r = root_of(doc);
  CHECK(r->type == LX_JSON_INTEGER && r->u.integer == want, "%s: integer %lld, got type %d",
        text, (long long)want, (int)r->type);
  lx_json_free(doc);
}

static void double_is(const char *text, double want) {
  lx_json_type type;
  double got = number_of(text, &type);
  CHECK(type == LX_JSON_NUMBER && memcmp(&got, &want, sizeof got) == 0,
        "%s: want %.17g, got %.17g (type %d)", text, want, got, (int)type);
}

static void test_numbers(void) {
  integer_is("0", 0);
  integer_is("-0", 0);
  integer_is("42", 42);
  integer_is("9223372036854775807", INT64_MAX);
  integer_is("-9223372036854775808", INT64_MIN);
  /* Past int64: a double (rounded). */
  double_is("9223372036854775808", 9223372036854775808.0);
  double_is("-9223372036854775809", -9223372036854775808.0);
  double_is("123456789012345678901234567890", 1.2345678901234568e29);
  double_is("1.0", 1.0);
  double_is("-0.0", -0.0);
  double_is("0.1", 0.1);
  double_is("1e-300", 1e-300);
  double_is("5e-324", 5e-324);
  double_is("2.2250738585072011e-308", 2.2250738585072011e-308);
  double_is("1.7976931348623157e308", 1.7976931348623157e308);
  double_is("1e308", 1e308);
  double_is("1E2", 100.0);
  double_is("1e+2", 100.0);
  double_is("12.5e-1", 1.25);
  /* Correct rounding where a naive conversion goes wrong. */
  double_is("0.1000000000000000055511151231257827021181583404541015625", 0.1);
  double_is("9007199254740993.0", 9007199254740992.0);
  double_is("9007199254740995.0", 9007199254740996.0);
  double_is("2.4703282292062328e-324", 5e-324);
  /* Underflow to zero is fine, huge exponents saturate without overflow. */
  double_is("1e-400", 0.0);
  double_is("0e999999999999999999999", 0.0);
  double_is("-0e-999999999999999999999", -0.0);
  double_is("0.000000000000000000000000000000000000000000000000001e51", 1.0);
  /* Many digits. */
  {
    size_t n = 100000;
    char *big = malloc(n + 9);
    if (big) {
      big[0] = '1';
      memset(big + 1, '0', n);
      memcpy(big + 1 + n, "e-100000", 8);
      lx_json_doc *doc = NULL;
      lx_status st = lx_json_parse(big, n + 9, NULL, NULL, &doc);
      CHECK(st == LX_OK && doc && root_of(doc)->type == LX_JSON_NUMBER &&
                root_of(doc)->u.number == 1.0, "1 followed by 100000 zeros e-100000: %s",
            st == LX_OK ? "" : lx_last_error());
      lx_json_free(doc);
      free(big);
    }
  }
  /* Locale-independent: a comma decimal point in LC_NUMERIC does not
  ** change how "1.5" reads (checked where such a locale is installed). */
  const char *locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
  for (int i = 0; i < 4; i++) {
    if (setlocale(LC_NUMERIC, locales[i])) {
      double_is("1.5", 1.5);
      double_is("-2.25e1", -22.5);
      setlocale(LC_NUMERIC, "C");
      break;
    }
  }

  parse_fails("1e400", "line 1, column 1 (byte 0): number 1e400 is too large for a double");
  parse_fails("[-1e999999999999]",
              "line 1, column 2 (byte 1): number -1e999999999999 is too large for a double");
  parse_fails("01", "line 1, column 1 (byte 0): leading zeros are not allowed in numbers");
  parse_fails("[-012]", "line 1, column 2 (byte 1): leading zeros are not allowed in numbers");
  parse_fails("00.5", "line 1, column 1 (byte 0): leading zeros are not allowed in numbers");
  parse_fails("1.", "line 1, column 3 (byte 2): expected a digit after the decimal point, found end of text");
  parse_fails("[1.]", "line 1, column 4 (byte 3): expected a digit after the decimal point, found ']'");
  parse_fails(".5", "line 1, column 1 (byte 0): a number may not start with '.' (write 0.5, not .5)");
  parse_fails("+1", "line 1, column 1 (byte 0): a number may not start with '+'");
  parse_fails("-", "line 1, column 2 (byte 1): expected a digit after '-', found end of text");
  parse_fails("- 1", "line 1, column 2 (byte 1): expected a digit after '-', found ' '");
  parse_fails("1e", "line 1, column 3 (byte 2): expected a digit in the exponent, found end of text");
  parse_fails("1e+", "line 1, column 4 (byte 3): expected a digit in the exponent, found end of text");
  parse_fails("1E-x", "line 1, column 4 (byte 3): expected a digit in the exponent, found 'x'");
  parse_fails("0x10", "line 1, column 2 (byte 1): unexpected 'x' after the JSON value (only whitespace may follow it)");
  parse_fails("1.5.2", "line 1, column 4 (byte 3): unexpected '.' after the JSON value (only whitespace may follow it)");
}

static void test_literals(void) {
  parse_fails("NaN", "line 1, column 1 (byte 0): 'NaN' is not JSON (JSON has no NaN or Infinity)");
  parse_fails("[Infinity]", "line 1, column 2 (byte 1): 'Infinity' is not JSON (JSON has no NaN or Infinity)");
  parse_fails("-Infinity", "line 1, column 1 (byte 0): '-Infinity' is not JSON (JSON has no NaN or Infinity)");
  parse_fails("[-nan]", "line 1, column 2 (byte 1): '-nan' is not JSON (JSON has no NaN or Infinity)");
  parse_fails("True", "line 1, column 1 (byte 0): invalid literal 'True' (expected true, false or null)");
  parse_fails("None", "line 1, column 1 (byte 0): invalid literal 'None' (expected true, false or null)");
  parse_fails("truex", "line 1, column 1 (byte 0): invalid literal 'truex' (expected true, false or null)");
  parse_fails("nul", "line 1, column 4 (byte 3): end of text inside the literal 'null'");
  parse_fails("[tru", "line 1, column 5 (byte 4): end of text inside the literal 'true'");
  parse_fails("[tru]", "line 1, column 2 (byte 1): invalid literal 'tru' (expected true, false or null)");
  parse_fails("undefined", "line 1, column 1 (byte 0): invalid literal 'undefined' (expected true, false or null)");
  parse_fails("'a'", "line 1, column 1 (byte 0): strings must be in double quotes, found '''");
}

static void test_strings(void) {
  lx_json_doc *doc = parse_ok("escapes", "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041\\u00e9\\u20AC\"");
  if (doc) {
    const lx_json_value *r = root_of(doc);
    const char want[] = "\" \\ / \b \f \n \r \t A\xc3\xa9\xe2\x82\xac";
    CHECK(r->u.string.len == sizeof want - 1 && memcmp(r->u.string.s, want, sizeof want) == 0,
          "escapes decoded");
  }
  lx_json_free(doc);
  /* \u0000 is a character: the string keeps its length. */
  doc = parse_ok("nul", "\"a\\u0000b\"");
  if (doc) {
    const lx_json_value *r = root_of(doc);
    CHECK(r->u.string.len == 3 && memcmp(r->u.string.s, "a\0b", 4) == 0, "\\u0000 kept");
  }
  lx_json_free(doc);
  /* Surrogate pairs combine; raw UTF-8 of every length passes through;
  ** DEL (0x7F) needs no escape. */
  doc = parse_ok("pair", "\"\\uD83D\\uDE00 \\udbff\\udfff \xf0\x9f\x98\x80 \xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf \x7f\"");
  if (doc) {
    const lx_json_value *r = root_of(doc);
    const char want[] = "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xf0\x9f\x98\x80 \xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf \x7f";
    CHECK(r->u.string.len == sizeof want - 1 && memcmp(r->u.string.s, want, sizeof want) == 0,
          "surrogates combined, UTF-8 kept");
  }
  lx_json_free(doc);

  parse_fails("\"abc", "line 1, column 5 (byte 4): end of text inside a string (the string starts at line 1, column 1)");
  parse_fails("[\"a\\", "line 1, column 5 (byte 4): end of text inside a string (the string starts at line 1, column 2)");
  parse_fails("\"a\\x\"", "line 1, column 3 (byte 2): invalid escape '\\' followed by 'x' in a string");
  parse_fails("\"\\u12\"", "line 1, column 2 (byte 1): invalid \\u escape: expected 4 hex digits after \\u");
  parse_fails("\"\\u12G4\"", "line 1, column 2 (byte 1): invalid \\u escape: expected 4 hex digits after \\u");
  parse_fails("\"\\u", "line 1, column 2 (byte 1): invalid \\u escape: expected 4 hex digits after \\u");
  parse_fails("\"\\ud800\"", "line 1, column 2 (byte 1): lone high surrogate \\uD800 (not followed by a \\u escape of a low surrogate)");
  parse_fails("\"\\ud800x\"", "line 1, column 2 (byte 1): lone high surrogate \\uD800 (not followed by a \\u escape of a low surrogate)");
  parse_fails("\"\\ud800\\n\"", "line 1, column 2 (byte 1): lone high surrogate \\uD800 (not followed by a \\u escape of a low surrogate)");
  parse_fails("\"\\udc00\"", "line 1, column 2 (byte 1): lone low surrogate \\uDC00 (not preceded by a high surrogate)");
  parse_fails("\"\\ud83d\\u0041\"", "line 1, column 2 (byte 1): high surrogate \\uD83D is followed by \\u0041, which is not a low surrogate");
  parse_fails("\"\\ud83d\\ud83d\"", "line 1, column 2 (byte 1): high surrogate \\uD83D is followed by \\uD83D, which is not a low surrogate");
  parse_fails("\"\\ud83d\\u00\"", "line 1, column 8 (byte 7): invalid \\u escape: expected 4 hex digits after \\u");
  parse_fails("\"a\nb\"", "line 1, column 3 (byte 2): control character 0x0A (newline) in a string (write it as an escape)");
  parse_fails("\"a\tb\"", "line 1, column 3 (byte 2): control character 0x09 (tab) in a string (write it as an escape)");
  parse_fails_n("\"a\0b\"", 5, "line 1, column 3 (byte 2): control character 0x00 (NUL) in a string (write it as an escape)");
  parse_fails("\"\x1f\"", "line 1, column 2 (byte 1): control character 0x1F in a string (write it as an escape)");
}

static void test_utf8(void) {
  struct { const char *text; const char *want; } cases[] = {
    {"\"\x80\"", "line 1, column 2 (byte 1): invalid UTF-8: unexpected continuation byte 0x80"},
    {"\"\xc0\xaf\"", "line 1, column 2 (byte 1): invalid UTF-8: overlong encoding (lead byte 0xC0)"},
    {"\"\xc1\xbf\"", "line 1, column 2 (byte 1): invalid UTF-8: overlong encoding (lead byte 0xC1)"},
    {"\"\xe0\x80\xaf\"", "line 1, column 2 (byte 1): invalid UTF-8: overlong encoding (bytes 0xE0 0x80)"},
    {"\"\xf0\x80\x80\xaf\"", "line 1, column 2 (byte 1): invalid UTF-8: overlong encoding (bytes 0xF0 0x80)"},
    {"\"\xed\xa0\x80\"", "line 1, column 2 (byte 1): invalid UTF-8: encoded UTF-16 surrogate (bytes 0xED 0xA0)"},
    {"\"\xed\xbf\xbf\"", "line 1, column 2 (byte 1): invalid UTF-8: encoded UTF-16 surrogate (bytes 0xED 0xBF)"},
    {"\"\xf4\x90\x80\x80\"", "line 1, column 2 (byte 1): invalid UTF-8: code point above U+10FFFF (bytes 0xF4 0x90)"},
    {"\"\xf5\x80\x80\x80\"", "line 1, column 2 (byte 1): invalid UTF-8: code point above U+10FFFF (lead byte 0xF5)"},
    {"\"\xff\"", "line 1, column 2 (byte 1): invalid UTF-8: byte 0xFF never appears in UTF-8"},
    {"\"\xfe\"", "line 1, column 2 (byte 1): invalid UTF-8: byte 0xFE never appears in UTF-8"},
    {"\"ab\xe2\x82\"", "line 1, column 4 (byte 3): invalid UTF-8: truncated 3-byte sequence (byte 0x22 where a continuation byte should be)"},
    {"\"\xc3(\"", "line 1, column 2 (byte 1): invalid UTF-8: truncated 2-byte sequence (byte 0x28 where a continuation byte should be)"},
    {"\"\xe2\x82", "line 1, column 2 (byte 1): invalid UTF-8: truncated 3-byte sequence at the end of the text"},
    /* Outside strings every non-ASCII byte is out of place. */
    {"\xc3\xa9", "line 1, column 1 (byte 0): expected a value, found byte 0xC3 (non-ASCII characters may only appear in strings)"},
    {"[1,\xe2\x80\x83 2]", "line 1, column 4 (byte 3): expected a value, found byte 0xE2 (non-ASCII characters may only appear in strings)"},
    {"\xef\xbb\xbf{}", "line 1, column 1 (byte 0): the text starts with a UTF-8 byte order mark, which JSON does not allow"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) parse_fails(cases[i].text, cases[i].want);
  /* In keys too. */
  parse_fails("{\"k\xff\": 1}", "line 1, column 4 (byte 3): invalid UTF-8: byte 0xFF never appears in UTF-8");
}

static void test_structure(void) {
  parse_fails("", "line 1, column 1 (byte 0): expected a value, found an empty text");
  parse_fails("   ", "line 1, column 4 (byte 3): expected a value, found end of text");
  parse_fails("1 2", "line 1, column 3 (byte 2): unexpected '2' after the JSON value (only whitespace may follow it)");
  parse_fails("{}x", "line 1, column 3 (byte 2): unexpected 'x' after the JSON value (only whitespace may follow it)");
  parse_fails("[]]", "line 1, column 3 (byte 2): unexpected ']' after the JSON value (only whitespace may follow it)");
  parse_fails_n("{}\0", 3, "line 1, column 3 (byte 2): unexpected control character 0x00 after the JSON value (only whitespace may follow it)");
  parse_fails("[1,]", "line 1, column 3 (byte 2): trailing comma before ']' (JSON does not allow one)");
  parse_fails("{\"a\":1,}", "line 1, column 7 (byte 6): trailing comma before '}' (JSON does not allow one)");
  parse_fails("[1 2]", "line 1, column 4 (byte 3): expected ',' or ']' after an array item, found '2'");
  parse_fails("[,1]", "line 1, column 2 (byte 1): expected a value, found ','");
  parse_fails("{1:2}", "line 1, column 2 (byte 1): expected a string key or '}' after '{', found '1'");
  parse_fails("{\"a\" 1}", "line 1, column 6 (byte 5): expected ':' after the object key \"a\", found '1'");
  parse_fails("{\"a\":1 \"b\":2}", "line 1, column 8 (byte 7): expected ',' or '}' after an object member, found '\"'");
  parse_fails("{\"a\":1,2}", "line 1, column 8 (byte 7): expected a string key after ',', found '2'");
  parse_fails("{\"a\":}", "line 1, column 6 (byte 5): expected a value, found '}'");
  parse_fails("[", "line 1, column 2 (byte 1): expected a value, found end of text");
  parse_fails("{", "line 1, column 2 (byte 1): expected a string key or '}' after '{', found end of text");
  parse_fails("[1", "line 1, column 3 (byte 2): expected ',' or ']' after an array item, found end of text");
  parse_fails("[1]\v", "line 1, column 4 (byte 3): unexpected control character 0x0B after the JSON value (only whitespace may follow it)");
  parse_fails("\f1", "line 1, column 1 (byte 0): expected a value, found control character 0x0C");
  /* Lines and columns: columns count bytes from 1 after the last \n. */
  parse_fails("{\n  \"a\": 1,\n  \"b\" 2\n}", "line 3, column 7 (byte 18): expected ':' after the object key \"b\", found '2'");
  parse_fails("[\r\n1,\r\n\xc3\xa9x]", "line 3, column 1 (byte 7): expected a value, found byte 0xC3 (non-ASCII characters may only appear in strings)");
  parse_fails("[\"\xc3\xa9\", x]", "line 1, column 8 (byte 7): invalid literal 'x' (expected true, false or null)");
  /* Without a name the message starts at "line". */
  lx_json_doc *doc = NULL;
  CHECK(lx_json_parse("[1,", 3, NULL, NULL, &doc) != LX_OK &&
            strcmp(lx_last_error(), "line 1, column 4 (byte 3): expected a value, found end of text") == 0,
        "no name: %s", lx_last_error());
  CHECK(lx_json_parse(NULL, 0, NULL, NULL, &doc) != LX_OK && !doc, "NULL empty text");
  CHECK(lx_json_parse("1", 1, NULL, NULL, NULL) == LX_ERR_ARGUMENT, "NULL out");
}

static void test_duplicates(void) {
  parse_fails("{\"a\": 1, \"a\": 2}", "line 1, column 10 (byte 9): duplicate key \"a\" in an object (first at line 1, column 2); keys must be unique");
  /* The first repeat in the text is named, whatever the sort order. */
  parse_fails("{\"z\":1,\"b\":1,\"z\":2,\"b\":3}", "line 1, column 14 (byte 13): duplicate key \"z\" in an object (first at line 1, column 2); keys must be unique");
  parse_fails("{\"b\":1,\"z\":1,\"z\":2,\"b\":3}", "line 1, column 14 (byte 13): duplicate key \"z\" in an object (first at line 1, column 8); keys must be unique");
  parse_fails("[{}, {\"x\": {\"k\": 1, \"k\": 2}}]", "line 1, column 21 (byte 20): duplicate key \"k\" in an object (first at line 1, column 13); keys must be unique");
  /* Escapes are compared decoded: "\u0061" is "a". */
  parse_fails("{\"a\":1,\"\\u0061\":2}", "line 1, column 8 (byte 7): duplicate key \"a\" in an object (first at line 1, column 2); keys must be unique");
  parse_fails("{\"\":1,\"\":2}", "line 1, column 7 (byte 6): duplicate key \"\" in an object (first at line 1, column 2); keys must be unique");
  parse_fails("{\"a\\u0000\":1,\"a\\u0000\":2}", "line 1, column 14 (byte 13): duplicate key \"a\\u0000\" in an object (first at line 1, column 2); keys must be unique");
  /* Keys that differ only by a NUL or a prefix are distinct; equal keys in
  ** different objects are fine. */
  lx_json_doc *doc = parse_ok("distinct", "{\"a\":1,\"a\\u0000\":2,\"ab\":3,\"b\":{\"a\":1},\"c\":{\"a\":2}}");
  lx_json_free(doc);

  /* A large object: 200000 members, then one repeat of a middle key.
  ** A quadratic check would take minutes here. */
  size_t n = 200000, cap = n * 24 + 64, len = 0;
  char *big = malloc(cap);
  if (!big) return;
  big[len++] = '{';
  for (size_t i = 0; i < n; i++) len += (size_t)snprintf(big + len, cap - len, "%s\"k%zu\":%zu", i ? "," : "", i * 7919 % n, i);
  size_t tail = len;
  len += (size_t)snprintf(big + len, cap - len, "}");
  doc = NULL;
  CHECK(lx_json_parse(big, len, NULL, NULL, &doc) == LX_OK && root_of(doc)->u.object.count == n,
        "200000 distinct keys: %s", lx_last_error());
  lx_json_free(doc);
  len = tail;
  len += (size_t)snprintf(big + len, cap - len, ",\"k%zu\":1}", (size_t)(n / 2 * 7919 % n));
  fails_with(big, len, "duplicate key \"k");
  free(big);
}

static void test_depth(void) {
  /* 512 levels are fine, 513 are not (and 100000 are refused at once,
  ** without recursion). */
  size_t n = 100000;
  char *t = malloc(2 * n);
  if (!t) return;
  memset(t, '[', n);
  memset(t + n, ']', n);
  lx_json_doc *doc = NULL;
  lx_status st = lx_json_parse(t + n - 512, 1024, NULL, NULL, &doc);
  CHECK(st == LX_OK, "512 levels: %s", lx_last_error());
  lx_json_free(doc);
  parse_fails_n(t, n, "line 1, column 513 (byte 512): nesting deeper than 512 levels of arrays and objects");
  st = lx_json_parse(t + n - 513, 1026, NULL, NULL, &doc);
  CHECK(st != LX_OK && strstr(lx_last_error(), "(byte 512): nesting deeper than 512"), "513 levels: %s",
        lx_last_error());
  /* Objects count as levels too. */
  const char *objs = "{\"a\":{\"a\":{\"a\":[1]}}}";
  lx_json_limits lim = {.max_depth = 3};
  CHECK(lx_json_parse(objs, strlen(objs), NULL, &lim, &doc) != LX_OK &&
            strstr(lx_last_error(), "(byte 15): nesting deeper than 3 levels"), "max_depth 3: %s",
        lx_last_error());
  lim.max_depth = 4;
  CHECK(lx_json_parse(objs, strlen(objs), NULL, &lim, &doc) == LX_OK, "max_depth 4");
  lx_json_free(doc);
  /* A caller may allow more than the default: the parser has no recursion. */
  lim.max_depth = (int)n;
  CHECK(lx_json_parse(t, 2 * n, NULL, &lim, &doc) == LX_OK, "100000 levels when allowed: %s",
        lx_last_error());
  lx_json_free(doc);
  free(t);
}

static void test_limits(void) {
  lx_json_limits lim = {.max_length = 4};
  lx_json_doc *doc = NULL;
  CHECK(lx_json_parse("[1,2]", 5, "c.json", &lim, &doc) != LX_OK && !doc &&
            strcmp(lx_last_error(), "c.json: the text is 5 bytes long, over the limit of 4") == 0,
        "max_length: %s", lx_last_error());
  CHECK(lx_json_parse("[12]", 4, "c.json", &lim, &doc) == LX_OK, "at max_length");
  lx_json_free(doc);
  /* Zero fields mean the defaults. */
  lx_json_limits zero = {0};
  CHECK(lx_json_parse("[[1]]", 5, NULL, &zero, &doc) == LX_OK, "zero limits");
  lx_json_free(doc);
}

/* Every proper prefix of these documents is refused (never a crash, never
** a read past the prefix: each prefix is copied to its own allocation so
** ASan sees an overread). */
static void test_truncation(void) {
  const char *docs[] = {
    "{\"name\": \"lunox\", \"layers\": [1, 2.5e-3, -7, true, false, null], "
    "\"nested\": {\"a\": {\"b\": []}, \"s\": \"\\u00e9\\ud83d\\ude00\\n\\\"\"}, \"e\": {}}",
    "[\"\xf0\x9f\x98\x80\xc3\xa9\", -0.0, 1E+2, {\"k\": \"v\"}]",
  };
  for (size_t d = 0; d < 2; d++) {
    size_t len = strlen(docs[d]);
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
      char *copy = malloc(cut ? cut : 1);
      if (!copy) return;
      memcpy(copy, docs[d], cut);
      lx_json_doc *doc = NULL;
      lx_status st = lx_json_parse(copy, cut, "t.json", NULL, &doc);
      if (st == LX_OK || doc || !strstr(lx_last_error(), "t.json: line 1, column ")) {
        bad++;
        printf("prefix of %zu bytes: status %d, %s\n", cut, (int)st, lx_last_error());
      }
      lx_json_free(doc);
      free(copy);
    }
    CHECK(bad == 0, "doc %zu: %d prefixes misbehaved", d, bad);
    lx_json_doc *doc = parse_ok("whole document", docs[d]);
    lx_json_free(doc);
  }
}

/* A few MB of nested content, to exercise the arena and the scratch stacks. */
static void test_large(void) {
  size_t items = 300000, cap = items * 40 + 64, len = 0;
  char *t = malloc(cap);
  if (!t) return;
  t[len++] = '[';
  for (size_t i = 0; i < items; i++)
    len += (size_t)snprintf(t + len, cap - len, "%s{\"i\":%zu,\"x\":[%zu.5,\"s%zu\"]}", i ? "," : "",
                            i, i, i);
  t[len++] = ']';
  lx_json_doc *doc = NULL;
  lx_status st = lx_json_parse(t, len, NULL, NULL, &doc);
  CHECK(st == LX_OK, "large document (%zu bytes): %s", len, lx_last_error());
  if (st == LX_OK) {
    const lx_json_value *r = root_of(doc);
    CHECK(r->u.array.count == items, "item count");
    const lx_json_value *last = &r->u.array.items[items - 1];
    const lx_json_value *x = lx_json_get(last, "x");
    CHECK(lx_json_get(last, "i")->u.integer == (int64_t)(items - 1) && x &&
              x->u.array.items[0].u.number == (double)(items - 1) + 0.5 &&
              strcmp(x->u.array.items[1].u.string.s, "s299999") == 0,
          "last item intact");
  }
  lx_json_free(doc);
  /* One long string with many escapes. */
  size_t n = 1 << 20;
  char *s = malloc(n * 6 + 2);
  if (s) {
    s[0] = '"';
    for (size_t i = 0; i < n; i++) memcpy(s + 1 + 6 * i, "\\u00e9", 6);
    s[1 + 6 * n] = '"';
    st = lx_json_parse(s, n * 6 + 2, NULL, NULL, &doc);
    CHECK(st == LX_OK && root_of(doc)->u.string.len == 2 * n, "long escaped string");
    lx_json_free(doc);
    free(s);
  }
  free(t);
}

int main(void) {
  test_values();
  test_numbers();
  test_literals();
  test_strings();
  test_utf8();
  test_structure();
  test_duplicates();
  test_depth();
  test_limits();
  test_truncation();
  test_large();
  return check_summary();
}
