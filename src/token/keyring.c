/*
 * Keyring: the daemon's secret hashing key and the per-class subkeys that
 * tokens are derived with.
 *
 * Hash key file, 56 bytes, little endian, mode 0600:
 *
 *   0  "LSLHKEY1"     8  magic
 *   8  version        1  = 1
 *   9  epoch_len      1  enum lsl_epoch_len
 *  10  reserved       2  = 0
 *  12  epoch          4  key epoch counter; kid = epoch % 1024
 *  16  epoch_start    8  unix seconds the epoch began
 *  24  key           32  epoch key
 *
 * Subkey of class c: crypto_kdf_derive_from_key(id = c + 1, ctx
 * "lsltoken", epoch key); a token body is BLAKE2b-128 of the normalized
 * value keyed with it, truncated to 120 bits (libsodium refuses outputs
 * shorter than crypto_generichash_BYTES_MIN = 16).
 *
 * Address-map subkey (prefix-preserving IP mode): crypto_kdf_derive_from_key
 * (id 1, ctx "lslipmap", epoch key); a context of its own, so it can never
 * equal a class subkey.
 *
 * Epochs: only LSL_EPOCH_NEVER (one fixed key) is implemented. The file
 * already carries epoch_len, epoch and epoch_start so that ratcheting
 * (derive the next epoch key from the current one, rewrite the file,
 * destroy the old key) needs no format change; until it exists, files that
 * ask for another epoch length are refused with -ENOTSUP rather than used
 * with a key that never ratchets.
 *
 * Invariant: after open, the secret block is read-only (sodium_mprotect)
 * and nothing in the keyring changes, so any number of threads may derive
 * tokens from one keyring without locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "logseal/file.h"
#include "logseal/token.h"
#include "keyring_int.h"

#define KEYFILE_MAGIC     "LSLHKEY1"
#define KEYFILE_MAGIC_LEN 8
#define KEYFILE_VERSION   1
#define KEYFILE_SIZE      56
#define OFF_VERSION       8
#define OFF_EPOCH_LEN     9
#define OFF_RESERVED      10
#define OFF_EPOCH         12
#define OFF_EPOCH_START   16
#define OFF_KEY           24
#define KEY_BYTES         crypto_kdf_KEYBYTES
#define KDF_CONTEXT       "lsltoken"
#define KDF_IPMAP_CONTEXT "lslipmap"
/* Tokens carry the epoch id in 10 bits (LSL_TOKEN_KID_CHARS base32). */
#define KID_MOD      1024u
#define DIGEST_BYTES crypto_generichash_BYTES_MIN

struct keyring_secret {
    uint8_t key[KEY_BYTES];
    uint8_t sub[LSL_CLASS_COUNT][KEY_BYTES];
    uint8_t ipmap[KEY_BYTES];
};

struct lsl_keyring {
    enum lsl_epoch_len epoch_len;
    uint32_t epoch;
    int64_t epoch_start;
    struct keyring_secret *sec; /* sodium_malloc, read-only once built */
};

static void store_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int crypto_ready(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

int lsl_keyring_create(const char *path, enum lsl_epoch_len epoch_len)
{
    uint8_t *img;
    int rc;

    if ((unsigned)epoch_len > LSL_EPOCH_MONTH)
        return -EINVAL;
    if (epoch_len != LSL_EPOCH_NEVER)
        return -ENOTSUP;
    rc = crypto_ready();
    if (rc)
        return rc;
    img = sodium_malloc(KEYFILE_SIZE);
    if (!img)
        return -ENOMEM;
    memset(img, 0, KEYFILE_SIZE);
    memcpy(img, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN);
    img[OFF_VERSION] = KEYFILE_VERSION;
    img[OFF_EPOCH_LEN] = (uint8_t)epoch_len;
    store_le(img + OFF_EPOCH_START, (uint64_t)(int64_t)time(NULL), 8);
    randombytes_buf(img + OFF_KEY, KEY_BYTES);
    rc = lsl_file_create_excl(path, 0600, img, KEYFILE_SIZE);
    sodium_free(img); /* wipes the key copy */
    return rc;
}

static int check_header(const uint8_t *img)
{
    if (memcmp(img, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) != 0)
        return LSL_EFORMAT;
    if (img[OFF_VERSION] != KEYFILE_VERSION)
        return LSL_EVERSION;
    if (img[OFF_EPOCH_LEN] > LSL_EPOCH_MONTH ||
        load_le(img + OFF_RESERVED, 2) != 0)
        return LSL_EFORMAT;
    if (img[OFF_EPOCH_LEN] != LSL_EPOCH_NEVER)
        return -ENOTSUP;
    return 0;
}

/* Copy the epoch key and derive the class subkeys; then seal read-only. */
static int build_secret(struct lsl_keyring *kr, const uint8_t *key)
{
    kr->sec = sodium_malloc(sizeof(*kr->sec));
    if (!kr->sec)
        return -ENOMEM;
    memcpy(kr->sec->key, key, KEY_BYTES);
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        if (crypto_kdf_derive_from_key(kr->sec->sub[c], KEY_BYTES, c + 1,
                                       KDF_CONTEXT, kr->sec->key) != 0)
            return -EIO;
    }
    if (crypto_kdf_derive_from_key(kr->sec->ipmap, KEY_BYTES, 1,
                                   KDF_IPMAP_CONTEXT, kr->sec->key) != 0)
        return -EIO;
    /* Defence in depth only: a failure leaves the memory writable. */
    (void)sodium_mprotect_readonly(kr->sec);
    return 0;
}

int lsl_keyring_open(struct lsl_keyring **out, const char *path)
{
    struct lsl_keyring *kr = NULL;
    uint8_t *img = NULL;
    int rc;

    rc = crypto_ready();
    if (rc)
        goto fail;
    img = sodium_malloc(KEYFILE_SIZE);
    kr = calloc(1, sizeof(*kr));
    if (!img || !kr) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = lsl_secret_file_read(path, img, KEYFILE_SIZE);
    if (rc)
        goto fail;
    rc = check_header(img);
    if (rc)
        goto fail;
    kr->epoch_len = (enum lsl_epoch_len)img[OFF_EPOCH_LEN];
    kr->epoch = (uint32_t)load_le(img + OFF_EPOCH, 4);
    kr->epoch_start = (int64_t)load_le(img + OFF_EPOCH_START, 8);
    rc = build_secret(kr, img + OFF_KEY);
    if (rc)
        goto fail;
    sodium_free(img);
    *out = kr;
    return 0;
fail:
    sodium_free(img);
    lsl_keyring_close(kr);
    return rc;
}

void lsl_keyring_close(struct lsl_keyring *kr)
{
    if (!kr)
        return;
    /* sodium_free makes the block writable again and wipes it. */
    sodium_free(kr->sec);
    free(kr);
}

uint16_t lsl_keyring_kid(const struct lsl_keyring *kr, int64_t when)
{
    /* With a fixed key the epoch never changes; ratchets will map `when`
     * to its epoch here. */
    (void)when;
    return (uint16_t)(kr->epoch % KID_MOD);
}

int lsl_token_derive(const struct lsl_keyring *kr, int64_t when,
                     enum lsl_class c, const char *norm, size_t len,
                     struct lsl_token *out)
{
    uint8_t digest[DIGEST_BYTES];

    if ((unsigned)c >= LSL_CLASS_COUNT)
        return -EINVAL;
    if (crypto_generichash(digest, sizeof(digest), (const uint8_t *)norm, len,
                           kr->sec->sub[c], KEY_BYTES) != 0)
        return -EINVAL;
    out->cls = (uint8_t)c;
    out->kid = lsl_keyring_kid(kr, when);
    memcpy(out->hash, digest, LSL_TOKEN_HASH_BYTES);
    return 0;
}

const uint8_t *lsl_keyring_ipmap_key(const struct lsl_keyring *kr,
                                     int64_t when)
{
    /* One epoch while keys are fixed; ratchets will pick by `when`. */
    (void)when;
    return kr->sec->ipmap;
}
