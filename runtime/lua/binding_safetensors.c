/*
** binding_safetensors.c — safetensors files for lua/lunox/safetensors.lua:
** loading maps the file and makes CPU arrays that are views of it (no copy
** where the data is aligned); saving writes the length, the header the Lua
** side built, and each array's bytes through one stream.
*/
#include "binding_io.h"

#include <string.h>

/* The mapping and the parsed header, held by a userdata while the Lua
** values are built: a memory error raised meanwhile leaks neither. */
#define LOAD_GUARD_MT "lunox.safetensors_load"
typedef struct {
  lx_mapped_file *map;
  lx_st_header *header;
} load_guard;

static void guard_release(load_guard *g) {
  lx_safetensors_free(g->header);
  lx_mapped_release(g->map);
  g->header = NULL;
  g->map = NULL;
}

static int guard_gc(lua_State *L) {
  guard_release(luaL_checkudata(L, 1, LOAD_GUARD_MT));
  return 0;
}

/* Raises the runtime's error as fn's, releasing the file at once rather
** than when the collector gets to the guard. */
static int fail(lua_State *L, load_guard *g, const char *fn) {
  guard_release(g);
  return lxb_raise_in(L, fn);
}

static load_guard *new_guard(lua_State *L) {
  load_guard *g = lxb_newuserdata(L, sizeof *g);
  g->map = NULL;
  g->header = NULL;
  if (luaL_newmetatable(L, LOAD_GUARD_MT)) {
    lua_pushcfunction(L, guard_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return g;
}

/* core.safetensors_load(path [, copy]) -> entries, metadata.
** entries: a list, in data order, of {name=, dtype= (safetensors' name),
** shape=, array= (nil for dtypes lunox lacks)}; metadata: a table of
** strings. With copy, arrays get memory of their own instead of views of
** the mapping. */
static int l_safetensors_load(lua_State *L) {
  const char *fn = "lx.safetensors.load";
  const char *path = lxb_check_string(L, 1, fn, "the path");
  int copy = lua_toboolean(L, 2);
  load_guard *g = new_guard(L);
  if (lx_file_map(path, &g->map) != LX_OK) return fail(L, g, fn);
  lx_mapped_file *m = g->map;
  size_t need = 0;
  const uint8_t *data = lx_mapped_data(m);
  size_t size = lx_mapped_size(m);
  lx_status st;
  if (size < 8)
    st = lx_set_error(LX_ERR_IO, "safetensors: the file has %zu bytes, fewer than the 8 of "
                      "its header length (%s, byte 0)", size, path);
  else
    st = lx_safetensors_parse(data, size, size, path, &g->header, &need);
  if (st == LX_OK && !g->header)
    st = lx_set_error(LX_ERR_INTERNAL, "safetensors: header incomplete in a whole file");
  if (st != LX_OK) return fail(L, g, fn);
  const lx_st_header *h = g->header;
  lua_createtable(L, (int)h->count, 0);
  for (size_t i = 0; i < h->count; i++) {
    const lx_st_tensor *t = &h->tensors[i];
    lua_createtable(L, 0, 4);
    lua_pushlstring(L, t->name, t->name_len);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, lx_st_dtype_name(t->dtype));
    lua_setfield(L, -2, "dtype");
    lua_createtable(L, t->ndim, 0);
    for (int d = 0; d < t->ndim; d++) {
      lxb_pushcount(L, t->shape[d]);
      lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, -2, "shape");
    lx_dtype dtype;
    if (lx_st_dtype_to_lx(t->dtype, &dtype)) {
      lx_array **slot = lxb_new_slot(L);
      st = lx_mapped_array(m, h->data_offset + t->begin, dtype, t->ndim, t->shape, slot);
      if (st == LX_OK && copy) {
        lx_array *own;
        st = lx_copy(*slot, &own);
        if (st == LX_OK) {
          lx_array_release(*slot);
          *slot = own;
        }
      }
      if (st != LX_OK) return fail(L, g, fn);
      lua_setfield(L, -2, "array");
    }
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_createtable(L, 0, (int)h->meta_count);
  for (size_t i = 0; i < h->meta_count; i++) {
    lua_pushlstring(L, h->meta[i].key, h->meta[i].key_len);
    lua_pushlstring(L, h->meta[i].value, h->meta[i].value_len);
    lua_rawset(L, -3);
  }
  /* The arrays hold their own references to the mapping. */
  guard_release(g);
  lxb_account_memory(L);
  return 2;
}

/* core.safetensors_write(file, header, arrays [, name]): the 8-byte
** little-endian length of header, header, then the bytes of each array in
** the list (the header's data_offsets must describe them in this order). */
static int l_safetensors_write(lua_State *L) {
  const char *fn = "lx.safetensors.save";
  size_t hlen;
  const char *header = lxb_check_string(L, 2, fn, "the header");
  lua_tolstring(L, 2, &hlen);
  luaL_checktype(L, 3, LUA_TTABLE);
  lxb_stream s;
  lxb_stream_open(L, 1, lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : NULL, fn, &s);
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
  if (lx_write_all(&s.writer, len, 8) != LX_OK || lx_write_all(&s.writer, header, hlen) != LX_OK)
    return lxb_raise_in(L, fn);
  int n = (int)lxb_rawlen(L, 3);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 3, i);
    lx_array *a = lxb_test_array(L, -1);
    if (!a) return lxb_error(L, fn, "arrays[%d] is a %s, not an array", i, luaL_typename(L, -1));
    if (lx_write_array_data(&s.writer, a) != LX_OK) return lxb_raise_in(L, fn);
    lua_pop(L, 1);
  }
  lxb_stream_close(&s);
  return 0;
}

void lxb_register_safetensors(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"safetensors_load", l_safetensors_load},
    {"safetensors_write", l_safetensors_write},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
