/*
 * Fuzz target: Shamir's secret sharing behind the officer key shares.
 * Input: byte 0 = threshold k, byte 1 = count n, bytes 2.. pick which
 * shares are joined (one x per byte), the rest is the secret (up to 64
 * bytes). The polynomial's random coefficients come from the input too,
 * so a crash replays. Any k distinct shares must give the secret back;
 * split and join refuse bad arguments with -EINVAL and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "src/vault/vault_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *coef;
static size_t ncoef, coef_at;

/* Deterministic "random" coefficients: the input's bytes, cycled. */
static void input_rand(void *buf, size_t len)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++)
        p[i] = ncoef ? coef[coef_at++ % ncoef] : (uint8_t)i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t secret[64], back[64], xs[255];
    const uint8_t *ys[255];
    uint8_t *shares;
    unsigned k, n, picked = 0;
    size_t len, at = 2;
    int rc;

    if (size < 3)
        return 0;
    /* The public callers initialise libsodium before using this. */
    FZ_CHECK(lsl_vault_sodium_init() == 0);
    k = data[0];
    n = data[1];
    /* The picks: distinct x in 1..n, as many as the input gives, up to k. */
    while (at < size && picked < k && n > 0) {
        uint8_t x = (uint8_t)(data[at++] % n + 1);

        if (!memchr(xs, x, picked))
            xs[picked++] = x;
    }
    len = size - at < sizeof(secret) ? size - at : sizeof(secret);
    memcpy(secret, data + at, len);
    coef = data;
    ncoef = size;
    coef_at = 0;
    shares = malloc((n ? n : 1) * (len ? len : 1));
    FZ_CHECK(shares != NULL);
    rc = lsl_shamir_split(secret, len, k, n, shares, input_rand);
    if (k < 1 || k > n || n > 255) {
        FZ_CHECK(rc == -EINVAL);
        goto out;
    }
    FZ_CHECK(rc == 0 || (rc == -EINVAL && len == 0));
    if (rc || picked < k)
        goto out;
    for (unsigned i = 0; i < k; i++)
        ys[i] = shares + (size_t)(xs[i] - 1) * len;
    FZ_CHECK(lsl_shamir_join(xs, ys, k, len, back) == 0);
    FZ_CHECK(memcmp(back, secret, len) == 0);
out:
    free(shares);
    return 0;
}
