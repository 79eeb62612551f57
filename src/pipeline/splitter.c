/*
 * Line splitter. Invariants: carry never holds a newline; carry is at most
 * max_line bytes between calls; in_piece is true iff the carried bytes
 * continue a line of which pieces were already emitted.
 */
#include "logseal/splitter.h"
#include <errno.h>
#include <sodium.h>
#include <string.h>

/* How far back from the limit a cut looks for a separator. */
#define CUT_WINDOW 512

void lsl_splitter_init(struct lsl_splitter *sp, size_t max_line)
{
    memset(sp, 0, sizeof(*sp));
    sp->max_line = max_line ? max_line : LSL_MAX_LINE_DEFAULT;
}

void lsl_splitter_free(struct lsl_splitter *sp)
{
    if (sp->carry.p)
        sodium_memzero(sp->carry.p, sp->carry.cap);
    lsl_buf_free(&sp->carry);
    sp->in_piece = false;
}

static bool ident_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '%' ||
           c == '@' || c == '_' || c == '-' || c == '[' || c == ']' || c == '+';
}

/* Length of the first piece of an overlong run: ends after a separator. */
static size_t cut_length(const char *p, size_t max)
{
    size_t lo = max > CUT_WINDOW ? max - CUT_WINDOW : 0;

    for (size_t i = max; i > lo; i--) {
        if (!ident_byte((unsigned char)p[i - 1]))
            return i;
    }
    return max;
}

/*
 * Emit p[0..len) as pieces while longer than max_line. If `final`, the rest
 * is the end of the line. *rest_off is where the unemitted bytes start.
 */
static int emit_long(struct lsl_splitter *sp, struct lsl_batch *b,
                     const char *p, size_t len, bool final, uint32_t flags,
                     size_t *rest_off)
{
    size_t off = 0;
    int rc;

    while (len - off > sp->max_line) {
        size_t cut = cut_length(p + off, sp->max_line);

        rc = lsl_batch_add_line(b, p + off, cut, LSL_LINE_PIECE);
        if (rc)
            return rc;
        sp->in_piece = true;
        off += cut;
    }
    if (final) {
        if (sp->in_piece)
            flags |= LSL_LINE_TAIL;
        sp->in_piece = false;
        rc = lsl_batch_add_line(b, p + off, len - off, flags);
        if (rc)
            return rc;
        off = len;
    }
    *rest_off = off;
    return 0;
}

/* Keep carry[from..] as the carry; wipe what was emitted. */
static void carry_keep(struct lsl_splitter *sp, size_t from)
{
    size_t n = sp->carry.len - from;

    if (n)
        memmove(sp->carry.p, sp->carry.p + from, n);
    if (sp->carry.p)
        sodium_memzero(sp->carry.p + n, sp->carry.len - n);
    sp->carry.len = n;
}

int lsl_splitter_feed(struct lsl_splitter *sp, struct lsl_batch *b,
                      const char *data, size_t len)
{
    size_t pos = 0, rest;
    int rc;

    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t seg = nl ? (size_t)(nl - (data + pos)) : len - pos;

        if (nl && sp->carry.len == 0) {
            rc = emit_long(sp, b, data + pos, seg, true, 0, &rest);
            if (rc)
                return rc;
            pos += seg + 1;
            continue;
        }
        rc = lsl_buf_append(&sp->carry, data + pos, seg);
        if (rc)
            return rc;
        rc = emit_long(sp, b, sp->carry.p, sp->carry.len, nl != NULL, 0, &rest);
        if (rc)
            return rc;
        carry_keep(sp, rest);
        pos += seg + (nl ? 1 : 0);
    }
    return 0;
}

int lsl_splitter_finish(struct lsl_splitter *sp, struct lsl_batch *b)
{
    size_t rest;
    int rc;

    if (sp->carry.len == 0 && !sp->in_piece)
        return 0;
    rc = emit_long(sp, b, sp->carry.p ? sp->carry.p : "", sp->carry.len, true,
                   LSL_LINE_NOEOL, &rest);
    if (rc)
        return rc;
    carry_keep(sp, rest);
    return 0;
}
