/*
 * Internal to src/rules: the compiled rule, the matcher and the plan
 * builders shared by the matcher, the query action and the scrubber.
 */
#ifndef LSL_RULES_INT_H
#define LSL_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "logseal/rules.h"

#define LSL_RULE_MATCH_LIMIT 100000u
#define LSL_RULE_DEPTH_LIMIT 10000u

/* What a field line asks for one named group. */
enum rule_action {
    RULE_ACT_IP = 0,
    RULE_ACT_IPLIST,
    RULE_ACT_TOKEN, /* whole group as `cls` */
    RULE_ACT_QUERY,
    RULE_ACT_SCRUB,
    RULE_ACT_KEEP,
    RULE_ACT_DROP,
};

struct rule_field {
    char *group;
    uint32_t num;   /* capture group number, set when compiled */
    uint8_t action; /* enum rule_action */
    uint8_t cls;    /* enum lsl_class */
    unsigned line;  /* where it was declared, for errors */
};

/* `param NAME CLASS` (query string) or `segment NAME CLASS` (the path
 * segment after a segment NAME, as the 123 of /u/123/profile). */
enum rule_param_kind { PARAM_QUERY = 0, PARAM_SEGMENT };

struct rule_param {
    char *name; /* lower case */
    size_t len;
    uint8_t cls;
    uint8_t kind; /* enum rule_param_kind */
};

struct lsl_rule {
    char *name;
    char *pattern;
    unsigned pattern_line;
    char *time_group;
    char *time_fmt;
    unsigned time_line;
    uint32_t time_num; /* 0: no time field */
    uint32_t match_limit;
    uint32_t depth_limit;
    struct rule_field *fields; /* sorted by group number once compiled */
    size_t nfields;
    struct rule_param *params;
    size_t nparams;
    pcre2_code *code;
    uint32_t ngroups; /* capture groups, not counting group 0 */
};

struct lsl_matcher {
    pcre2_match_data *md;
    uint32_t md_pairs;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    struct lsl_plan plan;
};

/* Fill *err (may be NULL) with origin, line and a formatted message. */
void lsl_rule_fail(struct lsl_rule_error *err, const char *origin,
                   unsigned line, const char *fmt, ...) LSL_PRINTF(4, 5);

/*
 * Compile r->pattern and bind fields and the time group to group numbers.
 * LSL_ERULE (with *err filled) or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_rule_compile(struct lsl_rule *r, const char *origin,
                                    struct lsl_rule_error *err);

/* Append a span; offsets are line-relative. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_plan_push(struct lsl_plan *p, size_t off, size_t len,
                                 uint8_t action, uint8_t cls, uint8_t flags);

/*
 * Scrub line[off..off+len) into p, treating both ends as boundaries.
 * Spans are appended in order. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub_range(struct lsl_plan *p, const char *line,
                                   size_t off, size_t len);

/*
 * The query action on line[off..off+len): values of the rule's listed
 * parameters become spans, everything else is scrubbed. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                                  const char *line, size_t off, size_t len);

/* True if fmt[0..len) uses only the directives lsl_time_parse knows. */
bool lsl_time_format_ok(const char *fmt, size_t len);

#endif
