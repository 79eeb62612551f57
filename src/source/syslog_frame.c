/*
 * Syslog framing: find the message inside one datagram. Plain code on
 * buffers, no libuv, so it can be unit-tested and fuzzed.
 *
 * Accepted shapes (PRI is "<0>".."<191>"):
 *   RFC 3164, as nginx sends it:  <PRI>Mmm dd hh:mm:ss HOST TAG: MSG
 *   nginx "nohostname":           <PRI>Mmm dd hh:mm:ss TAG: MSG
 *   RFC 3164 without a tag:       <PRI>Mmm dd hh:mm:ss HOST MSG
 *   RFC 3339 time instead:        <PRI>2024-11-29T17:00:00Z HOST TAG: MSG
 *   RFC 5424:   <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]
 *   no header at all:             MSG
 * Trailing "\n", "\r" and NUL bytes are cut off.
 *
 * Invariants: nothing outside [p, p + len) is read; the result always lies
 * inside it. A header that does not parse is not stripped (or only its
 * PRI is), so a malformed frame loses no text: the pipeline still scrubs
 * whatever it gets.
 */
#include <string.h>
#include "logseal/source.h"

struct cur {
    const char *p;
    const char *end;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool at_end(const struct cur *c)
{
    return c->p >= c->end;
}

static bool take(struct cur *c, char ch)
{
    if (at_end(c) || *c->p != ch)
        return false;
    c->p++;
    return true;
}

static bool take_digits(struct cur *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(c->p[i]))
            return false;
    }
    c->p += n;
    return true;
}

/* "<PRI>": one to three digits, at most 191 (facility 23, severity 7). */
static bool take_pri(struct cur *c)
{
    struct cur t = *c;
    unsigned v = 0, n = 0;

    if (!take(&t, '<'))
        return false;
    while (!at_end(&t) && is_digit(*t.p) && n < 3) {
        v = v * 10 + (unsigned)(*t.p++ - '0');
        n++;
    }
    if (n == 0 || v > 191 || !take(&t, '>'))
        return false;
    *c = t;
    return true;
}

/* "Mmm dd hh:mm:ss " with the day space-padded ("Nov  9") or not. */
static bool take_bsd_time(struct cur *c)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct cur t = *c;
    bool month = false;

    if (t.end - t.p < 3)
        return false;
    for (size_t i = 0; i + 3 <= sizeof(months) - 1; i += 3)
        month = month || memcmp(t.p, months + i, 3) == 0;
    if (!month)
        return false;
    t.p += 3;
    if (!take(&t, ' '))
        return false;
    if (!take(&t, ' ') && !take_digits(&t, 1))
        return false;
    if (!take_digits(&t, 1) || !take(&t, ' '))
        return false;
    if (!take_digits(&t, 2) || !take(&t, ':') || !take_digits(&t, 2) ||
        !take(&t, ':') || !take_digits(&t, 2) || !take(&t, ' '))
        return false;
    *c = t;
    return true;
}

/* "YYYY-MM-DDT<anything but space> " (RFC 3339, as rsyslog may send). */
static bool take_iso_time(struct cur *c)
{
    struct cur t = *c;

    if (!take_digits(&t, 4) || !take(&t, '-') || !take_digits(&t, 2) ||
        !take(&t, '-') || !take_digits(&t, 2) || !take(&t, 'T'))
        return false;
    while (!at_end(&t) && *t.p != ' ')
        t.p++;
    if (!take(&t, ' '))
        return false;
    *c = t;
    return true;
}

static bool is_tag_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '_' || c == '-' || c == '.' || c == '/';
}

/* "TAG: " or "TAG[PID]: " (the space may be missing at the very end). */
static bool take_tag(struct cur *c)
{
    struct cur t = *c;
    size_t n = 0;

    while (!at_end(&t) && is_tag_char(*t.p) && n <= 48) {
        t.p++;
        n++;
    }
    if (n == 0 || n > 48)
        return false;
    if (take(&t, '[')) {
        if (!take_digits(&t, 1))
            return false;
        while (!at_end(&t) && is_digit(*t.p))
            t.p++;
        if (!take(&t, ']'))
            return false;
    }
    if (!take(&t, ':'))
        return false;
    if (!take(&t, ' ') && !at_end(&t))
        return false;
    *c = t;
    return true;
}

/* After the timestamp: [HOST SP] [TAG: ] MSG. */
static void take_host_tag(struct cur *c)
{
    struct cur t = *c;

    if (take_tag(c))
        return; /* nohostname */
    while (!at_end(&t) && *t.p != ' ')
        t.p++;
    if (!take(&t, ' ')) {
        c->p = c->end; /* only a host name: an empty message */
        return;
    }
    take_tag(&t);
    *c = t;
}

/* One RFC 5424 header field and its space; "-" is the nil value. */
static bool take_field(struct cur *c)
{
    struct cur t = *c;

    while (!at_end(&t) && *t.p != ' ')
        t.p++;
    if (t.p == c->p || !take(&t, ' '))
        return false;
    *c = t;
    return true;
}

/* "[id k="v" ...]..." with \" \] \\ escapes inside values, or "-". */
static bool take_sd(struct cur *c)
{
    struct cur t = *c;

    if (take(&t, '-')) {
        *c = t;
        return true;
    }
    if (at_end(&t) || *t.p != '[')
        return false;
    while (take(&t, '[')) {
        bool quoted = false;

        for (;;) {
            if (at_end(&t))
                return false;
            if (quoted && *t.p == '\\' && t.end - t.p >= 2) {
                t.p += 2;
                continue;
            }
            if (*t.p == '"')
                quoted = !quoted;
            else if (*t.p == ']' && !quoted)
                break;
            t.p++;
        }
        t.p++; /* the closing ']' */
    }
    *c = t;
    return true;
}

static void take_rfc5424(struct cur *c)
{
    static const char bom[] = "\xef\xbb\xbf";
    struct cur t = *c;

    if (!take(&t, '1') || !take(&t, ' '))
        return;
    for (int i = 0; i < 5; i++) {
        if (!take_field(&t))
            return;
    }
    if (!take_sd(&t))
        return;
    if (!at_end(&t) && !take(&t, ' '))
        return;
    if (t.end - t.p >= 3 && memcmp(t.p, bom, 3) == 0)
        t.p += 3;
    *c = t;
}

void lsl_syslog_strip(const char *p, size_t len, struct lsl_span *msg)
{
    struct cur c = {p, p + len};

    while (c.end > c.p &&
           (c.end[-1] == '\n' || c.end[-1] == '\r' || c.end[-1] == '\0'))
        c.end--;
    if (take_pri(&c)) {
        if (take_bsd_time(&c) || take_iso_time(&c))
            take_host_tag(&c);
        else
            take_rfc5424(&c);
    }
    msg->p = c.p;
    msg->len = (size_t)(c.end - c.p);
}
