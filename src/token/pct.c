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
 * once ("%2540" for "@") is decoded again while a round still changes
 * something, at most LSL_PCT_ROUNDS rounds: a bound, so crafted text such as
 * "%25252525..." costs linear time. Decoding never lengthens text, which is
 * what lets later rounds work in place.
 */
#include <string.h>
#include "logseal/token.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool escape_at(const char *s, size_t len, size_t i)
{
    return s[i] == '%' && i + 2 < len && hexval((unsigned char)s[i + 1]) >= 0 &&
           hexval((unsigned char)s[i + 2]) >= 0;
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

/*
 * One round from in[0..len) to out (out <= in, or disjoint). With map,
 * map[0..len] holds where each input byte began in the original text;
 * it is rewritten for the output bytes (in place: output byte k comes
 * from input byte j >= k, read before it is overwritten).
 */
static size_t round_once(const char *in, size_t len, char *out, uint32_t *map,
                         bool *changed)
{
    size_t i = 0, k = 0;

    *changed = false;
    while (i < len) {
        if (escape_at(in, len, i)) {
            unsigned char b =
                (unsigned char)(hexval((unsigned char)in[i + 1]) << 4 |
                                hexval((unsigned char)in[i + 2]));

            if (map)
                map[k] = map[i];
            out[k++] = (char)b;
            i += 3;
            *changed = true;
            continue;
        }
        if (map)
            map[k] = map[i];
        out[k++] = in[i++];
    }
    if (map)
        map[k] = map[len];
    return k;
}

size_t lsl_pct_decode(const char *s, size_t len, char *out, uint32_t *map)
{
    const char *in = s;
    size_t n = len;
    bool changed = true;

    if (map) {
        for (size_t i = 0; i <= len; i++)
            map[i] = (uint32_t)i;
    }
    /* The first round reads s, the later ones rewrite out in place. */
    for (unsigned r = 0; r < LSL_PCT_ROUNDS && changed; r++) {
        n = round_once(in, n, out, map, &changed);
        in = out;
    }
    return n;
}
