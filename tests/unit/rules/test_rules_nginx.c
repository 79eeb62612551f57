/* The shipped nginx rule files on realistic lines: exact plans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"

#define UUID "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
#define TIME "[05/Mar/2024:10:20:30 +0900]"

struct fixture {
    struct lsl_rule *combined;
    struct lsl_rule *main;
    struct lsl_matcher *m;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    *state = f;
    f->combined = load_shipped_rule("nginx-combined");
    f->main = load_shipped_rule("nginx-main");
    if (!f->combined || !f->main || lsl_matcher_open(&f->m))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    lsl_rule_free(f->combined);
    lsl_rule_free(f->main);
    lsl_matcher_free(f->m);
    free(f);
    return 0;
}

static void test_loaded(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(lsl_rule_name(f->combined), "nginx-combined");
    assert_string_equal(lsl_rule_name(f->main), "nginx-main");
    assert_string_equal(lsl_rule_time_format(f->combined),
                        "%d/%b/%Y:%H:%M:%S %z");
}

static void test_combined_stream(void **state)
{
    struct fixture *f = *state;
    const char *line =
        "203.0.113.7 - - " TIME " \"GET /live/ch1/index.m3u8?device_id=" UUID
        "&token=9f86d081884c7d659a2feaa0c55ad015 HTTP/1.1\" 200 512 \"-\" "
        "\"AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS "
        "X)\"";
    const struct lsl_plan *p = NULL;
    int64_t t = 0;

    check_plan(f->combined, f->m, line, true,
               "<ip|203.0.113.7> - - " TIME
               " \"GET /live/ch1/index.m3u8?device_id=<id|" UUID
               ">&token=<secret|9f86d081884c7d659a2feaa0c55ad015> "
               "HTTP/1.1\" 200 512 \"-\" \"AppleCoreMedia/1.0.0.21A329 "
               "(iPhone; U; CPU OS 17_0 like Mac OS X)\"");
    assert_int_equal(lsl_rule_plan(f->combined, f->m, line, strlen(line), &p),
                     0);
    assert_false(p->limit_hit);
    assert_int_equal(p->count, 3);
    assert_int_equal(p->spans[0].off, 0);
    assert_int_equal(p->spans[0].len, 11);
    assert_int_equal(p->spans[0].cls, LSL_CLASS_IP);
    assert_int_equal(p->spans[1].cls, LSL_CLASS_ID);
    assert_int_equal(p->spans[2].cls, LSL_CLASS_SECRET);
    assert_int_equal(p->spans[2].action, LSL_ACT_TOKEN);
    assert_int_equal(p->time.len, 26);
    assert_memory_equal(p->time.p, "05/Mar/2024:10:20:30 +0900", 26);
    assert_int_equal(lsl_time_parse(lsl_rule_time_format(f->combined),
                                    p->time.p, p->time.len, &t),
                     0);
    assert_int_equal(t, 1709601630);
}

static void test_combined_ipv6_user_params(void **state)
{
    struct fixture *f = *state;

    check_plan(f->combined, f->m,
               "2001:db8::1 - alice " TIME
               " \"GET /u/123/profile?ref=share&uid=123 HTTP/2.0\" 200 9 "
               "\"https://example.com/p?Email=bob@example.org&x=1\" "
               "\"curl/8.0\"",
               true,
               "<ip|2001:db8::1> - <user|alice> " TIME
               " \"GET /u/<user|123>/profile?ref=share&uid=<user|123> "
               "HTTP/2.0\" "
               "200 9 \"https://example.com/p?Email=<email|bob@example.org>"
               "&x=1\" \"curl/8.0\"");
    /* IPv4-mapped client; unlisted parameters are scrubbed, listed ones
     * match without regard to case; empty values are skipped. */
    check_plan(f->combined, f->m,
               "::ffff:198.51.100.4 - - " TIME
               " \"POST /api?from=10.1.2.3&UserID=42&TOKEN=&sid=s1;"
               "pass=p%20w HTTP/1.1\" 204 0 \"-\" \"Dalvik/2.1.0\"",
               true,
               "<ip|::ffff:198.51.100.4> - - " TIME
               " \"POST /api?from=<ip|10.1.2.3>&UserID=<user|42>&TOKEN=&"
               "sid=<secret|s1>;pass=<secret|p%20w> HTTP/1.1\" 204 0 \"-\" "
               "\"Dalvik/2.1.0\"");
}

static void test_combined_odd_lines(void **state)
{
    struct fixture *f = *state;

    /* Junk connection: empty request; user name with a blank; an address
     * and an e-mail in the user agent; a path holding an address. */
    check_plan(f->combined, f->m,
               "192.0.2.44 - - " TIME " \"\" 400 0 \"-\" \"-\"", true,
               "<ip|192.0.2.44> - - " TIME " \"\" 400 0 \"-\" \"-\"");
    check_plan(f->combined, f->m,
               "192.0.2.44 - John Smith " TIME
               " \"GET /f/10.9.8.7/x HTTP/1.0\" 404 1 \"-\" "
               "\"bot (+ops@crawler.example; 198.18.0.1)\"",
               true,
               "<ip|192.0.2.44> - <user|John Smith> " TIME
               " \"GET /f/<ip|10.9.8.7>/x HTTP/1.0\" 404 1 \"-\" "
               "\"bot (+<email|ops@crawler.example>; <ip|198.18.0.1>)\"");
    /* An app's User-Agent that carries ids as pairs: read as free text
     * is, listed names and opaque values; versions and Firefox's "rv:"
     * stay. */
    check_plan(
        f->combined, f->m,
        "192.0.2.44 - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" "
        "\"ExampleLive/5.12.0 (Android 14; deviceid=9774d56d682e549c; "
        "uid=4821937; rv:109.0) Chrome/120.0.0.0\"",
        true,
        "<ip|192.0.2.44> - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" "
        "\"ExampleLive/5.12.0 (Android 14; deviceid=<id|9774d56d682e549c>; "
        "uid=<user|4821937>; rv:109.0) Chrome/120.0.0.0\"");
    /* A remote_addr that is not an address is an identifier all the
     * same: tokenized, never copied. */
    check_plan(f->combined, f->m,
               "unix: - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"", true,
               "<ip|unix:> - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"");
    check_plan(
        f->combined, f->m,
        "localhost - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"", true,
        "<ip|localhost> - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"");
    check_plan(
        f->combined, f->m,
        "0xC0A80001 - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"", true,
        "<ip|0xC0A80001> - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"");
}

static void test_combined_binary(void **state)
{
    struct fixture *f = *state;
    static const char line[] =
        "10.0.0.9 - - " TIME " \"GET /\xff\0 HTTP/1.1\" 200 1 \"-\" \"\xc3\"";
    const struct lsl_plan *p = NULL;

    assert_int_equal(
        lsl_rule_plan(f->combined, f->m, line, sizeof(line) - 1, &p), 0);
    assert_true(p->matched);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->spans[0].len, 8);
}

/* nginx writes bytes beyond ASCII and '"' as \xHH: a value holding them
 * is read decoded, its spans cover whole escapes. */
static void test_combined_xesc(void **state)
{
    struct fixture *f = *state;

    check_plan(
        f->combined, f->m,
        "10.0.0.9 - \\xE6\\xB8\\xA1 " TIME
        " \"GET /s?mail=bob\\xEF\\xBC\\xA0example.com&x=\\x22 "
        "HTTP/1.1\" 200 1 \"-\" \"App/1 \\x22\\xEF\\xBC\\x91\\xEF\\xBC"
        "\\x99\\xEF\\xBC\\x92.168.0.7\\x22 \\xEF\\xBC\\x90\\xEF\\xBC\\x99"
        "\\xEF\\xBC\\x90-1234-5678\"",
        true,
        "<ip|10.0.0.9> - <user/x|\\xE6\\xB8\\xA1> " TIME
        " \"GET /s?mail=<email/x|bob\\xEF\\xBC\\xA0example.com>&x=\\x22 "
        "HTTP/1.1\" 200 1 \"-\" \"App/1 \\x22<ip/x|\\xEF\\xBC\\x91"
        "\\xEF\\xBC\\x99\\xEF\\xBC\\x92.168.0.7>\\x22 <phone/x|\\xEF\\xBC"
        "\\x90\\xEF\\xBC\\x99\\xEF\\xBC\\x90-1234-5678>\"");
}

static void test_main_xff(void **state)
{
    struct fixture *f = *state;
    const char *pre =
        "198.51.100.2 - - " TIME " \"GET /a HTTP/1.1\" 200 5 \"-\" \"ua\" ";
    const char *want = "<ip|198.51.100.2> - - " TIME
                       " \"GET /a HTTP/1.1\" 200 5 \"-\" \"ua\" ";
    static const char *const cases[][2] = {
        {"\"-\"", "\"-\""},
        {"\"203.0.113.9\"", "\"<ip|203.0.113.9>\""},
        {"\"203.0.113.9, 10.0.0.1\"", "\"<ip|203.0.113.9>, <ip|10.0.0.1>\""},
        /* Every element is an address, whatever it holds. */
        {"\"unknown, 198.51.100.20,2001:db8::5\"",
         "\"<ip|unknown>, <ip|198.51.100.20>,<ip|2001:db8::5>\""},
        {"\"10.0.0.1:3128, unknown\"", "\"<ip|10.0.0.1>:3128, <ip|unknown>\""},
        {"\"[2001:db8::1]:443, proxy.example\"",
         "\"[<ip|2001:db8::1>]:443, <ip|proxy.example>\""},
    };
    char line[512], exp[512];

    for (size_t i = 0; i < LSL_ARRAY_SIZE(cases); i++) {
        snprintf(line, sizeof(line), "%s%s", pre, cases[i][0]);
        snprintf(exp, sizeof(exp), "%s%s", want, cases[i][1]);
        check_plan(f->main, f->m, line, true, exp);
    }
}

static void test_main_extra(void **state)
{
    struct fixture *f = *state;

    check_plan(f->main, f->m,
               "[2001:db8::9] - - " TIME
               " \"GET /seg.ts?did=abc HTTP/1.1\" 206 100 \"-\" \"ua\" \"-\" "
               "rid=5e0f6a rt=0.123 dev=" UUID " up=203.0.113.3",
               true,
               "[<ip|2001:db8::9>] - - " TIME
               " \"GET /seg.ts?did=<id|abc> HTTP/1.1\" 206 100 \"-\" \"ua\" "
               "\"-\" rid=5e0f6a rt=0.123 dev=<id|" UUID
               "> up=<ip|203.0.113.3>");
}

static void test_fallback(void **state)
{
    struct fixture *f = *state;
    const char *main_line =
        "10.0.0.1 - - " TIME " \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" \"-\"";
    const struct lsl_plan *p = NULL;

    check_plan(f->combined, f->m, "garbage from 192.0.2.1 by u@example.com",
               false, "garbage from <ip|192.0.2.1> by <email|u@example.com>");
    /* A main line is not a combined line: fully scrubbed instead. */
    check_plan(f->combined, f->m, main_line, false,
               "<ip|10.0.0.1> - - " TIME
               " \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" \"-\"");
    assert_int_equal(
        lsl_rule_plan(f->combined, f->m, main_line, strlen(main_line), &p), 0);
    assert_false(p->limit_hit);
    assert_null(p->time.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loaded),
        cmocka_unit_test(test_combined_stream),
        cmocka_unit_test(test_combined_ipv6_user_params),
        cmocka_unit_test(test_combined_odd_lines),
        cmocka_unit_test(test_combined_binary),
        cmocka_unit_test(test_combined_xesc),
        cmocka_unit_test(test_main_xff),
        cmocka_unit_test(test_main_extra),
        cmocka_unit_test(test_fallback),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
