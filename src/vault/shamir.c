/*
 * Shamir's secret sharing over GF(2^8), byte by byte.
 *
 * Each secret byte s gets its own polynomial f(x) = s + c1 x + ... +
 * c(k-1) x^(k-1) with uniformly random coefficients; share i holds f(i)
 * for every byte. Any k shares determine f, and f(0) = s by Lagrange
 * interpolation. Fewer than k shares reveal nothing: for any candidate
 * secret there is exactly one polynomial of degree k - 1 through the k - 1
 * known points and (0, candidate), and the random coefficients make all of
 * them equally likely.
 *
 * Invariants: arithmetic on secret bytes runs in constant time (masks,
 * never branches or table lookups indexed by data); coefficients live in
 * sodium_malloc memory and are wiped.
 */
#include "vault_internal.h"

uint8_t lsl_gf256_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;

    for (int i = 0; i < 8; i++) {
        /* Masks of all ones or all zeros replace the data branches. */
        r ^= (uint8_t)(-(b & 1u)) & a;
        a = (uint8_t)((a << 1) ^ ((uint8_t)(-(a >> 7)) & 0x1b));
        b >>= 1;
    }
    return r;
}

uint8_t lsl_gf256_inv(uint8_t a)
{
    /* a^254 = a^-1 in GF(2^8)*: a fixed chain of squarings and products. */
    uint8_t a2 = lsl_gf256_mul(a, a);
    uint8_t a3 = lsl_gf256_mul(a2, a);
    uint8_t a6 = lsl_gf256_mul(a3, a3);
    uint8_t a12 = lsl_gf256_mul(a6, a6);
    uint8_t a15 = lsl_gf256_mul(a12, a3);
    uint8_t a30 = lsl_gf256_mul(a15, a15);
    uint8_t a60 = lsl_gf256_mul(a30, a30);
    uint8_t a120 = lsl_gf256_mul(a60, a60);
    uint8_t a126 = lsl_gf256_mul(a120, a6);
    uint8_t a127 = lsl_gf256_mul(a126, a);

    return lsl_gf256_mul(a127, a127);
}

/* Horner evaluation of the byte's polynomial at x. */
static uint8_t poly_eval(uint8_t s, const uint8_t *coef, unsigned ncoef,
                         uint8_t x)
{
    uint8_t y = 0;

    for (unsigned j = ncoef; j > 0; j--)
        y = lsl_gf256_mul(y, x) ^ coef[j - 1];
    return lsl_gf256_mul(y, x) ^ s;
}

int lsl_shamir_split(const uint8_t *secret, size_t len, unsigned k, unsigned n,
                     uint8_t *shares, lsl_shamir_rand_fn rnd)
{
    size_t ncoef = k ? k - 1 : 0;
    uint8_t *coef;

    if (k < 1 || n < k || n > 255 || len == 0)
        return -EINVAL;
    /* Room for at least one byte keeps sodium_malloc(0) out (k == 1). */
    coef = sodium_malloc(ncoef * len + 1);
    if (!coef)
        return -ENOMEM;
    if (ncoef) {
        if (rnd)
            rnd(coef, ncoef * len);
        else
            randombytes_buf(coef, ncoef * len);
    }
    for (size_t b = 0; b < len; b++) {
        for (unsigned i = 0; i < n; i++)
            shares[(size_t)i * len + b] = poly_eval(
                secret[b], coef + b * ncoef, (unsigned)ncoef, (uint8_t)(i + 1));
    }
    sodium_free(coef);
    return 0;
}

/*
 * The Lagrange basis values at 0: l_i = prod_{j != i} x_j / (x_j - x_i),
 * where subtraction is XOR. 0 or -EINVAL for a zero or repeated x.
 */
static int lagrange_at_zero(const uint8_t *xs, unsigned k, uint8_t *l)
{
    for (unsigned i = 0; i < k; i++) {
        uint8_t num = 1, den = 1;

        if (xs[i] == 0)
            return -EINVAL;
        for (unsigned j = 0; j < k; j++) {
            if (j == i)
                continue;
            if (xs[j] == xs[i])
                return -EINVAL;
            num = lsl_gf256_mul(num, xs[j]);
            den = lsl_gf256_mul(den, xs[j] ^ xs[i]);
        }
        l[i] = lsl_gf256_mul(num, lsl_gf256_inv(den));
    }
    return 0;
}

int lsl_shamir_join(const uint8_t *xs, const uint8_t *const *ys, unsigned k,
                    size_t len, uint8_t *secret)
{
    uint8_t l[255];
    int rc;

    if (k < 1 || k > 255)
        return -EINVAL;
    /* The x-coordinates are public: only the share bytes are secret. */
    rc = lagrange_at_zero(xs, k, l);
    if (rc)
        return rc;
    for (size_t b = 0; b < len; b++) {
        uint8_t s = 0;

        for (unsigned i = 0; i < k; i++)
            s ^= lsl_gf256_mul(l[i], ys[i][b]);
        secret[b] = s;
    }
    return 0;
}
