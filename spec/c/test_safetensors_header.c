/*
** test_safetensors_header.c — lx_safetensors_parse on hand-built files
** (8-byte length + JSON + data): every validation rule of the reference
** implementation with its message and file offset, the "need more bytes"
** answer, truncation at every byte, and the dtype helpers.
*/
#include "lunox_io.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file: the length of `json` (json_len bytes) as 8 little-endian bytes,
** the JSON, then data_len bytes of data. */
static uint8_t *make_file_n(const char *json, size_t json_len, size_t data_len, size_t *len) {
  *len = 8 + json_len + data_len;
  uint8_t *f = malloc(*len ? *len : 1);
  if (!f) return NULL;
  for (int i = 0; i < 8; i++) f[i] = (uint8_t)((uint64_t)json_len >> (8 * i));
  memcpy(f + 8, json, json_len);
  for (size_t i = 0; i < data_len; i++) f[8 + json_len + i] = (uint8_t)i;
  return f;
}

static uint8_t *make_file(const char *json, size_t data_len, size_t *len) {
  return make_file_n(json, strlen(json), data_len, len);
}

/* Parses the whole file (all of it available). */
static lx_status parse_all(const uint8_t *f, size_t len, lx_st_header **h) {
  size_t need = 12345;
  lx_status st = lx_safetensors_parse(f, len, len, "m.st", h, &need);
  if (st == LX_OK && *h) CHECK(need == 0, "need is 0 after a full parse, got %zu", need);
  return st;
}

static lx_st_header *accepts(const char *json, size_t data_len) {
  size_t len;
  uint8_t *f = make_file(json, data_len, &len);
  if (!f) return NULL;
  lx_st_header *h = NULL;
  lx_status st = parse_all(f, len, &h);
  CHECK(st == LX_OK && h, "refused %s + %zu data bytes: %s", json, data_len, lx_last_error());
  free(f); /* the header owns copies of everything it points to */
  return st == LX_OK ? h : NULL;
}

/* Expects the exact message (the "safetensors: " prefix and the
** " (m.st, byte N)" suffix are part of `want`). */
static void refuses_n(const char *json, size_t json_len, size_t data_len, const char *want) {
  size_t len;
  uint8_t *f = make_file_n(json, json_len, data_len, &len);
  if (!f) return;
  lx_st_header *h = (lx_st_header *)1;
  lx_status st = parse_all(f, len, &h);
  CHECK(st != LX_OK && h == NULL, "accepted %s + %zu data bytes", json, data_len);
  if (st != LX_OK)
    CHECK(strcmp(lx_last_error(), want) == 0, "%s\n  want: %s\n  got:  %s", json, want,
          lx_last_error());
  else
    lx_safetensors_free(h);
  free(f);
}

static void refuses(const char *json, size_t data_len, const char *want) {
  refuses_n(json, strlen(json), data_len, want);
}

/* Expects a refusal whose message contains `part`. */
static void refuses_with(const char *json, size_t data_len, const char *part) {
  size_t len;
  uint8_t *f = make_file(json, data_len, &len);
  if (!f) return;
  lx_st_header *h = NULL;
  lx_status st = parse_all(f, len, &h);
  CHECK(st != LX_OK && !h, "accepted %s + %zu data bytes (want '%s')", json, data_len, part);
  if (st != LX_OK)
    CHECK(strstr(lx_last_error(), part) != NULL, "%s: message '%s' lacks '%s'", json,
          lx_last_error(), part);
  lx_safetensors_free(h);
  free(f);
}

static void test_valid(void) {
  /* Text order differs from data order; metadata first. */
  const char *json =
      "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"a\\u0000b\"},"
      "\"layers.1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
      "\"layers.0.bias\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
      "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[32,40]}}  ";
  lx_st_header *h = accepts(json, 40);
  if (!h) return;
  CHECK(h->header_len == strlen(json) && h->data_offset == 8 + strlen(json), "lengths");
  CHECK(h->count == 3, "3 tensors, got %zu", h->count);
  if (h->count == 3) {
    lx_st_tensor *t = h->tensors;
    CHECK(strcmp(t[0].name, "layers.0.bias") == 0 && t[0].name_len == 13 &&
              t[0].dtype == LX_ST_BF16 && t[0].ndim == 1 && t[0].shape[0] == 4 &&
              t[0].begin == 0 && t[0].end == 8, "tensor 0 by begin: %s", t[0].name);
    CHECK(strcmp(t[1].name, "layers.1.weight") == 0 && t[1].dtype == LX_ST_F32 &&
              t[1].ndim == 2 && t[1].shape[0] == 2 && t[1].shape[1] == 3 && t[1].begin == 8 &&
              t[1].end == 32, "tensor 1");
    CHECK(strcmp(t[2].name, "step") == 0 && t[2].ndim == 0 && t[2].dtype == LX_ST_I64 &&
              t[2].begin == 32 && t[2].end == 40, "scalar tensor");
  }
  CHECK(h->meta_count == 2, "2 metadata entries");
  if (h->meta_count == 2) {
    CHECK(strcmp(h->meta[0].key, "format") == 0 && strcmp(h->meta[0].value, "pt") == 0 &&
              h->meta[0].key_len == 6 && h->meta[0].value_len == 2, "meta 0 in text order");
    CHECK(h->meta[1].value_len == 3 && memcmp(h->meta[1].value, "a\0b", 4) == 0,
          "meta values carry NUL bytes with their length");
  }
  lx_safetensors_free(h);
  lx_safetensors_free(NULL);

  /* The empty file of no tensors; leading and trailing whitespace (writers
  ** pad the header with spaces for 8-byte alignment). */
  h = accepts("{}", 0);
  CHECK(h && h->count == 0 && h->meta_count == 0, "empty header");
  lx_safetensors_free(h);
  h = accepts(" \n{\"__metadata__\":{}}      ", 0);
  CHECK(h && h->count == 0 && h->meta_count == 0, "padded header, empty metadata");
  lx_safetensors_free(h);

  /* Zero-size tensors anywhere the layout rule allows, two at one offset. */
  h = accepts("{\"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
              "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
              "\"z3\":{\"dtype\":\"F64\",\"shape\":[0,5],\"data_offsets\":[3,3]},"
              "\"z2\":{\"dtype\":\"F64\",\"shape\":[5,0],\"data_offsets\":[3,3]},"
              "\"b\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[3,5]},"
              "\"z4\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[5,5]}}", 5);
  if (h) {
    const char *order[] = {"z1", "a", "z2", "z3", "b", "z4"};
    CHECK(h->count == 6, "6 tensors");
    for (size_t i = 0; i < h->count && i < 6; i++)
      CHECK(strcmp(h->tensors[i].name, order[i]) == 0, "order %zu: %s", i, h->tensors[i].name);
  }
  lx_safetensors_free(h);
  /* A zero dimension makes the size 0, when the others fit. */
  h = accepts("{\"z\":{\"dtype\":\"F64\",\"shape\":[1048576,1048576,0],"
              "\"data_offsets\":[0,0]}}", 0);
  lx_safetensors_free(h);
  /* 32 dimensions are the most lunox arrays have. */
  char dims[256] = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1";
  for (int i = 1; i < LX_MAX_DIMS; i++) strcat(dims, ",1");
  strcat(dims, "],\"data_offsets\":[0,1]}}");
  h = accepts(dims, 1);
  CHECK(h && h->tensors[0].ndim == LX_MAX_DIMS, "32 dims");
  lx_safetensors_free(h);
  /* Every dtype with its size. */
  static const char *names[] = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                                "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};
  static const size_t sizes[] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};
  for (int d = 0; d < LX_ST_DTYPE_COUNT; d++) {
    char j[160];
    snprintf(j, sizeof j, "{\"x\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[0,%zu]}}",
             names[d], 3 * sizes[d]);
    h = accepts(j, 3 * sizes[d]);
    CHECK(h && h->tensors[0].dtype == (lx_st_dtype)d, "dtype %s", names[d]);
    lx_safetensors_free(h);
  }
}

static void test_dtypes(void) {
  static const char *names[] = {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                                "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};
  static const size_t sizes[] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};
  for (int d = 0; d < LX_ST_DTYPE_COUNT; d++) {
    CHECK(strcmp(lx_st_dtype_name((lx_st_dtype)d), names[d]) == 0, "name %d", d);
    CHECK(lx_st_dtype_size((lx_st_dtype)d) == sizes[d], "size of %s", names[d]);
  }
  CHECK(lx_st_dtype_size(LX_ST_DTYPE_COUNT) == 0 && lx_st_dtype_name(LX_ST_DTYPE_COUNT) != NULL,
        "out of range dtype");
  static const struct { lx_dtype lx; lx_st_dtype st; } pairs[] = {
    {LX_FLOAT32, LX_ST_F32}, {LX_FLOAT64, LX_ST_F64}, {LX_FLOAT16, LX_ST_F16},
    {LX_BFLOAT16, LX_ST_BF16}, {LX_INT32, LX_ST_I32}, {LX_INT64, LX_ST_I64},
    {LX_UINT8, LX_ST_U8}, {LX_UINT32, LX_ST_U32}, {LX_BOOL, LX_ST_BOOL},
    {LX_UINT16, LX_ST_U16}, {LX_UINT64, LX_ST_U64},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
    lx_dtype back = LX_DTYPE_COUNT;
    CHECK(lx_st_dtype_from_lx(pairs[i].lx) == pairs[i].st, "from_lx %s", lx_dtype_name(pairs[i].lx));
    CHECK(lx_st_dtype_to_lx(pairs[i].st, &back) && back == pairs[i].lx, "to_lx %s",
          names[pairs[i].st]);
    CHECK(lx_st_dtype_size(pairs[i].st) == lx_dtype_size(pairs[i].lx), "sizes agree for %s",
          names[pairs[i].st]);
  }
  lx_dtype unused;
  const lx_st_dtype missing[] = {LX_ST_I8, LX_ST_F8_E5M2, LX_ST_F8_E4M3, LX_ST_I16};
  for (size_t i = 0; i < sizeof missing / sizeof *missing; i++)
    CHECK(!lx_st_dtype_to_lx(missing[i], &unused), "%s has no lunox dtype", names[missing[i]]);
  CHECK(lx_st_dtype_from_lx(LX_DTYPE_COUNT) == LX_ST_DTYPE_COUNT, "from_lx out of range");
}

static void test_tensor_rules(void) {
  /* dtype */
  refuses("{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16,
          "safetensors: tensor 'w' has unknown dtype 'F128' (expected one of BOOL, U8, I8, "
          "F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64) (m.st, byte 22)");
  refuses_with("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "unknown dtype 'f32'");
  refuses_with("{\"w\":{\"dtype\":\"F32\\u0000\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "unknown dtype 'F32\\x00'");
  refuses("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
          "safetensors: tensor 'w': \"dtype\" must be a string, found a number (m.st, byte 22)");

  /* shape */
  refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}", 12,
          "safetensors: tensor 'w': \"shape\" must be a list of integers, found a number "
          "(m.st, byte 36)");
  refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,24]}}", 24,
          "safetensors: tensor 'w': dimension 2 of \"shape\" is -3, but it must be a "
          "non-negative integer (m.st, byte 39)");
  refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0,3],\"data_offsets\":[0,24]}}", 24,
          "safetensors: tensor 'w': dimension 1 of \"shape\" is 2.0, but it must be an integer "
          "(m.st, byte 37)");
  refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
          "safetensors: tensor 'w': dimension 1 of \"shape\" is 99999999999999999999, too large "
          "for a 64-bit integer (m.st, byte 37)");
  refuses_with("{\"w\":{\"dtype\":\"F32\",\"shape\":[1e3],\"data_offsets\":[0,4000]}}", 4000,
               "dimension 1 of \"shape\" is 1e3, but it must be an integer");
  refuses_with("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
               "dimension 1 of \"shape\" must be a non-negative integer, found a string");
  refuses_with("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,8]}}", 8,
               "found null");
  char dims[256] = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1";
  for (int i = 0; i < LX_MAX_DIMS; i++) strcat(dims, ",1");
  strcat(dims, "],\"data_offsets\":[0,1]}}");
  refuses(dims, 1, "safetensors: tensor 't' has 33 dimensions in \"shape\"; at most 32 are "
                   "supported (m.st, byte 35)");

  /* data_offsets */
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":{}}}", 2,
          "safetensors: tensor 'w': \"data_offsets\" must be a list of two integers [begin, "
          "end], found an object (m.st, byte 54)");
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,1,2]}}", 2,
          "safetensors: tensor 'w': \"data_offsets\" must be a list of two integers [begin, "
          "end], found a list of 3 (m.st, byte 54)");
  refuses_with("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2]}}", 2, "found a list of 1");
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[-1,1]}}", 2,
          "safetensors: tensor 'w': begin of \"data_offsets\" is -1, but it must be a "
          "non-negative integer (m.st, byte 55)");
  refuses_with("{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2.5]}}", 2,
               "end of \"data_offsets\" is 2.5, but it must be an integer");
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,2]}}", 4,
          "safetensors: tensor 'w': \"data_offsets\" [4, 2] begins after it ends (m.st, byte 54)");

  /* byte counts */
  refuses("{\"layers.1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20,
          "safetensors: tensor 'layers.1.weight' has 20 bytes in data_offsets [0, 20] but shape "
          "[2,3] of F32 needs 24 (m.st, byte 71)");
  refuses_with("{\"w\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
               "has 4 bytes in data_offsets [0, 4] but shape [] of BF16 needs 2");
  /* 2^62 * 4 bytes wraps to 0: must not pass as a zero-size tensor. */
  refuses("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", 0,
          "safetensors: tensor 'w': shape [4611686018427387904] of F32 is too large: its byte "
          "size does not fit in 63 bits (m.st, byte 36)");
  refuses_with("{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
               "does not fit in 63 bits");
  /* ... even beside a zero dimension, as in the reference implementation. */
  refuses_with("{\"z\":{\"dtype\":\"F64\",\"shape\":[9223372036854775807,9223372036854775807,0],"
               "\"data_offsets\":[0,0]}}", 0, "does not fit in 63 bits");

  /* keys of a tensor */
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":1}}", 1,
          "safetensors: tensor 'w' has an unknown key 'extra' (a tensor has exactly \"dtype\", "
          "\"shape\" and \"data_offsets\") (m.st, byte 68)");
  refuses("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1,
          "safetensors: tensor 'w' has no \"shape\" (m.st, byte 13)");
  refuses_with("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor 'w' has no \"dtype\"");
  refuses_with("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "tensor 'w' has no \"data_offsets\"");
  refuses("{\"w\":[1]}", 0,
          "safetensors: tensor 'w' must be an object {\"dtype\", \"shape\", \"data_offsets\"}, "
          "found a list (m.st, byte 13)");
  refuses_with("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "duplicate key \"dtype\"");

  /* names */
  refuses("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
          "safetensors: tensor name 'a\\x00b' contains a NUL byte (m.st, byte 20)");
  refuses("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
          "\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
          "safetensors: invalid JSON in the header at line 1, column 54: duplicate key \"w\" in "
          "an object (first at line 1, column 2); keys must be unique (m.st, byte 61)");
  /* Long and odd names are shown escaped and cut. */
  char longname[600] = "{\"";
  for (int i = 0; i < 300; i++) strcat(longname, "n");
  strcat(longname, "'\\n\":[]}");
  refuses_with(longname, 0, "tensor 'nnnnnnnn");
}

static void test_metadata(void) {
  refuses("{\"__metadata__\":[\"a\"]}", 0,
          "safetensors: \"__metadata__\" must be an object of strings, found a list (no tensor "
          "may be named __metadata__) (m.st, byte 24)");
  refuses("{\"__metadata__\":{\"a\":\"x\",\"epochs\":3}}", 0,
          "safetensors: \"__metadata__\" must map strings to strings, but 'epochs' maps to a "
          "number (no tensor may be named __metadata__) (m.st, byte 42)");
  refuses_with("{\"__metadata__\":{\"a\":null}}", 0, "'a' maps to null");
  refuses_with("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, "'a' maps to an object");
  /* A tensor named __metadata__ is not allowed. */
  refuses_with("{\"__metadata__\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
               "'shape' maps to a list");
  refuses_with("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key \"__metadata__\"");
}

static void test_layout(void) {
  const char *t_a = "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}";
  char j[512];
  /* first tensor not at 0 */
  refuses("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6,
          "safetensors: the first tensor in the data section, 'a', begins at data byte 2 instead "
          "of 0 (a gap of 2 bytes; tensors must cover the data section contiguously) "
          "(m.st, byte 54)");
  /* gap */
  snprintf(j, sizeof j, "{%s,\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}", t_a);
  refuses(j, 8,
          "safetensors: gap of 2 bytes in the data section between tensor 'a' (data bytes "
          "[0, 4)) and tensor 'b' ([6, 8)); tensors must be contiguous (m.st, byte 106)");
  /* overlap */
  snprintf(j, sizeof j, "{\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]},%s}", t_a);
  refuses(j, 6,
          "safetensors: tensor 'b' (data bytes [2, 6)) overlaps tensor 'a' ([0, 4)) "
          "(m.st, byte 54)");
  /* a zero-size tensor inside another overlaps it */
  snprintf(j, sizeof j, "{%s,\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}", t_a);
  refuses_with(j, 4, "tensor 'z' (data bytes [2, 2)) overlaps tensor 'a' ([0, 4))");
  /* same range twice */
  snprintf(j, sizeof j, "{%s,\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", t_a);
  refuses_with(j, 4, "tensor 'b' (data bytes [0, 4)) overlaps tensor 'a' ([0, 4))");
  /* trailing bytes */
  snprintf(j, sizeof j, "{%s}", t_a);
  char want[512];
  snprintf(want, sizeof want,
           "safetensors: 3 trailing bytes after the last tensor 'a': the data section has 7 "
           "bytes but the tensors end at data byte 4 (m.st, byte %zu)",
           8 + strlen(j) + 4);
  refuses(j, 7, want);
  snprintf(want, sizeof want,
           "safetensors: the header lists no tensors but the data section has 5 bytes (trailing "
           "bytes after the header) (m.st, byte 10)");
  refuses("{}", 5, want);
  /* data too short */
  refuses(j, 3,
          "safetensors: tensor 'a' ends at data byte 4 but the data section has only 3 bytes (is "
          "the file truncated?) (m.st, byte 54)");
}

static void test_header_bounds(void) {
  uint8_t f[64] = {0};
  lx_st_header *h = (lx_st_header *)1;
  size_t need = 99;
  /* shorter than 8 bytes */
  CHECK(lx_safetensors_parse(f, 5, 5, "m.st", &h, &need) != LX_OK && !h &&
            strcmp(lx_last_error(), "safetensors: the file has 5 bytes, fewer than the 8 of the "
                                    "header length (not a safetensors file, or truncated) (m.st, "
                                    "byte 0)") == 0,
        "5-byte file: %s", lx_last_error());
  CHECK(lx_safetensors_parse(NULL, 0, 0, NULL, &h, &need) != LX_OK && !h &&
            strstr(lx_last_error(), "the file has 0 bytes") &&
            strstr(lx_last_error(), "(byte 0)"),
        "empty file, no name: %s", lx_last_error());
  /* N over the limit (checked before anything else is read or allocated) */
  uint64_t big = (uint64_t)LX_SAFETENSORS_HEADER_MAX + 1;
  for (int i = 0; i < 8; i++) f[i] = (uint8_t)(big >> (8 * i));
  CHECK(lx_safetensors_parse(f, 8, UINT64_MAX, "m.st", &h, &need) != LX_OK && !h &&
            strcmp(lx_last_error(), "safetensors: the header length 100000001 is over the limit "
                                    "of 100000000 bytes (not a safetensors file?) (m.st, byte 0)") == 0,
        "N over the limit: %s", lx_last_error());
  memset(f, 0xff, 8);
  CHECK(lx_safetensors_parse(f, 8, 100, "m.st", &h, &need) != LX_OK &&
            strstr(lx_last_error(), "header length 18446744073709551615 is over the limit"),
        "N = 2^64-1: %s", lx_last_error());
  /* N past the end of the file */
  memset(f, 0, 8);
  f[0] = 50;
  CHECK(lx_safetensors_parse(f, 40, 40, "m.st", &h, &need) != LX_OK &&
            strcmp(lx_last_error(), "safetensors: the header length 50 runs past the end of the "
                                    "file: 8 + 50 bytes needed, the file has 40 (m.st, byte 0)") == 0,
        "N past the end: %s", lx_last_error());
  /* need: the header is not all in memory yet */
  need = 0;
  h = (lx_st_header *)1;
  CHECK(lx_safetensors_parse(f, 8, 1000, "m.st", &h, &need) == LX_OK && !h && need == 58,
        "need 8 + N: %zu", need);
  need = 0;
  CHECK(lx_safetensors_parse(f, 57, 1000, "m.st", &h, &need) == LX_OK && !h && need == 58,
        "one byte short: need %zu", need);
  need = 0;
  CHECK(lx_safetensors_parse(f, 3, 1000, "m.st", &h, &need) == LX_OK && !h && need == 8,
        "fewer than 8 available: need %zu", need);
  CHECK(lx_safetensors_parse(f, 9, 8, "m.st", &h, &need) == LX_ERR_ARGUMENT, "avail > file_len");
  CHECK(lx_safetensors_parse(f, 8, 8, "m.st", NULL, &need) == LX_ERR_ARGUMENT, "NULL out");

  /* What the header must look like. */
  refuses("[]", 0, "safetensors: the header must be a JSON object, but it starts with '[' (not a "
                   "safetensors file?) (m.st, byte 8)");
  refuses("  \"x\"", 0, "safetensors: the header must be a JSON object, but it starts with '\"' "
                        "(not a safetensors file?) (m.st, byte 10)");
  refuses_n("\x89PNG", 4, 0, "safetensors: the header must be a JSON object, but it starts with "
                             "byte 0x89 (not a safetensors file?) (m.st, byte 8)");
  refuses("", 0, "safetensors: the header is empty (expected a JSON object) (m.st, byte 8)");
  refuses("    ", 0, "safetensors: the header is blank (expected a JSON object) (m.st, byte 12)");
  refuses("{\"a\":1,}", 0, "safetensors: invalid JSON in the header at line 1, column 7: trailing "
                           "comma before '}' (JSON does not allow one) (m.st, byte 14)");
  refuses("{}x", 0, "safetensors: invalid JSON in the header at line 1, column 3: unexpected 'x' "
                    "after the JSON value (only whitespace may follow it) (m.st, byte 10)");
  refuses_n("{}\0\0\0\0\0\0", 8, 0, "safetensors: invalid JSON in the header at line 1, column 3: "
                                    "unexpected control character 0x00 after the JSON value (only "
                                    "whitespace may follow it) (m.st, byte 10)");
  refuses_with("{\"\xff\":{}}", 0, "invalid UTF-8: byte 0xFF never appears in UTF-8 (m.st, byte 10)");
  refuses_with("{\"a\":1e999}", 0, "is too large for a double");
  refuses_with("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1,
               "expected ',' or '}' after an object member, found end of text (m.st, byte 60)");
  /* Without a name the suffix is just the byte. */
  size_t len;
  uint8_t *file = make_file("[]", 0, &len);
  if (file) {
    CHECK(lx_safetensors_parse(file, len, len, NULL, &h, &need) != LX_OK &&
              strstr(lx_last_error(), "(not a safetensors file?) (byte 8)"),
          "no name: %s", lx_last_error());
    free(file);
  }
}

/* Cut a valid file at every byte: as a whole (short) file, each cut is an
** error; as a prefix of the full file, each is "need more" until the
** header is in, then the full header parses. Each prefix lives in its own
** allocation so that ASan catches a read past it. */
static void test_truncation(void) {
  const char *json =
      "{\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
      "\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,8]}}    ";
  size_t len;
  uint8_t *full = make_file(json, 8, &len);
  if (!full) return;
  size_t hdr = 8 + strlen(json);
  int bad = 0;
  for (size_t cut = 0; cut <= len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    if (!copy) break;
    memcpy(copy, full, cut);
    lx_st_header *h = NULL;
    size_t need = 0;
    lx_status st = lx_safetensors_parse(copy, cut, cut, "cut.st", &h, &need);
    bool ok_whole = cut == len ? (st == LX_OK && h && h->count == 3)
                               : (st != LX_OK && !h && strstr(lx_last_error(), "cut.st, byte "));
    if (!ok_whole) {
      bad++;
      printf("whole file of %zu bytes: status %d: %s\n", cut, (int)st, lx_last_error());
    }
    lx_safetensors_free(h);
    h = NULL;
    need = 0;
    st = lx_safetensors_parse(copy, cut, len, "cut.st", &h, &need);
    bool ok_prefix = cut < 8     ? (st == LX_OK && !h && need == 8)
                     : cut < hdr ? (st == LX_OK && !h && need == hdr)
                                 : (st == LX_OK && h && h->count == 3 && need == 0);
    if (!ok_prefix) {
      bad++;
      printf("prefix of %zu bytes: status %d, need %zu: %s\n", cut, (int)st, need, lx_last_error());
    }
    lx_safetensors_free(h);
    free(copy);
  }
  CHECK(bad == 0, "%d truncations misbehaved", bad);
  /* Every proper prefix of the header JSON as the whole header (N adjusted)
  ** is refused with a message, never a crash. */
  bad = 0;
  for (size_t cut = 0; cut < strlen(json) - 4; cut++) {
    size_t flen;
    uint8_t *f = make_file_n(json, cut, 8, &flen);
    if (!f) break;
    lx_st_header *h = NULL;
    lx_status st = parse_all(f, flen, &h);
    if (st == LX_OK || h || !strstr(lx_last_error(), "safetensors: ")) bad++;
    lx_safetensors_free(h);
    free(f);
  }
  CHECK(bad == 0, "%d header prefixes misbehaved", bad);
  free(full);
}

int main(void) {
  test_valid();
  test_dtypes();
  test_tensor_rules();
  test_metadata();
  test_layout();
  test_header_bounds();
  test_truncation();
  return check_summary();
}
