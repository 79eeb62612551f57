/*
 * lsl_text_is_binary (word-wise ASCII runs between characters) against the
 * reference, one lsl_utf8_seq per character from the first byte to the
 * last: on text built from ASCII runs of every length around the 16-byte
 * step, valid UTF-8 of each length, and hostile bytes (NUL, stray
 * continuation bytes, overlong forms, surrogates, code points past
 * U+10FFFF, sequences cut at the end), at every position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../testrng.h"
#include "src/pipeline/batch_internal.h"

static bool reference(const unsigned char *p, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        n = lsl_utf8_seq(p + i, len - i);
        if (n == 0)
            return true;
    }
    return false;
}

static const char *const pieces[] = {
    "a",
    "GET /live/ch1/index.m3u8 HTTP/1.1",
    "\xc3\xa9",             /* é */
    "\xe2\x82\xac",         /* € */
    "\xf0\x9f\x8e\xa5",     /* 🎥 */
    "\xef\xbf\xbd",         /* U+FFFD */
    "",                     /* NUL (length 1 below) */
    "\x80",                 /* stray continuation */
    "\xc0\xaf",             /* overlong '/' */
    "\xe0\x80\xaf",         /* overlong, 3 bytes */
    "\xed\xa0\x80",         /* surrogate */
    "\xf4\x90\x80\x80",     /* past U+10FFFF */
    "\xf8\x88\x80\x80\x80", /* 5-byte form */
    "\xe2\x82",             /* cut short */
    "\xff",
};

static uint64_t rng = 0x243f6a8885a308d3u;

static unsigned next(unsigned n)
{
    return testrng_below(&rng, n);
}

static size_t build(unsigned char *buf, size_t cap)
{
    size_t len = 0;
    unsigned parts = 1 + next(6);

    for (unsigned k = 0; k < parts; k++) {
        unsigned run = next(40), which = next(16);
        const char *pc;
        size_t plen;

        for (unsigned r = 0; r < run && len < cap; r++)
            buf[len++] = (unsigned char)(' ' + next(95));
        /* mostly valid pieces: invalid ones would end most strings early */
        if (which >= sizeof(pieces) / sizeof(pieces[0]) || next(3) != 0)
            which = next(6);
        pc = pieces[which];
        plen = which == 6 ? 1 : strlen(pc);
        if (len + plen > cap)
            break;
        memcpy(buf + len, pc, plen);
        len += plen;
    }
    return len;
}

static void agrees_with_reference(void **state)
{
    unsigned char buf[512];
    unsigned binary = 0;

    (void)state;
    for (unsigned t = 0; t < 200000; t++) {
        size_t len = build(buf, sizeof(buf));
        bool want = reference(buf, len);

        binary += want;
        if (lsl_text_is_binary(buf, len) != want)
            fail_msg("case %u (%zu bytes): %s, reference %s", t, len,
                     want ? "text" : "binary", want ? "binary" : "text");
        /* every prefix: sequences cut at the end, runs of every length */
        if (t % 64 == 0) {
            for (size_t k = 0; k <= len; k++) {
                if (lsl_text_is_binary(buf, k) != reference(buf, k))
                    fail_msg("case %u, first %zu bytes", t, k);
            }
        }
    }
    /* both outcomes were exercised, in fair numbers */
    assert_true(binary > 20000 && binary < 180000);
}

/* The one invalid byte at every distance from the start and the end of a
 * long ASCII run (the word-wise scan's edges). */
static void one_bad_byte_anywhere(void **state)
{
    unsigned char buf[100];

    (void)state;
    for (size_t len = 1; len <= sizeof(buf); len++) {
        for (size_t at = 0; at < len; at++) {
            memset(buf, 'x', len);
            buf[at] = 0;
            assert_true(lsl_text_is_binary(buf, len));
            buf[at] = 0x80;
            assert_true(lsl_text_is_binary(buf, len));
            buf[at] = 'y';
            assert_false(lsl_text_is_binary(buf, len));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agrees_with_reference),
        cmocka_unit_test(one_bad_byte_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
