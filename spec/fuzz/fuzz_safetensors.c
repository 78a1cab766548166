/*
** fuzz_safetensors.c — libFuzzer target for the safetensors header reader:
** the input is a whole file (file_len = avail = size). An accepted header
** is checked against the rules it claims to have enforced, and freed.
*/
#include "lunox_io.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lx_st_header *h = NULL;
  size_t need = 0;
  lx_status st = lx_safetensors_parse(data, size, size, "fuzz.safetensors", &h, &need);
  if (st != LX_OK) {
    sink += strlen(lx_last_error());
    return 0;
  }
  if (!h) abort(); /* the whole file is in memory: never "need more" */
  /* What validation promises: contiguous, in order, ending at the file's
  ** end, names NUL-terminated and free of NULs. A broken promise crashes
  ** here so that the fuzzer reports it. */
  uint64_t at = 0;
  for (size_t i = 0; i < h->count; i++) {
    const lx_st_tensor *t = &h->tensors[i];
    if (t->begin != at || t->end < t->begin) abort();
    if (t->name[t->name_len] != 0 || strlen(t->name) != t->name_len) abort();
    if (lx_st_dtype_size(t->dtype) == 0 || t->ndim < 0 || t->ndim > LX_MAX_DIMS) abort();
    at = t->end;
  }
  if (h->data_offset != 8 + h->header_len || h->data_offset + at != size) abort();
  for (size_t i = 0; i < h->meta_count; i++)
    sink += h->meta[i].key_len + h->meta[i].value_len + (unsigned char)h->meta[i].value[0];
  lx_safetensors_free(h);
  return 0;
}
