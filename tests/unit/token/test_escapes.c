/*
 * The escape decoders the rules and the tokenizer share.
 * JSON string unescaping (lsl_json_unescape): the escapes of RFC 8259
 * section 7 and what is kept as written; a round trip through a plain
 * encoder that writes every character beyond ASCII as \uXXXX (as
 * Python's json.dumps and PHP's json_encode do by default), surrogate
 * pairs included; the offset map.
 * nginx's "\xHH" (lsl_xesc_decode): every byte written so by nginx's
 * escape=default decodes back; what is no escape is kept; the map.
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

#define MAXCP 64

static size_t unescape(const char *s, char *out, enum lsl_json_ctl ctl)
{
    return lsl_json_unescape(s, strlen(s), out, NULL, ctl);
}

static void expect(const char *in, const char *keep, const char *blank)
{
    char out[128];
    size_t n = unescape(in, out, LSL_JSON_CTL_KEEP);

    assert_int_equal(n, strlen(keep));
    assert_memory_equal(out, keep, n);
    n = unescape(in, out, LSL_JSON_CTL_BLANK);
    assert_int_equal(n, strlen(blank));
    assert_memory_equal(out, blank, n);
}

static void test_examples(void **state)
{
    (void)state;
    expect("plain", "plain", "plain");
    expect("a\\\"b\\\\c\\/d", "a\"b\\c/d", "a\"b\\c/d");
    expect("\\u0041\\u00e9\\uFF10", "A\xc3\xa9\xef\xbc\x90",
           "A\xc3\xa9\xef\xbc\x90");
    /* Fullwidth "090" as Python writes it. */
    expect("\\uff10\\uff19\\uff10", "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90",
           "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90");
    /* A surrogate pair is one character: U+1F600. */
    expect("x\\ud83d\\ude00y", "x\xf0\x9f\x98\x80y", "x\xf0\x9f\x98\x80y");
    /* Controls: kept as written, or a blank. */
    expect("a\\nb\\tc\\r\\b\\f", "a\\nb\\tc\\r\\b\\f", "a b c   ");
    expect("1\\u00002\\u001f3\\u007f4", "1\\u00002\\u001f3\\u007f4", "1 2 3 4");
    /* Lone surrogates are no character. */
    expect("\\ud800x", "\\ud800x", " x");
    expect("\\udc00", "\\udc00", " ");
    expect("\\ud800\\u0041", "\\ud800A", " A");
    expect("\\udbff\\udfff", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
    /* No valid escape: the backslash is a byte. */
    expect("\\x41", "\\x41", "\\x41");
    expect("\\u12", "\\u12", "\\u12");
    expect("\\u12g4", "\\u12g4", "\\u12g4");
    expect("end\\", "end\\", "end\\");
    /* Read once: an escaped backslash starts no second escape. */
    expect("\\u005cu0041", "\\u0041", "\\u0041");
    expect("\\\\u0041", "\\u0041", "\\u0041");
}

/* The encoder of the round trip: ASCII but '"', '\\' and controls as
 * they are, everything else as \uXXXX (pairs beyond the BMP). */
static size_t encode(const uint32_t *cp, size_t n, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];

        if (c == '"' || c == '\\')
            k += (size_t)sprintf(out + k, "\\%c", (char)c);
        else if (c >= 0x20 && c < 0x7F)
            out[k++] = (char)c;
        else if (c < 0x10000)
            k += (size_t)sprintf(out + k, "\\u%04x", (unsigned)c);
        else
            k += (size_t)sprintf(out + k, "\\u%04X\\u%04X",
                                 (unsigned)(0xD800 + ((c - 0x10000) >> 10)),
                                 (unsigned)(0xDC00 + ((c - 0x10000) & 0x3FF)));
    }
    return k;
}

/* UTF-8 the long way: one branch per length. */
static size_t utf8(const uint32_t *cp, size_t n, unsigned char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];

        if (c < 0x80) {
            out[k++] = (unsigned char)c;
        } else if (c < 0x800) {
            out[k++] = (unsigned char)(0xC0 + c / 64);
            out[k++] = (unsigned char)(0x80 + c % 64);
        } else if (c < 0x10000) {
            out[k++] = (unsigned char)(0xE0 + c / 4096);
            out[k++] = (unsigned char)(0x80 + c / 64 % 64);
            out[k++] = (unsigned char)(0x80 + c % 64);
        } else {
            out[k++] = (unsigned char)(0xF0 + c / 262144);
            out[k++] = (unsigned char)(0x80 + c / 4096 % 64);
            out[k++] = (unsigned char)(0x80 + c / 64 % 64);
            out[k++] = (unsigned char)(0x80 + c % 64);
        }
    }
    return k;
}

/* A code point that is a character: no control, no surrogate. */
static uint32_t random_cp(uint64_t *rng)
{
    static const uint32_t base[] = {0x20,   0x80,    0x3000, 0xFF00,
                                    0x4E00, 0x10000, 0x1F600};
    uint32_t c;

    do
        c = base[testrng_below(rng, 7)] + testrng_below(rng, 0x100);
    while (c == 0x7F || (c >= 0x80 && c < 0xA0));
    return c;
}

static void test_round_trip(void **state)
{
    uint64_t rng = 8259;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        uint32_t cp[MAXCP];
        char text[MAXCP * 12], out[MAXCP * 12];
        unsigned char want[MAXCP * 4];
        uint32_t map[MAXCP * 12 + 1];
        size_t n = testrng_below(&rng, MAXCP), len, got, wn;

        for (size_t i = 0; i < n; i++)
            cp[i] = random_cp(&rng);
        len = encode(cp, n, text);
        wn = utf8(cp, n, want);
        for (int ctl = LSL_JSON_CTL_KEEP; ctl <= LSL_JSON_CTL_BLANK; ctl++) {
            got = lsl_json_unescape(text, len, out, map, ctl);
            assert_int_equal(got, wn);
            assert_memory_equal(out, want, wn);
            /* The map: nondecreasing offsets of escape or byte starts,
             * ending at the raw length. */
            assert_int_equal(map[got], len);
            for (size_t k = 0; k < got; k++) {
                assert_true(map[k] < len);
                assert_true(k == 0 || map[k - 1] <= map[k]);
                assert_true(text[map[k]] == '\\' ||
                            (unsigned char)text[map[k]] < 0x80);
            }
        }
    }
}

/* Each byte of one character maps to its escape; a span of whole
 * characters widens to whole escapes. */
static void test_map(void **state)
{
    const char *s = "ab\\uff10\\ud83d\\ude00\\nc";
    char out[64];
    uint32_t map[64];
    size_t n = lsl_json_unescape(s, strlen(s), out, map, LSL_JSON_CTL_BLANK);
    static const uint32_t want[] = {0, 1, 2, 2, 2, 8, 8, 8, 8, 20, 22, 23};

    (void)state;
    assert_int_equal(n, 11);
    assert_memory_equal(map, want, sizeof(want));
    n = lsl_json_unescape(s, strlen(s), out, map, LSL_JSON_CTL_KEEP);
    assert_int_equal(n, 12);
    assert_int_equal(map[9], 20);
    assert_int_equal(map[10], 21);
    assert_int_equal(map[12], 23);
}

/* nginx's escape=default: '"', '\\', controls and bytes from 0x7F. */
static size_t nginx_escape(const unsigned char *s, size_t n, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\' || s[i] < 0x20 || s[i] >= 0x7F)
            k += (size_t)sprintf(out + k, i % 2 ? "\\x%02X" : "\\x%02x", s[i]);
        else
            out[k++] = (char)s[i];
    }
    return k;
}

static void test_xesc(void **state)
{
    uint64_t rng = 0x5c78;
    char out[64];
    uint32_t map[64];
    const char *s = "a\\xEF\\xbc\\x90b";
    size_t n;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        unsigned char raw[64];
        char text[64 * 4], back[64 * 4];
        size_t len = testrng_below(&rng, 64), tl;

        for (size_t i = 0; i < len; i++)
            raw[i] = (unsigned char)testrng_below(&rng, 256);
        tl = nginx_escape(raw, len, text);
        assert_int_equal(lsl_xesc_has(text, tl), tl != len);
        assert_int_equal(lsl_xesc_decode(text, tl, back, NULL), len);
        assert_memory_equal(back, raw, len);
    }
    n = lsl_xesc_decode(s, strlen(s), out, map);
    assert_int_equal(n, 5);
    assert_memory_equal(out,
                        "a\xef\xbc\x90"
                        "b",
                        5);
    assert_int_equal(map[1], 1);
    assert_int_equal(map[3], 9);
    assert_int_equal(map[4], 13);
    assert_int_equal(map[5], 14);
    /* No escape: kept; and read once. */
    assert_false(lsl_xesc_has("\\x4", 3));
    assert_false(lsl_xesc_has("\\xg1 \\\"", 6));
    n = lsl_xesc_decode("\\x5Cx41\\x4", 10, out, NULL);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "\\x41\\x4", 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_xesc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
