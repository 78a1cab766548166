/*
** error.c — the per-thread message of the last failure.
*/
#include "lunox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Per thread so that concurrent callers never see each other's messages. */
static _Thread_local char lx_error_message[1024];

const char *lx_last_error(void) { return lx_error_message; }

lx_status lx_set_error(lx_status status, const char *fmt, ...) {
  /* Formatted aside first: callers may pass the current message as an
  ** argument to wrap it ("LUNOX_DEVICE=x: <reason>"). */
  char message[sizeof lx_error_message];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  memcpy(lx_error_message, message, sizeof message);
  return status;
}
