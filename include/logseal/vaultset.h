/*
 * logseal — the daemon's vault files, one per key epoch.
 *
 * A vault file holds the mappings of one key epoch (its header says which;
 * vault.h). The set routes each mapping to the writer of its token's
 * epoch (the current epoch's is opened with the set, later ones on first
 * use). Once the keyring has ratcheted (its owner advances it after a
 * batch is durable), the files of epochs whose key is gone are retired:
 * no new mapping can need them. With a fixed key there is one epoch and
 * one file per run.
 *
 * Not thread-safe: used by the pipeline's serialized commit stage only.
 * Blocking I/O; never on the loop thread.
 */
#ifndef LOGSEAL_VAULTSET_H
#define LOGSEAL_VAULTSET_H

#include "logseal/vault.h"

struct lsl_vault_set;

struct lsl_vault_set_opts {
    const char *dir;       /* borrowed */
    const uint8_t *pubkey; /* borrowed, LSL_VAULT_PUBKEY_BYTES */
    const char *source;    /* borrowed; stored in records */
    const char *host;      /* borrowed; host id (file.h) in the file names and,
                            * as "<host>:<source>", in records; NULL: none */
    const struct lsl_keyring *keyring; /* borrowed; read only */
    struct lsl_vault_wstate *wstate;   /* borrowed: numbers the files */
    size_t seen_cap;                   /* per writer; 0: the writer default */
};

/*
 * Opens the file of the keyring's current epoch right away (so a vault
 * that cannot be written fails here). Each file takes the next place in
 * the writer's chain (wstate) and carries its epoch's verification key.
 * 0, -EINVAL (missing dir, key, keyring or writer state, an invalid host
 * id), -ENOMEM, or the
 * codes of lsl_vault_wstate_begin, lsl_keyring_vkey and
 * lsl_vault_writer_open.
 */
LSL_MUST_CHECK int lsl_vault_set_open(struct lsl_vault_set **out,
                                      const struct lsl_vault_set_opts *o);

/*
 * Stage a mapping in the file of its token's epoch (created if needed).
 * Codes as lsl_vault_writer_open / lsl_vault_writer_add.
 */
LSL_MUST_CHECK int lsl_vault_set_add(struct lsl_vault_set *vs,
                                     const struct lsl_mapping *m, bool *is_new);

/* Flush every open file. 0 or -errno (retry later, as for one writer). */
LSL_MUST_CHECK int lsl_vault_set_flush(struct lsl_vault_set *vs);

/*
 * Finish the files of epochs older than `floor` (the keyring's oldest
 * epoch after a ratchet). 0 or the first error; every such writer is
 * freed even on error (its file is left unfinished, which readers report),
 * so retrying is safe.
 */
LSL_MUST_CHECK int lsl_vault_set_retire(struct lsl_vault_set *vs,
                                        uint32_t floor);

/* Finish every file and free. 0 or the first error. NULL-safe. */
LSL_MUST_CHECK int lsl_vault_set_close(struct lsl_vault_set *vs);

/* Path of the file opened last ("" if none), and how many were opened. */
const char *lsl_vault_set_last_path(const struct lsl_vault_set *vs);
size_t lsl_vault_set_files(const struct lsl_vault_set *vs);

#endif
