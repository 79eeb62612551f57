/*
 * logseal — the vault's legal state: erased tokens, legal holds, and
 * rewriting a vault file without some of its records (erase).
 *
 * VAULTDIR/erased   one line per erased token: "TOKEN\tUTC time\tcase".
 *                   Tokens are keyed hashes, not originals: the list says
 *                   that a token's mapping was destroyed, and officer tools
 *                   answer "erased" for it even if a copy of the mapping
 *                   survives somewhere (a file that could not be
 *                   rewritten, a backup).
 * VAULTDIR/holds    one line per pinned item: "CASE\tsubject\tTOKEN" (a
 *                   token of the subject found in the vault when the hold
 *                   was placed: the subject's value itself is not stored)
 *                   or "CASE\tepoch\tNUMBER". Held tokens are neither erased
 *                   nor expired; a vault file is kept by expire while its
 *                   epoch is held or a held token has its epoch's id.
 *
 * Both files are small text files replaced atomically (write, fsync,
 * rename, fsync the directory); a missing file is an empty list. Case
 * references must not contain tabs or newlines (-EINVAL).
 */
#ifndef LOGSEAL_LEGAL_H
#define LOGSEAL_LEGAL_H

#include "logseal/vault.h"

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
void lsl_tokset_free(struct lsl_tokset *s);

/* Load VAULTDIR/erased into `out` (appended). 0, LSL_ECORRUPT or -errno. */
LSL_MUST_CHECK int lsl_legal_erased_load(const char *dir,
                                         struct lsl_tokset *out);

/* Add tokens to VAULTDIR/erased (atomically). 0 or -errno. */
LSL_MUST_CHECK int lsl_legal_erased_add(const char *dir, const char *case_ref,
                                        const struct lsl_token *toks, size_t n);

struct lsl_holds;

/* Load VAULTDIR/holds. 0, LSL_ECORRUPT (a malformed line) or -errno. */
LSL_MUST_CHECK int lsl_holds_load(const char *dir, struct lsl_holds **out);
void lsl_holds_free(struct lsl_holds *h); /* NULL-safe */

/* True if token t is pinned: held as a subject's token or by its epoch. */
bool lsl_holds_token(const struct lsl_holds *h, const struct lsl_token *t);

/* True if a vault file of `epoch` must be kept by expire. */
bool lsl_holds_epoch(const struct lsl_holds *h, uint32_t epoch);

/* Add holds for case_ref: tokens (subject) or one epoch. 0 or -errno. */
LSL_MUST_CHECK int lsl_holds_add_tokens(struct lsl_holds *h,
                                        const char *case_ref,
                                        const struct lsl_token *toks, size_t n);
LSL_MUST_CHECK int lsl_holds_add_epoch(struct lsl_holds *h,
                                       const char *case_ref, uint32_t epoch);

/* Drop every hold of case_ref; *removed says how many. */
void lsl_holds_release(struct lsl_holds *h, const char *case_ref,
                       size_t *removed);

/* Write the holds back to VAULTDIR/holds (atomically). 0 or -errno. */
LSL_MUST_CHECK int lsl_holds_save(const struct lsl_holds *h);

/*
 * Rewrite the vault file at `path` without the records for which
 * drop(record, ud) is true: the kept records go, in order, into a new file
 * with a NEW file key sealed to the officer public key, the same epoch and
 * epoch length, written under a temporary name, fsynced, and renamed over
 * the old file (the directory is fsynced). If no record is dropped the
 * file is left as is. *dropped (optional) counts dropped records. A file
 * that is not complete and intact is not rewritten: its integrity error
 * (LSL_ETRUNC for one still being written) is returned.
 */
LSL_MUST_CHECK int
lsl_vault_rewrite(const char *path, const struct lsl_officer_key *key,
                  bool (*drop)(const struct lsl_vault_record *r, void *ud),
                  void *ud, uint64_t *dropped);

#endif
