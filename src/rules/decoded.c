/*
 * A percent-decoded copy of raw text, its wide forms folded (wide.c) and
 * the "(at)" that hide addresses too (atdot.c), for the readers that look
 * at text as it decodes (the scrubber, the query action's encoded pairs),
 * and the widening of the spans they find back
 * to the raw bytes each came from. The unescaped copy of a JSON string's
 * text (jstr.c) or of a text-format log's value holding nginx's "\xHH"
 * (xesc.c) is made and widened the same way; the rules read it as any
 * raw text, so percent escapes inside it are decoded in turn.
 * Short texts decode on the caller's stack; the copy holds originals, so
 * it is wiped when closed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

static int alloc(struct lsl_decoded *d, size_t len)
{
    d->text = d->stack_text;
    d->map = d->stack_map;
    d->raw_len = len;
    d->len = 0;
    if (len > LSL_DECODED_STACK) {
        d->text = malloc(len);
        d->map = malloc((len + 1) * sizeof(*d->map));
        if (!d->text || !d->map) {
            lsl_decoded_close(d);
            return -ENOMEM;
        }
    }
    return 0;
}

int lsl_decoded_open(struct lsl_decoded *d, const char *raw, size_t len)
{
    int rc = alloc(d, len);

    if (rc)
        return rc;
    d->len = lsl_pct_decode(raw, len, d->text, d->map);
    if (lsl_wide_has(d->text, d->len))
        d->len = lsl_wide_fold(d->text, d->len, d->map);
    if (lsl_atdot_has(d->text, d->len))
        d->len = lsl_atdot_fold(d->text, d->len, d->map);
    return 0;
}

/* The copy of text in escape syntax `esc` (LSL_SPAN_F_JSON or _XESC). */
static int open_escaped(struct lsl_decoded *d, unsigned esc, const char *raw,
                        size_t len)
{
    int rc = alloc(d, len);

    if (rc)
        return rc;
    d->len =
        esc == LSL_SPAN_F_JSON
            ? lsl_json_unescape(raw, len, d->text, d->map, LSL_JSON_CTL_BLANK)
            : lsl_xesc_decode(raw, len, d->text, d->map);
    return 0;
}

/* Only a span whose bytes hold a backslash is read decoded. The text is
 * inside a string or a quoted field: a token is never quoted there (the
 * quote would end it), whatever JSON the decoded text looks like. */
static void mark(struct lsl_plan *p, size_t first, const char *line,
                 unsigned esc)
{
    for (size_t k = first; k < p->count; k++) {
        struct lsl_plan_span *s = &p->spans[k];

        s->flags &= (uint8_t)~LSL_SPAN_F_QUOTE;
        if (memchr(line + s->off, '\\', s->len))
            s->flags |= (uint8_t)esc;
    }
}

int lsl_decoded_run(struct lsl_plan *p, unsigned esc, const char *line,
                    size_t off, size_t len, lsl_decoded_fn fn, void *arg)
{
    struct lsl_decoded d;
    size_t first = p->count;
    int rc;

    /* Both syntaxes start every escape with '\': most text has none. */
    if (!memchr(line + off, '\\', len) ||
        (esc == LSL_SPAN_F_XESC && !lsl_xesc_has(line + off, len)))
        return fn(arg, line, off, len);
    rc = open_escaped(&d, esc, line + off, len);
    if (rc)
        return rc;
    rc = fn(arg, d.text, 0, d.len);
    if (rc == 0) {
        lsl_decoded_widen(&d, p, first, off);
        mark(p, first, line, esc);
    }
    lsl_decoded_close(&d);
    return rc;
}

void lsl_decoded_widen(const struct lsl_decoded *d, struct lsl_plan *p,
                       size_t first, size_t base)
{
    for (size_t k = first; k < p->count; k++) {
        struct lsl_plan_span *sp = &p->spans[k];
        uint32_t a = d->map[sp->off], b = d->map[sp->off + sp->len];

        sp->off = (uint32_t)(base + a);
        sp->len = b - a;
    }
}

void lsl_decoded_close(struct lsl_decoded *d)
{
    if (d->text)
        sodium_memzero(d->text, d->raw_len);
    if (d->text != d->stack_text) {
        free(d->text);
        free(d->map);
    }
    d->text = NULL;
    d->map = NULL;
}
