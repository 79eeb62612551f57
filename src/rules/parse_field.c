/*
 * Rule file reader, the field lines: field, key and column (an action,
 * a class and options for a group, key or column), type and canonical.
 * Every error names the line; messages quote only rule-file text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "parse_internal.h"

static const struct {
    const char *name;
    enum rule_action action;
} action_names[] = {
    {"ip", RULE_ACT_IP},           {"iplist", RULE_ACT_IPLIST},
    {"query", RULE_ACT_QUERY},     {"scrub", RULE_ACT_SCRUB},
    {"keep", RULE_ACT_KEEP},       {"drop", RULE_ACT_DROP},
    {"useragent", RULE_ACT_AGENT},
};

int lsl_parse_class(struct rule_parser *ps, struct lsl_span w, uint8_t *cls)
{
    enum lsl_class c;

    if (lsl_class_parse(w.p, w.len, &c))
        return lsl_parse_fail(ps,
                              "unknown class '%.*s' (known: ip id user email "
                              "secret phone name)",
                              (int)(w.len > 32 ? 32 : w.len), w.p);
    *cls = (uint8_t)c;
    return 0;
}

static int parse_action(struct rule_parser *ps, struct lsl_span w,
                        struct rule_field *f)
{
    enum lsl_class c;

    for (size_t i = 0; i < LSL_ARRAY_SIZE(action_names); i++) {
        if (lsl_parse_word_is(w, action_names[i].name)) {
            f->action = (uint8_t)action_names[i].action;
            f->cls = LSL_CLASS_IP;
            return 0;
        }
    }
    if (lsl_class_parse(w.p, w.len, &c) == 0) {
        f->action = RULE_ACT_TOKEN;
        f->cls = (uint8_t)c;
        return 0;
    }
    return lsl_parse_fail(
        ps,
        "unknown action '%.*s' (known: ip iplist id user email "
        "secret name phone query scrub useragent keep drop)",
        (int)(w.len > 32 ? 32 : w.len), w.p);
}

static const char *const ip_modes[] = {"token", "ip6", "prefix", "truncate"};

/*
 * "bits=N" (both families, at most 32), "bits4=N" (at most 32) or
 * "bits6=N" (at most 128): a count beyond a family's width would keep its
 * addresses whole, so it is refused. 1 if w is one of them, 0 if not, or
 * LSL_ERULE.
 */
static int parse_bits(struct rule_parser *ps, struct lsl_span w,
                      struct rule_field *f)
{
    static const struct {
        const char *name;
        unsigned max;
        bool v4, v6;
    } opts[] = {{"bits=", 32, true, true},
                {"bits4=", 32, true, false},
                {"bits6=", 128, false, true}};
    unsigned v = 0;

    for (size_t k = 0; k < LSL_ARRAY_SIZE(opts); k++) {
        size_t n = strlen(opts[k].name);

        if (w.len <= n || memcmp(w.p, opts[k].name, n) != 0)
            continue;
        for (size_t i = n; i < w.len && v <= 128; i++) {
            if (w.p[i] < '0' || w.p[i] > '9')
                v = 999;
            else
                v = v * 10 + (unsigned)(w.p[i] - '0');
        }
        if (v < 1 || v > opts[k].max)
            return lsl_parse_fail(
                ps, "%.*s takes 1 to %u (an %s address has %u bits%s)", (int)n,
                opts[k].name, opts[k].max,
                opts[k].v6 && !opts[k].v4 ? "IPv6" : "IPv4", opts[k].max,
                opts[k].v6 && opts[k].v4 ? "; give IPv6 its own with bits6="
                                         : "");
        if (opts[k].v4)
            f->bits4 = (uint8_t)v;
        if (opts[k].v6)
            f->bits6 = (uint8_t)v;
        return 1;
    }
    return 0;
}

/* "mode=...", "bits=N", "bits4=N", "bits6=N" after a field's action (and
 * class). */
static int parse_option(struct rule_parser *ps, struct lsl_span w,
                        struct rule_field *f)
{
    bool ip = f->action == RULE_ACT_IP || f->action == RULE_ACT_IPLIST;
    int rc;

    if (ip && w.len > 5 && memcmp(w.p, "mode=", 5) == 0) {
        struct lsl_span m = {w.p + 5, w.len - 5};

        for (size_t i = 0; i < LSL_ARRAY_SIZE(ip_modes); i++) {
            if (lsl_parse_word_is(m, ip_modes[i])) {
                f->mode = (uint8_t)i;
                return 0;
            }
        }
        return lsl_parse_fail(ps,
                              "unknown ip mode '%.*s' (known: token ip6 prefix "
                              "truncate)",
                              (int)(m.len > 32 ? 32 : m.len), m.p);
    }
    if (ip && (rc = parse_bits(ps, w, f)) != 0)
        return rc < 0 ? rc : 0;
    return lsl_parse_fail(ps, "unexpected '%.*s'%s",
                          (int)(w.len > 32 ? 32 : w.len), w.p,
                          ip ? " (options: mode= bits= bits4= bits6=)" : "");
}

/* ACTION [CLASS] [mode=M] [bits=N | bits4=N bits6=N] */
static int parse_spec(struct rule_parser *ps, const struct lsl_span *w, int n,
                      struct rule_field *f)
{
    int rc = parse_action(ps, w[0], f);
    int i = 1;

    if (rc)
        return rc;
    /* An address field is written as an address by default (ip6: the
     * token's 120 bits in fd00::/8), so tools that want a host there
     * (GoAccess's %h) read the output; mode=token gives ip_... */
    if (f->action == RULE_ACT_IP || f->action == RULE_ACT_IPLIST)
        f->mode = LSL_IPMODE_IP6;
    if (i < n && !memchr(w[i].p, '=', w[i].len)) {
        if (f->action != RULE_ACT_IP && f->action != RULE_ACT_IPLIST &&
            f->action != RULE_ACT_TOKEN)
            return lsl_parse_fail(ps, "action '%.*s' takes no class",
                                  (int)w[0].len, w[0].p);
        rc = lsl_parse_class(ps, w[i++], &f->cls);
        if (rc)
            return rc;
    }
    for (; i < n; i++) {
        rc = parse_option(ps, w[i], f);
        if (rc)
            return rc;
    }
    if ((f->bits4 || f->bits6) && f->mode != LSL_IPMODE_TRUNCATE)
        return lsl_parse_fail(ps, "bits= goes with mode=truncate");
    return 0;
}

/* field, key and column lines: NAME ACTION [CLASS] [options]. */
static int add_field(struct rule_parser *ps, const char *rest, const char *end,
                     enum rule_format via, const char *usage)
{
    struct lsl_rule *r = ps->r;
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    struct rule_field f = {.line = ps->line, .via = (uint8_t)via};
    struct rule_field *nf;
    const char *dot;
    int n = lsl_parse_words(ps, rest, end, w, 2, 6, usage);
    int rc;

    if (n < 0)
        return n;
    for (size_t i = 0; i < r->nfields; i++)
        if (lsl_parse_word_is(w[0], r->fields[i].group))
            return lsl_parse_fail(ps, "second %s line for '%s'",
                                  via == RULE_FMT_REGEX  ? "field"
                                  : via == RULE_FMT_JSON ? "key"
                                                         : "column",
                                  r->fields[i].group);
    rc = parse_spec(ps, w + 1, n - 1, &f);
    if (rc)
        return rc;
    nf = lsl_parse_grow(r->fields, r->nfields, sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    r->fields = nf;
    f.group = lsl_parse_dup(w[0].p, w[0].len);
    if (!f.group)
        return -ENOMEM;
    dot = strrchr(f.group, '.');
    f.leaf = dot ? (size_t)(dot - f.group) + 1 : 0;
    f.leaf_len = w[0].len - f.leaf;
    r->fields[r->nfields++] = f;
    return 0;
}

int lsl_parse_field(struct rule_parser *ps, const char *rest, const char *end)
{
    return add_field(ps, rest, end, RULE_FMT_REGEX,
                     "field GROUP ACTION [CLASS] [mode=M] [bits4=N] [bits6=N]");
}

int lsl_parse_key(struct rule_parser *ps, const char *rest, const char *end)
{
    return add_field(ps, rest, end, RULE_FMT_JSON,
                     "key NAME ACTION [CLASS] [mode=M] [bits4=N] [bits6=N]");
}

int lsl_parse_column(struct rule_parser *ps, const char *rest, const char *end)
{
    return add_field(ps, rest, end, RULE_FMT_W3C,
                     "column NAME ACTION [CLASS] [mode=M] [bits4=N] [bits6=N]");
}

int lsl_parse_type(struct rule_parser *ps, const char *rest, const char *end)
{
    static const char *const names[] = {"string", "number", "time"};
    struct lsl_rule *r = ps->r;
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    struct rule_type t = {.line = ps->line};
    struct rule_type *nt;
    int n =
        lsl_parse_words(ps, rest, end, w, 2, 2, "type NAME string|number|time");

    if (n < 0)
        return n;
    for (t.type = 0; t.type < LSL_ARRAY_SIZE(names); t.type++)
        if (lsl_parse_word_is(w[1], names[t.type]))
            break;
    if (t.type == LSL_ARRAY_SIZE(names))
        return lsl_parse_fail(ps, "expected: type NAME string|number|time");
    for (size_t i = 0; i < r->ntypes; i++)
        if (lsl_parse_word_is(w[0], r->types[i].group))
            return lsl_parse_fail(ps, "second type line for '%s'",
                                  r->types[i].group);
    nt = lsl_parse_grow(r->types, r->ntypes, sizeof(*nt));
    if (!nt)
        return -ENOMEM;
    r->types = nt;
    t.group = lsl_parse_dup(w[0].p, w[0].len);
    if (!t.group)
        return -ENOMEM;
    r->types[r->ntypes++] = t;
    return 0;
}

/* canonical GROUP NAME: the field's shared name in JSON lines. */
int lsl_parse_canonical(struct rule_parser *ps, const char *rest,
                        const char *end)
{
    struct lsl_rule *r = ps->r;
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    struct rule_canon c = {.line = ps->line};
    struct rule_canon *nc;
    int n = lsl_parse_words(ps, rest, end, w, 2, 2, "canonical GROUP NAME");

    if (n < 0)
        return n;
    c.name = lsl_canon_find(w[1].p, w[1].len, &c.type);
    if (!c.name)
        return lsl_parse_fail(
            ps,
            "unknown canonical name '%.*s' (known: time "
            "client_ip client_port user request method path "
            "query protocol status bytes referer user_agent host "
            "request_id forwarded_for server_ip server_port uri)",
            (int)(w[1].len > 32 ? 32 : w[1].len), w[1].p);
    /* One group a name, and one name a group; a W3C rule may give one
     * name to columns of several layouts (a header holds one of them). */
    for (size_t i = 0; i < r->ncanons; i++)
        if (lsl_parse_word_is(w[0], r->canons[i].group) ||
            (r->canons[i].name == c.name && r->format != RULE_FMT_W3C))
            return lsl_parse_fail(ps,
                                  "'%s' or '%s' has a canonical name already",
                                  r->canons[i].group, c.name);
    nc = lsl_parse_grow(r->canons, r->ncanons, sizeof(*nc));
    if (!nc)
        return -ENOMEM;
    r->canons = nc;
    c.group = lsl_parse_dup(w[0].p, w[0].len);
    if (!c.group)
        return -ENOMEM;
    r->canons[r->ncanons++] = c;
    return 0;
}
