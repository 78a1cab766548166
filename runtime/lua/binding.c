/*
** binding.c — the `lunox.core` module: errors, memory accounting, devices.
*/
#include "binding.h"
#include "binding_internal.h"
#include "binding_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lxb_raise(lua_State *L) {
  luaL_where(L, 1);
  lua_pushstring(L, lx_last_error());
  lua_concat(L, 2);
  return lua_error(L);
}

int lxb_raise_in(lua_State *L, const char *fn) {
  const char *msg = lx_last_error();
  size_t n = strlen(fn);
  /* Runtime messages mostly start with the op's name already; others (out
  ** of memory from the allocator, unknown devices) get it in front. */
  if (strncmp(msg, fn, n) == 0 && msg[n] == ':') return lxb_raise(L);
  luaL_where(L, 1);
  lua_pushfstring(L, "%s: %s", fn, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

int lxb_error(lua_State *L, const char *fn, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return luaL_error(L, "%s: %s", fn, msg);
}

/*
** Array memory lives outside the Lua heap, where the collector cannot see
** it: a loop making large temporaries would otherwise grow without bound,
** since each userdata costs Lua only a pointer. Like Torch7's heap
** tracking, collect fully whenever live array memory has grown past a
** threshold, then set the threshold to twice what survived (but at least
** GC_MIN_GROWTH above it), so collection work stays proportional to
** allocation. Per thread because each Lua state runs on one thread.
*/
#define GC_MIN_GROWTH ((uint64_t)128 << 20)
static _Thread_local uint64_t gc_threshold = GC_MIN_GROWTH;
static _Thread_local int gc_collecting;

void lxb_account_memory(lua_State *L) {
  uint64_t live = lx_memory_in_use();
  if (live <= gc_threshold || gc_collecting) return;
  gc_collecting = 1;
  lua_gc(L, LUA_GCCOLLECT, 0);
  gc_collecting = 0;
  live = lx_memory_in_use();
  gc_threshold = live * 2 > live + GC_MIN_GROWTH ? live * 2 : live + GC_MIN_GROWTH;
}

lx_device *lxb_default_device(lua_State *L) {
  lx_device *dev;
  if (lx_device_default(&dev) != LX_OK) lxb_raise(L);
  return dev;
}

static void set_int_field(lua_State *L, const char *k, double v) {
  lxb_pushcount(L, (int64_t)v);
  lua_setfield(L, -2, k);
}

/* lx.devices(): a list of {name, kind, description, memory, in_use,
** threads}; `.unavailable` maps absent backends to the reason. */
static int l_devices(lua_State *L) {
  lua_newtable(L);
  int n = lx_device_count();
  for (int i = 0; i < n; i++) {
    lx_device_info info;
    if (lx_device_info_get(lx_device_at(i), &info) != LX_OK) return lxb_raise(L);
    lua_newtable(L);
    lua_pushstring(L, info.name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, info.kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, info.description);
    lua_setfield(L, -2, "description");
    set_int_field(L, "memory", (double)info.memory_bytes);
    set_int_field(L, "in_use", (double)info.bytes_in_use);
    set_int_field(L, "threads", info.threads);
    lua_pushstring(L, info.vendor);
    lua_setfield(L, -2, "vendor");
    lua_pushstring(L, info.type);
    lua_setfield(L, -2, "type");
    set_int_field(L, "subgroup_size", info.subgroup_size);
    static const char *const flags[] = {"is_gpu", "float16", "bfloat16", "int64", "float64",
                                        "coopmat"};
    bool values[] = {info.is_gpu, info.float16, info.bfloat16, info.int64, info.float64,
                     info.coopmat};
    for (int f = 0; f < 6; f++) {
      lua_pushboolean(L, values[f]);
      lua_setfield(L, -2, flags[f]);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_newtable(L);
  const char *why = lx_backend_unavailable_reason("vulkan");
  if (why) {
    lua_pushstring(L, why);
    lua_setfield(L, -2, "vulkan");
  }
  lua_setfield(L, -2, "unavailable");
  return 1;
}

static int l_default_device(lua_State *L) {
  lua_pushstring(L, lx_device_name(lxb_default_device(L)));
  return 1;
}

static int l_sync(lua_State *L) {
  lx_device *dev = NULL;
  if (!lua_isnoneornil(L, 1)) {
    if (lx_device_find(lxb_check_string(L, 1, "sync", "the device"), &dev) != LX_OK)
      return lxb_raise_in(L, "sync");
  }
  if (lx_sync(dev) != LX_OK) return lxb_raise_in(L, "sync");
  return 0;
}

static int l_memory_in_use(lua_State *L) {
  lxb_pushcount(L, (int64_t)lx_memory_in_use());
  return 1;
}

/* lx.vulkan_validation() -> number of validation-layer messages, last one. */
static int l_vulkan_validation(lua_State *L) {
  const char *last = "";
  lxb_pushcount(L, (int64_t)lx_vulkan_validation_messages(&last));
  lua_pushstring(L, last);
  return 2;
}

/* For lunox.ffi: the address of a contiguous CPU array's first element. */
static int l_host_address(lua_State *L) {
  lx_array *a = lxb_check_array(L, 1, "ptr");
  if (!lx_array_is_contiguous(a))
    return lxb_error(L, "ptr", "the array is a non-contiguous view; take a:copy() first");
  void *p = lx_array_host_address(a);
  if (!p) return lxb_error(L, "ptr", "the array is not in host memory (%s)", lx_last_error());
  lua_pushlightuserdata(L, p);
  return 1;
}

int luaopen_lunox_core(lua_State *L) {
  lxb_register_array_type(L);
  lua_newtable(L);
  static const luaL_Reg fns[] = {
    {"devices", l_devices},
    {"default_device", l_default_device},
    {"sync", l_sync},
    {"memory_in_use", l_memory_in_use},
    {"_host_address", l_host_address},
    {"vulkan_validation", l_vulkan_validation},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
  lxb_register_ops(L);
  lxb_register_tree(L);
  lxb_register_io(L);
  lxb_register_bytesio(L);
  lxb_register_json(L);
  lxb_register_safetensors(L);
  lxb_register_abstract(L);
  lxb_register_random(L);
  lxb_register_window_take(L);
  lua_pushstring(L, LX_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
