/*
 * Address syntax shared by normalization, the ip6 token rendering and the
 * scrubber. The RFC 5952 formatter is ours rather than inet_ntop because
 * glibc writes ::0.2.0.3 for ::2:3, which is not the canonical text; the
 * unit tests pin both behaviours.
 */
#include <string.h>
#include "ipaddr_internal.h"
#include "logseal/token.h"

/*
 * What inet_pton(AF_INET) accepts: four decimal octets up to 255, no
 * leading zero. Inline, as every ip field of every line asks this.
 */
static bool ip4_strict(const char *s, size_t len, uint8_t a[4])
{
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        size_t start;
        unsigned v = 0;

        if (k > 0 && (i >= len || s[i++] != '.'))
            return false;
        for (start = i; i < len && i - start < 3 && s[i] >= '0' && s[i] <= '9';
             i++)
            v = v * 10 + (unsigned)(s[i] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return false;
        a[k] = (uint8_t)v;
    }
    return i == len;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Widen the groups written before the end: "::" stands for the zeros. */
static bool ip6_expand(uint8_t a[16], size_t n, long gap)
{
    if (gap < 0)
        return n == 16;
    if (n == 16)
        return false; /* "::" must stand for at least one group */
    memmove(a + 16 - (n - (size_t)gap), a + gap, n - (size_t)gap);
    memset(a + gap, 0, 16 - n);
    return true;
}

/*
 * What inet_pton(AF_INET6) accepts, without a NUL-terminated copy:
 * groups of 1-4 hex digits, one "::" at most, a dotted quad (strict, as
 * above) in place of the last two groups, no lone leading or trailing
 * colon. The unit tests compare it with inet_pton on random text.
 */
bool lsl_ip6_parse(const char *s, size_t len, uint8_t a[16])
{
    size_t i = 0, n = 0, tok = 0, digits = 0;
    unsigned val = 0;
    long gap = -1;

    if (len == 0 || (s[0] == ':' && (len < 2 || s[1] != ':')))
        return false;
    if (s[0] == ':')
        i = tok = 1;
    for (; i < len; i++) {
        int d = hex_value(s[i]);

        if (d >= 0) {
            if (digits++ == 4)
                return false;
            val = val << 4 | (unsigned)d;
            continue;
        }
        if (s[i] == '.') {
            if (n + 4 > 16 || !ip4_strict(s + tok, len - tok, a + n))
                return false;
            n += 4;
            digits = 0;
            break;
        }
        if (s[i] != ':')
            return false;
        tok = i + 1;
        if (digits == 0) {
            if (gap >= 0)
                return false;
            gap = (long)n;
            continue;
        }
        if (i + 1 == len || n + 2 > 16)
            return false;
        a[n++] = (uint8_t)(val >> 8);
        a[n++] = (uint8_t)val;
        digits = val = 0;
    }
    if (digits) {
        if (n + 2 > 16)
            return false;
        a[n++] = (uint8_t)(val >> 8);
        a[n++] = (uint8_t)val;
    }
    return ip6_expand(a, n, gap);
}

bool lsl_ip_valid(const char *s, size_t len)
{
    uint8_t a[16];

    if (len == 0)
        return false;
    if (!memchr(s, ':', len))
        return ip4_strict(s, len, a);
    return lsl_ip6_parse(s, len, a);
}

/* Dotted quad with 1-3 decimal digits per octet (leading zeros allowed). */
bool lsl_ip4_parse(const char *s, size_t len, uint8_t a[4])
{
    size_t i = 0;

    for (int k = 0; k < 4; k++) {
        unsigned v = 0, digits = 0;

        if (k > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        while (i < len && digits < 3 && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || v > 255)
            return false;
        a[k] = (uint8_t)v;
    }
    return i == len;
}

/* One part of an inet_aton address: decimal, 0x hex or 0 octal, at most
 * 32 bits. Advances *pos past it. */
static bool aton_part(const char *s, size_t len, size_t *pos, uint32_t *out)
{
    size_t i = *pos;
    unsigned base = 10;
    uint64_t v = 0;
    bool digits = false;

    if (i >= len || s[i] < '0' || s[i] > '9')
        return false;
    if (s[i] == '0') {
        digits = true;
        i++;
        base = 8;
        if (i < len && (s[i] == 'x' || s[i] == 'X')) {
            base = 16;
            digits = false;
            i++;
        }
    }
    for (; i < len && s[i] != '.'; i++) {
        int d = hex_value(s[i]);

        if (d < 0 || (unsigned)d >= base)
            return false;
        v = v * base + (unsigned)d;
        if (v > 0xffffffffu)
            return false;
        digits = true;
    }
    *pos = i;
    *out = (uint32_t)v;
    return digits;
}

bool lsl_ip4_parse_lenient(const char *s, size_t len, uint8_t a[4])
{
    static const uint32_t max[4] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
    size_t i = 0, n = 0;
    uint32_t v = 0;

    memset(a, 0, 4);
    for (;;) {
        if (!aton_part(s, len, &i, &v))
            return false;
        if (i == len)
            break;
        /* s[i] is '.': a part before another one is one byte. */
        if (n == 3 || v > 0xff)
            return false;
        a[n++] = (uint8_t)v;
        i++;
    }
    if (v > max[n])
        return false;
    /* The last part fills the bytes left, most significant first. */
    for (size_t k = 4; k-- > n; v >>= 8)
        a[k] = (uint8_t)v;
    return true;
}

size_t lsl_ip4_format(const uint8_t a[4], char *out)
{
    char *p = out;

    for (int k = 0; k < 4; k++) {
        unsigned v = a[k];

        if (k > 0)
            *p++ = '.';
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
    }
    return (size_t)(p - out);
}

bool lsl_ip6_is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static char *put_group(char *p, unsigned w)
{
    static const char hex[] = "0123456789abcdef";
    int shift = 12;

    while (shift > 0 && ((w >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = hex[(w >> shift) & 0xf];
    return p;
}

/* Start of the longest run of >= 2 zero groups (leftmost wins), or -1. */
static int longest_zero_run(const unsigned w[8], int *run_len)
{
    int best = -1, best_len = 1;

    for (int i = 0; i < 8;) {
        int j = i;

        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    *run_len = best_len;
    return best;
}

size_t lsl_ip6_format(const uint8_t a[16], char out[LSL_IP6_TEXT_MAX])
{
    unsigned w[8];
    int best, best_len;
    char *p = out;

    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    best = longest_zero_run(w, &best_len);
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            *p++ = ':';
        p = put_group(p, w[i]);
    }
    *p = '\0';
    return (size_t)(p - out);
}
