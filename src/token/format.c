/*
 * Printed tokens: "<class>_" + kid (2 base32 chars, 10 bits, high bits
 * first) + body (24 base32 chars of the 15 hash bytes, big-endian bit
 * order, as RFC 4648 without padding). The alphabet is RFC 4648 in lower
 * case, a-z2-7, so a token is one word for grep, awk and URL paths.
 *
 * The erased marker (kid LSL_TOKEN_KID_ERASED) prints as "<class>_erased",
 * which no parse or scan takes for a token.
 *
 * lsl_token_scan runs over whole output files: it jumps between '_' bytes
 * with memchr and only then looks at the bytes around each one.
 */
#include <errno.h>
#include <string.h>
#include "ipaddr_internal.h"
#include "logseal/token.h"

#define B32_BITS   5
#define TOKEN_TAIL (LSL_TOKEN_KID_CHARS + LSL_TOKEN_BODY_CHARS)

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Value of a base32 char, or -1. */
static int b32_value(unsigned char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a';
    if (ch >= '2' && ch <= '7')
        return ch - '2' + 26;
    return -1;
}

static bool is_word(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9');
}

/* Written out rather than looped: this runs for every token written. */
static void b32_group(char *p, const uint8_t *h)
{
    uint64_t a = (uint64_t)h[0] << 32 | (uint64_t)h[1] << 24 |
                 (uint64_t)h[2] << 16 | (uint64_t)h[3] << 8 | h[4];

    p[0] = b32_alphabet[a >> 35 & 31];
    p[1] = b32_alphabet[a >> 30 & 31];
    p[2] = b32_alphabet[a >> 25 & 31];
    p[3] = b32_alphabet[a >> 20 & 31];
    p[4] = b32_alphabet[a >> 15 & 31];
    p[5] = b32_alphabet[a >> 10 & 31];
    p[6] = b32_alphabet[a >> 5 & 31];
    p[7] = b32_alphabet[a & 31];
}

_Static_assert(LSL_TOKEN_HASH_BYTES % 5 == 0,
               "the hash is written in 40-bit groups");

size_t lsl_token_format(const struct lsl_token *t, char out[LSL_TOKEN_TEXT_MAX])
{
    const char *name = lsl_class_name((enum lsl_class)t->cls);
    size_t n = strlen(name);
    char *p = out + n;

    memcpy(out, name, n);
    *p++ = '_';
    if (t->kid == LSL_TOKEN_KID_ERASED) {
        memcpy(p, "erased", sizeof("erased"));
        return n + 1 + sizeof("erased") - 1;
    }
    *p++ = b32_alphabet[(t->kid >> B32_BITS) & 31];
    *p++ = b32_alphabet[t->kid & 31];
    /* Five bytes are eight characters: one 40-bit group at a time. */
    for (size_t i = 0; i < LSL_TOKEN_HASH_BYTES; i += 5, p += 8)
        b32_group(p, t->hash + i);
    *p = '\0';
    return (size_t)(p - out);
}

/* Decode the 26 chars after '_'; false on a char outside the alphabet. */
static bool decode_tail(const char *s, struct lsl_token *t)
{
    uint64_t acc = 0;
    int bits = 0, hi, lo;
    size_t o = 0;

    hi = b32_value((unsigned char)s[0]);
    lo = b32_value((unsigned char)s[1]);
    if (hi < 0 || lo < 0)
        return false;
    t->kid = (uint16_t)(hi << B32_BITS | lo);
    for (size_t i = LSL_TOKEN_KID_CHARS; i < TOKEN_TAIL; i++) {
        int v = b32_value((unsigned char)s[i]);

        if (v < 0)
            return false;
        acc = acc << B32_BITS | (unsigned)v;
        bits += B32_BITS;
        if (bits >= 8) {
            bits -= 8;
            t->hash[o++] = (uint8_t)(acc >> bits);
        }
    }
    return true;
}

int lsl_token_parse(const char *s, size_t len, struct lsl_token *out)
{
    const char *us;
    enum lsl_class c;
    struct lsl_token t;
    size_t nlen;

    if (len < TOKEN_TAIL + 2)
        return -EINVAL;
    nlen = len - TOKEN_TAIL - 1;
    us = s + nlen;
    if (*us != '_' || lsl_class_parse(s, nlen, &c) != 0)
        return -EINVAL;
    if (!decode_tail(us + 1, &t))
        return -EINVAL;
    t.cls = (uint8_t)c;
    *out = t;
    return 0;
}

/* Length of the class name ending at s[u] ('_'), or 0. */
static size_t class_before(const char *s, size_t u)
{
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        const char *name = lsl_class_name((enum lsl_class)c);
        size_t n = strlen(name);

        if (n > u || memcmp(s + u - n, name, n) != 0)
            continue;
        /* No class name is a suffix of another, so the first fits. */
        if (n == u ||
            (!is_word((unsigned char)s[u - n - 1]) && s[u - n - 1] != '_'))
            return n;
        return 0;
    }
    return 0;
}

static bool tail_at(const char *s, size_t len, size_t u)
{
    if (len - u - 1 < TOKEN_TAIL)
        return false;
    for (size_t i = u + 1; i <= u + TOKEN_TAIL; i++) {
        if (b32_value((unsigned char)s[i]) < 0)
            return false;
    }
    return u + 1 + TOKEN_TAIL == len ||
           !is_word((unsigned char)s[u + 1 + TOKEN_TAIL]);
}

bool lsl_token_scan(const char *s, size_t len, size_t *pos, size_t *tlen)
{
    size_t at = *pos;

    while (at < len) {
        const char *us = memchr(s + at, '_', len - at);
        size_t u, n;

        if (!us)
            return false;
        u = (size_t)(us - s);
        at = u + 1;
        /* A class name must fit between *pos and the '_'. */
        if (u - *pos < 2 || !tail_at(s, len, u))
            continue;
        n = class_before(s, u);
        if (n == 0 || u - n < *pos)
            continue;
        *pos = u - n;
        *tlen = n + 1 + TOKEN_TAIL;
        return true;
    }
    return false;
}

bool lsl_token_equal(const struct lsl_token *a, const struct lsl_token *b)
{
    return a->cls == b->cls && a->kid == b->kid &&
           memcmp(a->hash, b->hash, LSL_TOKEN_HASH_BYTES) == 0;
}

bool lsl_token_is_erased(const struct lsl_token *t)
{
    return t->kid == LSL_TOKEN_KID_ERASED;
}

size_t lsl_token_format_ip6(const struct lsl_token *t, char out[48])
{
    uint8_t a[16];

    a[0] = 0xfd;
    memcpy(a + 1, t->hash, LSL_TOKEN_HASH_BYTES);
    return lsl_ip6_format(a, out);
}

static bool is_addr_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F') || c == ':';
}

/* An ip6-mode address starting at s[i] ("fd" or "FD"), as a token. */
static bool ip6_at(const char *s, size_t len, size_t i, size_t *tlen,
                   struct lsl_token *t)
{
    uint8_t a[16];
    size_t e = i;

    if (i > 0 && (is_word((unsigned char)s[i - 1]) || s[i - 1] == ':' ||
                  s[i - 1] == '.'))
        return false;
    while (e < len && e - i <= LSL_IP6_TEXT_MAX &&
           is_addr_char((unsigned char)s[e]))
        e++;
    if (e - i > LSL_IP6_TEXT_MAX ||
        (e < len && (is_word((unsigned char)s[e]) || s[e] == '.')) ||
        !lsl_ip6_parse(s + i, e - i, a) || a[0] != 0xfd)
        return false;
    t->cls = LSL_CLASS_IP;
    t->kid = LSL_TOKEN_KID_IP6;
    memcpy(t->hash, a + 1, LSL_TOKEN_HASH_BYTES);
    *tlen = e - i;
    return true;
}

bool lsl_token_scan_any(const char *s, size_t len, size_t *pos, size_t *tlen,
                        struct lsl_token *t)
{
    size_t tp = *pos, tl = 0;
    bool tok = lsl_token_scan(s, len, &tp, &tl);
    size_t end = tok ? tp : len;

    for (size_t i = *pos; i + 1 < end; i++) {
        if ((s[i] | 0x20) != 'f' || (s[i + 1] | 0x20) != 'd')
            continue;
        if (ip6_at(s, len, i, tlen, t)) {
            *pos = i;
            return true;
        }
    }
    if (!tok || lsl_token_parse(s + tp, tl, t) != 0) {
        if (tok) { /* a token-shaped word that does not parse: go on */
            *pos = tp + tl;
            return lsl_token_scan_any(s, len, pos, tlen, t);
        }
        return false;
    }
    *pos = tp;
    *tlen = tl;
    return true;
}
