/*
 * The audit trail, writing side: the audit signing key derived from the
 * officer secret, audit.pub files, field escaping, and appending signed,
 * hash-chained records (format in logseal/audit.h).
 *
 * Invariants: a record is written whole with one write(2) on an O_APPEND
 * descriptor held under an exclusive flock, and fsynced before the append
 * reports success; nothing is written if the log's last record cannot be
 * linked to (partial or malformed line), so the chain is never forked or
 * glued onto a torn line. The signing key exists only in sodium_malloc
 * memory for the duration of one append.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "logseal/file.h"
#include "vault_internal.h"

#define PUB_MAGIC      "LSLAPUB1"
#define PUB_MAGIC_LEN  8
#define PUB_FILE_BYTES (PUB_MAGIC_LEN + 32 + LSL_VAULT_PUBKEY_BYTES)
#define GENESIS_TEXT   "logseal audit genesis v1"
#define KDF_CONTEXT    "lslaudit"
#define KDF_SUBKEY_ID  1

/* Derive the Ed25519 pair; sk is crypto_sign_SECRETKEYBYTES of secure memory.
 */
static int sign_keypair(const struct lsl_officer_key *k, uint8_t pk[32],
                        uint8_t *sk)
{
    uint8_t *seed = sodium_malloc(crypto_sign_SEEDBYTES);

    if (!seed)
        return -ENOMEM;
    crypto_kdf_derive_from_key(seed, crypto_sign_SEEDBYTES, KDF_SUBKEY_ID,
                               KDF_CONTEXT, lsl_officer_key_sk(k));
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_free(seed);
    return 0;
}

int lsl_audit_pub_derive(const struct lsl_officer_key *k,
                         struct lsl_audit_pub *out)
{
    uint8_t *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    int rc;

    if (!sk)
        return -ENOMEM;
    rc = sign_keypair(k, out->sign_pk, sk);
    lsl_officer_key_public(k, out->vault_pk);
    sodium_free(sk);
    return rc;
}

int lsl_audit_pub_write(const char *path, const struct lsl_audit_pub *p)
{
    uint8_t file[PUB_FILE_BYTES];

    memcpy(file, PUB_MAGIC, PUB_MAGIC_LEN);
    memcpy(file + PUB_MAGIC_LEN, p->sign_pk, 32);
    memcpy(file + PUB_MAGIC_LEN + 32, p->vault_pk, LSL_VAULT_PUBKEY_BYTES);
    return lsl_file_create_excl(path, 0644, file, sizeof(file));
}

int lsl_audit_pub_load(const char *path, struct lsl_audit_pub *p)
{
    struct lsl_buf b = {0};
    int rc;

    rc = lsl_audit_read_path(path, &b);
    if (rc == 0 &&
        (b.len != PUB_FILE_BYTES || memcmp(b.p, PUB_MAGIC, PUB_MAGIC_LEN) != 0))
        rc = LSL_EFORMAT;
    if (rc == 0) {
        memcpy(p->sign_pk, b.p + PUB_MAGIC_LEN, 32);
        memcpy(p->vault_pk, b.p + PUB_MAGIC_LEN + 32, LSL_VAULT_PUBKEY_BYTES);
    }
    lsl_buf_free(&b);
    return rc;
}

int lsl_audit_escape(struct lsl_buf *b, const char *s)
{
    int rc = 0;

    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\\')
            rc = lsl_buf_append(b, "\\\\", 2);
        else if (c == '\t')
            rc = lsl_buf_append(b, "\\t", 2);
        else if (c == '\n')
            rc = lsl_buf_append(b, "\\n", 2);
        else if (c == '\r')
            rc = lsl_buf_append(b, "\\r", 2);
        else if (c >= 0x20 && c < 0x7f)
            rc = lsl_buf_putc(b, (char)c);
        else
            rc = lsl_buf_printf(b, "\\x%02x", c);
    }
    return rc;
}

void lsl_audit_genesis(const struct lsl_audit_pub *pub,
                       uint8_t out[LSL_AUDIT_HASH_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, LSL_AUDIT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)GENESIS_TEXT,
                              sizeof(GENESIS_TEXT) - 1);
    crypto_generichash_update(&st, pub->vault_pk, LSL_VAULT_PUBKEY_BYTES);
    crypto_generichash_final(&st, out, LSL_AUDIT_HASH_BYTES);
}

void lsl_audit_line_hash(const char *p, size_t len,
                         uint8_t out[LSL_AUDIT_HASH_BYTES])
{
    crypto_generichash(out, LSL_AUDIT_HASH_BYTES, (const uint8_t *)p, len, NULL,
                       0);
}

/*
 * Make sure VAULTDIR/audit.pub is this key's: create it on first use,
 * otherwise compare. 0, LSL_EAUTH or an error of the file calls.
 */
static int ensure_vault_pub(const char *vault_dir,
                            const struct lsl_audit_pub *mine)
{
    struct lsl_audit_pub theirs;
    char path[4096];
    int rc;

    rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_AUDIT_PUB_NAME);
    if (rc)
        return rc;
    rc = lsl_audit_pub_write(path, mine);
    if (rc != -EEXIST)
        return rc;
    rc = lsl_audit_pub_load(path, &theirs);
    if (rc == 0 && memcmp(&theirs, mine, sizeof(theirs)) != 0)
        rc = LSL_EAUTH;
    return rc;
}

/* The seq and chain value the next record continues from. */
static int chain_tail(const struct lsl_buf *log,
                      const struct lsl_audit_pub *pub, uint64_t *next_seq,
                      uint8_t prev[LSL_AUDIT_HASH_BYTES])
{
    struct lsl_audit_line line;
    size_t start;

    if (log->len == 0) {
        *next_seq = 1;
        lsl_audit_genesis(pub, prev);
        return 0;
    }
    if (log->p[log->len - 1] != '\n')
        return LSL_ECORRUPT;
    start = log->len - 1;
    while (start > 0 && log->p[start - 1] != '\n')
        start--;
    if (lsl_audit_line_parse(log->p + start, log->len - 1 - start, &line))
        return LSL_ECORRUPT;
    *next_seq = line.seq + 1;
    lsl_audit_line_hash(log->p + start, log->len - 1 - start, prev);
    return 0;
}

/* Format a complete record line, signature and newline included. */
static int format_record(struct lsl_buf *b, const struct lsl_audit_entry *e,
                         uint64_t seq, const uint8_t *prev, const uint8_t *sk)
{
    char when[32], hex[2 * LSL_AUDIT_SIG_BYTES + 1];
    uint8_t sig[LSL_AUDIT_SIG_BYTES];
    time_t t = (time_t)e->time;
    struct tm tm;
    int rc;

    if (!gmtime_r(&t, &tm) ||
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -EINVAL;
    rc = lsl_buf_printf(b, "%llu\t%s\t", (unsigned long long)seq, when);
    if (rc == 0)
        rc = lsl_audit_escape(b, e->operator_name);
    if (rc == 0)
        rc = lsl_buf_putc(b, '\t');
    if (rc == 0)
        rc = lsl_audit_escape(b, e->case_ref);
    if (rc == 0)
        rc = lsl_buf_putc(b, '\t');
    if (rc == 0)
        rc = lsl_audit_escape(b, e->action);
    if (rc == 0)
        rc = lsl_buf_putc(b, '\t');
    if (rc == 0)
        rc = lsl_audit_escape(b, e->query);
    if (rc == 0)
        rc = lsl_buf_printf(
            b, "\t%llu\t%s", (unsigned long long)e->count,
            sodium_bin2hex(hex, sizeof(hex), prev, LSL_AUDIT_HASH_BYTES));
    if (rc)
        return rc;
    crypto_sign_detached(sig, NULL, (const uint8_t *)b->p, b->len, sk);
    return lsl_buf_printf(b, "\t%s\n",
                          sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig)));
}

/* Under the lock: read the log, link, sign, append, fsync. */
static int append_locked(int fd, const struct lsl_audit_entry *e,
                         const struct lsl_audit_pub *pub, const uint8_t *sk)
{
    struct lsl_buf log = {0}, rec = {0};
    uint8_t prev[LSL_AUDIT_HASH_BYTES];
    uint64_t seq;
    int rc;

    rc = lsl_audit_read_fd(fd, &log);
    if (rc == 0)
        rc = chain_tail(&log, pub, &seq, prev);
    if (rc == 0)
        rc = format_record(&rec, e, seq, prev, sk);
    if (rc == 0)
        rc = lsl_write_all(fd, rec.p, rec.len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    lsl_buf_free(&log);
    lsl_buf_free(&rec);
    return rc;
}

int lsl_audit_log_append(const char *vault_dir, const struct lsl_officer_key *k,
                         const struct lsl_audit_entry *e)
{
    struct lsl_audit_pub pub;
    char path[4096];
    uint8_t *sk;
    int fd = -1, rc;

    sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!sk)
        return -ENOMEM;
    rc = sign_keypair(k, pub.sign_pk, sk);
    lsl_officer_key_public(k, pub.vault_pk);
    if (rc == 0)
        rc = ensure_vault_pub(vault_dir, &pub);
    if (rc == 0)
        rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_AUDIT_LOG_NAME);
    if (rc)
        goto out;
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        rc = -errno;
        goto out;
    }
    rc = append_locked(fd, e, &pub, sk);
    /* The first record also created the file: make its name durable. */
    if (rc == 0)
        rc = lsl_fsync_parent(path);
out:
    if (fd >= 0)
        close(fd);
    sodium_free(sk);
    return rc;
}
