/*
 * Growable byte buffer. Invariant: len <= cap; p is NULL iff cap == 0.
 * Growth doubles so appends are amortized O(1). Buffers carry log lines,
 * so growth never uses realloc: the old block is wiped before it is freed,
 * and no copy of an original is left behind in freed heap memory.
 */
#include "logseal/buf.h"
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lsl_buf_grow(struct lsl_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -ENOMEM;
    need = b->len + extra;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = malloc(cap);
    if (!p)
        return -ENOMEM;
    if (b->p) {
        memcpy(p, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int lsl_buf_printf(struct lsl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    rc = lsl_buf_reserve(b, (size_t)n + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void lsl_buf_wipe(struct lsl_buf *b)
{
    if (b->len)
        sodium_memzero(b->p, b->len);
    b->len = 0;
}

void lsl_buf_free(struct lsl_buf *b)
{
    if (!b)
        return;
    if (b->p)
        sodium_memzero(b->p, b->cap);
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void lsl_buf_release(struct lsl_buf *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}
