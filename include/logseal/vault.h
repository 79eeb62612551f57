/*
 * logseal — the sealed vault: token -> original mappings.
 *
 * The daemon side writes with the officer's public key only and cannot read
 * back what it wrote. The officer side opens vault files with the officer
 * secret key.
 *
 * File layout (format version 3; all integers little-endian):
 *
 *   header   "LSLVAULT" | u8 version (3) | u8 flags | u8 reserved
 *            | u8 epoch_len | u32 epoch | i64 created (unix s)
 *            | u8 id[16] | u8 writer[16] | u64 seq | u8 prev[16]
 *            | u64 audit_seq
 *            | sealed box (crypto_box_SEALBYTES + 32 + LSL_VKEY_BYTES + 32)
 *            | secretstream header (24)
 *   chunks   u32 ciphertext length | ciphertext
 *
 * The sealed box, to the officer public key (crypto_box_seal), holds the
 * file key, the epoch's verification key (token.h) and the writer's
 * secret. Every chunk is a crypto_secretstream_xchacha20poly1305 message
 * whose additional data is the plaintext header (magic .. audit_seq), so
 * chunks cannot move between files; the stream itself detects reordering
 * and dropped chunks, and the last chunk carries TAG_FINAL so a cut-short
 * file is detected.
 *
 * Self-certifying records: the reader recomputes every MAP record's token
 * from its value with the verification key and refuses a record that does
 * not match (LSL_EFORGED), and a SEEN record whose token was not mapped
 * earlier in the same file. Anyone may seal a file to vault.pub, but
 * without the epoch's hash key nobody can make a real token map to a value
 * it is not the token of: a planted file can only hold tokens that appear
 * in no output. A vault file's verification key must equal that of every
 * other file of its epoch (checked across files, chain.c).
 *
 * Completeness: each writer (a host's pipe or daemon, identified by a
 * random writer id kept in its writer state, wstate.c) numbers its files
 * seq 1, 2, ... and names the previous one's id in `prev`; its secret,
 * sealed in every file, tells its files from files planted under its id.
 * The officer finds deleted files (gaps), forks and planted files from the
 * headers alone (chain.c). flags bit 0 (LSL_VAULT_F_REWRITTEN): the file
 * was rewritten by an officer command (erase, repair) recorded as audit
 * record audit_seq; it keeps the original's id, writer, seq and prev.
 *
 * Older versions (1 and 2) carry no verification key: their records cannot
 * be checked, and readers refuse them (LSL_EVERSION).
 *
 * The header epoch is authenticated (additional data) and names the file:
 * a reader refuses a file whose name "<epoch>-..." disagrees with it
 * (LSL_EAUTH: copied or renamed into another epoch), and any record whose
 * kid is not epoch % 1024 (LSL_ECORRUPT). epoch_len is the hash key's
 * enum lsl_epoch_len; with it and the epoch number a reader knows when the
 * file's epoch began and ended (lsl_epoch_start). A chunk holds a batch of
 * records:
 *
 *   record   u8 type | u8 class | u16 kid | u8 hash[15]
 *            | i64 first_seen | i64 last_seen
 *            | u16 source_len | source | u32 value_len | value
 *
 * type MAP carries the original value; type SEEN (value_len 0) extends the
 * first/last-seen range of a token mapped earlier in the file. Readers
 * merge: a value may appear more than once (per run, per file) and the
 * union is the truth.
 *
 * A writer holds an exclusive flock(2) on its file while it writes it, so
 * a reader on the same host tells a file being written from one cut short.
 *
 * No libuv here; writers do blocking I/O and must run off the loop thread.
 */
#ifndef LOGSEAL_VAULT_H
#define LOGSEAL_VAULT_H

#include "logseal/common.h"
#include "logseal/token.h"

#define LSL_VAULT_PUBKEY_BYTES  32
#define LSL_VAULT_SECKEY_BYTES  32
#define LSL_VAULT_SUFFIX        ".lsv"
#define LSL_VAULT_ID_BYTES      16
#define LSL_VAULT_WSECRET_BYTES 32
#define LSL_VAULT_DIGEST_BYTES  16

/* Header flags. */
#define LSL_VAULT_F_REWRITTEN 1u /* rewritten by an officer command */

/*
 * A file's place in its writer's chain: the writer's id, the file's
 * number (from 1) and id, and the id of the writer's previous file (all
 * zero for seq 1).
 */
struct lsl_vault_link {
    uint8_t writer[LSL_VAULT_ID_BYTES];
    uint64_t seq;
    uint8_t id[LSL_VAULT_ID_BYTES];
    uint8_t prev[LSL_VAULT_ID_BYTES];
};

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

/*
 * Load a public key file (not through a symlink). It and its directory
 * must be writable by nobody but their owner, the user or root:
 * LSL_EKEYDIR otherwise. 0, LSL_EKEYDIR, LSL_EFORMAT or -errno.
 */
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

/*
 * The stop key of officer key k (crypto_kdf(officer secret, id 1,
 * "lslstopk")): the officer computes stop entries with it, the writers
 * get a copy as KEYS/stop.key (token.h). 0 or -EIO.
 */
LSL_MUST_CHECK int lsl_officer_stop_key(const struct lsl_officer_key *k,
                                        uint8_t out[LSL_STOP_KEY_BYTES]);

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
/* Share passphrases: at least this many bytes, and all different. */
#define LSL_PASSPHRASE_MIN 12

struct lsl_shares_opts {
    unsigned threshold;             /* k, 2..count: one share is no split */
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
 * 0, -EINVAL (threshold below 2 or above count, a passphrase shorter than
 * LSL_PASSPHRASE_MIN, two equal passphrases, limits out of range),
 * -EEXIST, -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_officer_shares_write(const struct lsl_officer_key *k,
                                            const struct lsl_shares_opts *o);

/* What went wrong when opening shares, for a message naming the file. */
struct lsl_shares_status {
    size_t bad;         /* index of the share at fault, SIZE_MAX if none */
    unsigned threshold; /* k as read from the shares, 0 if none read */
    const char *why;    /* static text, NULL on success */
    /* On success: the share numbers (x, 1..n) combined, in the order
     * given; the audit log names them. */
    uint8_t used[LSL_SHARES_MAX];
    unsigned nused;
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
    const char *host;      /* borrowed; host id in the file name (file.h),
                            * NULL or "" for none */
    uint32_t epoch;
    uint8_t epoch_len;      /* enum lsl_epoch_len of the hash key */
    size_t seen_cap;        /* bound on the once-per-value set */
    const char *path;       /* borrowed; NULL: a new name in dir (below);
                             * else this exact path (created O_EXCL) */
    const uint8_t *vkey;    /* borrowed, LSL_VKEY_BYTES: the epoch's
                             * verification key, sealed in the header */
    const uint8_t *wsecret; /* borrowed, LSL_VAULT_WSECRET_BYTES */
    const struct lsl_vault_link *link; /* borrowed; NULL: a chain of its
                                        * own (random writer id, seq 1) */
    uint8_t flags;      /* LSL_VAULT_F_*; 0 for a writer's own file */
    uint64_t audit_seq; /* with LSL_VAULT_F_REWRITTEN */
    int64_t created;    /* 0: now */
};

void lsl_vault_writer_opts_init(struct lsl_vault_writer_opts *o);

/*
 * Create a new vault file in opts->dir, named
 * <epoch>-<host>-<utc YYYYmmddTHHMMSSZ>-<8 hex random>.lsv (without
 * "<host>-" when opts->host is NULL or ""). The file is written in
 * place, without a .part name and rename: readers accept an unfinished file
 * and report it as such. The writer holds an exclusive flock on it until
 * it is closed. The header is fsynced, and so is the directory, before
 * this returns. 0, -EINVAL (no public key, verification key or writer
 * secret, source name longer than 65535 bytes, an invalid host id) or
 * -errno.
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

/* ---- writer state: a writer's identity and its place in its chain ---- */

struct lsl_vault_wstate;

/*
 * The writer state of vault directory `vault_dir` (which must exist) in
 * directory `dir`: dir/writer-HEX.state, HEX a digest of the vault
 * directory's real path, so one host writes one chain per vault. 0,
 * -ENAMETOOLONG or -errno.
 */
LSL_MUST_CHECK int lsl_vault_wstate_path(char *out, size_t cap, const char *dir,
                                         const char *vault_dir);

/*
 * Open the writer state at `path` (lsl_vault_wstate_path in KEYS for pipe,
 * in STATE for the daemon; never in the vault directory, as it holds the
 * writer secret), creating a new writer (random id and secret, mode 0600)
 * if the file is absent. 0, LSL_EKEYPERM, LSL_EKEYOWNER, LSL_EFORMAT,
 * -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_vault_wstate_open(struct lsl_vault_wstate **out,
                                         const char *path);
void lsl_vault_wstate_close(struct lsl_vault_wstate *ws); /* NULL-safe */

/* The writer secret (LSL_VAULT_WSECRET_BYTES, valid until close) and id. */
const uint8_t *lsl_vault_wstate_secret(const struct lsl_vault_wstate *ws);
void lsl_vault_wstate_writer(const struct lsl_vault_wstate *ws,
                             uint8_t writer[LSL_VAULT_ID_BYTES]);

/*
 * Reserve the next place in the chain for the file about to be created at
 * `file_path` (shorter than 128 bytes): takes the state's lock, reads the
 * state afresh, settles a reservation a crash left open (kept if its file
 * exists, given back if not), fills *link and records the reservation
 * durably. On success it must be followed by lsl_vault_wstate_end, which
 * releases the lock. 0, -ENAMETOOLONG or the codes of open.
 */
LSL_MUST_CHECK int lsl_vault_wstate_begin(struct lsl_vault_wstate *ws,
                                          const char *file_path,
                                          struct lsl_vault_link *link);

/*
 * End a reservation: `created` says the file exists (the place is taken)
 * or not (it is given back). Releases the lock. 0 or -errno (the next
 * begin settles the reservation from what is on disk).
 */
LSL_MUST_CHECK int lsl_vault_wstate_end(struct lsl_vault_wstate *ws,
                                        bool created);

/* The stop list generation last applied (as loaded at open). */
uint64_t lsl_vault_wstate_stop_seq(const struct lsl_vault_wstate *ws);

/* Raise it to `seq` (never lowers it). 0 or -errno. */
LSL_MUST_CHECK int lsl_vault_wstate_set_stop_seq(struct lsl_vault_wstate *ws,
                                                 uint64_t seq);

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
    uint8_t version;
    uint8_t flags; /* LSL_VAULT_F_* */
    uint32_t epoch;
    uint8_t epoch_len; /* enum lsl_epoch_len */
    int64_t created;
    struct lsl_vault_link link;
    uint64_t audit_seq; /* LSL_VAULT_F_REWRITTEN: the audit record */
    bool have_keys;     /* the sealed box opened: the digests are set */
    /* BLAKE2b of the sealed verification key and writer secret, to
     * compare files without handling the secrets. */
    uint8_t vkey_digest[LSL_VAULT_DIGEST_BYTES];
    uint8_t wsecret_digest[LSL_VAULT_DIGEST_BYTES];
    uint64_t chunks; /* intact chunks read */
    uint64_t records;
    bool complete;         /* final chunk seen */
    bool writing;          /* not complete, and a writer holds it open */
    int error;             /* first integrity error, 0 if none */
    uint64_t error_offset; /* byte offset of the failing chunk */
};

/*
 * Read one vault file, calling fn for every record of every intact chunk.
 * Records are delivered chunk by chunk as they are read, so fn may have
 * seen records of a file that later turns out cut short or tampered: a
 * chunk is delivered only once it authenticated and every record in it
 * parsed and verified. Stops at the first integrity failure: returns
 * LSL_EAUTH (wrong officer key, tampered header, or a chunk fails
 * authentication: tampered, reordered, or from another file), LSL_EFORGED
 * (a MAP record whose token is not its value's under the file's
 * verification key, or a SEEN record of a token the file never mapped),
 * LSL_ETRUNC (cut short: no final chunk, or a partial chunk; see
 * info->writing), LSL_EFORMAT (not a vault file), LSL_EVERSION (a version
 * before 3, or a later one), LSL_ECORRUPT (malformed record, absurd chunk
 * length, data after the final chunk), -errno, or fn's non-zero value. `info`
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

/*
 * The names of the regular-looking *.lsv entries of dir (not starting
 * with '.'), in the order lsl_vault_read_dir reads them. *names is
 * malloc'd (free with lsl_vault_list_free). 0, -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_vault_list(const char *dir, char ***names,
                                  size_t *count);
void lsl_vault_list_free(char **names, size_t n); /* NULL-safe */

/*
 * The epoch in a vault file name "<epoch>-....lsv" (the directory part of
 * `path` is skipped). False if the name does not start that way.
 */
bool lsl_vault_name_epoch(const char *path, uint32_t *epoch);

/*
 * The host id in a vault file name <epoch>-<host>-<time>-<random>.lsv
 * (the directory part of path is skipped) into out. False for a name
 * without one (files of earlier releases) or a host id that is not valid.
 * A name is a label, not evidence: records carry the host too.
 */
bool lsl_vault_name_host(const char *path, char *out, size_t cap);

/* ---- completeness: the writers' chains across a vault's files ---- */

/*
 * The newest file of one writer as an audited action saw it: the writer,
 * its highest seq and the digest of its secret, and the audit record that
 * saw them (legal.h derives these from the log).
 */
struct lsl_vault_anchor {
    uint8_t writer[LSL_VAULT_ID_BYTES];
    uint64_t seq;
    uint8_t digest[LSL_VAULT_DIGEST_BYTES];
    uint64_t audit_seq;
};

struct lsl_vault_chain;

enum lsl_vault_chain_fault {
    LSL_CHAIN_MISSING,   /* places of a writer with no file: deleted */
    LSL_CHAIN_TAIL,      /* the newest files an audited action saw: gone */
    LSL_CHAIN_DUPLICATE, /* two files claim one place (a copy, a fork) */
    LSL_CHAIN_LINK,      /* prev is not the id of the file before */
    LSL_CHAIN_FOREIGN,   /* under a writer's id, without its secret */
    LSL_CHAIN_KEY,       /* another verification key than its epoch's */
};

struct lsl_vault_chain_problem {
    enum lsl_vault_chain_fault fault;
    const uint8_t *writer; /* LSL_VAULT_ID_BYTES */
    uint64_t seq, seq_to;  /* the place, or the range of places */
    const char *path;      /* the file concerned, or NULL */
    const char *other;     /* the file it conflicts with, or NULL */
    uint32_t epoch;        /* LSL_CHAIN_KEY */
    uint64_t audit_seq;    /* LSL_CHAIN_TAIL: the record that saw them */
};

/* What the audit log says about the vault (legal.h). */
struct lsl_vault_chain_expect {
    const struct lsl_vault_anchor *anchors; /* per writer, may be NULL */
    size_t nanchors;
    /* True if an audited action removed the file (writer, seq). */
    bool (*removed)(const uint8_t *writer, uint64_t seq, void *ud);
    void *ud;
};

/* An empty set of facts. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_vault_chain_open(struct lsl_vault_chain **out);
void lsl_vault_chain_free(struct lsl_vault_chain *c); /* NULL-safe */

/*
 * Note one file as lsl_vault_read_file described it (whatever it
 * returned): its place, its id and link, its keys' digests. A file whose
 * header could not be read takes no place. Copies path. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_vault_chain_add(struct lsl_vault_chain *c,
                                       const char *path,
                                       const struct lsl_vault_file_info *info);

/*
 * Check the facts noted: per writer, its files must carry one secret (the
 * one the audit log saw, else the one most of its files carry), fill
 * places 1..n without gaps (except places x->removed says were removed)
 * and without two files in one place, each naming the one before as prev,
 * and reach at least the place the audit log saw last; the files of one
 * epoch must carry one verification key. fn is called per problem; the
 * number of problems is returned.
 */
size_t lsl_vault_chain_check(
    struct lsl_vault_chain *c, const struct lsl_vault_chain_expect *x,
    void (*fn)(const struct lsl_vault_chain_problem *p, void *ud), void *ud);

/* The path of some file noted for `writer`, or NULL. */
const char *lsl_vault_chain_path(const struct lsl_vault_chain *c,
                                 const uint8_t writer[LSL_VAULT_ID_BYTES]);

/*
 * The newest good file (read without an integrity failure, not foreign)
 * of each writer noted (its id, seq, secret digest; audit_seq 0), for the
 * audit record of an action; call after lsl_vault_chain_check. Returns the
 * count; *out (malloc'd, the caller frees) or NULL on -ENOMEM (count 0).
 */
size_t lsl_vault_chain_anchors(const struct lsl_vault_chain *c,
                               struct lsl_vault_anchor **out);

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
    bool conflict; /* MAP records gave it two different values */
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
 * Tokens whose MAP records disagree on the value. Verified records cannot
 * (a token is its value's), so any is an integrity failure; the first
 * value read stays, marked entry->conflict.
 */
size_t lsl_vault_index_conflicts(const struct lsl_vault_index *ix);

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
