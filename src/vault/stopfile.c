/*
 * VAULTDIR/stop.list: the stop list of erased subjects as the officer
 * signs it and the writers (pipe, the daemon) read it (legal.h).
 *
 *   "LSLSTOP1" | u64 audit_seq | u32 count | u32 0
 *   | count x (u8 class | u8 hash[15]) | Ed25519 signature[64]
 *
 * The signature is by the audit signing key (auditlog_write.c) over every
 * byte before it; audit_seq is the audit record of the erase that wrote
 * it, so the list is as new as the log says and a writer can refuse an
 * older one. Entries are keyed hashes (token.h), never values.
 *
 * Invariants: a list is used only whole and verified; a writer that ever
 * applied generation N refuses a missing list or one older than N, so
 * deleting or replaying the file cannot let an erased subject back in.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "logseal/legal.h"
#include "logseal/log.h"
#include "vault_internal.h"

#define STOP_MAGIC   "LSLSTOP1"
#define STOP_HEAD    (8 + 8 + 4 + 4)
#define STOP_ENTRY   (1 + LSL_TOKEN_HASH_BYTES)
#define STOP_MAX     (1u << 24) /* entries: bounds what a reader allocates */
#define STOP_KEYNAME "stop.key"

int lsl_stopfile_write(const char *vault_dir, const struct lsl_officer_key *k,
                       uint64_t audit_seq, const struct lsl_stop_entry *v,
                       size_t n)
{
    uint8_t pk[32], *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    struct lsl_buf b = {0};
    char path[4096];
    int rc = sk ? 0 : -ENOMEM;

    if (rc == 0 && n > STOP_MAX)
        rc = -E2BIG;
    if (rc == 0)
        rc =
            lsl_buf_reserve(&b, STOP_HEAD + n * STOP_ENTRY + crypto_sign_BYTES);
    if (rc == 0)
        rc = lsl_audit_sign_keypair(k, pk, sk);
    if (rc == 0) {
        uint8_t *p = (uint8_t *)b.p;

        memcpy(p, STOP_MAGIC, 8);
        lsl_put_le(p + 8, audit_seq, 8);
        lsl_put_le(p + 16, n, 4);
        lsl_put_le(p + 20, 0, 4);
        for (size_t i = 0; i < n; i++) {
            p[STOP_HEAD + i * STOP_ENTRY] = v[i].cls;
            memcpy(p + STOP_HEAD + i * STOP_ENTRY + 1, v[i].hash,
                   LSL_TOKEN_HASH_BYTES);
        }
        b.len = STOP_HEAD + n * STOP_ENTRY;
        crypto_sign_detached(p + b.len, NULL, p, b.len, sk);
        b.len += crypto_sign_BYTES;
        rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_STOP_LIST_NAME);
    }
    if (rc == 0)
        rc = lsl_file_replace(path, 0644, b.p, b.len);
    sodium_free(sk);
    lsl_buf_free(&b);
    return rc;
}

/* Check the image b and take its entries. */
static int parse(const struct lsl_buf *b, const struct lsl_audit_pub *pub,
                 uint64_t *audit_seq, struct lsl_stop_entry **out, size_t *n)
{
    const uint8_t *p = (const uint8_t *)b->p;
    size_t count, body;

    if (b->len < STOP_HEAD + crypto_sign_BYTES || memcmp(p, STOP_MAGIC, 8))
        return LSL_EFORMAT;
    count = (size_t)lsl_get_le(p + 16, 4);
    body = STOP_HEAD + count * STOP_ENTRY;
    if (count > STOP_MAX || b->len != body + crypto_sign_BYTES ||
        lsl_get_le(p + 20, 4) != 0)
        return LSL_EFORMAT;
    if (crypto_sign_verify_detached(p + body, p, body, pub->sign_pk) != 0)
        return LSL_EAUTH;
    *out = calloc(count ? count : 1, sizeof(**out));
    if (!*out)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        (*out)[i].cls = p[STOP_HEAD + i * STOP_ENTRY];
        memcpy((*out)[i].hash, p + STOP_HEAD + i * STOP_ENTRY + 1,
               LSL_TOKEN_HASH_BYTES);
    }
    *audit_seq = lsl_get_le(p + 8, 8);
    *n = count;
    return 0;
}

int lsl_stopfile_read(const char *vault_dir, const struct lsl_audit_pub *pub,
                      uint64_t *audit_seq, struct lsl_stop_entry **v, size_t *n)
{
    struct lsl_buf b = {0};
    char path[4096];
    int fd, rc;

    *v = NULL;
    *n = 0;
    rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_STOP_LIST_NAME);
    if (rc)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    rc = lsl_audit_read_fd(fd, &b);
    close(fd);
    if (rc == 0)
        rc = parse(&b, pub, audit_seq, v, n);
    lsl_buf_free(&b);
    return rc;
}

/* The entries under KEYS/stop.key, as the tokenizers check them. */
static int build(struct lsl_stoplist **out, const char *keys_dir,
                 const struct lsl_stop_entry *v, size_t n)
{
    uint8_t *key = sodium_malloc(LSL_STOP_KEY_BYTES);
    char path[4096];
    int rc = key ? lsl_path_join(path, sizeof(path), keys_dir, STOP_KEYNAME)
                 : -ENOMEM;

    if (rc == 0)
        rc = lsl_stop_key_load(path, key);
    if (rc)
        lsl_log_error("%s: cannot use the stop key: %s (it comes with the "
                      "stop list: copy KEYS/stop.key from the officer's key "
                      "directory, mode 0600)",
                      path, lsl_strerror(rc));
    if (rc == 0)
        rc = lsl_stoplist_open(out, key);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = lsl_stoplist_add(*out, &v[i]);
    sodium_free(key);
    return rc;
}

/* The verification key the writers trust: KEYS/audit.pub. */
static int trusted_pub(const char *keys_dir, struct lsl_audit_pub *pub)
{
    char path[4096];
    int rc = lsl_path_join(path, sizeof(path), keys_dir, LSL_AUDIT_PUB_NAME);

    if (rc == 0)
        rc = lsl_audit_pub_load(path, pub);
    if (rc && rc != -ENOENT)
        lsl_log_error("%s: cannot check the stop list's signature: %s (copy "
                      "audit.pub from keygen's output next to hash.key)",
                      path, lsl_strerror(rc));
    return rc;
}

static bool stop_list_exists(const char *vault_dir)
{
    char path[4096];
    struct stat st;

    return lsl_path_join(path, sizeof(path), vault_dir, LSL_STOP_LIST_NAME) ||
           lstat(path, &st) == 0;
}

static int no_pub(const char *keys_dir)
{
    lsl_log_error("%s/%s is missing: the vault has a stop list and it cannot "
                  "be checked without it (copy audit.pub from keygen's "
                  "output next to hash.key); nothing was written",
                  keys_dir, LSL_AUDIT_PUB_NAME);
    return LSL_ENOKEY;
}

static int refuse(const char *vault_dir, const char *why, uint64_t seen)
{
    lsl_log_error("%s/%s: %s, but this writer applied generation %llu "
                  "before: an erased subject would re-enter the vault; "
                  "nothing was written (an officer restores it by running "
                  "'logseal vault erase' again)",
                  vault_dir, LSL_STOP_LIST_NAME, why, (unsigned long long)seen);
    return LSL_EAUTH;
}

int lsl_stoplist_load(struct lsl_stoplist **out, const char *vault_dir,
                      const char *keys_dir, struct lsl_vault_wstate *ws)
{
    uint64_t seen = lsl_vault_wstate_stop_seq(ws), seq = 0;
    struct lsl_stop_entry *v = NULL;
    struct lsl_audit_pub pub;
    size_t n = 0;
    int rc;

    *out = NULL;
    rc = trusted_pub(keys_dir, &pub);
    if (rc && rc != -ENOENT)
        return rc;
    if (rc == 0)
        rc = lsl_stopfile_read(vault_dir, &pub, &seq, &v, &n);
    else if (stop_list_exists(vault_dir))
        return no_pub(keys_dir);
    if (rc == -ENOENT)
        return seen ? refuse(vault_dir, "missing", seen) : 0;
    if (rc == 0 && seq < seen)
        rc = refuse(vault_dir, "older than the last one applied", seen);
    else if (rc)
        lsl_log_error("%s/%s: %s: the stop list was altered or is not "
                      "signed by this vault's officer key; nothing was "
                      "written",
                      vault_dir, LSL_STOP_LIST_NAME, lsl_strerror(rc));
    if (rc == 0 && n)
        rc = build(out, keys_dir, v, n);
    if (rc == 0 && seq > seen && lsl_vault_wstate_set_stop_seq(ws, seq))
        lsl_log_warn("the writer state did not record stop list generation "
                     "%llu",
                     (unsigned long long)seq);
    free(v);
    if (rc) {
        lsl_stoplist_close(*out);
        *out = NULL;
    }
    return rc;
}
