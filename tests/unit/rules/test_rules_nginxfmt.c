/* `format nginx` rules: the log_format template, its errors, the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"

#define TIME "[05/Mar/2024:10:20:30 +0900]"

static struct lsl_rule *parse(const char *text)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    if (lsl_rule_parse(&r, text, strlen(text), "t.rules", &err)) {
        print_error("t.rules:%u: %s\n", err.line, err.msg);
        return NULL;
    }
    return r;
}

static void fails(const char *text, unsigned line, const char *what)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    assert_int_equal(lsl_rule_parse(&r, text, strlen(text), "t.rules", &err),
                     LSL_ERULE);
    assert_null(r);
    if (err.line != line || !strstr(err.msg, what))
        print_error("line %u msg '%s'\n", err.line, err.msg);
    assert_int_equal(err.line, line);
    assert_non_null(strstr(err.msg, what));
}

static void test_errors(void **state)
{
    (void)state;
    fails("name t\nformat nginx\nlog_format $a$b\nfield a ip\n", 3,
          "$b follows another variable");
    fails("name t\nformat nginx\nlog_format no variables here\n", 3,
          "has no $variable");
    fails("name t\nformat nginx\nlog_format $a $a\n", 3, "$a appears twice");
    fails("name t\nformat nginx\nlog_format $a $b\nfield c ip\n", 4,
          "the log_format has no $c");
    fails("name t\nformat nginx\nfield a ip\n", 0, "missing 'log_format'");
    fails("name t\npattern (?<a>x)\nlog_format $a\n", 3,
          "a regex rule takes no log_format");
    fails("name t\nformat nginx\nlog_format $a\npattern (?<a>x)\n", 4,
          "a nginx rule takes no pattern");
    fails("name t\nformat nginx\nlog_format '$a \"$b\"\n", 3, "unclosed quote");
    fails("name t\nformat nginx\nlog_format '$a' x\n", 3, "text after");
    fails("name t\nformat nginx\nlog_format $a\nkey a ip\n", 4,
          "takes 'field' lines, not 'key'");
    fails("name t\nformat nginx\nlog_format $a\nlog_format $b\n", 4,
          "given twice");
    fails("name t\npattern (?<a>x)\ntrailing rest\n", 3,
          "a regex rule takes no 'trailing' line");
    fails("name t\nformat nginx\nlog_format $a x\ntrailing a\n", 3,
          "$a appears twice");
    fails("name t\nformat nginx\nlog_format $a\ntrailing\n", 4,
          "expected: trailing NAME");
}

/* Quoted strings over several lines, ${var}, a '$' that names nothing. */
static void test_template_syntax(void **state)
{
    struct lsl_rule *r = parse("name t\n"
                               "format nginx\n"
                               "log_format '${remote_addr}: $$ '\n"
                               "    \"[$time_local] \" '\\'$u\\''   ;\n"
                               "time time_local %d/%b/%Y:%H:%M:%S %z\n"
                               "field remote_addr ip\n"
                               "field u user\n");
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_non_null(r);
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m, "192.0.2.1: $$ " TIME " 'bob'", true,
               "<ip|192.0.2.1>: $$ " TIME " '<user|bob>'");
    /* Unmatched, but 'bob' still sits in the $u cell (fallback.c). */
    check_plan(r, m, "192.0.2.1: $ " TIME " 'bob'", false,
               "<ip|192.0.2.1>: $ " TIME " '<user|bob>'");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static const char disclosure[] =
    "name t\n"
    "format nginx\n"
    "log_format $remote_addr - $remote_user [$time_local] \"$request\" "
    "$status $body_bytes_sent \"$http_user_agent\" $remote_port "
    "$server_addr:$server_port $msec\n"
    "time msec %s\n"
    "field remote_addr ip\n"
    "field remote_user user\n"
    "field request query\n"
    "field http_user_agent scrub\n"
    "field server_addr keep\n"
    "type status number\n";

/* A hostile user name, a server address with colons, the shapes. */
static void test_walk(void **state)
{
    struct lsl_rule *r = parse(disclosure);
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_non_null(r);
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m,
               "203.0.113.7 - a [b] [c " TIME " \"GET / HTTP/1.1\" 200 5 "
               "\"ua\" 51234 2001:db8::10:443 1709601630.123",
               true,
               "<ip|203.0.113.7> - <user|a [b] [c> " TIME
               " \"GET / HTTP/1.1\" 200 5 \"ua\" 51234 2001:db8::10:443 "
               "1709601630.123");
    /* A raw quote inside a quoted value: not this format, all scrubbed. */
    check_plan(r, m,
               "203.0.113.7 - - " TIME " \"GET / HTTP/1.1\" 200 5 "
               "\"u\"a\" 51234 192.0.2.1:443 1709601630.123",
               false,
               "<ip|203.0.113.7> - - " TIME " \"GET / HTTP/1.1\" 200 5 "
               "\"u\"a\" 51234 <ip|192.0.2.1>:443 1709601630.123");
    /* Shapes: a status of four digits, a time one second short. */
    check_plan(r, m,
               "192.0.2.9 - - " TIME " \"GET / HTTP/1.1\" 2000 5 \"ua\" "
               "1 192.0.2.1:443 1.5",
               false,
               "<ip|192.0.2.9> - - " TIME " \"GET / HTTP/1.1\" 2000 5 "
               "\"ua\" 1 <ip|192.0.2.1>:443 1.5");
    check_plan(r, m,
               "192.0.2.9 - - [05/Mar/2024:10:20:3 +0900] \"GET / HTTP/1.1\" "
               "200 5 \"ua\" 1 192.0.2.1:443 1.5",
               false,
               "<ip|192.0.2.9> - - [05/Mar/2024:10:20:3 +0900] \"GET / "
               "HTTP/1.1\" 200 5 \"ua\" 1 <ip|192.0.2.1>:443 1.5");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

/* `trailing NAME`: a blank and any text after the format is one group. */
static void test_trailing(void **state)
{
    struct lsl_rule *r = parse("name t\nformat nginx\n"
                               "log_format $remote_addr \"$u\"\n"
                               "trailing extra\nfield remote_addr ip\n"
                               "field extra scrub\n");
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_non_null(r);
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m, "192.0.2.1 \"x\"", true, "<ip|192.0.2.1> \"x\"");
    check_plan(r, m, "192.0.2.1 \"x\" ", true, "<ip|192.0.2.1> \"x\" ");
    check_plan(r, m, "192.0.2.1 \"x\" via 198.51.100.7 ok", true,
               "<ip|192.0.2.1> \"x\" via <ip|198.51.100.7> ok");
    /* No blank before the rest: not this format. */
    check_plan(r, m, "192.0.2.1 \"x\"y", false, "<ip|192.0.2.1> \"x\"y");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

/* Fields for JSON lines: every variable, typed; the time from $msec. */
static void test_fields(void **state)
{
    static const char line[] = "192.0.2.9 - - " TIME " \"GET / HTTP/1.1\" "
                               "200 5 \"ua\" 1 192.0.2.1:443 1709601630.5";
    struct lsl_rule *r = parse(disclosure);
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p = NULL;

    (void)state;
    assert_non_null(r);
    assert_int_equal(lsl_matcher_open(&m), 0);
    lsl_matcher_want_fields(m, true);
    assert_int_equal(lsl_rule_plan(r, m, line, sizeof(line) - 1, &p), 0);
    assert_true(p->matched);
    assert_int_equal(p->nfields, 11);
    assert_string_equal(p->fields[0].name, "remote_addr");
    assert_string_equal(p->fields[4].name, "status");
    assert_int_equal(p->fields[4].type, LSL_FIELD_NUMBER);
    assert_memory_equal(line + p->fields[4].off, "200", 3);
    assert_string_equal(p->fields[10].name, "msec");
    assert_int_equal(p->fields[10].type, LSL_FIELD_TIME);
    assert_int_equal(p->time.len, 12);
    assert_memory_equal(p->time.p, "1709601630.5", 12);
    assert_int_equal(lsl_rule_disclosure_gaps(r, NULL, 0), 0);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

/* A line built to make the lazy walk try every blank gives up within
 * the budget: the line is scrubbed and the limit reported. */
static void test_budget(void **state)
{
    struct lsl_rule *r =
        parse("name t\nformat nginx\nlog_format $a [$time_local] $b\n");
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p = NULL;
    char line[4096];

    (void)state;
    assert_non_null(r);
    assert_int_equal(lsl_matcher_open(&m), 0);
    memset(line, ' ', sizeof(line));
    memcpy(line + sizeof(line) - 4, "[x]", 3);
    assert_int_equal(lsl_rule_plan(r, m, line, sizeof(line), &p), 0);
    assert_false(p->matched);
    assert_true(p->limit_hit);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors), cmocka_unit_test(test_template_syntax),
        cmocka_unit_test(test_walk),   cmocka_unit_test(test_trailing),
        cmocka_unit_test(test_fields), cmocka_unit_test(test_budget),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
