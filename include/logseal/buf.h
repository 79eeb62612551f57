/*
 * logseal — growable byte buffer.
 *
 * A struct lsl_buf owns its memory. Zero-initialise it ({0}) before use,
 * release it with lsl_buf_free(), which wipes it (buffers hold
 * originals); growth wipes the old block too. Appends return 0 or -ENOMEM
 * and leave the buffer unchanged on failure.
 */
#ifndef LOGSEAL_BUF_H
#define LOGSEAL_BUF_H

#include "logseal/common.h"

struct lsl_buf {
    char *p;
    size_t len;
    size_t cap;
};

/* Make room for at least `extra` more bytes. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_buf_reserve(struct lsl_buf *b, size_t extra);

/* Append n bytes (n may be 0). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_buf_append(struct lsl_buf *b, const void *p, size_t n);

/* Append one byte. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_buf_putc(struct lsl_buf *b, char c);

/* Append printf-formatted text. 0, -ENOMEM or -EINVAL. */
LSL_MUST_CHECK int lsl_buf_printf(struct lsl_buf *b, const char *fmt, ...)
    LSL_PRINTF(2, 3);

static inline void lsl_buf_reset(struct lsl_buf *b)
{
    b->len = 0;
}

/* Wipe the bytes in use (they held originals) and reset. */
void lsl_buf_wipe(struct lsl_buf *b);

/* Free the memory; the buffer is zeroed and may be reused. NULL-safe. */
void lsl_buf_free(struct lsl_buf *b);

#endif
