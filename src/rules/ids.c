/*
 * Matchers for device identifiers and secrets, called by the scrubber at
 * a word start (the byte before is not a letter or digit) once the byte
 * there and the run around it say the shape is possible (scrub.c keeps
 * those prefilters). Each reads only s[lo, hi) and is bounded, so the
 * scrubber stays linear.
 *
 *  - MAC addresses: six hex pairs joined by ':' or '-' (one separator
 *    throughout), or three hex quads joined by '.' (Cisco); not part of a
 *    longer run of such groups (EUI-64, IPv6 is tried before).
 *  - IMEI: 15 digits with a valid Luhn check digit, or 2-6-6-1 groups
 *    joined by '-' or ' '; after the word "imei" or "imeisv" (a label such
 *    as "IMEISV: ", "imei="), 14 to 16 digits without the check, which is
 *    how an IMEISV (16 digits, no check digit) is told from a timestamp.
 *    Never glued to letters or digits, nor a decimal (1.234..., ...,5).
 *  - JWT: "eyJ" (base64url of '{"') then three to five base64url parts
 *    joined by '.', the header of ten or more bytes (an unsecured token's
 *    empty last part and its '.' included), as class secret.
 *  - Authorization schemes: "Bearer" or "Basic" (any case), blanks or '+'
 *    (IIS writes blanks as '+'), then the credential: its bytes are the
 *    span (class secret), the scheme word is kept.
 *  - URL userinfo: after "://", the text up to the last '@' before the
 *    host: the user (class user, email if it holds an '@' once decoded)
 *    and the password after the first ':' (class secret), never one
 *    "e-mail" across both.
 *  - URL hosts spelled as inet_aton reads them (0xC0A80001, 3232235521,
 *    0300.0250.0.1, 0xC0.0xA8.0.1, 127.1): class ip. Only in a URL's host,
 *    where a browser would read them as an address; elsewhere such numbers
 *    are counts and error codes.
 *  - Opaque parameter values (lsl_opaque_value, for the query action):
 *    16 or more hex digits with letters and digits, or base64/base64url
 *    text whose letters and digits switch as often as random text does.
 */
#include <string.h>
#include "rules_internal.h"

#define USERINFO_MAX 256
#define HOST_MAX     64
#define KEYWORD_GAP  3
#define JWT_HEAD_MIN 10

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_hex(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_hex(v[i]))
            return false;
    return true;
}

static bool is_b64url(char c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Groups of `width` hex digits joined by sep, `groups` of them, from i. */
static bool hex_groups(const char *s, size_t hi, size_t i, size_t width,
                       size_t groups, char sep)
{
    size_t len = groups * (width + 1) - 1;

    if (hi - i < len)
        return false;
    for (size_t k = 0; k < len; k++) {
        bool at_sep = k % (width + 1) == width;

        if (at_sep ? s[i + k] != sep : !is_hex(s[i + k]))
            return false;
    }
    return true;
}

bool lsl_mac_at(const char *s, size_t lo, size_t hi, size_t i,
                struct lsl_hit *h)
{
    size_t end;
    char sep;

    if (hi - i >= 17 && (s[i + 2] == ':' || s[i + 2] == '-') &&
        hex_groups(s, hi, i, 2, 6, s[i + 2])) {
        sep = s[i + 2];
        end = i + 17;
    } else if (hi - i >= 14 && s[i + 4] == '.' &&
               hex_groups(s, hi, i, 4, 3, '.')) {
        sep = '.';
        end = i + 14;
    } else {
        return false;
    }
    /* One more group on either side makes it something else. */
    if (i >= lo + 2 && s[i - 1] == sep && is_alnum(s[i - 2]))
        return false;
    if (end < hi && (is_alnum(s[end]) ||
                     (s[end] == sep && end + 1 < hi && is_alnum(s[end + 1]))))
        return false;
    lsl_hit_set(h, i, end, LSL_CLASS_ID, 0);
    return true;
}

/* "imei" or "imeisv" (any case) ends just before the label's separators
 * (at most KEYWORD_GAP of ' ', ':', '=', '"', '\''). */
static bool imei_label(const char *s, size_t lo, size_t i)
{
    static const char *const words[] = {"imeisv", "imei"};
    size_t e = i, gap = 0;

    while (e > lo && gap < KEYWORD_GAP && s[e - 1] != '\0' &&
           strchr(" :=\"'", s[e - 1])) {
        e--;
        gap++;
    }
    if (gap == 0)
        return false;
    for (size_t w = 0; w < 2; w++) {
        size_t n = strlen(words[w]), k = 0;

        if (e - lo < n)
            continue;
        while (k < n && lower(s[e - n + k]) == words[w][k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

/* Digits from i: plain, or in 2-6-6-1(2) groups joined by '-' or ' '.
 * Copies them into d (at most 16); returns the end, or i. */
static size_t imei_digits(const char *s, size_t hi, size_t i, char d[17],
                          size_t *nd)
{
    static const size_t groups[] = {2, 6, 6};
    size_t j = i, n = 0;

    while (j < hi && is_digit(s[j]) && n < 17)
        d[n++] = s[j++];
    if (n == 2 && j < hi && (s[j] == '-' || s[j] == ' ')) {
        char sep = s[j];

        for (size_t g = 1; g < 4; g++) {
            size_t st;

            if (j >= hi || s[j] != sep)
                return i;
            for (st = ++j; j < hi && is_digit(s[j]) && n < 17;)
                d[n++] = s[j++];
            if (g < 3 ? j - st != groups[g] : (j - st < 1 || j - st > 2))
                return i;
        }
    }
    *nd = n;
    return j;
}

bool lsl_imei_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h)
{
    char d[17];
    size_t n = 0, end = imei_digits(s, hi, i, d, &n);

    if (end == i || n < 14 || n > 16 || !lsl_number_alone(s, lo, hi, i, end))
        return false;
    if (!(n == 15 && lsl_luhn_ok(d, n)) && !imei_label(s, lo, i))
        return false;
    lsl_hit_set(h, i, end, LSL_CLASS_ID, 0);
    return true;
}

bool lsl_jwt_at(const char *s, size_t lo, size_t hi, size_t i,
                struct lsl_hit *h)
{
    size_t j = i, parts = 0, last = 0, head = 0;

    (void)lo;
    if (hi - i < 3 || memcmp(s + i, "eyJ", 3) != 0)
        return false;
    for (;;) {
        size_t st = j;

        while (j < hi && is_b64url(s[j]))
            j++;
        last = j - st;
        if (parts++ == 0)
            head = last;
        if (parts == 5 || j >= hi || s[j] != '.')
            break;
        j++;
    }
    /* "a.b.c." at the end of a sentence: the last '.' is not the token's. */
    if (parts == 4 && last == 0) {
        parts--;
        j--;
    }
    if (parts < 3 || head < JWT_HEAD_MIN || (j < hi && is_b64url(s[j])))
        return false;
    lsl_hit_set(h, i, j, LSL_CLASS_SECRET, 0);
    return true;
}

static bool word_ci(const char *s, size_t hi, size_t i, const char *w)
{
    size_t n = strlen(w);

    if (hi - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (lower(s[i + k]) != w[k])
            return false;
    return true;
}

/* RFC 6750's b64token: these bytes, then '=' padding only. */
static bool is_cred(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("-._~+/", c) != NULL);
}

bool lsl_auth_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h)
{
    size_t j, st;

    (void)lo;
    if (word_ci(s, hi, i, "bearer"))
        j = i + 6;
    else if (word_ci(s, hi, i, "basic"))
        j = i + 5;
    else
        return false;
    st = j;
    while (j < hi && (s[j] == ' ' || s[j] == '\t' || s[j] == '+'))
        j++;
    if (j == st)
        return false;
    for (st = j; j < hi && is_cred(s[j]);)
        j++;
    if (j == st)
        return false;
    while (j < hi && s[j] == '=')
        j++;
    lsl_hit_set(h, st, j, LSL_CLASS_SECRET, 0);
    return true;
}

/* Bytes a URL's userinfo may hold (RFC 3986 plus raw non-ASCII). */
static bool is_userinfo(char c)
{
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
        return true;
    default:
        return is_alnum(c) || (unsigned char)c >= 0x80;
    }
}

static bool after_scheme(const char *s, size_t lo, size_t i)
{
    return i >= lo + 3 && s[i - 1] == '/' && s[i - 2] == '/' && s[i - 3] == ':';
}

bool lsl_userinfo_at(const char *s, size_t lo, size_t hi, size_t i,
                     struct lsl_hit *h)
{
    size_t j = i, at = 0, colon;

    if (!after_scheme(s, lo, i))
        return false;
    for (; j < hi && j - i < USERINFO_MAX && is_userinfo(s[j]); j++)
        if (s[j] == '@')
            at = j;
    if (at == 0 || at + 1 >= hi || !(is_alnum(s[at + 1]) || s[at + 1] == '['))
        return false;
    colon = i;
    while (colon < at && s[colon] != ':')
        colon++;
    h->n = 0;
    h->flags = 0;
    if (colon > i) {
        h->start[0] = i;
        h->end[0] = colon;
        h->cls[0] =
            memchr(s + i, '@', colon - i) ? LSL_CLASS_EMAIL : LSL_CLASS_USER;
        h->n = 1;
    }
    if (colon + 1 < at) {
        h->start[h->n] = colon + 1;
        h->end[h->n] = at;
        h->cls[h->n] = LSL_CLASS_SECRET;
        h->n++;
    }
    return h->n > 0;
}

/* True if i starts a URL's host: right after "://", or after the '@' of
 * userinfo that follows "://". */
static bool host_start(const char *s, size_t lo, size_t i)
{
    size_t b;

    if (after_scheme(s, lo, i))
        return true;
    if (i == lo || s[i - 1] != '@')
        return false;
    for (b = i - 1; b > lo && i - b < USERINFO_MAX && is_userinfo(s[b - 1]);)
        b--;
    return after_scheme(s, lo, b);
}

bool lsl_urlhost_at(const char *s, size_t lo, size_t hi, size_t i,
                    struct lsl_hit *h)
{
    uint8_t a[4];
    size_t j = i;

    if (!is_digit(s[i]) || !host_start(s, lo, i))
        return false;
    while (j < hi && j - i <= HOST_MAX &&
           (is_hex(s[j]) || s[j] == '.' || s[j] == 'x' || s[j] == 'X'))
        j++;
    /* The host must end here: a port, a path, a query, a fragment, text.
     * "http://2001:db8::1/" (no brackets) is IPv6, not host 2001. */
    if (j < hi && (is_alnum(s[j]) || s[j] == '-' || s[j] == '_'))
        return false;
    if (j < hi && s[j] == ':') {
        size_t k = j + 1;

        while (k < hi && is_digit(s[k]))
            k++;
        if (k == j + 1 ||
            (k < hi && (is_alnum(s[k]) || s[k] == ':' || s[k] == '.')))
            return false;
    }
    if (!lsl_ip4_parse_lenient(s + i, j - i, a))
        return false;
    lsl_hit_set(h, i, j, LSL_CLASS_IP, 0);
    return true;
}

/*
 * In a raw query string (`form`) '+' is a blank, so a value holding one
 * is words, not one id (base64 there has it as %2B, and is read decoded).
 * Random text switches between digits, lower and upper case about every
 * other byte; words with a number in them ("blackfriday2024promo",
 * "example+live+ch12") a few times. Hex with letters and digits is taken
 * whole: no word is made of it.
 */
/* Hex of one case with digits and letters (request ids, hashes: the
 * opaque values met most), in one pass; false leaves it to the full
 * reading, which answers the same for these. */
static bool hex_id(const char *v, size_t n)
{
    unsigned seen = 0; /* 1: digit, 2: a-f, 4: A-F */

    for (size_t i = 0; i < n; i++) {
        char c = v[i];

        if (is_digit(c))
            seen |= 1u;
        else if (c >= 'a' && c <= 'f')
            seen |= 2u;
        else if (c >= 'A' && c <= 'F')
            seen |= 4u;
        else
            return false;
    }
    return seen == 3u || seen == 5u;
}

bool lsl_opaque_value(const char *v, size_t n, bool form)
{
    size_t switches = 0, count[4] = {0, 0, 0, 0};
    int prev = -1;

    if (n < LSL_OPAQUE_MIN || v[0] == '/')
        return false;
    /* base64 may end in '=' padding. */
    while (n > LSL_OPAQUE_MIN && v[n - 1] == '=')
        n--;
    if (hex_id(v, n))
        return true;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        int k = is_digit(c)              ? 0
                : (c >= 'a' && c <= 'z') ? 1
                : (c >= 'A' && c <= 'Z') ? 2
                : (c == '-' || c == '_' || c == '/' || (c == '+' && !form))
                    ? 3
                    : -1;

        if (k < 0)
            return false;
        count[k]++;
        if (k == 3)
            continue;
        switches += prev >= 0 && k != prev;
        prev = k;
    }
    if (count[1] + count[2] == 0)
        return false;
    if (count[0] > 0 && count[3] == 0 && (count[1] == 0 || count[2] == 0) &&
        all_hex(v, n))
        return true;
    if (count[0] > 0)
        return switches * 5 >= n;
    return count[1] > 0 && count[2] > 0 && n >= 20 && switches * 3 >= n;
}
