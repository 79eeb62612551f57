/* The fallback scrubber: what it takes, what it leaves, and plan order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"

static void scrub(void **state, const char *line, const char *want)
{
    check_plan(NULL, *state, line, false, want);
}

static void test_ipv4_positions(void **state)
{
    scrub(state, "10.0.0.1 first", "<ip|10.0.0.1> first");
    scrub(state, "last 10.0.0.1", "last <ip|10.0.0.1>");
    scrub(state, "q \"192.168.1.20\" q", "q \"<ip|192.168.1.20>\" q");
    scrub(state, "GET http://198.51.100.7:8080/x?ip=203.0.113.1&a=1",
          "GET http://<ip|198.51.100.7>:8080/x?ip=<ip|203.0.113.1>&a=1");
    scrub(state, "from [192.0.2.1]:22, 0.0.0.0 and 255.255.255.255.",
          "from [<ip|192.0.2.1>]:22, <ip|0.0.0.0> and "
          "<ip|255.255.255.255>.");
    scrub(state, "10.0.0.1", "<ip|10.0.0.1>");
    scrub(state, "a@10.0.0.1", "a@<ip|10.0.0.1>");
}

static void test_ipv4_not_taken(void **state)
{
    /* Version strings, glued text, out-of-range octets. */
    scrub(state, "nginx/1.2.3.4.5 v1.2.3.4 1.2.3.4x 1.2.3.4.5.6",
          "nginx/1.2.3.4.5 v1.2.3.4 1.2.3.4x 1.2.3.4.5.6");
    scrub(state, "256.1.1.1 1.2.3.999 1.2.3 1.2.3.04567 12.34.56",
          "256.1.1.1 1.2.3.999 1.2.3 1.2.3.04567 12.34.56");
    scrub(state, "size 1024 took 0.123 s", "size 1024 took 0.123 s");
}

/* inet_aton's four-part spellings with a hex or octal part, anywhere. */
static void test_ipv4_aton(void **state)
{
    scrub(state, "h=0xC0.0xA8.0.1 and 0300.0250.0.1. 10.0x1.2.0377",
          "h=<ip|0xC0.0xA8.0.1> and <ip|0300.0250.0.1>. <ip|10.0x1.2.0377>");
    scrub(state,
          "0x1.0x2.0x3.0x4.0x5 x0xC0.0xA8.0.1 0xC0.0xA8.0.1x 1.2.3.0400 "
          "0xC0.0xA8.0x100.1 a.0x1.0x2.0x3.0x4 0x1.0x2.0x3 08.1.2.0x3",
          "0x1.0x2.0x3.0x4.0x5 x0xC0.0xA8.0.1 0xC0.0xA8.0.1x 1.2.3.0400 "
          "0xC0.0xA8.0x100.1 a.0x1.0x2.0x3.0x4 0x1.0x2.0x3 08.1.2.0x3");
}

/* Fullwidth forms: found as the ASCII they stand for, spans on the raw
 * bytes; Japanese text around them stays. */
static void test_wide(void **state)
{
    scrub(state,
          "\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab bob\xef\xbc\xa0"
          "example"
          "\xef\xbc\x8e"
          "com \xef\xbc\x91\xef\xbc\x99\xef\xbc\x92.168.0.7 "
          "\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82",
          "\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab <email|bob\xef\xbc\xa0"
          "example\xef\xbc\x8e"
          "com> <ip|\xef\xbc\x91\xef\xbc\x99\xef\xbc\x92"
          ".168.0.7> \xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82");
    scrub(state, "\xe3\x83\xa9\xe3\x83\xbc\xe3\x83\xa1\xe3\x83\xb3 1.2",
          "\xe3\x83\xa9\xe3\x83\xbc\xe3\x83\xa1\xe3\x83\xb3 1.2");
}

/* An address hidden from bots: the span covers the whole spelling, the
 * blanks inside it too; "(at)" that hides nothing stays. */
static void test_atdot(void **state)
{
    scrub(state, "mail bob (at) example [dot] com, or Bob{AT}x.org.",
          "mail <email|bob (at) example [dot] com>, or <email|Bob{AT}x.org>.");
    scrub(state, "at /u/bob(at)example.com/x?m=bob%28at%29example.com",
          "at /u/<email|bob(at)example.com>/x?m=<email|bob%28at%29example."
          "com>");
    /* As Japanese posts write it: a star, or the word for '@'. A star
     * that hides no address stays. */
    scrub(state,
          "mail bob\xe2\x98\x85"
          "example.com, taro \xe2\x98\x86 x.jp, "
          "hana\xe3\x82\xa2\xe3\x83\x83\xe3\x83\x88\xe3\x83\x9e\xe3\x83"
          "\xbc\xe3\x82\xaf"
          "x.org \xe2\x98\x85\xe3\x81\x99\xe3\x81\x94\xe2"
          "\x98\x85",
          "mail <email|bob\xe2\x98\x85"
          "example.com>, <email|taro \xe2\x98\x86 "
          "x.jp>, <email|hana\xe3\x82\xa2\xe3\x83\x83\xe3\x83\x88\xe3\x83\x9e"
          "\xe3\x83\xbc\xe3\x82\xaf"
          "x.org> \xe2\x98\x85\xe3\x81\x99\xe3\x81"
          "\x94\xe2\x98\x85");
    /* URL userinfo before the form: the blank stays out of its span. */
    scrub(state, "see http://bob (at) example.com/x",
          "see http://<user|bob> (at) example.com/x");
    scrub(state, "meet me (at) home (dot) 5 [at] Mozilla/5.0 (X11; Linux)",
          "meet me (at) home (dot) 5 [at] Mozilla/5.0 (X11; Linux)");
}

static void test_ipv6(void **state)
{
    scrub(state, "c=2001:0db8:0000:0000:0000:ff00:0042:8329 x",
          "c=<ip|2001:0db8:0000:0000:0000:ff00:0042:8329> x");
    scrub(state, "c=2001:db8::ff00:42:8329, ::1 and FE80::1:ABCD",
          "c=<ip|2001:db8::ff00:42:8329>, <ip|::1> and <ip|FE80::1:ABCD>");
    scrub(state, "link fe80::1%eth0 up", "link <ip|fe80::1%eth0> up");
    scrub(state, "GET http://[2001:db8::7]:8443/a [::1]",
          "GET http://[<ip|2001:db8::7>]:8443/a [<ip|::1>]");
    scrub(state, "mapped ::ffff:192.0.2.128 end",
          "mapped <ip|::ffff:192.0.2.128> end");
    scrub(state, "peer 2001:db8::1.", "peer <ip|2001:db8::1>.");
}

static void test_ipv6_not_taken(void **state)
{
    scrub(state, "at 12:30:45 and 12:30:45.123 on 2024-03-05T10:20:30Z",
          "at 12:30:45 and 12:30:45.123 on 2024-03-05T10:20:30Z");
    scrub(state, "a :: b ::: c", "a :: b ::: c");
    /* A MAC address is a device id (not IPv6); seven pairs are neither. */
    scrub(state, "mac 00:1a:2b:3c:4d:5e eth 0a:1b:2c:3d:4e:5f:60",
          "mac <id|00:1a:2b:3c:4d:5e> eth 0a:1b:2c:3d:4e:5f:60");
    scrub(state, "std::vector a:b", "std::vector a:b");
}

static void test_email(void **state)
{
    scrub(state, "to <John.Doe+tag@Example.co.uk>, from a_b@x.io.",
          "to <<email|John.Doe+tag@Example.co.uk>>, from "
          "<email|a_b@x.io>.");
    scrub(state, "/reset?email=bob@example.org&x=1",
          "/reset?email=<email|bob@example.org>&x=1");
    scrub(state, "not@mail host@localhost x@1.2.3.4",
          "not@mail host@localhost x@<ip|1.2.3.4>");
    /* An IDN domain as it reads; Japanese text after an address is no
     * part of it; "@" for "at a place" with no domain stays. */
    scrub(state,
          "mail bob@\xe4\xbe\x8b\xe3\x81\x88.jp, "
          "bob@example.com\xe3\x81\xbe\xe3\x81\xa7 "
          "\xe3\x83\xa9\xe3\x82\xa4\xe3\x83\x96@\xe6\xb8\x8b\xe8\xb0\xb7",
          "mail <email|bob@\xe4\xbe\x8b\xe3\x81\x88.jp>, "
          "<email|bob@example.com>\xe3\x81\xbe\xe3\x81\xa7 "
          "\xe3\x83\xa9\xe3\x82\xa4\xe3\x83\x96@\xe6\xb8\x8b\xe8\xb0\xb7");
}

static void test_uuid(void **state)
{
    scrub(state, "dev=3F2504E0-4F89-11D3-9A0C-0305E82C3301 ok",
          "dev=<id|3F2504E0-4F89-11D3-9A0C-0305E82C3301> ok");
    scrub(state, "/v/123e4567-e89b-12d3-a456-426614174000/seg.ts",
          "/v/<id|123e4567-e89b-12d3-a456-426614174000>/seg.ts");
    /* Glued or malformed: not a UUID. */
    scrub(state,
          "x123e4567-e89b-12d3-a456-426614174000 "
          "123e4567-e89b-12d3-a456-42661417400",
          "x123e4567-e89b-12d3-a456-426614174000 "
          "123e4567-e89b-12d3-a456-42661417400");
}

static void test_dashed(void **state)
{
    scrub(state, "ec2-54-12-34-56.compute-1.amazonaws.com",
          "ec2-<ip-|54-12-34-56>.compute-1.amazonaws.com");
    scrub(state, "rdns host-1-2-3-4.example.net p1-2-3-4.foo",
          "rdns host-<ip-|1-2-3-4>.example.net p<ip-|1-2-3-4>.foo");
    scrub(state, "ip-10-0-1-23.ec2.internal",
          "ip-<ip-|10-0-1-23>.ec2.internal");
    /* Dates, five numbers, no host name after. */
    scrub(state, "backup-2024-01-02-03.tar 1-2-3-4-5.foo 1-2-3-4 x",
          "backup-2024-01-02-03.tar 1-2-3-4-5.foo 1-2-3-4 x");
}

static void test_order_and_mix(void **state)
{
    const char *line = "a 10.0.0.1 u@ex.com 2001:db8::2 "
                       "3f2504e0-4f89-11d3-9a0c-0305e82c3301 "
                       "h-192-0-2-9.net.example 1.2.3.4";
    const struct lsl_plan *p = NULL;

    scrub(state, line,
          "a <ip|10.0.0.1> <email|u@ex.com> <ip|2001:db8::2> "
          "<id|3f2504e0-4f89-11d3-9a0c-0305e82c3301> "
          "h-<ip-|192-0-2-9>.net.example <ip|1.2.3.4>");
    assert_int_equal(lsl_scrub_plan(*state, line, strlen(line), &p), 0);
    assert_int_equal(p->count, 6);
    assert_false(p->matched);
    assert_false(p->limit_hit);
    assert_null(p->time.p);
    assert_int_equal(p->spans[0].off, 2);
    assert_int_equal(p->spans[0].len, 8);
    assert_int_equal(p->spans[0].action, LSL_ACT_TOKEN);
    assert_int_equal(p->spans[0].flags, 0);
    assert_int_equal(p->spans[4].flags, LSL_SPAN_F_DASHED);
}

static void test_binary_and_empty(void **state)
{
    static const char line[] = "\xff\xfe\0 10.1.1.1\0\x80::1 \xc3";
    const struct lsl_plan *p = NULL;

    assert_int_equal(lsl_scrub_plan(*state, line, sizeof(line) - 1, &p), 0);
    assert_int_equal(p->count, 2);
    assert_int_equal(p->spans[0].off, 4);
    assert_int_equal(p->spans[0].len, 8);
    assert_int_equal(p->spans[1].off, 14);
    assert_int_equal(p->spans[1].len, 3);
    assert_int_equal(lsl_scrub_plan(*state, "", 0, &p), 0);
    assert_int_equal(p->count, 0);
    assert_int_equal(lsl_scrub_plan(*state, NULL, 0, &p), 0);
    assert_int_equal(p->count, 0);
}

static void test_many_spans(void **state)
{
    char line[8192];
    const struct lsl_plan *p = NULL;
    size_t n = 0;

    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "10.0.%d.%d ",
                              i / 256, i % 256);
    assert_int_equal(lsl_scrub_plan(*state, line, n, &p), 0);
    assert_int_equal(p->count, 500);
    for (size_t i = 1; i < p->count; i++)
        assert_true(p->spans[i].off >=
                    p->spans[i - 1].off + p->spans[i - 1].len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_positions),
        cmocka_unit_test(test_ipv4_not_taken),
        cmocka_unit_test(test_ipv4_aton),
        cmocka_unit_test(test_wide),
        cmocka_unit_test(test_atdot),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ipv6_not_taken),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_dashed),
        cmocka_unit_test(test_order_and_mix),
        cmocka_unit_test(test_binary_and_empty),
        cmocka_unit_test(test_many_spans),
    };

    return cmocka_run_group_tests(tests, matcher_setup, matcher_teardown);
}
