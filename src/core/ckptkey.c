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
 * Rotation: `keygen --rotate-checkpoint-key` keeps the key it replaces as
 * checkpoint.key.old, which is loaded too (same rules). A checkpoint is
 * opened with the key its `key` line names; a checkpoint sealed with the
 * old key is sealed with the new one at its next commit, and once none is
 * left the old file can go.
 *
 * Sealed text: base64 (URL-safe, no padding) of nonce (24 random bytes)
 * || ciphertext || tag. Associated data: BLAKE2b-256 of "lslckpt5", the
 * string the checkpoint is bound to (its source's name; a Kafka record
 * adds its transaction tag), a NUL, and the checkpoint's text before its
 * sealed line.
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ckpt_internal.h"
#include "logseal/file.h"

#define KEY_MAGIC   "LSLCKEY1"
#define KEY_BYTES   crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KID_LABEL   "logseal checkpoint key id"
#define AD_DOMAIN   "lslckpt5"
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct ckey {
    uint8_t key[KEY_BYTES];
    char id[LSL_CKPT_KID_LEN + 1];
};

struct lsl_ckpt_key {
    struct ckey cur;
    struct ckey prev; /* checkpoint.key.old, during a rotation */
    bool has_prev;
};

/* A new key file; k's key is the scratch space for it. */
static int key_create(const char *path, struct ckey *k)
{
    crypto_aead_xchacha20poly1305_ietf_keygen(k->key);
    return lsl_keyfile_create(path, KEY_MAGIC, k->key, KEY_BYTES);
}

static void key_name(struct ckey *k)
{
    uint8_t id[crypto_generichash_BYTES_MIN];

    crypto_generichash(id, sizeof(id), (const uint8_t *)KID_LABEL,
                       strlen(KID_LABEL), k->key, KEY_BYTES);
    sodium_bin2hex(k->id, sizeof(k->id), id, LSL_CKPT_KID_LEN / 2);
}

static int key_load(const char *path, struct ckey *k)
{
    int rc = lsl_keyfile_read(path, KEY_MAGIC, k->key, KEY_BYTES);

    if (rc == 0)
        key_name(k);
    return rc;
}

/* path + suffix into out (PATH_MAX bytes). */
static int side_path(char *out, const char *path, const char *suffix)
{
    return snprintf(out, PATH_MAX, "%s%s", path, suffix) >= PATH_MAX
               ? -ENAMETOOLONG
               : 0;
}

/* path.old, the key a rotation replaced, if there is one. */
static int prev_load(const char *path, struct lsl_ckpt_key *k)
{
    char old[PATH_MAX];
    int rc = side_path(old, path, LSL_CKPT_KEY_OLD);

    if (rc)
        return rc;
    rc = key_load(old, &k->prev);
    k->has_prev = rc == 0;
    return rc == -ENOENT ? 0 : rc;
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
    rc = key_load(path, &k->cur);
    if (rc == -ENOENT && create) {
        rc = key_create(path, &k->cur);
        if (rc == 0 && created)
            *created = true;
        /* -EEXIST: another process made it first; that one counts. */
        if (rc == 0 || rc == -EEXIST)
            rc = key_load(path, &k->cur);
    }
    if (rc == 0)
        rc = prev_load(path, k);
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
    return k->cur.id;
}

const char *lsl_ckpt_key_prev_id(const struct lsl_ckpt_key *k)
{
    return k->has_prev ? k->prev.id : NULL;
}

int lsl_ckpt_key_which(const struct lsl_ckpt_key *k, const char *kid)
{
    if (!kid || strncmp(kid, k->cur.id, LSL_CKPT_KID_LEN) == 0)
        return LSL_CKPT_KEY_CUR;
    if (k->has_prev && strncmp(kid, k->prev.id, LSL_CKPT_KID_LEN) == 0)
        return LSL_CKPT_KEY_PREV;
    return LSL_EOTHERKEY;
}

/*
 * The old key is linked as path.old first, so path always holds a key;
 * the new one is written beside it (exclusively, 0600) and renamed over
 * path. Undone if the rename did not happen.
 */
static int swap_in(const char *path, struct ckey *next)
{
    char old[PATH_MAX], tmp[PATH_MAX];
    int rc = side_path(old, path, LSL_CKPT_KEY_OLD);

    if (rc == 0)
        rc = side_path(tmp, path, ".new");
    if (rc)
        return rc;
    if (link(path, old) != 0)
        return -errno;
    (void)unlink(tmp); /* left by a rotation that was cut short */
    crypto_aead_xchacha20poly1305_ietf_keygen(next->key);
    rc = lsl_keyfile_create(tmp, KEY_MAGIC, next->key, KEY_BYTES);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc) {
        (void)unlink(tmp);
        (void)unlink(old);
        return rc;
    }
    key_name(next);
    return lsl_fsync_parent(path);
}

int lsl_ckpt_key_rotate(const char *path, char old_id[LSL_CKPT_KID_LEN + 1],
                        char new_id[LSL_CKPT_KID_LEN + 1])
{
    struct lsl_ckpt_key *k = NULL;
    int rc = lsl_ckpt_key_open(path, false, &k, NULL);

    if (rc)
        return rc;
    if (k->has_prev) {
        rc = -EEXIST;
        goto out;
    }
    memcpy(old_id, k->cur.id, sizeof(k->cur.id));
    rc = swap_in(path, &k->prev); /* k->prev: scratch, wiped with k */
    if (rc == 0)
        memcpy(new_id, k->prev.id, sizeof(k->prev.id));
out:
    lsl_ckpt_key_free(k);
    return rc;
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
        sizeof(ad), NULL, box, k->cur.key);
    sodium_bin2base64(out, cap, box, blen, B64_VARIANT);
    free(box);
    return 0;
}

int lsl_ckpt_unseal(const struct lsl_ckpt_key *k, int which, const char *source,
                    const char *outer, size_t outer_len, const char *b64,
                    size_t b64_len, char *inner, size_t cap, size_t *len)
{
    const struct ckey *c = which == LSL_CKPT_KEY_PREV ? &k->prev : &k->cur;
    uint8_t ad[crypto_generichash_BYTES];
    size_t blen = 0;
    uint8_t *box;
    int rc = LSL_ECORRUPT;

    if (b64_len == 0)
        return rc;
    box = malloc(b64_len);
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
             blen - NONCE_BYTES, ad, sizeof(ad), box, c->key) == 0
             ? 0
             : LSL_EAUTH;
    *len = rc == 0 ? blen - NONCE_BYTES - TAG_BYTES : 0;
out:
    free(box);
    return rc;
}
