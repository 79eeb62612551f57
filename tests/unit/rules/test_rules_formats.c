/*
 * The shipped rules for the streaming service's other formats, on the
 * hand-checked sample files tests/data/samples/<rule>.log: the exact plan
 * of every line, the quoting of JSON numbers, line times and the fields
 * reported for structured output.
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

struct expect {
    bool matched;
    const char *plan;
};

static const struct expect nginx_json[] = {
    {true,
     "{\"time\":\"2024-03-05T10:20:30+09:00\",\"remote_addr\":\"<ip|203.0.113."
     "7>\",\"remote_port\":\"51234\",\"x_forwarded_for\":\"<ip|198.51.100.1>, "
     "<ip|unknown>\",\"remote_user\":\"\",\"request\":\"GET "
     "/live/ch1.m3u8?device_id=<id|abc-123>&x=1 "
     "HTTP/"
     "1.1\",\"status\":200,\"body_bytes_sent\":512,\"request_time\":0.012,"
     "\"http_referer\":\"-\",\"http_user_agent\":\"VLC/3.0.20 "
     "LibVLC/3.0.20\",\"request_id\":\"4f7c2a9e0b6d4e1f8a2b3c4d5e6f7a8b\"}"},
    {true,
     "{\"time\":\"2024-03-05T10:20:31+09:00\",\"remote_addr\":\"<ip|2001:db8::"
     "7>\",\"remote_port\":\"40000\",\"x_forwarded_for\":\"\",\"remote_user\":"
     "\"<user|alice>\",\"request\":\"GET /api?uid=<user|42> "
     "HTTP/"
     "1.1\",\"status\":404,\"body_bytes_sent\":0,\"request_time\":0.001,\"http_"
     "referer\":\"https://example.com/"
     "?email=<email|a@example.com>\",\"http_user_agent\":\"Mozilla/5.0 "
     "\\\"x\\\" <ip|10.1.2.3>\",\"extra\":\"from <ip|192.0.2.9>\"}"},
    {false, "{\"time\":\"2024-03-05T10:20:32+09:00\",\"remote_addr\":\"<ip|203."
            "0.113.8>\",\"status\":200}"},
    {false, "{\"time\":\"2024-03-05T10:20:33+09:00\",\"remote_addr\":\"<ip|203."
            "0.113.9>\",\"request\":\"GET / HTTP/1.1\",}"},
};

static const struct expect posting[] = {
    {true, "{\"time\":\"2024-03-05T10:20:30.123+09:00\",\"event\":\"comment\","
           "\"channel\":\"ch-1024\",\"user_id\":<user/q|5319990>,\"user_name\":"
           "\"<name|taro>\",\"ip\":\"<ip|203.0.113.7>\",\"port\":51234,"
           "\"device_id\":\"<id|3f2504e0-4f89-11d3-9a0c-0305e82c3301>\",\"ua\":"
           "\"LiveApp/5.2 (iPhone; iOS 17.0)\",\"message\":\"call me "
           "<phone|090-1234-5678> or mail <email|taro@example.jp>\"}"},
    {true, "{\"time\":\"2024-03-05T10:20:31.000+09:00\",\"event\":\"join\","
           "\"channel\":\"ch-1024\",\"user_id\":\"<user|u-77>\",\"user_name\":"
           "\"<name/j|\\u82b1\\u5b50>\",\"ip\":\"<ip|::ffff:198.51.100.4>\","
           "\"port\":443,\"device_id\":\"-\",\"ua\":\"\",\"message\":\"\\ubeef@"
           "example.com \\n<ip|10.0.0.1> at 2024-03-05 10:20:31\"}"},
    {true,
     "{\"time\":\"2024-03-05T10:20:32.000+09:00\",\"event\":\"gift\","
     "\"channel\":\"ch-7\",\"user_id\":<user/q|12>,\"tags\":[\"a\",\"b\"],"
     "\"meta\":{\"ip\":\"<ip|192.0.2.1>\",\"n\":3},\"message\":null}"},
};

static const struct expect nginx_rtmp[] = {
    {true, "<ip|198.51.100.23> [05/Mar/2024:10:20:30 +0900] PUBLISH \"live\" "
           "\"<secret|sk_live_7f3a9c>\" \"token=<secret|abc>&uid=<user|42>\" - "
           "18223 409 \"\" \"FMLE/3.0 (compatible; FMSc/1.0)\" (1m 5s)"},
    {true,
     "<ip|203.0.113.50> [05/Mar/2024:10:20:31 +0900] PLAY \"live\" \"ch1\" "
     "\"device_id=<id|d-1>&quality=hd\" - 409 1048576 "
     "\"https://example.com/watch?uid=<user|9>\" \"LNX 9,0,124,2\" (1h 2m 3s)"},
    {true, "<ip|203.0.113.51> [05/Mar/2024:10:20:32 +0900] PLAY+PUBLISH "
           "\"live\" \"<secret|relay_key>\" \"\" - 1 2 \"\" \"\" (0s)"},
    {true, "<ip|203.0.113.52> [05/Mar/2024:10:20:33 +0900] NONE \"live\" \"\" "
           "\"\" - 0 0 \"\" \"\" (0s)"},
};

static const struct expect w3c[] = {
    {true, "#Software: Microsoft Internet Information Services 10.0"},
    {true, "#Version: 1.0"},
    {true, "#Date: 2024-03-05 01:20:30"},
    {true, "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
           "cs-username c-ip cs(User-Agent) cs(Cookie) sc-status time-taken"},
    {true,
     "2024-03-05 01:20:30 192.0.2.10 GET /live/ch1.m3u8 "
     "uid=<user|42>&quality=hd 443 - <ip|203.0.113.7> "
     "Mozilla/5.0+(Windows+NT+10.0) sid=<secret|s3cr3t>;+theme=dark 200 15"},
    {true, "2024-03-05 01:20:31 192.0.2.10 GET /index.html - 443 <user|bob> "
           "<ip|2001:db8::2> curl/8.0 - 304 1"},
    {true, "#Fields: "
           "date\ttime\tx-event\tc-ip\tc-port\tx-forwarded-for\tx-sname-"
           "query\tc-user-agent\tx-comment"},
    {true,
     "2024-03-05\t01:20:32\tplay\t<ip|198.51.100.9>\t50123\t<ip|203.0.113.1>, "
     "<ip|10.0.0.2>\tdevice_id=<id|3f2504e0-4f89-11d3-9a0c-0305e82c3301>"
     "\tWowzaPlayer/1.0\tviewer tel <phone|03-1234-5678>"},
    /* Two columns short: each cell may be its column or one of the two
     * after it, and takes the most protective of their actions (the
     * c-ip column's here, for the three cells that may be it). */
    {false, "2024-03-05\t<ip|01:20:33>\t<ip|stop>\t<ip|198.51.100.9>\t"
            "<ip|50123>\t-\t-"},
    {true, "#Remark: operator <email|ops@example.com>"},
};

static const struct expect nginx_disclosure[] = {
    {true, "<ip|203.0.113.7> - - [05/Mar/2024:10:20:30 +0900] \"GET "
           "/live/ch1.m3u8?token=<secret|t0k> HTTP/1.1\" 200 512 \"-\" "
           "\"VLC/3.0.20\" 51234 192.0.2.10:443 1709601630.123 "
           "4f7c2a9e0b6d4e1f8a2b3c4d5e6f7a8b"},
};

/* Every line of samples/<name>.log planned as `want` says, in order (one
 * matcher, so a W3C header carries over as it does in a batch). */
static void check_sample(const char *name, const struct expect *want, size_t n)
{
    struct lsl_rule *r = load_shipped_rule(name);
    struct lsl_matcher *m = NULL;
    char path[512], line[4096];
    size_t i = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/samples/%s.log", LSL_TEST_DATA, name);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(lsl_matcher_open(&m), 0);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        assert_true(i < n);
        check_plan(r, m, line, want[i].matched, want[i].plan);
        i++;
    }
    assert_int_equal(i, n);
    fclose(f);
    lsl_matcher_free(m);
    lsl_rule_free(r);
}

#define SAMPLE(name, arr) check_sample(name, arr, sizeof(arr) / sizeof(arr[0]))

static void test_nginx_json(void **state)
{
    (void)state;
    SAMPLE("nginx-json", nginx_json);
}

static void test_posting(void **state)
{
    (void)state;
    SAMPLE("posting", posting);
}

static void test_nginx_rtmp(void **state)
{
    (void)state;
    SAMPLE("nginx-rtmp", nginx_rtmp);
}

static void test_w3c(void **state)
{
    (void)state;
    SAMPLE("w3c", w3c);
}

static void test_nginx_disclosure(void **state)
{
    (void)state;
    SAMPLE("nginx-disclosure", nginx_disclosure);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_json),       cmocka_unit_test(test_posting),
        cmocka_unit_test(test_nginx_rtmp),       cmocka_unit_test(test_w3c),
        cmocka_unit_test(test_nginx_disclosure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
