/*
 * logseal — the sealed vault: token -> original mappings.
 *
 * The daemon side writes with the officer's public key only and cannot read
 * back what it wrote. The officer side opens vault files with the officer
 * secret key.
 *
 * File layout (all integers little-endian):
 *
 *   header   "LSLVAULT" | u8 version (2) | u8 reserved[2] | u8 epoch_len
 *            | u32 epoch
 *            | i64 created (unix s) | u8 id[16]
 *            | sealed file key (crypto_box_SEALBYTES + 32)
 *            | secretstream header (24)
 *   chunks   u32 ciphertext length | ciphertext
 *
 * Every chunk is a crypto_secretstream_xchacha20poly1305 message whose
 * additional data is the plaintext header (magic .. id), so chunks cannot
 * move between files; the stream itself detects reordering and dropped
 * chunks, and the last chunk carries TAG_FINAL so a cut-short file is
 * detected. epoch_len is the hash key's enum lsl_epoch_len (version 1
 * files, still read, have 0 there); with it and the epoch number a reader
 * knows when the file's epoch began and ended (lsl_epoch_start).
 *
 * The header epoch is authenticated (additional data) and names the file:
 * a reader refuses a file whose name "<epoch>-..." disagrees with it
 * (LSL_EAUTH: copied or renamed into another epoch), and, for a
 * ratcheting key, any record whose kid is not epoch % 1024 (LSL_ECORRUPT).
 * A chunk holds a batch of records:
 *
 *   record   u8 type | u8 class | u16 kid | u8 hash[15]
 *            | i64 first_seen | i64 last_seen
 *            | u16 source_len | source | u32 value_len | value
 *
 * type MAP carries the original value; type SEEN (value_len 0) extends the
 * first/last-seen range of a token mapped earlier. Readers merge: a value
 * may appear more than once (per run, per file) and the union is the truth.
 *
 * No libuv here; writers do blocking I/O and must run off the loop thread.
 */
#ifndef LOGSEAL_VAULT_H
#define LOGSEAL_VAULT_H

#include "logseal/common.h"
#include "logseal/token.h"

#define LSL_VAULT_PUBKEY_BYTES 32
#define LSL_VAULT_SECKEY_BYTES 32
#define LSL_VAULT_SUFFIX       ".lsv"

enum lsl_vault_rec_type {
    LSL_VAULT_REC_MAP = 1,
    LSL_VAULT_REC_SEEN = 2,
};

/* ---- officer keys ---- */

struct lsl_officer_key; /* secret + public key, in sodium_malloc memory */

/*
 * Create an officer key pair: secret key file `sec_path` (0600, O_EXCL)
 * and public key file `pub_path` (0644, O_EXCL). 0, -EEXIST or -errno.
 */
LSL_MUST_CHECK int lsl_officer_keygen(const char *sec_path,
                                      const char *pub_path);

/*
 * Load the officer secret key. 0, LSL_EKEYPERM, LSL_EKEYOWNER, LSL_EFORMAT,
 * -errno.
 */
LSL_MUST_CHECK int lsl_officer_key_open(struct lsl_officer_key **out,
                                        const char *path);

void lsl_officer_key_close(struct lsl_officer_key *k); /* NULL-safe */

/* Load a public key file. 0, LSL_EFORMAT or -errno. */
LSL_MUST_CHECK int lsl_vault_pubkey_load(const char *path,
                                         uint8_t pk[LSL_VAULT_PUBKEY_BYTES]);

/*
 * Create an officer key pair in memory only (keygen with shares writes no
 * secret key file). 0, -ENOMEM or -EIO (no entropy source).
 */
LSL_MUST_CHECK int lsl_officer_key_generate(struct lsl_officer_key **out);

/* Copy the public half of k. */
void lsl_officer_key_public(const struct lsl_officer_key *k,
                            uint8_t pk[LSL_VAULT_PUBKEY_BYTES]);

/* Write k's public key file (0644, O_EXCL). 0, -EEXIST or -errno. */
LSL_MUST_CHECK int lsl_officer_pubkey_write(const struct lsl_officer_key *k,
                                            const char *path);

/* ---- key shares: the officer secret split k of n (shares.c) ---- */

/*
 * A share file (mode 0600, little-endian, 224 bytes):
 *
 *   header   "LSLSHAR1" | u8 threshold | u8 index (x, 1..n) | u8 count
 *            | u8 0 | officer pk[32] | u64 opslimit | u64 memlimit
 *            | salt[16]
 *   nonce[24] | crypto_secretbox(header | share[32])
 *
 * The box key is crypto_pwhash (Argon2id) of the holder's passphrase with
 * the salt and limits of the header; the box covers a copy of the header,
 * so no header field can be edited unnoticed. The public key lets a share
 * be checked against a vault's vault.pub before anything is combined.
 */
#define LSL_SHARES_MAX 255

struct lsl_shares_opts {
    unsigned threshold;             /* k, 1..count */
    unsigned count;                 /* n, 1..LSL_SHARES_MAX */
    const char *const *paths;       /* count share files to create */
    const char *const *passphrases; /* count non-empty, NUL-terminated */
    unsigned long long opslimit;    /* crypto_pwhash limits */
    size_t memlimit;
};

/* Defaults: no files, Argon2id OPSLIMIT/MEMLIMIT_MODERATE. */
void lsl_shares_opts_init(struct lsl_shares_opts *o);

/*
 * Split k's secret key with Shamir's scheme over GF(256) into o->count
 * share files (O_EXCL, 0600, fsynced), share i (x = i + 1) sealed with
 * passphrase i. On failure the share files already created are removed.
 * 0, -EINVAL (bad counts, empty passphrase, limits out of range),
 * -EEXIST, -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_officer_shares_write(const struct lsl_officer_key *k,
                                            const struct lsl_shares_opts *o);

/* What went wrong when opening shares, for a message naming the file. */
struct lsl_shares_status {
    size_t bad;         /* index of the share at fault, SIZE_MAX if none */
    unsigned threshold; /* k as read from the shares, 0 if none read */
    const char *why;    /* static text, NULL on success */
};

/*
 * Rebuild the officer key from n share files, opening share i with
 * passphrases[i]. Every share is opened and checked (passphrase, public
 * key equal to expect_pk if given, else to the first share's; same
 * threshold; distinct indexes); the first k are combined and the result
 * must derive the shares' public key. Returns 0, LSL_EAUTH (wrong
 * passphrase or damaged share, share of another vault or split,
 * inconsistent shares), LSL_ENOKEY (fewer shares than the threshold),
 * LSL_EFORMAT (not a share file, limits out of range), LSL_EKEYPERM (file
 * readable by others), -ENOMEM or -errno. st (optional) says which share
 * and why.
 */
LSL_MUST_CHECK int lsl_officer_key_from_shares(struct lsl_officer_key **out,
                                               const char *const *paths,
                                               const char *const *passphrases,
                                               size_t n,
                                               const uint8_t *expect_pk,
                                               struct lsl_shares_status *st);

/* ---- writer (daemon side) ---- */

struct lsl_vault_writer;

struct lsl_vault_writer_opts {
    const char *dir;       /* borrowed; created if missing (0700) */
    const uint8_t *pubkey; /* borrowed, LSL_VAULT_PUBKEY_BYTES */
    const char *source;    /* borrowed; source name stored in records */
    uint32_t epoch;
    uint8_t epoch_len; /* enum lsl_epoch_len of the hash key */
    size_t seen_cap;   /* bound on the once-per-value set */
    const char *path;  /* borrowed; NULL: a new name in dir (below);
                        * else this exact path (created O_EXCL) */
};

void lsl_vault_writer_opts_init(struct lsl_vault_writer_opts *o);

/*
 * Create a new vault file in opts->dir, named
 * <epoch>-<utc YYYYmmddTHHMMSSZ>-<8 hex random>.lsv. The file is written in
 * place, without a .part name and rename: readers accept an unfinished file
 * and report it as such. The header is fsynced, and so is the directory,
 * before this returns. 0, -EINVAL (no public key, source name longer than
 * 65535 bytes) or -errno.
 */
LSL_MUST_CHECK int lsl_vault_writer_open(struct lsl_vault_writer **out,
                                         const struct lsl_vault_writer_opts *o);

/* Longest original value a record may carry. */
#define LSL_VAULT_VALUE_MAX (1u << 20)

/*
 * Stage a mapping. If its token was not written by this writer before (as
 * far as the bounded seen set remembers) the full record is queued;
 * otherwise only its seen range is extended (in memory; close() writes the
 * grown ranges). When the seen set is full it is emptied, so a value may be
 * written again later: readers merge. Sets *is_new when a MAP record was
 * queued. The value is copied. 0, -ENOMEM, or -EINVAL (class or kid out
 * of range, first_seen after last_seen, value longer than
 * LSL_VAULT_VALUE_MAX); on error nothing was staged.
 */
LSL_MUST_CHECK int lsl_vault_writer_add(struct lsl_vault_writer *w,
                                        const struct lsl_mapping *m,
                                        bool *is_new);

/*
 * Write the queued records as one chunk and fsync. Nothing queued: no-op.
 * After it returns 0, every mapping added so far is durable.
 * 0 or -errno (the records stay queued; call again to retry).
 */
LSL_MUST_CHECK int lsl_vault_writer_flush(struct lsl_vault_writer *w);

/*
 * Flush, write the seen-range updates and the final chunk, fsync, close,
 * free. On error the writer is still freed and the file is left
 * unfinished (readers report it). NULL-safe (returns 0).
 */
LSL_MUST_CHECK int lsl_vault_writer_close(struct lsl_vault_writer *w);

/* Path of the file being written. */
const char *lsl_vault_writer_path(const struct lsl_vault_writer *w);

/* Records (MAP) written so far. */
uint64_t lsl_vault_writer_entries(const struct lsl_vault_writer *w);

/* ---- reader (officer side) ---- */

struct lsl_vault_record {
    enum lsl_vault_rec_type type;
    struct lsl_token tok; /* tok.cls holds the class */
    int64_t first_seen;
    int64_t last_seen;
    struct lsl_span source; /* valid during the callback only */
    struct lsl_span value;  /* empty for SEEN; valid during the callback */
};

/* Return 0 to continue, non-zero to stop reading (returned by the reader). */
typedef int (*lsl_vault_record_fn)(const struct lsl_vault_record *r, void *ud);

struct lsl_vault_file_info {
    uint32_t epoch;
    uint8_t epoch_len; /* enum lsl_epoch_len; 0 for version 1 files */
    int64_t created;
    uint64_t chunks; /* intact chunks read */
    uint64_t records;
    bool complete;         /* final chunk seen */
    int error;             /* first integrity error, 0 if none */
    uint64_t error_offset; /* byte offset of the failing chunk */
};

/*
 * Read one vault file, calling fn for every record of every intact chunk.
 * Records are delivered chunk by chunk as they are read, so fn may have
 * seen records of a file that later turns out cut short or tampered: a
 * chunk is delivered only once it authenticated and every record in it
 * parsed. Stops at the first integrity failure: returns LSL_EAUTH (wrong
 * officer key, tampered header, or a chunk fails authentication:
 * tampered, reordered, or from another file), LSL_ETRUNC (cut short: no
 * final chunk, or a partial chunk), LSL_EFORMAT (not a vault file),
 * LSL_EVERSION, LSL_ECORRUPT (malformed record, absurd chunk length, data
 * after the final chunk), -errno, or fn's non-zero value. `info`
 * (optional) is filled in all cases; for integrity failures info->error
 * is the code and info->error_offset the byte offset of the failing chunk
 * (or header field). A name/epoch mismatch is found after the last chunk:
 * fn has seen the records by then.
 */
LSL_MUST_CHECK int lsl_vault_read_file(const char *path,
                                       const struct lsl_officer_key *key,
                                       lsl_vault_record_fn fn, void *ud,
                                       struct lsl_vault_file_info *info);

/*
 * Called after each file of lsl_vault_read_dir with the file's path
 * (borrowed, valid during the call), its info and the code
 * lsl_vault_read_file returned for it.
 */
typedef void (*lsl_vault_file_fn)(const char *path,
                                  const struct lsl_vault_file_info *info,
                                  int rc, void *ud);

/*
 * Read every regular *.lsv file of `dir` in name order (version order:
 * epoch 9 before epoch 10), calling fn for records as lsl_vault_read_file
 * does and on_file (optional) after each file, so the caller can report
 * per file. A damaged or unfinished file does not stop the walk: every
 * file is read. Returns 0 if every file was complete and intact, else the
 * first file's error code; -errno if the directory cannot be listed,
 * -ENOMEM; fn's non-zero value stops the walk and is returned.
 */
LSL_MUST_CHECK int lsl_vault_read_dir(const char *dir,
                                      const struct lsl_officer_key *key,
                                      lsl_vault_record_fn fn, void *ud,
                                      lsl_vault_file_fn on_file, void *file_ud);

/* ---- index: records of one or more files merged per token ---- */

struct lsl_vault_index;

/*
 * The merged view of one token. `value` is owned by the index (empty and
 * has_value false if only SEEN records were read for the token); `sources`
 * are the distinct source names (NUL-terminated, owned by the index).
 * Valid until the next lsl_vault_index_add() or lsl_vault_index_free().
 */
struct lsl_vault_index_entry {
    struct lsl_token tok;
    bool has_value;
    struct lsl_span value;
    int64_t first_seen; /* minimum over all records */
    int64_t last_seen;  /* maximum over all records */
    size_t nsources;
    const char *const *sources;
};

/* Create an empty index. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_vault_index_open(struct lsl_vault_index **out);

/*
 * Merge one record; an lsl_vault_record_fn with ud = the index, so it can
 * be passed to lsl_vault_read_file / lsl_vault_read_dir directly. Copies
 * what it keeps. 0 or -ENOMEM (the index is unchanged).
 */
LSL_MUST_CHECK int lsl_vault_index_add(const struct lsl_vault_record *r,
                                       void *ix);

/* The entry of token `t`, or NULL. */
const struct lsl_vault_index_entry *
lsl_vault_index_lookup(const struct lsl_vault_index *ix,
                       const struct lsl_token *t);

/* Number of distinct tokens. */
size_t lsl_vault_index_count(const struct lsl_vault_index *ix);

/*
 * Call fn for every entry (in no particular order) until it returns
 * non-zero; returns that value or 0.
 */
int lsl_vault_index_foreach(const struct lsl_vault_index *ix,
                            int (*fn)(const struct lsl_vault_index_entry *e,
                                      void *ud),
                            void *ud);

/* Wipe the original values and free. NULL-safe. */
void lsl_vault_index_free(struct lsl_vault_index *ix);

#endif
