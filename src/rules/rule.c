/*
 * Compiling a parsed rule: the PCRE2 pattern (8-bit, never UTF, so lines
 * with invalid UTF-8 or NUL bytes match byte by byte), JIT where the
 * platform has it, and the binding of field and time lines to capture
 * group numbers. A compiled rule is never modified again, which is what
 * lets threads share it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

static int by_group(const void *a, const void *b)
{
    const struct rule_field *x = a, *y = b;

    return (x->num > y->num) - (x->num < y->num);
}

static int bind_group(struct lsl_rule *r, const char *group, unsigned line,
                      const char *origin, struct lsl_rule_error *err,
                      uint32_t *num)
{
    int n = r->format == RULE_FMT_NGINX
                ? lsl_nfmt_group(r, group)
                : pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)group);

    if (n < 0 && r->format == RULE_FMT_NGINX) {
        lsl_rule_fail(err, origin, line, "the log_format has no $%s", group);
        return LSL_ERULE;
    }
    if (n == PCRE2_ERROR_NOUNIQUESUBSTRING) {
        lsl_rule_fail(err, origin, line,
                      "group '%s' is not unique in the pattern", group);
        return LSL_ERULE;
    }
    if (n < 0) {
        lsl_rule_fail(err, origin, line, "the pattern has no group named '%s'",
                      group);
        return LSL_ERULE;
    }
    *num = (uint32_t)n;
    return 0;
}

static int compile_pattern(struct lsl_rule *r, const char *origin,
                           struct lsl_rule_error *err)
{
    PCRE2_UCHAR msg[160];
    PCRE2_SIZE off;
    int code;

    r->code =
        pcre2_compile((PCRE2_SPTR)r->pattern, strlen(r->pattern),
                      PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &code, &off, NULL);
    if (!r->code) {
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            strcpy((char *)msg, "unknown error");
        lsl_rule_fail(err, origin, r->pattern_line,
                      "pattern error at offset %zu: %s", (size_t)off,
                      (const char *)msg);
        return LSL_ERULE;
    }
    /* Without JIT support pcre2_match() interprets the pattern, which is
     * slower but correct; a JIT failure is therefore not an error. */
    (void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
    if (pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &r->ngroups))
        return -EINVAL;
    return 0;
}

static const struct {
    const char *name;
    uint8_t type;
} canon_names[] = {
    {"time", LSL_FIELD_TIME},          {"client_ip", LSL_FIELD_STRING},
    {"client_port", LSL_FIELD_NUMBER}, {"user", LSL_FIELD_STRING},
    {"request", LSL_FIELD_STRING},     {"method", LSL_FIELD_STRING},
    {"path", LSL_FIELD_STRING},        {"query", LSL_FIELD_STRING},
    {"protocol", LSL_FIELD_STRING},    {"status", LSL_FIELD_NUMBER},
    {"bytes", LSL_FIELD_NUMBER},       {"referer", LSL_FIELD_STRING},
    {"user_agent", LSL_FIELD_STRING},  {"host", LSL_FIELD_STRING},
    {"request_id", LSL_FIELD_STRING},  {"forwarded_for", LSL_FIELD_STRING},
    {"server_ip", LSL_FIELD_STRING},   {"server_port", LSL_FIELD_NUMBER},
    {"uri", LSL_FIELD_STRING},
};

const char *lsl_canon_find(const char *name, size_t len, uint8_t *type)
{
    for (size_t i = 0; i < LSL_ARRAY_SIZE(canon_names); i++) {
        if (strlen(canon_names[i].name) == len &&
            memcmp(canon_names[i].name, name, len) == 0) {
            *type = canon_names[i].type;
            return canon_names[i].name;
        }
    }
    return NULL;
}

const struct rule_canon *lsl_rule_canon_of(const struct lsl_rule *r,
                                           const char *name, size_t len)
{
    for (size_t i = 0; i < r->ncanons; i++)
        if (strlen(r->canons[i].group) == len &&
            memcmp(r->canons[i].group, name, len) == 0)
            return &r->canons[i];
    return NULL;
}

uint8_t lsl_rule_type_of(const struct lsl_rule *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->ntypes; i++) {
        if (strlen(r->types[i].group) == len &&
            memcmp(r->types[i].group, name, len) == 0)
            return r->types[i].type;
    }
    return LSL_FIELD_STRING;
}

const struct rule_field *lsl_rule_field_find(const struct lsl_rule *r,
                                             const char *name, size_t len)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const char *g = r->fields[i].group;

        if (strncmp(g, name, len) == 0 && g[len] == '\0')
            return &r->fields[i];
    }
    return NULL;
}

/* The pattern's named groups in number order, typed for plan->fields. */
static int bind_names(struct lsl_rule *r)
{
    PCRE2_SPTR table;
    uint32_t count, size;

    if (pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &count) ||
        pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &size) ||
        pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table))
        return -EINVAL;
    if (count == 0)
        return 0;
    r->names = calloc(count, sizeof(*r->names));
    if (!r->names)
        return -ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * size;
        struct rule_name *n = &r->names[r->nnames++];

        n->num = (uint32_t)(e[0] << 8 | e[1]);
        n->name = (const char *)(e + 2);
    }
    /* The name table is sorted by name; fields come in group order. */
    for (size_t i = 1; i < r->nnames; i++) {
        struct rule_name t = r->names[i];
        size_t j = i;

        for (; j > 0 && r->names[j - 1].num > t.num; j--)
            r->names[j] = r->names[j - 1];
        r->names[j] = t;
    }
    return 0;
}

/* Field, type, port and time lines to group numbers. */
static int bind_all(struct lsl_rule *r, const char *origin,
                    struct lsl_rule_error *err)
{
    uint32_t unused;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < r->nfields; i++)
        rc = bind_group(r, r->fields[i].group, r->fields[i].line, origin, err,
                        &r->fields[i].num);
    if (rc)
        return rc;
    if (r->nfields > 1)
        qsort(r->fields, r->nfields, sizeof(*r->fields), by_group);
    for (size_t i = 0; rc == 0 && i < r->ntypes; i++)
        rc = bind_group(r, r->types[i].group, r->types[i].line, origin, err,
                        &unused);
    for (size_t i = 0; rc == 0 && i < r->ncanons; i++)
        rc = bind_group(r, r->canons[i].group, r->canons[i].line, origin, err,
                        &unused);
    if (rc == 0 && r->port_group)
        rc = bind_group(r, r->port_group, r->port_line, origin, err, &unused);
    if (rc == 0 && r->time_group)
        rc = bind_group(r, r->time_group, r->time_line, origin, err,
                        &r->time_num);
    return rc;
}

/* Type the named groups; in group order for plan->fields. */
static void type_names(struct lsl_rule *r)
{
    for (size_t i = 0; i < r->nnames; i++) {
        struct rule_name *n = &r->names[i];
        const struct rule_canon *c =
            lsl_rule_canon_of(r, n->name, strlen(n->name));

        n->type = n->num == r->time_num
                      ? LSL_FIELD_TIME
                      : lsl_rule_type_of(r, n->name, strlen(n->name));
        if (n->num == r->time_num) {
            n->canon = "time";
            n->canon_type = LSL_FIELD_TIME;
        } else if (c) {
            n->canon = c->name;
            n->canon_type = c->type;
        }
    }
}

/* A pattern's or a log_format's named groups: compile, bind, type. The
 * log_format names its groups as it compiles. */
static int compile_groups(struct lsl_rule *r, const char *origin,
                          struct lsl_rule_error *err)
{
    bool nginx = r->format == RULE_FMT_NGINX;
    int rc = nginx ? lsl_nfmt_compile(r, origin, err)
                   : compile_pattern(r, origin, err);

    if (rc == 0)
        rc = bind_all(r, origin, err);
    if (rc == 0 && !nginx)
        rc = bind_names(r);
    if (rc == 0 && nginx)
        rc = lsl_nfmt_bind_open(r);
    if (rc == 0 && !nginx && r->layout)
        rc = lsl_layout_compile(r, r->layout);
    if (rc == 0)
        type_names(r);
    return rc;
}

static unsigned param_bucket(const struct rule_param *p)
{
    return p->len < 63 ? (unsigned)p->len : 63;
}

static int by_bucket(const void *a, const void *b)
{
    const struct rule_param *x = a, *y = b;
    unsigned kx = x->kind * 64u + param_bucket(x);
    unsigned ky = y->kind * 64u + param_bucket(y);

    return (kx > ky) - (kx < ky);
}

const struct rule_param *lsl_rule_param_listed(const struct lsl_rule *r,
                                               uint8_t kind, const char *name,
                                               size_t len)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (r->params[i].kind == kind && r->params[i].len == len &&
            memcmp(r->params[i].name, name, len) == 0)
            return &r->params[i];
    return NULL;
}

int lsl_rule_param_add(struct lsl_rule *r, struct rule_param *p)
{
    struct rule_param *np = realloc(r->params, (r->nparams + 1) * sizeof(*np));

    if (!np) {
        free(p->name);
        return -ENOMEM;
    }
    r->params = np;
    r->params[r->nparams++] = *p;
    r->param_lens[p->kind] |= 1ULL << (p->len < 63 ? p->len : 63);
    return 0;
}

/*
 * A listed query name with '_' or '-' ("access_token") also stands for
 * its form without them ("accessToken", as JavaScript apps and Java
 * write names, and "access-token"): that form is added with the same
 * class unless a line lists it. lookup_name removes them the same way.
 */
static int add_unseparated(struct lsl_rule *r)
{
    size_t listed = r->nparams;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < listed; i++) {
        const struct rule_param *p = &r->params[i];
        struct rule_param a = {.cls = p->cls, .kind = p->kind};

        if (p->kind != PARAM_QUERY || !strpbrk(p->name, "_-"))
            continue;
        a.name = malloc(p->len + 1);
        if (!a.name)
            return -ENOMEM;
        for (size_t k = 0; k < p->len; k++)
            if (p->name[k] != '_' && p->name[k] != '-')
                a.name[a.len++] = p->name[k];
        a.name[a.len] = '\0';
        if (a.len == 0 || lsl_rule_param_listed(r, PARAM_QUERY, a.name, a.len))
            free(a.name);
        else
            rc = lsl_rule_param_add(r, &a);
    }
    return rc;
}

/* Sort the params into their (kind, length) buckets for find_param. */
static void index_params(struct lsl_rule *r)
{
    size_t i = 0;

    if (r->nparams > 1)
        qsort(r->params, r->nparams, sizeof(*r->params), by_bucket);
    for (unsigned k = 0; k < 2; k++) {
        for (unsigned b = 0; b < 64; b++) {
            r->param_at[k][b] = (uint16_t)i;
            while (i < r->nparams && r->params[i].kind == k &&
                   param_bucket(&r->params[i]) == b)
                i++;
        }
        r->param_at[k][64] = (uint16_t)i;
    }
}

int lsl_rule_compile(struct lsl_rule *r, const char *origin,
                     struct lsl_rule_error *err)
{
    int rc = add_unseparated(r);

    if (rc)
        return rc;
    if (r->nparams > UINT16_MAX) {
        lsl_rule_fail(err, origin, 0, "more than %u param and segment lines",
                      UINT16_MAX);
        return LSL_ERULE;
    }
    index_params(r);
    switch ((enum rule_format)r->format) {
    case RULE_FMT_REGEX:
    case RULE_FMT_NGINX:
        return compile_groups(r, origin, err);
    case RULE_FMT_JSON:
    case RULE_FMT_W3C:
    case RULE_FMT_TEXT:
        break;
    }
    /* JSON keys and W3C columns are looked up by name on each line. */
    return 0;
}

void lsl_rule_free(struct lsl_rule *r)
{
    if (!r)
        return;
    pcre2_code_free(r->code);
    lsl_nfmt_free(r);
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i].group);
    for (size_t i = 0; i < r->nparams; i++)
        free(r->params[i].name);
    for (size_t i = 0; i < r->ntypes; i++)
        free(r->types[i].group);
    for (size_t i = 0; i < r->ncanons; i++)
        free(r->canons[i].group);
    free(r->canons);
    for (size_t i = 0; i < r->nrequire; i++)
        free(r->require[i]);
    free(r->fields);
    free(r->params);
    free(r->types);
    free(r->names);
    free(r->port_group);
    free(r->name);
    free(r->pattern);
    free(r->log_format);
    free(r->trailing);
    free(r->layout);
    free(r->slots);
    free(r->time_group);
    free(r->time_fmt);
    free(r);
}

const char *lsl_rule_name(const struct lsl_rule *r)
{
    return r->name;
}

const char *lsl_rule_time_format(const struct lsl_rule *r)
{
    return r->time_fmt;
}

bool lsl_rule_is_header(const struct lsl_rule *r, const char *line, size_t len)
{
    return r && r->format == RULE_FMT_W3C && len >= 8 &&
           (memcmp(line, "#Fields:", 8) == 0 ||
            memcmp(line, "#fields\t", 8) == 0);
}
