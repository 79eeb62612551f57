/*
 * Fuzz target: rule planning. The first input byte picks the planner
 * (nginx-combined, nginx-main, scrubber through lsl_rule_plan with no
 * rule, lsl_scrub_plan), the rest is the line. Every plan must satisfy
 * the plan invariants (fz_check_plan); for a rule that matched, its time
 * field must parse or be refused cleanly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsl_rule *rules[2];
static struct lsl_matcher *m;

static void init(void)
{
    rules[0] = fz_rule("nginx-combined");
    rules[1] = fz_rule("nginx-main");
    FZ_CHECK(lsl_matcher_open(&m) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct lsl_plan *p = NULL;
    const char *line;
    unsigned mode;
    size_t len;
    int rc;

    if (!m)
        init();
    if (size < 1)
        return 0;
    mode = data[0] % 4;
    line = (const char *)data + 1;
    len = size - 1;
    if (mode == 3)
        rc = lsl_scrub_plan(m, line, len, &p);
    else
        rc = lsl_rule_plan(mode < 2 ? rules[mode] : NULL, m, line, len, &p);
    FZ_CHECK(rc == 0 || rc == -ENOMEM);
    if (rc)
        return 0;
    fz_check_plan(p, line, len, mode >= 2 || !p->matched);
    if (p->matched && p->time.p) {
        int64_t t;
        const char *fmt = lsl_rule_time_format(rules[mode]);

        rc = lsl_time_parse(fmt, p->time.p, p->time.len, &t);
        FZ_CHECK(rc == 0 || rc == -EINVAL);
    }
    return 0;
}
