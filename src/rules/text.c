/*
 * `format text`: for logs no other rule reads (syslog, sshd, application
 * logs). Every line matches; the whole line is free text for the scrubber
 * (addresses, e-mails, UUIDs, device ids, JWTs, credentials, URL userinfo,
 * phone numbers), and the value of every `param` name written as a pair
 * in it is tokenized as the param's class:
 *
 *   name=value   name="value"   name: value   "name":"value"   name='v'
 *
 * A name is letters, digits and _ - . [ ] % right before the '=' or ':'
 * (quoted for JSON); it is looked up as the query action looks up names
 * (case-insensitive, percent-decoded, without an array suffix), and so
 * is the last part of a dotted name ("db.password"). An
 * unquoted value ends at a blank or one of , ; & " ' ) ] } >; a quoted
 * one at its closing quote. The text between values is scrubbed. Only
 * listed names count, so "rid=..." or "took: 12ms" stay as they are.
 */
#include <string.h>
#include "rules_internal.h"

static bool is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("_-.[]%", c) != NULL);
}

static bool ends_value(char c)
{
    return c == ' ' || c == '\t' ||
           (c != '\0' && strchr(",;&\"')]}>", c) != NULL);
}

/* The name that ends just before line[sep] ('=' or ':'), as [*ns, *ne). */
static bool name_before(const char *line, size_t sep, size_t *ns, size_t *ne)
{
    size_t e = sep, s;

    if (e > 0 && line[e - 1] == '"')
        e--;
    for (s = e; s > 0 && is_name(line[s - 1]);)
        s--;
    if (s == e || (e < sep && (s == 0 || line[s - 1] != '"')))
        return false;
    *ns = s;
    *ne = e;
    return true;
}

/* The value after line[sep], as [*vs, *ve). */
static bool value_after(const char *line, size_t len, size_t sep, size_t *vs,
                        size_t *ve)
{
    size_t i = sep + 1;
    char q = 0;

    while (line[sep] == ':' && i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && (line[i] == '"' || line[i] == '\'')) {
        q = line[i++];
    }
    *vs = i;
    if (q) {
        const char *cq = memchr(line + i, q, len - i);

        i = cq ? (size_t)(cq - line) : len;
    } else {
        while (i < len && !ends_value(line[i]))
            i++;
    }
    *ve = i;
    return i > *vs;
}

/* A listed name, or the last part of a dotted one ("db.password"). */
static const struct rule_param *lookup(const struct lsl_rule *r,
                                       const char *name, size_t len)
{
    const struct rule_param *prm = lsl_query_param(r, name, len);
    const char *dot;

    for (size_t k = len; !prm && k > 0; k--) {
        if (name[k - 1] != '.')
            continue;
        dot = name + k;
        prm = lsl_query_param(r, dot, len - k);
        break;
    }
    return prm;
}

int lsl_text_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                  const char *line, size_t len)
{
    struct lsl_plan *p = &m->plan;
    size_t cursor = 0, i = 0;
    int rc = 0;

    p->matched = true;
    while (rc == 0 && r->nparams && i < len) {
        size_t ns, ne, vs, ve;
        const struct rule_param *prm;

        i = lsl_find2(line, i, len, '=', ':');
        if (i >= len)
            break;
        if (name_before(line, i, &ns, &ne) && ns >= cursor &&
            (prm = lookup(r, line + ns, ne - ns)) != NULL &&
            value_after(line, len, i, &vs, &ve)) {
            rc = lsl_scrub(p, line, cursor, vs - cursor, LSL_SCRUB_PHONES);
            if (rc == 0)
                rc = lsl_plan_push(p, vs, ve - vs, LSL_ACT_TOKEN, prm->cls, 0);
            cursor = i = ve;
            continue;
        }
        i++;
    }
    if (rc == 0)
        rc = lsl_scrub(p, line, cursor, len - cursor, LSL_SCRUB_PHONES);
    return rc;
}
