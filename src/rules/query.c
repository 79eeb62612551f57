/*
 * The query action: a group holding a request line ("GET /p?a=b HTTP/1.1")
 * or a URL. The values of the rule's `param` names in the query string
 * become spans of the listed class; every other byte of the group goes
 * through the scrubber, in pieces between those values, so the plan stays
 * sorted. The query string runs from the first '?' to the first space or
 * '#' and splits on '&' and ';'. In the path before it, a segment named
 * by a `segment` line makes the next segment a span (/u/123/profile).
 * A group without '?' whose first '=' comes before any '/' or blank is a
 * bare query string as a whole (nginx $args, W3C cs-uri-query, a Cookie
 * header "a=b; c=d"); blanks and '+' before a name are skipped. Names
 * compare ASCII case-insensitively; they are not percent-decoded. Inside a
 * JSON string (`esc`) the scrubbed pieces skip escape sequences.
 */
#include <string.h>
#include "rules_internal.h"

struct qctx {
    const struct lsl_rule *r;
    struct lsl_plan *p;
    const char *line;
    size_t cursor; /* bytes before it are planned */
    bool esc;
    struct lsl_scrub_memo *memo; /* for unescaped text; may be NULL */
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The listed name of `kind` equal to name[0..len) (ASCII case folded). */
static const struct rule_param *search_param(const struct lsl_rule *r,
                                             uint8_t kind, const char *name,
                                             size_t len, unsigned b)
{
    for (size_t i = r->param_at[kind][b]; i < r->param_at[kind][b + 1]; i++) {
        const struct rule_param *p = &r->params[i];
        size_t k = 0;

        if (p->len != len)
            continue;
        while (k < len && lower(name[k]) == p->name[k])
            k++;
        if (k == len)
            return p;
    }
    return NULL;
}

/* Most names have a length no listed name has: no call for those. */
static inline const struct rule_param *
find_param(const struct lsl_rule *r, uint8_t kind, const char *name, size_t len)
{
    unsigned b = len < 63 ? (unsigned)len : 63;

    if (!(r->param_lens[kind] & (1ULL << b)))
        return NULL;
    return search_param(r, kind, name, len, b);
}

/* True if line[off..end) is a query string without path: "a=b&c=d". */
static bool is_bare(const char *line, size_t off, size_t end)
{
    for (size_t i = off; i < end; i++) {
        if (line[i] == '=')
            return i > off;
        if (line[i] == '/' || line[i] == ' ' || line[i] == '\t')
            return false;
    }
    return false;
}

/* Scrub from the cursor up to `to`. */
static int scrub_to(struct qctx *q, size_t to)
{
    size_t off = q->cursor;

    q->cursor = to;
    return q->esc ? lsl_scrub_escaped(q->p, q->line, off, to - off, false)
                  : lsl_scrub_memo_run(q->memo, q->p, q->line, off, to - off,
                                       false);
}

/* Scrub up to the value, push the value as a span. */
static int push_value(struct qctx *q, size_t off, size_t len, uint8_t cls)
{
    int rc = scrub_to(q, off);

    if (rc == 0)
        rc = lsl_plan_push(q->p, off, len, LSL_ACT_TOKEN, cls, 0);
    q->cursor = off + len;
    return rc;
}

/* Path segments in [i, end): the one after a listed segment is a value. */
static int plan_path(struct qctx *q, size_t i, size_t end)
{
    const struct rule_param *prev = NULL;
    int rc;

    if (q->r->param_lens[PARAM_SEGMENT] == 0)
        return 0;
    while (i < end) {
        size_t send = i, n;

        /* Segments are short: a loop beats a memchr call. */
        while (send < end && q->line[send] != '/')
            send++;
        n = send - i;

        if (prev && send > i) {
            rc = push_value(q, i, n, prev->cls);
            if (rc)
                return rc;
        }
        prev = find_param(q->r, PARAM_SEGMENT, q->line + i, n);
        i = send + 1;
    }
    return 0;
}

static int plan_query(struct qctx *q, size_t i, size_t qend)
{
    const char *line = q->line;

    while (i < qend) {
        size_t pend = lsl_find2(line, i, qend, '&', ';');
        const char *eqp = memchr(line + i, '=', pend - i);
        size_t eq = eqp ? (size_t)(eqp - line) : pend;
        const struct rule_param *prm;
        int rc;

        while (i < eq && (line[i] == ' ' || line[i] == '+'))
            i++;
        if (eq < pend && eq + 1 < pend) {
            prm = find_param(q->r, PARAM_QUERY, line + i, eq - i);
            if (prm) {
                rc = push_value(q, eq + 1, pend - eq - 1, prm->cls);
                if (rc)
                    return rc;
            }
        }
        i = pend + 1;
    }
    return 0;
}

static int query_plan(struct qctx *q, size_t len)
{
    const char *line = q->line;
    size_t off = q->cursor, end = off + len, path, pend;
    const char *slash = memchr(line + off, '/', len);
    int rc = 0;

    if (q->r->nparams == 0)
        return scrub_to(q, end);
    if (is_bare(line, off, end)) {
        rc = plan_query(q, off, end);
        return rc ? rc : scrub_to(q, end);
    }
    path = slash ? (size_t)(slash - line) : end;
    pend = lsl_find2(line, path, end, '?', ' ');
    rc = plan_path(q, path, pend);
    if (rc == 0 && pend < end && line[pend] == '?')
        rc = plan_query(q, pend + 1, lsl_find2(line, pend + 1, end, ' ', '#'));
    return rc ? rc : scrub_to(q, end);
}

int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                   const char *line, size_t off, size_t len, bool esc)
{
    struct qctx q = {r, p, line, off, esc, NULL};

    return query_plan(&q, len);
}

int lsl_query_plan_memo(const struct lsl_rule *r, struct lsl_scrub_memo *memo,
                        struct lsl_plan *p, const char *line, size_t off,
                        size_t len)
{
    struct qctx q = {r, p, line, off, false, memo};

    return query_plan(&q, len);
}
