/*
** binding_tree_core.c — what the pytree walkers share: scratch memory, key
** paths and their strings, node classification, table rules, equality of
** static values.
*/
#include "binding_tree.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lxb_tree_error(lua_State *L, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushstring(L, msg);
  return lua_error(L);
}

/* ------------------------------------------------------------- scratch */

static int scratch_gc(lua_State *L) {
  lxb_tree_scratch *s = (lxb_tree_scratch *)lua_touserdata(L, 1);
  free(s->nodes);
  free(s->path);
  free(s->ancestors);
  free(s->keys);
  memset(s, 0, sizeof *s);
  return 0;
}

static void scratch_grow(lua_State *L, lxb_tree_scratch *s, const char *fn) {
  int cap = s->depth_cap ? s->depth_cap * 2 : 32;
  lxb_key *p = (lxb_key *)realloc(s->path, (size_t)cap * sizeof *p);
  if (p) s->path = p;
  const void **a = (const void **)realloc(s->ancestors, (size_t)cap * sizeof *a);
  if (a) s->ancestors = a;
  if (!p || !a) lxb_tree_error(L, "%s: out of memory walking the tree", fn);
  s->depth_cap = cap;
}

lxb_tree_scratch *lxb_scratch_new(lua_State *L, const char *fn) {
  lxb_tree_scratch *s = (lxb_tree_scratch *)lxb_newuserdata(L, sizeof *s);
  memset(s, 0, sizeof *s);
  if (luaL_newmetatable(L, "lunox.tree_scratch")) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  scratch_grow(L, s, fn);
  return s;
}

void lxb_scratch_descend(lua_State *L, lxb_tree_scratch *s, const char *fn) {
  if (s->depth + 1 >= LXB_TREE_MAX_DEPTH) {
    lxb_push_keystr(L, s, s->depth);
    lxb_tree_error(L, "%s: the tree is nested deeper than %d levels at %s", fn,
               LXB_TREE_MAX_DEPTH, lua_tostring(L, -1));
  }
  if (s->depth + 1 >= s->depth_cap) scratch_grow(L, s, fn);
  s->depth++;
}

void lxb_scratch_visit(lua_State *L, lxb_tree_scratch *s, const char *fn, int idx) {
  int d = s->depth;
  const void *self = NULL;
  int t = lua_type(L, idx);
  if (t == LUA_TTABLE || t == LUA_TUSERDATA) {
    self = lua_topointer(L, idx);
    for (int k = 0; k < d; k++) {
      if (s->ancestors[k] != self) continue;
      lxb_push_keystr(L, s, d);
      lxb_push_keystr(L, s, k);
      lxb_tree_error(L, "%s: the tree contains a cycle: %s is %s again", fn, lua_tostring(L, -2),
                 lua_tostring(L, -1));
    }
  }
  s->ancestors[d] = self;
}

void lxb_scratch_key(lua_State *L, lxb_tree_scratch *s, int idx) {
  lxb_read_key(L, idx, &s->path[s->depth]);
}

void lxb_scratch_key_int(lxb_tree_scratch *s, int64_t i) {
  lxb_key *k = &s->path[s->depth];
  memset(k, 0, sizeof *k);
  k->is_num = 1;
  k->is_int = 1;
  k->i = i;
}

int lxb_read_key(lua_State *L, int idx, lxb_key *k) {
  int t = lua_type(L, idx);
  memset(k, 0, sizeof *k);
  if (t == LUA_TSTRING) {
    k->s = lua_tolstring(L, idx, &k->len);
    return 1;
  }
  if (t != LUA_TNUMBER) return 0;
  k->is_num = 1;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) {
    k->is_int = 1;
    k->i = (int64_t)lua_tointeger(L, idx);
    return 1;
  }
#endif
  k->d = lua_tonumber(L, idx);
  if (k->d == floor(k->d) && fabs(k->d) < 9007199254740992.0) {
    k->is_int = 1;
    k->i = (int64_t)k->d;
  }
  return 1;
}

void lxb_push_key(lua_State *L, const lxb_key *k) {
  if (!k->is_num) lua_pushlstring(L, k->s, k->len);
  else if (k->is_int) lxb_pushcount(L, k->i);
  else lua_pushnumber(L, k->d);
}

/* ------------------------------------------------------------- keystr */

static int is_identifier(const char *s, size_t n) {
  static const char *const keywords[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
  };
  if (n == 0 || !(s[0] == '_' || ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z'))) return 0;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'))) return 0;
  }
  for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
    if (strlen(keywords[k]) == n && memcmp(keywords[k], s, n) == 0) return 0;
  return 1;
}

/* Whether s is valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
** above U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    i += len;
  }
  return 1;
}

/* Adds s as a quoted Lua string literal with the escapes %q would use, kept
** on one line; a string that is not valid UTF-8 has its bytes >= 0x80
** escaped too, so that a message never carries broken text. */
static void add_quoted(luaL_Buffer *b, const char *s, size_t n) {
  int escape_high = !utf8_valid((const unsigned char *)s, n);
  luaL_addchar(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      luaL_addchar(b, '\\');
      luaL_addchar(b, (char)c);
    } else if (c == '\n') {
      luaL_addstring(b, "\\n");
    } else if (c < 32 || c == 127 || (c >= 128 && escape_high)) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%d", c);
      luaL_addstring(b, esc);
    } else {
      luaL_addchar(b, (char)c);
    }
  }
  luaL_addchar(b, '"');
}

void lxb_add_key(luaL_Buffer *b, const lxb_key *k) {
  char num[64];
  if (!k->is_num) {
    if (is_identifier(k->s, k->len)) {
      luaL_addchar(b, '.');
      luaL_addlstring(b, k->s, k->len);
    } else {
      luaL_addchar(b, '[');
      add_quoted(b, k->s, k->len);
      luaL_addchar(b, ']');
    }
    return;
  }
  if (k->is_int) snprintf(num, sizeof num, "[%lld]", (long long)k->i);
  else snprintf(num, sizeof num, "[%.17g]", k->d);
  luaL_addstring(b, num);
}

void lxb_push_keystr(lua_State *L, const lxb_tree_scratch *s, int depth) {
  if (depth == 0) {
    lua_pushliteral(L, "the root");
    return;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  /* path[0] is the root's (unused) slot: keys of children start at 1. A
  ** very deep path keeps its first and last steps. */
  for (int k = 1; k <= depth; k++) {
    if (depth > 24 && k == 11) {
      char gap[48];
      snprintf(gap, sizeof gap, "...(%d more)...", depth - 15);
      luaL_addstring(&b, gap);
      k = depth - 4;
    }
    lxb_add_key(&b, &s->path[k]);
  }
  luaL_pushresult(&b);
}

/* ------------------------------------------------------ classification */

void lxb_tree_env_push(lua_State *L, lxb_tree_env *env) {
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.none");
  env->none = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.tree_store_key");
  env->store_key = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.tree_registry");
  env->registry = lua_gettop(L);
  lua_pushliteral(L, "__lx_fields");
  env->fields_name = lua_gettop(L);
  lua_pushliteral(L, "__lx_static");
  env->static_name = lua_gettop(L);
}

lxb_node_kind lxb_classify(lua_State *L, const lxb_tree_env *env, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TNIL || lua_rawequal(L, idx, env->none)) return LXB_NODE_NONE;
  if (t != LUA_TTABLE && t != LUA_TUSERDATA) return LXB_NODE_LEAF;
  if (!lua_getmetatable(L, idx)) return t == LUA_TTABLE ? LXB_NODE_LIST : LXB_NODE_LEAF;
  int mt = lua_gettop(L);
  if (t == LUA_TTABLE) {
    lua_pushvalue(L, env->fields_name);
    lua_rawget(L, mt);
    if (lua_istable(L, -1)) {
      lua_pushvalue(L, env->store_key);
      lua_rawget(L, idx);
      if (lua_istable(L, -1)) { /* class, fields, statics, store */
        lua_pushvalue(L, env->static_name);
        lua_rawget(L, mt);
        if (!lua_istable(L, -1)) {
          lua_pop(L, 1);
          lua_newtable(L);
        }
        lua_insert(L, -2);
        return LXB_NODE_MODULE;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, mt);
  lua_rawget(L, env->registry);
  if (lua_istable(L, -1)) {
    lua_insert(L, -2); /* registration, metatable */
    return LXB_NODE_CUSTOM;
  }
  lua_pop(L, 2);
  return LXB_NODE_LEAF;
}

/* ---------------------------------------------------------- table rules */

/* Numbers ascending (integers exactly), then strings by bytes. */
static int key_order(const lxb_key *a, const lxb_key *b) {
  if (a->is_num != b->is_num) return a->is_num ? -1 : 1;
  if (a->is_num) {
    if (a->is_int && b->is_int) return (a->i > b->i) - (a->i < b->i);
    double x = a->is_int ? (double)a->i : a->d, y = b->is_int ? (double)b->i : b->d;
    return (x > y) - (x < y);
  }
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, n);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

static int key_order_qsort(const void *a, const void *b) {
  return key_order((const lxb_key *)a, (const lxb_key *)b);
}

lxb_node_kind lxb_table_kind(lua_State *L, lxb_tree_scratch *s, const char *fn, int idx,
                             int32_t *n) {
  int64_t count = 0, positive = 0, max_positive = 0;
  /* One pass: keep every key (strings stay alive as keys of the table). */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (count == s->keys_cap) {
      int32_t cap = s->keys_cap ? s->keys_cap * 2 : 64;
      lxb_key *k = (lxb_key *)realloc(s->keys, (size_t)cap * sizeof *k);
      if (!k) lxb_tree_error(L, "%s: out of memory walking the tree", fn);
      s->keys = k;
      s->keys_cap = cap;
    }
    lxb_key *k = &s->keys[count++];
    if (!lxb_read_key(L, -1, k)) {
      const char *what = lxb_tolstring(L, -1, NULL);
      lxb_push_keystr(L, s, s->depth);
      lxb_tree_error(L, "%s: the table at %s has a key of type %s (%s); pytree tables may "
                     "only have number and string keys", fn, lua_tostring(L, -1),
                     luaL_typename(L, -3), what);
    }
    if (k->is_int && k->i >= 1) {
      positive++;
      if (k->i > max_positive) max_positive = k->i;
    }
    if (count >= INT32_MAX) lxb_tree_error(L, "%s: a table with over 2^31 keys is too large", fn);
  }
  *n = (int32_t)count;
  s->nkeys = (int32_t)count;
  if (positive == count) {
    if (max_positive == count) return LXB_NODE_LIST;
    int64_t missing = 1;
    for (; missing <= count; missing++) {
      lua_rawgeti(L, idx, (lua_Integer)missing);
      int absent = lua_isnil(L, -1);
      lua_pop(L, 1);
      if (absent) break;
    }
    lxb_push_keystr(L, s, s->depth);
    lxb_tree_error(L, "%s: the list at %s has a hole: [%lld] is nil but [%lld] is set (a list "
                   "must have keys 1..n; use lx.none for an empty position)", fn,
                   lua_tostring(L, -1), (long long)missing, (long long)max_positive);
  }
  if (count <= 16) { /* insertion sort: no allocation for the usual small dicts */
    for (int32_t i = 1; i < count; i++) {
      lxb_key k = s->keys[i];
      int32_t j = i;
      for (; j > 0 && key_order(&s->keys[j - 1], &k) > 0; j--) s->keys[j] = s->keys[j - 1];
      s->keys[j] = k;
    }
  } else {
    qsort(s->keys, (size_t)count, sizeof *s->keys, key_order_qsort);
  }
  return LXB_NODE_DICT;
}

int lxb_keys_match(lua_State *L, const lxb_tree_scratch *s, int keys) {
  if ((int32_t)lxb_rawlen(L, keys) != s->nkeys) return 0;
  for (int32_t i = 0; i < s->nkeys; i++) {
    lxb_key k;
    lua_rawgeti(L, keys, i + 1);
    lxb_read_key(L, -1, &k);
    lua_pop(L, 1); /* the string stays alive in `keys` */
    const lxb_key *want = &s->keys[i];
    if (k.is_num != want->is_num) return 0;
    if (k.is_num) {
      if (k.is_int != want->is_int || (k.is_int ? k.i != want->i : k.d != want->d)) return 0;
    } else if (k.s != want->s && (k.len != want->len || memcmp(k.s, want->s, k.len) != 0)) {
      return 0;
    }
  }
  return 1;
}

void lxb_push_keys(lua_State *L, const lxb_tree_scratch *s) {
  lua_createtable(L, s->nkeys, 0);
  for (int32_t i = 0; i < s->nkeys; i++) {
    lxb_push_key(L, &s->keys[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* ------------------------------------------------------------ equality */

static int plain_table(lua_State *L, int idx) {
  if (!lua_istable(L, idx)) return 0;
  if (!lua_getmetatable(L, idx)) return 1;
  lua_pop(L, 1);
  return 0;
}

int lxb_value_equal(lua_State *L, int a, int b, int depth) {
  a = lxb_absindex(L, a);
  b = lxb_absindex(L, b);
  if (lua_rawequal(L, a, b)) return 1;
  if (plain_table(L, a) && plain_table(L, b)) {
    if (depth > 100) return 0;
    luaL_checkstack(L, 6, "value_equal");
    int na = 0, nb = 0;
    lua_pushnil(L);
    while (lua_next(L, a)) {
      na++;
      lua_pushvalue(L, -2);
      lua_rawget(L, b);
      int same = !lua_isnil(L, -1) && lxb_value_equal(L, -1, -2, depth + 1);
      lua_pop(L, 2);
      if (!same) {
        lua_pop(L, 1);
        return 0;
      }
    }
    lua_pushnil(L);
    while (lua_next(L, b)) {
      nb++;
      lua_pop(L, 1);
    }
    return na == nb;
  }
  if (lua_type(L, a) != lua_type(L, b)) return 0;
#if LUA_VERSION_NUM >= 502
  return lua_compare(L, a, b, LUA_OPEQ);
#else
  return lua_equal(L, a, b);
#endif
}
