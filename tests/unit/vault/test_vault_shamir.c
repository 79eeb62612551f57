/*
 * Shamir's secret sharing over GF(2^8): known answers for the field
 * arithmetic and for a split with fixed coefficients (computed with an
 * independent log/exp-table implementation), and properties: every k of
 * n shares rebuild the secret, no k - 1 of them do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/vault/vault_internal.h"
#include "vt_util.h"

static void test_gf_mul_known(void **state)
{
    (void)state;
    /* FIPS-197 section 4.2 and the AES inverse pair {53}{CA}. */
    assert_int_equal(lsl_gf256_mul(0x57, 0x83), 0xc1);
    assert_int_equal(lsl_gf256_mul(0x57, 0x13), 0xfe);
    assert_int_equal(lsl_gf256_mul(0x53, 0xca), 0x01);
    assert_int_equal(lsl_gf256_mul(0xff, 0xff), 0x13);
    assert_int_equal(lsl_gf256_mul(0x00, 0xa5), 0x00);
    assert_int_equal(lsl_gf256_mul(0x01, 0xa5), 0xa5);
}

static void test_gf_inv_known(void **state)
{
    (void)state;
    assert_int_equal(lsl_gf256_inv(0x53), 0xca);
    assert_int_equal(lsl_gf256_inv(0x02), 0x8d);
    assert_int_equal(lsl_gf256_inv(0xff), 0x1c);
    assert_int_equal(lsl_gf256_inv(0x01), 0x01);
    assert_int_equal(lsl_gf256_inv(0x00), 0x00);
}

static void test_gf_field_laws(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 256; a++) {
        if (a)
            assert_int_equal(
                lsl_gf256_mul((uint8_t)a, lsl_gf256_inv((uint8_t)a)), 1);
        for (unsigned b = 0; b < 256; b += 7) {
            uint8_t ab = lsl_gf256_mul((uint8_t)a, (uint8_t)b);

            assert_int_equal(ab, lsl_gf256_mul((uint8_t)b, (uint8_t)a));
            /* Distributes over XOR, the field's addition. */
            assert_int_equal(lsl_gf256_mul((uint8_t)a, (uint8_t)(b ^ 0x3c)),
                             ab ^ lsl_gf256_mul((uint8_t)a, 0x3c));
        }
    }
}

/* Coefficients 1, 2, 3, ... so the split is reproducible. */
static void counting_rand(void *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(i + 1);
}

static void test_split_known(void **state)
{
    static const uint8_t secret[3] = {0x42, 0x00, 0xff};
    static const uint8_t want[5][3] = {
        {0x41, 0x07, 0xfc}, {0x48, 0x16, 0xed}, {0x4b, 0x11, 0xee},
        {0x66, 0x4c, 0x8b}, {0x65, 0x4b, 0x88},
    };
    uint8_t shares[5 * 3], out[3];
    const uint8_t *ys[3] = {shares + 4 * 3, shares, shares + 2 * 3};
    const uint8_t xs[3] = {5, 1, 3};

    (void)state;
    assert_int_equal(lsl_shamir_split(secret, 3, 3, 5, shares, counting_rand),
                     0);
    assert_memory_equal(shares, want, sizeof(want));
    assert_int_equal(lsl_shamir_join(xs, ys, 3, 3, out), 0);
    assert_memory_equal(out, secret, 3);
}

static void test_bad_arguments(void **state)
{
    uint8_t s[4] = {1, 2, 3, 4}, sh[4 * 4], out[4];
    const uint8_t *ys[2] = {sh, sh + 4};
    const uint8_t dup[2] = {1, 1}, zero[2] = {0, 1};

    (void)state;
    assert_int_equal(lsl_shamir_split(s, 4, 0, 4, sh, NULL), -EINVAL);
    assert_int_equal(lsl_shamir_split(s, 4, 5, 4, sh, NULL), -EINVAL);
    assert_int_equal(lsl_shamir_split(s, 0, 2, 4, sh, NULL), -EINVAL);
    assert_int_equal(lsl_shamir_join(dup, ys, 2, 4, out), -EINVAL);
    assert_int_equal(lsl_shamir_join(zero, ys, 2, 4, out), -EINVAL);
}

/* Visit every subset of {0..n-1} of size m as a bit mask. */
static void check_subsets(const uint8_t *shares, const uint8_t *secret,
                          unsigned n, unsigned m, bool must_match)
{
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        const uint8_t *ys[8];
        uint8_t xs[8], out[32];
        unsigned c = 0;

        if ((unsigned)__builtin_popcount(mask) != m)
            continue;
        for (unsigned i = 0; i < n; i++) {
            if (mask & (1u << i)) {
                xs[c] = (uint8_t)(i + 1);
                ys[c++] = shares + i * 32;
            }
        }
        assert_int_equal(lsl_shamir_join(xs, ys, m, 32, out), 0);
        if (must_match)
            assert_memory_equal(out, secret, 32);
        else
            assert_memory_not_equal(out, secret, 32);
    }
}

/*
 * Any k of n rebuild the secret; every k - 1 subset gives something else.
 * Why k - 1 shares reveal nothing: fix k - 1 points (x_i, y_i) with
 * x_i != 0. For each candidate secret s there is exactly one polynomial
 * of degree < k through them and (0, s) (Lagrange), so exactly one choice
 * of the k - 1 random coefficients. The coefficients are uniform, hence
 * every s is equally likely given the k - 1 shares: they carry no
 * information about it. Interpolating k - 1 points "at 0" just picks the
 * degree k - 2 polynomial through them, which misses the true f(0) with
 * probability 255/256 per byte; over 32 random bytes a match is
 * (1/256)^32, so the test below is deterministic in practice.
 */
static void test_any_k_of_n(void **state)
{
    uint8_t secret[32], shares[8 * 32];

    (void)state;
    for (unsigned n = 1; n <= 8; n++) {
        for (unsigned k = 1; k <= n; k++) {
            randombytes_buf(secret, sizeof(secret));
            assert_int_equal(lsl_shamir_split(secret, 32, k, n, shares, NULL),
                             0);
            check_subsets(shares, secret, n, k, true);
            if (k < n)
                check_subsets(shares, secret, n, k + 1, true);
            if (k > 1)
                check_subsets(shares, secret, n, k - 1, false);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gf_mul_known),
        cmocka_unit_test(test_gf_inv_known),
        cmocka_unit_test(test_gf_field_laws),
        cmocka_unit_test(test_split_known),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_any_k_of_n),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
