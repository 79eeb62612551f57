/*
 * Phone numbers in free text: the shapes taken, the look-alikes refused,
 * and realistic nginx lines whose numbers must all stay as they are.
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

static struct lsl_matcher *m;

static int setup(void **state)
{
    (void)state;
    return lsl_matcher_open(&m);
}

static int teardown(void **state)
{
    (void)state;
    lsl_matcher_free(m);
    return 0;
}

/* Scrubbed as an unparsed line: exactly one phone span, all of `text`. */
static void phone(const char *text)
{
    char line[128], want[160];

    snprintf(line, sizeof(line), "tel %s.", text);
    snprintf(want, sizeof(want), "tel <phone|%s>.", text);
    check_plan(NULL, m, line, false, want);
}

static void not_phone(const char *text)
{
    const struct lsl_plan *p = NULL;

    assert_int_equal(lsl_scrub_plan(m, text, strlen(text), &p), 0);
    for (size_t i = 0; i < p->count; i++)
        if (p->spans[i].cls == LSL_CLASS_PHONE)
            fail_msg("phone found in: %s", text);
}

/* Typed with a Japanese input method: wide digits and dashes. */
static void test_wide(void **state)
{
    (void)state;
    phone("\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90\xef\xbc\x8d"
          "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x8d"
          "\xef\xbc\x95\xef\xbc\x96\xef\xbc\x97\xef\xbc\x98");
    phone("090\xe3\x83\xbc"
          "1234\xe3\x83\xbc"
          "5678");
    phone("03\xe2\x88\x92"
          "1234\xe2\x80\x90"
          "5678");
    phone("0\xef\xbc\x99\xef\xbc\x90-1234-5678");
    /* The IME's space bar types an ideographic space between groups. */
    phone("090\xe3\x80\x80"
          "1234\xe3\x80\x80"
          "5678");
    not_phone("3\xe3\x80\x80"
              "4 5\xe3\x80\x80");
    /* Katakana with the long-vowel mark between numbers of no phone. */
    not_phone("\xe3\x83\xa9\xe3\x83\xbc\xe3\x83\xa1\xe3\x83\xb3 12\xe3\x83\xbc"
              "34");
}

static void test_taken(void **state)
{
    (void)state;
    phone("090-1234-5678");
    phone("080-1234-5678");
    phone("070-1234-5678");
    phone("050-1234-5678");
    phone("03-1234-5678");
    phone("06-1234-5678");
    phone("045-123-4567");
    phone("0466-12-3456");
    phone("01267-2-3456");
    phone("0120-123-456");
    phone("0800-123-4567");
    phone("09012345678");
    phone("+81-90-1234-5678");
    phone("+81 90 1234 5678");
    phone("+81-3-1234-5678");
    phone("+819012345678");
    /* Blanks or dots between the groups; parentheses as on cards. */
    phone("090 1234 5678");
    phone("03 1234 5678");
    phone("0466 12 3456");
    phone("090.1234.5678");
    phone("03.1234.5678");
    phone("03(1234)5678");
    phone("0466(12)3456");
    phone("090(1234)5678");
    phone("(03) 1234-5678");
    phone("(03)1234-5678");
    phone("(090) 1234 5678");
    phone("+81 (0)90-1234-5678");
    phone("+81-(0)3-1234-5678");
    /* The separator after +81 is its own. */
    phone("+81 90-1234-5678");
    phone("+81-90 1234 5678");
    phone("+81 3-1234-5678");
    check_plan(NULL, m, "(03-1234-5678), tel:090-1234-5678", false,
               "(<phone|03-1234-5678>), tel:<phone|090-1234-5678>");
}

static void test_refused(void **state)
{
    (void)state;
    not_phone("2024-03-05 10:20:30 +0900");
    not_phone("05/Mar/2024:10:20:30 +0900");
    not_phone("090-1234-56789");  /* last group too long */
    not_phone("1-090-1234-5678"); /* a longer dashed run */
    not_phone("090-1234-5678-1");
    not_phone("0901234567"); /* ten digits undashed */
    not_phone("0312345678"); /* landline undashed: too ambiguous */
    not_phone("12345678901");
    not_phone("3.090-1234-5678");
    not_phone("090-1234-5678.5");
    not_phone("00-1234-5678"); /* no area digit */
    not_phone("v090-1234-5678");
    not_phone("090-1234-5678x");
    not_phone("id=a090-1234-5678");
    not_phone("+82-10-1234-5678"); /* not Japan */
    not_phone("+81-0-1234-5678");
    not_phone("+8190123456789");
    not_phone("03-12-34");
    not_phone("0-1234-5678");
    not_phone("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    not_phone("/live/090-1234-5678/index.m3u8");
    not_phone("seg-090-1234-5678.ts");
    not_phone("a_03-1234-5678");
    not_phone("12:090-1234-5678");
    not_phone("1709601630.123 51234 0");
    /* Separators mixed, or parentheses not as cards write them. */
    not_phone("090 1234-5678");
    not_phone("090.1234-5678");
    not_phone("03(1234-5678");
    not_phone("03(1234(5678");
    not_phone("03)1234(5678");
    not_phone("(03 1234-5678");
    not_phone("(3) 1234-5678");
    not_phone("(03)(1234)5678");
    not_phone("(03) 1234)5678");
    not_phone("0 1234 5678");
    not_phone("00 1234 5678");
    not_phone("010.1234.5678");   /* 11 digits, no mobile prefix */
    not_phone("010.123.45.6789"); /* four groups: an address */
    not_phone("v03(1234)5678");
    not_phone("+81 (0)0-1234-5678");
    not_phone("+81 90-1234 5678"); /* the groups' own separators differ */
    /* A NUL is no separator. */
    {
        static const char nul[] = "090\0"
                                  "1234\0"
                                  "5678";
        const struct lsl_plan *p = NULL;

        assert_int_equal(lsl_scrub_plan(m, nul, sizeof(nul) - 1, &p), 0);
        assert_int_equal(p->count, 0);
    }
}

/* Realistic nginx lines, scrubbed whole (as if no rule matched) and
 * through the nginx rules: no number may become a phone. */
static void test_nginx_numbers_kept(void **state)
{
    static const char *const lines[] = {
        "203.0.113.7 - - [05/Mar/2024:10:20:30 +0900] \"GET /live/ch1/"
        "seg-090-1234-5678.ts HTTP/1.1\" 200 1048576 \"-\" \"VLC/3.0.20\"",
        "203.0.113.7 - - [05/Mar/2024:00:00:00 +0000] \"GET /vod/0120/"
        "03/1234/index.m3u8?start=09012345678&t=0312345678 HTTP/2.0\" 206 "
        "0 \"https://example.com/a?b=1\" \"Mozilla/5.0 (Linux; Android 14; "
        "SM-S911B) AppleWebKit/537.36 Chrome/122.0.6261.64\"",
        "198.51.100.4 - - [31/Dec/2023:23:59:59 -0500] \"POST /api/v1/"
        "comments HTTP/1.1\" 201 45 \"-\" \"okhttp/4.12.0\" "
        "\"10.0.0.1, 10.0.0.2\" rt=0.012 uct=0.001 rid=0a1b2c3d4e5f",
        "2001:db8::1 - - [05/Mar/2024:10:20:30 +0900] \"GET /thumb/"
        "1709601630-0800-1234.jpg HTTP/1.1\" 304 0 \"-\" "
        "\"AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0)\"",
    };
    const char *rules[] = {"nginx-combined", "nginx-main"};

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        not_phone(lines[i]);
    for (size_t k = 0; k < 2; k++) {
        struct lsl_rule *r = NULL;
        struct lsl_rule_error err = {0};
        char path[512];

        assert_int_equal(lsl_rule_resolve(rules[k], NULL, path, sizeof(path)),
                         0);
        assert_int_equal(lsl_rule_load(&r, path, &err), 0);
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
            const struct lsl_plan *p = NULL;

            assert_int_equal(
                lsl_rule_plan(r, m, lines[i], strlen(lines[i]), &p), 0);
            for (size_t s = 0; s < p->count; s++)
                assert_int_not_equal(p->spans[s].cls, LSL_CLASS_PHONE);
        }
        lsl_rule_free(r);
    }
}

/* Phones only in free text: not in a query string. */
static void test_not_in_query(void **state)
{
    struct lsl_rule *r = NULL;
    const char *t = "name t\npattern ^(?<q>\\S+) (?<f>.*)$\nfield q query\n"
                    "field f scrub\nparam x id\n";

    (void)state;
    assert_int_equal(lsl_rule_parse(&r, t, strlen(t), "t", NULL), 0);
    check_plan(r, m, "/a?tel=090-1234-5678 call 090-1234-5678", true,
               "/a?tel=090-1234-5678 call <phone|090-1234-5678>");
    lsl_rule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken),
        cmocka_unit_test(test_wide),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_nginx_numbers_kept),
        cmocka_unit_test(test_not_in_query),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
