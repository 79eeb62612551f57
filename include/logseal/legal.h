/*
 * logseal — the vault's legal state: erased tokens, legal holds, the stop
 * list of erased subjects, the files removed by officer commands, and
 * rewriting a vault file without some of its records (erase, repair).
 *
 * The legal state is not kept in files of its own: it is derived from the
 * signed audit log (auditlog.h), whose erase, hold, release and expire
 * records name the tokens, epochs and files they touched. Deleting or
 * editing any file therefore cannot lift a hold or hide a token: the log
 * does not verify, or its head no longer matches the one kept outside the
 * vault. The one file written for others is VAULTDIR/stop.list, which the
 * writers read: it is signed with the same key.
 *
 * Vaults of earlier versions kept VAULTDIR/holds and VAULTDIR/erased as
 * plain text; lsl_legal_legacy_load reads them so an officer command can
 * record their content in the log once (an "import" record) and set them
 * aside.
 */
#ifndef LOGSEAL_LEGAL_H
#define LOGSEAL_LEGAL_H

#include "logseal/auditlog.h"
#include "logseal/vault.h"

/* ---- the stop list: erased subjects the writers must not map again ---- */

#define LSL_STOP_LIST_NAME "stop.list"

/*
 * Write VAULTDIR/stop.list (atomically, 0644): the entries, signed with
 * k's audit signing key, as of audit record audit_seq. 0, -E2BIG (more
 * than 2^24 entries), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_stopfile_write(const char *vault_dir,
                                      const struct lsl_officer_key *k,
                                      uint64_t audit_seq,
                                      const struct lsl_stop_entry *v, size_t n);

/*
 * Read and verify VAULTDIR/stop.list against pub. *v (malloc'd, the
 * caller frees) and *n are the entries. 0, -ENOENT (no list), LSL_EAUTH
 * (bad signature: altered, or signed by another key), LSL_EFORMAT,
 * -ENOMEM or -errno. Symlinks are not followed.
 */
LSL_MUST_CHECK int lsl_stopfile_read(const char *vault_dir,
                                     const struct lsl_audit_pub *pub,
                                     uint64_t *audit_seq,
                                     struct lsl_stop_entry **v, size_t *n);

/*
 * The writers' side: the stop list of VAULTDIR, verified with
 * KEYS/audit.pub and keyed with KEYS/stop.key, for the tokenizers. *out is
 * NULL when there is none (or it is empty). A writer that applied
 * generation N before (ws) refuses a missing list or an older one
 * (LSL_EAUTH); a list that does not verify is LSL_EAUTH; a list without
 * KEYS/audit.pub or KEYS/stop.key is LSL_ENOKEY. Errors are logged with
 * the file and what to do. Raises ws's generation on success.
 */
LSL_MUST_CHECK int lsl_stoplist_load(struct lsl_stoplist **out,
                                     const char *vault_dir,
                                     const char *keys_dir,
                                     struct lsl_vault_wstate *ws);

/* A set of tokens: append, then sort once, then look up. */
struct lsl_tokset {
    struct lsl_token *v;
    size_t n, cap;
    bool sorted;
};

/* Append t unless present. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_tokset_add(struct lsl_tokset *s,
                                  const struct lsl_token *t);
bool lsl_tokset_has(struct lsl_tokset *s, const struct lsl_token *t);

/* The member equal to t, or NULL; a t of kid LSL_TOKEN_KID_IP6 matches
 * the member of its class and hash in any epoch. */
const struct lsl_token *lsl_tokset_match(struct lsl_tokset *s,
                                         const struct lsl_token *t);
void lsl_tokset_free(struct lsl_tokset *s);

/* ---- the ledger: the legal state as the signed audit log says ---- */

struct lsl_ledger;

/*
 * Verify VAULTDIR/audit.log against pub and derive the legal state from
 * its records. A torn last line (a crash during an append) is left out
 * and reported in v (LSL_AUDIT_TORN; the next append cuts it). A missing
 * log, or vault_dir NULL, is an empty ledger. 0, LSL_EAUTH (a bad record: v
 * says which; no ledger), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_ledger_load(struct lsl_ledger **out,
                                   const char *vault_dir,
                                   const struct lsl_audit_pub *pub,
                                   struct lsl_audit_verdict *v);
void lsl_ledger_free(struct lsl_ledger *l); /* NULL-safe */

/* Records verified, and the hash of the last one (the log's head). */
void lsl_ledger_head(const struct lsl_ledger *l, struct lsl_audit_head *h);

/*
 * True if some record is of format 2: this version keeps the legal state
 * in the log, so legacy files that appear now are not to be believed.
 */
bool lsl_ledger_current(const struct lsl_ledger *l);

/* True if an erase record erased token t. */
bool lsl_ledger_erased(struct lsl_ledger *l, const struct lsl_token *t);

/*
 * True if token t is pinned: held as a subject's token, or its key id is
 * the id of a held epoch.
 */
bool lsl_ledger_held_token(const struct lsl_ledger *l,
                           const struct lsl_token *t);

/* True if the vault files of `epoch` must be kept by expire. */
bool lsl_ledger_held_epoch(const struct lsl_ledger *l, uint32_t epoch);

/* Holds in force placed by case_ref (release removes them all). */
size_t lsl_ledger_holds_of(const struct lsl_ledger *l, const char *case_ref);

/* The stop list: every erase record's stop entries. */
const struct lsl_stop_entry *lsl_ledger_stops(const struct lsl_ledger *l,
                                              size_t *n);

/* True if an expire record removed the file (writer, seq). */
bool lsl_ledger_removed(const struct lsl_ledger *l,
                        const uint8_t writer[LSL_VAULT_ID_BYTES], uint64_t seq);

/*
 * True if an import took the file (writer, seq) before its host had
 * finished it (item unfinished=), and no later import replaced it by the
 * finished file (replaced=).
 */
bool lsl_ledger_unfinished(const struct lsl_ledger *l,
                           const uint8_t writer[LSL_VAULT_ID_BYTES],
                           uint64_t seq);

/* The writers the records saw, each with the newest file seen. */
const struct lsl_vault_anchor *lsl_ledger_writers(const struct lsl_ledger *l,
                                                  size_t *n);

/*
 * The legacy files VAULTDIR/holds and VAULTDIR/erased of earlier versions,
 * as items for an import record: "tok=T" per erased token into `erased`,
 * and per hold case one line "CASE\tITEMS\n" into `holds` (ITEMS:
 * tok=T and epoch=N words). *found says whether either file exists.
 * 0, LSL_ECORRUPT (a malformed line), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_legal_legacy_load(const char *vault_dir,
                                         struct lsl_buf *erased,
                                         struct lsl_buf *holds, bool *found);

/*
 * Rename the legacy files to NAME.SUFFIX: ".imported" once their content
 * is logged, ".ignored" when they appeared in a vault whose log already
 * keeps the legal state (nobody signed them). 0 or -errno.
 */
LSL_MUST_CHECK int lsl_legal_legacy_retire(const char *vault_dir,
                                           const char *suffix);

/* What to drop when rewriting a vault file, and which record asks. */
struct lsl_vault_rewrite_opts {
    /* NULL: keep every record (a repair of a cut-short file) */
    bool (*drop)(const struct lsl_vault_record *r, void *ud);
    void *ud;
    uint64_t audit_seq; /* the audit record of the erase or repair */
};

struct lsl_vault_rewrite_result {
    bool was_cut;     /* the old file was cut short (no final chunk) */
    uint64_t chunks;  /* its whole chunks, when cut short */
    bool rewritten;   /* a new file replaced it */
    bool overwritten; /* the old file's bytes were then zeroed */
    uint64_t dropped; /* records left out */
};

/*
 * Rewrite the vault file at `path` without the records for which drop()
 * is true, or, if it was cut short by a crash, up to its last whole chunk:
 * the kept records go, in order, into a new file with a NEW file key and
 * the old file's header (its place in the writer's chain, its epoch, its
 * verification key and writer secret) flagged LSL_VAULT_F_REWRITTEN with
 * o->audit_seq, written under a temporary name, fsynced, and renamed over
 * the old file (the directory is fsynced); then the old file's bytes are
 * overwritten with zeros, so hard links to it lose them too (not on
 * copy-on-write file systems, SSD remapped blocks or backups: see the
 * README). A complete file with nothing to drop is left as is. 0, -EBUSY
 * (a writer still holds the file: being written), an integrity error of
 * the old file (LSL_EAUTH, LSL_EFORGED, LSL_ECORRUPT, LSL_EFORMAT,
 * LSL_EVERSION: not rewritten), -ENOMEM or -errno. res says what was done,
 * also on error.
 */
LSL_MUST_CHECK int lsl_vault_rewrite(const char *path,
                                     const struct lsl_officer_key *key,
                                     const struct lsl_vault_rewrite_opts *o,
                                     struct lsl_vault_rewrite_result *res);

#endif
