/*
 * logseal — the audit trail of officer actions: an append-only text file
 * VAULTDIR/audit.log whose records are hash-chained and signed.
 *
 * One record per line, tab-separated:
 *
 *   seq  time  operator  case  action  query  count  items  prev  sig
 *
 * seq counts from 1; time is UTC (2025-11-29T08:00:00Z); operator, case,
 * action and query are escaped (lsl_audit_escape) so a record is always
 * one printable line; count is decimal. items (records written since
 * format 2; older records have 9 fields and no items) are what the
 * action touched, space-separated KEY=VALUE words of [0-9A-Za-z_:,.=+-]:
 *
 *   tok=TOKEN          a token asked for (unseal, disclose, identify), a
 *                      subject's token erased (erase) or held (hold)
 *   kept=TOKEN         erase: a subject's token kept under a legal hold
 *   stop=CLASS:HEX30   erase: a stop-list entry (token.h)
 *   epoch=N            hold: an epoch
 *   shares=X,Y         the share numbers whose holders opened the key
 *   writer=ID:SEQ:DIG  the newest file of each writer the action saw
 *                      (32 hex id, seq, 32 hex digest of its secret)
 *   removed=ID:SEQ     expire: a vault file deleted
 *   rewrote=ID:SEQ     erase, repair: a vault file rewritten
 *   repaired=N         a torn record of N bytes was cut before this one
 *   restart=SEQ:WANT   --new-audit-log: the log was taken on at SEQ
 *                      records although the vault showed actions up to
 *                      record WANT (0:N: a new log)
 *
 * The legal state (erased tokens, holds, the stop list, files removed) is
 * derived from these records (legal.h): a file cannot lift a hold or hide
 * a token. prev is the BLAKE2b-256 (hex) of
 * the previous line without its newline, or for record 1 of the genesis
 * value BLAKE2b-256("logseal audit genesis v1" | vault public key). sig is
 * the Ed25519 signature (hex) of everything before its tab, by a key whose
 * seed is crypto_kdf(officer secret key, id 1, context "lslaudit"): only
 * the officer key can sign, anyone holding the verification key can check.
 *
 * The verification key file audit.pub ("LSLAPUB1" | Ed25519 pk | vault
 * pk, 72 bytes, 0644) is written by keygen next to vault.pub and copied
 * into VAULTDIR after the first record, so verifying needs no secret.
 *
 * What the chain cannot see: records cut from the end of the file, or the
 * whole file replaced by an older copy. Keep the head (`logseal audit
 * head`: record count and hash) elsewhere and check it with `audit verify
 * --head`. The log and audit.pub are never followed through a symlink.
 */
#ifndef LOGSEAL_AUDITLOG_H
#define LOGSEAL_AUDITLOG_H

#include "logseal/buf.h"
#include "logseal/common.h"
#include "logseal/vault.h"

#define LSL_AUDIT_LOG_NAME   "audit.log"
#define LSL_AUDIT_PUB_NAME   "audit.pub"
#define LSL_AUDIT_HASH_BYTES 32

struct lsl_audit_pub {
    uint8_t sign_pk[32];                      /* Ed25519 verification key */
    uint8_t vault_pk[LSL_VAULT_PUBKEY_BYTES]; /* binds the genesis value */
};

/* The verification key of k's audit signing key. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_audit_pub_derive(const struct lsl_officer_key *k,
                                        struct lsl_audit_pub *out);

/* Write an audit.pub file (0644, O_EXCL). 0, -EEXIST or -errno. */
LSL_MUST_CHECK int lsl_audit_pub_write(const char *path,
                                       const struct lsl_audit_pub *p);

/* Load an audit.pub file. 0, LSL_EFORMAT or -errno. */
LSL_MUST_CHECK int lsl_audit_pub_load(const char *path,
                                      struct lsl_audit_pub *p);

/*
 * Append s escaped: bytes 0x20..0x7e except '\' as they are; '\' as "\\",
 * tab, newline, CR as "\t", "\n", "\r", any other byte as "\xHH".
 * 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_audit_escape(struct lsl_buf *b, const char *s);

/* One action to record; all strings borrowed, NUL-terminated. */
struct lsl_audit_entry {
    int64_t time; /* unix seconds */
    const char *operator_name;
    const char *case_ref;
    const char *action; /* unseal, disclose, erase, expire, hold, ... */
    const char *query;
    uint64_t count;    /* records revealed or removed */
    const char *items; /* NULL or KEY=VALUE words (above) */
};

/* Where a log ends: its number of records and its last record's hash. */
struct lsl_audit_head {
    uint64_t seq;
    uint8_t hash[LSL_AUDIT_HASH_BYTES];
};

/* True if items is empty or KEY=VALUE words of the allowed characters. */
bool lsl_audit_items_valid(const char *items);

/*
 * Append one signed record to VAULTDIR/audit.log, linked to the last
 * record there. VAULTDIR/audit.pub is created once a record is written;
 * if it exists it must be k's (else LSL_EAUTH: another officer key signs
 * this log).
 * The log is opened O_APPEND (never through a symlink) under an exclusive
 * flock (concurrent officers do not fork the chain), and the record is
 * fsynced before this returns. A torn last record (no newline: a crash or
 * full disk during an earlier append) is cut first and the new record
 * says so (repaired=N); if this append fails, the log is cut back to
 * where it was. *head (optional) is the new record's seq and hash. 0,
 * LSL_EAUTH, LSL_ECORRUPT (the last complete line is not a record: run
 * `audit verify`), -EINVAL (bad items), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_audit_log_append(const char *vault_dir,
                                        const struct lsl_officer_key *k,
                                        const struct lsl_audit_entry *e,
                                        struct lsl_audit_head *head);

enum lsl_audit_fault {
    LSL_AUDIT_OK = 0,
    LSL_AUDIT_MALFORMED,     /* not a record (fields, partial last line) */
    LSL_AUDIT_BAD_SIGNATURE, /* edited, or not signed by this key */
    LSL_AUDIT_DELETED,       /* records missing before this one */
    LSL_AUDIT_REORDERED,     /* the expected record comes later */
    LSL_AUDIT_INSERTED,      /* a copy, or a record of another chain */
    LSL_AUDIT_TORN,          /* the last line is cut short (no newline) */
};

/* The outcome of lsl_audit_verify. */
struct lsl_audit_verdict {
    uint64_t records;    /* records that verified */
    uint64_t torn_bytes; /* LSL_AUDIT_TORN: bytes of the torn last line */
    uint64_t bad_line;   /* 1-based line of the first bad record, or 0 */
    enum lsl_audit_fault fault;
    char detail[160]; /* what exactly, e.g. "records 3..4 are missing" */
    uint8_t head[LSL_AUDIT_HASH_BYTES]; /* hash of the last good record */
};

/* Short name of a fault ("edited or bad signature", "deleted", ...). */
const char *lsl_audit_fault_name(enum lsl_audit_fault f);

/* A record as read: text fields still escaped, spans into the file. */
struct lsl_audit_record {
    uint64_t line;
    uint64_t seq;
    struct lsl_span time, operator_name, case_ref, action, query;
    uint64_t count;
    struct lsl_span items;              /* empty in format 1 records */
    uint8_t format;                     /* 1 (9 fields) or 2 (10) */
    uint8_t hash[LSL_AUDIT_HASH_BYTES]; /* of the line (chain value) */
};

/*
 * Check every record of the log at `path` against `pub`: signature,
 * sequence and chain link, in file order, stopping at the first bad one
 * (v says which and why), and call fn (optional) for each record that
 * verified, until it returns non-zero (returned). 0 (all good), LSL_EAUTH
 * (a bad record), LSL_ETRUNC (every complete record is good, but the last
 * line is torn: v->torn_bytes), -ENOMEM or -errno (-ELOOP: a symlink). An
 * empty log verifies with 0 records.
 */
LSL_MUST_CHECK int
lsl_audit_verify_each(const char *path, const struct lsl_audit_pub *pub,
                      int (*fn)(const struct lsl_audit_record *r, void *ud),
                      void *ud, struct lsl_audit_verdict *v);

/* lsl_audit_verify_each without a callback. */
LSL_MUST_CHECK int lsl_audit_verify(const char *path,
                                    const struct lsl_audit_pub *pub,
                                    struct lsl_audit_verdict *v);

/*
 * Call fn for every record of the log at `path` in file order (nothing is
 * verified: see lsl_audit_verify) until it returns non-zero. Returns fn's
 * value, 0, LSL_ECORRUPT (a line is not a record; *bad_line says which),
 * -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_audit_read(const char *path,
                                  int (*fn)(const struct lsl_audit_record *r,
                                            void *ud),
                                  void *ud, uint64_t *bad_line);

#endif
