/*
 * logseal — the audit trail of officer actions: an append-only text file
 * VAULTDIR/audit.log whose records are hash-chained and signed.
 *
 * One record per line, tab-separated:
 *
 *   seq  time  operator  case  action  query  count  prev  sig
 *
 * seq counts from 1; time is UTC (2025-11-29T08:00:00Z); operator, case,
 * action and query are escaped (lsl_audit_escape) so a record is always
 * one printable line; count is decimal. prev is the BLAKE2b-256 (hex) of
 * the previous line without its newline, or for record 1 of the genesis
 * value BLAKE2b-256("logseal audit genesis v1" | vault public key). sig is
 * the Ed25519 signature (hex) of everything before its tab, by a key whose
 * seed is crypto_kdf(officer secret key, id 1, context "lslaudit"): only
 * the officer key can sign, anyone holding the verification key can check.
 *
 * The verification key file audit.pub ("LSLAPUB1" | Ed25519 pk | vault
 * pk, 72 bytes, 0644) is written by keygen next to vault.pub and copied
 * into VAULTDIR on the first append, so verifying needs no secret.
 *
 * What the chain cannot see: records cut from the end of the file. Keep
 * the head hash printed by `audit verify` elsewhere to detect that.
 */
#ifndef LOGSEAL_AUDIT_H
#define LOGSEAL_AUDIT_H

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
    uint64_t count; /* records revealed or removed */
};

/*
 * Append one signed record to VAULTDIR/audit.log, linked to the last
 * record there. VAULTDIR/audit.pub is created on first use; if it exists
 * it must be k's (else LSL_EAUTH: another officer key signs this log).
 * The log is opened O_APPEND under an exclusive flock (concurrent officers
 * do not fork the chain), and the record is fsynced before this returns.
 * 0, LSL_EAUTH, LSL_ECORRUPT (the log ends in a partial or malformed
 * record: run `audit verify`), -ENOMEM or -errno. Nothing is written on
 * error.
 */
LSL_MUST_CHECK int lsl_audit_log_append(const char *vault_dir,
                                        const struct lsl_officer_key *k,
                                        const struct lsl_audit_entry *e);

enum lsl_audit_fault {
    LSL_AUDIT_OK = 0,
    LSL_AUDIT_MALFORMED,     /* not a record (fields, partial last line) */
    LSL_AUDIT_BAD_SIGNATURE, /* edited, or not signed by this key */
    LSL_AUDIT_DELETED,       /* records missing before this one */
    LSL_AUDIT_REORDERED,     /* the expected record comes later */
    LSL_AUDIT_INSERTED,      /* a copy, or a record of another chain */
};

/* The outcome of lsl_audit_verify. */
struct lsl_audit_verdict {
    uint64_t records;  /* records that verified */
    uint64_t bad_line; /* 1-based line of the first bad record, or 0 */
    enum lsl_audit_fault fault;
    char detail[160]; /* what exactly, e.g. "records 3..4 are missing" */
    uint8_t head[LSL_AUDIT_HASH_BYTES]; /* hash of the last good record */
};

/* Short name of a fault ("edited or bad signature", "deleted", ...). */
const char *lsl_audit_fault_name(enum lsl_audit_fault f);

/*
 * Check every record of the log at `path` against `pub`: signature,
 * sequence and chain link, in file order, stopping at the first bad one
 * (v says which and why). 0 (all good), LSL_EAUTH (a bad record),
 * -ENOMEM or -errno. An empty log verifies with 0 records.
 */
LSL_MUST_CHECK int lsl_audit_verify(const char *path,
                                    const struct lsl_audit_pub *pub,
                                    struct lsl_audit_verdict *v);

/* A record as read: text fields still escaped, spans into the file. */
struct lsl_audit_record {
    uint64_t line;
    uint64_t seq;
    struct lsl_span time, operator_name, case_ref, action, query;
    uint64_t count;
};

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
