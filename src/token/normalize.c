/*
 * Normalization: one spelling per identifier, so that equal values written
 * differently get equal tokens.
 *
 *   ip     IPv4 (octets may be zero-padded, read as decimal) -> dotted quad;
 *          IPv4-mapped IPv6 -> dotted quad; other IPv6 -> RFC 5952 text;
 *          a zone id ("%eth0") is kept, unchanged, after the address.
 *   id     UUID-shaped (8-4-4-4-12 hex) -> lower case.
 *   email  ASCII lower case.
 *
 * Anything else, and every value that does not parse, is copied unchanged.
 * Invariant: the output is never longer than max(len, LSL_NORM_SLACK); an
 * address grows at most from "1::2:3:4:5:6:7" to "1:0:2:3:4:5:6:7".
 * This runs for every occurrence (before the token cache), so it avoids
 * snprintf and allocations.
 */
#include <errno.h>
#include <string.h>
#include "ipaddr_internal.h"
#include "logseal/token.h"

/* Longest text that may still be an address with a zone id. */
#define IP_TEXT_MAX  128
#define IP4_TEXT_MAX 16
#define UUID_LEN     36

static long copy_out(char *out, size_t cap, const char *s, size_t n)
{
    if (n > cap)
        return -ENOSPC;
    memcpy(out, s, n);
    return (long)n;
}

/* Canonical text of an address with ':' into text; 0 if not an address. */
static size_t canon_ip6(const char *v, size_t alen, char *text)
{
    uint8_t a[16];

    if (!lsl_ip6_parse(v, alen, a))
        return 0;
    if (lsl_ip6_is_v4_mapped(a))
        return lsl_ip4_format(a + 12, text);
    return lsl_ip6_format(a, text);
}

static long normalize_ip(const char *v, size_t len, char *out, size_t cap)
{
    char text[LSL_IP6_TEXT_MAX];
    const char *zone;
    size_t alen, n;
    uint8_t a4[4];

    if (len == 0 || len > IP_TEXT_MAX)
        return copy_out(out, cap, v, len);
    if (!memchr(v, ':', len)) {
        if (!lsl_ip4_parse(v, len, a4))
            return copy_out(out, cap, v, len);
        return copy_out(out, cap, text, lsl_ip4_format(a4, text));
    }
    zone = memchr(v, '%', len);
    alen = zone ? (size_t)(zone - v) : len;
    /* "fe80::1%" has no zone to keep: not an address. */
    if (zone && alen + 1 == len)
        return copy_out(out, cap, v, len);
    n = canon_ip6(v, alen, text);
    if (n == 0)
        return copy_out(out, cap, v, len);
    if (n + (len - alen) > cap)
        return -ENOSPC;
    memcpy(out, text, n);
    memcpy(out + n, v + alen, len - alen);
    return (long)(n + len - alen);
}

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
           (ch >= 'A' && ch <= 'F');
}

static bool is_uuid(const char *v, size_t len)
{
    if (len != UUID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? v[i] != '-' : !is_hex(v[i]))
            return false;
    }
    return true;
}

static long lower_out(const char *v, size_t len, char *out, size_t cap)
{
    if (len > cap)
        return -ENOSPC;
    for (size_t i = 0; i < len; i++) {
        char ch = v[i];

        out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    return (long)len;
}

long lsl_token_normalize(enum lsl_class c, const char *v, size_t len, char *out,
                         size_t cap)
{
    switch (c) {
    case LSL_CLASS_IP:
        return normalize_ip(v, len, out, cap);
    case LSL_CLASS_ID:
        if (is_uuid(v, len))
            return lower_out(v, len, out, cap);
        return copy_out(out, cap, v, len);
    case LSL_CLASS_EMAIL:
        return lower_out(v, len, out, cap);
    default:
        return copy_out(out, cap, v, len);
    }
}
