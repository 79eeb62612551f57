/*
 * logseal — the sealed index of a vault (officer side): where the records
 * of a token are, so that unseal, disclose, identify and erase read a few
 * chunks instead of decrypting every vault file.
 *
 * It lives in VAULTDIR/index/ and is sealed with a key derived from the
 * officer secret (crypto_kdf, context "lslindex"): nobody without the
 * officer key can read it, nor write one that opens. It holds no original
 * value. Per token (class, key id, hash) it lists the chunks of the vault
 * files that hold the token's records, and per chunk the stream state
 * that decrypts it; a chunk read through the index still authenticates
 * against its file's header, and its MAP records are checked against
 * their tokens again.
 *
 *   index/manifest     the current generation, one XChaCha20-Poly1305 box:
 *                      the files it covers (name; identity: device, inode,
 *                      size, mtime, ctime; the outcome of reading them, as
 *                      lsl_vault_read_file reported it), their
 *                      verification keys, and the runs
 *   index/run-N.lsi    immutable runs: a chunk table, then a B-tree of
 *                      (token, chunk) entries; each block its own box whose
 *                      additional data names the index, the run and the
 *                      block's place, so blocks cannot be moved or mixed
 *   index/lock         flock(2): one update at a time; readers share it
 *
 * An update reads only the vault files that are new or whose identity
 * changed (such a file is read whole again: a rewrite by erase or repair,
 * a file that grew) and adds their entries as a new run; runs are merged
 * as they pile up, so a lookup reads O(log n) blocks. A file the index
 * does not cover as it is now is read whole by the officer commands: the
 * index may be stale, never wrong. The identity check is what makes it
 * so: a vault file changed in place keeps neither its size nor its ctime.
 *
 * Damage (a manifest or a block that does not open, a malformed block)
 * is reported as LSL_EAUTH / LSL_ECORRUPT; lsl_sidx_update with rebuild
 * then builds the index anew from the vault files.
 *
 * Not thread-safe. Blocking I/O. No libuv.
 */
#ifndef LOGSEAL_SIDX_H
#define LOGSEAL_SIDX_H

#include <sys/stat.h>
#include "logseal/vault.h"

#define LSL_SIDX_DIR "index"

struct lsl_sidx;

/* What an update did. */
struct lsl_sidx_update_result {
    size_t files;      /* vault files now covered */
    size_t read;       /* of them read by this update (new or changed) */
    size_t dropped;    /* files covered before that are gone */
    uint64_t mappings; /* records indexed by this update */
    uint64_t entries;  /* (token, chunk) entries in the index now */
    size_t runs;       /* runs now */
    size_t merged;     /* runs merged by this update */
    int damage;        /* the old index did not open (so it was rebuilt): why */
};

struct lsl_sidx_update_opts {
    bool rebuild;      /* start from nothing whatever the old index holds */
    size_t run_budget; /* entries held in memory per run; 0: the default */
    unsigned threads;  /* reading files; 0: one per processor, at most 4 */
    /* optional, after each vault file read: its path, info and code */
    lsl_vault_file_fn on_file;
    void *ud;
};

/*
 * Bring VAULTDIR/index up to date with the vault files of vault_dir
 * (created 0700 if missing; the update takes the exclusive lock). An old
 * index that does not open (damaged, another officer key, another
 * libsodium state layout) is replaced by a new one and res->damage says
 * why. Integrity failures of vault files do not stop it: their outcome is
 * recorded as the reader reported it (and on_file hears of it). 0,
 * -ENOMEM or -errno (the old index is left as it was).
 */
LSL_MUST_CHECK int lsl_sidx_update(const char *vault_dir,
                                   const struct lsl_officer_key *key,
                                   const struct lsl_sidx_update_opts *o,
                                   struct lsl_sidx_update_result *res);

/*
 * Open the index of vault_dir for lookups (shared lock held until
 * close). 0, -ENOENT (no index), LSL_EAUTH (does not open: damaged,
 * forged, another officer key), LSL_ECORRUPT or LSL_EFORMAT (damaged),
 * LSL_EVERSION (another format or state layout), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_sidx_open(struct lsl_sidx **out, const char *vault_dir,
                                 const struct lsl_officer_key *key);
void lsl_sidx_close(struct lsl_sidx *ix); /* NULL-safe */

/* A vault file as the index read it. */
struct lsl_sidx_file {
    uint32_t no;                     /* the index's number for it */
    int rc;                          /* what lsl_vault_read_file returned */
    struct lsl_vault_file_info info; /* as it filled it (writing: false) */
    int vkey;                        /* its verification key, or -1 */
};

/*
 * The file `name` of the vault as the index covers it, if its identity
 * (st, from stat(2) now) is what the index saw; NULL if it is not covered
 * or changed since (read it whole).
 */
const struct lsl_sidx_file *lsl_sidx_file(const struct lsl_sidx *ix,
                                          const char *name,
                                          const struct stat *st);

/* The verification keys of the covered files, and each one's key id. */
size_t lsl_sidx_vkey_count(const struct lsl_sidx *ix);
const uint8_t *lsl_sidx_vkey(const struct lsl_sidx *ix, size_t i,
                             uint16_t *kid);

/* Where records are: a chunk of a covered file. */
struct lsl_sidx_loc {
    uint32_t file;   /* lsl_sidx_file.no */
    uint64_t offset; /* of the chunk's length field */
    uint32_t state;  /* its stream state, private to ix */
};

/*
 * The chunks holding records of the tokens keys[0..n) (class and hash
 * compared; the key id is not, as for prefix-mode addresses), of files
 * the index still covers, each chunk once, sorted by file number then
 * offset. Sorts keys (by hash, then class) for lsl_sidx_read_chunk.
 * *out is malloc'd (the caller frees), valid with ix. 0, LSL_EAUTH /
 * LSL_ECORRUPT (a block does not open: damage), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_sidx_find(struct lsl_sidx *ix, struct lsl_token *keys,
                                 size_t n, struct lsl_sidx_loc **out,
                                 size_t *nout);

/*
 * Read the chunk at loc of the vault file at path (whose entry is f) and
 * call fn for each of its records whose token is among keys[0..n) (as
 * lsl_sidx_find sorted them; class and hash compared), in file order. MAP
 * records are verified against their tokens again. 0, LSL_EAUTH (the
 * chunk does not open: the file or the index changed), LSL_EFORGED,
 * LSL_ECORRUPT, -ENOMEM, -errno or fn's non-zero value.
 */
LSL_MUST_CHECK int lsl_sidx_read_chunk(struct lsl_sidx *ix, const char *path,
                                       const struct lsl_sidx_file *f,
                                       const struct lsl_sidx_loc *loc,
                                       const struct lsl_token *keys, size_t n,
                                       lsl_vault_record_fn fn, void *ud);

#endif
