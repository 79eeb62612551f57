/* Field actions, overlapping groups, match limits and matcher reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"

static void test_actions(void **state)
{
    struct lsl_rule *r = parse_rule(
        "name t\n"
        "pattern ^(?<i>\\S*) (?<d>\\S*) (?<k>\\S*) (?<n>\\S*) (?<s>.*)$\n"
        "field i id\nfield d drop\nfield k keep\nfield n phone name\n"
        "field s scrub\n");

    check_plan(r, *state, "dev7 pw 10.0.0.1 +4912345 at 10.0.0.2", true,
               "<id|dev7> <drop|pw> 10.0.0.1 <name|+4912345> at "
               "<ip|10.0.0.2>");
    /* "-" and empty values are not tokenized; an empty drop is nothing. */
    check_plan(r, *state, "-  x - 1.2.3.4", true, "-  x - <ip|1.2.3.4>");
    lsl_rule_free(r);
}

static void test_ip_and_iplist(void **state)
{
    struct lsl_rule *r = parse_rule("name t\n"
                                    "pattern ^(?<a>\\S+) \\[(?<l>[^\\]]*)\\]\n"
                                    "field a ip\nfield l iplist\n");

    check_plan(r, *state, "10.0.0.1 [1.2.3.4,5.6.7.8  ::1]", true,
               "<ip|10.0.0.1> [<ip|1.2.3.4>,<ip|5.6.7.8>  <ip|::1>]");
    /* Not an address: an identifier all the same ("-" is no value). */
    check_plan(r, *state, "host:10.0.0.1 [-, unknown,, fe80::1%en0]", true,
               "<ip|host:10.0.0.1> [-, <ip|unknown>,, <ip|fe80::1%en0>]");
    check_plan(r, *state, "[::1]:80 [10.0.0.1:8080, x:1, [x:1]", true,
               "[<ip|::1>]:80 [<ip|10.0.0.1>:8080, <ip|x:1>, <ip|[x:1>]");
    check_plan(r, *state, "nohost []", true, "<ip|nohost> []");
    lsl_rule_free(r);
}

static void test_unset_groups(void **state)
{
    struct lsl_rule *r = parse_rule("name t\n"
                                    "pattern ^(?:u=(?<u>\\w+)|e=(?<e>\\S+))\n"
                                    "field u user\nfield e email\n");

    /* What the match leaves (here the rest of the line) is free text. */
    check_plan(r, *state, "e=a@b.cd 10.0.0.1", true,
               "e=<email|a@b.cd> <ip|10.0.0.1>");
    check_plan(r, *state, "u=bob", true, "u=<user|bob>");
    lsl_rule_free(r);
}

/*
 * Fail closed (issue 20): what no field claims is free text. Unnamed
 * groups, named groups without a field line, `\S+` between groups and
 * the bytes after the match all used to be copied raw, addresses and
 * e-mails included; only `keep` passes bytes as they are.
 */
static void test_unclaimed_fail_closed(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\n"
                   "pattern ^(?<c>\\S+) (\\S+) \\S+ (?<u>\\S+) "
                   "(?<k>\\S+) (?<n>\\S+)\n"
                   "field c ip\nfield k keep\nparam uid user\n");

    check_plan(
        r, *state,
        "10.0.0.1 a@b.cd 10.0.0.2 mia@x.org 10.0.0.3 uid=42 tail "
        "10.0.0.4 token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        true,
        "<ip|10.0.0.1> <email|a@b.cd> <ip|10.0.0.2> <email|mia@x.org> "
        "10.0.0.3 uid=<user|42> tail <ip|10.0.0.4> "
        "token=<secret|eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0."
        "c2lnbmF0dXJl>");
    lsl_rule_free(r);

    /* format nginx: a variable of any text without a field line is free
     * text; fixed shapes ($status) and literals are left; keep keeps. */
    r = parse_rule("name t\nformat nginx\n"
                   "log_format $remote_addr $host $status \"$x\" $y\n"
                   "field remote_addr ip\nfield y keep\n");
    check_plan(r, *state, "10.0.0.1 h.example 200 \"to a@b.cd\" 10.0.0.9", true,
               "<ip|10.0.0.1> h.example 200 \"to <email|a@b.cd>\" 10.0.0.9");
    lsl_rule_free(r);
}

static void test_nested_groups_merge(void **state)
{
    struct lsl_rule *r = parse_rule("name t\n"
                                    "pattern ^(?<all>k=(?<v>\\S+)) (?<x>\\S+)\n"
                                    "field v ip\nfield all secret\n"
                                    "field x drop\n");
    const struct lsl_plan *p = NULL;
    const char *line = "k=10.1.1.1 zz";

    check_plan(r, *state, line, true, "<secret|k=10.1.1.1> <drop|zz>");
    assert_int_equal(lsl_rule_plan(r, *state, line, strlen(line), &p), 0);
    assert_int_equal(p->count, 2);
    assert_int_equal(p->spans[1].action, LSL_ACT_DROP);
    lsl_rule_free(r);

    /* A drop nested in a token field wins the merged span. */
    r = parse_rule("name t\npattern ^(?<o>a(?<d>b+)c)\n"
                   "field o id\nfield d drop\n");
    check_plan(r, *state, "abbbc", true, "<drop|abbbc>");
    lsl_rule_free(r);
}

static void test_query_edges(void **state)
{
    struct lsl_rule *r = parse_rule("name t\npattern ^(?<q>.*)$\n"
                                    "field q query\nparam key secret\n");

    /* A fragment is read like a query (OAuth puts tokens there). */
    check_plan(r, *state, "/a?key=1#key=2 key=3", true,
               "/a?key=<secret|1>#key=<secret|2> key=3");
    check_plan(r, *state, "/a?x&key&=5&key=z&&KEY=y;key", true,
               "/a?x&key&=5&key=<secret|z>&&KEY=<secret|y>;key");
    check_plan(r, *state, "/10.0.0.1?key=k?ip=10.0.0.2", true,
               "/<ip|10.0.0.1>?key=<secret|k?ip=10.0.0.2>");
    check_plan(r, *state, "no query 10.0.0.3", true, "no query <ip|10.0.0.3>");
    lsl_rule_free(r);

    /* Without param lines the whole group is scrubbed. */
    r = parse_rule("name t\npattern ^(?<q>.*)$\nfield q query\n");
    check_plan(r, *state, "/a?key=1&ip=10.0.0.4", true,
               "/a?key=1&ip=<ip|10.0.0.4>");
    lsl_rule_free(r);
}

static void test_match_limit(void **state)
{
    struct lsl_rule *r = parse_rule("name evil\npattern ^(?<a>a+)+$\n"
                                    "field a drop\n");
    char line[96];
    const struct lsl_plan *p = NULL;

    memset(line, 'a', sizeof(line));
    memcpy(line + sizeof(line) - 12, " 10.9.9.9 b", 11);
    assert_int_equal(lsl_rule_plan(r, *state, line, sizeof(line) - 1, &p), 0);
    assert_true(p->limit_hit);
    assert_false(p->matched);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->spans[0].off, sizeof(line) - 11);
    assert_int_equal(p->spans[0].len, 8);
    /* The next line starts afresh. */
    assert_int_equal(lsl_rule_plan(r, *state, "aaa", 3, &p), 0);
    assert_true(p->matched);
    assert_false(p->limit_hit);
    assert_int_equal(p->count, 1);
    lsl_rule_free(r);
}

static void test_matcher_grows(void **state)
{
    struct lsl_rule *small = parse_rule("name s\npattern ^(?<a>\\S+)\n"
                                        "field a id\n");
    struct lsl_rule *big = parse_rule(
        "name b\npattern ^(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)"
        "(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S)(\\S) (?<z>\\S+)\n"
        "field z user\n");

    check_plan(small, *state, "x1 y", true, "<id|x1> y");
    check_plan(big, *state, "abcdefghijklmnopqrst uu", true,
               "abcdefghijklmnopqrst <user|uu>");
    check_plan(small, *state, "x2 y", true, "<id|x2> y");
    lsl_rule_free(small);
    lsl_rule_free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_ip_and_iplist),
        cmocka_unit_test(test_unset_groups),
        cmocka_unit_test(test_unclaimed_fail_closed),
        cmocka_unit_test(test_nested_groups_merge),
        cmocka_unit_test(test_query_edges),
        cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_matcher_grows),
    };

    return cmocka_run_group_tests(tests, matcher_setup, matcher_teardown);
}
