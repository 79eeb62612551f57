/*
 * Labels written before a value in Japanese chat and forms, for the text
 * reader (text.c): "パスワード：hunter2", "会員番号=12345678", "本名:
 * 山田太郎". Japanese has no blanks between words, so a label is taken at the
 * end of the text before the separator ("私のパスワードは：" is not one, "私の
 * パスワード：" is); the separator is ':' or '=', in ASCII or fullwidth
 * ('：' '＝'), one blank allowed before it. The value runs from the first
 * byte after the separator and its blanks (ASCII or ideographic) to a
 * blank, ASCII or Japanese punctuation, or the end.
 */
#include <string.h>
#include "rules_internal.h"

struct ja_label {
    const char *text;
    uint8_t cls;
};

static const struct ja_label labels[] = {
    {"パスワード", LSL_CLASS_SECRET}, {"暗証番号", LSL_CLASS_SECRET},
    {"ユーザーID", LSL_CLASS_USER},   {"ユーザID", LSL_CLASS_USER},
    {"ユーザーＩＤ", LSL_CLASS_USER}, {"ログインID", LSL_CLASS_USER},
    {"ログインＩＤ", LSL_CLASS_USER}, {"会員番号", LSL_CLASS_USER},
    {"会員ID", LSL_CLASS_USER},       {"会員ＩＤ", LSL_CLASS_USER},
    {"本名", LSL_CLASS_NAME},         {"氏名", LSL_CLASS_NAME},
};

/* "：" and "＝" are U+FF1A and U+FF1D. */
size_t lsl_sep_len(const char *s, size_t i, size_t hi)
{
    if (s[i] == ':' || s[i] == '=')
        return 1;
    if (hi - i >= 3 && (unsigned char)s[i] == 0xEF &&
        (unsigned char)s[i + 1] == 0xBC &&
        ((unsigned char)s[i + 2] == 0x9A || (unsigned char)s[i + 2] == 0x9D))
        return 3;
    return 0;
}

bool lsl_ja_sep_in(const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    while ((p = memchr(p, 0xEF, (size_t)(end - p))) != NULL) {
        if (lsl_sep_len(p, 0, (size_t)(end - p)) == 3)
            return true;
        p++;
    }
    return false;
}

/* An ideographic space (U+3000) or Japanese punctuation that ends a
 * value: 、 。 「 」 (U+3001, U+3002, U+300C, U+300D); its length or 0. */
static size_t ja_stop(const char *s, size_t j, size_t hi)
{
    unsigned char c = hi - j >= 3 ? (unsigned char)s[j + 2] : 0;

    if (hi - j < 3 || (unsigned char)s[j] != 0xE3 ||
        (unsigned char)s[j + 1] != 0x80)
        return 0;
    return c == 0x80 || c == 0x81 || c == 0x82 || c == 0x8C || c == 0x8D ? 3
                                                                         : 0;
}

static bool ascii_stop(char c)
{
    return c != '\0' && strchr(" \t,;&\"')]}>", c) != NULL;
}

static const struct ja_label *label_before(const char *s, size_t lo, size_t e)
{
    if (!lsl_ja_label_possible(s, lo, e))
        return NULL;
    if (s[e - 1] == ' ')
        e--;
    for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
        size_t n = strlen(labels[k].text);

        if (e - lo >= n && memcmp(s + e - n, labels[k].text, n) == 0)
            return &labels[k];
    }
    return NULL;
}

/* What may stand between the separator and the value: a blank, an
 * ideographic space, an opening 「 (U+300C). */
static size_t lead_len(const char *s, size_t j, size_t hi)
{
    if (s[j] == ' ')
        return 1;
    if (hi - j >= 3 && (memcmp(s + j, "\xE3\x80\x80", 3) == 0 ||
                        memcmp(s + j, "\xE3\x80\x8C", 3) == 0))
        return 3;
    return 0;
}

bool lsl_ja_label_at(const char *s, size_t lo, size_t sep, size_t hi,
                     size_t *vs, size_t *ve, uint8_t *cls)
{
    size_t n = lsl_sep_len(s, sep, hi), j, st, b;
    const struct ja_label *l = n ? label_before(s, lo, sep) : NULL;

    if (!l)
        return false;
    for (j = sep + n; j < hi && (b = lead_len(s, j, hi)) != 0;)
        j += b;
    for (st = j; j < hi && !ascii_stop(s[j]) && !ja_stop(s, j, hi);)
        j++;
    *vs = st;
    *ve = j;
    *cls = l->cls;
    return j > st;
}
