/*
 * The scrub memo against the planners it remembers: plans through
 * lsl_scrub_memo_run equal lsl_scrub's (no rule) or lsl_text_range's (a
 * rule's pairs), span for span, on texts that repeat (hits), texts seen
 * once (misses that replace slots), every scrub mode (a user agent's
 * "Chrome/119.0.0.0" is a version in one mode and an address in another),
 * texts around the memo's length limits, at varying offsets in the line
 * and after spans already planned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../testrng.h"
#include "plan_render.h"
#include "src/rules/rules_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned next(unsigned n)
{
    return testrng_below(&rng, n);
}

static const char *const words[] = {
    "Mozilla/5.0",
    "(Linux;",
    "Android",
    "Chrome/119.0.0.0",
    "10.1.2.3",
    "2001:db8::7",
    "bo@example.org",
    "+81 90 1234 5678",
    "device",
    "id=",
    "550e8400-e29b-41d4-a716-446655440000",
    "GET",
    "/live/ch1/",
    "seg_1444.ts",
    "HTTP/1.1",
    "a%40b.example",
    "00:1a:2b:3c:4d:5e",
    "x",
    "Safari/537.36",
    "token",
    "deviceid=9774d56d682e549c",
    "uid=4821937",
    "rv:109.0",
};

/* A text of about `want` bytes of words and digits. */
static size_t make_text(char *buf, size_t cap, size_t want)
{
    size_t len = 0;

    while (len < want) {
        const char *w = words[next(sizeof(words) / sizeof(words[0]))];
        int n = snprintf(buf + len, cap - len, "%s%s", len ? " " : "", w);

        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
        if (next(4) == 0 && len + 12 < cap)
            len += (size_t)snprintf(buf + len, cap - len, "/%u", next(100000));
    }
    return len;
}

static void same_plans(const struct lsl_plan *a, const struct lsl_plan *b,
                       unsigned t)
{
    if (a->count != b->count)
        fail_msg("case %u: %zu spans through the memo, %zu scrubbed", t,
                 a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const struct lsl_plan_span *x = &a->spans[i], *y = &b->spans[i];

        if (x->off != y->off || x->len != y->len || x->action != y->action ||
            x->cls != y->cls || x->flags != y->flags)
            fail_msg("case %u, span %zu: [%u,+%u) %u/%u/%u, scrubbed "
                     "[%u,+%u) %u/%u/%u",
                     t, i, x->off, x->len, x->action, x->cls, x->flags, y->off,
                     y->len, y->action, y->cls, y->flags);
    }
}

static void memo_equals_scrub(void **state)
{
    static const unsigned modes[] = {0, LSL_SCRUB_PHONES, LSL_SCRUB_AGENT,
                                     LSL_SCRUB_DECODED,
                                     LSL_SCRUB_AGENT | LSL_SCRUB_DECODED};
    static char pool[400][320];
    static size_t pool_len[400];
    struct lsl_scrub_memo *memo = NULL;
    struct lsl_rule *rule = load_shipped_rule("nginx-combined");
    struct lsl_plan a = {0}, b = {0};
    char line[1024];
    unsigned hits_possible = 0;

    (void)state;
    assert_int_equal(lsl_scrub_memo_open(&memo), 0);
    for (size_t i = 0; i < 400; i++)
        pool_len[i] = make_text(pool[i], sizeof(pool[i]), 8 + next(300));
    for (unsigned t = 0; t < 40000; t++) {
        size_t pre = next(40), len, off;
        unsigned mode = modes[next(5)];
        const struct lsl_rule *r = mode & LSL_SCRUB_AGENT ? rule : NULL;
        char text[320];

        if (next(10) < 7) {
            size_t k = next(400);

            len = pool_len[k];
            memcpy(text, pool[k], len);
            hits_possible++;
        } else {
            len = make_text(text, sizeof(text), 4 + next(300));
        }
        memset(line, '.', pre);
        memcpy(line + pre, text, len);
        off = pre;
        lsl_plan_reset(&a);
        lsl_plan_reset(&b);
        /* sometimes a span planned before the text, as a rule leaves it */
        if (pre >= 2 && next(2)) {
            assert_int_equal(
                lsl_plan_push(&a, 0, 1, LSL_ACT_TOKEN, LSL_CLASS_ID, 0), 0);
            assert_int_equal(
                lsl_plan_push(&b, 0, 1, LSL_ACT_TOKEN, LSL_CLASS_ID, 0), 0);
        }
        assert_int_equal(lsl_scrub_memo_run(memo, r, &a, line, off, len, mode),
                         0);
        assert_int_equal(r ? lsl_text_range(r, &b, line, off, len, mode)
                           : lsl_scrub(&b, line, off, len, mode),
                         0);
        same_plans(&a, &b, t);
    }
    assert_true(hits_possible > 20000);
    lsl_scrub_memo_free(memo);
    lsl_rule_free(rule);
    free(a.spans);
    free(b.spans);
    free(a.fields);
    free(b.fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memo_equals_scrub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
