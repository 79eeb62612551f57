/*
 * The checkpoint key, and the sealing of a checkpoint's fingerprints.
 *
 * Fingerprints hash raw log bytes: the first lines of a file, the bytes
 * before an offset. Whoever holds one and the pseudonymized line it
 * covers can test guesses of what was pseudonymized: all 2^32 IPv4
 * addresses take minutes. A checkpoint leaves the host when the Kafka sink
 * keeps it in its checkpoint topic, so since version 5 the fingerprints
 * are sealed (XChaCha20-Poly1305) with a key of the host, and the rest of
 * the checkpoint and the source's name are its associated data: without
 * the key a checkpoint can be neither read, altered, forged nor moved
 * onto another source.
 *
 * Key file (KEYS/checkpoint.key), 40 bytes, mode 0600: "LSLCKEY1", then
 * the 32-byte key. Key id: the first 8 bytes of BLAKE2b-128, keyed with
 * the key, of "logseal checkpoint key id", in hex; a checkpoint names the
 * key that sealed it, so "another key" is told apart from "altered".
 *
 * Sealed text: base64 (URL-safe, no padding) of nonce (24 random bytes)
 * || ciphertext || tag. Associated data: BLAKE2b-256 of "lslckpt5", the
 * string the checkpoint is bound to (its source's name; a Kafka record
 * adds its transaction tag), a NUL, and the checkpoint's text before its
 * sealed line.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "ckpt_internal.h"
#include "logseal/file.h"

#define KEY_MAGIC   "LSLCKEY1"
#define KEY_BYTES   crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KID_LABEL   "logseal checkpoint key id"
#define AD_DOMAIN   "lslckpt5"
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct lsl_ckpt_key {
    uint8_t key[KEY_BYTES];
    char id[LSL_CKPT_KID_LEN + 1];
};

/* A new key file; k's key is the scratch space for it. */
static int key_create(const char *path, struct lsl_ckpt_key *k)
{
    crypto_aead_xchacha20poly1305_ietf_keygen(k->key);
    return lsl_keyfile_create(path, KEY_MAGIC, k->key, KEY_BYTES);
}

static int key_load(const char *path, struct lsl_ckpt_key *k)
{
    uint8_t id[crypto_generichash_BYTES_MIN];
    int rc = lsl_keyfile_read(path, KEY_MAGIC, k->key, KEY_BYTES);

    if (rc == 0) {
        crypto_generichash(id, sizeof(id), (const uint8_t *)KID_LABEL,
                           strlen(KID_LABEL), k->key, KEY_BYTES);
        sodium_bin2hex(k->id, sizeof(k->id), id, LSL_CKPT_KID_LEN / 2);
    }
    return rc;
}

int lsl_ckpt_key_open(const char *path, bool create, struct lsl_ckpt_key **out,
                      bool *created)
{
    struct lsl_ckpt_key *k;
    int rc;

    *out = NULL;
    if (created)
        *created = false;
    if (sodium_init() < 0)
        return -EIO;
    k = sodium_malloc(sizeof(*k));
    if (!k)
        return -ENOMEM;
    rc = key_load(path, k);
    if (rc == -ENOENT && create) {
        rc = key_create(path, k);
        if (rc == 0 && created)
            *created = true;
        /* -EEXIST: another process made it first; that one counts. */
        if (rc == 0 || rc == -EEXIST)
            rc = key_load(path, k);
    }
    if (rc) {
        sodium_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void lsl_ckpt_key_free(struct lsl_ckpt_key *k)
{
    if (k)
        sodium_free(k); /* wipes it */
}

const char *lsl_ckpt_key_id(const struct lsl_ckpt_key *k)
{
    return k->id;
}

static void make_ad(const char *source, const char *outer, size_t outer_len,
                    uint8_t ad[crypto_generichash_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)AD_DOMAIN,
                              strlen(AD_DOMAIN));
    crypto_generichash_update(&st, (const uint8_t *)source, strlen(source) + 1);
    crypto_generichash_update(&st, (const uint8_t *)outer, outer_len);
    crypto_generichash_final(&st, ad, crypto_generichash_BYTES);
}

int lsl_ckpt_seal(const struct lsl_ckpt_key *k, const char *source,
                  const char *outer, size_t outer_len, const char *inner,
                  size_t inner_len, char *out, size_t cap)
{
    size_t blen = NONCE_BYTES + inner_len + TAG_BYTES;
    uint8_t ad[crypto_generichash_BYTES];
    uint8_t *box;

    if (cap < sodium_base64_ENCODED_LEN(blen, B64_VARIANT))
        return -ENAMETOOLONG;
    box = malloc(blen); /* a nonce and ciphertext: nothing to wipe */
    if (!box)
        return -ENOMEM;
    make_ad(source, outer, outer_len, ad);
    randombytes_buf(box, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        box + NONCE_BYTES, NULL, (const uint8_t *)inner, inner_len, ad,
        sizeof(ad), NULL, box, k->key);
    sodium_bin2base64(out, cap, box, blen, B64_VARIANT);
    free(box);
    return 0;
}

int lsl_ckpt_unseal(const struct lsl_ckpt_key *k, const char *source,
                    const char *outer, size_t outer_len, const char *b64,
                    size_t b64_len, char *inner, size_t cap, size_t *len)
{
    uint8_t ad[crypto_generichash_BYTES];
    size_t blen = 0;
    uint8_t *box = b64_len ? malloc(b64_len) : NULL;
    int rc = LSL_ECORRUPT;

    if (b64_len == 0)
        return rc;
    if (!box)
        return -ENOMEM;
    if (sodium_base642bin(box, b64_len, b64, b64_len, NULL, &blen, NULL,
                          B64_VARIANT) != 0 ||
        blen < NONCE_BYTES + TAG_BYTES)
        goto out;
    rc = -ENAMETOOLONG;
    if (blen - NONCE_BYTES - TAG_BYTES > cap)
        goto out;
    make_ad(source, outer, outer_len, ad);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
             (uint8_t *)inner, NULL, NULL, box + NONCE_BYTES,
             blen - NONCE_BYTES, ad, sizeof(ad), box, k->key) == 0
             ? 0
             : LSL_EAUTH;
    *len = rc == 0 ? blen - NONCE_BYTES - TAG_BYTES : 0;
out:
    free(box);
    return rc;
}
