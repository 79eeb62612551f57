/* Rule files: directives, errors with file and line, name resolution. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/rules.h"

#define HEAD "name t\npattern ^(?<a>\\S+) (?<b>\\S+)\n"

/* Parsing `text` fails on `line` with a message containing `what`. */
#define fails(text, line, what) fails_n(text, sizeof(text) - 1, line, what)

static void fails_n(const char *text, size_t len, unsigned line,
                    const char *what)
{
    struct lsl_rule_error err;
    struct lsl_rule *r = (struct lsl_rule *)&err;

    memset(&err, 0x5a, sizeof(err));
    assert_int_equal(lsl_rule_parse(&r, text, len, "t.rules", &err), LSL_ERULE);
    assert_null(r);
    assert_string_equal(err.path, "t.rules");
    if (err.line != line || !strstr(err.msg, what))
        print_error("line %u msg '%s'\n", err.line, err.msg);
    assert_int_equal(err.line, line);
    assert_non_null(strstr(err.msg, what));
}

static void test_good(void **state)
{
    static const char text[] =
        "# comment\n"
        "\n"
        "  name   web-1   # trailing comment\r\n"
        "pattern  ^(?<ip>\\S+) \\[(?<t>[^\\]]+)\\] (?<u>\\S+)#?  \n"
        "time t %d/%b/%Y:%T %z\n"
        "field ip ip\n"
        "field u  user name\n"
        "param Device_ID id\n"
        "match-limit 500\n"
        "depth-limit 40\n";
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;

    (void)state;
    assert_int_equal(lsl_rule_parse(&r, text, sizeof(text) - 1, "x", &err), 0);
    assert_string_equal(lsl_rule_name(r), "web-1");
    assert_string_equal(lsl_rule_time_format(r), "%d/%b/%Y:%T %z");
    lsl_rule_free(r);
    lsl_rule_free(NULL);
}

static void test_no_time(void **state)
{
    struct lsl_rule *r = NULL;

    (void)state;
    assert_int_equal(lsl_rule_parse(&r, HEAD, strlen(HEAD), "x", NULL), 0);
    assert_null(lsl_rule_time_format(r));
    lsl_rule_free(r);
}

static void test_directive_errors(void **state)
{
    (void)state;
    fails(HEAD "\nfields a ip\n", 4, "unknown directive 'fields'");
    fails("name t\nname u\n", 2, "'name' given twice");
    fails("name\n", 1, "expected: name NAME");
    fails("pattern x\n", 0, "missing 'name'");
    fails("name t\n# nothing else\n", 0, "missing 'pattern'");
    fails("name t\npattern\n", 2, "expected: pattern REGEX");
    fails("name t\npattern a\0b\n", 2, "NUL byte");
}

static void test_field_errors(void **state)
{
    (void)state;
    fails(HEAD "field c ip\n", 3, "no group named 'c'");
    fails(HEAD "field a hash\n", 3, "unknown action 'hash'");
    fails(HEAD "field a\n", 3, "field GROUP ACTION [CLASS]");
    fails(HEAD "field a ip\nfield a id\n", 4, "second field line");
    fails(HEAD "field a scrub id\n", 3, "takes no class");
    fails(HEAD "field a id ipv4\n", 3, "unknown class 'ipv4'");
    fails(HEAD "field a id user more\n", 3, "unexpected 'more'");
    fails("name t\npattern (?<a>x)|(?J)(?<a>y)\nfield a id\n", 3, "not unique");
}

static void test_param_time_limit_errors(void **state)
{
    (void)state;
    fails(HEAD "param uid account\n", 3, "unknown class 'account'");
    fails(HEAD "param uid\n", 3, "param NAME CLASS");
    fails(HEAD "param UID user\nparam uid id\n", 4, "'uid' given twice");
    fails(HEAD "time a\n", 3, "time GROUP FORMAT");
    fails(HEAD "time a %Q\n", 3, "invalid time format");
    fails(HEAD "time zz %s\n", 3, "no group named 'zz'");
    fails(HEAD "match-limit 0\n", 3, "match-limit N");
    fails(HEAD "depth-limit 12x\n", 3, "depth-limit N");
    fails(HEAD "match-limit 99999999999\n", 3, "match-limit N");
}

static void test_pattern_error(void **state)
{
    (void)state;
    fails("name t\n\npattern ^(?<a>[a-z)+$\n", 3, "offset 13");
    fails("name t\npattern ^(?<a>x){2,1}\n", 2, "offset 12");
    fails("name t\npattern (?<a>x\n", 2, "pattern error");
}

static void test_load_and_resolve(void **state)
{
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;
    char path[512];

    (void)state;
    assert_int_equal(lsl_rule_resolve("nginx-main", NULL, path, sizeof(path)),
                     0);
    assert_non_null(strstr(path, "/nginx-main.rules"));
    assert_int_equal(lsl_rule_load(&r, path, &err), 0);
    assert_string_equal(lsl_rule_name(r), "nginx-main");
    lsl_rule_free(r);

    assert_int_equal(
        lsl_rule_resolve("no-such-rule", "/nonexistent", path, sizeof(path)),
        LSL_ENOTFOUND);
    assert_int_equal(lsl_rule_resolve("./x.rules", NULL, path, sizeof(path)),
                     0);
    assert_string_equal(path, "./x.rules");
    assert_int_equal(lsl_rule_resolve("a/b", NULL, path, 3), -ENAMETOOLONG);

    assert_int_equal(lsl_rule_load(&r, "/nonexistent/x.rules", &err), -ENOENT);
    assert_null(r);
    assert_string_equal(err.path, "/nonexistent/x.rules");
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "cannot read"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* include NAME reads params beside the rule file, and nothing else. */
static void test_include(void **state)
{
    char dir[] = "/tmp/lsl-include-XXXXXX", path[256], inc[256];
    struct lsl_rule_error err = {0};
    struct lsl_rule *r = NULL;
    struct lsl_matcher *m = NULL;
    const struct lsl_plan *p = NULL;
    static const char line[] = "x /a?tok=zz9";

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.rules", dir);
    snprintf(inc, sizeof(inc), "%s/p.params", dir);
    write_file(inc, "# shared\nparam tok secret\nsegment u user\n");
    write_file(path, HEAD "field b query\ninclude p.params\n");
    assert_int_equal(lsl_rule_load(&r, path, &err), 0);
    assert_int_equal(lsl_matcher_open(&m), 0);
    assert_int_equal(lsl_rule_plan(r, m, line, strlen(line), &p), 0);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->spans[0].cls, LSL_CLASS_SECRET);
    lsl_rule_free(r);
    lsl_matcher_free(m);

    write_file(inc, "param tok secret\nfield b keep\n");
    assert_int_equal(lsl_rule_load(&r, path, &err), LSL_ERULE);
    assert_string_equal(err.path, inc);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "only param and segment"));
    write_file(path, HEAD "include ../p.params\n");
    assert_int_equal(lsl_rule_load(&r, path, &err), LSL_ERULE);
    assert_non_null(strstr(err.msg, "beside the rule file"));
    write_file(path, HEAD "include none.params\n");
    assert_int_equal(lsl_rule_load(&r, path, &err), LSL_ERULE);
    assert_int_equal(err.line, 3);
    /* Text in memory has no directory to include from. */
    fails(HEAD "include p.params\n", 3, "include needs a rule file");
    unlink(inc);
    unlink(path);
    rmdir(dir);
}

static void test_resolve_dir_order(void **state)
{
    const char *env = getenv("LOGSEAL_RULES_DIR");
    char saved[512], path[512];

    (void)state;
    assert_non_null(env);
    snprintf(saved, sizeof(saved), "%s", env);
    /* The env directory wins; an unusable one falls through to `dir`. */
    assert_int_equal(setenv("LOGSEAL_RULES_DIR", "/nonexistent", 1), 0);
    assert_int_equal(
        lsl_rule_resolve("nginx-combined", saved, path, sizeof(path)), 0);
    assert_int_equal(strncmp(path, saved, strlen(saved)), 0);
    assert_int_equal(setenv("LOGSEAL_RULES_DIR", saved, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_no_time),
        cmocka_unit_test(test_directive_errors),
        cmocka_unit_test(test_field_errors),
        cmocka_unit_test(test_param_time_limit_errors),
        cmocka_unit_test(test_pattern_error),
        cmocka_unit_test(test_load_and_resolve),
        cmocka_unit_test(test_resolve_dir_order),
        cmocka_unit_test(test_include),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
