/*
 * Fuzz target: rule files. The input up to the first "\n%%\n" is a rule
 * file; every line after it is planned with the rule when it parses. The
 * parser must refuse bad text with LSL_ERULE (or -ENOMEM) and a message
 * naming a line of the file; a rule it accepts must keep the plan
 * invariants on any line, whatever its pattern or nginx log_format (this
 * is where odd templates, quoted strings and the lazy walk get exercised).
 */
#include <errno.h>
#include <string.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsl_matcher *m;

static const char *find_sep(const char *s, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(s + i, "\n%%\n", 4) == 0)
            return s + i;
    return NULL;
}

static unsigned count_lines(const char *s, size_t len)
{
    unsigned n = 1;

    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

static void plan_lines(const struct lsl_rule *r, const char *s, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(s, '\n', len);
        size_t n = nl ? (size_t)(nl - s) : len;
        const struct lsl_plan *p = NULL;
        int rc = lsl_rule_plan(r, m, s, n, &p);

        FZ_CHECK(rc == 0 || rc == -ENOMEM);
        /* An unmatched line goes to the rule's fallback, which may
         * tokenize cells by position: no scrubber shapes to check. */
        if (rc == 0)
            fz_check_plan(p, s, n, false);
        if (!nl)
            break;
        len -= n + 1;
        s = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = find_sep(text, size);
    size_t tlen = sep ? (size_t)(sep - text) : size;
    struct lsl_rule_error err;
    struct lsl_rule *r = NULL;
    int rc;

    if (!m) {
        FZ_CHECK(lsl_matcher_open(&m) == 0);
        lsl_matcher_want_fields(m, true);
    }
    memset(&err, 0, sizeof(err));
    rc = lsl_rule_parse(&r, text, tlen, "fuzz.rules", &err);
    if (rc) {
        FZ_CHECK(rc == LSL_ERULE || rc == -ENOMEM);
        FZ_CHECK(r == NULL);
        FZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        FZ_CHECK(err.line <= count_lines(text, tlen));
        return 0;
    }
    if (sep)
        plan_lines(r, sep + 4, size - tlen - 4);
    lsl_rule_free(r);
    return 0;
}
