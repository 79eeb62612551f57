/*
 * JSON string escapes (RFC 8259 section 7) read as the characters they
 * stand for. Encoders that keep output ASCII (Python's json.dumps and PHP's
 * json_encode by default) write every character beyond ASCII as \uXXXX:
 * a phone number typed with a Japanese input method reaches the log as
 * "\uff10\uff19\uff10\u30fc...", and a user name as "\u6e21\u8fba". The
 * scrubber reads such text unescaped to find identifiers in it, and a
 * value's token is made from the unescaped text, so "\u6e21\u8fba" and
 * the officer's subject "渡辺" are one token (one subject for disclose and
 * erase).
 *
 * Choices: a surrogate pair is one character (4 bytes of UTF-8); a
 * control character (\n, \t, \u0000-\u001f, \u007f) and a lone surrogate
 * cannot be part of an identifier and are either kept as written (a
 * value: "a\nb" and "a b" must stay two values) or read as a blank (text
 * read for identifiers, where they separate words). A backslash that
 * starts no valid escape is an ordinary byte. Each escape is read once:
 * "\u005cu0041" is the text "\u0041", not "A".
 */
#include "hex_internal.h"
#include "logseal/token.h"

/* The code unit of "\uXXXX" at s[i], or -1. */
static long unit_at(const char *s, size_t len, size_t i)
{
    long v = 0;

    if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u')
        return -1;
    for (size_t k = i + 2; k < i + 6; k++) {
        int h = lsl_hexval((unsigned char)s[k]);

        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * The escape at s[i] (s[i] == '\\'): its length in s (0: none) and the
 * character it stands for in *cp, or -1 for one that is no part of an
 * identifier (a control character, a lone surrogate).
 */
static size_t escape_at(const char *s, size_t len, size_t i, long *cp)
{
    static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    long hi, lo;

    if (i + 1 >= len)
        return 0;
    for (size_t k = 0; simple[k]; k += 2)
        if (s[i + 1] == simple[k]) {
            *cp = (unsigned char)simple[k + 1] < 0x20 ? -1 : simple[k + 1];
            return 2;
        }
    hi = unit_at(s, len, i);
    if (hi < 0)
        return 0;
    *cp = hi < 0x20 || hi == 0x7F ? -1 : hi;
    if (hi < 0xD800 || hi > 0xDFFF)
        return 6;
    lo = unit_at(s, len, i + 6);
    if (hi > 0xDBFF || lo < 0xDC00 || lo > 0xDFFF) {
        *cp = -1;
        return 6;
    }
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 12;
}

size_t lsl_json_unescape(const char *s, size_t len, char *out, uint32_t *map,
                         enum lsl_json_ctl ctl)
{
    size_t k = 0, i = 0;

    while (i < len) {
        long cp = 0;
        size_t n = s[i] == '\\' ? escape_at(s, len, i, &cp) : 0;
        size_t w;

        if (n == 0 || (cp < 0 && ctl == LSL_JSON_CTL_KEEP)) {
            n = n ? n : 1;
            for (size_t j = 0; j < n; j++) {
                if (map)
                    map[k] = (uint32_t)(i + j);
                out[k++] = s[i + j];
            }
            i += n;
            continue;
        }
        w = cp < 0 ? put_utf8(out + k, ' ')
                   : put_utf8(out + k, (unsigned long)cp);
        for (size_t j = 0; map && j < w; j++)
            map[k + j] = (uint32_t)i;
        k += w;
        i += n;
    }
    if (map)
        map[k] = (uint32_t)len;
    return k;
}
