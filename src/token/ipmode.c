/*
 * Addresses for the IP output modes other than the plain token: parsing
 * into binary, truncation, the keyed prefix-preserving map and the vault
 * lookup key of its output.
 *
 * Prefix-preserving map (Crypto-PAn's construction with BLAKE2b as the
 * PRF): output bit i = input bit i XOR f(i, first i input bits). To spend
 * one hash per byte instead of one per bit, f for the eight bits of byte j
 * comes from a single keyed BLAKE2b-256 over (family, j, bytes 0..j-1):
 * its first 255 bits form a binary tree indexed by the bits of byte j
 * already seen (bit b of the byte uses tree node 2^b - 1 + those b bits).
 * Every output bit still depends only on its own input bit and the input
 * bits before it, so the map preserves prefixes exactly and is a
 * bijection; the family byte keeps IPv4 and IPv6 maps independent.
 *
 * Invariant: nothing here keeps state; the subkey is the keyring's,
 * read-only, so concurrent callers need no locks.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "ipaddr_internal.h"
#include "keyring_internal.h"
#include "logseal/token.h"

#define PRF_BYTES  32 /* 255 tree bits per address byte */
#define LOOKUP_TAG "logseal/ip-prefix-lookup/v1"

/* Longest text normalize_ip reads as an address, and its output room. */
#define PARSE_TEXT_MAX 128

static int parse_exact(const char *s, size_t len, struct lsl_ipaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (!memchr(s, ':', len)) {
        if (!lsl_ip4_parse(s, len, out->a))
            return -EINVAL;
        out->bits = 32;
        return 0;
    }
    if (!lsl_ip6_parse(s, len, out->a))
        return -EINVAL;
    out->bits = 128;
    if (lsl_ip6_is_v4_mapped(out->a)) {
        memmove(out->a, out->a + 12, 4);
        memset(out->a + 4, 0, 12);
        out->bits = 32;
    }
    return 0;
}

/* Any other spelling (percent-encoded, 0xC0A80001, 1-2-3-4) goes through
 * the normalization the token of the same value would take. */
int lsl_ipaddr_parse(const char *s, size_t len, struct lsl_ipaddr *out)
{
    char norm[PARSE_TEXT_MAX + LSL_NORM_SLACK];
    long n;

    if (parse_exact(s, len, out) == 0)
        return 0;
    if (len > PARSE_TEXT_MAX)
        return -EINVAL;
    n = lsl_token_normalize(LSL_CLASS_IP, s, len, norm, sizeof(norm));
    if (n < 0 || ((size_t)n == len && memcmp(norm, s, len) == 0))
        return -EINVAL;
    return parse_exact(norm, (size_t)n, out);
}

size_t lsl_ipaddr_format(const struct lsl_ipaddr *ip, char out[LSL_IP_TEXT_MAX])
{
    size_t n;

    if (ip->bits == 128)
        return lsl_ip6_format(ip->a, out);
    n = lsl_ip4_format(ip->a, out);
    out[n] = '\0';
    return n;
}

void lsl_ipaddr_truncate(struct lsl_ipaddr *ip, unsigned keep)
{
    unsigned nbytes = ip->bits / 8;

    if (keep == 0)
        keep = ip->bits == 32 ? LSL_IP4_TRUNCATE_DEFAULT
                              : LSL_IP6_TRUNCATE_DEFAULT;
    if (keep >= ip->bits)
        return;
    if (keep % 8)
        ip->a[keep / 8] &= (uint8_t)(0xff00u >> (keep % 8));
    for (unsigned i = (keep + 7) / 8; i < nbytes; i++)
        ip->a[i] = 0;
}

/* The flips of the eight bits of byte j of `in`, from one PRF call. */
static int byte_flips(const uint8_t *key, const struct lsl_ipaddr *in,
                      unsigned j, uint8_t *flips)
{
    uint8_t msg[2 + 16], tree[PRF_BYTES];
    unsigned byte = in->a[j];

    msg[0] = in->bits == 32 ? 4 : 6;
    msg[1] = (uint8_t)j;
    memcpy(msg + 2, in->a, j);
    if (crypto_generichash(tree, sizeof(tree), msg, 2 + j, key,
                           LSL_IPMAP_KEY_BYTES) != 0)
        return -EIO;
    *flips = 0;
    for (unsigned b = 0; b < 8; b++) {
        unsigned node = (1u << b) - 1 + (byte >> (8 - b));

        *flips |= (uint8_t)(((tree[node >> 3] >> (node & 7)) & 1) << (7 - b));
    }
    sodium_memzero(tree, sizeof(tree));
    sodium_memzero(msg, sizeof(msg));
    return 0;
}

int lsl_ipaddr_prefix_map_key(const uint8_t key[LSL_IPMAP_KEY_BYTES],
                              const struct lsl_ipaddr *in,
                              struct lsl_ipaddr *out)
{
    struct lsl_ipaddr res = {.bits = in->bits};
    uint8_t flips;
    int rc = 0;

    if (in->bits != 32 && in->bits != 128)
        return -EINVAL;
    for (unsigned j = 0; rc == 0 && j < in->bits / 8u; j++) {
        rc = byte_flips(key, in, j, &flips);
        res.a[j] = in->a[j] ^ flips;
    }
    if (rc == 0)
        *out = res;
    return rc;
}

int lsl_ipaddr_prefix_map(const struct lsl_keyring *kr, int64_t when,
                          const struct lsl_ipaddr *in, struct lsl_ipaddr *out)
{
    uint8_t key[LSL_IPMAP_KEY_BYTES];
    int rc;

    if (in->bits != 32 && in->bits != 128)
        return -EINVAL;
    rc = lsl_keyring_ipmap_key(kr, when, key);
    if (rc == 0)
        rc = lsl_ipaddr_prefix_map_key(key, in, out);
    sodium_memzero(key, sizeof(key));
    return rc;
}

void lsl_ipaddr_lookup_token(const struct lsl_ipaddr *out_addr, uint16_t kid,
                             struct lsl_token *tok)
{
    uint8_t digest[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;

    /* Unkeyed: it must be recomputable from the printed address. */
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, (const uint8_t *)LOOKUP_TAG,
                              sizeof(LOOKUP_TAG));
    crypto_generichash_update(&st, &out_addr->bits, 1);
    crypto_generichash_update(&st, out_addr->a, out_addr->bits / 8u);
    crypto_generichash_final(&st, digest, sizeof(digest));
    tok->cls = LSL_CLASS_IP;
    tok->kid = kid;
    memcpy(tok->hash, digest, LSL_TOKEN_HASH_BYTES);
}
