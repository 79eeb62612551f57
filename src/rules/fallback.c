/*
 * The fallback for lines a rule does not match (an Apache line whose byte
 * count is "-" under an nginx rule, a line cut short, a field added or
 * lost): the line is still the rule's format, or close to it, so the
 * fallback uses everything the rule knows instead of the bare scrubber,
 * which leaves a user name such as "alice" or a query's uid=4242 raw.
 *
 *  - The line splits into cells at blanks; a cell that starts with '"'
 *    runs to a '"' followed by a blank or the end, one that starts with
 *    '[', '{' or '(' to such a ']', '}' or ')' (W3C lines split on tabs, or on
 * blanks with quoted values). A rule with a layout (a `format nginx` template,
 * a W3C header) has one slot per cell of it.
 *  - Cell i may be any slot within |cells - slots| of position i whose
 *    literal text it shows (a `"$request"` slot takes only a quoted
 *    cell, a `-` slot only "-"): a missing or extra field shifts the
 *    cells by that much at most. Of those slots' fields it takes the
 *    most protective: drop, then a tokenizing one (ip, user, id, ...),
 *    then query; so a user name shifted by a lost field is still
 *    tokenized.
 *  - Without a layout (regex rules), a line shaped like the common log
 *    format is read by position: the first cell before the first
 *    bracketed or quoted one is a host (ip), the others user names.
 *  - A quoted cell that starts with an HTTP method or holds a URL is read
 *    as a query (listed parameters, path segments, opaque values).
 *  - Every other cell, and every byte of a JSON or text rule's line, is
 *    read as the text rule reads free text: the scrubber, and values of
 *    the rule's param names (and of its JSON keys) written as pairs.
 *
 * Nothing here decides that a line matched: plan->matched stays false.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

#define CELLS_MAX 128
/* The common log format has three or four cells before its time. */
#define CLF_HEAD_MAX 5
/* A line this many cells shorter than the layout is no longer read by it
 * (it may be a lost field or two, or a value split at a quote: not half
 * the line); a longer one is (fields are appended over the years). */
#define SHIFT_MAX  2
#define WINDOW_MAX 4

struct cell {
    uint32_t s, e;
};

/* Cells of line[0..len) as described above; the last cell takes the rest
 * of a line with more than CELLS_MAX of them. */
static size_t split_cells(const char *line, size_t len, char sep, bool brackets,
                          struct cell *c)
{
    size_t n = 0, i = 0;

    while (i < len && n < CELLS_MAX) {
        size_t s = i, e;
        const char *open = brackets ? strchr("[{(", line[i]) : NULL;
        char close = line[i] == '"'    ? '"'
                     : open && line[i] ? "]})"[open - "[{("]
                                       : 0;

        if (sep == ' ' && line[i] == ' ') {
            i++;
            continue;
        }
        e = lsl_find2(line, i + (close != 0), len, sep, sep);
        /* A cell that opens before this one closes ("x \"y") means the
         * opening quote was a stray one: the cell is a bare word. */
        for (size_t k = i + 1; close && k < len; k++) {
            if (line[k] == close && (k + 1 == len || line[k + 1] == sep)) {
                e = k + 1;
                break;
            }
            if (line[k] == sep && k + 1 < len &&
                (line[k + 1] == '"' || line[k + 1] == '['))
                break;
        }
        if (n == CELLS_MAX - 1)
            e = len;
        c[n++] = (struct cell){(uint32_t)s, (uint32_t)e};
        i = e + 1;
    }
    return n;
}

static bool is_var_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* One cell of a layout, text[s..e): its literals and its variables'
 * strongest field. */
static void layout_cell(const struct lsl_rule *r, const char *text, size_t s,
                        size_t e, struct lsl_slot *sl)
{
    size_t first = e, last = s;

    *sl = (struct lsl_slot){.pre = text + s, .suf = text + e};
    for (size_t i = s; i < e; i++) {
        size_t v, n;
        bool brace;
        const struct rule_field *f;

        if (text[i] != '$')
            continue;
        brace = i + 1 < e && text[i + 1] == '{';
        for (v = i + 1 + brace, n = 0; v + n < e && is_var_char(text[v + n]);)
            n++;
        if (n == 0)
            continue;
        f = lsl_rule_field_find(r, text + v, n);
        if (lsl_field_strength(f) >= lsl_field_strength(sl->f) && f)
            sl->f = f;
        if (i < first)
            first = i;
        last = v + n + (brace && v + n < e && text[v + n] == '}');
        i = last - 1;
    }
    if (first == e) {
        sl->literal = true;
        sl->npre = (uint16_t)(e - s);
        return;
    }
    sl->npre = (uint16_t)(first - s);
    sl->suf = text + last;
    sl->nsuf = (uint16_t)(e - last);
}

int lsl_layout_compile(struct lsl_rule *r, const char *text)
{
    size_t n = strlen(text), i = 0;

    r->slots = calloc(n / 2 + 1, sizeof(*r->slots));
    if (!r->slots)
        return -ENOMEM;
    while (i < n) {
        size_t s;

        while (i < n && text[i] == ' ')
            i++;
        for (s = i; i < n && text[i] != ' ';)
            i++;
        if (i > s)
            layout_cell(r, text, s, i, &r->slots[r->nslots++]);
    }
    return 0;
}

unsigned lsl_field_strength(const struct rule_field *f)
{
    if (!f)
        return 0;
    switch ((enum rule_action)f->action) {
    case RULE_ACT_DROP:
        return 3;
    case RULE_ACT_IP:
    case RULE_ACT_IPLIST:
    case RULE_ACT_TOKEN:
        return 2;
    case RULE_ACT_QUERY:
        return 1;
    case RULE_ACT_SCRUB:
    case RULE_ACT_AGENT:
    case RULE_ACT_KEEP:
        break;
    }
    return 0;
}

/* Whether cell c could be slot sl: it shows the slot's literal text. In
 * a template, a variable without quotes or brackets around it takes no
 * quoted or bracketed cell (`bare`). */
static bool shows(const char *line, const struct cell *c,
                  const struct lsl_slot *sl, bool bare)
{
    size_t n = c->e - c->s;
    const char *v = line + c->s;

    if (sl->literal)
        return n == sl->npre && memcmp(v, sl->pre, n) == 0;
    if (bare && sl->npre == 0 && sl->nsuf == 0 && (v[0] == '"' || v[0] == '['))
        return false;
    return n >= (size_t)sl->npre + sl->nsuf &&
           memcmp(v, sl->pre, sl->npre) == 0 &&
           memcmp(v + n - sl->nsuf, sl->suf, sl->nsuf) == 0;
}

/*
 * The most protective slot cell i may be, or NULL. A line d cells longer
 * or shorter than the layout may have lost some and gained others (a
 * field removed, newer fields appended): cell i may be slot i - d .. i + d
 * (d at least 1, at most WINDOW_MAX).
 */
static const struct lsl_slot *slot_for(const char *line, const struct cell *c,
                                       size_t i, size_t ncells,
                                       const struct lsl_slot *slots,
                                       size_t nslots, bool bare)
{
    size_t d = ncells > nslots ? ncells - nslots : nslots - ncells;
    const struct lsl_slot *best = NULL;

    /* Even a line of the layout's length may have lost one cell and gained
     * another ("PLAY PUBLISH" is two cells where $command is one). */
    if (d == 0)
        d = 1;
    if (d > WINDOW_MAX)
        d = WINDOW_MAX;
    /* Nearest first, and first in the direction the count says the cells
     * moved (a shorter line's cells sit before their slots), so a tie
     * goes to the likelier slot. */
    for (size_t k = 0; k <= 2 * d; k++) {
        size_t step = (k + 1) / 2;
        bool after = (k % 2 == 1) == (ncells <= nslots);
        size_t j;

        if (!after && step > i)
            continue;
        j = after ? i + step : i - step;
        if (j >= nslots || slots[j].literal ||
            !shows(line, &c[i], &slots[j], bare))
            continue;
        if (!best ||
            lsl_field_strength(slots[j].f) > lsl_field_strength(best->f))
            best = &slots[j];
    }
    return best;
}

static bool is_method(const char *v, size_t n)
{
    size_t k = 0;

    while (k < n && v[k] >= 'A' && v[k] <= 'Z')
        k++;
    return k >= 3 && k <= 10 && k < n && v[k] == ' ';
}

/* A bracketed cell that starts like a CLF time: "[05/Mar/2024:10". */
static bool clf_time(const char *line, const struct cell *c)
{
    const char *v = line + c->s;
    size_t n = c->e - c->s;

    return n >= 13 && v[0] == '[' && v[1] >= '0' && v[1] <= '9' &&
           v[3] == '/' && v[7] == '/' && memchr(v, ':', n);
}

/* The actions of the common-log-format reading and of URLs. */
static const struct rule_field as_host = {.action = RULE_ACT_IP,
                                          .cls = LSL_CLASS_IP};
static const struct rule_field as_user = {.action = RULE_ACT_TOKEN,
                                          .cls = LSL_CLASS_USER};
static const struct rule_field as_query = {.action = RULE_ACT_QUERY};

/* True if r has a field of this action. */
static bool has_action(const struct lsl_rule *r, enum rule_action a)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].action == a)
            return true;
    return false;
}

/* A cell with no slot: CLF by position (for a rule that reads such lines:
 * an address field and a bracketed time), quoted requests and URLs (for
 * a rule with a query field). */
static const struct rule_field *guess(const struct lsl_rule *r,
                                      const char *line, const struct cell *c,
                                      size_t i, size_t first_open)
{
    const char *v = line + c[i].s;
    size_t n = c[i].e - c[i].s;

    if (i < first_open && has_action(r, RULE_ACT_IP) &&
        (r->format != RULE_FMT_REGEX || strstr(r->pattern, "\\[")))
        return i == 0 ? &as_host : &as_user;
    if (n > 1 && v[0] == '"' && has_action(r, RULE_ACT_QUERY) &&
        (is_method(v + 1, n - 1) || memchr(v, '/', n) || memchr(v, '?', n)))
        return &as_query;
    return NULL;
}

struct cell_arg {
    const struct lsl_rule *r;
    struct lsl_plan *p;
    const struct rule_field *f; /* NULL: free text */
};

static int cell_fn(void *arg, const char *text, size_t off, size_t len)
{
    const struct cell_arg *a = arg;

    if (a->f)
        return lsl_plan_value(a->r, a->f, a->p, text, off, len, false);
    return lsl_text_range(a->r, a->p, text, off, len, LSL_SCRUB_PHONES);
}

/* Plan cell c by field f (its inside: without the slot's literals, or a
 * cell's quotes and brackets), or as free text; `xesc`: read nginx's
 * "\xHH" decoded, as a matched line's groups are. */
static int plan_cell(const struct lsl_rule *r, struct lsl_plan *p,
                     const char *line, const struct cell *c,
                     const struct rule_field *f, const struct lsl_slot *sl,
                     bool xesc)
{
    struct cell_arg a = {r, p, NULL};
    size_t s = c->s, e = c->e;

    if (sl) {
        s += sl->npre;
        e -= sl->nsuf;
    } else if (e - s >= 2 && (line[s] == '"' || line[s] == '[')) {
        s++;
        e -= line[e - 1] == '"' || line[e - 1] == ']';
    }
    /* A query cell is read as one only when it is one request or URL: a
     * stray quote mashes several cells into one, which free text reads
     * better (its pairs, paths and URLs word by word). */
    if (f && f->action == RULE_ACT_QUERY &&
        (memchr(line + s, '"', e - s) ||
         (memchr(line + s, ' ', e - s) && !is_method(line + s, e - s))))
        f = NULL;
    if (!f || lsl_field_strength(f) == 0) {
        f = NULL;
        s = c->s;
        e = c->e;
    }
    a.f = f;
    if (xesc)
        return lsl_decoded_run(p, LSL_SPAN_F_XESC, line, s, e - s, cell_fn, &a);
    return cell_fn(&a, line, s, e - s);
}

static int plan_cells(const struct lsl_rule *r, struct lsl_matcher *m,
                      const char *line, size_t len, char sep,
                      const struct lsl_slot *slots, size_t nslots)
{
    struct cell c[CELLS_MAX];
    size_t n = split_cells(line, len, sep, r->format != RULE_FMT_W3C, c);
    size_t open = n;
    bool xesc = r->format != RULE_FMT_W3C && memchr(line, '\\', len);
    int rc = 0;

    for (size_t i = 0; i < n && open == n; i++)
        if (line[c[i].s] == '"' || line[c[i].s] == '[')
            open = i;
    /* Read by position only before a CLF time ("[05/Mar/2024:..."). */
    if (open > CLF_HEAD_MAX || open == n || !clf_time(line, &c[open]))
        open = 0;
    if (n + SHIFT_MAX < nslots)
        nslots = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lsl_slot *sl = nslots
                                        ? slot_for(line, c, i, n, slots, nslots,
                                                   r->format != RULE_FMT_W3C)
                                        : NULL;
        const struct rule_field *f = sl ? sl->f : NULL;

        if (lsl_field_strength(f) < 2 && (!nslots || !sl)) {
            const struct rule_field *g =
                guess(r, line, c, i, nslots ? 0 : open);

            if (g && lsl_field_strength(g) > lsl_field_strength(f))
                f = g, sl = NULL;
        }
        rc = plan_cell(r, &m->plan, line, &c[i], f, sl, xesc);
    }
    return rc;
}

/* A W3C rule's columns as slots (no literals). */
static int w3c_slots(struct lsl_matcher *m, size_t *n)
{
    *n = 0;
    if (m->ncols == 0)
        return 0;
    if (m->wslots_cap < m->ncols) {
        struct lsl_slot *s = realloc(m->wslots, m->ncols * sizeof(*s));

        if (!s)
            return -ENOMEM;
        m->wslots = s;
        m->wslots_cap = m->ncols;
    }
    for (size_t i = 0; i < m->ncols; i++)
        m->wslots[i] =
            (struct lsl_slot){.pre = "", .suf = "", .f = m->cols[i].f};
    *n = m->ncols;
    return 0;
}

int lsl_fallback_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                      const char *line, size_t len)
{
    const struct lsl_slot *slots = NULL;
    size_t nslots = 0;
    char sep = ' ';

    if (!r)
        return lsl_scrub_text(&m->plan, line, 0, len);
    switch ((enum rule_format)r->format) {
    case RULE_FMT_JSON:
    case RULE_FMT_TEXT:
        return lsl_text_range(r, &m->plan, line, 0, len, LSL_SCRUB_PHONES);
    case RULE_FMT_W3C:
        if (m->ncols && m->hdr_rule != r)
            lsl_w3c_bind(m, r);
        if (w3c_slots(m, &nslots) != 0)
            return -ENOMEM;
        slots = m->wslots;
        sep = memchr(line, '\t', len) ? '\t' : ' ';
        break;
    case RULE_FMT_NGINX:
    case RULE_FMT_REGEX:
        slots = r->slots;
        nslots = r->nslots;
        break;
    }
    return plan_cells(r, m, line, len, sep, slots, nslots);
}
