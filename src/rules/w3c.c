/*
 * W3C extended log files (IIS, Wowza, CloudFront): the "#Fields:" header
 * names the columns of the lines that follow, and a new header may come
 * mid-file. The header in force is matcher state: the pipeline hands each
 * batch the header in force at its start (lsl_matcher_set_header) and the
 * matcher takes every "#Fields:" line it plans after that, so batches can
 * be processed in parallel and still read each line with its own header.
 *
 * A data line splits on tabs if it holds one (Wowza, CloudFront, Zeek),
 * else on single spaces (IIS, which writes blanks inside values as '+');
 * there a value that starts with '"' runs to a '"' followed by a space or
 * the end, blanks included (IIS advanced logging, Incapsula, Oracle). A
 * line with more columns than the header has them read as free text
 * after its last column (field "_extra" of JSON lines: writers append
 * columns); one with fewer, or before any header, or under a header that
 * lacks a column the rule requires (`require`), goes to the fallback as
 * unparsed. Zeek's logs are this format too: a "#fields" line (tab
 * separated) names the columns. Columns without a `column` line are
 * scrubbed, except the time columns; directive lines (#Version, #Fields,
 * ...) are passed unchanged, other '#' lines are scrubbed as free text,
 * and all of them count as parsed and are flagged meta (no record: no row
 * of JSON lines output).
 *
 * Fields (lsl_matcher_want_fields): one per column, except that the two
 * adjacent columns of a `time date+time` directive are one field "time"
 * spanning both, so that structured output parses it with the rule's
 * time format like any other rule's time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/array.h"
#include "rules_internal.h"

#define FIELDS_TAG     "#Fields:"
#define FIELDS_TAG_LEN 8
#define ZEEK_TAG       "#fields\t"
#define ZEEK_TAG_LEN   8

void lsl_w3c_free(struct lsl_matcher *m)
{
    free(m->hdr);
    free(m->cols);
    free(m->wslots);
    m->wslots = NULL;
    m->wslots_cap = 0;
    m->hdr = NULL;
    m->cols = NULL;
    m->ncols = m->hdr_cap = m->cols_cap = m->hdr_len = 0;
}

static bool is_sep(char c)
{
    return c == ' ' || c == '\t';
}

static int add_col(struct lsl_matcher *m, const char *name)
{
    int rc = lsl_array_grow(&m->cols, &m->cols_cap, m->ncols + 1,
                            sizeof(*m->cols), 32);

    if (rc)
        return rc;
    m->cols[m->ncols++] = (struct w3c_col){.name = name};
    return 0;
}

/* Split the copied header in place into NUL-terminated column names. */
static int split_header(struct lsl_matcher *m)
{
    char *s = m->hdr, *end = m->hdr + m->hdr_len;
    int rc = 0;

    if (m->hdr_len >= FIELDS_TAG_LEN &&
        (memcmp(s, FIELDS_TAG, FIELDS_TAG_LEN) == 0 ||
         memcmp(s, ZEEK_TAG, ZEEK_TAG_LEN) == 0))
        s += FIELDS_TAG_LEN;
    while (rc == 0 && s < end) {
        char *w;

        while (s < end && is_sep(*s))
            *s++ = '\0';
        for (w = s; s < end && !is_sep(*s); s++)
            ;
        if (s > w)
            rc = add_col(m, w);
        if (s < end)
            *s++ = '\0';
    }
    return rc;
}

int lsl_matcher_set_header(struct lsl_matcher *m, const char *text, size_t len)
{
    int rc;

    m->ncols = 0;
    m->hdr_len = 0;
    m->hdr_rule = NULL;
    if (len == 0)
        return 0;
    if (len + 1 > m->hdr_cap) {
        char *h = realloc(m->hdr, len + 1);

        if (!h)
            return -ENOMEM;
        m->hdr = h;
        m->hdr_cap = len + 1;
    }
    memcpy(m->hdr, text, len);
    m->hdr[len] = '\0';
    m->hdr_len = len;
    rc = split_header(m);
    if (rc)
        m->ncols = 0;
    return rc;
}

static long col_index(const struct lsl_matcher *m, const char *name, size_t len)
{
    for (size_t i = 0; i < m->ncols; i++)
        if (strncmp(m->cols[i].name, name, len) == 0 &&
            m->cols[i].name[len] == '\0')
            return (long)i;
    return -1;
}

static bool has_required(const struct lsl_matcher *m, const struct lsl_rule *r);

/* Bind columns to r's column lines and find its time columns. */
void lsl_w3c_bind(struct lsl_matcher *m, const struct lsl_rule *r)
{
    const char *tg = r->time_group, *plus;

    for (size_t i = 0; i < m->ncols; i++) {
        const char *n = m->cols[i].name;

        m->cols[i].f = lsl_rule_field_find(r, n, strlen(n));
        m->cols[i].type = lsl_rule_type_of(r, n, strlen(n));
        m->cols[i].canon = lsl_rule_canon_of(r, n, strlen(n));
    }
    m->time_col[0] = m->time_col[1] = -1;
    if (tg) {
        plus = strchr(tg, '+');
        m->time_col[0] =
            col_index(m, tg, plus ? (size_t)(plus - tg) : strlen(tg));
        if (plus)
            m->time_col[1] = col_index(m, plus + 1, strlen(plus + 1));
    }
    for (size_t k = 0; k < 2; k++)
        if (m->time_col[k] >= 0)
            m->cols[m->time_col[k]].type = LSL_FIELD_TIME;
    m->hdr_ok = has_required(m, r);
    m->hdr_rule = r;
}

static bool is_directive(const char *line, size_t len)
{
    static const char *const names[] = {
        "#Version:",      "#Software:",     "#Date:",      "#Fields:",
        "#Start-Date:",   "#End-Date:",     "#separator ", "#set_separator\t",
        "#empty_field\t", "#unset_field\t", "#path\t",     "#open\t",
        "#close\t",       "#fields\t",      "#types\t"};

    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        size_t n = strlen(names[i]);

        if (len >= n && memcmp(line, names[i], n) == 0)
            return true;
    }
    return false;
}

static int plan_comment(const struct lsl_rule *r, struct lsl_matcher *m,
                        const char *line, size_t len)
{
    int rc = 0;

    m->plan.matched = true;
    m->plan.meta = true;
    if (lsl_rule_is_header(r, line, len))
        rc = lsl_matcher_set_header(m, line, len);
    if (rc == 0 && !is_directive(line, len))
        rc = lsl_scrub_text(&m->plan, line, 0, len);
    return rc;
}

/* Where the column starting at `at` ends: the next separator, or for a
 * quoted value between blanks its closing quote's end. */
static size_t col_end(const char *line, size_t len, size_t at, char sep)
{
    const char *e;

    if (sep == ' ' && at < len && line[at] == '"') {
        for (size_t k = at + 1; k < len; k++)
            if (line[k] == '"' && (k + 1 == len || line[k + 1] == ' '))
                return k + 1;
    }
    e = memchr(line + at, sep, len - at);
    return e ? (size_t)(e - line) : len;
}

static size_t count_cols(const char *line, size_t len, char sep)
{
    size_t n = 1;

    for (size_t at = col_end(line, len, 0, sep); at < len;
         at = col_end(line, len, at + 1, sep))
        n++;
    return n;
}

/* Every column the rule requires is in the header in force. */
static bool has_required(const struct lsl_matcher *m, const struct lsl_rule *r)
{
    for (size_t i = 0; i < r->nrequire; i++)
        if (col_index(m, r->require[i], strlen(r->require[i])) < 0)
            return false;
    return true;
}

/* True if the rule's time is two adjacent columns (date, then time). */
static bool time_paired(const struct lsl_matcher *m)
{
    return m->time_col[0] >= 0 && m->time_col[1] == m->time_col[0] + 1;
}

/*
 * The field of column c, line[off..off+len). A paired time is one field
 * "time" from the first column's start `t0` to the second's end, pushed
 * at the second (the first pushes nothing), so field order is column
 * order.
 */
static int push_field(struct lsl_matcher *m, size_t c, size_t t0, size_t off,
                      size_t len)
{
    const struct w3c_col *col = &m->cols[c];

    int rc;

    if (!time_paired(m) || col->type != LSL_FIELD_TIME) {
        rc = lsl_plan_field_push(&m->plan, col->name, off, len, col->type);
        if (rc == 0)
            lsl_plan_field_canon(&m->plan, col->canon,
                                 col->type == LSL_FIELD_TIME);
        return rc;
    }
    if ((long)c == m->time_col[0])
        return 0;
    rc = lsl_plan_field_push(&m->plan, "time", t0, off + len - t0,
                             LSL_FIELD_TIME);
    if (rc == 0)
        lsl_plan_field_canon(&m->plan, NULL, true);
    return rc;
}

/*
 * `extra`: the line has that many more columns than the header. Appended
 * columns are the usual reason, but a column inserted mid-line shifts the
 * rest (and one lost as well, the other way): column c may then hold the
 * value of any column c - extra .. c + extra, and takes the most
 * protective of their actions; one the rule keeps (or only scrubs) is
 * read as free text, so nothing shifted into it stays raw.
 */
static int plan_column(struct lsl_matcher *m, const struct lsl_rule *r,
                       size_t c, const char *line, size_t off, size_t len,
                       size_t extra)
{
    const struct w3c_col *col = &m->cols[c];
    const struct rule_field *f = col->f;
    struct lsl_plan *p = &m->plan;

    for (size_t k = c > extra ? c - extra : 0; k <= c + extra; k++)
        if (k < m->ncols &&
            lsl_field_strength(m->cols[k].f) > lsl_field_strength(f))
            f = m->cols[k].f;
    if (extra && lsl_field_strength(f) == 0)
        return lsl_text_range(r, p, line, off, len, LSL_SCRUB_PHONES);
    if (extra)
        return lsl_plan_value(r, f, p, line, off, len, false);
    if (col->f)
        return lsl_plan_value(r, col->f, p, line, off, len, false);
    if (col->type != LSL_FIELD_TIME)
        return lsl_text_range(r, p, line, off, len, LSL_SCRUB_PHONES);
    return 0;
}

/* Columns past the header's: free text, one field "_extra". */
static int plan_extra(const struct lsl_rule *r, struct lsl_matcher *m,
                      const char *line, size_t at, size_t len)
{
    int rc = lsl_text_range(r, &m->plan, line, at, len - at, LSL_SCRUB_PHONES);

    if (rc == 0 && m->want_fields)
        rc = lsl_plan_field_push(&m->plan, "_extra", at, len - at,
                                 LSL_FIELD_STRING);
    return rc;
}

int lsl_w3c_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                 const char *line, size_t len)
{
    char sep = memchr(line, '\t', len) ? '\t' : ' ';
    size_t at = 0, t[2][2] = {{0, 0}, {0, 0}}, ncols;
    int rc = 0;

    if (len > 0 && line[0] == '#')
        return plan_comment(r, m, line, len);
    if (m->ncols && m->hdr_rule != r)
        lsl_w3c_bind(m, r);
    ncols = m->ncols ? count_cols(line, len, sep) : 0;
    if (m->ncols == 0 || ncols < m->ncols || !m->hdr_ok)
        return lsl_fallback_plan(r, m, line, len);
    for (size_t c = 0; c < m->ncols && rc == 0; c++) {
        size_t stop = col_end(line, len, at, sep);

        for (size_t k = 0; k < 2; k++)
            if (m->time_col[k] == (long)c)
                t[k][0] = at, t[k][1] = stop;
        /* A quoted value: its inside, as the action reads it and as
         * structured output writes it. */
        size_t vs = at, ve = stop;

        if (ve - vs >= 2 && line[vs] == '"' && line[ve - 1] == '"')
            vs++, ve--;
        rc = plan_column(m, r, c, line, vs, ve - vs, ncols - m->ncols);
        if (rc == 0 && m->want_fields)
            rc = push_field(m, c, t[0][0], vs, ve - vs);
        at = stop + 1;
    }
    if (rc == 0 && at < len)
        rc = plan_extra(r, m, line, at, len);
    m->plan.matched = true;
    /* Time from one column, or two adjacent ones (date, then time). */
    if (m->time_col[0] >= 0 && (m->time_col[1] < 0 || time_paired(m))) {
        size_t k = m->time_col[1] < 0 ? 0 : 1;

        m->plan.time.p = line + t[0][0];
        m->plan.time.len = t[k][1] - t[0][0];
    }
    return rc;
}
