/*
** binding_bytesio.c — lx.BytesIO: an in-memory file with the methods of a
** Lua file (write, read, seek, close) plus getvalue, like Python's
** io.BytesIO. Serialisation reads and writes it directly (binding_io.c).
*/
#include "binding_io.h"

#include <stdlib.h>
#include <string.h>

lxb_bytesio *lxb_test_bytesio(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LXB_BYTESIO_MT);
}

static lxb_bytesio *check_open(lua_State *L, const char *fn) {
  lxb_bytesio *b = luaL_testudata(L, 1, LXB_BYTESIO_MT);
  if (!b) lxb_error(L, fn, "expected a BytesIO as self, got %s", luaL_typename(L, 1));
  if (b->closed) lxb_error(L, fn, "attempt to use a closed BytesIO");
  return b;
}

char *lxb_bytesio_reserve(lxb_bytesio *b, size_t n) {
  if (n > SIZE_MAX - b->pos) {
    lx_set_error(LX_ERR_MEMORY, "BytesIO: size overflows");
    return NULL;
  }
  size_t end = b->pos + n;
  if (end > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < end) cap = cap > SIZE_MAX / 2 ? end : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) {
      lx_set_error(LX_ERR_MEMORY, "BytesIO: out of memory growing to %zu bytes", end);
      return NULL;
    }
    b->data = p;
    b->cap = cap;
  }
  /* A seek past the end leaves a gap, which reads back as zeros. */
  if (b->pos > b->len) memset(b->data + b->len, 0, b->pos - b->len);
  if (end > b->len) b->len = end;
  char *at = b->data + b->pos;
  b->pos = end;
  return at;
}

/* lx.BytesIO([bytes]): positioned at the start, like Python's. */
static int l_new(lua_State *L) {
  size_t n = 0;
  const char *init = NULL;
  if (!lua_isnoneornil(L, 1)) init = lxb_check_string(L, 1, "lx.BytesIO", "the initial bytes");
  if (init) lua_tolstring(L, 1, &n);
  lxb_bytesio *b = lxb_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, LXB_BYTESIO_MT);
  if (n > 0) {
    if (!lxb_bytesio_reserve(b, n)) return lxb_raise_in(L, "lx.BytesIO");
    memcpy(b->data, init, n);
    b->pos = 0;
  }
  return 1;
}

/* f:write(...): strings and numbers, as Lua files take them; returns f. */
static int m_write(lua_State *L) {
  lxb_bytesio *b = check_open(L, "BytesIO:write");
  int n = lua_gettop(L);
  for (int i = 2; i <= n; i++) {
    int t = lua_type(L, i);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
      return lxb_error(L, "BytesIO:write", "argument %d must be a string or a number, got %s",
                       i - 1, luaL_typename(L, i));
    size_t len;
    const char *s = lua_tolstring(L, i, &len);
    char *dst = lxb_bytesio_reserve(b, len);
    if (!dst) return lxb_raise_in(L, "BytesIO:write");
    memcpy(dst, s, len);
  }
  lua_settop(L, 1);
  return 1;
}

static size_t available(const lxb_bytesio *b) { return b->pos < b->len ? b->len - b->pos : 0; }

/* One line; with the newline when keep_nl. Pushes nil at the end. */
static int read_line(lua_State *L, lxb_bytesio *b, int keep_nl) {
  size_t avail = available(b);
  if (avail == 0) {
    lua_pushnil(L);
    return 0;
  }
  const char *start = b->data + b->pos;
  const char *nl = memchr(start, '\n', avail);
  size_t n = nl ? (size_t)(nl - start) + 1 : avail;
  lua_pushlstring(L, start, nl && !keep_nl ? n - 1 : n);
  b->pos += n;
  return 1;
}

/* A numeral as Lua files read it ("n"): the longest prefix that looks like
** one (at most 200 bytes), converted by Lua; nil when it is not a number. */
static int read_number(lua_State *L, lxb_bytesio *b) {
  while (available(b) && strchr(" \t\n\r\f\v", b->data[b->pos]) && b->data[b->pos])
    b->pos++;
  char buf[201];
  size_t n = 0;
  while (n < 200 && available(b) && strchr("0123456789abcdefABCDEFxX.+-pP", b->data[b->pos]) &&
         b->data[b->pos]) {
    buf[n++] = b->data[b->pos++];
  }
  buf[n] = 0;
#if LUA_VERSION_NUM >= 503
  if (n > 0 && lua_stringtonumber(L, buf) == n + 1) return 1;
#else
  char *end;
  double d = strtod(buf, &end);
  if (n > 0 && *end == 0) {
    lua_pushnumber(L, d);
    return 1;
  }
#endif
  lua_pushnil(L);
  return 0;
}

/* f:read(...): formats n (bytes), "a", "l", "L", "n" (with or without a
** leading '*'), as Lua files; nil at the end of the data. */
static int m_read(lua_State *L) {
  lxb_bytesio *b = check_open(L, "BytesIO:read");
  int nargs = lua_gettop(L) - 1;
  if (nargs == 0) {
    read_line(L, b, 0);
    return 1;
  }
  int i;
  for (i = 2; i <= nargs + 1; i++) {
    int ok;
    if (lua_type(L, i) == LUA_TNUMBER) {
      lua_Number want = lua_tonumber(L, i);
      if (!(want >= 0)) return lxb_error(L, "BytesIO:read", "the byte count must be >= 0");
      size_t avail = available(b);
      if (avail == 0 && want > 0) {
        lua_pushnil(L);
        ok = 0;
      } else if (want == 0) {
        /* Lua files: "" when not at the end, nil at the end. */
        if (avail) lua_pushliteral(L, "");
        else lua_pushnil(L);
        ok = avail != 0;
      } else {
        size_t n = want >= (lua_Number)avail ? avail : (size_t)want;
        lua_pushlstring(L, b->data + b->pos, n);
        b->pos += n;
        ok = 1;
      }
    } else {
      const char *fmt = lxb_check_string(L, i, "BytesIO:read", "a format");
      if (*fmt == '*') fmt++;
      switch (*fmt) {
        case 'a': {
          size_t avail = available(b);
          lua_pushlstring(L, avail ? b->data + b->pos : "", avail);
          b->pos += avail;
          ok = 1;
          break;
        }
        case 'l': ok = read_line(L, b, 0); break;
        case 'L': ok = read_line(L, b, 1); break;
        case 'n': ok = read_number(L, b); break;
        default:
          return lxb_error(L, "BytesIO:read", "invalid format '%s'", lua_tostring(L, i));
      }
    }
    if (!ok) return i - 1;
  }
  return i - 2;
}

/* f:seek([whence [, offset]]): the new position from the start; like Lua
** files, a position before the start gives nil, message, code. */
static int m_seek(lua_State *L) {
  lxb_bytesio *b = check_open(L, "BytesIO:seek");
  static const char *const modes[] = {"set", "cur", "end", NULL};
  int mode = luaL_checkoption(L, 2, "cur", modes);
  lua_Number off = luaL_optnumber(L, 3, 0);
  lua_Number base = mode == 0 ? 0 : mode == 1 ? (lua_Number)b->pos : (lua_Number)b->len;
  lua_Number to = base + off;
  if (to < 0 || to != to || to > 9.0e15) {
    lua_pushnil(L);
    lua_pushliteral(L, "Invalid argument");
    lua_pushinteger(L, 22);
    return 3;
  }
  b->pos = (size_t)to;
  lxb_pushcount(L, (int64_t)b->pos);
  return 1;
}

static int m_getvalue(lua_State *L) {
  lxb_bytesio *b = check_open(L, "BytesIO:getvalue");
  lua_pushlstring(L, b->len ? b->data : "", b->len);
  return 1;
}

static int m_flush(lua_State *L) {
  check_open(L, "BytesIO:flush");
  lua_settop(L, 1);
  return 1;
}

static int m_close(lua_State *L) {
  lxb_bytesio *b = luaL_checkudata(L, 1, LXB_BYTESIO_MT);
  free(b->data);
  b->data = NULL;
  b->len = b->cap = b->pos = 0;
  b->closed = 1;
  lua_pushboolean(L, 1);
  return 1;
}

static int l_gc(lua_State *L) {
  lxb_bytesio *b = luaL_checkudata(L, 1, LXB_BYTESIO_MT);
  free(b->data);
  b->data = NULL;
  return 0;
}

static int l_len(lua_State *L) {
  lxb_bytesio *b = luaL_checkudata(L, 1, LXB_BYTESIO_MT);
  lxb_pushcount(L, (int64_t)b->len);
  return 1;
}

static int l_tostring(lua_State *L) {
  lxb_bytesio *b = luaL_checkudata(L, 1, LXB_BYTESIO_MT);
  if (b->closed) lua_pushliteral(L, "BytesIO (closed)");
  else lua_pushfstring(L, "BytesIO (%d bytes, at %d)", (int)b->len, (int)b->pos);
  return 1;
}

void lxb_register_bytesio(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"write", m_write}, {"read", m_read}, {"seek", m_seek}, {"getvalue", m_getvalue},
    {"flush", m_flush}, {"close", m_close}, {NULL, NULL},
  };
  if (luaL_newmetatable(L, LXB_BYTESIO_MT)) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, m_close);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushliteral(L, "BytesIO");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "BytesIO");
}
