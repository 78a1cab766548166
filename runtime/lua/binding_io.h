/*
** binding_io.h — what the binding's file code shares: lx.BytesIO's buffer,
** and streams (lx_reader / lx_writer) over the file objects Lua scripts
** pass: io.open handles, lx.BytesIO, or any object with read/write/seek
** methods.
*/
#ifndef LX_BINDING_IO_H
#define LX_BINDING_IO_H

#include "binding_internal.h"
#include "lunox_io.h"

#define LXB_BYTESIO_MT "lunox.BytesIO"

typedef struct lxb_bytesio {
  char *data;
  size_t len, cap, pos;
  int closed;
} lxb_bytesio;

/* The BytesIO at idx, or NULL when the value is not one. */
lxb_bytesio *lxb_test_bytesio(lua_State *L, int idx);
/* Makes room for `n` bytes at the position, zero-filling a gap left by a
** seek past the end; returns the address to write at, or NULL (error set). */
char *lxb_bytesio_reserve(lxb_bytesio *b, size_t n);

typedef enum { LXB_STREAM_FILE, LXB_STREAM_BYTESIO, LXB_STREAM_OBJECT } lxb_stream_kind;

typedef struct lxb_stream {
  lxb_stream_kind kind;
  lx_reader reader;
  lx_writer writer;
  FILE *fp;
  lxb_bytesio *bio;
  lua_State *L;
  int obj; /* stack index of the file object */
  int remember; /* its position is counted by lunox (no seek, or a pipe) */
  char name[256];
} lxb_stream;

/* Sets up `s` over the file object at idx (for reading and writing from its
** current position); `name` names it in messages (NULL: "<file>",
** "<BytesIO>" or "<stream>"). Raises, naming fn, when the value is not a
** file object or the file is closed. The object must stay at idx while the
** stream is used. */
void lxb_stream_open(lua_State *L, int idx, const char *name, const char *fn, lxb_stream *s);
/* Ends a use of the stream: an object without a seek method, or a pipe,
** has its position remembered (a weak table keyed by the object), so that
** byte offsets in messages and the readers' position checks stay right
** across calls. */
void lxb_stream_close(lxb_stream *s);

#endif
