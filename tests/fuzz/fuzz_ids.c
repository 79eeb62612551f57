/*
 * Fuzz target: the device-id and secret matchers (src/rules/ids.c), the
 * scrubber's decoded (and folded) reading of percent-encoded text, wide
 * forms and "(at)", the query action's
 * new readings, and the percent-decoder itself. Byte 0: bits 0-1 pick the
 * scrub mode (phones, user agent), bit 2 feeds the text decoded first (as
 * the query action's inner reading does); the rest is the text.
 *
 * Checks: scrubber plans satisfy the plan invariants and every span,
 * decoded, has its class's shape (fz_check_plan); each matcher called at
 * every word start stays inside [lo, hi) (on an exact-size copy, so ASan
 * sees a read past the end) and returns ordered, non-empty spans; the
 * query action's plan with the shipped nginx-combined rule keeps the
 * invariants; lsl_pct_decode's map covers the input in order and its
 * output has no escape left, equals an in-place decode, and decodes to
 * itself; lsl_ip4_parse_lenient agrees with inet_aton on short text.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "src/rules/rules_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef bool (*matcher_fn)(const char *s, size_t lo, size_t hi, size_t i,
                           struct lsl_hit *h);

static const matcher_fn matchers[] = {
    lsl_mac_at,  lsl_imei_at,     lsl_jwt_at,
    lsl_auth_at, lsl_userinfo_at, lsl_urlhost_at,
};

static struct lsl_rule *combined;

static bool alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
}

static void check_hit(const struct lsl_hit *h, size_t lo, size_t hi)
{
    size_t at = lo;

    FZ_CHECK(h->n >= 1 && h->n <= 2);
    for (size_t k = 0; k < h->n; k++) {
        FZ_CHECK(h->start[k] >= at && h->end[k] > h->start[k]);
        FZ_CHECK(h->end[k] <= hi);
        FZ_CHECK(h->cls[k] < LSL_CLASS_COUNT);
        at = h->end[k];
    }
}

static void run_matchers(const char *s, size_t len)
{
    struct lsl_hit h;

    for (size_t i = 0; i < len; i++) {
        if (i > 0 && alnum(s[i - 1]))
            continue;
        for (size_t k = 0; k < LSL_ARRAY_SIZE(matchers); k++) {
            if (matchers[k](s, 0, len, i, &h))
                check_hit(&h, 0, len);
        }
    }
}

static void run_plans(const char *s, size_t len, unsigned mode)
{
    struct lsl_plan p = {0};
    int rc = lsl_scrub(&p, s, 0, len, mode);

    FZ_CHECK(rc == 0 || rc == -ENOMEM);
    if (rc == 0)
        fz_check_plan(&p, s, len, true);
    lsl_plan_reset(&p);
    rc = lsl_query_plan(combined, &p, s, 0, len, false);
    FZ_CHECK(rc == 0 || rc == -ENOMEM);
    if (rc == 0)
        fz_check_plan(&p, s, len, false);
    free(p.spans);
    free(p.fields);
}

static void check_decode(const char *s, size_t len)
{
    char *a = malloc(len + 1), *b = malloc(len + 1);
    uint32_t *map = malloc((len + 1) * sizeof(*map));
    size_t n, m;

    FZ_CHECK(a && b && map);
    n = lsl_pct_decode(s, len, a, map);
    FZ_CHECK(n <= len && map[0] == 0 && map[n] == len);
    for (size_t k = 0; k < n; k++)
        FZ_CHECK(map[k] < map[k + 1]);
    FZ_CHECK(!lsl_pct_has_escape(a, n));
    FZ_CHECK(lsl_pct_has_escape(s, len) == (n != len || memcmp(a, s, n) != 0));
    m = lsl_pct_decode(a, n, b, NULL);
    FZ_CHECK(m == n && memcmp(a, b, n) == 0);
    memcpy(b, s, len);
    m = lsl_pct_decode(b, len, b, NULL);
    FZ_CHECK(m == n && memcmp(a, b, n) == 0);
    free(a);
    free(b);
    free(map);
}

/* Ours and inet_aton on text without NUL or blanks (inet_aton stops at a
 * blank; ours takes the whole text). */
static void check_aton(const char *s, size_t len)
{
    char buf[64];
    uint8_t ours[4];
    struct in_addr theirs;
    bool ok;

    if (len >= sizeof(buf))
        return;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || isspace((unsigned char)s[i]))
            return;
    memcpy(buf, s, len);
    buf[len] = '\0';
    ok = lsl_ip4_parse_lenient(s, len, ours);
    FZ_CHECK(ok == (inet_aton(buf, &theirs) != 0));
    if (ok)
        FZ_CHECK(memcmp(ours, &theirs.s_addr, 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;
    unsigned mode;
    char *dec;
    size_t n;

    if (!combined)
        combined = fz_rule("nginx-combined");
    if (size < 1)
        return 0;
    mode = data[0] & (LSL_SCRUB_PHONES | LSL_SCRUB_AGENT);
    check_decode(text, len);
    check_aton(text, len);
    (void)lsl_opaque_value(text, len, data[0] & 8);
    if (!(data[0] & LSL_SCRUB_DECODED)) {
        run_matchers(text, len);
        run_plans(text, len, mode);
        return 0;
    }
    /* An exact-size copy of the decoded text. */
    dec = malloc(len ? len : 1);
    FZ_CHECK(dec != NULL);
    n = lsl_pct_decode(text, len, dec, NULL);
    n = lsl_wide_fold(dec, n, NULL); /* as lsl_decoded_open reads */
    dec = realloc(dec, n ? n : 1);
    FZ_CHECK(dec != NULL);
    run_matchers(dec, n);
    run_plans(dec, n, mode | LSL_SCRUB_DECODED);
    free(dec);
    return 0;
}
