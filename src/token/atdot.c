/*
 * The spellings of '@' and '.' people write to hide an e-mail address
 * from harvesting bots, which chat messages are full of:
 * "bob(at)example.com", "bob [at] example [dot] com", "bob{at}example.com",
 * "bob<AT>example.com", and as Japanese posts write it, "bob★example.com"
 * ("put @ for ★") and "bobアットマークexample.com". Folding them lets the
 * scrubber find the address, and the e-mail token's normalization gives
 * it the token of "bob@example.com".
 *
 * Choices: a word in brackets ((), [], {}, <>) is a form, "at" for '@'
 * and "dot" for '.', letter case ignored, and so are ★, ☆ and
 * "アットマーク" for '@'; one blank on each side goes with a form. A form
 * is read anywhere, but only an address around it makes a span. Bare
 * words ("bob at example dot com") are left: "at" and "dot" are words of
 * every English sentence. The defanged "[@]" and "[.]" are left too:
 * "((at))" would fold to "(@)", a form again, and the reading must be
 * idempotent. Folding runs after percent-decoding and wide folding
 * ("（ａｔ）" is a form too); it makes no letter and no bracket, so no new
 * form, and no escape or wide form.
 */
#include <string.h>
#include "logseal/token.h"

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char closing(char c)
{
    switch (c) {
    case '(':
        return ')';
    case '[':
        return ']';
    case '{':
        return '}';
    case '<':
        return '>';
    default:
        return 0;
    }
}

/* "アットマーク" after its "ア", as UTF-8, and with its 'ー' folded to
 * '-' (as it is once wide forms are). */
#define KATA_REST   "\xe3\x83\x83\xe3\x83\x88\xe3\x83\x9e\xe3\x83\xbc\xe3\x82\xaf"
#define KATA_REST_F "\xe3\x83\x83\xe3\x83\x88\xe3\x83\x9e-\xe3\x82\xaf"

/* ★ or ☆ (U+2605, U+2606), or the katakana word for '@', at s[i]
 * (a lead byte 0xE2 or 0xE3). Japanese text has one such lead byte per
 * character, so the first bytes decide at once. */
static char glyph_at(const char *s, size_t len, size_t i, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s + i;
    size_t left = len - i;

    if (left < 3)
        return 0;
    if (u[0] == 0xE2 && u[1] == 0x98 && (u[2] == 0x85 || u[2] == 0x86)) {
        *n = 3;
        return '@';
    }
    if (u[0] != 0xE3 || u[1] != 0x82 || u[2] != 0xA2)
        return 0;
    if (left >= 18 && memcmp(u + 3, KATA_REST, 15) == 0) {
        *n = 18;
        return '@';
    }
    if (left >= 16 && memcmp(u + 3, KATA_REST_F, 13) == 0) {
        *n = 16;
        return '@';
    }
    return 0;
}

/* The byte the form at s[i] stands for, and its length in *n; 0 if it
 * is none. */
static char word_at(const char *s, size_t len, size_t i, size_t *n)
{
    char close = closing(s[i]);
    size_t k = i + 1;

    if ((unsigned char)s[i] == 0xE2 || (unsigned char)s[i] == 0xE3)
        return glyph_at(s, len, i, n);
    if (!close)
        return 0;
    if (k + 2 < len && lower(s[k]) == 'a' && lower(s[k + 1]) == 't' &&
        s[k + 2] == close) {
        *n = 4;
        return '@';
    }
    if (k + 3 < len && lower(s[k]) == 'd' && lower(s[k + 1]) == 'o' &&
        lower(s[k + 2]) == 't' && s[k + 3] == close) {
        *n = 5;
        return '.';
    }
    return 0;
}

bool lsl_atdot_at(const char *s, size_t len, size_t i)
{
    size_t n;

    return word_at(s, len, i, &n) == '@';
}

bool lsl_atdot_has(const char *s, size_t len)
{
    size_t n;

    for (size_t i = 0; i < len; i++)
        if ((closing(s[i]) || (unsigned char)s[i] >= 0xE2) &&
            word_at(s, len, i, &n))
            return true;
    return false;
}

size_t lsl_atdot_fold(char *s, size_t len, uint32_t *map)
{
    size_t k = 0, i = 0;

    while (i < len) {
        size_t n = 0;
        char c = word_at(s, len, i, &n);

        if (!c) {
            if (map)
                map[k] = map[i];
            s[k++] = s[i++];
            continue;
        }
        /* One blank before goes with the form: "bob (at) example". The
         * form then starts at the blank, so a span that ends before it
         * (URL userinfo before the '@') leaves the blank out. */
        if (k > 0 && s[k - 1] == ' ')
            k--;
        else if (map)
            map[k] = map[i];
        s[k++] = c;
        i += n;
        i += i < len && s[i] == ' ';
    }
    if (map)
        map[k] = map[len];
    return k;
}
