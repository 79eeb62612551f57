/*
 * A percent-decoded copy of raw text, its wide forms folded (wide.c), for
 * the readers that look at text as it decodes (the scrubber, the query
 * action's encoded pairs), and the widening of the spans they find back
 * to the raw bytes each came from.
 * Short texts decode on the caller's stack; the copy holds originals, so
 * it is wiped when closed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include "rules_internal.h"

int lsl_decoded_open(struct lsl_decoded *d, const char *raw, size_t len)
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
    d->len = lsl_pct_decode(raw, len, d->text, d->map);
    if (lsl_wide_has(d->text, d->len))
        d->len = lsl_wide_fold(d->text, d->len, d->map);
    return 0;
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
