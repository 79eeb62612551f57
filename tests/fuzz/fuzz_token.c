/*
 * Fuzz target: token text and value normalization. Input byte 0 picks a
 * class, the rest is a value. Checks: lsl_token_normalize stays within
 * its documented bound and is idempotent (normalizing a normalized value
 * changes nothing) and a valid address normalizes to a valid one;
 * lsl_token_parse accepts exactly what lsl_token_format prints;
 * lsl_token_scan finds only text that parses, in order, inside the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normalize(enum lsl_class c, const char *v, size_t len)
{
    size_t cap = len + LSL_NORM_SLACK;
    char *a = malloc(cap), *b = malloc(cap);
    long n, m;

    FZ_CHECK(a && b);
    n = lsl_token_normalize(c, v, len, a, cap);
    FZ_CHECK(n >= 0 && (size_t)n <= cap);
    m = lsl_token_normalize(c, a, (size_t)n, b, cap);
    FZ_CHECK(m == n && memcmp(a, b, (size_t)n) == 0);
    /* An address stays one (zero-padded IPv4 only becomes one). */
    if (c == LSL_CLASS_IP && lsl_ip_valid(v, len))
        FZ_CHECK(lsl_ip_valid(a, (size_t)n));
    free(a);
    free(b);
}

static void check_parse(const char *v, size_t len)
{
    struct lsl_token t, back;
    char text[LSL_TOKEN_TEXT_MAX];
    size_t n;

    if (lsl_token_parse(v, len, &t) != 0)
        return;
    n = lsl_token_format(&t, text);
    FZ_CHECK(n == len && memcmp(text, v, len) == 0);
    FZ_CHECK(lsl_token_parse(text, n, &back) == 0);
    FZ_CHECK(lsl_token_equal(&t, &back));
}

static void check_scan(const char *v, size_t len)
{
    size_t pos = 0, tlen, last_end = 0;
    struct lsl_token t;

    while (lsl_token_scan(v, len, &pos, &tlen)) {
        FZ_CHECK(pos >= last_end && tlen > 0 && pos + tlen <= len);
        FZ_CHECK(lsl_token_parse(v + pos, tlen, &t) == 0);
        pos += tlen;
        last_end = pos;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *v = (const char *)data + 1;
    size_t len;

    if (size < 1)
        return 0;
    len = size - 1;
    check_normalize((enum lsl_class)(data[0] % LSL_CLASS_COUNT), v, len);
    check_parse(v, len);
    check_scan(v, len);
    return 0;
}
