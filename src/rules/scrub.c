/*
 * The fallback scrubber: a hand-written, single-pass scanner that plans
 * every identifier-shaped substring of a byte range. It needs no shared
 * state, so any thread may call it.
 *
 * Candidates are tried only where a word starts (the byte before is not a
 * letter or digit), so each position costs a few comparisons and a miss
 * falls through to the next byte; every candidate scan is bounded (an
 * address is at most 45 bytes), which keeps the scanner linear. Choices:
 *
 *  - IPv4: four dotted numbers 0-255 (leading zeros allowed), not glued to
 *    letters or digits, and not part of a run of five or more dotted
 *    numbers: 1.2.3.4.5 (a version string) yields nothing. In a User-Agent
 *    (LSL_SCRUB_AGENT) a quad right after "Product/" is a version
 *    (Chrome/130.0.0.0) and stays.
 *  - IPv4 in inet_aton's other four-part spellings, a part in hex or
 *    octal (0xC0.0xA8.0.1, 0300.0250.0.1), under the same rules.
 *  - IPv6: a run of hex digits, ':' and '.' with at least two ':' and one
 *    hex digit, accepted only if lsl_ip_valid() says so (after dropping at
 *    most two trailing ':'/'.', the end of a sentence). So "::" alone,
 *    12:30:45 and MAC addresses are not taken. A %zone is part of the
 *    span; brackets and ports are not.
 *  - Dashed IPv4 in host names (ip-10-0-0-1.ec2.internal, p1-2-3-4.foo):
 *    four dashed numbers 0-255 followed by '.' and a letter, optionally
 *    glued to letters before, not preceded by a dashed number.
 *  - E-mail: [A-Za-z0-9._%+-]+ '@' two or more host labels, the last one
 *    two or more letters.
 *  - UUID: 8-4-4-4-12 hex digits, any version, not glued.
 *  - MAC addresses, IMEIs, payment card numbers (card.c), JWTs, Bearer/Basic
 * credentials, URL userinfo and URL hosts spelled as inet_aton reads them:
 * ids.c.
 *  - Phone numbers (free text only, LSL_SCRUB_PHONES): see phone.c.
 *
 * Percent-encoded text ("%31%39%32.168.7.4", "device_id%3DA09F...") and
 * text with wide forms ("０９０－１２３４－５６７８", "bob＠example．com",
 * as Japanese input methods type them) are scanned as lsl_pct_decode
 * decodes and lsl_wide_fold folds them, and each span is widened back to
 * the raw bytes it came from, so what is found is what the text means and
 * the token's normalization (which decodes and folds the same way) sees
 * the same value.
 *
 * Both ends of the range are treated as boundaries: nothing outside it is
 * read, and spans never cross it.
 */
#include <string.h>
#include "rules_internal.h"

#define IP6_TEXT_MAX    45 /* INET6_ADDRSTRLEN - 1 */
#define ZONE_MAX        32
#define DASH_PREFIX_MAX 32
#define ATON_TEXT_MAX   43 /* four parts of "0x" and 8 hex digits */

/* scan_text's answer when the text holds a percent escape. */
#define SCAN_ENCODED 1

struct scan {
    const char *s;
    size_t lo, hi;
    unsigned mode; /* LSL_SCRUB_* */
};

/* Byte classes, looked up in a table built at compile time. */
enum {
    C_DIGIT = 1 << 0,
    C_ALPHA = 1 << 1,
    C_HEX = 1 << 2,
    C_LOCAL = 1 << 3, /* e-mail local part: alnum . _ % + - */
    C_ZONE = 1 << 4,  /* IPv6 zone: alnum _ . - */
    C_TOK = 1 << 5,   /* may be inside any candidate */
    C_COLON = 1 << 6,
    C_AT = 1 << 7,
    C_DOT = 1 << 8,
    C_DASH = 1 << 9,
    C_PCT = 1 << 10,
    C_ZERO = 1 << 11, /* '0': starts every hex or octal inet_aton part */
    C_WIDE = 1 << 12, /* may lead a wide form (wide.c) */
    C_OPEN = 1 << 13, /* may open "(at)" (atdot.c) */
};

#define IN(c, a, b) ((c) >= (a) && (c) <= (b))
#define ALNUM(c)    (IN(c, '0', '9') || IN(c, 'a', 'z') || IN(c, 'A', 'Z'))
#define PUNCT_LOCAL(c)                                                         \
    ((c) == '.' || (c) == '_' || (c) == '%' || (c) == '+' || (c) == '-')
#define PUNCT_ZONE(c) ((c) == '.' || (c) == '_' || (c) == '-')
#define CLS(c)                                                                 \
    ((IN(c, '0', '9') ? C_DIGIT | C_HEX : 0) |                                 \
     (IN(c, 'a', 'z') || IN(c, 'A', 'Z') ? C_ALPHA : 0) |                      \
     (IN(c, 'a', 'f') || IN(c, 'A', 'F') ? C_HEX : 0) |                        \
     (ALNUM(c) || PUNCT_LOCAL(c) ? C_LOCAL | C_TOK : 0) |                      \
     (ALNUM(c) || PUNCT_ZONE(c) ? C_ZONE : 0) |                                \
     ((c) == ':' ? C_COLON | C_TOK : 0) | ((c) == '@' ? C_AT | C_TOK : 0) |    \
     ((c) == '.' ? C_DOT : 0) | ((c) == '-' ? C_DASH : 0) |                    \
     ((c) == '%' ? C_PCT : 0) | ((c) == '0' ? C_ZERO : 0) |                    \
     ((c) == 0xE2 || (c) == 0xE3 || (c) == 0xEF ? C_WIDE : 0) |                \
     ((c) == '(' || (c) == '[' || (c) == '{' || (c) == '<' ? C_OPEN : 0))
#define R4(b)  CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)

static const uint16_t ctab[256] = {R64(0), R64(64), R64(128), R64(192)};

static bool has(char c, unsigned cls)
{
    return (ctab[(unsigned char)c] & cls) != 0;
}

static bool is_digit(char c)
{
    return has(c, C_DIGIT);
}

static bool is_alpha(char c)
{
    return has(c, C_ALPHA);
}

static bool is_alnum(char c)
{
    return has(c, C_DIGIT | C_ALPHA);
}

static bool is_hex(char c)
{
    return has(c, C_HEX);
}

static bool is_local(char c)
{
    return has(c, C_LOCAL);
}

static bool is_label(char c)
{
    return is_alnum(c) || c == '-';
}

static bool is_zone(char c)
{
    return has(c, C_ZONE);
}

static bool glued_after(const struct scan *sc, size_t end)
{
    return end < sc->hi && is_alnum(sc->s[end]);
}

/* A byte of a host label: ASCII, or UTF-8 (an IDN as it reads). */
static bool is_idn_label(char c)
{
    return is_label(c) || (unsigned char)c >= 0x80;
}

/*
 * Host labels after '@': returns the end, or 0 if not an e-mail domain.
 * A label may hold UTF-8 (bob@例え.jp); the last one, the top-level
 * domain, is ASCII letters, and Japanese text right after it is no part
 * of it ("bob@example.comまで").
 */
static size_t email_domain(const struct scan *sc, size_t k)
{
    const char *s = sc->s;
    size_t labels = 0, last = k, alpha = 0;

    for (;;) {
        size_t ls = k;

        while (k < sc->hi && is_idn_label(s[k]))
            k++;
        if (k == ls)
            break;
        labels++;
        last = ls;
        if (k + 1 < sc->hi && s[k] == '.' && is_idn_label(s[k + 1]))
            k++;
        else
            break;
    }
    while (last + alpha < k && is_alpha(s[last + alpha]))
        alpha++;
    if (labels < 2 || alpha < 2 ||
        (last + alpha != k && (unsigned char)s[last + alpha] < 0x80))
        return 0;
    return last + alpha;
}

static bool match_email(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    size_t j, end;

    /* "(+ops@x.org" or "...a@x.org": punctuation does not start a name. */
    while (i < sc->hi && is_local(sc->s[i]) && !is_alnum(sc->s[i]) &&
           sc->s[i] != '_')
        i++;
    for (j = i; j < sc->hi && is_local(sc->s[j]);)
        j++;
    if (j == i || j >= sc->hi || sc->s[j] != '@')
        return false;
    end = email_domain(sc, j + 1);
    if (!end)
        return false;
    lsl_hit_set(h, i, end, LSL_CLASS_EMAIL, 0);
    return true;
}

static bool match_uuid(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    if (sc->hi - i < 36 || sc->s[i + 8] != '-')
        return false;
    for (size_t k = 0; k < 36; k++) {
        bool dash = k == 8 || k == 13 || k == 18 || k == 23;

        if (dash ? sc->s[i + k] != '-' : !is_hex(sc->s[i + k]))
            return false;
    }
    if (glued_after(sc, i + 36))
        return false;
    lsl_hit_set(h, i, i + 36, LSL_CLASS_ID, 0);
    return true;
}

/* Where a %zone after an address at `end` ends (end if there is none). */
static size_t zone_end(const struct scan *sc, size_t end)
{
    size_t z = end + 1;

    if (end >= sc->hi || sc->s[end] != '%')
        return end;
    while (z < sc->hi && z - end <= ZONE_MAX && is_zone(sc->s[z]))
        z++;
    return z > end + 1 ? z : end;
}

static bool match_ipv6(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    const char *s = sc->s;
    size_t j = i, e, colons = 0, hexes = 0;

    /* The first group has at most four hex digits before its ':'. */
    while (j < sc->hi && j - i < 4 && is_hex(s[j]))
        j++;
    if (j >= sc->hi || s[j] != ':')
        return false;
    for (j = i; j < sc->hi && j - i <= IP6_TEXT_MAX &&
                (is_hex(s[j]) || s[j] == ':' || s[j] == '.');
         j++) {
        colons += s[j] == ':';
        hexes += is_hex(s[j]);
    }
    if (j - i > IP6_TEXT_MAX || colons < 2 || hexes == 0)
        return false;
    for (e = j; !lsl_ip_valid(s + i, e - i); e--) {
        if (j - e == 2 || (s[e - 1] != ':' && s[e - 1] != '.'))
            return false;
    }
    if (e == j) {
        e = zone_end(sc, e);
        if (glued_after(sc, e))
            return false;
    }
    lsl_hit_set(h, i, e, LSL_CLASS_IP, 0);
    return true;
}

/* 1-3 digits worth 0-255, not followed by a fourth digit. */
static bool parse_octet(const struct scan *sc, size_t *pos)
{
    size_t j = *pos;
    unsigned v = 0;

    while (j < sc->hi && is_digit(sc->s[j]) && j - *pos < 3)
        v = v * 10 + (unsigned)(sc->s[j++] - '0');
    if (j == *pos || v > 255 || (j < sc->hi && is_digit(sc->s[j])))
        return false;
    *pos = j;
    return true;
}

/* Four octets separated by `sep` from *pos; advances *pos past them. */
static bool parse_quad(const struct scan *sc, size_t *pos, char sep)
{
    for (int k = 0; k < 4; k++) {
        if (k > 0) {
            if (*pos >= sc->hi || sc->s[*pos] != sep)
                return false;
            (*pos)++;
        }
        if (!parse_octet(sc, pos))
            return false;
    }
    return true;
}

/* Four decimal octets from i (match_ipv4). */
static bool decimal_quad(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    const char *s = sc->s;
    size_t j = i;

    if (!parse_quad(sc, &j, '.') || glued_after(sc, j))
        return false;
    if (j + 1 < sc->hi && s[j] == '.' && is_digit(s[j + 1]))
        return false;
    lsl_hit_set(h, i, j, LSL_CLASS_IP, 0);
    return true;
}

/* A part of an inet_aton quad that is not plain decimal: 0x hex, or octal
 * (a leading 0 and more digits). */
static bool aton_only(const char *p, size_t n)
{
    return n > 1 && p[0] == '0';
}

/* Four parts as inet_aton reads them from i, one of them hex or octal
 * (match_ipv4). */
static bool aton_quad(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    const char *s = sc->s;
    size_t j = i, dots = 0, ps = i;
    bool other = false;
    uint8_t a[4];

    for (; j < sc->hi && j - i <= ATON_TEXT_MAX &&
           (is_hex(s[j]) || s[j] == '.' || s[j] == 'x' || s[j] == 'X');
         j++) {
        if (s[j] != '.')
            continue;
        other = other || aton_only(s + ps, j - ps);
        ps = j + 1;
        dots++;
    }
    if (dots == 4 && s[j - 1] == '.')
        j--, dots--; /* a sentence's end; the last part was seen at it */
    else
        other = other || aton_only(s + ps, j - ps);
    if (dots != 3 || !other || j - i > ATON_TEXT_MAX || glued_after(sc, j) ||
        !lsl_ip4_parse_lenient(s + i, j - i, a))
        return false;
    lsl_hit_set(h, i, j, LSL_CLASS_IP, 0);
    return true;
}

/*
 * A dotted quad at i: four decimal octets, or (`aton`: the run holds a
 * '0') inet_aton's other four-part spellings (0xC0.0xA8.0.1,
 * 0300.0250.0.1, 0x0a.114.166.0360): no count, version or code is written
 * so, and the token's normalization reads them as the address. One part
 * at least is hex or octal (1.2.3.400 is no address); the run is four
 * parts exactly (a '.' at its end only ends a sentence), not glued on
 * either side.
 */
static bool match_ipv4(const struct scan *sc, size_t i, bool aton,
                       struct lsl_hit *h)
{
    const char *s = sc->s;
    bool after_dot = i >= sc->lo + 2 && s[i - 1] == '.';

    if (!is_digit(s[i]))
        return false;
    /* Chrome/130.0.0.0 in a User-Agent is a version. */
    if ((sc->mode & LSL_SCRUB_AGENT) && i >= sc->lo + 2 && s[i - 1] == '/' &&
        is_alnum(s[i - 2]))
        return false;
    /* A longer dotted run (1.2.3.4.5) on either side is not an address. */
    if (after_dot && is_digit(s[i - 2]))
        return false;
    if (decimal_quad(sc, i, h))
        return true;
    return aton && !(after_dot && is_alnum(s[i - 2])) && aton_quad(sc, i, h);
}

/* True if the '-' at `dash` follows a component made of digits only. */
static bool after_number(const struct scan *sc, size_t dash)
{
    size_t b = dash;

    while (b > sc->lo && is_alnum(sc->s[b - 1]))
        b--;
    if (b == dash)
        return false;
    for (size_t k = b; k < dash; k++)
        if (!is_digit(sc->s[k]))
            return false;
    return true;
}

static bool match_dashed(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    const char *s = sc->s;
    size_t k = i, j;

    while (k < sc->hi && is_alpha(s[k]) && k - i < DASH_PREFIX_MAX)
        k++;
    if (k >= sc->hi || !is_digit(s[k]))
        return false;
    if (k == i && i > sc->lo && s[i - 1] == '-' && after_number(sc, i - 1))
        return false;
    j = k;
    if (!parse_quad(sc, &j, '-'))
        return false;
    if (j + 1 >= sc->hi || s[j] != '.' || !is_alpha(s[j + 1]))
        return false;
    lsl_hit_set(h, k, j, LSL_CLASS_IP, LSL_SPAN_F_DASHED);
    return true;
}

static bool match_phone(const struct scan *sc, size_t i, struct lsl_hit *h)
{
    size_t start, end;

    if (!(sc->mode & LSL_SCRUB_PHONES) ||
        !lsl_phone_at(sc->s, sc->lo, sc->hi, i, &start, &end))
        return false;
    lsl_hit_set(h, start, end, LSL_CLASS_PHONE, 0);
    return true;
}

/* A MAC address has its first separator at i + 2, or a '.' at i + 4. */
static bool mac_possible(const struct scan *sc, size_t i)
{
    const char *s = sc->s;

    return i + 14 <= sc->hi && is_hex(s[i]) && is_hex(s[i + 1]) &&
           (s[i + 2] == ':' || s[i + 2] == '-' || s[i + 4] == '.');
}

/* An IMEI needs 14 digits in a row, or the 2-digit group of "35-2099..". */
static bool imei_possible(const struct scan *sc, size_t i)
{
    const char *s = sc->s;

    return i + 14 <= sc->hi &&
           (is_digit(s[i + 13]) || s[i + 2] == '-' || s[i + 2] == ' ');
}

/* A card number starts with 2 to 6 and has 14 digits in a row, or its
 * first group's separator at i + 4. */
static bool card_possible(const struct scan *sc, size_t i)
{
    const char *s = sc->s;

    return i + 14 <= sc->hi && s[i] >= '2' && s[i] <= '6' &&
           (is_digit(s[i + 13]) || s[i + 4] == ' ' || s[i + 4] == '-');
}

/* Matchers that a word's first bytes alone select: "eyJ" a JWT, "be" or
 * "ba" an Authorization scheme, s l g x A a key known by its prefix
 * (keyprefix.c), a digit after '/' or '@' a URL host. */
static bool try_first(const struct scan *sc, size_t i, char prev,
                      struct lsl_hit *h)
{
    const char *s = sc->s;
    char c = s[i], c1 = i + 1 < sc->hi ? (char)(s[i + 1] | 0x20) : 0;

    if (c == 'e' && c1 == 'y')
        return lsl_jwt_at(s, sc->lo, sc->hi, i, h);
    if ((c == 'b' || c == 'B') && (c1 == 'e' || c1 == 'a'))
        return lsl_auth_at(s, sc->lo, sc->hi, i, h);
    if ((c == 's' || c == 'l' || c == 'g' || c == 'x' || c == 'A') &&
        lsl_key_prefix_at(s, sc->hi, i, h))
        return true;
    if (!is_digit(c) || (prev != '@' && (prev != '/' || i < sc->lo + 3 ||
                                         s[i - 2] != '/' || s[i - 3] != ':')))
        return false;
    return lsl_urlhost_at(s, sc->lo, sc->hi, i, h);
}

/*
 * `seen` holds the classes of every byte of the run around i: a candidate
 * lies inside one run, so a run without '@' holds no e-mail, without ':'
 * no IPv6, without '-' no UUID or dashed address, without '.' no dotted
 * IPv4, and those matchers are not tried. Only a phone number, a spaced
 * IMEI and an Authorization credential may reach past the run.
 */
static bool try_at(const struct scan *sc, size_t i, unsigned seen,
                   struct lsl_hit *h)
{
    const char *s = sc->s;
    char c = s[i];
    char prev = i > sc->lo ? s[i - 1] : ' ';

    if ((seen & C_AT) && is_local(c) && !is_local(prev) &&
        match_email(sc, i, h))
        return true;
    if (c == '+')
        return match_phone(sc, i, h);
    if (c == ':')
        return i + 1 < sc->hi && s[i + 1] == ':' && !is_alnum(prev) &&
               prev != ':' && match_ipv6(sc, i, h);
    if (!is_alnum(c) || is_alnum(prev))
        return false;
    if (try_first(sc, i, prev, h))
        return true;
    return ((seen & C_DASH) && match_uuid(sc, i, h)) ||
           ((seen & C_COLON) && match_ipv6(sc, i, h)) ||
           ((seen & (C_COLON | C_DASH | C_DOT)) && mac_possible(sc, i) &&
            lsl_mac_at(s, sc->lo, sc->hi, i, h)) ||
           ((seen & C_DOT) && match_ipv4(sc, i, seen & C_ZERO, h)) ||
           ((seen & C_DASH) && match_dashed(sc, i, h)) ||
           (is_digit(c) && card_possible(sc, i) &&
            lsl_card_at(s, sc->lo, sc->hi, i, h)) ||
           (is_digit(c) && imei_possible(sc, i) &&
            lsl_imei_at(s, sc->lo, sc->hi, i, h)) ||
           match_phone(sc, i, h);
}

/* A hit that reaches past the run at `we` may cover runs not checked for
 * escapes yet: then the whole text is read decoded (SCAN_ENCODED). */
static int push_hit(struct lsl_plan *p, const struct scan *sc, size_t we,
                    const struct lsl_hit *h)
{
    size_t end = h->end[h->n - 1];
    int rc = 0;

    if (end > we && !(sc->mode & LSL_SCRUB_DECODED) &&
        lsl_pct_has_escape(sc->s + we, end - we))
        return SCAN_ENCODED;
    for (size_t k = 0; rc == 0 && k < h->n; k++)
        rc = lsl_plan_push(p, h->start[k], h->end[k] - h->start[k],
                           LSL_ACT_TOKEN, h->cls[k], k ? 0 : h->flags);
    return rc;
}

/* Candidates in the run [ws, we) of C_TOK bytes, whose byte classes are
 * `seen`. A hit may reach past the run ("+81 90 1234 5678"): *next is
 * where scanning goes on. */
static int scan_run(struct lsl_plan *p, const struct scan *sc, size_t ws,
                    size_t we, unsigned seen, size_t *next)
{
    struct lsl_hit h;
    size_t i = ws;
    int rc;

    while (i < we) {
        if (!try_at(sc, i, seen, &h)) {
            i++;
            continue;
        }
        rc = push_hit(p, sc, we, &h);
        if (rc)
            return rc;
        i = h.end[h.n - 1];
    }
    *next = i;
    return 0;
}

/* A run starting "be" or "ba" may be "Bearer ..." or "Basic+...", which
 * need no digit. */
static bool auth_word(const unsigned char *w, size_t n)
{
    return n >= 5 && (w[0] | 0x20) == 'b' &&
           ((w[1] | 0x20) == 'e' || (w[1] | 0x20) == 'a');
}

/*
 * A run "scheme:" before "//": URL userinfo may follow, and it may start
 * with a byte that starts no run ("https://!u:p@h"), so it is tried here.
 */
static int try_userinfo(struct lsl_plan *p, const struct scan *sc, size_t we,
                        size_t *next)
{
    struct lsl_hit h;
    int rc;

    if (we + 2 >= sc->hi || sc->s[we] != '/' || sc->s[we + 1] != '/' ||
        !lsl_userinfo_at(sc->s, sc->lo, sc->hi, we + 2, &h))
        return 0;
    rc = push_hit(p, sc, we, &h);
    *next = h.end[h.n - 1];
    return rc;
}

/* A wide form at i that folds to a byte an identifier may hold, or an
 * ideographic space between two digits: the IME's space bar types it
 * between a number's groups ("090　1234　5678", "4111　1111　…"). */
static bool wide_tok(const char *line, size_t lo, size_t hi, size_t i)
{
    int c = lsl_wide_char(line, hi, i);

    if (c == ' ')
        return i > lo && i + 3 < hi && is_digit(line[i - 1]) &&
               is_digit(line[i + 3]);
    return c >= 0 && (ctab[c] & C_TOK);
}

/*
 * Every candidate is made of C_TOK bytes only, so the range splits into
 * runs of them; a run without a digit, ':' or '@' can hold nothing but a
 * digit-free UUID (36 bytes), MAC address (14 or more, with '-' or '.') or
 * an Authorization scheme word. That skips most words at once.
 */
static int scan_text(struct lsl_plan *p, const char *line, size_t off,
                     size_t len, unsigned mode)
{
    struct scan sc = {line, off, off + len, mode};
    const unsigned char *s = (const unsigned char *)line;
    size_t i = off;
    int rc;

    while (i < sc.hi) {
        size_t ws, we, n;
        unsigned seen = 0;

        while (i < sc.hi && !(ctab[s[i]] & (C_TOK | C_WIDE | C_OPEN)))
            i++;
        /* A wide form that may be part of an identifier ("０９０", not
         * "！"; a blank between digits), or an "(at)" hiding an address:
         * the whole text is read folded instead. */
        if (i < sc.hi && (ctab[s[i]] & (C_WIDE | C_OPEN))) {
            if (!(mode & LSL_SCRUB_DECODED) &&
                (((ctab[s[i]] & C_WIDE) && wide_tok(line, sc.lo, sc.hi, i)) ||
                 lsl_atdot_at(line, sc.hi, i)))
                return SCAN_ENCODED;
            i++;
            continue;
        }
        for (ws = i; i < sc.hi && (ctab[s[i]] & C_TOK); i++)
            seen |= ctab[s[i]];
        n = i - ws;
        /* Escapes: the whole text is read decoded instead (lsl_scrub). */
        if ((seen & C_PCT) && !(mode & LSL_SCRUB_DECODED) &&
            lsl_pct_has_escape(line + ws, n))
            return SCAN_ENCODED;
        if (!(seen & (C_DIGIT | C_COLON | C_AT)) && n < 36 &&
            !(n >= 14 && (seen & (C_DASH | C_DOT))) && !auth_word(s + ws, n))
            continue;
        we = i;
        rc = scan_run(p, &sc, ws, we, seen, &i);
        if (rc == 0 && s[we - 1] == ':' && i == we)
            rc = try_userinfo(p, &sc, we, &i);
        if (rc)
            return rc;
    }
    return 0;
}

/* Scan the decoded text, then widen each span to its raw bytes. */
static int scrub_decoded(struct lsl_plan *p, const char *line, size_t off,
                         size_t len, unsigned mode)
{
    struct lsl_decoded d;
    size_t first = p->count;
    int rc = lsl_decoded_open(&d, line + off, len);

    if (rc == 0)
        rc = scan_text(p, d.text, 0, d.len, mode | LSL_SCRUB_DECODED);
    if (rc == 0)
        lsl_decoded_widen(&d, p, first, off);
    lsl_decoded_close(&d);
    return rc;
}

/* Escapes are rare: the raw scan notices one in the run that holds it,
 * and only then are its spans dropped and the text read decoded. */
int lsl_scrub(struct lsl_plan *p, const char *line, size_t off, size_t len,
              unsigned mode)
{
    size_t first = p->count;
    int rc = scan_text(p, line, off, len, mode);

    if (rc != SCAN_ENCODED)
        return rc;
    p->count = first;
    return scrub_decoded(p, line, off, len, mode);
}

int lsl_scrub_range(struct lsl_plan *p, const char *line, size_t off,
                    size_t len)
{
    return lsl_scrub(p, line, off, len, 0);
}

int lsl_scrub_text(struct lsl_plan *p, const char *line, size_t off, size_t len)
{
    return lsl_scrub(p, line, off, len, LSL_SCRUB_PHONES);
}

struct escaped {
    struct lsl_plan *p;
    unsigned mode;
};

static int scrub_fn(void *arg, const char *text, size_t off, size_t len)
{
    struct escaped *e = arg;

    return lsl_scrub(e->p, text, off, len, e->mode);
}

int lsl_scrub_escaped(struct lsl_plan *p, const char *line, size_t off,
                      size_t len, unsigned mode)
{
    struct escaped e = {p, mode};

    return lsl_decoded_run(p, LSL_SPAN_F_JSON, line, off, len, scrub_fn, &e);
}
