/*
** binding_io.c — streams over Lua file objects, .npy records for the .eqx
** format (lua/lunox/serialise.lua drives them), and the system calls that
** atomic writes need (a temp file beside the target, fsync, rename).
**
** io.open handles and lx.BytesIO are read and written directly (stdio and
** memcpy); any other object goes through its own read/write/seek methods,
** called protected so that a Lua error inside them becomes an lx error and
** never unwinds through the runtime's C frames.
*/
#include "binding_io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if LUA_VERSION_NUM < 502
#include <lualib.h> /* LUA_FILEHANDLE */
#endif

/* ------------------------------------------------------------ file handles */

/* The FILE* of an io library handle, or NULL when idx holds none; *closed
** tells a closed handle apart. Lua 5.4's handles are luaL_Stream (closef is
** NULL once closed); LuaJIT's begin with the FILE* too, and set it to NULL
** when closed. */
static FILE *test_file_handle(lua_State *L, int idx, int *closed) {
  void *ud = luaL_testudata(L, idx, LUA_FILEHANDLE);
  *closed = 0;
  if (!ud) return NULL;
#if LUA_VERSION_NUM >= 502
  luaL_Stream *p = ud;
  if (p->closef == NULL) {
    *closed = 1;
    return NULL;
  }
  return p->f;
#else
  FILE *f = *(FILE **)ud;
  if (!f) *closed = 1;
  return f;
#endif
}

/* ------------------------------------------------------------ BytesIO streams */

static int64_t bytesio_read(void *ctx, void *dst, size_t n) {
  lxb_bytesio *b = ctx;
  if (b->closed) {
    lx_set_error(LX_ERR_IO, "the BytesIO was closed");
    return -1;
  }
  size_t avail = b->pos < b->len ? b->len - b->pos : 0;
  if (n > avail) n = avail;
  if (n) memcpy(dst, b->data + b->pos, n);
  b->pos += n;
  return (int64_t)n;
}

static lx_status bytesio_write(void *ctx, const void *src, size_t n) {
  lxb_bytesio *b = ctx;
  if (b->closed) return lx_set_error(LX_ERR_IO, "the BytesIO was closed");
  char *dst = lxb_bytesio_reserve(b, n);
  if (!dst) return LX_ERR_MEMORY;
  if (n) memcpy(dst, src, n);
  return LX_OK;
}

/* ------------------------------------------------------------ object streams */

/* Body of call_method, run protected: looking the method up may run an
** __index metamethod, which may raise too. Stack: obj, method name, args. */
static int method_call_body(lua_State *L) {
  int nargs = lua_gettop(L) - 2;
  lua_pushvalue(L, 2);
  lua_gettable(L, 1);
  lua_replace(L, 2);     /* obj, method, args */
  lua_pushvalue(L, 2);
  lua_insert(L, 1);      /* method, obj, method, args */
  lua_remove(L, 3);      /* method, obj, args */
  lua_call(L, nargs + 1, 1);
  return 1;
}

/* Calls obj:<method>(args on the stack top) protected; leaves one result.
** On error sets the lx error from the Lua message: a Lua error must never
** unwind through the runtime's frames, which hold buffers and arrays. */
static int call_method(lxb_stream *s, const char *method, int nargs) {
  lua_State *L = s->L;
  if (!lua_checkstack(L, 4)) {
    lx_set_error(LX_ERR_MEMORY, "%s:%s(): Lua stack overflow", s->name, method);
    lua_pop(L, nargs);
    return 0;
  }
  lua_pushcfunction(L, method_call_body);
  lua_pushvalue(L, s->obj);
  lua_pushstring(L, method);
  for (int i = 0; i < 3; i++) lua_insert(L, -nargs - 3);
  if (lua_pcall(L, nargs + 2, 1, 0) != 0) {
    const char *msg = lua_tostring(L, -1);
    lx_set_error(LX_ERR_IO, "%s:%s() failed: %s", s->name, method, msg ? msg : "(no message)");
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

static int64_t object_read(void *ctx, void *dst, size_t n) {
  lxb_stream *s = ctx;
  lua_State *L = s->L;
  if (n == 0) return 0;
  lxb_pushcount(L, (int64_t)n);
  if (!call_method(s, "read", 1)) return -1;
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  size_t got;
  const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &got) : NULL;
  if (!p || got > n) {
    lx_set_error(LX_ERR_IO, "%s:read(%zu) returned %s", s->name, n,
                 p ? "more bytes than asked for" : luaL_typename(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  memcpy(dst, p, got);
  lua_pop(L, 1);
  return (int64_t)got;
}

/* Pushes a copy of n bytes, protected: a memory error sets the lx error. */
static int push_bytes_body(lua_State *L) {
  lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tonumber(L, 2));
  return 1;
}

static lx_status object_write(void *ctx, const void *src, size_t n) {
  lxb_stream *s = ctx;
  lua_State *L = s->L;
  if (!lua_checkstack(L, 6)) return lx_set_error(LX_ERR_MEMORY, "Lua stack overflow");
  lua_pushcfunction(L, push_bytes_body);
  lua_pushlightuserdata(L, (void *)(n ? src : ""));
  lua_pushnumber(L, (lua_Number)n);
  if (lua_pcall(L, 2, 1, 0) != 0) {
    lua_pop(L, 1);
    return lx_set_error(LX_ERR_MEMORY, "out of memory passing %zu bytes to %s:write()", n,
                        s->name);
  }
  if (!call_method(s, "write", 1)) return LX_ERR_IO;
  /* Lua files return the file, or nil + message on failure. */
  int failed = lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1));
  lua_pop(L, 1);
  if (failed) return lx_set_error(LX_ERR_IO, "%s:write() failed", s->name);
  return LX_OK;
}

/* Positions of objects without a seek method, by object (weak keys). */
#define LXB_POSITIONS_KEY "lunox.stream_positions"

static void push_positions(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LXB_POSITIONS_KEY);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LXB_POSITIONS_KEY);
  }
}

static int has_seek(lxb_stream *s) {
  lua_getfield(s->L, s->obj, "seek");
  int yes = !lua_isnil(s->L, -1);
  lua_pop(s->L, 1);
  return yes;
}

/* What lunox has read or written through the object so far. */
static uint64_t remembered_position(lxb_stream *s) {
  lua_State *L = s->L;
  push_positions(L);
  lua_pushvalue(L, s->obj);
  lua_rawget(L, -2);
  double pos = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
  lua_pop(L, 2);
  return (uint64_t)pos;
}

/* The object's current position: obj:seek("cur") when it has a seek
** method that answers with a number, else the remembered one. */
static uint64_t object_position(lxb_stream *s) {
  lua_State *L = s->L;
  if (!has_seek(s)) {
    s->remember = 1;
    return remembered_position(s);
  }
  lua_pushliteral(L, "cur");
  if (!call_method(s, "seek", 1)) return 0;
  double pos = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
  lua_pop(L, 1);
  return pos > 0 ? (uint64_t)pos : 0;
}

void lxb_stream_close(lxb_stream *s) {
  if (!s->remember) return;
  lua_State *L = s->L;
  uint64_t pos = s->reader.offset > s->writer.offset ? s->reader.offset : s->writer.offset;
  push_positions(L);
  lua_pushvalue(L, s->obj);
  lua_pushnumber(L, (lua_Number)pos);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* ------------------------------------------------------------ any stream */

void lxb_stream_open(lua_State *L, int idx, const char *name, const char *fn, lxb_stream *s) {
  idx = lxb_absindex(L, idx);
  memset(s, 0, sizeof *s);
  s->L = L;
  s->obj = idx;
  int closed;
  FILE *fp = test_file_handle(L, idx, &closed);
  if (closed) lxb_error(L, fn, "attempt to use a closed file");
  lxb_bytesio *bio = fp ? NULL : lxb_test_bytesio(L, idx);
  if (bio && bio->closed) lxb_error(L, fn, "attempt to use a closed BytesIO");
  snprintf(s->name, sizeof s->name, "%s",
           name ? name : fp ? "<file>" : bio ? "<BytesIO>" : "<stream>");
  if (fp) {
    s->kind = LXB_STREAM_FILE;
    s->fp = fp;
    lx_reader_stdio(&s->reader, fp, s->name);
    lx_writer_stdio(&s->writer, fp, s->name);
    /* A pipe has no position to ask for: count what passes through it. */
    if (ftello(fp) < 0) {
      s->remember = 1;
      s->reader.offset = s->writer.offset = remembered_position(s);
    }
    return;
  }
  if (bio) {
    s->kind = LXB_STREAM_BYTESIO;
    s->bio = bio;
    s->reader = (lx_reader){.read = bytesio_read, .ctx = bio, .name = s->name,
                            .offset = bio->pos,
                            .remaining = bio->pos < bio->len ? (int64_t)(bio->len - bio->pos) : 0};
    s->writer = (lx_writer){.write = bytesio_write, .ctx = bio, .name = s->name,
                            .offset = bio->pos};
    return;
  }
  int t = lua_type(L, idx);
  if (t != LUA_TTABLE && t != LUA_TUSERDATA)
    lxb_error(L, fn, "expected a path or a file object (io.open handle, lx.BytesIO, or an "
              "object with read/write methods), got %s", luaL_typename(L, idx));
  s->kind = LXB_STREAM_OBJECT;
  uint64_t pos = object_position(s);
  s->reader = (lx_reader){.read = object_read, .ctx = s, .name = s->name, .offset = pos,
                          .remaining = -1};
  s->writer = (lx_writer){.write = object_write, .ctx = s, .name = s->name, .offset = pos};
}

/* ------------------------------------------------------------ .npy records */

static const char *opt_name(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
}

/* core.npy_write(file, value [, name]): one record, as numpy.save writes
** it. value: an array, a number (0-d int64 for integers — on LuaJIT, for
** integral numbers within 2^53 — else float64) or a boolean (0-d bool). */
static int l_npy_write(lua_State *L) {
  const char *fn = "tree_serialise_leaves";
  lxb_stream s;
  lxb_stream_open(L, 1, opt_name(L, 3), fn, &s);
  lx_array *a = lxb_test_array(L, 2), *tmp = NULL;
  lx_status st = LX_OK;
  if (!a) {
    int t = lua_type(L, 2);
    if (t == LUA_TBOOLEAN) {
      st = lx_scalar(lx_device_cpu(), LX_BOOL, lua_toboolean(L, 2), &tmp);
    } else if (t == LUA_TNUMBER) {
      lua_Number d = lua_tonumber(L, 2);
      if (lxb_isinteger(L, 2))
        st = lx_scalar_int64(lx_device_cpu(), LX_INT64, (int64_t)lua_tointeger(L, 2), &tmp);
#if LUA_VERSION_NUM < 503
      else if (d == (lua_Number)(int64_t)d && d > -9007199254740992.0 &&
               d < 9007199254740992.0)
        st = lx_scalar_int64(lx_device_cpu(), LX_INT64, (int64_t)d, &tmp);
#endif
      else
        st = lx_scalar(lx_device_cpu(), LX_FLOAT64, d, &tmp);
    } else {
      return lxb_error(L, fn, "cannot save a %s as a .npy record", luaL_typename(L, 2));
    }
    if (st != LX_OK) return lxb_raise_in(L, fn);
    a = tmp;
  }
  st = lx_npy_write(&s.writer, a);
  lx_array_release(tmp);
  if (st != LX_OK) return lxb_raise_in(L, fn);
  lxb_stream_close(&s);
  return 0;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_count(lua_State *L, const char *k, uint64_t v) {
  lxb_pushcount(L, (int64_t)v);
  lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* core.npy_read_header(file [, name]) -> header table, or nil at a clean
** end of the stream. The table: dtype, shape, descr, fortran_order,
** big_endian, version, nbytes, offset, data_offset. */
static int l_npy_read_header(lua_State *L) {
  const char *fn = "tree_deserialise_leaves";
  lxb_stream s;
  lxb_stream_open(L, 1, opt_name(L, 2), fn, &s);
  lx_npy_header h;
  bool eof = false;
  if (lx_npy_read_header(&s.reader, &h, &eof) != LX_OK) return lxb_raise_in(L, fn);
  lxb_stream_close(&s);
  if (eof) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 11);
  if (h.supported) set_str(L, "dtype", lx_dtype_name(h.dtype)); /* else nil */
  set_count(L, "itemsize", h.itemsize);
  lua_createtable(L, h.ndim, 0);
  for (int i = 0; i < h.ndim; i++) {
    lxb_pushcount(L, h.shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "shape");
  set_str(L, "descr", h.descr);
  set_bool(L, "fortran_order", h.fortran_order);
  set_bool(L, "big_endian", h.big_endian);
  set_count(L, "version", (uint64_t)h.version);
  set_count(L, "nbytes", h.nbytes);
  set_count(L, "offset", h.offset);
  set_count(L, "data_offset", h.data_offset);
  set_count(L, "descr_offset", h.descr_offset);
  return 1;
}

static uint64_t field_count(lua_State *L, int idx, const char *k) {
  lua_getfield(L, idx, k);
  lua_Number v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/* Rebuilds the lx_npy_header from the table npy_read_header made. */
static void header_from_table(lua_State *L, int idx, const char *fn, lx_npy_header *h) {
  memset(h, 0, sizeof *h);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "dtype");
  h->supported = !lua_isnil(L, -1);
  h->dtype = LX_DTYPE_COUNT;
  if (h->supported &&
      lx_dtype_from_name(lxb_check_string(L, -1, fn, "header.dtype"), &h->dtype) != LX_OK)
    lxb_raise_in(L, fn);
  lua_pop(L, 1);
  lua_getfield(L, idx, "shape");
  h->ndim = lxb_check_shape(L, lua_gettop(L), fn, h->shape);
  lua_pop(L, 1);
  lua_getfield(L, idx, "fortran_order");
  h->fortran_order = lua_toboolean(L, -1);
  lua_getfield(L, idx, "big_endian");
  h->big_endian = lua_toboolean(L, -1);
  lua_getfield(L, idx, "descr");
  snprintf(h->descr, sizeof h->descr, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  lua_pop(L, 3);
  h->offset = field_count(L, idx, "offset");
  h->data_offset = field_count(L, idx, "data_offset");
  h->descr_offset = field_count(L, idx, "descr_offset");
  if (h->supported) {
    h->itemsize = lx_dtype_size(h->dtype);
    if (lx_shape_check(fn, h->dtype, h->ndim, h->shape, NULL, &h->nbytes) != LX_OK)
      lxb_raise_in(L, fn);
    return;
  }
  /* A type lunox lacks: its byte size, for skipping, checked as the
  ** reader checked it. */
  h->itemsize = (size_t)field_count(L, idx, "itemsize");
  uint64_t bytes = h->itemsize;
  for (int i = 0; i < h->ndim; i++) {
    uint64_t d = (uint64_t)h->shape[i];
    if (d != 0 && bytes > (uint64_t)INT64_MAX / d)
      lxb_error(L, fn, "header: the byte size of shape and itemsize overflows");
    bytes = d == 0 ? 0 : bytes * d;
  }
  h->nbytes = (size_t)bytes;
}

/* core.npy_read_data(file, header [, name]) -> a new CPU array. */
static int l_npy_read_data(lua_State *L) {
  const char *fn = "tree_deserialise_leaves";
  lxb_stream s;
  lxb_stream_open(L, 1, opt_name(L, 3), fn, &s);
  lx_npy_header h;
  header_from_table(L, 2, fn, &h);
  lx_array **slot = lxb_new_slot(L);
  if (lx_npy_read_data(&s.reader, &h, slot) != LX_OK) return lxb_raise_in(L, fn);
  lxb_stream_close(&s);
  lxb_account_memory(L);
  return 1;
}

/* core.npy_skip_data(file, header [, name]). */
static int l_npy_skip_data(lua_State *L) {
  const char *fn = "tree_deserialise_leaves";
  lxb_stream s;
  lxb_stream_open(L, 1, opt_name(L, 3), fn, &s);
  lx_npy_header h;
  header_from_table(L, 2, fn, &h);
  if (lx_npy_skip_data(&s.reader, &h) != LX_OK) return lxb_raise_in(L, fn);
  lxb_stream_close(&s);
  return 0;
}

/* core._stream_offset(file) -> the position the next read or write starts
** at, and the name messages give the file ("<BytesIO>", ...). */
static int l_stream_offset(lua_State *L) {
  lxb_stream s;
  lxb_stream_open(L, 1, NULL, "tree_deserialise_leaves", &s);
  lxb_pushcount(L, (int64_t)s.reader.offset);
  lua_pushstring(L, s.name);
  return 2;
}

/* core.stream_has_more(file [, name]) -> whether at least one byte is left.
** Reads that byte from streams that cannot put it back (objects): callers
** ask only when the answer ends the read. */
static int l_stream_has_more(lua_State *L) {
  lxb_stream s;
  lxb_stream_open(L, 1, opt_name(L, 2), "tree_deserialise_leaves", &s);
  if (s.kind == LXB_STREAM_FILE) {
    int c = getc(s.fp);
    if (c != EOF) ungetc(c, s.fp);
    lua_pushboolean(L, c != EOF);
    return 1;
  }
  if (s.kind == LXB_STREAM_BYTESIO) {
    lua_pushboolean(L, s.bio->pos < s.bio->len);
    return 1;
  }
  char byte;
  size_t got = 0;
  if (lx_read_some(&s.reader, &byte, 1, &got) != LX_OK)
    return lxb_raise_in(L, "tree_deserialise_leaves");
  lxb_stream_close(&s);
  lua_pushboolean(L, got > 0);
  return 1;
}

/* ------------------------------------------------------------ atomic writes */

/* core._tempfile(path, fn) -> tmp, target: a new, empty file tmp in the
** directory of target, which is path with symlinks resolved when it exists
** (so that renaming tmp over target writes through a link instead of
** replacing it). tmp is ".<base>.tmp-XXXXXX" with the permissions target
** has, or those of a plain create (0666 & ~umask) for a new file. Returns
** false instead when path exists and is not a regular file (a FIFO, a
** terminal, /dev/null): such a thing cannot be replaced, only written to. */
static int l_tempfile(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *fn = luaL_optstring(L, 2, "save");
  struct stat st;
  mode_t mode;
  char *target = NULL;
  if (stat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      lua_pushboolean(L, 0);
      return 1;
    }
    mode = st.st_mode & 07777;
    target = realpath(path, NULL);
    if (!target)
      return lxb_error(L, fn, "cannot resolve '%s': %s", path, strerror(errno));
  } else {
    mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }
  /* Strings go to the Lua stack before anything is opened: pushing may
  ** raise (out of memory), and nothing must be left to clean up then. */
  lua_pushstring(L, target ? target : path);
  free(target);
  const char *final = lua_tostring(L, -1);
  size_t n = strlen(final);
  char *dcopy = lua_newuserdata(L, n + 1), *bcopy = lua_newuserdata(L, n + 1);
  memcpy(dcopy, final, n + 1);
  memcpy(bcopy, final, n + 1);
  lua_pushfstring(L, "%s/.%s.tmp-XXXXXX", dirname(dcopy), basename(bcopy));
  size_t tlen;
  const char *tmpl = lua_tolstring(L, -1, &tlen);
  char *name = lua_newuserdata(L, tlen + 1);
  memcpy(name, tmpl, tlen + 1);
  int fd = mkstemp(name);
  if (fd < 0)
    return lxb_error(L, fn, "cannot create a temporary file beside '%s': %s", final,
                     strerror(errno));
  fchmod(fd, mode);
  close(fd);
  lua_pushstring(L, name);
  lua_pushvalue(L, -6); /* target */
  return 2;
}

/* core.fsync(file, fn): flushes the handle's buffer and the file's data to
** the device; raises on failure (a full disk shows up here at the latest). */
static int l_fsync(lua_State *L) {
  const char *fn = luaL_optstring(L, 3, "save");
  int closed;
  FILE *fp = test_file_handle(L, 1, &closed);
  if (!fp) return lxb_error(L, fn, "fsync: not an open file");
  const char *name = luaL_optstring(L, 2, "<file>");
  if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
    return lxb_error(L, fn, "writing '%s' failed: %s", name, strerror(errno));
  return 0;
}

/* core.commit_file(tmp, path, fn): renames tmp over path (atomic on POSIX
** file systems) and syncs the directory, so that the new name is durable. */
static int l_commit_file(lua_State *L) {
  const char *tmp = luaL_checkstring(L, 1), *path = luaL_checkstring(L, 2);
  const char *fn = luaL_optstring(L, 3, "save");
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return lxb_error(L, fn, "cannot rename the temporary file to '%s': %s", path, strerror(e));
  }
  char *dcopy = strdup(path);
  if (dcopy) {
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd); /* best effort: some file systems refuse directory syncs */
      close(dfd);
    }
    free(dcopy);
  }
  return 0;
}

void lxb_register_io(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"_npy_write", l_npy_write},
    {"_npy_read_header", l_npy_read_header},
    {"_npy_read_data", l_npy_read_data},
    {"_npy_skip_data", l_npy_skip_data},
    {"_stream_offset", l_stream_offset},
    {"_stream_has_more", l_stream_has_more},
    {"_tempfile", l_tempfile},
    {"_fsync", l_fsync},
    {"_commit_file", l_commit_file},
    {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
