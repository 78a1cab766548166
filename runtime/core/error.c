/*
** error.c — the per-thread message of the last failure.
*/
#include "lunox.h"

#include <stdarg.h>
#include <stdio.h>

/* Per thread so that concurrent callers never see each other's messages. */
static _Thread_local char lx_error_message[1024];

const char *lx_last_error(void) { return lx_error_message; }

lx_status lx_set_error(lx_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lx_error_message, sizeof lx_error_message, fmt, ap);
  va_end(ap);
  return status;
}
