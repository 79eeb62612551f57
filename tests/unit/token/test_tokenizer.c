/*
 * Tokenizer: cached and uncached paths agree (tokens and their printed
 * text, which the cache keeps), the batch mapping set
 * dedupes and keeps first/last seen, placeholders pass through, reset
 * clears the batch.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "testkey.h"

static struct lsl_keyring *kr;

static int setup(void **state)
{
    (void)state;
    kr = testkey_open(9);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lsl_keyring_close(kr);
    return 0;
}

static struct lsl_tokenizer *open_tz(size_t cache_entries)
{
    struct lsl_tokenizer_opts o;
    struct lsl_tokenizer *tz = NULL;

    lsl_tokenizer_opts_init(&o);
    assert_int_equal(o.cache_entries, 65536);
    o.keyring = kr;
    o.cache_entries = cache_entries;
    assert_int_equal(lsl_tokenizer_open(&tz, &o), 0);
    return tz;
}

/* The token by the plain path: normalize + derive. */
static struct lsl_token direct(enum lsl_class c, const char *v, size_t len)
{
    char norm[1200];
    struct lsl_token t;
    long n = lsl_token_normalize(c, v, len, norm, sizeof(norm));

    assert_true(n >= 0);
    assert_int_equal(lsl_token_derive(kr, 0, c, norm, (size_t)n, &t), 0);
    return t;
}

static void test_open_args(void **state)
{
    struct lsl_tokenizer_opts o;
    struct lsl_tokenizer *tz = NULL;

    (void)state;
    lsl_tokenizer_opts_init(&o);
    assert_int_equal(lsl_tokenizer_open(&tz, &o), -EINVAL); /* no keyring */
    o.keyring = kr;
    o.cache_entries = (size_t)1 << 30;
    assert_int_equal(lsl_tokenizer_open(&tz, &o), -EINVAL);
    lsl_tokenizer_close(NULL);
}

static void test_emit_hit_equals_miss(void **state)
{
    struct lsl_tokenizer *tz = open_tz(1024);
    struct lsl_buf out = {0};
    char want[LSL_TOKEN_TEXT_MAX];
    struct lsl_token t = direct(LSL_CLASS_IP, "192.0.2.9", 9), got;

    (void)state;
    lsl_token_format(&t, want);
    assert_int_equal(
        lsl_tokenizer_emit(tz, LSL_CLASS_IP, "192.0.2.9", 9, 1, &out),
        0); /* miss */
    assert_int_equal(lsl_buf_append(&out, " ", 1), 0);
    assert_int_equal(
        lsl_tokenizer_emit(tz, LSL_CLASS_IP, "::ffff:192.0.2.9", 16, 2, &out),
        0); /* hit, after normalization */
    assert_int_equal(
        lsl_tokenizer_get(tz, LSL_CLASS_IP, "192.0.2.9", 9, 3, &got), 0);
    assert_true(lsl_token_equal(&t, &got));
    assert_int_equal(out.len, 2 * strlen(want) + 1);
    assert_memory_equal(out.p, want, strlen(want));
    assert_memory_equal(out.p + strlen(want) + 1, want, strlen(want));
    assert_int_equal(lsl_tokenizer_emitted(tz), 3);
    lsl_buf_free(&out);
    lsl_tokenizer_close(tz);
}

static void test_placeholders(void **state)
{
    struct lsl_tokenizer *tz = open_tz(64);
    struct lsl_buf out = {0};
    size_t count;

    (void)state;
    assert_true(lsl_tokenizer_skips("", 0));
    assert_true(lsl_tokenizer_skips("-", 1));
    assert_false(lsl_tokenizer_skips("--", 2));
    assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_USER, "-", 1, 5, &out),
                     0);
    assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_USER, "", 0, 5, &out), 0);
    assert_int_equal(out.len, 1);
    assert_memory_equal(out.p, "-", 1);
    lsl_tokenizer_mappings(tz, &count);
    assert_int_equal(count, 0);
    assert_int_equal(lsl_tokenizer_emitted(tz), 0);
    lsl_buf_free(&out);
    lsl_tokenizer_close(tz);
}

static void test_mapping_set(void **state)
{
    struct lsl_tokenizer *tz = open_tz(256);
    struct lsl_buf out = {0};
    const struct lsl_mapping *m;
    struct lsl_token t;
    size_t count;

    (void)state;
    assert_int_equal(
        lsl_tokenizer_emit(tz, LSL_CLASS_EMAIL, "Bo@X.org", 8, 50, &out), 0);
    assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_USER, "u1", 2, 40, &out),
                     0);
    assert_int_equal(
        lsl_tokenizer_emit(tz, LSL_CLASS_EMAIL, "bo@x.org", 8, 30, &out), 0);
    assert_int_equal(
        lsl_tokenizer_get(tz, LSL_CLASS_EMAIL, "BO@X.ORG", 8, 70, &t), 0);
    /* equal text, other class: its own mapping */
    assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_NAME, "u1", 2, 60, &out),
                     0);
    m = lsl_tokenizer_mappings(tz, &count);
    assert_int_equal(count, 3);
    assert_int_equal(lsl_tokenizer_emitted(tz), 5);
    /* first-seen order, normalized values, min/max times */
    assert_int_equal(m[0].tok.cls, LSL_CLASS_EMAIL);
    assert_true(lsl_token_equal(&m[0].tok, &t));
    assert_int_equal(m[0].value.len, 8);
    assert_memory_equal(m[0].value.p, "bo@x.org", 8);
    assert_int_equal(m[0].first_seen, 30);
    assert_int_equal(m[0].last_seen, 70);
    assert_int_equal(m[1].tok.cls, LSL_CLASS_USER);
    assert_int_equal(m[1].first_seen, 40);
    assert_int_equal(m[1].last_seen, 40);
    assert_int_equal(m[2].tok.cls, LSL_CLASS_NAME);
    assert_memory_equal(m[2].value.p, "u1", 2);

    lsl_tokenizer_reset(tz);
    lsl_tokenizer_mappings(tz, &count);
    assert_int_equal(count, 0);
    assert_int_equal(lsl_tokenizer_emitted(tz), 0);
    assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_USER, "u1", 2, 99, &out),
                     0);
    m = lsl_tokenizer_mappings(tz, &count);
    assert_int_equal(count, 1);
    assert_int_equal(m[0].first_seen, 99);
    lsl_buf_free(&out);
    lsl_tokenizer_close(tz);
}

/*
 * Many distinct values, some long (uncached, past the stack buffer):
 * a cache far smaller than the working set, and no cache at all, still
 * give the tokens of the plain path, and mapping values survive growth of
 * the mapping array and arena.
 */
static void run_working_set(size_t cache_entries)
{
    struct lsl_tokenizer *tz = open_tz(cache_entries);
    const struct lsl_mapping *m;
    static char v[1100];
    size_t count;

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5000; i++) {
            struct lsl_token got, want;
            size_t len = (size_t)snprintf(v, sizeof(v), "dev-%d", i);

            if (i % 500 == 0) {
                memset(v + len, 'x', 1000);
                len += 1000;
            }
            want = direct(LSL_CLASS_ID, v, len);
            assert_int_equal(lsl_tokenizer_get(tz, LSL_CLASS_ID, v, len,
                                               round * 10 + i, &got),
                             0);
            if (!lsl_token_equal(&got, &want))
                fail_msg("value %d round %d", i, round);
        }
    }
    m = lsl_tokenizer_mappings(tz, &count);
    assert_int_equal(count, 5000);
    for (size_t i = 0; i < count; i++) {
        int len = snprintf(v, sizeof(v), "dev-%zu", i);

        assert_memory_equal(m[i].value.p, v, (size_t)len);
        assert_int_equal(m[i].value.len, i % 500 ? (size_t)len : len + 1000u);
        assert_int_equal(m[i].first_seen, (int64_t)i);
        assert_int_equal(m[i].last_seen, (int64_t)(20 + i));
    }
    assert_int_equal(lsl_tokenizer_emitted(tz), 15000);
    lsl_tokenizer_close(tz);
}

static void test_small_cache(void **state)
{
    (void)state;
    run_working_set(16);
    run_working_set(3); /* rounded up */
    run_working_set(0); /* no cache */
    run_working_set(65536);
}

/*
 * The printed text a cache hit copies against the reference, the token
 * formatted from the plain path: values of several classes, spellings
 * that normalize to the same value, and a working set far larger than
 * the cache, so entries are replaced while their text is cached (a
 * replaced entry that kept its old text would print another value's
 * token here).
 */
static void run_printed_text(size_t cache_entries)
{
    static const enum lsl_class cls[] = {LSL_CLASS_IP, LSL_CLASS_ID,
                                         LSL_CLASS_EMAIL, LSL_CLASS_USER};
    struct lsl_tokenizer *tz = open_tz(cache_entries);
    struct lsl_buf out = {0};

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3000; i++) {
            enum lsl_class c = cls[i % 4];
            char v[80], want[LSL_TOKEN_TEXT_MAX];
            struct lsl_token t;
            int len;
            size_t wlen;

            if (c == LSL_CLASS_IP)
                len = snprintf(v, sizeof(v),
                               round == 1 ? "::ffff:10.%d.%d.1" : "10.%d.%d.1",
                               i / 256, i % 256);
            else
                len = snprintf(
                    v, sizeof(v),
                    round == 2 ? "U%d@EXAMPLE.ORG" : "u%d@example.org", i);
            t = direct(c, v, (size_t)len);
            wlen = lsl_token_format(&t, want);
            out.len = 0;
            assert_int_equal(lsl_tokenizer_emit(tz, c, v, (size_t)len, i, &out),
                             0);
            if (out.len != wlen || memcmp(out.p, want, wlen) != 0)
                fail_msg("cache %zu, round %d, value %s: printed %.*s, "
                         "want %s",
                         cache_entries, round, v, (int)out.len, out.p, want);
        }
        lsl_tokenizer_reset(tz);
    }
    lsl_buf_free(&out);
    lsl_tokenizer_close(tz);
}

static void test_printed_text(void **state)
{
    (void)state;
    run_printed_text(16); /* every entry replaced many times */
    run_printed_text(0);  /* no cache: formatted every time */
    run_printed_text(65536);
}

/* One value written as its token or as its ip6-mode address, in an order
 * that switches between the two on one cache entry. */
static void check_ip_form(struct lsl_tokenizer *tz, const char *v, size_t len,
                          bool ip6, struct lsl_buf *out)
{
    struct lsl_token t = direct(LSL_CLASS_IP, v, len);
    char want[48];
    size_t wlen =
        ip6 ? lsl_token_format_ip6(&t, want) : lsl_token_format(&t, want);

    out->len = 0;
    assert_int_equal(ip6 ? lsl_tokenizer_emit_ip6(tz, v, len, 1, out)
                         : lsl_tokenizer_emit(tz, LSL_CLASS_IP, v, len, 1, out),
                     0);
    if (out->len != wlen || memcmp(out->p, want, wlen) != 0)
        fail_msg("value %s as %s: printed %.*s, want %.*s", v,
                 ip6 ? "ip6" : "token", (int)out->len, out->p, (int)wlen, want);
}

/*
 * An entry keeps the text last written for it, a token or an ip6-mode
 * address (the default for address fields): each form against its
 * reference from the plain path, the forms alternating on one value and
 * entries replaced while they hold either text (an entry that kept the
 * other form, or a replaced value's text, would print it here).
 */
static void test_ip6_text(void **state)
{
    static const size_t caches[] = {16, 0, 65536};

    (void)state;
    for (size_t k = 0; k < sizeof(caches) / sizeof(caches[0]); k++) {
        struct lsl_tokenizer *tz = open_tz(caches[k]);
        struct lsl_buf out = {0};

        for (int i = 0; i < 6000; i++) {
            char v[48];
            int n = i % 300;
            int len = snprintf(v, sizeof(v),
                               i % 7 ? "198.51.%d.%d" : "2001:db8::%x:%x",
                               n / 200, n % 200);

            /* Rounds of every value: ip6 twice, token, ip6 again (both
             * switches, and hits between them). */
            check_ip_form(tz, v, (size_t)len, (i / 300) % 4 != 2, &out);
        }
        lsl_buf_free(&out);
        lsl_tokenizer_close(tz);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_args),
        cmocka_unit_test(test_emit_hit_equals_miss),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_mapping_set),
        cmocka_unit_test(test_small_cache),
        cmocka_unit_test(test_printed_text),
        cmocka_unit_test(test_ip6_text),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
