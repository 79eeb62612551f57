/*
 * The query action: a group holding a request line ("GET /p?a=b HTTP/1.1")
 * or a URL. The values of the rule's `param` names in the query string
 * become spans of the listed class; every other byte of the group goes
 * through the scrubber, in pieces between those values, so the plan stays
 * sorted. The query string runs from the first '?' to the first space or
 * '#' and splits on '&' and ';'. A group without '?' whose first '=' comes
 * before any '/' or blank is a bare query string as a whole (nginx $args,
 * W3C cs-uri-query, a Cookie header "a=b; c=d"); blanks and '+' before a
 * name are skipped. Names compare ASCII case-insensitively; they are not
 * percent-decoded.
 */
#include <string.h>
#include "rules_int.h"

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static const struct rule_param *find_param(const struct lsl_rule *r,
                                           const char *name, size_t len)
{
    for (size_t i = 0; i < r->nparams; i++) {
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

/* First position in [from, end) holding a or b, or end. */
static size_t find2(const char *s, size_t from, size_t end, char a, char b)
{
    while (from < end && s[from] != a && s[from] != b)
        from++;
    return from;
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

static int scrub(struct lsl_plan *p, const char *line, size_t off,
                 size_t len, bool esc)
{
    return esc ? lsl_scrub_escaped(p, line, off, len, false)
               : lsl_scrub_range(p, line, off, len);
}

int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                   const char *line, size_t off, size_t len, bool esc)
{
    size_t end = off + len, cursor = off, i, qend;
    const char *q = memchr(line + off, '?', len);
    int rc;

    if (r->nparams == 0 || (!q && !is_bare(line, off, end)))
        return scrub(p, line, off, len, esc);
    i = q ? (size_t)(q - line) + 1 : off;
    qend = q ? find2(line, i, end, ' ', '#') : end;
    while (i < qend) {
        size_t pend = find2(line, i, qend, '&', ';');
        size_t eq = find2(line, i, pend, '=', '=');
        const struct rule_param *prm;

        while (i < eq && (line[i] == ' ' || line[i] == '+'))
            i++;
        if (eq < pend && eq + 1 < pend) {
            prm = find_param(r, line + i, eq - i);
            if (prm) {
                rc = scrub(p, line, cursor, eq + 1 - cursor, esc);
                if (rc == 0)
                    rc = lsl_plan_push(p, eq + 1, pend - eq - 1, LSL_ACT_TOKEN,
                                       prm->cls, 0);
                if (rc)
                    return rc;
                cursor = pend;
            }
        }
        i = pend + 1;
    }
    return scrub(p, line, cursor, end - cursor, esc);
}
