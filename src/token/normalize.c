/*
 * Normalization: one spelling per identifier, so that equal values written
 * differently get equal tokens.
 *
 *   all    percent-escapes decoded first (lsl_pct_decode): "john%40x.org"
 *          and "john@x.org" are one value; then wide forms folded
 *          (lsl_wide_fold): "０９０－１２３４－５６７８" is "090-1234-5678".
 *   ip     IPv4 (octets may be zero-padded, read as decimal) -> dotted quad;
 *          IPv4-mapped IPv6 -> dotted quad; other IPv6 -> RFC 5952 text;
 *          a zone id ("%eth0") is kept, unchanged, after the address;
 *          a dashed quad (1-2-3-4, from a host name) and the other forms
 *          inet_aton reads with four parts or as one number of 32 bits
 *          (0xC0A80001, 0300.0250.0.1, 3232235521) -> dotted quad.
 *   id     UUID-shaped (8-4-4-4-12 hex) -> lower case; 32 hex digits ->
 *          the same UUID text; MAC addresses (aa:bb:.., aa-bb-.., aabb.ccdd.
 *          eeff) -> lower case with ':'; other hex of 16 digits or more ->
 *          lower case; an IMEI written in groups (35-209900-176148-1) ->
 *          its digits.
 *   email  ASCII lower case; "(at)" and "[dot]" folded to '@' and '.'
 *          (lsl_atdot_fold: "bob (at) example [dot] com").
 *   secret a payment card number written in groups (13 to 19 digits,
 *          one of ' ' '-' between groups, a valid Luhn digit) -> its
 *          digits, as the scrubber takes them (rules/card.c).
 *   phone  a number written with separators -> its digits; Japan's
 *          country code "+81" (and a "(0)" after it) -> the national
 *          number's leading 0: "090-1234-5678", "090 1234 5678",
 *          "(090)1234-5678" and "+81 (0)90-1234-5678" are "09012345678".
 *          Another country code keeps its '+' ("+1 555 0100" ->
 *          "+15550100"). Before this, phone numbers were hashed as written:
 *          lsl_token_normalize_legacy gives that spelling, which officer
 *          commands and the stop check try too.
 *
 * Anything else, and every value that does not parse, is copied unchanged
 * (after decoding). Invariant: the output is never longer than max(len,
 * LSL_NORM_SLACK); an address grows at most from "1::2:3:4:5:6:7" to
 * "1:0:2:3:4:5:6:7", a dashless UUID by its four dashes, a Cisco-style MAC
 * by three bytes. A decoded value is normalized in place in `out`, so
 * every step below may read the bytes it writes. This runs for every
 * occurrence (before the token cache), so it avoids snprintf and
 * allocations.
 */
#include <errno.h>
#include <string.h>
#include "ipaddr_internal.h"
#include "logseal/token.h"

/* Longest text that may still be an address with a zone id. */
#define IP_TEXT_MAX     128
#define UUID_LEN        36
#define MAC_TEXT_LEN    17
#define HEX_ID_MIN      16
#define IMEI_TEXT_MAX   24
#define CARD_DIGITS_MIN 13
#define CARD_DIGITS_MAX 19

static long copy_out(char *out, size_t cap, const char *s, size_t n)
{
    if (n > cap)
        return -ENOSPC;
    memmove(out, s, n);
    return (long)n;
}

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
           (ch >= 'A' && ch <= 'F');
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
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

/* A dashed quad "1-2-3-4" of decimal octets into a. */
static bool ip4_dashed(const char *v, size_t len, uint8_t a[4])
{
    char dotted[16];

    if (len >= sizeof(dotted) || !memchr(v, '-', len))
        return false;
    for (size_t i = 0; i < len; i++)
        dotted[i] = v[i] == '-' ? '.' : v[i];
    return lsl_ip4_parse(dotted, len, a);
}

/*
 * inet_aton's other spellings, where they are plainly an address: four
 * parts (0xC0.0xA8.0.1, 0300.0250.0.1) or one 32-bit number with a
 * non-zero first byte (3232235521, 0xC0A80001). "127.1", "1.2.3" or "42"
 * are left as written: they may be versions or counts, and reading them as
 * 127.0.0.1 or 0.0.0.42 would name an address the log never showed.
 */
static bool ip4_other(const char *v, size_t len, uint8_t a[4])
{
    size_t dots = 0;

    for (size_t i = 0; i < len; i++)
        dots += v[i] == '.';
    if (dots != 3 && dots != 0)
        return false;
    return lsl_ip4_parse_lenient(v, len, a) && (dots == 3 || a[0] != 0);
}

static long normalize_ip4(const char *v, size_t len, char *out, size_t cap)
{
    char text[LSL_IP6_TEXT_MAX];
    uint8_t a4[4];

    if (!lsl_ip4_parse(v, len, a4) && !ip4_dashed(v, len, a4) &&
        !ip4_other(v, len, a4))
        return copy_out(out, cap, v, len);
    return copy_out(out, cap, text, lsl_ip4_format(a4, text));
}

static long normalize_ip(const char *v, size_t len, char *out, size_t cap)
{
    char text[LSL_IP6_TEXT_MAX];
    const char *zone;
    size_t alen, n;

    if (len == 0 || len > IP_TEXT_MAX)
        return copy_out(out, cap, v, len);
    if (!memchr(v, ':', len))
        return normalize_ip4(v, len, out, cap);
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
    /* The zone first: v may be out itself. */
    memmove(out + n, v + alen, len - alen);
    memcpy(out, text, n);
    return (long)(n + len - alen);
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

static bool all_hex(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_hex(v[i]))
            return false;
    return true;
}

static long lower_out(const char *v, size_t len, char *out, size_t cap)
{
    if (len > cap)
        return -ENOSPC;
    for (size_t i = 0; i < len; i++)
        out[i] = lower(v[i]);
    return (long)len;
}

/* Twelve hex digits of a MAC address into hex[], or false. */
static bool mac_digits(const char *v, size_t len, char hex[12])
{
    size_t k = 0;

    if (len == MAC_TEXT_LEN) {
        char sep = v[2];

        if (sep != ':' && sep != '-')
            return false;
        for (size_t i = 0; i < len; i++) {
            if (i % 3 == 2 ? v[i] != sep : !is_hex(v[i]))
                return false;
            if (i % 3 != 2)
                hex[k++] = v[i];
        }
        return true;
    }
    if (len != 14)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i % 5 == 4 ? v[i] != '.' : !is_hex(v[i]))
            return false;
        if (i % 5 != 4)
            hex[k++] = v[i];
    }
    return true;
}

/* hex[] written as lower-case groups of `group` digits joined by sep. */
static long grouped_out(const char *hex, const size_t *groups, size_t n,
                        char sep, char *out, size_t cap)
{
    char text[UUID_LEN];
    size_t at = 0, h = 0;

    for (size_t g = 0; g < n; g++) {
        if (g > 0)
            text[at++] = sep;
        for (size_t i = 0; i < groups[g]; i++)
            text[at++] = lower(hex[h++]);
    }
    return copy_out(out, cap, text, at);
}

/* Digits of an IMEI or IMEISV written in groups, into d[]; their count. */
static size_t imei_digits(const char *v, size_t len, char d[IMEI_TEXT_MAX])
{
    size_t n = 0;

    if (len > IMEI_TEXT_MAX || !is_digit(v[0]) || !is_digit(v[len - 1]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (is_digit(v[i]))
            d[n++] = v[i];
        else if ((v[i] != '-' && v[i] != ' ') || !is_digit(v[i + 1]))
            return 0;
    }
    return n == len ? 0 : n;
}

static long normalize_id(const char *v, size_t len, char *out, size_t cap)
{
    static const size_t uuid_groups[] = {8, 4, 4, 4, 12};
    static const size_t mac_groups[] = {2, 2, 2, 2, 2, 2};
    char d[IMEI_TEXT_MAX];
    size_t n;

    if (is_uuid(v, len))
        return lower_out(v, len, out, cap);
    if (len == 32 && all_hex(v, len))
        return grouped_out(v, uuid_groups, 5, '-', out, cap);
    if (mac_digits(v, len, d))
        return grouped_out(d, mac_groups, 6, ':', out, cap);
    if (len >= HEX_ID_MIN && all_hex(v, len))
        return lower_out(v, len, out, cap);
    n = len ? imei_digits(v, len, d) : 0;
    if (n == 15 || n == 16)
        return copy_out(out, cap, d, n);
    return copy_out(out, cap, v, len);
}

/* Lower case, and the "(at)" and "[dot]" that hide an address folded
 * ("Bob (AT) example [dot] com" -> "bob@example.com"). */
static long normalize_email(const char *v, size_t len, char *out, size_t cap)
{
    long n = lower_out(v, len, out, cap);

    if (n > 0 && lsl_atdot_has(out, (size_t)n))
        n = (long)lsl_atdot_fold(out, (size_t)n, NULL);
    return n;
}

bool lsl_luhn_ok(const char *d, size_t n)
{
    unsigned sum = 0;

    for (size_t k = 0; k < n; k++) {
        unsigned v = (unsigned)(d[n - 1 - k] - '0');

        if (k % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* A card number in groups -> its digits; anything else as it is. */
static long normalize_secret(const char *v, size_t len, char *out, size_t cap)
{
    char d[CARD_DIGITS_MAX];
    size_t n = 0;
    char sep = 0;

    if (len == 0 || !is_digit(v[0]) || !is_digit(v[len - 1]))
        return copy_out(out, cap, v, len);
    for (size_t i = 0; i < len; i++) {
        if (is_digit(v[i]) && n < sizeof(d)) {
            d[n++] = v[i];
        } else if (is_digit(v[i]) || (v[i] != ' ' && v[i] != '-') ||
                   (sep && v[i] != sep) || !is_digit(v[i + 1])) {
            return copy_out(out, cap, v, len);
        } else {
            sep = v[i];
        }
    }
    if (!sep || n < CARD_DIGITS_MIN || !lsl_luhn_ok(d, n))
        return copy_out(out, cap, v, len);
    return copy_out(out, cap, d, n);
}

/* The separators phone numbers are written with, after an optional '+'. */
static bool phone_text(const char *v, size_t len)
{
    if (len == 0 || !is_digit(v[len - 1]))
        return false;
    for (size_t i = v[0] == '+'; i < len; i++)
        if (!is_digit(v[i]) && !memchr("-. ()", v[i], 5))
            return false;
    return true;
}

/* A phone number's digits (see the top). In place: out[n] is written
 * only after v[i], i >= n, was read. */
static long normalize_phone(const char *v, size_t len, char *out, size_t cap)
{
    bool plus = len > 0 && v[0] == '+';
    size_t n = 0, skip;

    if (!phone_text(v, len))
        return copy_out(out, cap, v, len);
    if (len > cap)
        return -ENOSPC;
    if (plus)
        out[n++] = '+';
    for (size_t i = plus; i < len; i++)
        if (is_digit(v[i]))
            out[n++] = v[i];
    if (!plus || n < 3 || out[1] != '8' || out[2] != '1')
        return (long)n;
    /* "+81" and a trunk "0" written after it ("+81 (0)90") -> "0". */
    skip = 3 + (n > 3 && out[3] == '0');
    out[0] = '0';
    memmove(out + 1, out + skip, n - skip);
    return (long)(n - skip + 1);
}

static long normalize(enum lsl_class c, const char *v, size_t len, char *out,
                      size_t cap, bool phone_digits)
{
    if (lsl_pct_has_escape(v, len) || lsl_wide_has(v, len)) {
        if (len > cap)
            return -ENOSPC;
        len = lsl_pct_decode(v, len, out, NULL);
        len = lsl_wide_fold(out, len, NULL);
        v = out;
    }
    switch (c) {
    case LSL_CLASS_IP:
        return normalize_ip(v, len, out, cap);
    case LSL_CLASS_ID:
        return normalize_id(v, len, out, cap);
    case LSL_CLASS_EMAIL:
        return normalize_email(v, len, out, cap);
    case LSL_CLASS_SECRET:
        return normalize_secret(v, len, out, cap);
    case LSL_CLASS_PHONE:
        if (phone_digits)
            return normalize_phone(v, len, out, cap);
        return copy_out(out, cap, v, len);
    default:
        return copy_out(out, cap, v, len);
    }
}

long lsl_token_normalize(enum lsl_class c, const char *v, size_t len, char *out,
                         size_t cap)
{
    return normalize(c, v, len, out, cap, true);
}

long lsl_token_normalize_legacy(enum lsl_class c, const char *v, size_t len,
                                char *out, size_t cap)
{
    return normalize(c, v, len, out, cap, false);
}
