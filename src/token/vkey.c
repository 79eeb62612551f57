/*
 * Verification keys (token.h): checking that a token is what one key
 * epoch makes of a value, without the epoch key.
 *
 * A keyed token is BLAKE2b-128 of the normalized value keyed with the
 * class subkey, cut to 120 bits (keyring.c); a prefix-mode lookup key is
 * the unkeyed hash of the address the value maps to under the address-map
 * subkey (ipmode.c). Both are recomputed here from the subkeys alone.
 *
 * Invariants: subkey copies and digests on the stack are wiped; tokens
 * are pseudonyms, so comparing them needs no constant time.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "keyring_internal.h"
#include "logseal/token.h"

#define SUBKEY_BYTES 32
#define DIGEST_BYTES crypto_generichash_BYTES_MIN

int lsl_token_derive_vkey(const uint8_t vk[LSL_VKEY_BYTES], uint16_t kid,
                          enum lsl_class c, const char *norm, size_t len,
                          struct lsl_token *out)
{
    uint8_t digest[DIGEST_BYTES];

    if ((unsigned)c >= LSL_CLASS_COUNT ||
        crypto_generichash(digest, sizeof(digest), (const uint8_t *)norm, len,
                           vk + (size_t)c * SUBKEY_BYTES, SUBKEY_BYTES) != 0)
        return -EINVAL;
    out->cls = (uint8_t)c;
    out->kid = kid;
    memcpy(out->hash, digest, LSL_TOKEN_HASH_BYTES);
    sodium_memzero(digest, sizeof(digest));
    return 0;
}

int lsl_token_lookup_vkey(const uint8_t vk[LSL_VKEY_BYTES], uint16_t kid,
                          const char *value, size_t len, struct lsl_token *out)
{
    struct lsl_ipaddr in, mapped;
    int rc = lsl_ipaddr_parse(value, len, &in) == 0 &&
                     lsl_ipaddr_prefix_map_key(
                         vk + LSL_CLASS_COUNT * SUBKEY_BYTES, &in, &mapped) == 0
                 ? 0
                 : -EINVAL;

    if (rc == 0)
        lsl_ipaddr_lookup_token(&mapped, kid, out);
    sodium_memzero(&in, sizeof(in));
    return rc;
}

bool lsl_token_verify(const uint8_t vk[LSL_VKEY_BYTES], uint16_t kid,
                      const struct lsl_token *t, const char *value, size_t len)
{
    struct lsl_token keyed;

    if (t->cls >= LSL_CLASS_COUNT || t->kid != kid)
        return false;
    if (lsl_token_derive_vkey(vk, kid, (enum lsl_class)t->cls, value, len,
                              &keyed) == 0 &&
        lsl_token_equal(&keyed, t))
        return true;
    return t->cls == LSL_CLASS_IP &&
           lsl_token_lookup_vkey(vk, kid, value, len, &keyed) == 0 &&
           lsl_token_equal(&keyed, t);
}

/* ---- a verifier: the keyed hash states of one verification key ---- */

struct lsl_token_verifier {
    /* Each class subkey's BLAKE2b state after the key block: a record's
     * check then costs the value's block only. */
    crypto_generichash_state cls[LSL_CLASS_COUNT];
    uint8_t vk[LSL_VKEY_BYTES];
};

int lsl_token_verifier_open(struct lsl_token_verifier **out,
                            const uint8_t vk[LSL_VKEY_BYTES])
{
    struct lsl_token_verifier *v = sodium_malloc(sizeof(*v));

    if (!v)
        return -ENOMEM;
    memcpy(v->vk, vk, LSL_VKEY_BYTES);
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        if (crypto_generichash_init(&v->cls[c], vk + (size_t)c * SUBKEY_BYTES,
                                    SUBKEY_BYTES, DIGEST_BYTES) != 0) {
            sodium_free(v);
            return -EINVAL;
        }
    }
    *out = v;
    return 0;
}

bool lsl_token_verifier_check(const struct lsl_token_verifier *v, uint16_t kid,
                              const struct lsl_token *t, const char *value,
                              size_t len)
{
    crypto_generichash_state st;
    uint8_t digest[DIGEST_BYTES];
    bool ok;

    if (t->cls >= LSL_CLASS_COUNT || t->kid != kid)
        return false;
    st = v->cls[t->cls];
    ok = crypto_generichash_update(&st, (const uint8_t *)value, len) == 0 &&
         crypto_generichash_final(&st, digest, sizeof(digest)) == 0 &&
         memcmp(digest, t->hash, LSL_TOKEN_HASH_BYTES) == 0;
    sodium_memzero(digest, sizeof(digest));
    if (ok || t->cls != LSL_CLASS_IP)
        return ok;
    return lsl_token_verify(v->vk, kid, t, value, len);
}

void lsl_token_verifier_close(struct lsl_token_verifier *v)
{
    sodium_free(v); /* wipes */
}
