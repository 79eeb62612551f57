/*
 * Matching a line and turning the captured groups into a plan.
 *
 * A matcher is one thread's state: PCRE2 match data (grown to the largest
 * rule it has seen), a match context carrying the limits and its own JIT
 * stack, and the plan it returns. Invariant of every returned plan: spans
 * sorted by offset, non-empty, non-overlapping, inside the line. A line
 * the rule does not match, or on which PCRE2 gives up at a limit, is
 * planned by the scrubber alone, so it is never passed through raw.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/array.h"
#include "rules_internal.h"

#define JIT_STACK_START (32u * 1024)
#define JIT_STACK_MAX   (1024u * 1024)
#define PLAN_CAP_START  16

int lsl_matcher_open(struct lsl_matcher **out)
{
    struct lsl_matcher *m = calloc(1, sizeof(*m));
    uint32_t have_jit = 0;
    int rc = -ENOMEM;

    *out = NULL;
    if (!m)
        return -ENOMEM;
    m->mctx = pcre2_match_context_create(NULL);
    if (!m->mctx)
        goto fail;
    /* A NULL stack is an error only if JIT exists; otherwise the
     * interpreter runs and needs none. */
    if (pcre2_config(PCRE2_CONFIG_JIT, &have_jit) < 0)
        have_jit = 0;
    m->jit = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
    if (!m->jit && have_jit)
        goto fail;
    if (m->jit)
        pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
    if (lsl_scrub_memo_open(&m->memo) != 0)
        goto fail;
    *out = m;
    return 0;
fail:
    lsl_matcher_free(m);
    return rc;
}

void lsl_matcher_free(struct lsl_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_jit_stack_free(m->jit);
    lsl_scrub_memo_free(m->memo);
    lsl_w3c_free(m);
    free(m->claims);
    free(m->ov);
    free(m->plan.spans);
    free(m->plan.fields);
    free(m);
}

void lsl_matcher_want_fields(struct lsl_matcher *m, bool on)
{
    m->want_fields = on;
}

int lsl_plan_field_push(struct lsl_plan *p, const char *name, size_t off,
                        size_t len, uint8_t type)
{
    /* the call is skipped while there is room: this runs per field */
    if (p->nfields == p->fields_cap &&
        lsl_array_grow(&p->fields, &p->fields_cap, p->nfields + 1,
                       sizeof(*p->fields), PLAN_CAP_START))
        return -ENOMEM;
    p->fields[p->nfields++] = (struct lsl_plan_field){
        .name = name, .off = (uint32_t)off, .len = (uint32_t)len, .type = type};
    return 0;
}

void lsl_plan_field_canon(struct lsl_plan *p, const struct rule_canon *c,
                          bool is_time)
{
    struct lsl_plan_field *f = &p->fields[p->nfields - 1];

    if (is_time) {
        f->canon = "time";
        f->canon_type = LSL_FIELD_TIME;
    } else if (c) {
        f->canon = c->name;
        f->canon_type = c->type;
    }
}

int lsl_plan_push(struct lsl_plan *p, size_t off, size_t len, uint8_t action,
                  uint8_t cls, uint8_t flags)
{
    struct lsl_plan_span *s;

    if (len == 0)
        return 0;
    /* the call is skipped while there is room: this runs per span */
    if (p->count == p->cap && lsl_array_grow(&p->spans, &p->cap, p->count + 1,
                                             sizeof(*p->spans), PLAN_CAP_START))
        return -ENOMEM;
    s = &p->spans[p->count++];
    s->off = (uint32_t)off;
    s->len = (uint32_t)len;
    s->action = action;
    s->cls = cls;
    s->flags = flags;
    s->mode = LSL_IPMODE_TOKEN;
    s->bits4 = 0;
    s->bits6 = 0;
    return 0;
}

void lsl_plan_reset(struct lsl_plan *p)
{
    p->count = 0;
    p->nfields = 0;
    p->matched = false;
    p->limit_hit = false;
    p->meta = false;
    p->time.p = NULL;
    p->time.len = 0;
}

static bool is_list_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

/* An address of field f, written in f's ip mode. */
static int push_ip(const struct rule_field *f, struct lsl_plan *p, size_t off,
                   size_t len)
{
    int rc = lsl_plan_push(p, off, len, LSL_ACT_TOKEN, f->cls, 0);

    if (rc == 0) {
        p->spans[p->count - 1].mode = f->mode;
        p->spans[p->count - 1].bits4 = f->bits4;
        p->spans[p->count - 1].bits6 = f->bits6;
    }
    return rc;
}

/*
 * An ip field holds an identifier by definition, whatever it holds: an
 * address, a host name, "unix:", "unknown", garbage. All of it is one
 * span, except the port and brackets around an address ("[2001:db8::1]:443",
 * "192.0.2.1:5678"), which are kept. Only "-" (no value) stays.
 */
static int plan_ip(const struct rule_field *f, struct lsl_plan *p,
                   const char *line, size_t off, size_t len)
{
    const char *v = line + off, *rb, *colon;

    if (len == 0 || (len == 1 && v[0] == '-'))
        return 0;
    if (len > 2 && v[0] == '[' && (rb = memchr(v, ']', len)) != NULL &&
        rb > v + 1 && (rb + 1 == v + len || rb[1] == ':'))
        return push_ip(f, p, off + 1, (size_t)(rb - v) - 1);
    colon = memchr(v, ':', len);
    if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - v) - 1) &&
        lsl_ip_valid(v, (size_t)(colon - v)))
        return push_ip(f, p, off, (size_t)(colon - v));
    return push_ip(f, p, off, len);
}

/* X-Forwarded-For: each element as an ip field. */
static int plan_iplist(const struct rule_field *f, struct lsl_plan *p,
                       const char *line, size_t off, size_t len)
{
    size_t i = off, end = off + len;
    int rc = 0;

    while (rc == 0 && i < end) {
        size_t s;

        while (i < end && is_list_sep(line[i]))
            i++;
        s = i;
        while (i < end && !is_list_sep(line[i]))
            i++;
        if (i == s)
            break;
        rc = plan_ip(f, p, line, s, i - s);
    }
    return rc;
}

/* Free text; a User-Agent keeps its Product/1.2.3.4 versions. */
static unsigned scrub_mode(const struct rule_field *f)
{
    return LSL_SCRUB_PHONES |
           (f->action == RULE_ACT_AGENT ? LSL_SCRUB_AGENT : 0u);
}

int lsl_plan_value(const struct lsl_rule *r, const struct rule_field *f,
                   struct lsl_plan *p, const char *line, size_t off, size_t len,
                   bool esc)
{
    switch ((enum rule_action)f->action) {
    case RULE_ACT_IP:
        return plan_ip(f, p, line, off, len);
    case RULE_ACT_IPLIST:
        return plan_iplist(f, p, line, off, len);
    case RULE_ACT_TOKEN:
        if (len == 1 && line[off] == '-')
            return 0;
        return lsl_plan_push(p, off, len, LSL_ACT_TOKEN, f->cls,
                             esc ? LSL_SPAN_F_JSON : 0);
    case RULE_ACT_QUERY:
        return lsl_query_plan(r, p, line, off, len, esc);
    case RULE_ACT_SCRUB:
    case RULE_ACT_AGENT:
        /* Free text as the text rule reads it: param pairs too (an app's
         * User-Agent may carry "deviceid=..."). */
        return esc ? lsl_text_escaped(r, p, LSL_SPAN_F_JSON, line, off, len,
                                      scrub_mode(f))
                   : lsl_text_range(r, p, line, off, len, scrub_mode(f));
    case RULE_ACT_DROP:
        return lsl_plan_push(p, off, len, LSL_ACT_DROP, 0, 0);
    case RULE_ACT_KEEP:
        break;
    }
    return 0;
}

/*
 * Fields are bound in group order, so spans arrive nearly sorted; only
 * nested groups (or lookarounds) make them overlap. Overlaps are merged
 * into one covering span so no byte of either is left raw.
 */
static void plan_normalize(struct lsl_plan *p)
{
    struct lsl_plan_span *s = p->spans;
    size_t w = 0;

    for (size_t i = 1; i < p->count; i++) {
        struct lsl_plan_span t = s[i];
        size_t j = i;

        for (; j > 0 && s[j - 1].off > t.off; j--)
            s[j] = s[j - 1];
        s[j] = t;
    }
    for (size_t i = 1; i < p->count; i++) {
        uint32_t wend = s[w].off + s[w].len;
        uint32_t iend = s[i].off + s[i].len;

        if (s[i].off >= wend) {
            s[++w] = s[i];
            continue;
        }
        if (iend > wend) {
            s[w].len = iend - s[w].off;
            s[w].flags = 0;
        }
        if (s[i].action == LSL_ACT_DROP)
            s[w].action = LSL_ACT_DROP;
    }
    if (p->count)
        p->count = w + 1;
}

/* Every named group that took part, for structured output. */
static int plan_names(const struct lsl_rule *r, struct lsl_plan *p,
                      const PCRE2_SIZE *ov)
{
    for (size_t i = 0; i < r->nnames; i++) {
        const struct rule_name *n = &r->names[i];
        PCRE2_SIZE s = ov[2 * n->num], e = ov[2 * n->num + 1];
        int rc;

        if (s == PCRE2_UNSET || e < s)
            continue;
        rc = lsl_plan_field_push(p, n->name, s, e - s, n->type);
        if (rc)
            return rc;
        p->fields[p->nfields - 1].canon = n->canon;
        p->fields[p->nfields - 1].canon_type = n->canon_type;
    }
    return 0;
}

/* lsl_plan_field, inlined into this file's per-group loop. */
static inline int plan_field(const struct lsl_rule *r,
                             const struct rule_field *f, struct lsl_matcher *m,
                             const char *line, size_t off, size_t len, bool esc)
{
    if (!esc && f->action == RULE_ACT_AGENT)
        return lsl_scrub_memo_run(m->memo, r, &m->plan, line, off, len,
                                  scrub_mode(f));
    if (!esc && f->action == RULE_ACT_QUERY)
        return lsl_query_plan_memo(r, m->memo, &m->plan, line, off, len);
    return lsl_plan_value(r, f, &m->plan, line, off, len, esc);
}

int lsl_plan_field(const struct lsl_rule *r, const struct rule_field *f,
                   struct lsl_matcher *m, const char *line, size_t off,
                   size_t len, bool esc)
{
    return plan_field(r, f, m, line, off, len, esc);
}

struct group_arg {
    const struct lsl_rule *r;
    const struct rule_field *f;
    struct lsl_matcher *m;
};

static int group_fn(void *arg, const char *text, size_t off, size_t len)
{
    struct group_arg *a = arg;

    return plan_field(a->r, a->f, a->m, text, off, len, false);
}

/*
 * nginx and Apache write a value's bytes beyond ASCII, '"' and '\' as
 * "\xHH": a group, or free text, is read decoded when it holds one (a
 * phone number typed in UTF-8 into an app's raw query). `bs`: the line
 * holds a '\', so most lines pay one memchr.
 */
static int plan_group_x(const struct lsl_rule *r, const struct rule_field *f,
                        struct lsl_matcher *m, const char *line, size_t off,
                        size_t len, bool bs)
{
    struct group_arg a = {r, f, m};

    if (!bs)
        return plan_field(r, f, m, line, off, len, false);
    return lsl_decoded_run(&m->plan, LSL_SPAN_F_XESC, line, off, len, group_fn,
                           &a);
}

static int plan_text_x(const struct lsl_rule *r, struct lsl_plan *p,
                       const char *line, size_t off, size_t len, bool bs)
{
    return bs ? lsl_text_escaped(r, p, LSL_SPAN_F_XESC, line, off, len,
                                 LSL_SCRUB_PHONES)
              : lsl_text_range(r, p, line, off, len, LSL_SCRUB_PHONES);
}

/* format nginx: the variables no field claims that may hold anything. */
static int plan_open(const struct lsl_rule *r, struct lsl_matcher *m,
                     const char *line, const PCRE2_SIZE *ov, bool bs)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < r->nopen; i++) {
        uint32_t g = r->open_groups[i];

        if (ov[2 * g] != PCRE2_UNSET && ov[2 * g + 1] > ov[2 * g])
            rc = plan_text_x(r, &m->plan, line, ov[2 * g],
                             ov[2 * g + 1] - ov[2 * g], bs);
    }
    return rc;
}

/*
 * A regex rule: every byte no field claims (literal text and `\S+`
 * between groups, groups without a field line, the text before and after
 * the match) is read as free text, so a rule that forgets a group or
 * matches only a prefix fails closed. A `keep` field claims its bytes.
 */
static int plan_gaps(const struct lsl_rule *r, struct lsl_matcher *m,
                     const char *line, size_t len, const PCRE2_SIZE *ov,
                     bool bs)
{
    struct lsl_claim *c;
    size_t n = 0, at = 0;
    int rc = 0;

    if (m->claims_cap < r->nfields) {
        c = realloc(m->claims, r->nfields * sizeof(*c));
        if (!c)
            return -ENOMEM;
        m->claims = c;
        m->claims_cap = r->nfields;
    }
    c = m->claims;
    for (size_t i = 0; i < r->nfields; i++) {
        PCRE2_SIZE s = ov[2 * r->fields[i].num],
                   e = ov[2 * r->fields[i].num + 1];
        size_t j = n++;

        if (s == PCRE2_UNSET || e <= s) {
            n--;
            continue;
        }
        /* Insertion by start: fields come in group order, mostly sorted. */
        for (; j > 0 && c[j - 1].s > s; j--)
            c[j] = c[j - 1];
        c[j] = (struct lsl_claim){(uint32_t)s, (uint32_t)e};
    }
    for (size_t i = 0; rc == 0 && i <= n; i++) {
        size_t s = i < n ? c[i].s : len;

        if (s > at)
            rc = plan_text_x(r, &m->plan, line, at, s - at, bs);
        if (i < n && c[i].e > at)
            at = c[i].e;
    }
    return rc;
}

static int plan_groups(const struct lsl_rule *r, struct lsl_matcher *m,
                       const char *line, size_t len, const PCRE2_SIZE *ov)
{
    struct lsl_plan *p = &m->plan;
    bool bs = memchr(line, '\\', len) != NULL;
    int rc;

    for (size_t i = 0; i < r->nfields; i++) {
        const struct rule_field *f = &r->fields[i];
        PCRE2_SIZE s = ov[2 * f->num], e = ov[2 * f->num + 1];

        /* Unset groups, and \K tricks that end before they start. */
        if (s == PCRE2_UNSET || e <= s)
            continue;
        rc = plan_group_x(r, f, m, line, s, e - s, bs);
        if (rc)
            return rc;
    }
    rc = r->format == RULE_FMT_NGINX ? plan_open(r, m, line, ov, bs)
                                     : plan_gaps(r, m, line, len, ov, bs);
    if (rc)
        return rc;
    plan_normalize(p);
    if (m->want_fields && (rc = plan_names(r, p, ov)) != 0)
        return rc;
    if (r->time_num && ov[2 * r->time_num] != PCRE2_UNSET &&
        ov[2 * r->time_num + 1] >= ov[2 * r->time_num]) {
        p->time.p = line + ov[2 * r->time_num];
        p->time.len = ov[2 * r->time_num + 1] - ov[2 * r->time_num];
    }
    return 0;
}

static int ensure_match_data(struct lsl_matcher *m, uint32_t pairs)
{
    pcre2_match_data *md;

    if (m->md && m->md_pairs >= pairs)
        return 0;
    md = pcre2_match_data_create(pairs, NULL);
    if (!md)
        return -ENOMEM;
    pcre2_match_data_free(m->md);
    m->md = md;
    m->md_pairs = pairs;
    return 0;
}

static bool is_limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_HEAPLIMIT;
}

static int regex_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                      const char *line, size_t len)
{
    struct lsl_plan *p = &m->plan;
    int rc = ensure_match_data(m, r->ngroups + 1);

    if (rc)
        return rc;
    pcre2_set_match_limit(m->mctx, r->match_limit);
    pcre2_set_depth_limit(m->mctx, r->depth_limit);
    rc = pcre2_match(r->code, (PCRE2_SPTR)line, len, 0, 0, m->md, m->mctx);
    if (rc > 0) {
        p->matched = true;
        return plan_groups(r, m, line, len, pcre2_get_ovector_pointer(m->md));
    }
    if (rc == PCRE2_ERROR_NOMEMORY)
        return -ENOMEM;
    p->limit_hit = is_limit_error(rc);
    return lsl_fallback_plan(r, m, line, len);
}

static int nginx_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                      const char *line, size_t len)
{
    struct lsl_plan *p = &m->plan;
    uint32_t pairs = r->ngroups + 1;

    if (m->ov_pairs < pairs) {
        PCRE2_SIZE *ov = realloc(m->ov, 2 * pairs * sizeof(*ov));

        if (!ov)
            return -ENOMEM;
        m->ov = ov;
        m->ov_pairs = pairs;
    }
    if (lsl_nfmt_match(r, line, len, m->ov, &p->limit_hit)) {
        p->matched = true;
        return plan_groups(r, m, line, len, m->ov);
    }
    return lsl_fallback_plan(r, m, line, len);
}

int lsl_rule_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                  const char *line, size_t len, const struct lsl_plan **plan)
{
    lsl_plan_reset(&m->plan);
    *plan = &m->plan;
    if (len > UINT32_MAX)
        return -EOVERFLOW;
    if (!line)
        line = "";
    if (!r)
        return lsl_scrub_text(&m->plan, line, 0, len);
    switch ((enum rule_format)r->format) {
    case RULE_FMT_JSON:
        return lsl_json_plan(r, m, line, len);
    case RULE_FMT_W3C:
        return lsl_w3c_plan(r, m, line, len);
    case RULE_FMT_NGINX:
        return nginx_plan(r, m, line, len);
    case RULE_FMT_TEXT:
        return lsl_text_plan(r, m, line, len);
    case RULE_FMT_REGEX:
        break;
    }
    return regex_plan(r, m, line, len);
}

int lsl_scrub_plan(struct lsl_matcher *m, const char *text, size_t len,
                   const struct lsl_plan **plan)
{
    return lsl_rule_plan(NULL, m, text, len, plan);
}
