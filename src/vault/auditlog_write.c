/*
 * The audit trail, writing side: the audit signing key derived from the
 * officer secret, audit.pub files, field escaping, and appending signed,
 * hash-chained records (format in logseal/auditlog.h).
 *
 * Invariants: a record is written whole with one write(2) on an O_APPEND
 * descriptor held under an exclusive flock, and fsynced before the append
 * reports success; a failed write is cut back, so the log never ends in a
 * record this process tore. A torn last line left by a crash (no newline)
 * is cut before linking and the new record says how many bytes it held;
 * nothing is written if the last complete line is not a record, so the
 * chain is never forked or glued onto garbage. Nothing is opened through
 * a symlink. The signing key exists only in sodium_malloc memory for the
 * duration of one append.
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

int lsl_audit_sign_keypair(const struct lsl_officer_key *k, uint8_t pk[32],
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
    rc = lsl_audit_sign_keypair(k, out->sign_pk, sk);
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
 * VAULTDIR/audit.pub, if present, must be this key's. It is created only
 * once a record is written (create=true), so audit.pub beside an empty
 * log means records were deleted, not that a first append failed. 0,
 * LSL_EAUTH or an error of the file calls.
 */
static int vault_pub(const char *vault_dir, const struct lsl_audit_pub *mine,
                     bool create)
{
    struct lsl_audit_pub theirs;
    char path[4096];
    int rc;

    rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_AUDIT_PUB_NAME);
    if (rc)
        return rc;
    rc = create ? lsl_audit_pub_write(path, mine) : -EEXIST;
    if (rc != -EEXIST)
        return rc;
    rc = lsl_audit_pub_load(path, &theirs);
    if (rc == -ENOENT && !create)
        return 0;
    if (rc == 0 && memcmp(&theirs, mine, sizeof(theirs)) != 0)
        rc = LSL_EAUTH;
    return rc;
}

bool lsl_audit_items_valid(const char *items)
{
    static const char ok[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ_:,.=+- ";

    return !items || strspn(items, ok) == strlen(items);
}

/* Cut a torn last line (no newline); *cut says how many bytes it held. */
static int cut_torn(int fd, struct lsl_buf *log, size_t *cut)
{
    size_t keep = log->len;

    *cut = 0;
    while (keep > 0 && log->p[keep - 1] != '\n')
        keep--;
    if (keep == log->len)
        return 0;
    if (ftruncate(fd, (off_t)keep) < 0 || fsync(fd) < 0)
        return -errno;
    *cut = log->len - keep;
    log->len = keep;
    return 0;
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
    start = log->len - 1;
    while (start > 0 && log->p[start - 1] != '\n')
        start--;
    if (lsl_audit_line_parse(log->p + start, log->len - 1 - start, &line))
        return LSL_ECORRUPT;
    *next_seq = line.seq + 1;
    lsl_audit_line_hash(log->p + start, log->len - 1 - start, prev);
    return 0;
}

/* The items, and repaired=N if a torn record was cut. */
static int put_items(struct lsl_buf *b, const char *items, size_t cut)
{
    int rc = lsl_buf_printf(b, "\t%s", items ? items : "");

    if (rc == 0 && cut)
        rc = lsl_buf_printf(b, "%srepaired=%zu", items && items[0] ? " " : "",
                            cut);
    return rc;
}

/* Format a complete record line, signature and newline included. */
static int format_record(struct lsl_buf *b, const struct lsl_audit_entry *e,
                         uint64_t seq, const uint8_t *prev, const uint8_t *sk,
                         size_t cut)
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
        rc = lsl_buf_printf(b, "\t%llu", (unsigned long long)e->count);
    if (rc == 0)
        rc = put_items(b, e->items, cut);
    if (rc == 0)
        rc = lsl_buf_printf(
            b, "\t%s",
            sodium_bin2hex(hex, sizeof(hex), prev, LSL_AUDIT_HASH_BYTES));
    if (rc)
        return rc;
    crypto_sign_detached(sig, NULL, (const uint8_t *)b->p, b->len, sk);
    return lsl_buf_printf(b, "\t%s\n",
                          sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig)));
}

/* Write the record; on failure cut the log back to where it was. */
static int write_record(int fd, const struct lsl_buf *rec, size_t at)
{
    int rc = lsl_write_all(fd, rec->p, rec->len);

    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (rc && ftruncate(fd, (off_t)at) == 0)
        (void)fsync(fd);
    return rc;
}

/* Under the lock: read the log, repair, link, sign, append, fsync. */
static int append_locked(int fd, const struct lsl_audit_entry *e,
                         const struct lsl_audit_pub *pub, const uint8_t *sk,
                         struct lsl_audit_head *head)
{
    struct lsl_buf log = {0}, rec = {0};
    uint8_t prev[LSL_AUDIT_HASH_BYTES];
    uint64_t seq = 0;
    size_t cut = 0;
    int rc;

    rc = lsl_audit_read_fd(fd, &log);
    if (rc == 0)
        rc = cut_torn(fd, &log, &cut);
    if (rc == 0)
        rc = chain_tail(&log, pub, &seq, prev);
    if (rc == 0)
        rc = format_record(&rec, e, seq, prev, sk, cut);
    if (rc == 0)
        rc = write_record(fd, &rec, log.len);
    if (rc == 0 && head) {
        head->seq = seq;
        lsl_audit_line_hash(rec.p, rec.len - 1, head->hash);
    }
    lsl_buf_free(&log);
    lsl_buf_free(&rec);
    return rc;
}

int lsl_audit_log_append(const char *vault_dir, const struct lsl_officer_key *k,
                         const struct lsl_audit_entry *e,
                         struct lsl_audit_head *head)
{
    struct lsl_audit_pub pub;
    char path[4096];
    uint8_t *sk;
    int fd = -1, rc;

    if (!lsl_audit_items_valid(e->items))
        return -EINVAL;
    sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (!sk)
        return -ENOMEM;
    rc = lsl_audit_sign_keypair(k, pub.sign_pk, sk);
    lsl_officer_key_public(k, pub.vault_pk);
    if (rc == 0)
        rc = vault_pub(vault_dir, &pub, false);
    if (rc == 0)
        rc = lsl_path_join(path, sizeof(path), vault_dir, LSL_AUDIT_LOG_NAME);
    if (rc)
        goto out;
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        rc = -errno;
        goto out;
    }
    rc = append_locked(fd, e, &pub, sk, head);
    /* The first record also created the file: make its name durable. */
    if (rc == 0)
        rc = lsl_fsync_parent(path);
    if (rc == 0)
        rc = vault_pub(vault_dir, &pub, true);
out:
    if (fd >= 0)
        close(fd);
    sodium_free(sk);
    return rc;
}
