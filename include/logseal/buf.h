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

#include <string.h>
#include "logseal/common.h"

struct lsl_buf {
    char *p;
    size_t len;
    size_t cap;
};

/* The slow path of lsl_buf_reserve: a bigger block. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_buf_grow(struct lsl_buf *b, size_t extra);

/*
 * Make room for at least `extra` more bytes. 0 or -ENOMEM. Inline: the
 * line transform calls these several times per line, and the room is
 * nearly always there already.
 */
LSL_MUST_CHECK static inline int lsl_buf_reserve(struct lsl_buf *b,
                                                 size_t extra)
{
    return extra <= b->cap - b->len ? 0 : lsl_buf_grow(b, extra);
}

/* Append n bytes (n may be 0). 0 or -ENOMEM. */
LSL_MUST_CHECK static inline int lsl_buf_append(struct lsl_buf *b,
                                                const void *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    rc = lsl_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* Append one byte. 0 or -ENOMEM. */
LSL_MUST_CHECK static inline int lsl_buf_putc(struct lsl_buf *b, char c)
{
    int rc = lsl_buf_reserve(b, 1);

    if (rc)
        return rc;
    b->p[b->len++] = c;
    return 0;
}

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

/*
 * lsl_buf_free without wiping the bytes: only for buffers that never held
 * an original (a batch's pseudonymized output and its gzip member, the
 * bytes the sink writes out anyway). NULL-safe.
 */
void lsl_buf_release(struct lsl_buf *b);

#endif
