/*
 * Folding of the wide forms Japanese input methods type: the fullwidth
 * ASCII block (U+FF01..U+FF5E: "０９０－１２３４", "bob＠example．com"),
 * the ideographic space and full stop, and the dashes written in phone
 * numbers (ー U+30FC, ｰ U+FF70, ‐ U+2010..— U+2014, − U+2212). Each
 * becomes the ASCII byte it stands for, so the scrubber finds an
 * identifier however it was typed, and the token's normalization gives it
 * the token of its ASCII spelling (one subject for disclose and erase).
 *
 * Choices: only forms that stand for ASCII fold (NFKC of the fullwidth
 * block, plus the dashes and full stop users type in numbers). Folding
 * never makes a percent escape: '％' (U+FF05) does not fold, nor does a
 * wide hex digit that would complete "%X" ("%２５" stays). So text that
 * was decoded (it holds no escape) and folded is left as it is by a
 * second decoding and folding: "decode, then fold" is one idempotent
 * reading, which rules and tokens both use.
 * Every folded form is 3 bytes of UTF-8 and becomes 1, so the text only
 * shrinks and folds in place.
 */
#include <string.h>
#include "logseal/token.h"

#define HIGH_BITS 0x8080808080808080ULL

/* The ASCII byte the 3-byte sequence at s[i] stands for, or -1. */
static int folded_at(const unsigned char *s, size_t len, size_t i)
{
    unsigned a, b, c;

    if (i + 2 >= len)
        return -1;
    a = s[i], b = s[i + 1], c = s[i + 2];
    if (a == 0xEF && b == 0xBC && c >= 0x81 && c <= 0xBF && c != 0x85)
        return (int)(c - 0x81 + '!'); /* U+FF01..U+FF3F but '％' */
    if (a == 0xEF && b == 0xBD && c >= 0x80 && c <= 0x9E)
        return (int)(c - 0x80 + '`'); /* U+FF40..U+FF5E */
    if (a == 0xEF && b == 0xBD)
        return c == 0xB0 ? '-' : c == 0xA1 ? '.' : -1; /* ｰ ｡ */
    if (a == 0xE3 && b == 0x80)
        return c == 0x80 ? ' ' : c == 0x82 ? '.' : -1; /* U+3000 。 */
    if (a == 0xE3 && b == 0x83 && c == 0xBC)
        return '-'; /* ー */
    if (a == 0xE2 && b == 0x80 && c >= 0x90 && c <= 0x94)
        return '-'; /* ‐ ‑ ‒ – — */
    return a == 0xE2 && b == 0x88 && c == 0x92 ? '-' : -1; /* − */
}

int lsl_wide_char(const char *s, size_t len, size_t i)
{
    return folded_at((const unsigned char *)s, len, i);
}

bool lsl_wide_has(const char *s, size_t len)
{
    size_t i = 0;
    uint64_t w;

    /* Most text is ASCII: eight bytes at a time until one is not. */
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        if (w & HIGH_BITS)
            break;
    }
    for (; i < len; i++) {
        if ((unsigned char)s[i] >= 0xE2 && lsl_wide_char(s, len, i) >= 0)
            return true;
    }
    return false;
}

static bool is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* Folding c after out[0..k) would complete a percent escape. */
static bool makes_escape(const char *out, size_t k, int c)
{
    return is_hex(c) && k >= 1 &&
           (out[k - 1] == '%' ||
            (k >= 2 && out[k - 2] == '%' && is_hex(out[k - 1])));
}

size_t lsl_wide_fold(char *s, size_t len, uint32_t *map)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;

    for (size_t i = 0; i < len; k++) {
        int c = u[i] >= 0xE2 ? folded_at(u, len, i) : -1;

        if (c >= 0 && makes_escape(s, k, c))
            c = -1;
        if (map)
            map[k] = map[i];
        s[k] = c >= 0 ? (char)c : s[i];
        i += c >= 0 ? 3 : 1;
    }
    if (map)
        map[k] = map[len];
    return k;
}
