/*
 * Printed tokens: format/parse round trip, the scanner on text with near
 * misses, the ip6 rendering, and token identity across spellings and
 * classes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "testkey.h"

static struct lsl_keyring *kr;

static int setup(void **state)
{
    (void)state;
    kr = testkey_open(77);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lsl_keyring_close(kr);
    return 0;
}

static struct lsl_token tok_of(enum lsl_class c, const char *v)
{
    char norm[256];
    struct lsl_token t;
    long n = lsl_token_normalize(c, v, strlen(v), norm, sizeof(norm));

    assert_true(n >= 0);
    assert_int_equal(lsl_token_derive(kr, 0, c, norm, (size_t)n, &t), 0);
    return t;
}

static void test_spellings_and_classes(void **state)
{
    struct lsl_token a, b;

    (void)state;
    a = tok_of(LSL_CLASS_IP, "::FFFF:10.0.0.1");
    b = tok_of(LSL_CLASS_IP, "010.000.000.001");
    assert_true(lsl_token_equal(&a, &b));
    a = tok_of(LSL_CLASS_IP, "2001:DB8:0:0:0::7");
    b = tok_of(LSL_CLASS_IP, "2001:db8::7");
    assert_true(lsl_token_equal(&a, &b));
    a = tok_of(LSL_CLASS_IP, "2001:db8::7");
    b = tok_of(LSL_CLASS_IP, "2001:db8::8");
    assert_false(lsl_token_equal(&a, &b));
    /* Same text, every pair of classes: different tokens. */
    for (unsigned i = 0; i < LSL_CLASS_COUNT; i++) {
        for (unsigned j = i + 1; j < LSL_CLASS_COUNT; j++) {
            a = tok_of((enum lsl_class)i, "12345");
            b = tok_of((enum lsl_class)j, "12345");
            assert_int_not_equal(memcmp(a.hash, b.hash, sizeof(a.hash)), 0);
        }
    }
}

static void test_round_trip(void **state)
{
    char text[LSL_TOKEN_TEXT_MAX];
    struct lsl_token t, back;

    (void)state;
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        for (unsigned kid = 0; kid < 1024; kid += 93) {
            size_t n;

            t = tok_of((enum lsl_class)c, "value");
            t.kid = (uint16_t)kid;
            n = lsl_token_format(&t, text);
            assert_int_equal(n, strlen(text));
            assert_true(n < LSL_TOKEN_TEXT_MAX);
            assert_int_equal(n, strlen(lsl_class_name((enum lsl_class)c)) + 1 +
                                    LSL_TOKEN_KID_CHARS + LSL_TOKEN_BODY_CHARS);
            assert_int_equal(lsl_token_parse(text, n, &back), 0);
            assert_true(lsl_token_equal(&t, &back));
        }
    }
}

static void test_format_bits(void **state)
{
    struct lsl_token t = {.cls = LSL_CLASS_USER, .kid = 1023};
    char text[LSL_TOKEN_TEXT_MAX];

    (void)state;
    memset(t.hash, 0, sizeof(t.hash));
    t.hash[0] = 0xf8; /* 11111 000... */
    t.hash[14] = 0x1f;
    lsl_token_format(&t, text);
    assert_string_equal(text, "user_77"
                              "7aaaaaaaaaaaaaaaaaaaaaa7");
    t.kid = 33;
    memset(t.hash, 0, sizeof(t.hash));
    lsl_token_format(&t, text);
    assert_string_equal(text, "user_bb"
                              "aaaaaaaaaaaaaaaaaaaaaaaa");
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "ip_",
        "ip_aaaaaaaaaaaaaaaaaaaaaaaaa",   /* 25 */
        "ip_aaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 27 */
        "ip_aaaaaaaaaaaaaaaaaaaaaaaaa1",  /* '1' not base32 */
        "ip_aaaaaaaaaaaaaaaaaaaaaaaaaA",  /* upper case */
        "xx_aaaaaaaaaaaaaaaaaaaaaaaaaa",  /* no such class */
        "IP_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ip-aaaaaaaaaaaaaaaaaaaaaaaaaa",
        " ip_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    struct lsl_token t;

    (void)state;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(bad); i++)
        assert_int_equal(lsl_token_parse(bad[i], strlen(bad[i]), &t), -EINVAL);
    assert_int_equal(lsl_token_parse("ip_aaaaaaaaaaaaaaaaaaaaaaaaaa", 29, &t),
                     0);
}

/* All tokens lsl_token_scan finds in s, as "start+len " pairs. */
static void scan_all(const char *s, char *out, size_t cap)
{
    size_t pos = 0, tlen, used = 0, len = strlen(s);

    out[0] = '\0';
    while (lsl_token_scan(s, len, &pos, &tlen)) {
        used += (size_t)snprintf(out + used, cap - used, "%zu+%zu ", pos, tlen);
        pos += tlen;
    }
}

#define T26 "abcdefghijklmnopqrstuvwxyz"

static void test_scan(void **state)
{
    char got[256];

    (void)state;
    scan_all("ip_" T26, got, sizeof(got));
    assert_string_equal(got, "0+29 ");
    scan_all("GET /?u=user_" T26 "&ip=ip_" T26 " 200", got, sizeof(got));
    assert_string_equal(got, "8+31 43+29 ");
    scan_all("a email_" T26 "_x secret_" T26 ".", got, sizeof(got));
    assert_string_equal(got, "2+32 37+33 ");
    scan_all("[name_" T26 "]phone_" T26 "\n", got, sizeof(got));
    assert_string_equal(got, "1+31 33+32 ");
    /* near misses */
    scan_all("ip_abcdefghijklmnopqrstuvwxy", got, sizeof(got)); /* 25 */
    assert_string_equal(got, "");
    scan_all("ip_" T26 "a", got, sizeof(got)); /* 27: glued */
    assert_string_equal(got, "");
    scan_all("ip_" T26 "7", got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("ip_" T26 "Z", got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("zip_" T26, got, sizeof(got)); /* glued before */
    assert_string_equal(got, "");
    scan_all("9ip_" T26, got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("x_ip_" T26, got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("ip_abcdefghijklmnopqrstuvwxy1", got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("ip_abcdefghijklmnopqrstuvwxYz", got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("ix_" T26 " __ _ip_" T26, got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("username_" T26, got, sizeof(got));
    assert_string_equal(got, "");
    scan_all("-id_" T26 "-", got, sizeof(got));
    assert_string_equal(got, "1+29 ");
}

static void test_scan_start_pos(void **state)
{
    const char *s = "ip_" T26 " ip_" T26;
    size_t len = strlen(s), pos = 1, tlen;

    (void)state;
    /* A token that starts before *pos is not reported. */
    assert_true(lsl_token_scan(s, len, &pos, &tlen));
    assert_int_equal(pos, 30);
    pos = 31;
    assert_false(lsl_token_scan(s, len, &pos, &tlen));
    pos = 0;
    assert_false(lsl_token_scan(s, 28, &pos, &tlen)); /* cut short */
}

static void test_scan_finds_formatted(void **state)
{
    char text[LSL_TOKEN_TEXT_MAX], line[128];
    struct lsl_token t = tok_of(LSL_CLASS_SECRET, "k"), back;
    size_t n = lsl_token_format(&t, text), pos = 0, tlen;

    (void)state;
    snprintf(line, sizeof(line), "key=%s;", text);
    assert_true(lsl_token_scan(line, strlen(line), &pos, &tlen));
    assert_int_equal(pos, 4);
    assert_int_equal(tlen, n);
    assert_int_equal(lsl_token_parse(line + pos, tlen, &back), 0);
    assert_true(lsl_token_equal(&t, &back));
}

static void test_ip6(void **state)
{
    char text[48];
    uint8_t a[16];
    struct lsl_token t;

    (void)state;
    for (int i = 0; i < 64; i++) {
        char v[16];
        size_t n;

        snprintf(v, sizeof(v), "10.0.0.%d", i);
        t = tok_of(LSL_CLASS_IP, v);
        n = lsl_token_format_ip6(&t, text);
        assert_int_equal(n, strlen(text));
        assert_int_equal(inet_pton(AF_INET6, text, a), 1);
        assert_int_equal(a[0], 0xfd);
        assert_memory_equal(a + 1, t.hash, LSL_TOKEN_HASH_BYTES);
        assert_true(lsl_ip_valid(text, strlen(text)));
    }
    memset(t.hash, 0, sizeof(t.hash));
    t.hash[14] = 1;
    lsl_token_format_ip6(&t, text);
    assert_string_equal(text, "fd00::1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings_and_classes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_bits),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_start_pos),
        cmocka_unit_test(test_scan_finds_formatted),
        cmocka_unit_test(test_ip6),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
