/*
** binding_tree.h — the pytree core shared by the tree files of the binding:
** node records, the treedef userdata, key paths and classification.
**
** A treedef is a full userdata holding its nodes in pre-order (each with the
** size of its subtree, so a walker can skip one) and a Lua table of the
** metadata that nodes refer to by index: dict keys, Module classes and their
** static values, registered types' metatables, aux data and keys.
*/
#ifndef LX_BINDING_TREE_H
#define LX_BINDING_TREE_H

#include "binding_internal.h"

#include <stddef.h>
#include <stdint.h>

#define LXB_TREEDEF_MT "lunox.treedef"
#define LXB_NONE_MT "lunox.none"
/* Nesting deeper than this is an error (the walkers recurse in C). */
#define LXB_TREE_MAX_DEPTH 1000

typedef enum {
  LXB_NODE_LEAF,
  LXB_NODE_NONE,   /* nil Module field or lx.none: an empty subtree */
  LXB_NODE_LIST,   /* plain table with keys 1..n */
  LXB_NODE_DICT,   /* plain table with number/string keys; meta: sorted keys list */
  LXB_NODE_MODULE, /* meta: class; meta+1: list of static values (when any) */
  LXB_NODE_CUSTOM  /* meta: metatable; meta+1: aux; meta+2: keys list or nil */
} lxb_node_kind;

typedef struct {
  int32_t kind;
  int32_t nchild;  /* direct children */
  int32_t nleaves; /* leaves in the subtree */
  int32_t nnodes;  /* nodes in the subtree, this one included */
  int32_t meta;    /* index into the metadata table; 0 when none */
} lxb_tree_node;

typedef struct {
  int32_t nnodes, nleaves;
  lxb_tree_node nodes[];
} lxb_treedef;

/* A table key as the walkers see it: one step of a key path, or a dict key
** being sorted. Strings point into Lua strings that stay referenced while
** the walk runs. */
typedef struct {
  int is_num, is_int; /* a number (integer-valued or not), else a string */
  int64_t i;
  double d;
  const char *s;
  size_t len;
} lxb_key;

/* Reads the key at idx; returns 0 when it is neither a number nor a string. */
int lxb_read_key(lua_State *L, int idx, lxb_key *k);
/* Pushes the key as a Lua value. */
void lxb_push_key(lua_State *L, const lxb_key *k);

/* The walk's scratch memory: grown with realloc, owned by a userdata on the
** Lua stack so that an error anywhere (including in user callbacks) frees it
** through __gc. */
typedef struct {
  lxb_tree_node *nodes;
  int32_t nnodes, cap;
  lxb_key *path;
  const void **ancestors;
  int depth, depth_cap;
  lxb_key *keys; /* the last table's keys, sorted when it is a dict */
  int32_t nkeys, keys_cap;
} lxb_tree_scratch;

/* Pushes a new scratch userdata and returns it (at depth 0, the root). */
lxb_tree_scratch *lxb_scratch_new(lua_State *L, const char *fn);
/* Goes one level down (path[depth] then names the child's key): checks the
** depth limit and grows the arrays. Raises naming fn. The caller sets the
** key, calls lxb_scratch_visit, and decrements s->depth when done. */
void lxb_scratch_descend(lua_State *L, lxb_tree_scratch *s, const char *fn);
/* Records the value at idx as the node at the current depth; raises naming
** fn when a table or userdata is one of its own ancestors (a cycle). */
void lxb_scratch_visit(lua_State *L, lxb_tree_scratch *s, const char *fn, int idx);
/* Sets the key of the current depth from the Lua value at idx. */
void lxb_scratch_key(lua_State *L, lxb_tree_scratch *s, int idx);
void lxb_scratch_key_int(lxb_tree_scratch *s, int64_t i);
/* Adds one key to a buffer as keystr writes it. */
void lxb_add_key(luaL_Buffer *b, const lxb_key *k);
/* Pushes the key path of the first `depth` steps as a string (".a[2]"), or
** "the root" when depth is 0. */
void lxb_push_keystr(lua_State *L, const lxb_tree_scratch *s, int depth);

/* The shared Lua values the walkers need, kept in stack slots. */
typedef struct {
  int none;        /* lx.none */
  int store_key;   /* key of a Module instance's field table */
  int registry;    /* registered types: metatable -> {flatten, unflatten} */
  int fields_name; /* the string "__lx_fields" */
  int static_name; /* the string "__lx_static" */
} lxb_tree_env;

/* Pushes the five values and fills env with their (absolute) indices. */
void lxb_tree_env_push(lua_State *L, lxb_tree_env *env);

/* What the value at idx is as a pytree node, ignoring is_leaf. For MODULE
** pushes the class, the fields list, the statics list and the store (4
** values); for CUSTOM pushes the registration {flatten, unflatten} and the
** metatable (2 values); otherwise pushes nothing. */
lxb_node_kind lxb_classify(lua_State *L, const lxb_tree_env *env, int idx);

/* For a plain table at idx: LIST (with *n its length) or DICT (*n keys,
** left sorted in s->keys until the next call). Raises naming fn and the
** path when a key cannot be ordered or a list has a hole. */
lxb_node_kind lxb_table_kind(lua_State *L, lxb_tree_scratch *s, const char *fn, int idx,
                             int32_t *n);
/* Whether the keys list at index `keys` holds exactly s->keys. */
int lxb_keys_match(lua_State *L, const lxb_tree_scratch *s, int keys);
/* Pushes s->keys as a list. */
void lxb_push_keys(lua_State *L, const lxb_tree_scratch *s);

/* The treedef at idx, or raises naming fn. */
lxb_treedef *lxb_check_treedef(lua_State *L, int idx, const char *fn);
/* Pushes the metadata table of the treedef at idx. */
void lxb_treedef_metas(lua_State *L, int idx);
/* Structural equality of two Lua values used as static fields or aux data:
** plain tables compare by contents, everything else with == . */
int lxb_value_equal(lua_State *L, int a, int b, int depth);

/* Raises a message formatted with vsnprintf, without a position: tree
** errors name the function and the key path instead (does not return). */
int lxb_tree_error(lua_State *L, const char *fmt, ...);

void lxb_register_tree(lua_State *L); /* fills the module table at -1 */
void lxb_register_treedef_type(lua_State *L);

#endif
