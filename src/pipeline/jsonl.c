/*
 * JSON lines output: one object per input line.
 *
 *   matched   {"_rule":"nginx-combined","client":"ip_...","status":200,
 *              "time":"2024-05-01T10:00:00Z",...}: every named group of
 *              the plan (plan->fields, in pattern order), its value with
 *              the plan's spans replaced as in text output; type number as
 *              a JSON number when the text is one (else null for "-", else
 *              a string), type time as RFC 3339 UTC through the rule's time
 *              format (else the text as a string).
 *   unparsed  {"_unparsed":true,"_line":"<scrubbed line>"}, and pieces of
 *              an overlong line each as {"_unparsed":true,"_piece":true,
 *              "_line":...}.
 *
 * Strings: '"', '\\' and control characters escaped; valid UTF-8 copied;
 * each byte that is not part of valid UTF-8 (stray continuation bytes,
 * overlong forms, UTF-8-encoded surrogates, > U+10FFFF, cut sequences) is
 * written as \u00XX, i.e. read as Latin-1 — the byte value survives, but
 * a reader cannot tell it from a real U+00XX. A JSON source's string
 * (plan field `escaped`) keeps its escapes, except a \uD800-\uDFFF escape
 * that is not half of a high-low surrogate pair, which names no character
 * and becomes \ufffd; its raw bytes follow the same rule. So every output
 * line is valid UTF-8 and valid JSON for strict readers, whatever the
 * input held. The line's trailing CR is not part of any value.
 *
 * Invariant: a byte under a span never reaches the output raw — a span
 * cut by a field's edge is replaced whole inside that field.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "batch_internal.h"

int lsl_out_format_parse(const char *s, uint8_t *format)
{
    if (strcmp(s, "text") == 0)
        *format = LSL_OUT_TEXT;
    else if (strcmp(s, "jsonl") == 0)
        *format = LSL_OUT_JSONL;
    else
        return -EINVAL;
    return 0;
}

int lsl_columns_parse(const char *s, uint8_t *columns)
{
    if (strcmp(s, "canonical") == 0)
        *columns = LSL_COLUMNS_CANONICAL;
    else if (strcmp(s, "source") == 0)
        *columns = LSL_COLUMNS_SOURCE;
    else
        return -EINVAL;
    return 0;
}

int lsl_unparsed_parse(const char *s, uint8_t *mode)
{
    static const char *const names[] = {"scrub", "redact", "drop"};

    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *mode = (uint8_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

size_t lsl_utf8_seq(const unsigned char *p, size_t len)
{
    unsigned char c = p[0];
    size_t n;

    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf)
        n = 1;
    else if (c >= 0xe0 && c <= 0xef)
        n = 2;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 3;
    else
        return 0;
    if (len <= n)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    }
    /* overlong 3/4-byte forms, surrogates and > U+10FFFF */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
        (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return n + 1;
}

static int put_escaped_byte(struct lsl_buf *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

    switch (c) {
    case '"':
        return lsl_buf_append(out, "\\\"", 2);
    case '\\':
        return lsl_buf_append(out, "\\\\", 2);
    case '\n':
        return lsl_buf_append(out, "\\n", 2);
    case '\r':
        return lsl_buf_append(out, "\\r", 2);
    case '\t':
        return lsl_buf_append(out, "\\t", 2);
    default:
        return lsl_buf_append(out, e, sizeof(e));
    }
}

static int hex4(const char *s)
{
    int v = 0;

    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;

        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/*
 * Length of the JSON escape sequence at s[0..len) (s[0] is '\'), a
 * surrogate pair counting as one; 0 if there is none. *lone: it is a
 * \uXXXX naming half a surrogate pair without its other half.
 */
static size_t escape_len(const char *s, size_t len, bool *lone)
{
    int u, lo;

    *lone = false;
    if (len < 2)
        return 0;
    if (s[1] != 'u')
        return s[1] && strchr("\"\\/bfnrt", s[1]) ? 2 : 0;
    if (len < 6 || (u = hex4(s + 2)) < 0)
        return 0;
    if (u < 0xd800 || u > 0xdfff)
        return 6;
    if (u <= 0xdbff && len >= 12 && s[6] == '\\' && s[7] == 'u' &&
        (lo = hex4(s + 8)) >= 0xdc00 && lo <= 0xdfff)
        return 12;
    *lone = true;
    return 6;
}

/*
 * s[0..len) as a JSON string. `escaped`: s is a JSON source's string text,
 * whose escapes are kept (a lone surrogate becomes \ufffd).
 */
static int put_string(struct lsl_buf *out, const char *s, size_t len,
                      bool escaped)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc;

    if (len == 0) /* s may be NULL (an empty buffer): no arithmetic on it */
        return lsl_buf_append(out, "\"\"", 2);
    rc = lsl_buf_putc(out, '"');

    while (rc == 0 && i < len) {
        size_t n = lsl_utf8_seq(p + i, len - i);
        bool lone = false;

        if (escaped && p[i] == '\\')
            n = escape_len(s + i, len - i, &lone);
        else if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\')
            n = 0;
        if (n > 0 && !lone) { /* copied as it is */
            i += n;
            run += n;
            continue;
        }
        rc = lsl_buf_append(out, s + i - run, run);
        run = 0;
        if (rc == 0)
            rc = lone ? lsl_buf_append(out, "\\ufffd", 6)
                      : put_escaped_byte(out, p[i]);
        i += lone ? n : 1;
    }
    if (rc == 0)
        rc = lsl_buf_append(out, s + i - run, run);
    return rc ? rc : lsl_buf_putc(out, '"');
}

static size_t digits(const char *s, size_t len, size_t i)
{
    size_t start = i;

    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i - start;
}

/* True if s[0..len) is a number in JSON's grammar. */
static bool is_json_number(const char *s, size_t len)
{
    size_t i = 0, n;

    if (i < len && s[i] == '-')
        i++;
    n = digits(s, len, i);
    if (n == 0 || (n > 1 && s[i] == '0'))
        return false;
    i += n;
    if (i < len && s[i] == '.') {
        n = digits(s, len, ++i);
        if (n == 0)
            return false;
        i += n;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        n = digits(s, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return i == len;
}

/* RFC 3339 UTC, with the fraction of a second the source wrote (as many
 * digits, up to nanoseconds: $msec's milliseconds stay milliseconds). */
static int put_time(struct lsl_buf *out, const struct lsl_time *t)
{
    time_t tt = (time_t)t->sec;
    struct tm tm;
    char frac[12] = "";

    if (!gmtime_r(&tt, &tm))
        return lsl_buf_append(out, "null", 4);
    if (t->digits) {
        uint32_t v = t->nsec;

        for (unsigned k = t->digits; k < 9; k++)
            v /= 10;
        snprintf(frac, sizeof(frac), ".%0*u", (int)t->digits, (unsigned)v);
    }
    return lsl_buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d%sZ\"",
                          tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* The field's text with every span that touches it replaced, into w->field. */
static int render_field(struct lsl_worker *w, const char *line,
                        const struct lsl_plan *plan,
                        const struct lsl_plan_field *f, int64_t when)
{
    size_t at = f->off, end = (size_t)f->off + f->len;
    int rc = 0;

    w->field.len = 0;
    for (size_t i = 0; i < plan->count && rc == 0; i++) {
        const struct lsl_plan_span *s = &plan->spans[i];
        size_t so = s->off, se = so + s->len;

        if (se <= f->off || so >= end)
            continue;
        if (so > at)
            rc = lsl_buf_append(&w->field, line + at, so - at);
        if (rc == 0)
            rc = lsl_span_emit(w, line, end, s, when, &w->field);
        at = se;
    }
    if (rc == 0 && at < end)
        rc = lsl_buf_append(&w->field, line + at, end - at);
    return rc;
}

static int put_value(struct lsl_worker *w, const struct lsl_batch *b,
                     const char *line, const struct lsl_plan_field *f,
                     struct lsl_buf *out)
{
    const char *v = w->field.p;
    size_t n = w->field.len;
    const char *fmt;
    struct lsl_time t;

    if (f->type == LSL_FIELD_NUMBER && is_json_number(v, n))
        return lsl_buf_append(out, v, n);
    if (f->type == LSL_FIELD_NUMBER && n == 1 && v[0] == '-')
        return lsl_buf_append(out, "null", 4);
    fmt = b->rule ? lsl_rule_time_format(b->rule) : NULL;
    /* Time text is parsed from the source: time fields carry no spans. */
    if (f->type == LSL_FIELD_TIME && fmt &&
        lsl_time_parse_at(fmt, line + f->off, f->len, w->zone, &t) == 0)
        return put_time(out, &t);
    /* A JSON source's string is JSON string text already (tokens are
     * [a-z0-9_]): escaping it again would turn \u00e9 into \\u00e9. */
    return put_string(out, v, n, f->escaped);
}

/* The field's column: its shared name in canonical mode, else its own;
 * in canonical mode a shared integer column is typed number. */
static const char *column_of(const struct lsl_worker *w,
                             const struct lsl_plan_field *f,
                             struct lsl_plan_field *typed)
{
    *typed = *f;
    if (w->columns != LSL_COLUMNS_CANONICAL || !f->canon)
        return f->name;
    if (f->canon_type == LSL_FIELD_NUMBER)
        typed->type = LSL_FIELD_NUMBER;
    return f->canon;
}

/* The value of field f, pseudonymized, as JSON. */
static int put_one(struct lsl_worker *w, const struct lsl_batch *b,
                   const char *line, const struct lsl_plan *plan,
                   const struct lsl_plan_field *f, int64_t when,
                   struct lsl_buf *out)
{
    int rc = render_field(w, line, plan, f, when);

    return rc ? rc : put_value(w, b, line, f, out);
}

/*
 * The elements of a JSON source's array under one name, as one JSON
 * array at the first one's place (every element is a field of its own,
 * which used to write the key once per element: duplicate keys).
 */
static int put_array(struct lsl_worker *w, const struct lsl_batch *b,
                     const char *line, const struct lsl_plan *plan, size_t i,
                     int64_t when, struct lsl_buf *out)
{
    const struct lsl_plan_field *f = &plan->fields[i];
    int rc = lsl_buf_putc(out, '[');
    bool first = true;

    for (size_t k = i; rc == 0 && k < plan->nfields; k++) {
        struct lsl_plan_field t;

        if (!plan->fields[k].array || plan->fields[k].name != f->name)
            continue;
        (void)column_of(w, &plan->fields[k], &t);
        if (!first)
            rc = lsl_buf_putc(out, ',');
        if (rc == 0)
            rc = put_one(w, b, line, plan, &t, when, out);
        first = false;
    }
    return rc ? rc : lsl_buf_putc(out, ']');
}

/* An earlier element of the same array wrote this one already. */
static bool written(const struct lsl_plan *plan, size_t i)
{
    for (size_t k = 0; plan->fields[i].array && k < i; k++)
        if (plan->fields[k].array &&
            plan->fields[k].name == plan->fields[i].name)
            return true;
    return false;
}

static int put_key(struct lsl_buf *out, const char *name)
{
    int rc = lsl_buf_putc(out, ',');

    if (rc == 0)
        rc = put_string(out, name, strlen(name), false);
    return rc ? rc : lsl_buf_putc(out, ':');
}

/*
 * canonical `request` ("GET /p?q HTTP/1.1", pseudonymized in w->field):
 * also as method, path, query and protocol, the columns a W3C log has, so
 * rows of both union; a canonical `uri` ("/p?q", `uri_only`) as path and
 * query. A value of another shape gives none of them.
 */
static int put_request_parts(struct lsl_worker *w, struct lsl_buf *out,
                             bool uri_only)
{
    static const char *const names[] = {"method", "path", "query", "protocol"};
    const char *v = w->field.p;
    size_t n = w->field.len;
    const char *sp1 = n ? memchr(v, ' ', n) : NULL, *sp2, *q;
    size_t at[4][2];
    int rc = 0;

    if (uri_only) {
        q = n ? memchr(v, '?', n) : NULL;
        rc = put_key(out, "path");
        if (rc == 0)
            rc = put_string(out, v, q ? (size_t)(q - v) : n, false);
        if (rc == 0)
            rc = put_key(out, "query");
        if (rc == 0 && !q)
            return lsl_buf_append(out, "null", 4);
        return rc ? rc : put_string(out, q + 1, n - (size_t)(q - v) - 1, false);
    }
    if (!sp1 || !(sp2 = memrchr(v, ' ', n)) || sp2 == sp1)
        return 0;
    q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    at[0][0] = 0, at[0][1] = (size_t)(sp1 - v);
    at[1][0] = (size_t)(sp1 - v) + 1;
    at[1][1] = (size_t)((q ? q : sp2) - v);
    at[2][0] = q ? (size_t)(q - v) + 1 : 0,
    at[2][1] = q ? (size_t)(sp2 - v) : 0;
    at[3][0] = (size_t)(sp2 - v) + 1, at[3][1] = n;
    for (size_t k = 0; rc == 0 && k < 4; k++) {
        rc = put_key(out, names[k]);
        if (rc == 0 && k == 2 && !q)
            rc = lsl_buf_append(out, "null", 4);
        else if (rc == 0)
            rc = put_string(out, v + at[k][0], at[k][1] - at[k][0], false);
    }
    return rc;
}

static int put_fields(struct lsl_worker *w, const struct lsl_batch *b,
                      const char *line, const struct lsl_plan *plan,
                      int64_t when, struct lsl_buf *out)
{
    int rc = lsl_buf_append(out, "{\"_rule\":", 9);

    if (rc == 0)
        rc = put_string(out, lsl_rule_name(b->rule),
                        strlen(lsl_rule_name(b->rule)), false);
    for (size_t i = 0; i < plan->nfields && rc == 0; i++) {
        struct lsl_plan_field t;
        const char *col = column_of(w, &plan->fields[i], &t);

        if (written(plan, i))
            continue;
        rc = put_key(out, col);
        if (rc == 0 && t.array)
            rc = put_array(w, b, line, plan, i, when, out);
        else if (rc == 0)
            rc = put_one(w, b, line, plan, &t, when, out);
        if (rc == 0 && !t.array && w->columns == LSL_COLUMNS_CANONICAL &&
            t.canon && strcmp(t.canon, "request") == 0)
            rc = put_request_parts(w, out, false);
        else if (rc == 0 && !t.array && w->columns == LSL_COLUMNS_CANONICAL &&
                 t.canon && strcmp(t.canon, "uri") == 0)
            rc = put_request_parts(w, out, true);
    }
    return rc;
}

/* The whole line, scrubbed as in text output, as "_line". */
static int put_unparsed(struct lsl_worker *w, const char *line, size_t len,
                        const struct lsl_plan *plan, int64_t when, bool piece,
                        struct lsl_buf *out)
{
    struct lsl_plan_field all = {.name = "_line", .len = (uint32_t)len};
    int rc;

    rc = lsl_buf_printf(out, "{\"_unparsed\":true,%s\"_line\":",
                        piece ? "\"_piece\":true," : "");
    if (rc == 0)
        rc = render_field(w, line, plan, &all, when);
    if (rc == 0)
        rc = put_string(out, w->field.p, w->field.len, false);
    return rc;
}

int lsl_jsonl_line(struct lsl_worker *w, struct lsl_batch *b, const char *line,
                   size_t len, const struct lsl_plan *plan, int64_t when,
                   bool piece)
{
    struct lsl_buf *out = &b->out;
    int rc;

    if (!piece && plan->matched && b->rule)
        rc = put_fields(w, b, line, plan, when, out);
    else
        rc = put_unparsed(w, line, len, plan, when, piece, out);
    if (rc == 0)
        rc = lsl_buf_append(out, "}\n", 2);
    return rc;
}
