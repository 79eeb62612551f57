/*
 * Percent-decoding (RFC 3986 section 2.1), the one decoder that both the
 * rules (which look at decoded text to find identifiers) and the token
 * module (which normalizes a value before hashing it) use, so that a value
 * gets one token whatever its spelling: "john%40example.com" and
 * "john@example.com" are one subject for unseal, disclose and erase.
 *
 * Choices: "%XX" with two hex digits of either case is one byte; any other
 * '%' is kept as it is; '+' is kept (it means a blank only in form-encoded
 * bodies, and e-mail addresses and base64 hold it). Text encoded more than
 * once ("%2540" for "@", "%252540") is decoded until no escape is left:
 * the result has none, so decoding is idempotent and normalization with
 * it too. Replacing "%XX" by its byte is a rewriting that cannot overlap
 * itself ('%' is no hex digit), so every order of replacements ends in the
 * same text; this one works as a stack: each byte is pushed, and while the
 * last three pushed form an escape they are replaced by their byte. Each
 * replacement shortens the output, so crafted text ("%25252525...") costs
 * linear time. The output is never longer than the input read so far,
 * which is what lets it overwrite the input.
 */
#include <string.h>
#include "hex_internal.h"
#include "logseal/token.h"

static bool escape_at(const char *s, size_t len, size_t i)
{
    return s[i] == '%' && i + 2 < len &&
           lsl_hexval((unsigned char)s[i + 1]) >= 0 &&
           lsl_hexval((unsigned char)s[i + 2]) >= 0;
}

bool lsl_pct_has_escape(const char *s, size_t len)
{
    const char *p = s, *end = s + len;

    while ((p = memchr(p, '%', (size_t)(end - p))) != NULL) {
        if (escape_at(s, len, (size_t)(p - s)))
            return true;
        p++;
    }
    return false;
}

size_t lsl_pct_decode(const char *s, size_t len, char *out, uint32_t *map)
{
    size_t k = 0;

    for (size_t i = 0; i < len; i++) {
        out[k] = s[i];
        if (map)
            map[k] = (uint32_t)i;
        k++;
        /* The byte may complete an escape, whose byte may complete one
         * before it ("%2%35" -> "%25" -> "%"). */
        while (k >= 3 && out[k - 3] == '%' &&
               lsl_hexval((unsigned char)out[k - 2]) >= 0 &&
               lsl_hexval((unsigned char)out[k - 1]) >= 0) {
            out[k - 3] = (char)(lsl_hexval((unsigned char)out[k - 2]) << 4 |
                                lsl_hexval((unsigned char)out[k - 1]));
            k -= 2;
        }
    }
    if (map)
        map[k] = (uint32_t)len;
    return k;
}
