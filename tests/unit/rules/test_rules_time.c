/* lsl_time_parse: the formats logs use, and what it refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"

static int64_t parse_ok(const char *fmt, const char *s)
{
    int64_t t = -1;

    assert_int_equal(lsl_time_parse(fmt, s, strlen(s), &t), 0);
    return t;
}

static void parse_bad(const char *fmt, const char *s)
{
    int64_t t = 0;

    assert_int_equal(lsl_time_parse(fmt, s, strlen(s), &t), -EINVAL);
}

static void test_clf(void **state)
{
    const char *clf = "%d/%b/%Y:%H:%M:%S %z";

    (void)state;
    assert_int_equal(parse_ok(clf, "01/Jan/1970:00:00:00 +0000"), 0);
    assert_int_equal(parse_ok(clf, "05/Mar/2024:10:20:30 +0000"), 1709634030);
    assert_int_equal(parse_ok(clf, "05/MAR/2024:19:20:30 +0900"), 1709634030);
    assert_int_equal(parse_ok(clf, "05/mar/2024:05:20:30 -0500"), 1709634030);
    assert_int_equal(parse_ok(clf, "29/Feb/2000:23:59:59 +0000"), 951868799);
    assert_int_equal(parse_ok(clf, "31/Dec/1969:23:59:59 +0000"), -1);
    assert_int_equal(parse_ok(clf, "01/Mar/2100:00:00:00 +0000"), 4107542400);
}

static void test_iso8601(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("%Y-%m-%dT%H:%M:%S%f%z", "2024-03-05T10:20:30Z"),
                     1709634030);
    assert_int_equal(
        parse_ok("%Y-%m-%dT%H:%M:%S%f%z", "2024-03-05T19:20:30.123456+09:00"),
        1709634030);
    assert_int_equal(parse_ok("%Y-%m-%dT%T%f%z", "2024-03-05T10:20:30,5-00"),
                     1709634030);
    assert_int_equal(parse_ok("%Y-%m-%d %T", "2024-03-05 10:20:30"),
                     1709634030);
    assert_int_equal(parse_ok("%%%Y", "%2024"), 1704067200);
}

static void test_epoch(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("%s", "1709634030"), 1709634030);
    assert_int_equal(parse_ok("%s", "1709634030.987"), 1709634030);
    assert_int_equal(parse_ok("[%s]", "[0.5]"), 0);
}

static void test_invalid(void **state)
{
    const char *clf = "%d/%b/%Y:%H:%M:%S %z";

    (void)state;
    parse_bad(clf, "");
    parse_bad(clf, "05/Mar/2024:10:20:30");
    parse_bad(clf, "05/Mar/2024:10:20:30 +0000 ");
    parse_bad(clf, "05/Mrz/2024:10:20:30 +0000");
    parse_bad(clf, "30/Feb/2024:10:20:30 +0000");
    parse_bad(clf, "29/Feb/2023:10:20:30 +0000");
    parse_bad(clf, "05/Mar/2024:24:20:30 +0000");
    parse_bad(clf, "05/Mar/2024:10:60:30 +0000");
    parse_bad(clf, "05/Mar/24:10:20:30 +0000");
    parse_bad(clf, "05/Mar/2024:10:20:30 +2500");
    parse_bad(clf, "05/Mar/2024:10:20:30 0000");
    parse_bad("%Y-%m-%d", "2024-13-01");
    parse_bad("%Y-%m-%d", "2024-00-01");
    parse_bad("%s", "-5");
    parse_bad("%s", "12a");
    parse_bad("%Q", "1");
    parse_bad("%", "1");
}

/* Fractions kept (issue 20: $msec lost its milliseconds), and the zone of
 * a format without one taken from the caller (issue 19: W3C written in
 * local time sat 9 h off). */
static void test_fraction_and_zone(void **state)
{
    struct lsl_time t;
    int64_t off = 1;

    (void)state;
    assert_int_equal(lsl_time_parse_at("%s", "1709601630.123", 14, 0, &t), 0);
    assert_int_equal(t.sec, 1709601630);
    assert_int_equal(t.nsec, 123000000);
    assert_int_equal(t.digits, 3);
    assert_int_equal(lsl_time_parse_at("%Y-%m-%dT%H:%M:%S%f%z",
                                       "2024-03-05T01:20:30.123456789123Z", 33,
                                       0, &t),
                     0);
    assert_int_equal(t.nsec, 123456789);
    assert_int_equal(t.digits, 9);
    assert_int_equal(lsl_time_parse_at("%Y-%m-%d %H:%M:%S%f",
                                       "2024-03-05 10:20:30", 19, 9 * 3600, &t),
                     0);
    assert_int_equal(t.sec, 1709601630);
    assert_int_equal(t.digits, 0);
    /* A zone in the text wins over the caller's. */
    assert_int_equal(lsl_time_parse_at("%d/%b/%Y:%H:%M:%S %z",
                                       "05/Mar/2024:10:20:30 +0900", 26,
                                       -5 * 3600, &t),
                     0);
    assert_int_equal(t.sec, 1709601630);
    assert_int_equal(lsl_tz_parse("+09:00", &off), 0);
    assert_int_equal(off, 9 * 3600);
    assert_int_equal(lsl_tz_parse("-0530", &off), 0);
    assert_int_equal(off, -(5 * 3600 + 30 * 60));
    assert_int_equal(lsl_tz_parse("UTC", &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(lsl_tz_parse("Asia/Tokyo", &off), -EINVAL);
    assert_int_equal(lsl_tz_parse("+15:00", &off), -EINVAL);
    assert_int_equal(lsl_tz_parse("+09:00x", &off), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clf),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_fraction_and_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
