/*
 * Officer key pair (X25519, crypto_box): the secret key file
 * "LSLOKEY1" | sk[32] | pk[32] (mode 0600) and the public key file
 * "LSLOPUB1" | pk[32] (0644) that goes to daemon hosts.
 *
 * Invariants: the secret key lives only in sodium_malloc memory, read-only
 * once loaded; a loaded key's pk is the one derived from its sk, so a file
 * with a mismatched pair is refused rather than silently sealing to, or
 * opening with, the wrong key.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "vault_internal.h"

#define SEC_MAGIC      "LSLOKEY1"
#define PUB_MAGIC      "LSLOPUB1"
#define MAGIC_BYTES    8
#define SEC_FILE_BYTES (MAGIC_BYTES + 2 * LSL_VAULT_SECKEY_BYTES)
#define PUB_FILE_BYTES (MAGIC_BYTES + LSL_VAULT_PUBKEY_BYTES)

struct lsl_officer_key {
    uint8_t sk[LSL_VAULT_SECKEY_BYTES];
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
};

const uint8_t *lsl_officer_key_pk(const struct lsl_officer_key *k)
{
    return k->pk;
}

const uint8_t *lsl_officer_key_sk(const struct lsl_officer_key *k)
{
    return k->sk;
}

int lsl_officer_keygen(const char *sec_path, const char *pub_path)
{
    uint8_t pub[PUB_FILE_BYTES];
    uint8_t *sec;
    int rc;

    rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    sec = sodium_malloc(SEC_FILE_BYTES);
    if (!sec)
        return -ENOMEM;
    memcpy(sec, SEC_MAGIC, MAGIC_BYTES);
    crypto_box_keypair(sec + MAGIC_BYTES + LSL_VAULT_SECKEY_BYTES,
                       sec + MAGIC_BYTES);
    memcpy(pub, PUB_MAGIC, MAGIC_BYTES);
    memcpy(pub + MAGIC_BYTES, sec + MAGIC_BYTES + LSL_VAULT_SECKEY_BYTES,
           LSL_VAULT_PUBKEY_BYTES);
    rc = lsl_file_create_excl(sec_path, 0600, sec, SEC_FILE_BYTES);
    if (rc)
        goto out;
    rc = lsl_file_create_excl(pub_path, 0644, pub, PUB_FILE_BYTES);
    /* A secret key without its public half is useless: leave neither. */
    if (rc)
        unlink(sec_path);
out:
    sodium_free(sec);
    return rc;
}

int lsl_officer_key_from_sk(struct lsl_officer_key **out, const uint8_t *sk,
                            const uint8_t *pk)
{
    uint8_t derived[LSL_VAULT_PUBKEY_BYTES];
    struct lsl_officer_key *k;
    int rc = LSL_EAUTH;

    k = sodium_malloc(sizeof(*k));
    if (!k)
        return -ENOMEM;
    memcpy(k->sk, sk, LSL_VAULT_SECKEY_BYTES);
    memcpy(k->pk, pk, LSL_VAULT_PUBKEY_BYTES);
    if (crypto_scalarmult_base(derived, k->sk) == 0 &&
        sodium_memcmp(derived, k->pk, LSL_VAULT_PUBKEY_BYTES) == 0)
        rc = 0;
    sodium_memzero(derived, sizeof(derived));
    if (rc) {
        sodium_free(k);
        return rc;
    }
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

int lsl_officer_key_generate(struct lsl_officer_key **out)
{
    struct lsl_officer_key *k;
    int rc;

    rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    k = sodium_malloc(sizeof(*k));
    if (!k)
        return -ENOMEM;
    crypto_box_keypair(k->pk, k->sk);
    sodium_mprotect_readonly(k);
    *out = k;
    return 0;
}

void lsl_officer_key_public(const struct lsl_officer_key *k,
                            uint8_t pk[LSL_VAULT_PUBKEY_BYTES])
{
    memcpy(pk, k->pk, LSL_VAULT_PUBKEY_BYTES);
}

int lsl_officer_stop_key(const struct lsl_officer_key *k,
                         uint8_t out[LSL_STOP_KEY_BYTES])
{
    return crypto_kdf_derive_from_key(out, LSL_STOP_KEY_BYTES, 1, "lslstopk",
                                      k->sk) == 0
               ? 0
               : -EIO;
}

int lsl_officer_pubkey_write(const struct lsl_officer_key *k, const char *path)
{
    uint8_t pub[PUB_FILE_BYTES];

    memcpy(pub, PUB_MAGIC, MAGIC_BYTES);
    memcpy(pub + MAGIC_BYTES, k->pk, LSL_VAULT_PUBKEY_BYTES);
    return lsl_file_create_excl(path, 0644, pub, PUB_FILE_BYTES);
}

int lsl_officer_key_open(struct lsl_officer_key **out, const char *path)
{
    uint8_t *file;
    int rc;

    rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    file = sodium_malloc(SEC_FILE_BYTES);
    if (!file)
        return -ENOMEM;
    rc = lsl_secret_file_read(path, file, SEC_FILE_BYTES);
    if (rc == 0 && memcmp(file, SEC_MAGIC, MAGIC_BYTES) != 0)
        rc = LSL_EFORMAT;
    if (rc == 0)
        rc = lsl_officer_key_from_sk(out, file + MAGIC_BYTES,
                                     file + MAGIC_BYTES +
                                         LSL_VAULT_SECKEY_BYTES);
    /* A pair that does not match is a damaged file, not a wrong key. */
    if (rc == LSL_EAUTH)
        rc = LSL_EFORMAT;
    sodium_free(file);
    return rc;
}

void lsl_officer_key_close(struct lsl_officer_key *k)
{
    /* sodium_free makes the pages writable again and wipes them. */
    sodium_free(k);
}

/*
 * Nobody but its owner (or root) may replace a public key: the file and
 * its directory must not be writable by group or others, the file owned
 * by the user or root. Otherwise another user could swap vault.pub and
 * have every vault file sealed to their key.
 */
static int check_guarded(const char *path, const struct stat *st)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat ds;
    size_t n = slash ? (size_t)(slash - path) : 0;

    if ((st->st_mode & (S_IWGRP | S_IWOTH)) ||
        (st->st_uid != geteuid() && st->st_uid != 0))
        return LSL_EKEYDIR;
    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", n ? (int)n : 1, n ? path : "/");
    if (stat(dir, &ds) < 0)
        return -errno;
    if ((ds.st_mode & (S_IWGRP | S_IWOTH)) ||
        (ds.st_uid != geteuid() && ds.st_uid != 0))
        return LSL_EKEYDIR;
    return 0;
}

int lsl_vault_pubkey_load(const char *path, uint8_t pk[LSL_VAULT_PUBKEY_BYTES])
{
    uint8_t file[PUB_FILE_BYTES];
    struct stat st;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size != PUB_FILE_BYTES) {
        rc = LSL_EFORMAT;
        goto out;
    }
    rc = check_guarded(path, &st);
    if (rc)
        goto out;
    rc = lsl_read_exact(fd, file, sizeof(file));
    if (rc == LSL_ETRUNC)
        rc = LSL_EFORMAT;
    if (rc)
        goto out;
    if (memcmp(file, PUB_MAGIC, MAGIC_BYTES) != 0) {
        rc = LSL_EFORMAT;
        goto out;
    }
    memcpy(pk, file + MAGIC_BYTES, LSL_VAULT_PUBKEY_BYTES);
out:
    close(fd);
    return rc;
}
