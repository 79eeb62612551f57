/*
 * The fallback for lines a rule does not match (fallback.c): what the
 * rule knows still applies. Each case failed before it, when such a line
 * went to the scrubber alone and user names, listed parameter values and
 * path ids came out raw (issue 19: 670 of 10,000 lines of an Apache log).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"

#define T "[05/Mar/2024:10:20:30 +0900]"

/* Apache writes "-" for 0 bytes; nginx-combined does not match it. */
static void test_clf_dash_bytes(void **state)
{
    struct lsl_rule *r = load_shipped_rule("nginx-combined");

    check_plan(r, *state,
               "203.0.113.7 - alice " T " \"GET /a?uid=4242&token=SeCrEt99 "
               "HTTP/1.1\" 200 - \"https://ex.example/?sid=abc\" \"curl/8\"",
               false,
               "<ip|203.0.113.7> - <user|alice> " T " \"GET /a?uid=<user|4242>"
               "&token=<secret|SeCrEt99> HTTP/1.1\" 200 - "
               "\"https://ex.example/?sid=<secret|abc>\" \"curl/8\"");
    lsl_rule_free(r);
}

/* A field lost, a field added, an unbalanced quote: the cells still line
 * up with the template within the shift. */
static void test_clf_mutations(void **state)
{
    struct lsl_rule *r = load_shipped_rule("nginx-combined");

    check_plan(r, *state,
               "203.0.113.7 alice " T " \"GET /u/777/x HTTP/1.1\" 200 5 "
               "\"-\" \"curl/8\"",
               false,
               "<ip|203.0.113.7> <user|alice> " T
               " \"GET /u/<user|777>/x HTTP/1.1\" 200 5 \"-\" \"curl/8\"");
    check_plan(r, *state,
               "203.0.113.7 - alice " T " \"GET /?uid=9 HTTP/1.1\" 200 5 "
               "\"-\" \"curl/8\" extra",
               false,
               "<ip|203.0.113.7> - <user|alice> " T
               " \"GET /?uid=<user|9> HTTP/1.1\" 200 5 \"-\" \"curl/8\" extra");
    check_plan(r, *state,
               "203.0.113.7 - alice " T " \"GET /?uid=9 HTTP/1.1 200 5 "
               "\"-\" \"curl/8\"",
               false,
               "<ip|203.0.113.7> - <user|alice> " T
               " \"GET /?uid=<user|9> HTTP/1.1 200 5 \"-\" \"curl/8\"");
    /* nginx's \xHH read decoded, as in a matched line. */
    check_plan(r, *state,
               "203.0.113.7 - \\xE6\\xB8\\xA1 " T
               " \"GET /?m=bob\\xEF\\xBC\\xA0x.org HTTP/1.1 200 5 \"-\" "
               "\"c \\xEF\\xBC\\x91.2.3.4\"",
               false,
               "<ip|203.0.113.7> - <user/x|\\xE6\\xB8\\xA1> " T
               " \"GET /?m=<email/x|bob\\xEF\\xBC\\xA0x.org> HTTP/1.1 200 5 "
               "\"-\" \"c <ip/x|\\xEF\\xBC\\x91.2.3.4>\"");
    lsl_rule_free(r);
}

/* A regex rule has no template: a CLF-shaped line is read by position. */
static void test_regex_clf_shape(void **state)
{
    struct lsl_rule *r = parse_rule("name t\n"
                                    "pattern ^(?<a>\\S+) (?<u>\\S+) \\[x\\]$\n"
                                    "field a ip\nfield u user\n"
                                    "param token secret\n");

    check_plan(r, *state,
               "host1 bob carol " T " \"POST /p?token=zz9 HTTP/1.0\" "
               "\"Moz/5\"",
               false,
               "<ip|host1> <user|bob> <user|carol> " T " \"POST "
               "/p?token=<secret|zz9> HTTP/1.0\" \"Moz/5\"");
    /* Only before a CLF time: "4 peer [2001:db8::1]:443" is no CLF. */
    check_plan(r, *state, "4 peer [2001:db8::1]:443 end", false,
               "4 peer [<ip|2001:db8::1>]:443 end");
    /* No bracket or quote: not CLF-shaped, free text with the params. */
    check_plan(r, *state, "garbage from bob token=zz9", false,
               "garbage from bob token=<secret|zz9>");
    lsl_rule_free(r);
}

/* JSON lines that are not JSON objects: the rule's keys name values. */
static void test_json_keys(void **state)
{
    struct lsl_rule *r = load_shipped_rule("posting");

    check_plan(r, *state,
               "{\"event\":\"comment\",\"user_id\":5319990,\"user_name\":"
               "\"taro\",\"device_id\":\"d-77\",\"message\":\"hi\"",
               false,
               "{\"event\":\"comment\",\"user_id\":<user/q|5319990>,"
               "\"user_name\":\"<name|taro>\",\"device_id\":\"<id|d-77>\","
               "\"message\":\"hi\"");
    lsl_rule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clf_dash_bytes),
        cmocka_unit_test(test_clf_mutations),
        cmocka_unit_test(test_regex_clf_shape),
        cmocka_unit_test(test_json_keys),
    };

    return cmocka_run_group_tests(tests, matcher_setup, matcher_teardown);
}
