/* Test helpers: shipped rules, plans rendered as marked-up text (see
 * plan_render.h). */
#include "plan_render.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static size_t put(char *out, size_t cap, size_t n, const char *s, size_t len)
{
    assert_true(n + len < cap);
    memcpy(out + n, s, len);
    return n + len;
}

static const char *span_tag(const struct lsl_plan_span *s)
{
    if (s->action == LSL_ACT_DROP)
        return "drop";
    if (s->flags & LSL_SPAN_F_DASHED)
        return "ip-";
    return lsl_class_name((enum lsl_class)s->cls);
}

/* A span tokenized unescaped is tagged "CLASS/j" (LSL_SPAN_F_JSON) or
 * "CLASS/x" (LSL_SPAN_F_XESC), one whose token is written quoted "/q". */
static size_t put_tag(char *out, size_t cap, size_t n,
                      const struct lsl_plan_span *s)
{
    const char *tag = span_tag(s);

    n = put(out, cap, n, tag, strlen(tag));
    if (s->flags & LSL_SPAN_F_JSON)
        n = put(out, cap, n, "/j", 2);
    if (s->flags & LSL_SPAN_F_XESC)
        n = put(out, cap, n, "/x", 2);
    if (s->flags & LSL_SPAN_F_QUOTE)
        n = put(out, cap, n, "/q", 2);
    return n;
}

const char *plan_render(const char *line, size_t len, const struct lsl_plan *p,
                        char *out, size_t cap)
{
    size_t n = 0, at = 0;

    for (size_t i = 0; i < p->count; i++) {
        const struct lsl_plan_span *s = &p->spans[i];

        assert_true(s->off >= at);
        assert_true(s->len > 0);
        assert_true((size_t)s->off + s->len <= len);
        n = put(out, cap, n, line + at, s->off - at);
        n = put(out, cap, n, "<", 1);
        n = put_tag(out, cap, n, s);
        n = put(out, cap, n, "|", 1);
        n = put(out, cap, n, line + s->off, s->len);
        n = put(out, cap, n, ">", 1);
        at = s->off + s->len;
    }
    n = put(out, cap, n, line + at, len - at);
    out[n] = '\0';
    return out;
}

void check_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                const char *line, bool matched, const char *want)
{
    const struct lsl_plan *p = NULL;
    char out[4096];

    assert_int_equal(lsl_rule_plan(r, m, line, strlen(line), &p), 0);
    assert_non_null(p);
    plan_render(line, strlen(line), p, out, sizeof(out));
    if (strcmp(out, want) != 0)
        print_error("line: %s\nwant: %s\ngot:  %s\n", line, want, out);
    assert_string_equal(out, want);
    assert_int_equal(p->matched, matched);
}

struct lsl_rule *load_shipped_rule(const char *name)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;
    char path[512];

    assert_int_equal(lsl_rule_resolve(name, NULL, path, sizeof(path)), 0);
    if (lsl_rule_load(&r, path, &err))
        fail_msg("%s:%u: %s", err.path, err.line, err.msg);
    return r;
}

struct lsl_rule *parse_rule(const char *text)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    if (lsl_rule_parse(&r, text, strlen(text), "test", &err))
        print_error("%s:%u: %s\n", err.path, err.line, err.msg);
    assert_non_null(r);
    return r;
}

int matcher_setup(void **state)
{
    struct lsl_matcher *m = NULL;

    if (lsl_matcher_open(&m))
        return -1;
    *state = m;
    return 0;
}

int matcher_teardown(void **state)
{
    lsl_matcher_free(*state);
    return 0;
}
