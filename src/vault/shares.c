/*
 * Officer key shares: the officer secret split k of n (shamir.c), each
 * share sealed in its own file with its holder's passphrase (Argon2id +
 * crypto_secretbox). Layout in vault.h.
 *
 * Invariants: shares, passphrase-derived keys and the rebuilt secret live
 * only in sodium_malloc memory and are wiped; a rebuilt secret is accepted
 * only if it derives the public key recorded in the shares; every failure
 * names the share (by index into the caller's list) and says why.
 */
#include <stdint.h>
#include <unistd.h>
#include "logseal/file.h"
#include "vault_internal.h"

#define SHARE_MAGIC     "LSLSHAR1"
#define SHARE_MAGIC_LEN 8
#define SALT_BYTES      crypto_pwhash_SALTBYTES
#define HDR_BYTES                                                              \
    (SHARE_MAGIC_LEN + 4 + LSL_VAULT_PUBKEY_BYTES + 16 + SALT_BYTES)
#define Y_BYTES     LSL_VAULT_SECKEY_BYTES
#define PLAIN_BYTES (HDR_BYTES + Y_BYTES)
#define NONCE_OFF   HDR_BYTES
#define BOX_OFF     (NONCE_OFF + crypto_secretbox_NONCEBYTES)
#define FILE_BYTES  (BOX_OFF + crypto_secretbox_MACBYTES + PLAIN_BYTES)

/* Header field offsets. */
#define OFF_K    8
#define OFF_X    9
#define OFF_N    10
#define OFF_PK   12
#define OFF_OPS  (OFF_PK + LSL_VAULT_PUBKEY_BYTES)
#define OFF_MEM  (OFF_OPS + 8)
#define OFF_SALT (OFF_MEM + 8)

/* One opened share. */
struct share {
    uint8_t k, x, n;
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
    uint8_t y[Y_BYTES];
};

void lsl_shares_opts_init(struct lsl_shares_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
    o->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
}

static bool limits_ok(unsigned long long ops, uint64_t mem)
{
    /* The upper bounds keep a forged header from asking for GiBs. */
    return ops >= crypto_pwhash_OPSLIMIT_MIN &&
           ops <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
           mem >= crypto_pwhash_MEMLIMIT_MIN &&
           mem <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

/* The box key from a passphrase and the header's salt and limits. */
static int box_key(uint8_t key[crypto_secretbox_KEYBYTES], const char *pass,
                   const uint8_t *hdr)
{
    if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, strlen(pass),
                      hdr + OFF_SALT, lsl_get_le(hdr + OFF_OPS, 8),
                      (size_t)lsl_get_le(hdr + OFF_MEM, 8),
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM; /* the only way it fails with valid limits */
    return 0;
}

/* Seal share y for x into a file image. 0 or -ENOMEM. */
static int seal_share(uint8_t *file, const struct lsl_officer_key *k,
                      const struct lsl_shares_opts *o, unsigned i,
                      const uint8_t *y)
{
    uint8_t *key, *plain;
    int rc;

    memcpy(file, SHARE_MAGIC, SHARE_MAGIC_LEN);
    file[OFF_K] = (uint8_t)o->threshold;
    file[OFF_X] = (uint8_t)(i + 1);
    file[OFF_N] = (uint8_t)o->count;
    file[OFF_N + 1] = 0;
    lsl_officer_key_public(k, file + OFF_PK);
    lsl_put_le(file + OFF_OPS, o->opslimit, 8);
    lsl_put_le(file + OFF_MEM, o->memlimit, 8);
    randombytes_buf(file + OFF_SALT, SALT_BYTES);
    randombytes_buf(file + NONCE_OFF, crypto_secretbox_NONCEBYTES);
    key = sodium_malloc(crypto_secretbox_KEYBYTES + PLAIN_BYTES);
    if (!key)
        return -ENOMEM;
    plain = key + crypto_secretbox_KEYBYTES;
    rc = box_key(key, o->passphrases[i], file);
    if (rc == 0) {
        memcpy(plain, file, HDR_BYTES);
        memcpy(plain + HDR_BYTES, y, Y_BYTES);
        crypto_secretbox_easy(file + BOX_OFF, plain, PLAIN_BYTES,
                              file + NONCE_OFF, key);
    }
    sodium_free(key);
    return rc;
}

/* Two passphrases equal: one holder could open two shares. */
static bool same(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

static int check_write_opts(const struct lsl_shares_opts *o)
{
    if (o->count < 2 || o->count > LSL_SHARES_MAX || o->threshold < 2 ||
        o->threshold > o->count || !o->paths || !o->passphrases ||
        !limits_ok(o->opslimit, o->memlimit))
        return -EINVAL;
    for (unsigned i = 0; i < o->count; i++) {
        if (!o->passphrases[i] ||
            strlen(o->passphrases[i]) < LSL_PASSPHRASE_MIN)
            return -EINVAL;
        for (unsigned j = 0; j < i; j++) {
            if (same(o->passphrases[i], o->passphrases[j]))
                return -EINVAL;
        }
    }
    return 0;
}

int lsl_officer_shares_write(const struct lsl_officer_key *k,
                             const struct lsl_shares_opts *o)
{
    uint8_t file[FILE_BYTES];
    uint8_t *ys = NULL;
    unsigned made = 0;
    int rc;

    rc = check_write_opts(o);
    if (rc == 0)
        rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    ys = sodium_malloc((size_t)o->count * Y_BYTES);
    if (!ys)
        return -ENOMEM;
    rc = lsl_shamir_split(lsl_officer_key_sk(k), Y_BYTES, o->threshold,
                          o->count, ys, NULL);
    while (rc == 0 && made < o->count) {
        rc = seal_share(file, k, o, made, ys + (size_t)made * Y_BYTES);
        if (rc == 0)
            rc = lsl_file_create_excl(o->paths[made], 0600, file, FILE_BYTES);
        if (rc == 0)
            made++;
    }
    /* Shares of a split that did not complete are worthless: remove. */
    if (rc) {
        for (unsigned i = 0; i < made; i++)
            unlink(o->paths[i]);
    }
    sodium_free(ys);
    return rc;
}

/* Read and open one share file. 0 or an error with *why set. */
static int open_share(const char *path, const char *pass, struct share *s,
                      const char **why)
{
    uint8_t file[FILE_BYTES];
    uint8_t *key, *plain;
    int rc;

    *why = "cannot read the share file";
    rc = lsl_secret_file_read(path, file, FILE_BYTES);
    if (rc)
        return rc;
    *why = "not a logseal share file";
    if (memcmp(file, SHARE_MAGIC, SHARE_MAGIC_LEN) != 0 ||
        !limits_ok(lsl_get_le(file + OFF_OPS, 8),
                   lsl_get_le(file + OFF_MEM, 8)))
        return LSL_EFORMAT;
    key = sodium_malloc(crypto_secretbox_KEYBYTES + PLAIN_BYTES);
    if (!key)
        return -ENOMEM;
    plain = key + crypto_secretbox_KEYBYTES;
    rc = box_key(key, pass, file);
    if (rc == 0 &&
        (crypto_secretbox_open_easy(plain, file + BOX_OFF, FILE_BYTES - BOX_OFF,
                                    file + NONCE_OFF, key) != 0 ||
         memcmp(plain, file, HDR_BYTES) != 0)) {
        *why = "wrong passphrase, or the share file is damaged";
        rc = LSL_EAUTH;
    }
    if (rc == 0) {
        s->k = file[OFF_K];
        s->x = file[OFF_X];
        s->n = file[OFF_N];
        memcpy(s->pk, file + OFF_PK, LSL_VAULT_PUBKEY_BYTES);
        memcpy(s->y, plain + HDR_BYTES, Y_BYTES);
    }
    sodium_free(key);
    return rc;
}

/* Check share i against the reference (expected key, first share, rest). */
static int check_share(const struct share *sh, size_t i,
                       const uint8_t *expect_pk, const char **why)
{
    const uint8_t *pk = expect_pk ? expect_pk : sh[0].pk;

    if (memcmp(sh[i].pk, pk, LSL_VAULT_PUBKEY_BYTES) != 0) {
        *why = expect_pk ? "the share belongs to another vault (its public "
                           "key differs from vault.pub)"
                         : "the share belongs to another vault than the "
                           "first share";
        return LSL_EAUTH;
    }
    if (sh[i].k != sh[0].k || sh[i].n != sh[0].n || sh[i].k == 0 ||
        sh[i].x == 0) {
        *why = "the share is from another split (threshold or count "
               "differ from the first share)";
        return LSL_EAUTH;
    }
    for (size_t j = 0; j < i; j++) {
        if (sh[j].x == sh[i].x) {
            *why = "the same share was given twice";
            return LSL_EAUTH;
        }
    }
    return 0;
}

/* Combine the first k opened shares into the key they must derive. */
static int combine(struct lsl_officer_key **out, const struct share *sh,
                   unsigned k, struct lsl_shares_status *st)
{
    const uint8_t *ys[LSL_SHARES_MAX];
    uint8_t xs[LSL_SHARES_MAX];
    uint8_t *secret;
    int rc;

    secret = sodium_malloc(LSL_VAULT_SECKEY_BYTES);
    if (!secret)
        return -ENOMEM;
    for (unsigned i = 0; i < k; i++) {
        xs[i] = sh[i].x;
        ys[i] = sh[i].y;
    }
    rc = lsl_shamir_join(xs, ys, k, LSL_VAULT_SECKEY_BYTES, secret);
    if (rc == 0)
        rc = lsl_officer_key_from_sk(out, secret, sh[0].pk);
    if (rc == LSL_EAUTH || rc == -EINVAL) {
        rc = LSL_EAUTH;
        st->why = "the shares do not rebuild their vault's key (a share "
                  "was altered by someone who knew its passphrase)";
    }
    sodium_free(secret);
    return rc;
}

int lsl_officer_key_from_shares(struct lsl_officer_key **out,
                                const char *const *paths,
                                const char *const *passphrases, size_t n,
                                const uint8_t *expect_pk,
                                struct lsl_shares_status *st)
{
    struct lsl_shares_status local;
    struct share *sh = NULL;
    size_t i = 0;
    int rc;

    if (!st)
        st = &local;
    *st = (struct lsl_shares_status){.bad = SIZE_MAX};
    rc = n == 0 || n > LSL_SHARES_MAX ? -EINVAL : lsl_vault_sodium_init();
    if (rc == 0) {
        sh = sodium_malloc(n * sizeof(*sh));
        rc = sh ? 0 : -ENOMEM;
    }
    for (; rc == 0 && i < n; i++) {
        rc = open_share(paths[i], passphrases[i], &sh[i], &st->why);
        if (rc == 0)
            rc = check_share(sh, i, expect_pk, &st->why);
        if (rc)
            st->bad = i;
    }
    if (rc == 0) {
        st->threshold = sh[0].k;
        st->why = NULL;
        if (n < sh[0].k) {
            st->why = "too few shares";
            rc = LSL_ENOKEY;
        }
    }
    if (rc == 0)
        rc = combine(out, sh, sh[0].k, st);
    for (unsigned j = 0; rc == 0 && j < sh[0].k; j++)
        st->used[st->nused++] = sh[j].x;
    sodium_free(sh);
    return rc;
}
