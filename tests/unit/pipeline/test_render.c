/*
 * Output rendering on hand-built plans: ip spans in each mode (token, ip6,
 * prefix with its vault key, truncate without one), dashed host-name
 * addresses, the pipe-wide override, values that are not addresses; and
 * JSON lines (fields with spans, numbers, time as RFC 3339, escaping of
 * quotes, controls and invalid UTF-8, a JSON source's strings with invalid
 * UTF-8 and lone surrogate escapes, unparsed lines and pieces).
 */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../token/testkey.h"
#include "src/pipeline/batch_internal.h"

struct fix {
    struct lsl_keyring *kr;
    struct lsl_worker *w;
    struct lsl_batch *b;
    struct lsl_rule *rule;
    struct lsl_buf out;
};

static const char rule_text[] =
    "name t\n"
    "pattern ^(?<client>\\S+) \\[(?<time>[^\\]]+)\\] (?<status>\\d+) "
    "(?<bytes>\\S+) \"(?<ua>[^\"]*)\"$\n"
    "time time %d/%b/%Y:%H:%M:%S %z\n"
    "field client ip\n";

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct lsl_worker_opts wo = {0};

    assert_non_null(f);
    f->kr = testkey_open(5);
    wo.keyring = f->kr;
    assert_int_equal(lsl_worker_open(&f->w, &wo), 0);
    assert_int_equal(lsl_batch_open(&f->b), 0);
    assert_int_equal(
        lsl_rule_parse(&f->rule, rule_text, strlen(rule_text), "test", NULL),
        0);
    f->b->rule = f->rule;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    lsl_buf_free(&f->out);
    lsl_batch_free(f->b);
    lsl_rule_free(f->rule);
    lsl_worker_close(f->w);
    lsl_keyring_close(f->kr);
    free(f);
    return 0;
}

/* Render value v as one ip span (mode, bits for IPv4 and IPv6 unless
 * bits6 is set later, flags); NUL-terminated. */
static const char *render6(struct fix *f, const char *v, unsigned mode,
                           unsigned bits4, unsigned bits6, unsigned flags)
{
    struct lsl_plan_span s = {
        .off = 0,
        .len = (uint32_t)strlen(v),
        .action = LSL_ACT_TOKEN,
        .cls = LSL_CLASS_IP,
        .flags = (uint8_t)flags,
        .mode = (uint8_t)mode,
        .bits4 = (uint8_t)bits4,
        .bits6 = (uint8_t)bits6,
    };

    f->out.len = 0;
    assert_int_equal(lsl_span_emit(f->w, v, s.len, &s, 100, &f->out), 0);
    assert_int_equal(lsl_buf_putc(&f->out, '\0'), 0);
    return f->out.p;
}

static const char *render(struct fix *f, const char *v, unsigned mode,
                          unsigned bits, unsigned flags)
{
    return render6(f, v, mode, bits, bits, flags);
}

static size_t nmaps(struct fix *f)
{
    size_t n;

    (void)lsl_tokenizer_mappings(f->w->tz, &n);
    return n;
}

static void test_token_and_ip6(void **state)
{
    struct fix *f = *state;
    const char *r;
    struct lsl_token tok;

    lsl_tokenizer_reset(f->w->tz);
    r = render(f, "192.0.2.1", LSL_IPMODE_TOKEN, 0, 0);
    assert_int_equal(lsl_token_parse(r, strlen(r), &tok), 0);
    r = render(f, "192.0.2.1", LSL_IPMODE_IP6, 0, 0);
    assert_true(lsl_ip_valid(r, strlen(r)));
    assert_memory_equal(r, "fd", 2);
    /* Both modes key the vault by the same token. */
    assert_int_equal(nmaps(f), 1);
    /* A dashed host-name address cannot hold IPv6: a token instead. */
    r = render(f, "192-0-2-1", LSL_IPMODE_IP6, 0, LSL_SPAN_F_DASHED);
    assert_int_equal(lsl_token_parse(r, strlen(r), &tok), 0);
    assert_int_equal(nmaps(f), 1);
    assert_string_equal(render(f, "-", LSL_IPMODE_IP6, 0, 0), "-");
}

static void test_prefix_records_lookup_key(void **state)
{
    struct fix *f = *state;
    const struct lsl_mapping *m;
    struct lsl_ipaddr out;
    struct lsl_token key;
    char copy[LSL_IP_TEXT_MAX];
    const char *r;
    size_t n;

    lsl_tokenizer_reset(f->w->tz);
    r = render(f, "::ffff:198.51.100.7", LSL_IPMODE_PREFIX, 0, 0);
    snprintf(copy, sizeof(copy), "%s", r);
    assert_int_equal(lsl_ipaddr_parse(copy, strlen(copy), &out), 0);
    assert_int_equal(out.bits, 32);
    assert_string_not_equal(copy, "198.51.100.7");
    lsl_ipaddr_lookup_token(&out, lsl_keyring_kid(f->kr, 100), &key);
    m = lsl_tokenizer_mappings(f->w->tz, &n);
    assert_int_equal(n, 1);
    assert_true(lsl_token_equal(&m[0].tok, &key));
    assert_int_equal(m[0].value.len, strlen("198.51.100.7"));
    assert_memory_equal(m[0].value.p, "198.51.100.7", m[0].value.len);
    /* Dashed in, dashed out: the same mapped address. */
    r = render(f, "198-51-100-7", LSL_IPMODE_PREFIX, 0, LSL_SPAN_F_DASHED);
    for (size_t i = 0; copy[i]; i++)
        assert_int_equal(r[i], copy[i] == '.' ? '-' : copy[i]);
    assert_int_equal(nmaps(f), 1);
}

static void test_truncate_no_vault(void **state)
{
    struct fix *f = *state;
    struct lsl_token tok;
    const char *r;

    lsl_tokenizer_reset(f->w->tz);
    assert_string_equal(render(f, "203.0.113.77", LSL_IPMODE_TRUNCATE, 0, 0),
                        "203.0.112.0");
    assert_string_equal(render(f, "203.0.113.77", LSL_IPMODE_TRUNCATE, 24, 0),
                        "203.0.113.0");
    assert_string_equal(
        render(f, "2001:db8:abcd:1234::1", LSL_IPMODE_TRUNCATE, 0, 0),
        "2001:db8:abc0::");
    /* Each family its own prefix: /48 for IPv6 does not keep IPv4 whole
     * (one count for both used to). */
    assert_string_equal(
        render6(f, "203.0.113.77", LSL_IPMODE_TRUNCATE, 24, 48, 0),
        "203.0.113.0");
    assert_string_equal(
        render6(f, "2001:db8:abcd:1234::1", LSL_IPMODE_TRUNCATE, 24, 48, 0),
        "2001:db8:abcd::");
    assert_string_equal(
        render(f, "10-9-8-7", LSL_IPMODE_TRUNCATE, 8, LSL_SPAN_F_DASHED),
        "10-0-0-0");
    assert_int_equal(nmaps(f), 0);
    /* Not an address: never written raw, tokenized. */
    r = render(f, "unknown", LSL_IPMODE_TRUNCATE, 0, 0);
    assert_int_equal(lsl_token_parse(r, strlen(r), &tok), 0);
    assert_int_equal(nmaps(f), 1);
}

static void test_override(void **state)
{
    struct fix *f = *state;

    f->w->ip = (struct lsl_ip_override){
        .on = true, .mode = LSL_IPMODE_TRUNCATE, .bits4 = 16, .bits6 = 32};
    assert_string_equal(render(f, "203.0.113.77", LSL_IPMODE_PREFIX, 0, 0),
                        "203.0.0.0");
    assert_string_equal(
        render(f, "2001:db8:abcd:1234::1", LSL_IPMODE_PREFIX, 0, 0),
        "2001:db8::");
    f->w->ip.on = false;
    assert_string_not_equal(render(f, "203.0.113.77", LSL_IPMODE_PREFIX, 0, 0),
                            "203.0.0.0");
}

/* JSON of `line` planned by hand; returns b->out NUL-terminated. */
static const char *jsonl(struct fix *f, const char *line,
                         const struct lsl_plan *plan, bool piece)
{
    f->b->out.len = 0;
    assert_int_equal(
        lsl_jsonl_line(f->w, f->b, line, strlen(line), plan, 100, piece), 0);
    assert_int_equal(lsl_buf_putc(&f->b->out, '\0'), 0);
    return f->b->out.p;
}

static void test_jsonl_fields(void **state)
{
    struct fix *f = *state;
    static const char line[] =
        "10.1.2.3 [02/Jan/2024:03:04:05 +0100] 200 - \"a\\\"b\tc\"";
    struct lsl_plan_span span = {.off = 0,
                                 .len = 8,
                                 .action = LSL_ACT_TOKEN,
                                 .cls = LSL_CLASS_IP,
                                 .mode = LSL_IPMODE_TRUNCATE,
                                 .bits4 = 8};
    struct lsl_plan_field fields[] = {
        {.name = "client",
         .off = 0,
         .len = 8,
         .type = LSL_FIELD_STRING,
         .escaped = false},
        {.name = "time",
         .off = 10,
         .len = 26,
         .type = LSL_FIELD_TIME,
         .escaped = false},
        {.name = "status",
         .off = 38,
         .len = 3,
         .type = LSL_FIELD_NUMBER,
         .escaped = false},
        {.name = "bytes",
         .off = 42,
         .len = 1,
         .type = LSL_FIELD_NUMBER,
         .escaped = false},
        {.name = "ua",
         .off = 45,
         .len = 6,
         .type = LSL_FIELD_STRING,
         .escaped = false},
    };
    struct lsl_plan plan = {.spans = &span,
                            .count = 1,
                            .matched = true,
                            .fields = fields,
                            .nfields = 5};

    assert_string_equal(jsonl(f, line, &plan, false),
                        "{\"_rule\":\"t\",\"client\":\"10.0.0.0\","
                        "\"time\":\"2024-01-02T02:04:05Z\",\"status\":200,"
                        "\"bytes\":null,\"ua\":\"a\\\\\\\"b\\tc\"}\n");
    /* A number field whose text is no JSON number stays a string. */
    fields[1] = (struct lsl_plan_field){.name = "time",
                                        .off = 10,
                                        .len = 8,
                                        .type = LSL_FIELD_TIME,
                                        .escaped = false};
    fields[2] = (struct lsl_plan_field){.name = "status",
                                        .off = 20,
                                        .len = 3,
                                        .type = LSL_FIELD_NUMBER,
                                        .escaped = false};
    plan.nfields = 3;
    assert_string_equal(jsonl(f, "10.1.2.3 [bad time] 007", &plan, false),
                        "{\"_rule\":\"t\",\"client\":\"10.0.0.0\","
                        "\"time\":\"bad time\",\"status\":\"007\"}\n");
}

/*
 * Canonical columns (the default): shared names, a shared integer typed
 * as one, the request's parts, the fraction of a second kept; an array's
 * elements one JSON array (they used to be duplicate keys, which DuckDB
 * refuses). --columns source: the rule's own names.
 */
static void test_jsonl_canonical_arrays(void **state)
{
    struct fix *f = *state;
    static const char line[] = "GET /a?b=1 HTTP/1.1|1709601630.125|200|x|y";
    struct lsl_plan_field fields[] = {
        {.name = "req", .off = 0, .len = 19, .canon = "request"},
        {.name = "msec",
         .off = 20,
         .len = 14,
         .type = LSL_FIELD_TIME,
         .canon = "time",
         .canon_type = LSL_FIELD_TIME},
        {.name = "st",
         .off = 35,
         .len = 3,
         .canon = "status",
         .canon_type = LSL_FIELD_NUMBER},
        {.name = "h", .off = 39, .len = 1, .array = true},
        {.name = "h", .off = 41, .len = 1, .array = true},
    };
    struct lsl_plan plan = {.matched = true, .fields = fields, .nfields = 5};
    static const char text[] = "name t\npattern ^(?<x>.)\ntime x %s\n";
    struct lsl_rule *r = NULL;

    assert_int_equal(lsl_rule_parse(&r, text, strlen(text), "t", NULL), 0);
    f->b->rule = r;
    f->w->columns = LSL_COLUMNS_CANONICAL;
    assert_string_equal(
        jsonl(f, line, &plan, false),
        "{\"_rule\":\"t\",\"request\":\"GET /a?b=1 HTTP/1.1\","
        "\"method\":\"GET\",\"path\":\"/a\",\"query\":\"b=1\","
        "\"protocol\":\"HTTP/1.1\",\"time\":\"2024-03-05T01:20:30.125Z\","
        "\"status\":200,\"h\":[\"x\",\"y\"]}\n");
    f->w->columns = LSL_COLUMNS_SOURCE;
    assert_string_equal(jsonl(f, line, &plan, false),
                        "{\"_rule\":\"t\",\"req\":\"GET /a?b=1 HTTP/1.1\","
                        "\"msec\":\"2024-03-05T01:20:30.125Z\",\"st\":\"200\","
                        "\"h\":[\"x\",\"y\"]}\n");
    f->w->columns = LSL_COLUMNS_CANONICAL;
    lsl_rule_free(r);
    f->b->rule = f->rule;
}

/* A span cut by a field's edge is replaced whole, never leaked. */
static void test_jsonl_span_across_field(void **state)
{
    struct fix *f = *state;
    struct lsl_plan_span span = {.off = 2, .len = 9, .action = LSL_ACT_DROP};
    struct lsl_plan_field field = {.name = "x",
                                   .off = 0,
                                   .len = 6,
                                   .type = LSL_FIELD_STRING,
                                   .escaped = false};
    struct lsl_plan plan = {.spans = &span,
                            .count = 1,
                            .matched = true,
                            .fields = &field,
                            .nfields = 1};

    assert_string_equal(jsonl(f, "ab123456789", &plan, false),
                        "{\"_rule\":\"t\",\"x\":\"ab-\"}\n");
}

/* The text of a JSON source's string is JSON already: written as it is. */
static void test_jsonl_escaped_source(void **state)
{
    struct fix *f = *state;
    struct lsl_plan_field field = {.name = "m",
                                   .off = 0,
                                   .len = 15,
                                   .type = LSL_FIELD_STRING,
                                   .escaped = true};
    struct lsl_plan plan = {.matched = true, .fields = &field, .nfields = 1};

    assert_string_equal(jsonl(f, "caf\\u00e9 \\\"x\\\"", &plan, false),
                        "{\"_rule\":\"t\",\"m\":\"caf\\u00e9 \\\"x\\\"\"}\n");
}

/*
 * A JSON source's string with bytes that are not UTF-8 and escapes that
 * name half a surrogate pair: the output is valid UTF-8 and strict JSON,
 * the good escapes and characters kept, and the span still a token.
 */
static void test_jsonl_escaped_invalid(void **state)
{
    struct fix *f = *state;
    static const char line[] =
        "a\xff"
        "b\xc0\xaf"
        "c\xe0\x80\xaf"
        "d\xed\xa0\x80"
        "e\xf4\x90\x80\x80"
        "f\\ud800g\\udc00\\u0041\\ud83d\\ude00\\ud800\\u0041\xc3\xa9 "
        "10.1.2.3 \\\\ud800\\\" \xe2\x82";
    struct lsl_plan_span span = {.off = 65,
                                 .len = 8,
                                 .action = LSL_ACT_TOKEN,
                                 .cls = LSL_CLASS_IP,
                                 .mode = LSL_IPMODE_TRUNCATE,
                                 .bits4 = 16};
    struct lsl_plan_field field = {.name = "m",
                                   .off = 0,
                                   .len = sizeof(line) - 1,
                                   .type = LSL_FIELD_STRING,
                                   .escaped = true};
    struct lsl_plan plan = {.spans = &span,
                            .count = 1,
                            .matched = true,
                            .fields = &field,
                            .nfields = 1};

    assert_memory_equal(line + 65, "10.1.2.3", 8);
    assert_string_equal(
        jsonl(f, line, &plan, false),
        "{\"_rule\":\"t\",\"m\":\"a\\u00ffb\\u00c0\\u00afc\\u00e0\\u0080"
        "\\u00afd\\u00ed\\u00a0\\u0080e\\u00f4\\u0090\\u0080\\u0080"
        "f\\ufffdg\\ufffd\\u0041\\ud83d\\ude00\\ufffd\\u0041\xc3\xa9 "
        "10.1.0.0 \\\\ud800\\\" \\u00e2\\u0082\"}\n");
    /* A cut escape at the end is a backslash, not an escape. */
    field.len = 3;
    plan.count = 0;
    assert_string_equal(jsonl(f, "x\\u", &plan, false),
                        "{\"_rule\":\"t\",\"m\":\"x\\\\u\"}\n");
}

static void test_jsonl_unparsed_escaping(void **state)
{
    struct fix *f = *state;
    static const char line[] = "bad \xff\xc3\xa9 \x01 10.1.2.3 \xe2\x82";
    struct lsl_plan_span span = {.off = 10,
                                 .len = 8,
                                 .action = LSL_ACT_TOKEN,
                                 .cls = LSL_CLASS_IP,
                                 .mode = LSL_IPMODE_TRUNCATE,
                                 .bits4 = 16};
    struct lsl_plan plan = {.spans = &span, .count = 1};

    assert_string_equal(jsonl(f, line, &plan, false),
                        "{\"_unparsed\":true,\"_line\":\"bad \\u00ff\xc3\xa9 "
                        "\\u0001 10.1.0.0 \\u00e2\\u0082\"}\n");
    plan.count = 0;
    assert_string_equal(jsonl(f, "piece", &plan, true),
                        "{\"_unparsed\":true,\"_piece\":true,"
                        "\"_line\":\"piece\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ip6),
        cmocka_unit_test(test_prefix_records_lookup_key),
        cmocka_unit_test(test_truncate_no_vault),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_jsonl_fields),
        cmocka_unit_test(test_jsonl_span_across_field),
        cmocka_unit_test(test_jsonl_canonical_arrays),
        cmocka_unit_test(test_jsonl_escaped_source),
        cmocka_unit_test(test_jsonl_escaped_invalid),
        cmocka_unit_test(test_jsonl_unparsed_escaping),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
