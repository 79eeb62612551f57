/* Test helpers: shipped rules, and a plan drawn over its line, so
 * expectations read as text. */
#ifndef LSL_TEST_PLAN_RENDER_H
#define LSL_TEST_PLAN_RENDER_H

#include "logseal/rules.h"

/*
 * Writes line[0..len) into out with each span shown as <class|text>,
 * <drop|text> for DROP and <ip-|text> for a dashed address ("/j" or "/x"
 * after the tag: a span tokenized JSON-unescaped or "\xHH"-decoded).
 * Fails the
 * running test if the spans are unsorted, overlap or leave the line.
 */
const char *plan_render(const char *line, size_t len, const struct lsl_plan *p,
                        char *out, size_t cap);

/* Load a shipped rule (rules/NAME.rules); fails the running test if it
 * cannot. */
struct lsl_rule *load_shipped_rule(const char *name);

/* Parse rule text; fails the running test (naming the error) if it
 * does not parse. */
struct lsl_rule *parse_rule(const char *text);

/* cmocka group setup/teardown: *state is a fresh matcher. */
int matcher_setup(void **state);
int matcher_teardown(void **state);

/* Plan `line` with `r` (NULL: scrubber) and compare its rendering. */
void check_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                const char *line, bool matched, const char *want);

#endif
