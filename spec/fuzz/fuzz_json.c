/*
** fuzz_json.c — libFuzzer target for the JSON reader: the input is the
** text. With no name and with a name, default limits and a tight depth
** limit; the document (when one is returned) is walked and freed.
*/
#include "lunox_io.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Touches every value so that ASan sees any pointer into freed or foreign
** memory; returns a checksum the optimiser must keep. */
static size_t walk(const lx_json_value *v, int depth) {
  size_t sum = (size_t)v->type + v->offset;
  if (depth > 100000) return sum;
  switch (v->type) {
    case LX_JSON_STRING:
      for (size_t i = 0; i <= v->u.string.len; i++) sum += (unsigned char)v->u.string.s[i];
      break;
    case LX_JSON_ARRAY:
      for (size_t i = 0; i < v->u.array.count; i++) sum += walk(&v->u.array.items[i], depth + 1);
      break;
    case LX_JSON_OBJECT:
      for (size_t i = 0; i < v->u.object.count; i++) {
        const lx_json_member *m = &v->u.object.members[i];
        for (size_t k = 0; k <= m->key_len; k++) sum += (unsigned char)m->key[k];
        sum += walk(&m->value, depth + 1);
      }
      break;
    case LX_JSON_INTEGER: sum += (size_t)v->u.integer; break;
    case LX_JSON_NUMBER: sum += v->u.number != v->u.number; break; /* NaN never comes back */
    default: break;
  }
  return sum;
}

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lx_json_doc *doc = NULL;
  if (lx_json_parse((const char *)data, size, NULL, NULL, &doc) == LX_OK) {
    const lx_json_value *root = lx_json_root(doc);
    sink += walk(root, 0);
    if (root->type == LX_JSON_OBJECT && root->u.object.count)
      sink += lx_json_get(root, root->u.object.members[0].key) != NULL;
    lx_json_free(doc);
  } else {
    sink += strlen(lx_last_error());
  }
  lx_json_limits limits = {.max_depth = 4, .max_length = 4096};
  doc = NULL;
  if (lx_json_parse((const char *)data, size, "fuzz.json", &limits, &doc) == LX_OK)
    sink += walk(lx_json_root(doc), 0);
  lx_json_free(doc);
  return 0;
}
