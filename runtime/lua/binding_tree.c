/*
** binding_tree.c — the pytree core: flatten (with or without key paths),
** unflatten, flatten_up_to and type registration. lua/lunox/tree.lua builds
** lx.tree on these; the node rules are in DESIGN.md ("Pytrees").
**
** None nodes: a nil Module field and lx.none are the same empty subtree.
** Values handed to Lua (is_leaf's argument, leaves, flatten_up_to's
** subtrees) are never nil: an empty subtree shows as lx.none there, so leaf
** lists have no holes. Unflatten turns nil and lx.none back into nil in a
** Module field and into lx.none in a list, dict or registered node.
*/
#include "binding_tree.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- flatten */

typedef struct {
  lua_State *L;
  const char *fn;
  lxb_tree_env env;
  lxb_tree_scratch *s;
  int is_leaf;     /* stack index of is_leaf, or 0 */
  int leaves;      /* leaves list */
  int metas;       /* metadata list */
  int paths;       /* {path, leaf} list for flatten_with_path, or 0 */
  int want_nodes;  /* record nodes (not for tree.leaves) */
  int stop;        /* set of values that are leaves (tree_at's targets), or 0 */
  int leaf_mt;     /* values with this metatable are leaves (tree_at's boxes), or 0 */
  int none_leaf;   /* empty subtrees are leaves (lx.none) */
  int array_mt;    /* arrays' metatable: the common leaf, recognised first */
  int registered;  /* whether any type is registered (else skip the lookup) */
  int32_t nleaves, nmeta;
  /* Module classes seen with their static values: nodes of one class with
  ** equal statics share one metadata entry instead of a table each. */
  struct { const void *cls; int32_t meta; } seen[8];
  int nseen;
  int32_t last_keys; /* metadata index of the last dict's keys, or 0 */
} flat_ctx;

static int32_t add_node(flat_ctx *c, int kind) {
  lxb_tree_scratch *s = c->s;
  if (!c->want_nodes) return -1;
  if (s->nnodes == s->cap) {
    int32_t cap = s->cap ? s->cap * 2 : 64;
    lxb_tree_node *n = (lxb_tree_node *)realloc(s->nodes, (size_t)cap * sizeof *n);
    if (!n) lxb_tree_error(c->L, "%s: out of memory flattening the tree", c->fn);
    s->nodes = n;
    s->cap = cap;
  }
  lxb_tree_node *n = &s->nodes[s->nnodes];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  return s->nnodes++;
}

/* Stores the value at the top in the metadata list (popping it); returns its index. */
static int32_t add_meta(flat_ctx *c) {
  lua_rawseti(c->L, c->metas, ++c->nmeta);
  return c->nmeta;
}

static void push_path(flat_ctx *c) {
  lua_State *L = c->L;
  const lxb_tree_scratch *s = c->s;
  lua_createtable(L, s->depth, 0);
  for (int k = 1; k <= s->depth; k++) {
    lxb_push_key(L, &s->path[k]);
    lua_rawseti(L, -2, k);
  }
}

/* The value at the top becomes a leaf (popped). */
static void add_leaf(flat_ctx *c) {
  lua_State *L = c->L;
  add_node(c, LXB_NODE_LEAF);
  if (c->paths) {
    lua_createtable(L, 2, 0);
    push_path(c);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, c->paths, c->nleaves + 1);
  }
  lua_rawseti(L, c->leaves, ++c->nleaves);
}

static void flatten_value(flat_ctx *c, int idx);

/* Flattens the child at the top of the stack (popped) under the key set by
** the caller at the next depth. */
static void flatten_child(flat_ctx *c) {
  flatten_value(c, lua_gettop(c->L));
  lua_pop(c->L, 1);
  c->s->depth--;
}

static void finish_node(flat_ctx *c, int32_t at, int32_t nchild, int32_t leaves_before) {
  if (at < 0) return;
  lxb_tree_node *n = &c->s->nodes[at];
  n->nchild = nchild;
  n->nleaves = c->nleaves - leaves_before;
  n->nnodes = c->s->nnodes - at;
}

static void flatten_list(flat_ctx *c, int idx, int32_t n) {
  int32_t at = add_node(c, LXB_NODE_LIST), before = c->nleaves;
  for (int32_t i = 1; i <= n; i++) {
    lxb_scratch_descend(c->L, c->s, c->fn);
    lxb_scratch_key_int(c->s, i);
    lua_rawgeti(c->L, idx, i);
    flatten_child(c);
  }
  finish_node(c, at, n, before);
}

/* The keys just sorted by lxb_table_kind, as a metadata entry: dicts with the
** same keys as the previous one share its list. Pushes the list. */
static int32_t dict_meta(flat_ctx *c) {
  lua_State *L = c->L;
  if (c->last_keys) {
    lua_rawgeti(L, c->metas, c->last_keys);
    if (lxb_keys_match(L, c->s, lua_gettop(L))) return c->last_keys;
    lua_pop(L, 1);
  }
  lxb_push_keys(L, c->s);
  lua_pushvalue(L, -1);
  c->last_keys = add_meta(c);
  return c->last_keys;
}

static void flatten_dict(flat_ctx *c, int idx, int32_t n) {
  lua_State *L = c->L;
  int32_t at = add_node(c, LXB_NODE_DICT), before = c->nleaves;
  int32_t meta = dict_meta(c);
  int keys = lua_gettop(L);
  if (at >= 0) c->s->nodes[at].meta = meta;
  for (int32_t i = 1; i <= n; i++) {
    lxb_scratch_descend(L, c->s, c->fn);
    lua_rawgeti(L, keys, i);
    lxb_scratch_key(L, c->s, -1);
    lua_rawget(L, idx);
    flatten_child(c);
  }
  finish_node(c, at, n, before);
  lua_pop(L, 1);
}

/* The metadata index for a Module node: reuses an entry of the same class
** whose static values are the same objects, else adds class + statics. */
static int32_t module_meta(flat_ctx *c, int cls, int statics, int store, int32_t nstatic) {
  lua_State *L = c->L;
  const void *id = lua_topointer(L, cls);
  for (int k = 0; k < c->nseen; k++) {
    if (c->seen[k].cls != id) continue;
    int32_t meta = c->seen[k].meta;
    if (nstatic == 0) return meta;
    lua_rawgeti(L, c->metas, meta + 1);
    int same = 1;
    for (int32_t i = 1; same && i <= nstatic; i++) {
      lua_rawgeti(L, statics, i);
      lua_rawget(L, store);
      lua_rawgeti(L, -2, i);
      same = lua_rawequal(L, -1, -2);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    if (same) return meta;
  }
  lua_pushvalue(L, cls);
  int32_t meta = add_meta(c);
  if (nstatic > 0) {
    lua_createtable(L, nstatic, 0);
    for (int32_t i = 1; i <= nstatic; i++) {
      lua_rawgeti(L, statics, i);
      lua_rawget(L, store);
      lua_rawseti(L, -2, i);
    }
    add_meta(c);
  }
  int slot = c->nseen < 8 ? c->nseen++ : (int)(meta % 8);
  c->seen[slot].cls = id;
  c->seen[slot].meta = meta;
  return meta;
}

/* Stack: class, fields, statics, store (from lxb_classify). */
static void flatten_module(flat_ctx *c) {
  lua_State *L = c->L;
  int store = lua_gettop(L), statics = store - 1, fields = store - 2, cls = store - 3;
  int32_t nfields = (int32_t)lxb_rawlen(L, fields), nstatic = (int32_t)lxb_rawlen(L, statics);
  int32_t at = add_node(c, LXB_NODE_MODULE), before = c->nleaves;
  int32_t meta = c->want_nodes ? module_meta(c, cls, statics, store, nstatic) : 0;
  if (at >= 0) c->s->nodes[at].meta = meta;
  for (int32_t i = 1; i <= nfields; i++) {
    lxb_scratch_descend(L, c->s, c->fn);
    lua_rawgeti(L, fields, i);
    lxb_scratch_key(L, c->s, -1);
    lua_rawget(L, store);
    flatten_child(c);
  }
  finish_node(c, at, nfields, before);
  lua_pop(L, 4);
}

/* Stack: registration {flatten, unflatten}, metatable. */
static void flatten_custom(flat_ctx *c, int idx) {
  lua_State *L = c->L;
  int mt = lua_gettop(L), reg = mt - 1;
  lua_rawgeti(L, reg, 1);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 3); /* children, aux, keys */
  int keys = lua_gettop(L), aux = keys - 1, children = keys - 2;
  if (!lua_istable(L, children)) {
    lxb_push_keystr(L, c->s, c->s->depth);
    lxb_tree_error(L, "%s: the flatten function registered for the node at %s returned %s, "
               "expected a list of children", c->fn, lua_tostring(L, -1),
               luaL_typename(L, children));
  }
  if (!lua_isnil(L, keys) && !lua_istable(L, keys)) {
    lxb_push_keystr(L, c->s, c->s->depth);
    lxb_tree_error(L, "%s: the flatten function registered for the node at %s returned keys of "
               "type %s, expected a list", c->fn, lua_tostring(L, -1), luaL_typename(L, keys));
  }
  int32_t n = (int32_t)lxb_rawlen(L, children);
  int32_t at = add_node(c, LXB_NODE_CUSTOM), before = c->nleaves;
  lua_pushvalue(L, mt);
  int32_t meta = add_meta(c);
  lua_pushvalue(L, aux);
  add_meta(c);
  lua_pushvalue(L, keys);
  add_meta(c);
  if (at >= 0) c->s->nodes[at].meta = meta;
  for (int32_t i = 1; i <= n; i++) {
    lxb_scratch_descend(L, c->s, c->fn);
    int has_key = 0;
    if (lua_istable(L, keys)) {
      lua_rawgeti(L, keys, i);
      int t = lua_type(L, -1);
      if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        lxb_scratch_key(L, c->s, -1);
        has_key = 1;
      }
      lua_pop(L, 1);
    }
    if (!has_key) lxb_scratch_key_int(c->s, i);
    /* The key string (if any) stays alive in `keys`. */
    lua_rawgeti(L, children, i);
    flatten_child(c);
  }
  finish_node(c, at, n, before);
  lua_pop(L, 5);
}

static void flatten_value(flat_ctx *c, int idx) {
  lua_State *L = c->L;
  int t = lua_type(L, idx);
  /* Leaves by rule first (arrays, numbers, strings, functions: most leaves).
  ** is_leaf could not change their fate, so it is not asked; and reading a
  ** userdata's metatable would touch its memory, which for 10,000 arrays
  ** costs more than the rest of the walk. */
  if (t != LUA_TTABLE && t != LUA_TNIL &&
      (t != LUA_TUSERDATA || (!c->registered && !lua_rawequal(L, idx, c->env.none)))) {
    lua_pushvalue(L, idx);
    add_leaf(c);
    return;
  }
  luaL_checkstack(L, 16, "tree too deep");
  int none = t == LUA_TNIL || lua_rawequal(L, idx, c->env.none);
  int leaf = none && c->none_leaf;
  if (!leaf && c->stop && t != LUA_TNIL) {
    lua_pushvalue(L, idx);
    lua_rawget(L, c->stop);
    leaf = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (!leaf && c->leaf_mt && t == LUA_TTABLE && lua_getmetatable(L, idx)) {
    leaf = lua_rawequal(L, -1, c->leaf_mt);
    lua_pop(L, 1);
  }
  if (!leaf && c->is_leaf) {
    lua_pushvalue(L, c->is_leaf);
    lua_pushvalue(L, none ? c->env.none : idx);
    lua_call(L, 1, 1);
    leaf = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (leaf) {
    lua_pushvalue(L, none ? c->env.none : idx);
    add_leaf(c);
    return;
  }
  if (none) {
    finish_node(c, add_node(c, LXB_NODE_NONE), 0, c->nleaves);
    return;
  }
  if (t != LUA_TTABLE && (t != LUA_TUSERDATA || !c->registered)) {
    lua_pushvalue(L, idx);
    add_leaf(c);
    return;
  }
  int32_t n;
  switch (lxb_classify(L, &c->env, idx)) {
    case LXB_NODE_LEAF:
      lua_pushvalue(L, idx);
      add_leaf(c);
      return;
    case LXB_NODE_MODULE:
      lxb_scratch_visit(L, c->s, c->fn, idx);
      flatten_module(c);
      return;
    case LXB_NODE_CUSTOM:
      lxb_scratch_visit(L, c->s, c->fn, idx);
      flatten_custom(c, idx);
      return;
    default:
      lxb_scratch_visit(L, c->s, c->fn, idx);
      if (lxb_table_kind(L, c->s, c->fn, idx, &n) == LXB_NODE_LIST) flatten_list(c, idx, n);
      else flatten_dict(c, idx, n);
      return;
  }
}

/* Pushes the treedef built in c (nodes and metadata). */
static void push_treedef(flat_ctx *c) {
  lua_State *L = c->L;
  int32_t n = c->s->nnodes;
  size_t size = sizeof(lxb_treedef) + (size_t)n * sizeof(lxb_tree_node);
#if LUA_VERSION_NUM >= 504
  lxb_treedef *td = (lxb_treedef *)lua_newuserdatauv(L, size, 1);
#else
  lxb_treedef *td = (lxb_treedef *)lua_newuserdata(L, size);
#endif
  td->nnodes = n;
  td->nleaves = c->nleaves;
  memcpy(td->nodes, c->s->nodes, (size_t)n * sizeof(lxb_tree_node));
  luaL_getmetatable(L, LXB_TREEDEF_MT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, c->metas);
#if LUA_VERSION_NUM >= 504
  lua_setiuservalue(L, -2, 1);
#else
  lua_setfenv(L, -2);
#endif
}

static void check_is_leaf(lua_State *L, int idx, const char *fn) {
  if (!lua_isnoneornil(L, idx) && !lua_isfunction(L, idx)) {
    /* Callable tables are fine too. */
    if (luaL_getmetafield(L, idx, "__call") != LUA_TNIL) {
      lua_pop(L, 1);
      return;
    }
    lxb_tree_error(L, "%s: is_leaf must be a function, got %s", fn, luaL_typename(L, idx));
  }
}

/* flatten(tree, is_leaf, fn, mode [, opts]): mode "flatten" -> leaves,
** treedef; "leaves" -> leaves; "structure" -> treedef; "paths" ->
** {{path, leaf}...}, treedef. The leaf count comes last. opts (for tree_at
** and filters): {stop = set, leaf_mt = metatable, none_leaf = bool}. */
static int l_tree_flatten(lua_State *L) {
  lua_settop(L, 5);
  const char *fn = luaL_optstring(L, 3, "lx.tree.flatten");
  const char *mode = luaL_optstring(L, 4, "flatten");
  check_is_leaf(L, 2, fn);
  flat_ctx c;
  memset(&c, 0, sizeof c);
  c.L = L;
  c.fn = fn;
  c.is_leaf = lua_isnil(L, 2) ? 0 : 2;
  c.want_nodes = strcmp(mode, "leaves") != 0;
  if (lua_istable(L, 5)) {
    lua_getfield(L, 5, "stop");
    c.stop = lua_istable(L, -1) ? lua_gettop(L) : 0;
    lua_getfield(L, 5, "leaf_mt");
    c.leaf_mt = lua_istable(L, -1) ? lua_gettop(L) : 0;
    lua_getfield(L, 5, "none_leaf");
    c.none_leaf = lua_toboolean(L, -1);
  }
  lxb_tree_env_push(L, &c.env);
  lua_pushnil(L);
  c.registered = lua_next(L, c.env.registry) != 0;
  lua_settop(L, c.env.static_name);
  luaL_getmetatable(L, LXB_ARRAY_MT);
  c.array_mt = lua_gettop(L);
  c.s = lxb_scratch_new(L, fn);
  lua_newtable(L);
  c.leaves = lua_gettop(L);
  lua_newtable(L);
  c.metas = lua_gettop(L);
  if (strcmp(mode, "paths") == 0) {
    lua_newtable(L);
    c.paths = lua_gettop(L);
  }
  flatten_value(&c, 1);
  if (strcmp(mode, "leaves") == 0) {
    lua_pushvalue(L, c.leaves);
    lxb_pushcount(L, c.nleaves);
    return 2;
  }
  if (strcmp(mode, "structure") == 0) {
    push_treedef(&c);
    return 1;
  }
  lua_pushvalue(L, c.paths ? c.paths : c.leaves);
  push_treedef(&c);
  lxb_pushcount(L, c.nleaves);
  return 3;
}

/* ----------------------------------------------------------- unflatten */

typedef struct {
  lua_State *L;
  const char *fn;
  const lxb_treedef *td;
  lxb_tree_env env;
  int metas, leaves;
  int box_mt; /* when set, each leaf v is rebuilt as setmetatable({v, i}, box_mt) */
  int32_t pos, leaf;
} unflat_ctx;

static void unflatten_node(unflat_ctx *c);

/* Pushes the next child; nil and lx.none become lx.none (in_module = 0) or nil. */
static void unflatten_child(unflat_ctx *c, int in_module) {
  lua_State *L = c->L;
  unflatten_node(c);
  if (in_module) {
    if (lua_rawequal(L, -1, c->env.none)) {
      lua_pop(L, 1);
      lua_pushnil(L);
    }
  } else if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, c->env.none);
  }
}

static void unflatten_node(unflat_ctx *c) {
  lua_State *L = c->L;
  luaL_checkstack(L, 16, "tree too deep");
  const lxb_tree_node *n = &c->td->nodes[c->pos++];
  switch (n->kind) {
    case LXB_NODE_LEAF:
      if (c->box_mt) {
        lua_createtable(L, 2, 0);
        lua_rawgeti(L, c->leaves, ++c->leaf);
        lua_rawseti(L, -2, 1);
        lxb_pushcount(L, c->leaf);
        lua_rawseti(L, -2, 2);
        lua_pushvalue(L, c->box_mt);
        lua_setmetatable(L, -2);
        return;
      }
      lua_rawgeti(L, c->leaves, ++c->leaf);
      return;
    case LXB_NODE_NONE:
      lua_pushnil(L);
      return;
    case LXB_NODE_LIST:
      lua_createtable(L, n->nchild, 0);
      for (int32_t i = 1; i <= n->nchild; i++) {
        unflatten_child(c, 0);
        lua_rawseti(L, -2, i);
      }
      return;
    case LXB_NODE_DICT:
      lua_rawgeti(L, c->metas, n->meta);
      lua_createtable(L, 0, n->nchild);
      for (int32_t i = 1; i <= n->nchild; i++) {
        lua_rawgeti(L, -2, i);
        unflatten_child(c, 0);
        lua_rawset(L, -3);
      }
      lua_remove(L, -2);
      return;
    case LXB_NODE_MODULE: {
      lua_rawgeti(L, c->metas, n->meta); /* class */
      int cls = lua_gettop(L);
      lua_pushvalue(L, c->env.fields_name);
      lua_rawget(L, cls);
      lua_pushvalue(L, c->env.static_name);
      lua_rawget(L, cls);
      int statics = lua_gettop(L), fields = statics - 1;
      int32_t nstatic = lua_istable(L, statics) ? (int32_t)lxb_rawlen(L, statics) : 0;
      lua_createtable(L, 0, n->nchild + nstatic);
      int store = lua_gettop(L);
      for (int32_t i = 1; i <= n->nchild; i++) {
        lua_rawgeti(L, fields, i);
        unflatten_child(c, 1);
        lua_rawset(L, store);
      }
      if (nstatic > 0) {
        lua_rawgeti(L, c->metas, n->meta + 1);
        for (int32_t i = 1; i <= nstatic; i++) {
          lua_rawgeti(L, statics, i);
          lua_rawgeti(L, -2, i);
          lua_rawset(L, store);
        }
        lua_pop(L, 1);
      }
      lua_createtable(L, 0, 1);
      lua_pushvalue(L, c->env.store_key);
      lua_pushvalue(L, store);
      lua_rawset(L, -3);
      lua_pushvalue(L, cls);
      lua_setmetatable(L, -2);
      lua_replace(L, cls);
      lua_settop(L, cls);
      return;
    }
    default: { /* LXB_NODE_CUSTOM */
      lua_rawgeti(L, c->metas, n->meta); /* metatable */
      lua_rawget(L, c->env.registry);
      if (!lua_istable(L, -1))
        lxb_tree_error(L, "%s: a registered node type of this treedef is no longer registered",
                   c->fn);
      lua_rawgeti(L, -1, 2);
      lua_remove(L, -2);
      lua_rawgeti(L, c->metas, n->meta + 1);
      lua_createtable(L, n->nchild, 0);
      for (int32_t i = 1; i <= n->nchild; i++) {
        unflatten_child(c, 0);
        lua_rawseti(L, -2, i);
      }
      lua_call(L, 2, 1);
      return;
    }
  }
}

/* unflatten(treedef, leaves [, n [, fn [, box_mt]]]): with box_mt (tree_at),
** leaf i is rebuilt as setmetatable({leaves[i], i}, box_mt). */
static int l_tree_unflatten(lua_State *L) {
  const char *fn = luaL_optstring(L, 4, "lx.tree.unflatten");
  lxb_treedef *td = lxb_check_treedef(L, 1, fn);
  if (!lua_istable(L, 2))
    return lxb_tree_error(L, "%s: leaves must be a list, got %s", fn, luaL_typename(L, 2));
  int64_t n = lua_isnoneornil(L, 3) ? (int64_t)lxb_rawlen(L, 2)
                                    : lxb_check_int(L, 3, fn, "the leaf count");
  if (n != td->nleaves)
    return lxb_tree_error(L, "%s: the treedef has %d leaves but %lld were given", fn,
                      (int)td->nleaves, (long long)n);
  int box = lua_istable(L, 5);
  lua_settop(L, 5);
  unflat_ctx c;
  memset(&c, 0, sizeof c);
  c.box_mt = box ? 5 : 0;
  c.L = L;
  c.fn = fn;
  c.td = td;
  c.leaves = 2;
  lxb_tree_env_push(L, &c.env);
  lxb_treedef_metas(L, 1);
  c.metas = lua_gettop(L);
  unflatten_node(&c);
  return 1;
}

/* ------------------------------------------------------- flatten_up_to */

typedef struct {
  lua_State *L;
  const char *fn;
  const char *which; /* "tree 2 does not match the structure of tree 1" */
  const lxb_treedef *td;
  lxb_tree_env env;
  lxb_tree_scratch *s;
  int metas, out;
  int32_t pos, nout;
} upto_ctx;

static int describe_kind(lua_State *L, const lxb_tree_node *n, int metas) {
  switch (n->kind) {
    case LXB_NODE_NONE: lua_pushliteral(L, "an empty subtree (nil or lx.none)"); break;
    case LXB_NODE_LIST: lua_pushfstring(L, "a list of %d", (int)n->nchild); break;
    case LXB_NODE_DICT: lua_pushfstring(L, "a dict of %d keys", (int)n->nchild); break;
    case LXB_NODE_MODULE:
      lua_rawgeti(L, metas, n->meta);
      lua_getfield(L, -1, "__name");
      lua_pushfstring(L, "a %s module", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
      lua_replace(L, -3);
      lua_pop(L, 1);
      break;
    default: lua_pushliteral(L, "a registered node"); break;
  }
  return 1;
}

static void push_found(lua_State *L, int idx, const lxb_tree_env *env) {
  if (lua_isnil(L, idx) || lua_rawequal(L, idx, env->none)) {
    lua_pushliteral(L, "an empty subtree (nil or lx.none)");
  } else if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    lua_pushfstring(L, "a %s (%s)", lua_tostring(L, -1), luaL_typename(L, idx));
    lua_remove(L, -2);
  } else if (lua_istable(L, idx)) {
    int count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      count++;
      lua_pop(L, 1);
    }
    if (count == (int)lxb_rawlen(L, idx)) lua_pushfstring(L, "a list of %d", count);
    else lua_pushfstring(L, "a table with %d keys", count);
  } else {
    lua_pushfstring(L, "a %s", luaL_typename(L, idx));
  }
}

static void upto_mismatch(upto_ctx *c, int idx, const lxb_tree_node *n, const char *detail) {
  lua_State *L = c->L;
  lxb_push_keystr(L, c->s, c->s->depth);
  describe_kind(L, n, c->metas);
  push_found(L, idx, &c->env);
  lxb_tree_error(L, "%s: %s at %s: expected %s, got %s%s", c->fn, c->which, lua_tostring(L, -3), lua_tostring(L, -2),
             lua_tostring(L, -1), detail);
}

static void upto_node(upto_ctx *c, int idx);

static void upto_child(upto_ctx *c) {
  upto_node(c, lua_gettop(c->L));
  lua_pop(c->L, 1);
  c->s->depth--;
}

static void upto_node(upto_ctx *c, int idx) {
  lua_State *L = c->L;
  luaL_checkstack(L, 16, "tree too deep");
  const lxb_tree_node *n = &c->td->nodes[c->pos++];
  if (n->kind == LXB_NODE_LEAF) {
    if (lua_isnil(L, idx)) lua_pushvalue(L, c->env.none);
    else lua_pushvalue(L, idx);
    lua_rawseti(L, c->out, ++c->nout);
    return;
  }
  lxb_scratch_visit(L, c->s, c->fn, idx);
  int base = lua_gettop(L);
  lxb_node_kind kind = lxb_classify(L, &c->env, idx);
  int32_t count = 0;
  if (kind == LXB_NODE_LIST) kind = lxb_table_kind(L, c->s, c->fn, idx, &count);
  if ((int)kind != n->kind) upto_mismatch(c, idx, n, "");
  switch (kind) {
    case LXB_NODE_NONE: return;
    case LXB_NODE_LIST:
      if (count != n->nchild) upto_mismatch(c, idx, n, "");
      for (int32_t i = 1; i <= count; i++) {
        lxb_scratch_descend(L, c->s, c->fn);
        lxb_scratch_key_int(c->s, i);
        lua_rawgeti(L, idx, i);
        upto_child(c);
      }
      return;
    case LXB_NODE_DICT: {
      lua_rawgeti(L, c->metas, n->meta);
      int want = lua_gettop(L);
      int same = count == n->nchild && lxb_keys_match(L, c->s, want);
      if (!same) upto_mismatch(c, idx, n, " (the keys differ)");
      for (int32_t i = 1; i <= count; i++) {
        lxb_scratch_descend(L, c->s, c->fn);
        lua_rawgeti(L, want, i);
        lxb_scratch_key(L, c->s, -1);
        lua_rawget(L, idx);
        upto_child(c);
      }
      lua_settop(L, base);
      return;
    }
    case LXB_NODE_MODULE: {
      int store = base + 4, statics = base + 3, fields = base + 2, cls = base + 1;
      lua_rawgeti(L, c->metas, n->meta);
      if (!lua_rawequal(L, -1, cls)) upto_mismatch(c, idx, n, "");
      lua_pop(L, 1);
      int32_t nstatic = (int32_t)lxb_rawlen(L, statics);
      if (nstatic > 0) {
        lua_rawgeti(L, c->metas, n->meta + 1);
        for (int32_t i = 1; i <= nstatic; i++) {
          lua_rawgeti(L, statics, i);
          lua_rawget(L, store);
          lua_rawgeti(L, -2, i);
          if (!lxb_value_equal(L, -1, -2, 0)) {
            lua_rawgeti(L, statics, i);
            lua_pushfstring(L, " (static field '%s' differs)", lua_tostring(L, -1));
            upto_mismatch(c, idx, n, lua_tostring(L, -1));
          }
          lua_pop(L, 2);
        }
        lua_pop(L, 1);
      }
      for (int32_t i = 1; i <= n->nchild; i++) {
        lxb_scratch_descend(L, c->s, c->fn);
        lua_rawgeti(L, fields, i);
        lxb_scratch_key(L, c->s, -1);
        lua_rawget(L, store);
        upto_child(c);
      }
      lua_settop(L, base);
      return;
    }
    default: { /* LXB_NODE_CUSTOM: stack has registration, metatable */
      int mt = base + 2, reg = base + 1;
      lua_rawgeti(L, c->metas, n->meta);
      if (!lua_rawequal(L, -1, mt)) upto_mismatch(c, idx, n, "");
      lua_pop(L, 1);
      lua_rawgeti(L, reg, 1);
      lua_pushvalue(L, idx);
      lua_call(L, 1, 2);
      int aux = lua_gettop(L), children = aux - 1;
      lua_rawgeti(L, c->metas, n->meta + 1);
      if (!lua_istable(L, children) || (int32_t)lxb_rawlen(L, children) != n->nchild ||
          !lxb_value_equal(L, -1, aux, 0))
        upto_mismatch(c, idx, n, " (children or aux data differ)");
      for (int32_t i = 1; i <= n->nchild; i++) {
        lxb_scratch_descend(L, c->s, c->fn);
        lxb_scratch_key_int(c->s, i);
        lua_rawgeti(L, children, i);
        upto_child(c);
      }
      lua_settop(L, base);
      return;
    }
  }
}

/* flatten_up_to(treedef, tree [, fn [, which]]) -> list of subtrees, one per leaf. */
static int l_tree_flatten_up_to(lua_State *L) {
  const char *fn = luaL_optstring(L, 3, "treedef:flatten_up_to");
  const char *which = luaL_optstring(L, 4, "the tree does not match the treedef");
  lxb_treedef *td = lxb_check_treedef(L, 1, fn);
  lua_settop(L, 4);
  upto_ctx c;
  memset(&c, 0, sizeof c);
  c.L = L;
  c.fn = fn;
  c.which = which;
  c.td = td;
  lxb_tree_env_push(L, &c.env);
  c.s = lxb_scratch_new(L, fn);
  lxb_treedef_metas(L, 1);
  c.metas = lua_gettop(L);
  lua_createtable(L, td->nleaves, 0);
  c.out = lua_gettop(L);
  upto_node(&c, 2);
  lua_pushvalue(L, c.out);
  return 1;
}

/* ------------------------------------------------------------ register */

static int l_tree_register(lua_State *L) {
  const char *fn = "lx.tree.register";
  if (!lua_istable(L, 1))
    return lxb_tree_error(L, "%s: the metatable must be a table, got %s", fn,
                          luaL_typename(L, 1));
  if (!lua_isfunction(L, 2))
    return lxb_tree_error(L, "%s: flatten must be a function, got %s", fn, luaL_typename(L, 2));
  if (!lua_isfunction(L, 3))
    return lxb_tree_error(L, "%s: unflatten must be a function, got %s", fn, luaL_typename(L, 3));
  lua_getfield(L, 1, "__lx_fields");
  if (!lua_isnil(L, -1))
    return lxb_tree_error(L, "%s: Module classes are pytree nodes already", fn);
  lua_pop(L, 1);
  luaL_getmetatable(L, LXB_ARRAY_MT);
  int is_array = lua_rawequal(L, -1, 1);
  lua_pop(L, 1);
  if (is_array) return lxb_tree_error(L, "%s: arrays are leaves and cannot be registered", fn);
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.tree_registry");
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) {
    lua_getfield(L, 1, "__name");
    return lxb_tree_error(L, "%s: this metatable (%s) is registered already", fn,
                      lua_isstring(L, -1) ? lua_tostring(L, -1) : "no __name");
  }
  lua_pop(L, 1);
  lua_pushvalue(L, 1);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, 3);
  lua_rawseti(L, -2, 2);
  lua_rawset(L, -3);
  return 0;
}

/* keystr(path): ".layers[2].weight" */
static int l_tree_keystr(lua_State *L) {
  const char *fn = "lx.tree.keystr";
  if (!lua_istable(L, 1))
    return lxb_tree_error(L, "%s: path must be a list of keys, got %s", fn, luaL_typename(L, 1));
  int n = (int)lxb_rawlen(L, 1);
  lxb_tree_scratch *s = lxb_scratch_new(L, fn);
  int keys = lua_gettop(L) + 1;
  lua_createtable(L, n, 0); /* keeps the key strings alive */
  for (int i = 1; i <= n; i++) {
    lxb_scratch_descend(L, s, fn);
    lua_rawgeti(L, 1, i);
    int t = lua_type(L, -1);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
      return lxb_tree_error(L, "%s: path[%d] must be a string or a number, got %s", fn, i,
                        luaL_typename(L, -1));
    lxb_scratch_key(L, s, -1);
    lua_rawseti(L, keys, i);
  }
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lxb_push_keystr(L, s, n);
  return 1;
}

void lxb_register_tree(lua_State *L) {
  lxb_register_treedef_type(L);
  /* The none sentinel: a userdata, so no table rule can mistake it for a node. */
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.none");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lxb_newuserdata(L, 1);
    luaL_newmetatable(L, LXB_NONE_MT);
    lua_pushliteral(L, "none");
    lua_setfield(L, -2, "__name");
    luaL_loadstring(L, "return 'none'");
    lua_setfield(L, -2, "__tostring");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "lunox.none");
  }
  lua_setfield(L, -2, "none");
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.tree_store_key");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "lunox.tree_store_key");
  }
  lua_setfield(L, -2, "tree_store_key");
  lua_getfield(L, LUA_REGISTRYINDEX, "lunox.tree_registry");
  if (lua_isnil(L, -1)) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "lunox.tree_registry");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {
    {"tree_flatten", l_tree_flatten},
    {"tree_unflatten", l_tree_unflatten},
    {"tree_flatten_up_to", l_tree_flatten_up_to},
    {"tree_register", l_tree_register},
    {"tree_keystr", l_tree_keystr},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
  luaL_getmetatable(L, LXB_TREEDEF_MT);
  lua_getfield(L, -1, "methods");
  lua_setfield(L, -3, "treedef_methods");
  lua_pop(L, 1);
}
