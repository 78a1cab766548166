/*
** binding_treedef.c — the treedef userdata: equality by value, printing,
** and its fields and methods (num_leaves, num_nodes, unflatten,
** flatten_up_to).
*/
#include "binding_tree.h"

#include <string.h>

lxb_treedef *lxb_check_treedef(lua_State *L, int idx, const char *fn) {
  lxb_treedef *td = (lxb_treedef *)luaL_testudata(L, idx, LXB_TREEDEF_MT);
  if (!td) lxb_tree_error(L, "%s: expected a treedef, got %s", fn, luaL_typename(L, idx));
  return td;
}

void lxb_treedef_metas(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 504
  lua_getiuservalue(L, idx, 1);
#else
  lua_getfenv(L, idx);
#endif
}

/* ------------------------------------------------------------ equality */

/* Metadata of node x (in metas ma) and node y (in mb), nodes of one kind. */
static int metas_equal(lua_State *L, const lxb_tree_node *x, const lxb_tree_node *y, int ma,
                       int mb) {
  int ok = 1;
  switch (x->kind) {
    case LXB_NODE_DICT:
      lua_rawgeti(L, ma, x->meta);
      lua_rawgeti(L, mb, y->meta);
      for (int32_t i = 1; ok && i <= x->nchild; i++) {
        lua_rawgeti(L, -2, i);
        lua_rawgeti(L, -2, i);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
      }
      lua_pop(L, 2);
      return ok;
    case LXB_NODE_MODULE:
      lua_rawgeti(L, ma, x->meta);
      lua_rawgeti(L, mb, y->meta);
      ok = lua_rawequal(L, -1, -2);
      lua_getfield(L, -1, "__lx_static");
      int has_static = lua_istable(L, -1) && lxb_rawlen(L, -1) > 0;
      lua_pop(L, 3);
      if (ok && has_static) {
        lua_rawgeti(L, ma, x->meta + 1);
        lua_rawgeti(L, mb, y->meta + 1);
        ok = lxb_value_equal(L, -1, -2, 0);
        lua_pop(L, 2);
      }
      return ok;
    case LXB_NODE_CUSTOM:
      for (int k = 0; ok && k < 2; k++) {
        lua_rawgeti(L, ma, x->meta + k);
        lua_rawgeti(L, mb, y->meta + k);
        ok = k == 0 ? lua_rawequal(L, -1, -2) : lxb_value_equal(L, -1, -2, 0);
        lua_pop(L, 2);
      }
      return ok;
    default: return 1;
  }
}

static int treedef_eq(lua_State *L) {
  lxb_treedef *a = (lxb_treedef *)luaL_testudata(L, 1, LXB_TREEDEF_MT);
  lxb_treedef *b = (lxb_treedef *)luaL_testudata(L, 2, LXB_TREEDEF_MT);
  int same = a && b && a->nnodes == b->nnodes && a->nleaves == b->nleaves;
  if (same) {
    lxb_treedef_metas(L, 1);
    lxb_treedef_metas(L, 2);
    int ma = lua_gettop(L) - 1, mb = ma + 1;
    for (int32_t i = 0; same && i < a->nnodes; i++) {
      const lxb_tree_node *x = &a->nodes[i], *y = &b->nodes[i];
      /* Metadata indices may differ (shared entries); compare the values. */
      same = x->kind == y->kind && x->nchild == y->nchild && metas_equal(L, x, y, ma, mb);
    }
  }
  lua_pushboolean(L, same);
  return 1;
}

/* ------------------------------------------------------------ printing */

typedef struct {
  lua_State *L;
  const lxb_treedef *td;
  int metas, pieces;
  int npieces;
  int32_t pos;
} print_ctx;

/* Appends the value at the top (popped) to the pieces list. */
static void put(print_ctx *c) { lua_rawseti(c->L, c->pieces, ++c->npieces); }
static void put_lit(print_ctx *c, const char *s) {
  lua_pushstring(c->L, s);
  put(c);
}

static void put_key(print_ctx *c, int idx);

/* A value as Lua source would show it: strings quoted, plain tables as
** constructors (a few levels deep), the rest tostring. */
static void put_value_depth(print_ctx *c, int idx, int depth) {
  lua_State *L = c->L;
  idx = lxb_absindex(L, idx);
  luaL_checkstack(L, 8, "treedef printing");
  if (lua_type(L, idx) == LUA_TSTRING) {
    lua_getglobal(L, "string");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "format");
      lua_pushliteral(L, "%q");
      lua_pushvalue(L, idx);
      lua_call(L, 2, 1);
      lua_remove(L, -2);
      put(c);
      return;
    }
    lua_pop(L, 1);
  }
  if (lua_istable(L, idx) && !lua_getmetatable(L, idx)) {
    if (depth >= 4) {
      put_lit(c, "{...}");
      return;
    }
    int n = (int)lxb_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      count++;
      lua_pop(L, 1);
    }
    put_lit(c, "{");
    if (count == n) {
      for (int i = 1; i <= n; i++) {
        if (i > 1) put_lit(c, ", ");
        lua_rawgeti(L, idx, i);
        put_value_depth(c, -1, depth + 1);
        lua_pop(L, 1);
      }
    } else {
      int first = 1;
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (!first) put_lit(c, ", ");
        first = 0;
        int t = lua_type(L, -2);
        if (t == LUA_TSTRING || t == LUA_TNUMBER) {
          put_key(c, -2);
        } else {
          put_lit(c, "[");
          put_value_depth(c, -2, depth + 1);
          put_lit(c, "]=");
        }
        put_value_depth(c, -1, depth + 1);
        lua_pop(L, 1);
      }
    }
    put_lit(c, "}");
    return;
  }
  lxb_tolstring(L, idx, NULL);
  put(c);
}

static void put_value(print_ctx *c, int idx) { put_value_depth(c, idx, 0); }

/* A table-constructor key: `name=` or `[key]=`. */
static void put_key(print_ctx *c, int idx) {
  lua_State *L = c->L;
  luaL_Buffer b;
  lxb_key k;
  /* Reuse the key-path writer, then turn ".name" into "name=". */
  lxb_read_key(L, idx, &k);
  luaL_buffinit(L, &b);
  lxb_add_key(&b, &k);
  luaL_addchar(&b, '=');
  luaL_pushresult(&b);
  const char *s = lua_tostring(L, -1);
  if (s[0] == '.') {
    lua_pushstring(L, s + 1);
    lua_remove(L, -2);
  }
  put(c);
}

static void print_node(print_ctx *c) {
  lua_State *L = c->L;
  luaL_checkstack(L, 16, "treedef too deep");
  const lxb_tree_node *n = &c->td->nodes[c->pos++];
  switch (n->kind) {
    case LXB_NODE_LEAF: put_lit(c, "*"); return;
    case LXB_NODE_NONE: put_lit(c, "none"); return;
    case LXB_NODE_LIST:
      put_lit(c, "{");
      for (int32_t i = 1; i <= n->nchild; i++) {
        if (i > 1) put_lit(c, ", ");
        print_node(c);
      }
      put_lit(c, "}");
      return;
    case LXB_NODE_DICT:
      lua_rawgeti(L, c->metas, n->meta);
      put_lit(c, "{");
      for (int32_t i = 1; i <= n->nchild; i++) {
        if (i > 1) put_lit(c, ", ");
        lua_rawgeti(L, -1, i);
        put_key(c, -1);
        lua_pop(L, 1);
        print_node(c);
      }
      put_lit(c, "}");
      lua_pop(L, 1);
      return;
    case LXB_NODE_MODULE: {
      lua_rawgeti(L, c->metas, n->meta);
      int cls = lua_gettop(L);
      lua_getfield(L, cls, "__name");
      lua_pushfstring(L, "%s(", lua_isstring(L, -1) ? lua_tostring(L, -1) : "Module");
      put(c);
      lua_pop(L, 1);
      lua_getfield(L, cls, "__lx_fields");
      lua_getfield(L, cls, "__lx_static");
      int statics = lua_gettop(L), fields = statics - 1;
      int first = 1;
      for (int32_t i = 1; i <= n->nchild; i++, first = 0) {
        if (!first) put_lit(c, ", ");
        lua_rawgeti(L, fields, i);
        lua_pushfstring(L, "%s=", lua_tostring(L, -1));
        put(c);
        lua_pop(L, 1);
        print_node(c);
      }
      int32_t nstatic = lua_istable(L, statics) ? (int32_t)lxb_rawlen(L, statics) : 0;
      if (nstatic > 0) lua_rawgeti(L, c->metas, n->meta + 1);
      for (int32_t i = 1; i <= nstatic; i++, first = 0) {
        if (!first) put_lit(c, ", ");
        lua_rawgeti(L, statics, i);
        lua_pushfstring(L, "%s=", lua_tostring(L, -1));
        put(c);
        lua_pop(L, 1);
        lua_rawgeti(L, -1, i);
        put_value(c, -1);
        lua_pop(L, 1);
      }
      put_lit(c, ")");
      lua_settop(L, cls - 1);
      return;
    }
    default: {
      lua_rawgeti(L, c->metas, n->meta);
      int has_name = luaL_getmetafield(L, -1, "__name") != LUA_TNIL;
      if (!has_name) {
        lua_getfield(L, -1, "__name");
        has_name = lua_isstring(L, -1);
        if (!has_name) lua_pop(L, 1);
      }
      lua_pushfstring(L, "%s[", has_name ? lua_tostring(L, -1) : "registered");
      put(c);
      lua_settop(L, lua_gettop(L) - (has_name ? 2 : 1));
      lua_rawgeti(L, c->metas, n->meta + 1);
      put_value(c, -1);
      lua_pop(L, 1);
      put_lit(c, "](");
      for (int32_t i = 1; i <= n->nchild; i++) {
        if (i > 1) put_lit(c, ", ");
        print_node(c);
      }
      put_lit(c, ")");
      return;
    }
  }
}

static int treedef_tostring(lua_State *L) {
  lxb_treedef *td = lxb_check_treedef(L, 1, "tostring");
  print_ctx c;
  memset(&c, 0, sizeof c);
  c.L = L;
  c.td = td;
  lxb_treedef_metas(L, 1);
  c.metas = lua_gettop(L);
  lua_newtable(L);
  c.pieces = lua_gettop(L);
  put_lit(&c, "PyTreeDef(");
  print_node(&c);
  put_lit(&c, ")");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= c.npieces; i++) {
    lua_rawgeti(L, c.pieces, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

/* -------------------------------------------------------- fields, type */

static int treedef_index(lua_State *L) {
  lxb_treedef *td = lxb_check_treedef(L, 1, "treedef");
  const char *key = lua_tostring(L, 2);
  if (key && strcmp(key, "num_leaves") == 0) {
    lxb_pushcount(L, td->nleaves);
    return 1;
  }
  if (key && strcmp(key, "num_nodes") == 0) {
    lxb_pushcount(L, td->nnodes);
    return 1;
  }
  /* Methods live in the metatable's `methods` table. */
  luaL_getmetatable(L, LXB_TREEDEF_MT);
  lua_getfield(L, -1, "methods");
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  if (lua_isnil(L, -1) && key && key[0] != '_')
    return lxb_tree_error(L, "treedef has no field '%s' (fields: num_leaves, num_nodes; methods: "
                      "unflatten, flatten_up_to)", key);
  return 1;
}

static int treedef_len(lua_State *L) {
  lxb_treedef *td = lxb_check_treedef(L, 1, "#treedef");
  lxb_pushcount(L, td->nleaves);
  return 1;
}

void lxb_register_treedef_type(lua_State *L) {
  if (!luaL_newmetatable(L, LXB_TREEDEF_MT)) {
    lua_pop(L, 1);
    return;
  }
  static const luaL_Reg meta[] = {
    {"__eq", treedef_eq},
    {"__tostring", treedef_tostring},
    {"__index", treedef_index},
    {"__len", treedef_len},
    {NULL, NULL},
  };
  luaL_setfuncs(L, meta, 0);
  lua_pushliteral(L, "treedef");
  lua_setfield(L, -2, "__name");
  lua_newtable(L);
  lua_setfield(L, -2, "methods"); /* filled by lua/lunox/tree.lua */
  lua_pop(L, 1);
}
