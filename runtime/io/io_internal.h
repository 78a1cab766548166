/*
** io_internal.h — what the file-format readers of runtime/io share.
*/
#ifndef LX_IO_INTERNAL_H
#define LX_IO_INTERNAL_H

#include "lunox_io.h"

/* Sets the error "<message> (<name>, byte <offset>)" — or "(byte <offset>)"
** when name is NULL — and returns st: every file-format error says where
** it happened. The message is formatted before the current error is
** replaced, so it may quote lx_last_error(). */
lx_status lx__io_error(lx_status st, const char *name, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
