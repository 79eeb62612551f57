/*
 * Percent-decoding: lsl_pct_decode against a second, deliberately plain
 * implementation (RFC 3986 decoding, one strtoul per escape, a fresh
 * buffer per round, rounds until one changes nothing) on random and
 * escape-dense text; the offset map it returns; idempotence; linear time
 * on deep nesting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../testrng.h"
#include "logseal/token.h"

#define MAXLEN 96

/* The reference: the RFC's words, one round at a time. */
static size_t ref_round(const char *in, size_t len, char *out, bool *changed)
{
    size_t k = 0;

    *changed = false;
    for (size_t i = 0; i < len;) {
        char two[3] = {0};

        if (in[i] == '%' && i + 2 < len) {
            const char *hex = "0123456789abcdefABCDEF";

            two[0] = in[i + 1];
            two[1] = in[i + 2];
            if (two[0] && two[1] && strchr(hex, two[0]) &&
                strchr(hex, two[1])) {
                out[k++] = (char)strtoul(two, NULL, 16);
                i += 3;
                *changed = true;
                continue;
            }
        }
        out[k++] = in[i++];
    }
    return k;
}

static size_t ref_decode(const char *s, size_t len, char *out)
{
    char a[MAXLEN + 1], b[MAXLEN + 1];
    size_t n = len;
    bool changed = true;

    memcpy(a, s, len);
    while (changed) {
        n = ref_round(a, n, b, &changed);
        memcpy(a, b, n);
    }
    memcpy(out, a, n);
    return n;
}

static const char alphabet[] = "%%%%2545aAfF0g9x@.+-/ ";

static size_t random_text(char *s, unsigned seed_kind)
{
    size_t len = (size_t)(rand() % MAXLEN);

    for (size_t i = 0; i < len; i++) {
        if (seed_kind % 3 == 0)
            s[i] = (char)(rand() & 0xff);
        else
            s[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
    }
    return len;
}

static void test_against_reference(void **state)
{
    char s[MAXLEN], want[MAXLEN + 1], got[MAXLEN + 1];
    uint32_t map[MAXLEN + 1];

    (void)state;
    srand(3986);
    for (unsigned round = 0; round < 200000; round++) {
        size_t len = random_text(s, round);
        size_t wn = ref_decode(s, len, want);
        size_t gn = lsl_pct_decode(s, len, got, round & 1 ? map : NULL);

        if (gn != wn || memcmp(got, want, wn) != 0)
            fail_msg("round %u: decoded text differs (len %zu)", round, len);
        assert_int_equal(lsl_pct_has_escape(s, len), wn != len);
    }
}

/* Each decoded byte comes from exactly the raw text its map gives. */
static void test_map(void **state)
{
    char s[MAXLEN], got[MAXLEN + 1], piece[MAXLEN + 1];
    uint32_t map[MAXLEN + 1];

    (void)state;
    srand(2396);
    for (unsigned round = 0; round < 100000; round++) {
        size_t len = random_text(s, round | 1);
        size_t n = lsl_pct_decode(s, len, got, map);

        assert_int_equal(map[0], 0);
        assert_int_equal(map[n], len);
        for (size_t k = 0; k < n; k++) {
            size_t w = map[k + 1] - map[k];

            assert_true(map[k + 1] > map[k]);
            assert_int_equal(lsl_pct_decode(s + map[k], w, piece, NULL), 1);
            assert_int_equal(piece[0], got[k]);
        }
    }
}

static void test_examples(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"john%40example.com", "john@example.com"},
        {"john%2540example.com", "john@example.com"}, /* twice */
        {"%25252540", "@"},                           /* four times */
        {"%2%34%31", "$1"}, /* "%2" + "4" is "%24", then "1" */
        {"%4%31", "A"},
        {"%31%39%32.168.7.4", "192.168.7.4"},
        {"fe80::1%25eth0", "fe80::1%eth0"},
        {"fe80%3A%3A1", "fe80::1"},
        {"100%", "100%"},
        {"%zz%4", "%zz%4"},
        {"a+b%2Bc", "a+b+c"},
        {"pass%77ord", "password"},
        {"%7e%7E", "~~"},
        {"", ""},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = lsl_pct_decode(cases[i].in, strlen(cases[i].in), out, NULL);

        out[n] = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

/* Decoding decoded text changes nothing (normalization relies on it). */
static void test_idempotent(void **state)
{
    char s[MAXLEN], a[MAXLEN + 1], b[MAXLEN + 1];

    (void)state;
    srand(1738);
    for (unsigned round = 0; round < 100000; round++) {
        size_t len = random_text(s, round | 1);
        size_t n = lsl_pct_decode(s, len, a, NULL);

        assert_false(lsl_pct_has_escape(a, n));
        assert_int_equal(lsl_pct_decode(a, n, b, NULL), n);
        assert_memory_equal(a, b, n);
    }
}

/* "%" + "25" x k + "41", k = 2^20: one pass, not a million rounds. */
static void test_deep_nesting(void **state)
{
    size_t k = 1u << 20, len = 1 + 2 * k + 2;
    char *s = malloc(len);
    size_t n;

    (void)state;
    assert_non_null(s);
    s[0] = '%';
    for (size_t i = 0; i < k; i++)
        memcpy(s + 1 + 2 * i, "25", 2);
    memcpy(s + 1 + 2 * k, "41", 2);
    n = lsl_pct_decode(s, len, s, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(s[0], 'A');
    free(s);
}

/* In place: out may be the input itself. */
static void test_in_place(void **state)
{
    char s[] = "a%2540b%41";
    size_t n;

    (void)state;
    n = lsl_pct_decode(s, strlen(s), s, NULL);
    assert_int_equal(n, 4);
    assert_memory_equal(s, "a@bA", 4);
}

/* Every fullwidth ASCII form folds to its ASCII byte (U+FF01 + k is
 * '!' + k), but '％'; other code points of the block's neighbourhood stay. */
static void test_wide_block(void **state)
{
    (void)state;
    for (unsigned cp = 0xFF00; cp <= 0xFF9F; cp++) {
        char s[3] = {(char)(0xE0 | cp >> 12), (char)(0x80 | (cp >> 6 & 0x3F)),
                     (char)(0x80 | (cp & 0x3F))};
        bool ascii = cp >= 0xFF01 && cp <= 0xFF5E && cp != 0xFF05;
        bool other = cp == 0xFF61 || cp == 0xFF70; /* ｡ ｰ */
        size_t n;

        assert_int_equal(lsl_wide_has(s, 3), ascii || other);
        n = lsl_wide_fold(s, 3, NULL);
        assert_int_equal(n, ascii || other ? 1 : 3);
        if (ascii)
            assert_int_equal((unsigned char)s[0], cp - 0xFF01 + '!');
    }
}

/* The map moves with the bytes; a cut-off form at the end stays. */
static void test_wide_map(void **state)
{
    char s[] = "a\xef\xbc\x90-\xe3\x83\xbc"
               "b\xef\xbc";
    uint32_t map[sizeof(s)];
    size_t n, len = sizeof(s) - 1;

    (void)state;
    for (size_t i = 0; i <= len; i++)
        map[i] = (uint32_t)(100 + i);
    n = lsl_wide_fold(s, len, map);
    assert_int_equal(n, 7);
    assert_memory_equal(s, "a0--b\xef\xbc", 7);
    assert_int_equal(map[0], 100);
    assert_int_equal(map[1], 101);
    assert_int_equal(map[2], 104);
    assert_int_equal(map[3], 105);
    assert_int_equal(map[4], 108);
    assert_int_equal(map[7], 100 + len);
    assert_false(lsl_wide_has("plain ASCII text, long enough", 29));
}

/* Folding never completes a percent escape, so a decoded and folded text
 * reads the same a second time. */
static void test_wide_no_escape(void **state)
{
    char a[] = "%\xef\xbc\x92\xef\xbc\x95 %4\xef\xbc\xa1 %\xef\xbd\x87";
    char b[sizeof(a)];
    size_t n, m;

    (void)state;
    n = lsl_wide_fold(a, sizeof(a) - 1, NULL);
    assert_int_equal(n, 14);
    assert_memory_equal(a,
                        "%\xef\xbc\x92"
                        "5 %4\xef\xbc\xa1 %g",
                        n);
    assert_false(lsl_pct_has_escape(a, n));
    memcpy(b, a, n);
    m = lsl_wide_fold(b, lsl_pct_decode(b, n, b, NULL), NULL);
    assert_int_equal(m, n);
    assert_memory_equal(a, b, n);
}

/* "(at)" and "[dot]" folded with one blank around; the map moves with
 * the bytes; folding twice is folding once, however the forms nest. */
static void test_atdot(void **state)
{
    static const char *const no[] = {"(a t)", "(at", "at)", "(ta)",
                                     "[d0t]", "(@)", "[.]", "(att)"};
    char s[] = "bob (AT) example[dot]com";
    uint32_t map[sizeof(s)];
    uint64_t rng = 0xa7d07;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(s); i++)
        map[i] = (uint32_t)i;
    assert_true(lsl_atdot_has(s, sizeof(s) - 1));
    assert_true(lsl_atdot_at(s, sizeof(s) - 1, 4));
    assert_false(lsl_atdot_at(s, sizeof(s) - 1, 16));
    n = lsl_atdot_fold(s, sizeof(s) - 1, map);
    assert_int_equal(n, 15);
    assert_memory_equal(s, "bob@example.com", n);
    assert_int_equal(map[3], 3); /* '@': the form, from its blank */
    assert_int_equal(map[4], 9); /* 'e' after the blank */
    assert_int_equal(map[11], 16);
    assert_int_equal(map[12], 21);
    assert_int_equal(map[15], 24);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(lsl_atdot_has(no[i], strlen(no[i])));
    for (int round = 0; round < 20000; round++) {
        static const char alpha[] = "([{<)]}>atdoAT .@\xe2\x98\x85-\xe3";
        char a[48], b[48];
        size_t len = testrng_below(&rng, sizeof(a));

        for (size_t i = 0; i < len; i++)
            a[i] = alpha[testrng_below(&rng, sizeof(alpha) - 1)];
        n = lsl_atdot_fold(a, len, NULL);
        memcpy(b, a, n);
        assert_false(lsl_atdot_has(a, n));
        assert_int_equal(lsl_atdot_fold(b, n, NULL), n);
        assert_memory_equal(a, b, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_wide_block),
        cmocka_unit_test(test_wide_map),
        cmocka_unit_test(test_wide_no_escape),
        cmocka_unit_test(test_atdot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
