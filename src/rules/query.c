/*
 * The query action: a group holding a request line ("GET /p?a=b HTTP/1.1")
 * or a URL. The values of the rule's `param` names in the query string
 * become spans of the listed class; every other byte of the group goes
 * through the scrubber, in pieces between those values, so the plan stays
 * sorted. The query string runs from the first '?' to the first space or
 * '#' and splits on '&' and ';'. Names compare ASCII case-insensitively;
 * they are not percent-decoded.
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

int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                   const char *line, size_t off, size_t len)
{
    size_t end = off + len, cursor = off, i, qend;
    const char *q = memchr(line + off, '?', len);
    int rc;

    if (!q || r->nparams == 0)
        return lsl_scrub_range(p, line, off, len);
    i = (size_t)(q - line) + 1;
    qend = find2(line, i, end, ' ', '#');
    while (i < qend) {
        size_t pend = find2(line, i, qend, '&', ';');
        size_t eq = find2(line, i, pend, '=', '=');
        const struct rule_param *prm;

        if (eq < pend && eq + 1 < pend) {
            prm = find_param(r, line + i, eq - i);
            if (prm) {
                rc = lsl_scrub_range(p, line, cursor, eq + 1 - cursor);
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
    return lsl_scrub_range(p, line, cursor, end - cursor);
}
