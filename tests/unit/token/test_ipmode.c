/*
 * IP output modes: address parsing and printing, truncation to exact bit
 * counts, the prefix-preserving map (the prefix property for every k on
 * random pairs, determinism, key dependence, family kept), its vault
 * lookup key, and the ip6 token rendering (valid syntax, no collisions on
 * a million addresses).
 */
/* cmocka.h needs these first */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "testkey.h"

static struct lsl_keyring *kr;

static int setup(void **state)
{
    (void)state;
    kr = testkey_open(3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lsl_keyring_close(kr);
    return 0;
}

static struct lsl_keyring *other_key(void)
{
    uint8_t key[32], img[TESTKEY_FILE_SIZE];
    struct lsl_keyring *k = NULL;
    char path[64];

    memset(key, 0xa5, sizeof(key));
    testkey_image(img, key, 3);
    testkey_write(path, img, sizeof(img), 0600);
    assert_int_equal(lsl_keyring_open(&k, path), 0);
    unlink(path);
    return k;
}

static struct lsl_ipaddr parse(const char *s)
{
    struct lsl_ipaddr ip;

    assert_int_equal(lsl_ipaddr_parse(s, strlen(s), &ip), 0);
    return ip;
}

static void assert_text(const struct lsl_ipaddr *ip, const char *want)
{
    char text[LSL_IP_TEXT_MAX];

    assert_int_equal(lsl_ipaddr_format(ip, text), strlen(want));
    assert_string_equal(text, want);
}

static bool bit(const struct lsl_ipaddr *ip, unsigned i)
{
    return (ip->a[i / 8] >> (7 - i % 8)) & 1;
}

static unsigned common_prefix(const struct lsl_ipaddr *x,
                              const struct lsl_ipaddr *y)
{
    unsigned k = 0;

    while (k < x->bits && bit(x, k) == bit(y, k))
        k++;
    return k;
}

static void random_addr(struct lsl_ipaddr *ip, unsigned bits)
{
    memset(ip, 0, sizeof(*ip));
    ip->bits = (uint8_t)bits;
    randombytes_buf(ip->a, bits / 8);
}

static void test_parse_format(void **state)
{
    struct lsl_ipaddr ip;

    (void)state;
    ip = parse("010.001.002.003");
    assert_int_equal(ip.bits, 32);
    assert_text(&ip, "10.1.2.3");
    ip = parse("::FFFF:192.0.2.7");
    assert_int_equal(ip.bits, 32);
    assert_text(&ip, "192.0.2.7");
    ip = parse("2001:DB8:0:0:0::7");
    assert_int_equal(ip.bits, 128);
    assert_text(&ip, "2001:db8::7");
    /* Other spellings of one address parse as it (their token would be
     * the address's too). */
    ip = parse("0xC0A80001");
    assert_text(&ip, "192.168.0.1");
    ip = parse("%31%39%32.168.0.1");
    assert_text(&ip, "192.168.0.1");
    ip = parse("2001%3Adb8%3A%3A7");
    assert_text(&ip, "2001:db8::7");
    assert_int_equal(lsl_ipaddr_parse("1.2.3", 5, &ip), -EINVAL);
    assert_int_equal(lsl_ipaddr_parse("1.2.3.256", 9, &ip), -EINVAL);
    assert_int_equal(lsl_ipaddr_parse("fe80::1%eth0", 12, &ip), -EINVAL);
    assert_int_equal(lsl_ipaddr_parse("", 0, &ip), -EINVAL);
    assert_int_equal(lsl_ipaddr_parse("unknown", 7, &ip), -EINVAL);
}

static void test_truncate_exact_bits(void **state)
{
    struct lsl_ipaddr ip, t;

    (void)state;
    t = parse("203.0.113.77");
    lsl_ipaddr_truncate(&t, 0);
    assert_text(&t, "203.0.112.0");
    t = parse("2001:db8:abcd:1234:5678::1");
    lsl_ipaddr_truncate(&t, 0);
    assert_text(&t, "2001:db8:abc0::");
    for (unsigned fam = 32; fam <= 128; fam += 96) {
        for (unsigned keep = 1; keep <= fam + 8; keep++) {
            random_addr(&ip, fam);
            t = ip;
            lsl_ipaddr_truncate(&t, keep);
            assert_int_equal(t.bits, fam);
            for (unsigned i = 0; i < fam; i++)
                assert_int_equal(bit(&t, i), i < keep ? bit(&ip, i) : 0);
        }
    }
}

/* b shares exactly the first k bits with a, the rest random. */
static void pair_at(struct lsl_ipaddr *a, struct lsl_ipaddr *b, unsigned bits,
                    unsigned k)
{
    random_addr(a, bits);
    random_addr(b, bits);
    for (unsigned i = 0; i <= k && i < bits; i++) {
        uint8_t m = (uint8_t)(0x80u >> (i % 8));
        bool v = i < k ? bit(a, i) : !bit(a, i);

        b->a[i / 8] = (uint8_t)(v ? b->a[i / 8] | m : b->a[i / 8] & ~m);
    }
}

static void test_prefix_preserved_every_k(void **state)
{
    struct lsl_ipaddr a, b, ma, mb;

    (void)state;
    for (unsigned fam = 32; fam <= 128; fam += 96) {
        for (unsigned k = 0; k <= fam; k++) {
            for (int rep = 0; rep < 20; rep++) {
                pair_at(&a, &b, fam, k);
                assert_int_equal(common_prefix(&a, &b), k);
                assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &a, &ma), 0);
                assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &b, &mb), 0);
                assert_int_equal(ma.bits, fam);
                assert_int_equal(common_prefix(&ma, &mb), k);
            }
        }
    }
}

static void test_prefix_deterministic_keyed(void **state)
{
    struct lsl_keyring *k2 = other_key();
    struct lsl_ipaddr a, m1, m2, m3;
    unsigned same = 0;

    (void)state;
    for (int i = 0; i < 200; i++) {
        random_addr(&a, i % 2 ? 128 : 32);
        assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &a, &m1), 0);
        assert_int_equal(lsl_ipaddr_prefix_map(kr, 999, &a, &m2), 0);
        assert_memory_equal(&m1, &m2, sizeof(m1));
        assert_int_equal(lsl_ipaddr_prefix_map(k2, 0, &a, &m3), 0);
        same += memcmp(m1.a, m3.a, sizeof(m1.a)) == 0;
        /* Not the identity: 32 or 128 unchanged bits by chance is 2^-32. */
        assert_memory_not_equal(m1.a, a.a, a.bits / 8);
    }
    assert_int_equal(same, 0);
    lsl_keyring_close(k2);
}

/* A bijection: every address of a /16 maps to a distinct address. */
static void test_prefix_bijective_on_a_slash16(void **state)
{
    static uint8_t seen[65536 / 8];
    struct lsl_ipaddr a = parse("198.51.0.0"), m, top;

    (void)state;
    memset(seen, 0, sizeof(seen));
    assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &a, &top), 0);
    for (unsigned v = 0; v < 65536; v++) {
        unsigned low;

        a.a[2] = (uint8_t)(v >> 8);
        a.a[3] = (uint8_t)v;
        assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &a, &m), 0);
        assert_memory_equal(m.a, top.a, 2);
        low = (unsigned)m.a[2] << 8 | m.a[3];
        assert_false(seen[low / 8] & (1u << (low % 8)));
        seen[low / 8] |= (uint8_t)(1u << (low % 8));
    }
}

static void test_lookup_token(void **state)
{
    struct lsl_ipaddr a = parse("192.0.2.1"), m, back;
    struct lsl_token t1, t2, keyed;
    char text[LSL_IP_TEXT_MAX];

    (void)state;
    assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &a, &m), 0);
    /* An officer has only the printed address: parse it back. */
    lsl_ipaddr_format(&m, text);
    back = parse(text);
    lsl_ipaddr_lookup_token(&m, 3, &t1);
    lsl_ipaddr_lookup_token(&back, 3, &t2);
    assert_true(lsl_token_equal(&t1, &t2));
    assert_int_equal(t1.cls, LSL_CLASS_IP);
    assert_int_equal(t1.kid, 3);
    assert_int_equal(
        lsl_token_derive(kr, 0, LSL_CLASS_IP, text, strlen(text), &keyed), 0);
    assert_false(lsl_token_equal(&t1, &keyed));
    lsl_ipaddr_lookup_token(&a, 3, &t2);
    assert_false(lsl_token_equal(&t1, &t2));
}

static int cmp16(const void *x, const void *y)
{
    return memcmp(x, y, 16);
}

static void test_ip6_million_no_collision(void **state)
{
    enum { N = 1000000 };
    uint8_t(*bin)[16] = malloc(sizeof(*bin) * N);
    char v[16], text[48];
    struct lsl_token t;
    struct lsl_ipaddr ip;

    (void)state;
    assert_non_null(bin);
    for (unsigned i = 0; i < N; i++) {
        size_t vl = (size_t)snprintf(v, sizeof(v), "10.%u.%u.%u", i >> 16,
                                     (i >> 8) & 255, i & 255);
        size_t n;

        assert_int_equal(lsl_token_derive(kr, 0, LSL_CLASS_IP, v, vl, &t), 0);
        n = lsl_token_format_ip6(&t, text);
        assert_true(lsl_ip_valid(text, n));
        assert_int_equal(lsl_ipaddr_parse(text, n, &ip), 0);
        assert_int_equal(ip.bits, 128);
        assert_int_equal(ip.a[0], 0xfd);
        memcpy(bin[i], ip.a, 16);
    }
    qsort(bin, N, 16, cmp16);
    for (unsigned i = 1; i < N; i++)
        assert_memory_not_equal(bin[i - 1], bin[i], 16);
    free(bin);
}

static void test_record_mapping(void **state)
{
    struct lsl_tokenizer_opts o;
    struct lsl_tokenizer *tz;
    const struct lsl_mapping *m;
    struct lsl_token t = {.cls = LSL_CLASS_IP, .kid = 3};
    size_t n;

    (void)state;
    lsl_tokenizer_opts_init(&o);
    o.keyring = kr;
    assert_int_equal(lsl_tokenizer_open(&tz, &o), 0);
    memset(t.hash, 7, sizeof(t.hash));
    assert_int_equal(lsl_tokenizer_record(tz, &t, "192.0.2.1", 9, 50), 0);
    assert_int_equal(lsl_tokenizer_record(tz, &t, "192.0.2.1", 9, 40), 0);
    m = lsl_tokenizer_mappings(tz, &n);
    assert_int_equal(n, 1);
    assert_true(lsl_token_equal(&m[0].tok, &t));
    assert_int_equal(m[0].first_seen, 40);
    assert_int_equal(m[0].last_seen, 50);
    assert_int_equal(m[0].value.len, 9);
    assert_memory_equal(m[0].value.p, "192.0.2.1", 9);
    assert_int_equal(lsl_tokenizer_emitted(tz), 2);
    lsl_tokenizer_close(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_truncate_exact_bits),
        cmocka_unit_test(test_prefix_preserved_every_k),
        cmocka_unit_test(test_prefix_deterministic_keyed),
        cmocka_unit_test(test_prefix_bijective_on_a_slash16),
        cmocka_unit_test(test_lookup_token),
        cmocka_unit_test(test_ip6_million_no_collision),
        cmocka_unit_test(test_record_mapping),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
