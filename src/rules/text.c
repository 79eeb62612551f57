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
 * (quoted for JSON; the fullwidth '＝' and '：' that Japanese input types
 * count too); it is looked up as the query action looks up names
 * (case-insensitive, percent-decoded, without an array suffix), and so
 * is the last part of a dotted name ("db.password"). An
 * unquoted value ends at a blank or one of , ; & " ' ) ] } >; a quoted
 * one at its closing quote. The unquoted value of any other name is an id
 * when it looks opaque (lsl_opaque_value: long hex, base64), as in a
 * query string: a log no rule reads is not known to be free of them. The
 * text between values is scrubbed, and a word in it that holds percent
 * escapes is read as query pairs ("token%3Dabc", an encoded URL), so
 * "took: 12ms" stays and "token%3Dabc" does not. A few Japanese labels
 * ("パスワード：", "会員番号=": jalabel.c) take their values too.
 */
#include <string.h>
#include "rules_internal.h"

/* Comparisons, not strchr: both run once per byte of every free-text
 * field (a call per byte was a sixth of nginx-main's extra field). */
static bool is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
           c == '[' || c == ']' || c == '%';
}

static bool ends_value(char c)
{
    switch (c) {
    case ' ':
    case '\t':
    case ',':
    case ';':
    case '&':
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case '>':
        return true;
    default:
        return false;
    }
}

/* The name that ends just before line[sep] (a separator), as [*ns, *ne),
 * not before lo. */
static bool name_before(const char *line, size_t lo, size_t sep, size_t *ns,
                        size_t *ne)
{
    size_t e = sep, s;

    if (e > lo && line[e - 1] == '"')
        e--;
    for (s = e; s > lo && is_name(line[s - 1]);)
        s--;
    if (s == e || (e < sep && (s == lo || line[s - 1] != '"')))
        return false;
    *ns = s;
    *ne = e;
    return true;
}

/* The value after the separator at line[sep] ('=' ':' or a fullwidth
 * one), as [*vs, *ve). */
static bool value_after(const char *line, size_t len, size_t sep, size_t *vs,
                        size_t *ve)
{
    size_t sl = lsl_sep_len(line, sep, len), i = sep + sl;
    bool colon = line[sep] == ':' || (sl == 3 && line[sep + 2] == '\x9A');
    char q = 0;

    if (sl == 0)
        return false;
    while (colon && i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    /* A JSON array of strings ("X-Api-Key":["v"]): its first string. */
    if (colon && i + 1 < len && line[i] == '[' && line[i + 1] == '"')
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

/* A word that reads as a URL or a path: the query action takes it. */
static bool is_url(const struct lsl_rule *r, const char *w, size_t n)
{
    return n > 1 && (w[0] == '/' || memchr(w, '?', n)) &&
           (r->param_lens[0] | r->param_lens[1]);
}

/* Whether a word of line[from, to) may be one is_url takes: one that
 * starts with '/' or holds a '?'. A user agent has many '/', none after a
 * blank: its words are not looked at one by one. */
static bool url_word(const char *line, size_t from, size_t to)
{
    const char *p = line + from, *end = line + to;

    if (memchr(p, '?', to - from))
        return true;
    while ((p = memchr(p, '/', (size_t)(end - p))) != NULL) {
        if (p == line + from || p[-1] == ' ' || p[-1] == '\t')
            return true;
        p++;
    }
    return false;
}

/* Scrub line[from, to); a word (between blanks) holding a percent escape
 * is read as query pairs, so "token%3Dabc" or "next=%2Fcb%3Ftoken%3Dabc"
 * has its listed values tokenized, and a word that is a path or a URL with
 * a query is read as the query action reads one (/u/NAME/ segments,
 * opaque segments, listed values). */
static int scrub_gap(const struct lsl_rule *r, struct lsl_plan *p,
                     const char *line, size_t from, size_t to, unsigned mode)
{
    size_t i = from, cursor = from;
    int rc = 0;

    if (!lsl_pct_has_escape(line + from, to - from) &&
        (!(r->param_lens[0] | r->param_lens[1]) || !url_word(line, from, to)))
        return lsl_scrub(p, line, from, to - from, mode);
    while (rc == 0 && i < to) {
        size_t ws, we;

        while (i < to && (line[i] == ' ' || line[i] == '\t'))
            i++;
        for (ws = we = i; we < to && line[we] != ' ' && line[we] != '\t';)
            we++;
        i = we;
        if (ws == we)
            continue;
        if (lsl_pct_has_escape(line + ws, we - ws)) {
            rc = lsl_scrub(p, line, cursor, ws - cursor, mode);
            if (rc == 0)
                rc = lsl_query_pairs(r, p, line, ws, we - ws);
        } else if (is_url(r, line + ws, we - ws)) {
            rc = lsl_scrub(p, line, cursor, ws - cursor, mode);
            if (rc == 0)
                rc = lsl_query_plan(r, p, line, ws, we - ws, false);
        } else {
            continue;
        }
        cursor = we;
    }
    if (rc == 0)
        rc = lsl_scrub(p, line, cursor, to - cursor, mode);
    return rc;
}

/* A pair whose value a query field of that name reads (a JSON rule's
 * "uri"): PAIR_QUERY, as pair_class answers it. */
#define PAIR_QUERY (-2)

/* The class a tokenizing field (a JSON key, a column, a group) of the
 * same name gives, matched on the last part of a dotted key path
 * ("request.remote_ip" for "remote_ip"), PAIR_QUERY for a query field;
 * -1 for none. */
static int field_class(const struct lsl_rule *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const struct rule_field *f = &r->fields[i];
        unsigned strength;

        if (f->leaf_len != len || memcmp(f->group + f->leaf, name, len) != 0)
            continue;
        strength = lsl_field_strength(f);
        if (strength >= 1 && f->action != RULE_ACT_DROP)
            return strength == 1 ? PAIR_QUERY : f->cls;
    }
    return -1;
}

/* The class of the pair's value: a listed name's, a tokenizing field's
 * of that name, or id for an opaque unquoted value; -1 for none. */
static int pair_class(const struct lsl_rule *r, const char *line, size_t ns,
                      size_t ne, size_t vs, size_t ve)
{
    const struct rule_param *prm = lookup(r, line + ns, ne - ns);
    int cls;

    if (prm)
        return prm->cls;
    if (r->nfields && (cls = field_class(r, line + ns, ne - ns)) != -1)
        return cls;
    if ((r->format == RULE_FMT_JSON && r->unnamed == UNNAMED_SCRUB &&
         lsl_secret_name(line + ns, ne - ns)) ||
        lsl_secret_word(line + ns, ne - ns))
        return LSL_CLASS_SECRET;
    if (line[vs - 1] != '"' && line[vs - 1] != '\'' &&
        lsl_opaque_value(line + vs, ve - vs, false))
        return LSL_CLASS_ID;
    return -1;
}

/* "name":value, the value no string: a JSON number or literal, whose
 * token is written quoted so that the line stays JSON (a line no rule
 * matched is read as free text). Text inside a JSON string is read here
 * decoded, where lsl_decoded_run takes the flag off again. */
static uint8_t json_bare(const char *line, size_t ns, size_t ne, size_t sep,
                         size_t vs)
{
    bool quoted_name = line[sep] == ':' && ne < sep && line[ns - 1] == '"';
    bool bare = line[vs - 1] != '"' && line[vs - 1] != '\'';

    return quoted_name && bare ? LSL_SPAN_F_QUOTE : 0;
}

/* The next ':' or '=', or with `wide` a fullwidth form's lead byte. */
static size_t next_sep(const char *line, size_t i, size_t end, bool wide)
{
    if (!wide)
        return lsl_find2(line, i, end, '=', ':');
    while (i < end && line[i] != ':' && line[i] != '=' &&
           (unsigned char)line[i] != 0xEF)
        i++;
    return i;
}

int lsl_text_range(const struct lsl_rule *r, struct lsl_plan *p,
                   const char *line, size_t off, size_t len, unsigned mode)
{
    size_t cursor = off, i = off;
    bool wide = lsl_ja_sep_in(line + off, len);
    int rc = 0;

    len += off; /* the end of the range, from here on */
    while (rc == 0 && i < len) {
        size_t ns, ne, vs, ve;
        struct lsl_hit auth;
        uint8_t jcls;
        int cls;

        i = next_sep(line, i, len, wide);
        if (i >= len)
            break;
        /* "Authorization: Bearer X": a value that ends at the blank
         * would be the scheme; the scrubber takes the credential. */
        if (name_before(line, off, i, &ns, &ne) && ns >= cursor &&
            value_after(line, len, i, &vs, &ve) &&
            (cls = pair_class(r, line, ns, ne, vs, ve)) != -1 &&
            !lsl_auth_at(line, vs, len, vs, &auth)) {
            rc = scrub_gap(r, p, line, cursor, vs, mode);
            if (rc == 0 && cls == PAIR_QUERY)
                rc = lsl_query_plan(r, p, line, vs, ve - vs, false);
            else if (rc == 0)
                rc = lsl_plan_push(p, vs, ve - vs, LSL_ACT_TOKEN, (uint8_t)cls,
                                   json_bare(line, ns, ne, i, vs));
            cursor = i = ve;
            continue;
        }
        if (lsl_ja_label_possible(line, cursor, i) &&
            lsl_ja_label_at(line, cursor, i, len, &vs, &ve, &jcls)) {
            rc = scrub_gap(r, p, line, cursor, vs, mode);
            if (rc == 0)
                rc = lsl_plan_push(p, vs, ve - vs, LSL_ACT_TOKEN, jcls, 0);
            cursor = i = ve;
            continue;
        }
        i++;
    }
    if (rc == 0)
        rc = scrub_gap(r, p, line, cursor, len, mode);
    return rc;
}

struct text_arg {
    const struct lsl_rule *r;
    struct lsl_plan *p;
    unsigned mode;
};

static int text_fn(void *arg, const char *text, size_t off, size_t len)
{
    struct text_arg *a = arg;

    return lsl_text_range(a->r, a->p, text, off, len, a->mode);
}

int lsl_text_escaped(const struct lsl_rule *r, struct lsl_plan *p, unsigned esc,
                     const char *line, size_t off, size_t len, unsigned mode)
{
    struct text_arg a = {r, p, mode};

    return lsl_decoded_run(p, esc, line, off, len, text_fn, &a);
}

int lsl_text_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                  const char *line, size_t len)
{
    m->plan.matched = true;
    /* Application logs print bytes as Python's repr or nginx does. */
    return lsl_text_escaped(r, &m->plan, LSL_SPAN_F_XESC, line, 0, len,
                            LSL_SCRUB_PHONES);
}
