/*
 * Rendering of one ip span in its output mode (rules.h enum lsl_ip_mode):
 *
 *   token     the class-prefixed token (vault entry: the token)
 *   ip6       the token as an fd00::/8 address (vault entry: the token)
 *   prefix    the keyed prefix-preserving address (vault entry: the
 *             lookup key of the printed address, lsl_ipaddr_lookup_token)
 *   truncate  the first bits kept (per family), the rest zero (no vault
 *             entry)
 *
 * A value on the stop list (an erased subject) is written as the erased
 * marker: "ip_erased" in token mode, fd00:: in ip6 mode, the unspecified
 * address (0.0.0.0, ::) in prefix mode; it gets no vault entry.
 *
 * Invariant: an original is never written. A value that is not exactly
 * one address (a zone id, "unknown", garbage in X-Forwarded-For) cannot be
 * mapped or truncated as an address, so prefix and truncate write its
 * token instead; ip6 writes a token-address for anything. A host-name
 * address (dashed) stays dashed IPv4 in prefix and truncate mode; in ip6
 * mode it becomes a token, since an IPv6 address cannot sit in a host name.
 * Also the spelling of a mode that `pipe --ip-mode` and the daemon's
 * `ip_mode` key share (lsl_ip_override_parse).
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "batch_internal.h"

/* A decimal 1..max at s, ending at `stop`; *end past it. -1 if not. */
static long prefix_len(const char *s, char stop, long max, const char **end)
{
    long v = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9' && v <= max)
        v = v * 10 + (*p++ - '0');
    *end = p;
    return p == s || *p != stop || v < 1 || v > max ? -1 : v;
}

/* "/B4" (both families) or "/B4,B6" after truncate. 0 or -EINVAL. */
static int parse_bits(const char *s, struct lsl_ip_override *ip)
{
    const char *comma = strchr(s, ',');
    const char *end;
    long b4 = prefix_len(s, comma ? ',' : '\0', 32, &end), b6 = b4;

    if (b4 < 0)
        return -EINVAL;
    if (comma && (b6 = prefix_len(comma + 1, '\0', 128, &end)) < 0)
        return -EINVAL;
    ip->bits4 = (uint8_t)b4;
    ip->bits6 = (uint8_t)b6;
    return 0;
}

int lsl_ip_override_parse(const char *s, struct lsl_ip_override *ip)
{
    static const char *const names[] = {"token", "ip6", "prefix", "truncate"};
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    for (unsigned m = 0; m < LSL_ARRAY_SIZE(names); m++) {
        struct lsl_ip_override o = {.on = true, .mode = (uint8_t)m};

        if (strlen(names[m]) != n || strncmp(s, names[m], n) != 0)
            continue;
        if (slash &&
            (m != LSL_IPMODE_TRUNCATE || parse_bits(slash + 1, &o) != 0))
            return -EINVAL;
        *ip = o;
        return 0;
    }
    return -EINVAL;
}

/* `text` with '.' written as '-' (host-name form), appended to out. */
static int append_dashed(struct lsl_buf *out, const char *text, size_t n)
{
    int rc = lsl_buf_reserve(out, n);

    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        out->p[out->len + i] = text[i] == '.' ? '-' : text[i];
    out->len += n;
    return 0;
}

static int emit_ip6(struct lsl_worker *w, const char *v, size_t len,
                    int64_t when, struct lsl_buf *out)
{
    return lsl_tokenizer_emit_ip6(w->tz, v, len, when, out);
}

/* Prefix mode: the mapped address, its vault key -> the original. */
static int emit_prefix(struct lsl_worker *w, const struct lsl_ipaddr *in,
                       int64_t when, struct lsl_ipaddr *res)
{
    char norm[LSL_IP_TEXT_MAX];
    struct lsl_token key;
    size_t n;
    int rc;

    rc = lsl_ipaddr_prefix_map(w->kr, when, in, res);
    if (rc)
        return rc;
    lsl_ipaddr_lookup_token(res, lsl_keyring_kid(w->kr, when), &key);
    /* The printed form of the parsed address is its normalized form. */
    n = lsl_ipaddr_format(in, norm);
    rc = lsl_tokenizer_record(w->tz, &key, norm, n, when);
    sodium_memzero(norm, sizeof(norm));
    return rc;
}

/* An erased subject's address: prefix mode writes the unspecified one. */
static bool stopped(struct lsl_worker *w, const struct lsl_ipaddr *in)
{
    char norm[LSL_IP_TEXT_MAX];
    size_t n = lsl_ipaddr_format(in, norm);
    bool s = lsl_tokenizer_stops(w->tz, LSL_CLASS_IP, norm, n);

    sodium_memzero(norm, sizeof(norm));
    return s;
}

static int emit_address(struct lsl_worker *w, const struct lsl_ipaddr *in,
                        unsigned mode, const uint8_t bits[2], bool dashed,
                        int64_t when, struct lsl_buf *out)
{
    struct lsl_ipaddr res = *in;
    char text[LSL_IP_TEXT_MAX];
    size_t n;
    int rc;

    /* Room first, so a failure leaves no mapping without its output. */
    rc = lsl_buf_reserve(out, sizeof(text));
    if (rc)
        return rc;
    if (mode == LSL_IPMODE_PREFIX && stopped(w, in))
        return lsl_buf_append(
            out, in->bits == 32 ? "0.0.0.0" : "::", in->bits == 32 ? 7 : 2);
    if (mode == LSL_IPMODE_PREFIX)
        rc = emit_prefix(w, in, when, &res);
    else
        lsl_ipaddr_truncate(&res, bits[in->bits == 32 ? 0 : 1]);
    if (rc)
        return rc;
    n = lsl_ipaddr_format(&res, text);
    if (dashed)
        return append_dashed(out, text, n);
    return lsl_buf_append(out, text, n);
}

int lsl_ip_emit(struct lsl_worker *w, const char *v, size_t len, unsigned mode,
                const uint8_t bits[2], bool dashed, int64_t when,
                struct lsl_buf *out)
{
    struct lsl_ipaddr in;
    int rc;

    if (dashed) {
        w->scratch.len = 0;
        rc = lsl_buf_reserve(&w->scratch, len);
        if (rc)
            return rc;
        for (size_t i = 0; i < len; i++)
            w->scratch.p[i] = v[i] == '-' ? '.' : v[i];
        w->scratch.len = len;
        v = w->scratch.p;
    }
    if (lsl_tokenizer_skips(v, len))
        return lsl_buf_append(out, v, len);
    if (mode == LSL_IPMODE_IP6 && !dashed)
        return emit_ip6(w, v, len, when, out);
    if ((mode == LSL_IPMODE_PREFIX || mode == LSL_IPMODE_TRUNCATE) &&
        lsl_ipaddr_parse(v, len, &in) == 0)
        return emit_address(w, &in, mode, bits, dashed, when, out);
    return lsl_tokenizer_emit(w->tz, LSL_CLASS_IP, v, len, when, out);
}
