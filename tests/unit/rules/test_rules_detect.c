/*
 * --rule auto: each sample file picks its rule; the 80% threshold, the
 * file-name order, comment lines, and the answer when nothing fits: the
 * text rule, never chosen by the sample itself, or LSL_ENOTFOUND without
 * one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/rules.h"

/* The first `lines` lines of samples/<name>.log. */
static size_t read_sample(const char *name, size_t lines, char *buf, size_t cap)
{
    char path[512];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/samples/%s.log", LSL_TEST_DATA, name);
    f = fopen(path, "r");
    assert_non_null(f);
    while (lines-- > 0 && fgets(buf + n, (int)(cap - n), f))
        n += strlen(buf + n);
    fclose(f);
    return n;
}

static void picks(const char *sample, size_t lines, const char *want,
                  unsigned counted)
{
    static char buf[1 << 16];
    struct lsl_rule_detect d;
    struct lsl_rule *r = NULL;
    size_t n = read_sample(sample, lines, buf, sizeof(buf));

    if (lsl_rule_detect(&r, NULL, buf, n, true, &d) != 0)
        fail_msg("%s: %u/%u, tried %s", sample, d.matched, d.counted, d.tried);
    assert_non_null(r);
    assert_string_equal(lsl_rule_name(r), want);
    assert_string_equal(d.chosen, want);
    assert_int_equal(d.counted, counted);
    assert_true(d.matched * 5 >= d.counted * 4);
    lsl_rule_free(r);
}

static void test_each_format(void **state)
{
    (void)state;
    /* The samples end in lines meant to fail; those are left out. */
    picks("nginx-json", 2, "nginx-json", 2);
    picks("posting", 3, "posting", 3);
    picks("nginx-rtmp", 4, "nginx-rtmp", 4);
    picks("w3c", 8, "w3c", 3);
    picks("nginx-disclosure", 1, "nginx-disclosure", 1);
}

/* want NULL: no rule fits, the shipped text rule is the fallback. */
static void detect_text(const char *text, bool at_eof, const char *want)
{
    struct lsl_rule_detect d;
    struct lsl_rule *r = NULL;

    assert_int_equal(lsl_rule_detect(&r, NULL, text, strlen(text), at_eof, &d),
                     0);
    assert_non_null(r);
    assert_string_equal(lsl_rule_name(r), want ? want : "text");
    assert_int_equal(d.fallback, want == NULL);
    if (!want) {
        assert_string_equal(d.chosen, "text");
        assert_non_null(strstr(d.tried, "nginx-combined"));
        assert_non_null(strstr(d.tried, "w3c"));
        assert_null(strstr(d.tried, "text"));
    }
    lsl_rule_free(r);
}

#define COMBINED                                                               \
    "203.0.113.7 - - [05/Mar/2024:10:20:30 +0900] \"GET / HTTP/1.1\" 200 5 "   \
    "\"-\" \"x\"\n"

static void test_threshold_and_eof(void **state)
{
    (void)state;
    /* 4 of 5 lines is enough, 3 of 5 is not. */
    detect_text(COMBINED COMBINED COMBINED COMBINED "junk\n", true,
                "nginx-combined");
    detect_text(COMBINED COMBINED COMBINED "junk\njunk\n", true, NULL);
    /* A cut last line counts only at the end of the input. */
    detect_text(COMBINED COMBINED COMBINED COMBINED "jun", false,
                "nginx-combined");
    detect_text("", true, NULL);
    detect_text("# only a comment\n\n", true, NULL);
    detect_text("Dec  7 01:02:03 web1 sshd[811]: Accepted key\n", true, NULL);
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_order_and_invalid(void **state)
{
    char dir[] = "/tmp/lsl-detect-XXXXXX", path[600];
    struct lsl_rule_detect d;
    struct lsl_rule *r = NULL;
    const char *old = getenv("LOGSEAL_RULES_DIR");
    char *saved = old ? strdup(old) : NULL;
    static const char *const files[][2] = {
        {"b-any.rules", "name b-any\npattern ^.*$\n"},
        {"a-digits.rules", "name a-digits\npattern ^\\d+$\n"},
        {"0-bad.rules", "name bad\npattern (\n"},
    };

    (void)state;
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 3; i++)
        put_file(dir, files[i][0], files[i][1]);
    setenv("LOGSEAL_RULES_DIR", dir, 1);
    assert_int_equal(lsl_rule_detect(&r, NULL, "12\n34\n", 6, true, &d), 0);
    /* Every rule is tried; of those that read all lines the first by file
     * name wins, unless another has a higher priority. */
    assert_string_equal(lsl_rule_name(r), "a-digits");
    assert_string_equal(d.tried, "0-bad (invalid), a-digits, b-any");
    lsl_rule_free(r);
    assert_int_equal(lsl_rule_detect(&r, NULL, "x\n", 2, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "b-any");
    lsl_rule_free(r);
    put_file(dir, files[0][0], "name b-any\npattern ^.*$\npriority 1\n");
    assert_int_equal(lsl_rule_detect(&r, NULL, "12\n34\n", 6, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "b-any");
    lsl_rule_free(r);
    /* The rule that reads more lines wins, whatever its priority. */
    assert_int_equal(
        lsl_rule_detect(&r, NULL, "1\n2\n3\n4\n5\nx\n", 12, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "b-any");
    lsl_rule_free(r);
    put_file(dir, files[0][0],
             "name b-any\npattern ^(?:\\d+|x)$\n"
             "priority -1\n");
    assert_int_equal(
        lsl_rule_detect(&r, NULL, "1\n2\n3\n4\n5\nx\n", 12, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "b-any");
    lsl_rule_free(r);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
        unlink(path);
    }
    rmdir(dir);
    if (saved)
        setenv("LOGSEAL_RULES_DIR", saved, 1);
    free(saved);
}

/* Only DIR/text.rules is the fallback, and no text rule wins by itself. */
static void test_fallback(void **state)
{
    char dir[] = "/tmp/lsl-detect-XXXXXX", path[600];
    struct lsl_rule_detect d;
    struct lsl_rule *r = NULL;
    const char *old = getenv("LOGSEAL_RULES_DIR");
    char *saved = old ? strdup(old) : NULL;
    static const char *const names[] = {"a-digits.rules", "0-anytext.rules",
                                        "text.rules"};

    (void)state;
    assert_non_null(mkdtemp(dir));
    put_file(dir, names[0], "name a-digits\npattern ^\\d+$\n");
    put_file(dir, names[1], "name anytext\nformat text\n");
    put_file(dir, names[2], "name text\nformat text\nparam pw secret\n");
    setenv("LOGSEAL_RULES_DIR", dir, 1);
    assert_int_equal(lsl_rule_detect(&r, NULL, "12\n34\n", 6, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "a-digits");
    assert_false(d.fallback);
    lsl_rule_free(r);
    assert_int_equal(lsl_rule_detect(&r, NULL, "x\n", 2, true, &d), 0);
    assert_string_equal(lsl_rule_name(r), "text");
    assert_true(d.fallback);
    assert_string_equal(d.tried, "a-digits");
    lsl_rule_free(r);
    snprintf(path, sizeof(path), "%s/%s", dir, names[2]);
    unlink(path);
    r = NULL;
    assert_int_equal(lsl_rule_detect(&r, NULL, "x\n", 2, true, &d),
                     LSL_ENOTFOUND);
    assert_null(r);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    if (saved)
        setenv("LOGSEAL_RULES_DIR", saved, 1);
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_format),
        cmocka_unit_test(test_threshold_and_eof),
        cmocka_unit_test(test_order_and_invalid),
        cmocka_unit_test(test_fallback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
