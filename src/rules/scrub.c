/*
 * The fallback scrubber: a hand-written, single-pass scanner that plans
 * every IP-, e-mail- and UUID-shaped substring of a byte range. It needs
 * no shared state, so any thread may call it.
 *
 * Candidates are tried only where a word starts (the byte before is not a
 * letter or digit), so each position costs a few comparisons and a miss
 * falls through to the next byte; every candidate scan is bounded (an
 * address is at most 45 bytes), which keeps the scanner linear. Choices:
 *
 *  - IPv4: four dotted numbers 0-255 (leading zeros allowed), not glued to
 *    letters or digits, and not part of a run of five or more dotted
 *    numbers: 1.2.3.4.5 (a version string) yields nothing.
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
 *  - Phone numbers (free text only: lsl_scrub_text): see phone.c.
 *
 * Both ends of the range are treated as boundaries: nothing outside it is
 * read, and spans never cross it.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

#define IP6_TEXT_MAX    45 /* INET6_ADDRSTRLEN - 1 */
#define ZONE_MAX        32
#define DASH_PREFIX_MAX 32

struct scan {
    const char *s;
    size_t lo, hi;
    bool phones;
};

struct hit {
    size_t start, end;
    uint8_t cls;
    uint8_t flags;
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
     ((c) == '.' ? C_DOT : 0) | ((c) == '-' ? C_DASH : 0))
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

static void set_hit(struct hit *h, size_t start, size_t end, uint8_t cls,
                    uint8_t flags)
{
    h->start = start;
    h->end = end;
    h->cls = cls;
    h->flags = flags;
}

/* Host labels after '@': returns the end, or 0 if not an e-mail domain. */
static size_t email_domain(const struct scan *sc, size_t k)
{
    const char *s = sc->s;
    size_t labels = 0, last = k, alpha = 0;

    for (;;) {
        size_t ls = k;

        while (k < sc->hi && is_label(s[k]))
            k++;
        if (k == ls)
            break;
        labels++;
        last = ls;
        if (k + 1 < sc->hi && s[k] == '.' && is_label(s[k + 1]))
            k++;
        else
            break;
    }
    while (last + alpha < k && is_alpha(s[last + alpha]))
        alpha++;
    if (labels < 2 || alpha < 2 || last + alpha != k)
        return 0;
    return k;
}

static bool match_email(const struct scan *sc, size_t i, struct hit *h)
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
    set_hit(h, i, end, LSL_CLASS_EMAIL, 0);
    return true;
}

static bool match_uuid(const struct scan *sc, size_t i, struct hit *h)
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
    set_hit(h, i, i + 36, LSL_CLASS_ID, 0);
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

static bool match_ipv6(const struct scan *sc, size_t i, struct hit *h)
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
    set_hit(h, i, e, LSL_CLASS_IP, 0);
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

static bool match_ipv4(const struct scan *sc, size_t i, struct hit *h)
{
    const char *s = sc->s;
    size_t j = i;

    if (!is_digit(s[i]))
        return false;
    /* A longer dotted run (1.2.3.4.5) on either side is not an address. */
    if (i >= sc->lo + 2 && s[i - 1] == '.' && is_digit(s[i - 2]))
        return false;
    if (!parse_quad(sc, &j, '.') || glued_after(sc, j))
        return false;
    if (j + 1 < sc->hi && s[j] == '.' && is_digit(s[j + 1]))
        return false;
    set_hit(h, i, j, LSL_CLASS_IP, 0);
    return true;
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

static bool match_dashed(const struct scan *sc, size_t i, struct hit *h)
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
    set_hit(h, k, j, LSL_CLASS_IP, LSL_SPAN_F_DASHED);
    return true;
}

static bool match_phone(const struct scan *sc, size_t i, struct hit *h)
{
    size_t end;

    if (!sc->phones || !lsl_phone_at(sc->s, sc->lo, sc->hi, i, &end))
        return false;
    set_hit(h, i, end, LSL_CLASS_PHONE, 0);
    return true;
}

/*
 * `seen` holds the classes of every byte of the run around i: a candidate
 * lies inside one run, so a run without '@' holds no e-mail, without ':'
 * no IPv6, without '-' no UUID or dashed address, without '.' no dotted
 * IPv4, and those matchers are not tried. Only a phone number may reach
 * past the run.
 */
static bool try_at(const struct scan *sc, size_t i, unsigned seen,
                   struct hit *h)
{
    char c = sc->s[i];
    char prev = i > sc->lo ? sc->s[i - 1] : ' ';

    if ((seen & C_AT) && is_local(c) && !is_local(prev) &&
        match_email(sc, i, h))
        return true;
    if (c == '+')
        return match_phone(sc, i, h);
    if (c == ':')
        return i + 1 < sc->hi && sc->s[i + 1] == ':' && !is_alnum(prev) &&
               prev != ':' && match_ipv6(sc, i, h);
    if (!is_alnum(c) || is_alnum(prev))
        return false;
    return ((seen & C_DASH) && match_uuid(sc, i, h)) ||
           ((seen & C_COLON) && match_ipv6(sc, i, h)) ||
           ((seen & C_DOT) && match_ipv4(sc, i, h)) ||
           ((seen & C_DASH) && match_dashed(sc, i, h)) || match_phone(sc, i, h);
}

/* Candidates in the run [ws, we) of C_TOK bytes, whose byte classes are
 * `seen`. A hit may reach past the run ("+81 90 1234 5678"): *next is
 * where scanning goes on. */
static int scan_run(struct lsl_plan *p, const struct scan *sc, size_t ws,
                    size_t we, unsigned seen, size_t *next)
{
    struct hit h;
    size_t i = ws;
    int rc;

    while (i < we) {
        if (!try_at(sc, i, seen, &h)) {
            i++;
            continue;
        }
        rc = lsl_plan_push(p, h.start, h.end - h.start, LSL_ACT_TOKEN, h.cls,
                           h.flags);
        if (rc)
            return rc;
        i = h.end;
    }
    *next = i;
    return 0;
}

/*
 * Every candidate is made of C_TOK bytes only, so the range splits into
 * runs of them; a run without a digit, ':' or '@' can hold nothing but a
 * digit-free UUID, which needs 36 bytes. That skips most words at once.
 */
static int scrub(struct lsl_plan *p, const char *line, size_t off, size_t len,
                 bool phones)
{
    struct scan sc = {line, off, off + len, phones};
    const unsigned char *s = (const unsigned char *)line;
    size_t i = off;
    int rc;

    while (i < sc.hi) {
        size_t ws;
        unsigned seen = 0;

        while (i < sc.hi && !(ctab[s[i]] & C_TOK))
            i++;
        for (ws = i; i < sc.hi && (ctab[s[i]] & C_TOK); i++)
            seen |= ctab[s[i]];
        if (!(seen & (C_DIGIT | C_COLON | C_AT)) && i - ws < 36)
            continue;
        rc = scan_run(p, &sc, ws, i, seen, &i);
        if (rc)
            return rc;
    }
    return 0;
}

int lsl_scrub_range(struct lsl_plan *p, const char *line, size_t off,
                    size_t len)
{
    return scrub(p, line, off, len, false);
}

int lsl_scrub_text(struct lsl_plan *p, const char *line, size_t off, size_t len)
{
    return scrub(p, line, off, len, true);
}

int lsl_scrub_escaped(struct lsl_plan *p, const char *line, size_t off,
                      size_t len, bool text)
{
    size_t end = off + len, i = off;
    int rc;

    while (i < end) {
        const char *bs = memchr(line + i, '\\', end - i);
        size_t stop = bs ? (size_t)(bs - line) : end;

        rc = scrub(p, line, i, stop - i, text);
        if (rc || !bs)
            return rc;
        /* A valid JSON string has a whole escape here: \uXXXX or \c. */
        i = stop + (stop + 1 < end && line[stop + 1] == 'u' ? 6 : 2);
    }
    return 0;
}

/*
 * The memo: a field a rule scrubs (a user agent) and the text around query
 * values take few distinct values, so their plans are remembered by text
 * (and by whether phone numbers are looked for). Direct-mapped by a fast
 * hash; a slot is used only after the whole text compares equal, so a
 * collision costs a scrub, never a wrong plan. Texts shorter than
 * MEMO_TEXT_MIN are cheaper to scrub than to look up; plans with more than
 * MEMO_SPANS spans are not kept. Slots hold field text (originals,
 * possibly): wiped when freed.
 */
#define MEMO_SLOTS    512
#define MEMO_TEXT_MIN 16
#define MEMO_TEXT_MAX 256
#define MEMO_SPANS    4

struct memo_span {
    uint16_t off, len;
    uint8_t action, cls, flags;
};

struct memo_slot {
    uint64_t tag; /* hash | 1; 0 = empty */
    uint16_t len;
    uint8_t nspans;
    bool phones;
    struct memo_span spans[MEMO_SPANS];
    char text[MEMO_TEXT_MAX];
};

struct lsl_scrub_memo {
    struct memo_slot slots[MEMO_SLOTS];
};

int lsl_scrub_memo_open(struct lsl_scrub_memo **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void lsl_scrub_memo_free(struct lsl_scrub_memo *memo)
{
    if (!memo)
        return;
    sodium_memzero(memo, sizeof(*memo));
    free(memo);
}

static uint64_t memo_hash(const char *p, size_t n)
{
    uint64_t h = n * 0x9e3779b97f4a7c15ULL, w;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return (h ^ h >> 32) | 1;
}

static void memo_keep(struct memo_slot *sl, uint64_t tag, const char *line,
                      size_t off, size_t len, bool phones,
                      const struct lsl_plan *p, size_t first)
{
    size_t n = p->count - first;

    if (n > MEMO_SPANS)
        return;
    for (size_t i = 0; i < n; i++) {
        const struct lsl_plan_span *s = &p->spans[first + i];

        sl->spans[i] =
            (struct memo_span){(uint16_t)(s->off - off), (uint16_t)s->len,
                               s->action, s->cls, s->flags};
    }
    sl->tag = tag;
    sl->len = (uint16_t)len;
    sl->nspans = (uint8_t)n;
    sl->phones = phones;
    memcpy(sl->text, line + off, len);
}

int lsl_scrub_memo_run(struct lsl_scrub_memo *memo, struct lsl_plan *p,
                       const char *line, size_t off, size_t len, bool phones)
{
    struct memo_slot *sl;
    size_t first = p->count;
    uint64_t tag;
    int rc = 0;

    if (!memo || len < MEMO_TEXT_MIN || len > MEMO_TEXT_MAX)
        return scrub(p, line, off, len, phones);
    tag = memo_hash(line + off, len);
    sl = &memo->slots[(tag >> 1) & (MEMO_SLOTS - 1)];
    if (sl->tag == tag && sl->len == len && sl->phones == phones &&
        memcmp(sl->text, line + off, len) == 0) {
        for (size_t i = 0; i < sl->nspans && rc == 0; i++) {
            const struct memo_span *s = &sl->spans[i];

            rc = lsl_plan_push(p, off + s->off, s->len, s->action, s->cls,
                               s->flags);
        }
        return rc;
    }
    rc = scrub(p, line, off, len, phones);
    if (rc == 0)
        memo_keep(sl, tag, line, off, len, phones, p, first);
    return rc;
}
