/*
 * The query action: a group holding a request line ("GET /p?a=b HTTP/1.1")
 * or a URL. The values of the rule's `param` names in the query string
 * become spans of the listed class; every other byte of the group goes
 * through the scrubber, in pieces between those values, so the plan stays
 * sorted. The query string runs from the first '?' to the first space or
 * '#' and splits on '&' and ';'; a fragment after '#' is read the same way
 * (OAuth's implicit flow puts access_token there). In the path before it,
 * a segment named by a `segment` line makes the next segment a span
 * (/u/123/profile). A group without '?' whose first '=' comes before any
 * '/' or blank is a bare query string as a whole (nginx $args, W3C
 * cs-uri-query, a Cookie header "a=b; c=d"); blanks and '+' before a name
 * are skipped. Inside a JSON string (`esc`) a group holding escapes is
 * read unescaped ("\/" for '/', Go's "\u0026" for '&'), its spans
 * widened to the raw bytes.
 *
 * Names compare ASCII case-insensitively, percent-decoded ("pass%77ord"),
 * and without an array suffix ("token[]", "token[0]"). The value of a name
 * the rule does not list is an id when it looks opaque (lsl_opaque_value:
 * long hex, base64, base64url), and so is a whole path segment that does.
 * A pair holding percent escapes in an unlisted name or value is read
 * decoded, splitting on '&', ';' and '?' too: an encoded query inside a
 * value ("next=%2Fcb%3Ftoken%3Dabc") or an encoded '=' ("device_id%3D...")
 * gets its listed and opaque values tokenized, each span widened back to
 * the raw bytes it came from.
 */
#include <sodium.h>
#include <string.h>
#include "rules_internal.h"

/* Decoded names up to this length are looked up (listed ones are short). */
#define NAME_DECODE_MAX 64

struct qctx {
    const struct lsl_rule *r;
    struct lsl_plan *p;
    const char *line;
    size_t cursor; /* bytes before it are planned */
    bool decoded;  /* line is a decoded copy: no second decoding */
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

/* name[0..len) without '_' and '-', looked up among the listed names'
 * forms without them (lsl_rule_compile adds those): "accessToken" and
 * "access-token" are access_token. */
static const struct rule_param *lookup_unseparated(const struct lsl_rule *r,
                                                   const char *name, size_t len)
{
    char buf[NAME_DECODE_MAX];
    size_t n = 0;

    if (len > sizeof(buf) ||
        (!memchr(name, '_', len) && !memchr(name, '-', len)))
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (name[i] != '_' && name[i] != '-')
            buf[n++] = name[i];
    return find_param(r, PARAM_QUERY, buf, n);
}

/*
 * A query name as written, or else decoded and without an array suffix
 * ("pass%77ord", "token[]", "token%5B%5D", "user[0]"), or else without
 * its '_' and '-' ("access-token"). The plain lookup comes first, as
 * almost every name is plain.
 */
static const struct rule_param *lookup_name(const struct lsl_rule *r,
                                            const char *name, size_t len)
{
    const struct rule_param *prm = find_param(r, PARAM_QUERY, name, len);
    char buf[NAME_DECODE_MAX];
    const char *lb;
    size_t len0 = len;

    if (prm || len == 0 || r->nparams == 0)
        return prm;
    if (len <= sizeof(buf) && memchr(name, '%', len)) {
        len = lsl_pct_decode(name, len, buf, NULL);
        name = buf;
    }
    if (len > 1 && name[len - 1] == ']' && (lb = memchr(name, '[', len)))
        len = (size_t)(lb - name);
    if (name == buf || len != len0)
        prm = find_param(r, PARAM_QUERY, name, len);
    if (!prm)
        prm = lookup_unseparated(r, name, len);
    sodium_memzero(buf, sizeof(buf));
    return prm;
}

const struct rule_param *lsl_query_param(const struct lsl_rule *r,
                                         const char *name, size_t len)
{
    return lookup_name(r, name, len);
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

/* An opaque value is an id, or a secret when it is a key known by its
 * prefix (a stream key as a path segment or a query value). */
static uint8_t opaque_class(const char *line, size_t off, size_t len)
{
    struct lsl_hit h;

    return lsl_key_prefix_at(line, off + len, off, &h) && h.end[0] == off + len
               ? LSL_CLASS_SECRET
               : LSL_CLASS_ID;
}

/* Scrub from the cursor up to `to`. */
static int scrub_to(struct qctx *q, size_t to)
{
    size_t off = q->cursor;

    q->cursor = to;
    if (q->decoded)
        return lsl_scrub(q->p, q->line, off, to - off, LSL_SCRUB_DECODED);
    return lsl_scrub_memo_run(q->memo, NULL, q->p, q->line, off, to - off, 0);
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

/* Path segments in [i, end): the one after a listed segment is a value,
 * and so is an opaque one. */
static int plan_path(struct qctx *q, size_t i, size_t end)
{
    const struct rule_param *prev = NULL;
    int rc;

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
        } else if (n >= LSL_OPAQUE_MIN &&
                   lsl_opaque_value(q->line + i, n, !q->decoded)) {
            rc = push_value(q, i, n, opaque_class(q->line, i, n));
            if (rc)
                return rc;
        }
        prev = q->r->param_lens[PARAM_SEGMENT]
                   ? find_param(q->r, PARAM_SEGMENT, q->line + i, n)
                   : NULL;
        i = send + 1;
    }
    return 0;
}

static int plan_query(struct qctx *q, size_t i, size_t qend);

/* Where the pair starting at i ends: '&' or ';' (and in decoded text
 * '?', where an inner query starts, or a blank, which a raw query string
 * cannot hold). */
static size_t pair_end(const struct qctx *q, size_t i, size_t qend)
{
    if (!q->decoded)
        return lsl_find2(q->line, i, qend, '&', ';');
    while (i < qend && q->line[i] != '&' && q->line[i] != ';' &&
           q->line[i] != '?' && q->line[i] != ' ')
        i++;
    return i;
}

/* The pair line[from..to) read decoded (see the file comment). */
static int decoded_pair(struct qctx *q, size_t from, size_t to)
{
    struct lsl_decoded d;
    struct qctx in = {q->r, q->p, NULL, 0, true, NULL};
    size_t first;
    int rc = scrub_to(q, from);

    if (rc)
        return rc;
    first = q->p->count;
    rc = lsl_decoded_open(&d, q->line + from, to - from);
    if (rc)
        return rc;
    in.line = d.text;
    rc = plan_query(&in, 0, d.len);
    if (rc == 0)
        rc = scrub_to(&in, d.len);
    if (rc == 0)
        lsl_decoded_widen(&d, q->p, first, from);
    lsl_decoded_close(&d);
    q->cursor = to;
    return rc;
}

/* One name=value pair [i, pend) whose '=' is at eq (pend if none). */
static int plan_pair(struct qctx *q, size_t i, size_t eq, size_t pend)
{
    const char *line = q->line;
    const struct rule_param *prm = NULL;
    size_t vlen = eq < pend ? pend - eq - 1 : 0;
    const char *eq2;

    if (vlen > 0)
        prm = lookup_name(q->r, line + i, eq - i);
    if (prm)
        return push_value(q, eq + 1, vlen, prm->cls);
    if (vlen > 0 && lsl_secret_word(line + i, eq - i))
        return push_value(q, eq + 1, vlen, LSL_CLASS_SECRET);
    if (vlen >= LSL_OPAQUE_MIN &&
        lsl_opaque_value(line + eq + 1, vlen, !q->decoded))
        return push_value(q, eq + 1, vlen, opaque_class(line, eq + 1, vlen));
    /* A value that is itself a pair of a listed name (a cookie
     * "c=sessionid=...") or a path ("next=/u/NAME/") is read as one. */
    if (vlen > 0 && (eq2 = memchr(line + eq + 1, '=', vlen)) != NULL &&
        eq2 + 1 < line + pend &&
        (prm = lookup_name(q->r, line + eq + 1,
                           (size_t)(eq2 - line) - eq - 1)) != NULL)
        return push_value(q, (size_t)(eq2 - line) + 1,
                          pend - (size_t)(eq2 - line) - 1, prm->cls);
    if (vlen > 1 && line[eq + 1] == '/' && q->r->param_lens[PARAM_SEGMENT])
        return plan_path(q, eq + 1, pend);
    if (!q->decoded && lsl_pct_has_escape(line + i, pend - i))
        return decoded_pair(q, i, pend);
    return 0;
}

static int plan_query(struct qctx *q, size_t i, size_t qend)
{
    const char *line = q->line;

    while (i < qend) {
        size_t pend = pair_end(q, i, qend);
        const char *eqp = memchr(line + i, '=', pend - i);
        size_t eq = eqp ? (size_t)(eqp - line) : pend;
        int rc;

        while (i < eq && (line[i] == ' ' || line[i] == '+'))
            i++;
        rc = plan_pair(q, i, eq, pend);
        if (rc)
            return rc;
        i = pend + 1;
    }
    return 0;
}

/* From the path on: path segments, '?' query, '#' fragment. */
static int plan_url(struct qctx *q, size_t path, size_t end)
{
    const char *line = q->line;
    size_t pend = lsl_find2(line, path, end, '?', ' ');
    /* A '#' before the '?' starts the fragment (the '?' is its own). */
    const char *hash = memchr(line + path, '#', pend - path);
    int rc;

    if (hash)
        pend = (size_t)(hash - line);
    rc = plan_path(q, path, pend);

    if (rc == 0 && pend < end && line[pend] == '?') {
        size_t qend = lsl_find2(line, pend + 1, end, ' ', '#');

        rc = plan_query(q, pend + 1, qend);
        pend = qend;
    }
    if (rc == 0 && pend < end && line[pend] == '#')
        rc = plan_query(q, pend + 1, lsl_find2(line, pend + 1, end, ' ', '\t'));
    return rc;
}

static int query_plan(struct qctx *q, size_t len)
{
    const char *line = q->line;
    size_t off = q->cursor, end = off + len;
    const char *slash = memchr(line + off, '/', len);
    int rc;

    if (q->r->nparams == 0)
        return scrub_to(q, end);
    if (is_bare(line, off, end))
        rc = plan_query(q, off, end);
    else
        rc = plan_url(q, slash ? (size_t)(slash - line) : end, end);
    return rc ? rc : scrub_to(q, end);
}

struct plan_arg {
    const struct lsl_rule *r;
    struct lsl_plan *p;
};

static int plan_fn(void *arg, const char *text, size_t off, size_t len)
{
    struct plan_arg *a = arg;
    struct qctx q = {a->r, a->p, text, off, false, NULL};

    return query_plan(&q, len);
}

int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                   const char *line, size_t off, size_t len, bool esc)
{
    struct plan_arg a = {r, p};

    if (esc)
        return lsl_decoded_run(p, LSL_SPAN_F_JSON, line, off, len, plan_fn, &a);
    return plan_fn(&a, line, off, len);
}

int lsl_query_pairs(const struct lsl_rule *r, struct lsl_plan *p,
                    const char *line, size_t off, size_t len)
{
    struct qctx q = {r, p, line, off, false, NULL};
    int rc = plan_query(&q, off, off + len);

    return rc ? rc : scrub_to(&q, off + len);
}

int lsl_query_plan_memo(const struct lsl_rule *r, struct lsl_scrub_memo *memo,
                        struct lsl_plan *p, const char *line, size_t off,
                        size_t len)
{
    struct qctx q = {r, p, line, off, false, memo};

    return query_plan(&q, len);
}
