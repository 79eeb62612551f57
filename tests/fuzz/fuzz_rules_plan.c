/*
 * Fuzz target: rule planning. Byte 0 picks the planner: one of the
 * shipped rules (fz_rule_names: regex, JSON and W3C rules), the scrubber
 * through lsl_rule_plan with no rule, lsl_scrub_plan, or (from 10 on) one
 * of the rules for other servers' logs (fz_real_rule_names, each with the
 * fallback for the lines it does not match); its bit 7 asks
 * for named fields. The rest is split into lines at '\n' and planned in
 * order with one matcher, so W3C "#Fields:" headers in the input take
 * effect for the lines after them. Every plan must satisfy the plan
 * invariants (fz_check_plan), every field must lie inside its line, and
 * a matched time field must parse or be refused cleanly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODES (FZ_NRULES + 2 + FZ_NREAL)

/* fz_rule_names, then fz_real_rule_names. */
static struct lsl_rule *rules[FZ_NRULES + FZ_NREAL];
static struct lsl_matcher *m;

static void init(void)
{
    for (int i = 0; i < FZ_NRULES; i++)
        rules[i] = fz_rule(fz_rule_names[i]);
    for (int i = 0; i < FZ_NREAL; i++)
        rules[FZ_NRULES + i] = fz_rule(fz_real_rule_names[i]);
    FZ_CHECK(lsl_matcher_open(&m) == 0);
}

static void check_fields(const struct lsl_plan *p, size_t len)
{
    for (size_t i = 0; i < p->nfields; i++) {
        FZ_CHECK(p->fields[i].name != NULL);
        FZ_CHECK((uint64_t)p->fields[i].off + p->fields[i].len <= len);
    }
}

static void plan_line(unsigned mode, const char *line, size_t len)
{
    const struct lsl_rule *r = mode < FZ_NRULES        ? rules[mode]
                               : mode >= FZ_NRULES + 2 ? rules[mode - 2]
                                                       : NULL;
    const struct lsl_plan *p = NULL;
    int64_t t;
    int rc;

    if (mode == FZ_NRULES + 1)
        rc = lsl_scrub_plan(m, line, len, &p);
    else
        rc = lsl_rule_plan(r, m, line, len, &p);
    FZ_CHECK(rc == 0 || rc == -ENOMEM);
    if (rc)
        return;
    /* A line a rule does not match is read by its fallback, which may
     * tokenize a cell by its position (a host name where the address
     * was, a user slot): only the scrubber's own spans have its shapes. */
    fz_check_plan(p, line, len, !r);
    if (p->matched)
        check_fields(p, len);
    if (r && p->matched && p->time.p && lsl_rule_time_format(r)) {
        rc =
            lsl_time_parse(lsl_rule_time_format(r), p->time.p, p->time.len, &t);
        FZ_CHECK(rc == 0 || rc == -EINVAL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p, *end;
    unsigned mode;

    if (!m)
        init();
    if (size < 1)
        return 0;
    mode = (data[0] & 0x7f) % MODES;
    lsl_matcher_want_fields(m, data[0] & 0x80);
    FZ_CHECK(lsl_matcher_set_header(m, NULL, 0) == 0);
    p = (const char *)data + 1;
    end = (const char *)data + size;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;

        plan_line(mode, p, (size_t)(e - p));
        p = e + 1;
    }
    return 0;
}
