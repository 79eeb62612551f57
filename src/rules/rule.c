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
#include "rules_int.h"

static int by_group(const void *a, const void *b)
{
    const struct rule_field *x = a, *y = b;

    return (x->num > y->num) - (x->num < y->num);
}

static int bind_group(struct lsl_rule *r, const char *group, unsigned line,
                      const char *origin, struct lsl_rule_error *err,
                      uint32_t *num)
{
    int n = pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)group);

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

int lsl_rule_compile(struct lsl_rule *r, const char *origin,
                     struct lsl_rule_error *err)
{
    int rc = compile_pattern(r, origin, err);

    if (rc)
        return rc;
    for (size_t i = 0; i < r->nfields; i++) {
        rc = bind_group(r, r->fields[i].group, r->fields[i].line, origin, err,
                        &r->fields[i].num);
        if (rc)
            return rc;
    }
    if (r->nfields > 1)
        qsort(r->fields, r->nfields, sizeof(*r->fields), by_group);
    if (r->time_group)
        rc = bind_group(r, r->time_group, r->time_line, origin, err,
                        &r->time_num);
    return rc;
}

void lsl_rule_free(struct lsl_rule *r)
{
    if (!r)
        return;
    pcre2_code_free(r->code);
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i].group);
    for (size_t i = 0; i < r->nparams; i++)
        free(r->params[i].name);
    free(r->fields);
    free(r->params);
    free(r->name);
    free(r->pattern);
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
