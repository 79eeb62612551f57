/*
 * JSON rules (strict scanner, quoted numbers, key paths, arrays, escapes),
 * plan fields for structured output, ip modes, the new directives' errors
 * and disclosure gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"
#include "src/rules/rules_internal.h"

static struct lsl_rule *parse(const char *text)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    if (lsl_rule_parse(&r, text, strlen(text), "test", &err))
        fail_msg("%u: %s", err.line, err.msg);
    return r;
}

static void parse_fails(const char *text, unsigned line, const char *what)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    assert_int_equal(lsl_rule_parse(&r, text, strlen(text), "t", &err),
                     LSL_ERULE);
    assert_null(r);
    if (!strstr(err.msg, what) || err.line != line)
        fail_msg("%s: got line %u '%s', want %u '%s'", text, err.line, err.msg,
                 line, what);
}

static const struct lsl_plan *plan(const struct lsl_rule *r,
                                   struct lsl_matcher *m, const char *line)
{
    const struct lsl_plan *p = NULL;

    assert_int_equal(lsl_rule_plan(r, m, line, strlen(line), &p), 0);
    return p;
}

static void test_strict(void **state)
{
    static const char *const bad[] = {
        "[1]",
        "{\"a\":1,}",
        "{\"a\":01}",
        "{\"a\":\"x\\q\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":1} x",
        "{\"a\":tru}",
        "{'a':1}",
        "{\"a\":\"open",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\" 1}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":1e}",
        "",
        "{",
        "{\"a\":[1,]}",
        "{\"a\":1}}",
        "{\"ip\":\"1.2.3.4\"",
    };
    struct lsl_rule *r = parse("name t\nformat json\nkey ip ip\n");
    struct lsl_matcher *m = NULL;
    char deep[200] = "{\"a\":";

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (plan(r, m, bad[i])->matched)
            fail_msg("accepted: %s", bad[i]);
    }
    /* Not JSON: the scrubber still takes the address. */
    check_plan(r, m, "{\"ip\":\"1.2.3.4\"", false, "{\"ip\":\"<ip|1.2.3.4>\"");
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    assert_false(plan(r, m, deep)->matched);
    check_plan(r, m, " { } ", true, " { } ");
    check_plan(r, m,
               " { \"a\" : [ 1 , 2e5 , -0.5E-3 , true , false , null ] ,"
               "\"ip\" : \"::1\" }\t",
               true,
               " { \"a\" : [ 1 , 2e5 , -0.5E-3 , true , false , null ] ,"
               "\"ip\" : \"<ip|::1>\" }\t");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_numbers_quoted(void **state)
{
    struct lsl_rule *r = parse("name t\nformat json\nkey uid user\n"
                               "key gone drop\nkey n keep\nkey ip ip\n");
    struct lsl_matcher *m = NULL;
    const char *line = "{\"uid\":5319990,\"gone\":-1.5e3,\"n\":7,\"ip\":12,"
                       "\"s\":\"x\"}";
    const struct lsl_plan *p;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m, line, true,
               "{\"uid\":<user/q|5319990>,\"gone\":<drop/q|-1.5e3>,\"n\":7,"
               "\"ip\":<ip/q|12>,\"s\":\"x\"}");
    p = plan(r, m, line);
    /* An ip key takes whatever it holds, a number too (quoted). */
    assert_int_equal(p->count, 3);
    assert_int_equal(p->spans[0].flags, LSL_SPAN_F_QUOTE);
    assert_int_equal(p->spans[1].flags, LSL_SPAN_F_QUOTE);
    assert_int_equal(p->spans[1].action, LSL_ACT_DROP);
    assert_int_equal(p->spans[2].flags, LSL_SPAN_F_QUOTE);
    assert_int_equal(p->spans[2].cls, LSL_CLASS_IP);
    /* An IMEI as the number of a key the rule does not name. */
    check_plan(r, m, "{\"n\":1,\"x\":352099001761481,\"y\":352099001761482}",
               true,
               "{\"n\":1,\"x\":<id/q|352099001761481>,\"y\":352099001761482}");
    /* A string value is never quoted again. */
    p = plan(r, m, "{\"uid\":\"u-1\"}");
    assert_int_equal(p->count, 1);
    assert_int_equal(p->spans[0].flags, 0);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_paths_arrays_escapes(void **state)
{
    struct lsl_rule *r = parse("name t\nformat json\nkey a.b.c id\n"
                               "key ips ip\nkey uid user\nkey msg scrub\n"
                               "require a.b.c\n");
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"dev1\"},\"c\":\"dev2\"},"
               "\"c\":\"dev3\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|dev1>\"},\"c\":\"dev2\"},"
               "\"c\":\"dev3\"}");
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":7}},\"ips\":[\"1.2.3.4\","
               "\"2001:db8::1\",\"junk 10.0.0.1\",3]}",
               true,
               "{\"a\":{\"b\":{\"c\":<id/q|7>}},\"ips\":[\"<ip|1.2.3.4>\","
               "\"<ip|2001:db8::1>\",\"<ip|junk 10.0.0.1>\",<ip/q|3>]}");
    /* Escaped values: tokenized unescaped ("/j"); text read unescaped,
     * spans cover whole escapes, controls separate words. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"uid\":\"a\\\"b\","
               "\"msg\":\"\\ubeef@example.com\\n1.2.3.4\\t090-1234-"
               "5678\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"uid\":\"<user/j|a\\\"b>\","
               "\"msg\":\"\\ubeef@example.com\\n<ip|1.2.3.4>\\t<phone|090-"
               "1234-5678>\"}");
    /* What Python's json.dumps and PHP's json_encode write by default: a
     * fullwidth phone number and e-mail address, a user name. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"uid\":\"\\u6e21\\u8fba\","
               "\"msg\":\"\\u96fb\\u8a71"
               "\\uff10\\uff19\\uff10\\u30fc1234\\u30fc\\uff15678 "
               "bob\\uff20example.com\\u3067\\u3059 \\ud83d\\ude001.2.3.4\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"uid\":\"<user/"
               "j|\\u6e21\\u8fba>\",\"msg\":\"\\u96fb\\u8a71"
               "<phone/j|\\uff10\\uff19\\uff10\\u30fc1234\\u30fc\\uff15678> "
               "<email/j|bob\\uff20example.com>\\u3067\\u3059 \\ud83d\\ude00"
               "<ip|1.2.3.4>\"}");
    /* Go escapes '&' in a URL: the pairs split where the URL does. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"msg\":\"http:\\/\\/x\\/"
               "?a=1\\u0026token=s3cr3t\\u0026"
               "b=2\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"msg\":\"http:\\/\\/x\\/"
               "?a=1\\u0026token=<secret|s3cr3t>"
               "\\u0026b=2\"}");
    /* A key the rule does not name: escaped text is free text too, its
     * pairs and phone numbers read. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"note\":\"\\u96fb\\u8a71 "
               "090-1234-5678 password=s3cr3t\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"note\":\"\\u96fb\\u8a71 "
               "<phone|090-1234-5678> password=<secret|s3cr3t>\"}");
    /* A credential after a pair's name is the scrubber's: the value
     * that ends at the blank is its scheme. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"note\":\"Authorization: "
               "Bearer GG5ckq1V15hIYMX8\",\"msg\":\"\\\"authorization\\\":"
               "\\\"Basic dXNlcjpwYXNz\\\"\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"note\":\"Authorization: "
               "Bearer <secret|GG5ckq1V15hIYMX8>\",\"msg\":\"\\\"authorization"
               "\\\":\\\"Basic <secret|dXNlcjpwYXNz>\\\"\"}");
    /* The required key is missing: unparsed, read as free text where the
     * rule's keys still name their values ("uid" used to stay raw). */
    check_plan(r, m, "{\"uid\":\"bob\",\"x\":\"1.2.3.4\"}", false,
               "{\"uid\":\"<user|bob>\",\"x\":\"<ip|1.2.3.4>\"}");
    /* There a number's token is quoted, so the line stays JSON ... */
    check_plan(r, m, "{\"uid\":42, \"n\": 7}", false,
               "{\"uid\":<user/q|42>, \"n\": 7}");
    /* ... but never inside a string, where the quote would end it. */
    check_plan(r, m,
               "{\"a\":{\"b\":{\"c\":\"x\"}},\"msg\":\"{\\\"uid\\\":42}\"}",
               true,
               "{\"a\":{\"b\":{\"c\":\"<id|x>\"}},\"msg\":\"{\\\"uid\\\":"
               "<user|42>}\"}");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_json_fields_time(void **state)
{
    struct lsl_rule *r = parse("name t\nformat json\ntime t %s\n"
                               "key uid user\ntype n number\n");
    struct lsl_matcher *m = NULL;
    const char *line = "{\"t\":1709601630.5,\"uid\":\"u1\",\"s\":\"x\","
                       "\"n\":\"3\"}";
    const struct lsl_plan *p;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    p = plan(r, m, line);
    assert_int_equal(p->nfields, 0);
    assert_int_equal(p->time.len, 12);
    assert_memory_equal(p->time.p, "1709601630.5", 12);
    lsl_matcher_want_fields(m, true);
    p = plan(r, m, line);
    assert_int_equal(p->nfields, 3);
    assert_string_equal(p->fields[0].name, "t");
    assert_int_equal(p->fields[0].type, LSL_FIELD_TIME);
    assert_string_equal(p->fields[1].name, "uid");
    assert_int_equal(p->fields[1].type, LSL_FIELD_STRING);
    assert_int_equal(p->fields[1].off, 25);
    assert_int_equal(p->fields[1].len, 2);
    assert_string_equal(p->fields[2].name, "n");
    assert_int_equal(p->fields[2].type, LSL_FIELD_NUMBER);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_regex_fields(void **state)
{
    struct lsl_rule *r =
        parse("name t\npattern ^(?<a>\\d+) (?<b>\\w+)(?: (?<c>x))? "
              "(?<d>\\d+)$\ntime a %s\nfield b user\ntype d number\n");
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    lsl_matcher_want_fields(m, true);
    p = plan(r, m, "1709601630 bob 12");
    assert_true(p->matched);
    assert_int_equal(p->nfields, 3); /* c did not take part */
    assert_string_equal(p->fields[0].name, "a");
    assert_int_equal(p->fields[0].type, LSL_FIELD_TIME);
    assert_string_equal(p->fields[1].name, "b");
    assert_int_equal(p->fields[1].type, LSL_FIELD_STRING);
    assert_int_equal(p->fields[1].off, 11);
    assert_int_equal(p->fields[1].len, 3);
    assert_string_equal(p->fields[2].name, "d");
    assert_int_equal(p->fields[2].type, LSL_FIELD_NUMBER);
    p = plan(r, m, "no match here");
    assert_false(p->matched);
    assert_int_equal(p->nfields, 0);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_w3c_fields_time(void **state)
{
    struct lsl_rule *r = load_shipped_rule("w3c");
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p;
    int64_t t = 0;
    const char *hdr = "#Fields: date time c-ip sc-status";

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    lsl_matcher_want_fields(m, true);
    /* No header yet: unparsed. */
    assert_false(plan(r, m, "2024-03-05 01:20:30 1.2.3.4 200")->matched);
    assert_int_equal(lsl_matcher_set_header(m, hdr, strlen(hdr)), 0);
    p = plan(r, m, "2024-03-05 01:20:30 1.2.3.4 200");
    assert_true(p->matched);
    assert_false(p->meta);
    /* date and time are one field "time" over both columns. */
    assert_int_equal(p->nfields, 3);
    assert_string_equal(p->fields[0].name, "time");
    assert_int_equal(p->fields[0].type, LSL_FIELD_TIME);
    assert_int_equal(p->fields[0].off, 0);
    assert_int_equal(p->fields[0].len, 19);
    assert_string_equal(p->fields[1].name, "c-ip");
    assert_int_equal(p->fields[1].off, 20);
    assert_string_equal(p->fields[2].name, "sc-status");
    assert_int_equal(p->fields[2].type, LSL_FIELD_NUMBER);
    assert_int_equal(lsl_time_parse(lsl_rule_time_format(r),
                                    "2024-03-05 01:20:30", p->fields[0].len,
                                    &t),
                     0);
    assert_int_equal(
        lsl_time_parse(lsl_rule_time_format(r), p->time.p, p->time.len, &t), 0);
    assert_int_equal(t, 1709601630);
    /* Tab-separated columns, and the header forgotten on request. */
    p = plan(r, m, "2024-03-05\t01:20:30\t1.2.3.4\t200");
    assert_true(p->matched);
    assert_int_equal(
        lsl_time_parse(lsl_rule_time_format(r), p->time.p, p->time.len, &t), 0);
    assert_int_equal(t, 1709601630);
    assert_int_equal(lsl_matcher_set_header(m, NULL, 0), 0);
    assert_false(plan(r, m, "2024-03-05 01:20:30 1.2.3.4 200")->matched);
    assert_true(lsl_rule_is_header(r, hdr, strlen(hdr)));
    assert_false(lsl_rule_is_header(r, "#Version: 1.0", 13));
    /* Every '#' line is meta (no record), directive or not. */
    p = plan(r, m, "#Version: 1.0");
    assert_true(p->matched && p->meta);
    assert_int_equal(p->nfields, 0);
    p = plan(r, m, "#Remark: restarted");
    assert_true(p->matched && p->meta);
    p = plan(r, m, hdr);
    assert_true(p->matched && p->meta);
    /* The header the line set is in force; meta is reset per line. */
    p = plan(r, m, "2024-03-05 01:20:30 1.2.3.4 200");
    assert_true(p->matched);
    assert_false(p->meta);
    /* Time columns apart: two fields, each typed time. */
    hdr = "#Fields: date c-ip time";
    assert_int_equal(lsl_matcher_set_header(m, hdr, strlen(hdr)), 0);
    p = plan(r, m, "2024-03-05 1.2.3.4 01:20:30");
    assert_int_equal(p->nfields, 3);
    assert_string_equal(p->fields[0].name, "date");
    assert_int_equal(p->fields[0].type, LSL_FIELD_TIME);
    assert_string_equal(p->fields[2].name, "time");
    assert_int_equal(p->fields[2].type, LSL_FIELD_TIME);
    assert_null(p->time.p);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

static void test_ip_modes(void **state)
{
    struct lsl_rule *r = parse("name t\npattern ^(?<a>\\S+) (?<b>.*)$\n"
                               "field a ip mode=truncate bits=24\n"
                               "field b iplist ip mode=ip6\n");
    struct lsl_rule *r2 = parse("name t\npattern ^(?<a>\\S+)$\n"
                                "field a ip mode=truncate bits4=16 "
                                "bits6=48\n");
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    p = plan(r, m, "1.2.3.4 5.6.7.8, 9.9.9.9");
    assert_int_equal(p->count, 3);
    assert_int_equal(p->spans[0].mode, LSL_IPMODE_TRUNCATE);
    assert_int_equal(p->spans[0].bits4, 24);
    assert_int_equal(p->spans[0].bits6, 24);
    assert_int_equal(p->spans[1].mode, LSL_IPMODE_IP6);
    assert_int_equal(p->spans[2].mode, LSL_IPMODE_IP6);
    assert_int_equal(p->spans[2].bits4, 0);
    assert_int_equal(p->spans[2].bits6, 0);
    /* What is not an address is tokenized too, in the field's mode (the
     * output then writes a token: it cannot be truncated). */
    p = plan(r, m, "x 1");
    assert_int_equal(p->count, 2);
    assert_int_equal(p->spans[0].mode, LSL_IPMODE_TRUNCATE);
    p = plan(r, m, "host-1-2-3-4.example.net z");
    assert_int_equal(p->count, 2);
    assert_int_equal(p->spans[0].len, 24);
    assert_int_equal(p->spans[1].mode, LSL_IPMODE_IP6);
    p = plan(r2, m, "2001:db8::1");
    assert_int_equal(p->spans[0].bits4, 16);
    assert_int_equal(p->spans[0].bits6, 48);
    lsl_matcher_free(m);
    lsl_rule_free(r);
    lsl_rule_free(r2);
}

#define RX "name t\npattern ^(?<a>x)$\n"

/*
 * Keys the rule does not name (issue 19): a Caddy log's X-Api-Key,
 * Set-Cookie and a session= pair used to stay in clear (only addresses,
 * e-mails and UUIDs of such keys were taken).
 */
static void test_unnamed_keys(void **state)
{
    static const char line[] =
        "{\"request\":{\"remote_ip\":\"203.0.113.7\",\"headers\":{"
        "\"X-Api-Key\":[\"k3y\"],\"Accept\":[\"*/*\"],\"Note\":"
        "[\"session=abc; theme=dark\"]}},\"resp_headers\":{\"Set-Cookie\":"
        "[\"sid=zz9; Path=/\"]},\"n\":5,\"user_id\":77}";
    struct lsl_rule *r = parse("name t\nformat json\nkey request.remote_ip ip\n"
                               "param session secret\n");
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m, line, true,
               "{\"request\":{\"remote_ip\":\"<ip|203.0.113.7>\",\"headers\":{"
               "\"X-Api-Key\":[\"<secret|k3y>\"],\"Accept\":[\"*/*\"],"
               "\"Note\":[\"session=<secret|abc>; theme=dark\"]}},"
               "\"resp_headers\":{\"Set-Cookie\":[\"<secret|sid=zz9; "
               "Path=/>\"]},\"n\":5,\"user_id\":77}");
    lsl_rule_free(r);
    r = parse("name t\nformat json\nkey request.remote_ip ip\n"
              "unnamed drop\n");
    check_plan(r, m, line, true,
               "{\"request\":{\"remote_ip\":\"<ip|203.0.113.7>\",\"headers\":{"
               "\"X-Api-Key\":[\"<drop|k3y>\"],\"Accept\":[\"<drop|*/*>\"],"
               "\"Note\":[\"<drop|session=abc; theme=dark>\"]}},"
               "\"resp_headers\":{\"Set-Cookie\":[\"<drop|sid=zz9; Path=/>\"]"
               "},\"n\":<drop/q|5>,\"user_id\":<drop/q|77>}");
    lsl_rule_free(r);
    r = parse("name t\nformat json\nkey request.remote_ip ip\n"
              "unnamed keep\n");
    check_plan(r, m, "{\"request\":{\"remote_ip\":\"1.2.3.4\"},\"k\":\"x\"}",
               true,
               "{\"request\":{\"remote_ip\":\"<ip|1.2.3.4>\"},\"k\":\"x\"}");
    lsl_rule_free(r);
    lsl_matcher_free(m);
    parse_fails("name t\npattern ^(?<a>x)$\nunnamed drop\n", 3,
                "'unnamed' is for json rules");
    parse_fails("name t\nformat json\nunnamed maybe\n", 3,
                "unnamed scrub|drop|keep");
}

/* A key the rule names, nested where the rule does not look: a reply's
 * user, an embedded user object; a key it lists as a param. Tokenizing keys
 * only; a nested "port" (keep) stays what an unnamed value is. */
static void test_nested_keys(void **state)
{
    struct lsl_rule *r = load_shipped_rule("posting");
    struct lsl_matcher *m = NULL;

    (void)state;
    assert_int_equal(lsl_matcher_open(&m), 0);
    check_plan(r, m,
               "{\"event\":\"reply\",\"user_id\":1,\"reply_to\":{"
               "\"user_id\":4821937,\"user_name\":\"Hanako\",\"port\":5},"
               "\"user\":{\"id\":\"u-77\",\"name\":\"Taro\",\"ip\":["
               "\"unknown\"]},\"a\":{\"b\":{\"device_id\":\"d-9\"}}}",
               true,
               "{\"event\":\"reply\",\"user_id\":<user/q|1>,\"reply_to\":{"
               "\"user_id\":<user/q|4821937>,\"user_name\":\"<name|Hanako>\","
               "\"port\":5},\"user\":{\"id\":\"<user|u-77>\",\"name\":"
               "\"<name|Taro>\",\"ip\":[\"<ip|unknown>\"]},\"a\":{\"b\":{"
               "\"device_id\":\"<id|d-9>\"}}}");
    /* A key the rule does not name but lists as a param (web.params),
     * written as a JavaScript app writes it; null, true and "-" stay. */
    check_plan(r, m,
               "{\"event\":\"c\",\"user_id\":1,\"reply\":{\"userId\":48219,"
               "\"deviceId\":\"d-1\",\"uid\":null,\"token\":true,\"mac\":"
               "\"-\",\"Session\":\"s\\u0031\"}}",
               true,
               "{\"event\":\"c\",\"user_id\":<user/q|1>,\"reply\":{\"userId\":"
               "<user/q|48219>,\"deviceId\":\"<id|d-1>\",\"uid\":null,"
               "\"token\":true,\"mac\":\"-\",\"Session\":\"<secret/j|s\\u0031>"
               "\"}}");
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

/* The fast skip of string bytes against a byte-by-byte reading: every
 * byte value at every place of a text, and random texts of every length
 * up to 40 drawn mostly from the bytes that matter. */
static size_t plain_ref(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
        i++;
    return i - i % 8;
}

static void test_plain_skip(void **state)
{
    static const unsigned char pick[] = {'"',  '\\', 0x00, 0x1f, 0x20,
                                         0x21, 0x7f, 0x80, 0x9f, 0xa0,
                                         0xe3, 0xff, 'a',  '5'};
    unsigned char t[40];
    uint32_t x = 12345;

    (void)state;
    for (size_t at = 0; at < 24; at++) {
        for (unsigned b = 0; b < 256; b++) {
            memset(t, 'a', 24);
            t[at] = (unsigned char)b;
            assert_int_equal(lsl_json_plain((const char *)t, 24),
                             plain_ref(t, 24));
        }
    }
    for (unsigned k = 0; k < 200000; k++) {
        size_t len = k % 41;

        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            t[i] = (x >> 16) % 8 ? 'x' : pick[(x >> 8) % sizeof(pick)];
        }
        assert_int_equal(lsl_json_plain((const char *)t, len),
                         plain_ref(t, len));
    }
}

static void test_directive_errors(void **state)
{
    (void)state;
    parse_fails(RX "field a ip mode=foo\n", 3, "unknown ip mode 'foo'");
    parse_fails(RX "field a ip mode=truncate bits=0\n", 3, "bits= takes");
    parse_fails(RX "field a ip mode=truncate bits=129\n", 3, "bits= takes");
    /* One count for both families stays within IPv4's width: bits=33
     * used to keep every IPv4 address whole. */
    parse_fails(RX "field a ip mode=truncate bits=33\n", 3,
                "bits= takes 1 to 32");
    parse_fails(RX "field a ip mode=truncate bits4=33\n", 3,
                "bits4= takes 1 to 32");
    parse_fails(RX "field a ip mode=truncate bits6=129\n", 3,
                "bits6= takes 1 to 128");
    parse_fails(RX "field a ip bits6=24\n", 3, "goes with mode=truncate");
    parse_fails(RX "field a ip bits=24\n", 3, "goes with mode=truncate");
    parse_fails(RX "field a id mode=ip6\n", 3, "unexpected 'mode=ip6'");
    parse_fails(RX "format xml\n", 3, "format regex|json|w3c");
    parse_fails(RX "format json\n", 2, "a json rule takes no pattern");
    parse_fails(RX "key a id\n", 3, "a regex rule takes 'field' lines");
    parse_fails("name t\nformat w3c\nkey a id\n", 3, "takes 'column'");
    parse_fails("name t\nformat json\nkey a id\nkey a user\n", 4,
                "second key line for 'a'");
    parse_fails(RX "require a\n", 0, "'require' is for json and w3c rules");
    parse_fails(RX "type a float\n", 3, "string|number|time");
    parse_fails(RX "type b number\n", 3, "no group named 'b'");
    parse_fails(RX "disclosure port=zz\n", 3, "no group named 'zz'");
    parse_fails(RX "disclosure a\n", 3, "disclosure port=NAME");
    parse_fails("name t\n", 0, "missing 'pattern' line");
}

static void gaps(const char *name, unsigned n, const char *want)
{
    struct lsl_rule *r = load_shipped_rule(name);
    char buf[160];

    assert_int_equal(lsl_rule_disclosure_gaps(r, buf, sizeof(buf)), n);
    assert_string_equal(buf, want);
    lsl_rule_free(r);
}

static void test_disclosure_gaps(void **state)
{
    struct lsl_rule *r;
    char buf[8];

    (void)state;
    gaps("nginx-combined", 1, "no source port");
    gaps("nginx-main", 1, "no source port");
    gaps("nginx-rtmp", 1, "no source port");
    gaps("nginx-disclosure", 0, "");
    gaps("nginx-json", 0, "");
    gaps("posting", 0, "");
    gaps("w3c", 0, "");
    r = parse("name t\npattern ^(?<a>x) (?<remote_port>\\d+)$\n"
              "time a %d/%b/%Y:%H:%M\n");
    assert_int_equal(lsl_rule_disclosure_gaps(r, buf, sizeof(buf)), 2);
    assert_string_equal(buf, "no clie"); /* cut to fit, terminated */
    lsl_rule_free(r);
    r = parse("name t\npattern ^(?<a>x)$\nfield a ip\n");
    assert_int_equal(lsl_rule_disclosure_gaps(r, NULL, 0), 2);
    lsl_rule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_numbers_quoted),
        cmocka_unit_test(test_paths_arrays_escapes),
        cmocka_unit_test(test_json_fields_time),
        cmocka_unit_test(test_regex_fields),
        cmocka_unit_test(test_w3c_fields_time),
        cmocka_unit_test(test_ip_modes),
        cmocka_unit_test(test_directive_errors),
        cmocka_unit_test(test_unnamed_keys),
        cmocka_unit_test(test_nested_keys),
        cmocka_unit_test(test_plain_skip),
        cmocka_unit_test(test_disclosure_gaps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
