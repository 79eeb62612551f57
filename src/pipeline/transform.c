/*
 * One line: plan, then copy the bytes between planned spans and replace
 * each span by its token (or "-" for dropped fields). The line's own time,
 * when the rule names one, dates its vault entries; otherwise the batch's
 * arrival time does. A trailing CR is kept outside the match so CRLF input
 * stays CRLF. Pieces of overlong lines are scrubbed, never rule-matched.
 * Ip spans are written in the span's mode, or the worker's override
 * (ipemit.c); JSON lines output is jsonl.c's. A header line (plan->meta)
 * is written unchanged as text but is no row of JSON lines: it is counted
 * in st.meta and not in st.lines_out, so lines_in = lines_out + meta
 * there.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "batch_internal.h"

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t suspect(const unsigned char *p)
{
    uint64_t x;

    memcpy(&x, p, 8);
    return (x | ((x - ONES) & ~x)) & HIGHS;
}

/* Length of a leading run of p[0..len) that is ASCII without NUL, sixteen
 * bytes at a time (the last ones too, in one overlapping look): a byte is
 * suspect if its high bit is set or it is 0. It may stop short of the
 * first suspect byte. */
static size_t ascii_prefix(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i + 16 <= len && !(suspect(p + i) | suspect(p + i + 8)))
        i += 16;
    /* The last few bytes: one look at the final sixteen, overlapping. */
    if (i < len && i + 16 > len && len >= 16 &&
        !(suspect(p + len - 16) | suspect(p + len - 8)))
        return len;
    return i;
}

/* After each non-ASCII character the word-wise scan resumes: a user agent
 * or referer with one accented letter is otherwise checked byte by byte
 * to its end. */
bool lsl_text_is_binary(const unsigned char *p, size_t len)
{
    size_t i = 0, n;

    while (i < len) {
        i += ascii_prefix(p + i, len - i);
        if (i == len)
            break;
        if (p[i] != 0 && p[i] < 0x80) {
            i++;
            continue;
        }
        n = lsl_utf8_seq(p + i, len - i);
        if (n == 0)
            return true;
        i += n;
    }
    return false;
}

/* Parse a line's time; the previous line's result if the text is equal
 * (lines of one second share it), so a run of equal times parses once. */
static int64_t parse_time(struct lsl_worker *w, const char *fmt,
                          const struct lsl_span *text, int64_t fallback)
{
    struct lsl_time t;

    if (w->time_fmt == fmt && w->time_len == text->len &&
        memcmp(w->time_text, text->p, text->len) == 0)
        return w->time_value;
    if (lsl_time_parse_at(fmt, text->p, text->len, w->zone, &t) != 0)
        return fallback;
    w->time_fmt = NULL;
    if (text->len <= sizeof(w->time_text)) {
        memcpy(w->time_text, text->p, text->len);
        w->time_fmt = fmt;
        w->time_len = text->len;
        w->time_value = t.sec;
    }
    return t.sec;
}

static int64_t line_time(struct lsl_worker *w, const struct lsl_batch *b,
                         const struct lsl_plan *plan)
{
    const char *fmt;

    if (!b->rule || !plan->matched || !plan->time.p)
        return b->arrival;
    fmt = lsl_rule_time_format(b->rule);
    if (!fmt)
        return b->arrival;
    return parse_time(w, fmt, &plan->time, b->arrival);
}

static int emit_value(struct lsl_worker *w, const char *line, size_t stop,
                      const struct lsl_plan_span *s, const char *v, size_t len,
                      int64_t when, struct lsl_buf *out)
{
    unsigned mode = s->mode;
    uint8_t bits[2] = {s->bits4, s->bits6};
    size_t end = (size_t)s->off + s->len;
    bool port;
    int rc;

    if (s->cls != LSL_CLASS_IP)
        return lsl_tokenizer_emit(w->tz, (enum lsl_class)s->cls, v, len, when,
                                  out);
    if (w->ip.on) {
        mode = w->ip.mode;
        bits[0] = w->ip.bits4;
        bits[1] = w->ip.bits6;
    }
    port = mode == LSL_IPMODE_IP6 && !(s->flags & LSL_SPAN_F_DASHED) &&
           end < stop && line[end] == ':' &&
           (s->off == 0 || line[s->off - 1] != '[');
    rc = port ? lsl_buf_putc(out, '[') : 0;
    if (rc == 0)
        rc = lsl_ip_emit(w, v, len, mode, bits, s->flags & LSL_SPAN_F_DASHED,
                         when, out);
    return rc == 0 && port ? lsl_buf_putc(out, ']') : rc;
}

/* A span holding escapes (JSON's, nginx's "\xHH") is tokenized as the
 * text they stand for; that copy is an original, wiped once its token is
 * written. */
int lsl_span_emit(struct lsl_worker *w, const char *line, size_t stop,
                  const struct lsl_plan_span *s, int64_t when,
                  struct lsl_buf *out)
{
    struct lsl_buf *u = &w->unesc;
    size_t n;
    int rc;

    if (s->action == LSL_ACT_DROP)
        return lsl_buf_putc(out, '-');
    if (!(s->flags & (LSL_SPAN_F_JSON | LSL_SPAN_F_XESC)))
        return emit_value(w, line, stop, s, line + s->off, s->len, when, out);
    u->len = 0;
    rc = lsl_buf_reserve(u, s->len);
    if (rc)
        return rc;
    n = s->flags & LSL_SPAN_F_JSON
            ? lsl_json_unescape(line + s->off, s->len, u->p, NULL,
                                LSL_JSON_CTL_KEEP)
            : lsl_xesc_decode(line + s->off, s->len, u->p, NULL);
    rc = emit_value(w, line, stop, s, u->p, n, when, out);
    sodium_memzero(u->p, n);
    return rc;
}

/* A JSON number (LSL_SPAN_F_QUOTE) becomes a JSON string holding its
 * token, so a JSON line stays valid JSON. */
static int emit_quoted(struct lsl_worker *w, const char *line, size_t len,
                       const struct lsl_plan_span *s, int64_t when,
                       struct lsl_buf *out)
{
    bool quote = s->flags & LSL_SPAN_F_QUOTE;
    int rc = quote ? lsl_buf_putc(out, '"') : 0;

    if (rc == 0)
        rc = lsl_span_emit(w, line, len, s, when, out);
    if (rc == 0 && quote)
        rc = lsl_buf_putc(out, '"');
    return rc;
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
        rc = emit_quoted(w, p, len, s, when, out);
        if (rc)
            return rc;
        at = (size_t)s->off + s->len;
    }
    return lsl_buf_append(out, p + at, len - at);
}

/*
 * `--unparsed redact`: a fixed marker with the length of the line (or of
 * each piece of an overlong one), nothing of its bytes, no token. A piece
 * that is no line's end writes no newline, as in text output.
 */
static int redact(struct lsl_worker *w, struct lsl_buf *out, size_t len,
                  bool piece, uint32_t flags)
{
    if (w->format == LSL_OUT_JSONL)
        return lsl_buf_printf(out,
                              "{\"_unparsed\":true,%s\"_redacted\":true,"
                              "\"_bytes\":%zu}\n",
                              piece ? "\"_piece\":true," : "", len);
    return lsl_buf_printf(out, "[logseal: unparsed line redacted, %zu bytes]%s",
                          len, flags & LSL_LINE_PIECE ? "" : "\n");
}

static void count_line(struct lsl_batch *b, const struct lsl_line *ln,
                       const struct lsl_plan *plan, bool piece, bool row)
{
    if (ln->flags & LSL_LINE_PIECE)
        return;
    b->st.lines_in++;
    if (row)
        b->st.lines_out++;
    if (!piece && plan->meta)
        b->st.meta++;
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
    /* A batch of empty lines has no buffer: NULL + 0 is undefined. */
    const char *p = b->in.p ? b->in.p + ln->off : "";
    size_t len = ln->len;
    bool piece = ln->flags & (LSL_LINE_PIECE | LSL_LINE_TAIL);
    bool cr = !(ln->flags & LSL_LINE_PIECE) && len > 0 && p[len - 1] == '\r';
    const struct lsl_plan *plan;
    int64_t when;
    bool row;
    int rc;

    if (cr)
        len--;
    if (piece)
        rc = lsl_scrub_plan(w->m, p, len, &plan);
    else
        rc = lsl_rule_plan(b->rule, w->m, p, len, &plan);
    if (rc)
        return rc;
    when = piece ? b->arrival : line_time(w, b, plan);
    if (ln == b->lines)
        b->first_time = when;
    if (b->min_time == 0 || when < b->min_time)
        b->min_time = when;
    if (when > b->max_time)
        b->max_time = when;
    if (!piece && lsl_text_is_binary((const unsigned char *)p, len))
        b->st.binary++;
    if (lsl_keyring_is_late(w->kr, when))
        b->st.late++;
    row = w->format != LSL_OUT_JSONL || piece || !plan->meta;
    if ((piece || !plan->matched) && w->unparsed != LSL_UNPARSED_SCRUB) {
        bool drop = w->unparsed == LSL_UNPARSED_DROP;

        count_line(b, ln, plan, piece, !drop);
        if (!(ln->flags & LSL_LINE_PIECE) && drop)
            b->st.dropped++;
        else if (!(ln->flags & LSL_LINE_PIECE))
            b->st.redacted++;
        return drop ? 0 : redact(w, &b->out, len + cr, piece, ln->flags);
    }
    count_line(b, ln, plan, piece, row);
    if (!row)
        return 0;
    if (w->format == LSL_OUT_JSONL)
        return lsl_jsonl_line(w, b, p, len, plan, when, piece);
    rc = emit_plan(w, p, len, plan, when, &b->out);
    if (rc)
        return rc;
    if (cr && (rc = lsl_buf_putc(&b->out, '\r')) != 0)
        return rc;
    if (ln->flags & LSL_LINE_PIECE)
        return 0;
    return lsl_buf_putc(&b->out, '\n');
}
