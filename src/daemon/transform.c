/*
 * One line: plan, then copy the bytes between planned spans and replace
 * each span by its token (or "-" for dropped fields). The line's own time,
 * when the rule names one, dates its vault entries; otherwise the batch's
 * arrival time does. A trailing CR is kept outside the match so CRLF input
 * stays CRLF. Pieces of overlong lines are scrubbed, never rule-matched.
 */
#include <errno.h>
#include <string.h>
#include "batch_internal.h"

/* True if p[0..len) holds a NUL byte or is not valid UTF-8. */
static bool is_binary(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;

        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        if (c == 0)
            return true;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3;
        else
            return true;
        if (len - i <= n)
            return true;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return true;
        }
        /* overlong 3/4-byte forms, surrogates and > U+10FFFF */
        if ((c == 0xe0 && p[i + 1] < 0xa0) ||
            (c == 0xed && p[i + 1] > 0x9f) ||
            (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f))
            return true;
        i += n + 1;
    }
    return false;
}

static int64_t line_time(const struct lsl_batch *b,
                         const struct lsl_plan *plan)
{
    const char *fmt;
    int64_t t;

    if (!b->rule || !plan->matched || !plan->time.p)
        return b->arrival;
    fmt = lsl_rule_time_format(b->rule);
    if (!fmt || lsl_time_parse(fmt, plan->time.p, plan->time.len, &t) != 0)
        return b->arrival;
    return t;
}

/* A host-name address (ec2-1-2-3-4): tokenize it as the dotted address. */
static int emit_dashed(struct lsl_worker *w, const char *v, size_t len,
                       int64_t when, struct lsl_buf *out)
{
    int rc;

    w->scratch.len = 0;
    rc = lsl_buf_append(&w->scratch, v, len);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i++) {
        if (w->scratch.p[i] == '-')
            w->scratch.p[i] = '.';
    }
    return lsl_tokenizer_emit(w->tz, LSL_CLASS_IP, w->scratch.p, len, when,
                              out);
}

static int emit_span(struct lsl_worker *w, const char *line,
                     const struct lsl_plan_span *s, int64_t when,
                     struct lsl_buf *out)
{
    if (s->action == LSL_ACT_DROP)
        return lsl_buf_putc(out, '-');
    if (s->flags & LSL_SPAN_F_DASHED)
        return emit_dashed(w, line + s->off, s->len, when, out);
    return lsl_tokenizer_emit(w->tz, (enum lsl_class)s->cls, line + s->off,
                              s->len, when, out);
}

static int emit_plan(struct lsl_worker *w, const char *p, size_t len,
                     const struct lsl_plan *plan, int64_t when,
                     struct lsl_buf *out)
{
    size_t at = 0;
    int rc;

    for (size_t i = 0; i < plan->count; i++) {
        const struct lsl_plan_span *s = &plan->spans[i];

        rc = lsl_buf_append(out, p + at, s->off - at);
        if (rc)
            return rc;
        rc = emit_span(w, p, s, when, out);
        if (rc)
            return rc;
        at = (size_t)s->off + s->len;
    }
    return lsl_buf_append(out, p + at, len - at);
}

static void count_line(struct lsl_batch *b, const struct lsl_line *ln,
                       const struct lsl_plan *plan, bool piece)
{
    if (ln->flags & LSL_LINE_PIECE)
        return;
    b->st.lines_in++;
    b->st.lines_out++;
    if (ln->flags & LSL_LINE_NOEOL)
        b->st.noeol++;
    if (ln->flags & LSL_LINE_TAIL)
        b->st.overlong++;
    if (!piece && plan->matched)
        b->st.parsed++;
    else
        b->st.unparsed++;
    if (plan->limit_hit)
        b->st.limit_hits++;
}

int lsl_line_transform(struct lsl_worker *w, struct lsl_batch *b,
                       const struct lsl_line *ln)
{
    const char *p = b->in.p + ln->off;
    size_t len = ln->len;
    bool piece = ln->flags & (LSL_LINE_PIECE | LSL_LINE_TAIL);
    bool cr = !(ln->flags & LSL_LINE_PIECE) && len > 0 && p[len - 1] == '\r';
    const struct lsl_plan *plan;
    int64_t when;
    int rc;

    if (cr)
        len--;
    if (piece)
        rc = lsl_scrub_plan(w->m, p, len, &plan);
    else
        rc = lsl_rule_plan(b->rule, w->m, p, len, &plan);
    if (rc)
        return rc;
    when = piece ? b->arrival : line_time(b, plan);
    if (b->min_time == 0 || when < b->min_time)
        b->min_time = when;
    if (when > b->max_time)
        b->max_time = when;
    if (!piece && is_binary((const unsigned char *)p, len))
        b->st.binary++;
    if (lsl_keyring_is_late(w->kr, when))
        b->st.late++;
    count_line(b, ln, plan, piece);
    rc = emit_plan(w, p, len, plan, when, &b->out);
    if (rc)
        return rc;
    if (cr && (rc = lsl_buf_putc(&b->out, '\r')) != 0)
        return rc;
    if (ln->flags & LSL_LINE_PIECE)
        return 0;
    return lsl_buf_putc(&b->out, '\n');
}
