/*
 * The scrub memo: a field a rule scrubs (a user agent) and the text around
 * query values take few distinct values, so their plans are remembered by
 * text and by the scrub mode (LSL_SCRUB_*). A memo serves one matcher, so
 * one rule: a user agent is read with that rule's pairs (lsl_text_range),
 * the text around query values (mode 0) only scrubbed; a slot matches
 * only its own mode. Direct-mapped by a fast hash;
 * a slot is used only after the whole text compares equal, so a collision
 * costs a scrub, never a wrong plan. Texts shorter than MEMO_TEXT_MIN are
 * cheaper to scrub than to look up; plans with more than MEMO_SPANS spans
 * are not kept. Slots hold field text (originals, possibly): wiped when
 * freed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

/* Request texts are unique per line and go through the memo too, so each
 * line replaces slots: with 512, user agents were pushed out between their
 * lines (2048: 205 instructions per line less on nginx combined, 620 KiB
 * per matcher; 4096 gained 32 more). */
#define MEMO_SLOTS    2048
#define MEMO_TEXT_MIN 16
#define MEMO_TEXT_MAX 256
#define MEMO_SPANS    4

struct memo_span {
    uint16_t off, len;
    uint8_t action, cls, flags;
};

struct memo_slot {
    uint64_t tag; /* hash | 1; 0 = empty */
    uint16_t len;
    uint8_t nspans;
    uint8_t mode; /* LSL_SCRUB_* */
    struct memo_span spans[MEMO_SPANS];
    char text[MEMO_TEXT_MAX];
};

struct lsl_scrub_memo {
    struct memo_slot slots[MEMO_SLOTS];
};

int lsl_scrub_memo_open(struct lsl_scrub_memo **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void lsl_scrub_memo_free(struct lsl_scrub_memo *memo)
{
    if (!memo)
        return;
    sodium_memzero(memo, sizeof(*memo));
    free(memo);
}

static uint64_t memo_hash(const char *p, size_t n)
{
    uint64_t h = n * 0x9e3779b97f4a7c15ULL, w;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return (h ^ h >> 32) | 1;
}

static void memo_keep(struct memo_slot *sl, uint64_t tag, const char *line,
                      size_t off, size_t len, unsigned mode,
                      const struct lsl_plan *p, size_t first)
{
    size_t n = p->count - first;

    if (n > MEMO_SPANS)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct lsl_plan_span *s = &p->spans[first + i];

        sl->spans[i] =
            (struct memo_span){(uint16_t)(s->off - off), (uint16_t)s->len,
                               s->action, s->cls, s->flags};
    }
    sl->tag = tag;
    sl->len = (uint16_t)len;
    sl->nspans = (uint8_t)n;
    sl->mode = (uint8_t)mode;
    memcpy(sl->text, line + off, len);
}

/* The plan the memo stands for (see lsl_scrub_memo_run). */
static int plan(const struct lsl_rule *r, struct lsl_plan *p, const char *line,
                size_t off, size_t len, unsigned mode)
{
    return r ? lsl_text_range(r, p, line, off, len, mode)
             : lsl_scrub(p, line, off, len, mode);
}

int lsl_scrub_memo_run(struct lsl_scrub_memo *memo, const struct lsl_rule *r,
                       struct lsl_plan *p, const char *line, size_t off,
                       size_t len, unsigned mode)
{
    struct memo_slot *sl;
    size_t first = p->count;
    uint64_t tag;
    int rc = 0;

    if (!memo || len < MEMO_TEXT_MIN || len > MEMO_TEXT_MAX)
        return plan(r, p, line, off, len, mode);
    tag = memo_hash(line + off, len);
    sl = &memo->slots[(tag >> 1) & (MEMO_SLOTS - 1)];
    if (sl->tag == tag && sl->len == len && sl->mode == mode &&
        memcmp(sl->text, line + off, len) == 0) {
        for (size_t i = 0; i < sl->nspans && rc == 0; i++) {
            const struct memo_span *s = &sl->spans[i];

            rc = lsl_plan_push(p, off + s->off, s->len, s->action, s->cls,
                               s->flags);
        }
        return rc;
    }
    rc = plan(r, p, line, off, len, mode);
    if (rc == 0)
        memo_keep(sl, tag, line, off, len, mode, p, first);
    return rc;
}
