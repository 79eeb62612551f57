/*
 * The sealed index's internals (sidx.h), shared by sidx_store.c (boxes,
 * the manifest, writing and reading runs), sidx_build.c (updates) and
 * sidx_find.c (lookups).
 *
 * Byte layouts (little-endian integers except where sorting needs
 * big-endian):
 *
 *   box        u32 length of what follows | nonce[24] | ciphertext
 *              (XChaCha20-Poly1305-IETF, plaintext + 16)
 *   manifest   "LSLSIDXM" | u32 version | u32 state size | lineage[16]
 *              | u64 generation | box(body); the 40 bytes before the box
 *              are its additional data
 *   body       u64 next run | u32 next file number
 *              | u32 n | n x (u16 kid | vkey[LSL_VKEY_BYTES])
 *              | u32 n | n x file (sorted by name)
 *              | u32 n | n x run
 *   file       u16 name length | name | 7 x u64 identity (dev, ino, size,
 *              mtime s, ns, ctime s, ns) | u32 no | i32 rc | i32 vkey
 *              | info (encode_info)
 *   run        u64 no | u64 entries | u32 chunks | u64 chunk table
 *              offset | u64 first leaf | u64 root | u8 depth
 *   run file   "LSLSIDXR" | u32 version | u32 0 | lineage[16], then boxes
 *              whose additional data is "LSLSIDXB" | lineage | u64 run no
 *              | u8 kind | u64 offset of the box (so none can move)
 *   chunk tab  fixed-size boxes of CT_PER_BLOCK entries (the last padded):
 *              u8 kind | 3 x 0 | u32 count | entries of u32 file no
 *              | u64 offset | stream state
 *   leaf       u8 kind | 3 x 0 | u32 count | u64 next leaf (0: last)
 *              | entries of token key (hash[15] | class | u16 kid BE)
 *              | u32 chunk BE (run-local): memcmp order is key order
 *   inner      u8 kind | 3 x 0 | u32 count | children of key[18] (the
 *              child's first) | u64 offset
 */
#ifndef LSL_VAULT_SIDX_INTERNAL_H
#define LSL_VAULT_SIDX_INTERNAL_H

#include <stdio.h>
#include "logseal/buf.h"
#include "logseal/sidx.h"
#include "vault_internal.h"

#define SIDX_VERSION     1
#define SIDX_STATE_BYTES sizeof(lsl_vault_stream_state)
#define SIDX_LINEAGE     16
#define SIDX_NONCE       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SIDX_ABYTES      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SIDX_KEY_BYTES   crypto_aead_xchacha20poly1305_ietf_KEYBYTES

#define SIDX_KEY          (LSL_TOKEN_HASH_BYTES + 1 + 2) /* hash | cls | kid */
#define SIDX_MATCH        (LSL_TOKEN_HASH_BYTES + 1)     /* compared: no kid */
#define SIDX_ENTRY        (SIDX_KEY + 4)                 /* key | chunk */
#define SIDX_CT           (4 + 8 + SIDX_STATE_BYTES)     /* chunk table entry */
#define SIDX_BLOCK        65536 /* most plaintext a block holds */
#define SIDX_HDR          8     /* kind | 0 0 0 | u32 count */
#define SIDX_LEAF_HDR     (SIDX_HDR + 8)
#define SIDX_PER_LEAF     ((SIDX_BLOCK - SIDX_LEAF_HDR) / SIDX_ENTRY)
#define SIDX_CHILD        (SIDX_KEY + 8)
#define SIDX_PER_INNER    ((SIDX_BLOCK - SIDX_HDR) / SIDX_CHILD)
#define SIDX_CT_PER_BLOCK 1024
#define SIDX_CT_PLAIN     (SIDX_HDR + SIDX_CT_PER_BLOCK * SIDX_CT)
#define SIDX_CT_DISK      (4 + SIDX_NONCE + SIDX_CT_PLAIN + SIDX_ABYTES)
#define SIDX_DEPTH_MAX    8
#define SIDX_RUN_HDR      32

enum sidx_kind { SIDX_K_CT = 1, SIDX_K_LEAF = 2, SIDX_K_INNER = 3 };

struct sidx_ident {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct sidx_file {
    char *name;
    struct sidx_ident id;
    struct lsl_sidx_file pub;
};

struct sidx_run {
    uint64_t no;
    uint64_t entries;
    uint32_t nchunks;
    uint64_t ct_off;
    uint64_t first_leaf;
    uint64_t root;
    uint8_t depth; /* inner levels above the leaves */
    /* reading (sidx_find.c) */
    int fd;
    struct lsl_buf *ct; /* decrypted chunk table blocks, lazily */
    struct {
        uint64_t off; /* 0: empty */
        struct lsl_buf b;
    } path[SIDX_DEPTH_MAX + 1];
};

struct sidx_vkey {
    uint16_t kid;
    uint8_t *vk; /* into lsl_sidx.vkmem */
};

struct lsl_sidx {
    char dir[4096]; /* VAULTDIR/index */
    uint8_t *key;   /* sodium_malloc */
    uint8_t lineage[SIDX_LINEAGE];
    uint64_t generation;
    uint64_t next_run;
    uint32_t next_file;
    struct sidx_file *files; /* sorted by name */
    size_t nfiles;
    uint32_t *by_no; /* indexes into files, sorted by number */
    struct sidx_vkey *vkeys;
    size_t nvkeys;
    uint8_t *vkmem; /* sodium_allocarray: nvkeys x LSL_VKEY_BYTES */
    struct sidx_run *runs;
    size_t nruns;
    int lock_fd;
    struct lsl_buf states; /* lsl_sidx_loc.state -> SIDX_STATE_BYTES each */
    int file_fd;           /* the vault file chunks are being read from */
    uint32_t file_no;
};

/* ---- sidx_store.c ---- */

/* The index key of officer key k (32 bytes of secure memory). 0 or -EIO. */
LSL_MUST_CHECK int lsl_sidx_key(const struct lsl_officer_key *k, uint8_t *out);

/* Append u32 length | nonce | ciphertext of plain (plen bytes) to out.
 * 0, -EFBIG or -ENOMEM. */
LSL_MUST_CHECK int lsl_sidx_box_seal(const uint8_t *key, const uint8_t *ad,
                                     size_t adlen, const uint8_t *plain,
                                     size_t plen, struct lsl_buf *out);

/* The additional data of the block of `kind` at `off` of run `run`. */
void lsl_sidx_block_ad(const struct lsl_sidx *ix, uint64_t run,
                       enum sidx_kind kind, uint64_t off, uint8_t ad[41]);

/* "VAULTDIR/index/NAME" into out. 0 or -ENAMETOOLONG. */
LSL_MUST_CHECK int lsl_sidx_path(const struct lsl_sidx *ix, const char *name,
                                 char *out, size_t cap);

/* An empty index object (no files, no runs) for dir. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_sidx_alloc(struct lsl_sidx **out, const char *vault_dir,
                                  const struct lsl_officer_key *key);

/* Free the manifest's contents (files, keys, runs), keep the rest. */
void lsl_sidx_clear(struct lsl_sidx *ix);

/* Read and open index/manifest into ix (cleared first). Codes of open. */
LSL_MUST_CHECK int lsl_sidx_manifest_load(struct lsl_sidx *ix);

/* Write ix as index/manifest (tmp, fsync, rename, fsync dir). */
LSL_MUST_CHECK int lsl_sidx_manifest_write(const struct lsl_sidx *ix);

/* Seal body[0..len) as ix's manifest (also for the fuzz target). */
LSL_MUST_CHECK int lsl_sidx_manifest_put(const struct lsl_sidx *ix,
                                         const uint8_t *body, size_t len);

/* Build by_no from files. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_sidx_number(struct lsl_sidx *ix);

/* The file numbered no, or NULL. */
const struct sidx_file *lsl_sidx_by_no(const struct lsl_sidx *ix, uint32_t no);

/* Open run r's file for reading (if not yet). 0 or -errno. */
LSL_MUST_CHECK int lsl_sidx_run_open(const struct lsl_sidx *ix,
                                     struct sidx_run *r);

/*
 * Read and open the box at offset `off` of run r, of the given kind, into
 * b (wiped first). 0, LSL_EAUTH, LSL_ECORRUPT (not that kind, a bad
 * count or length), -ENOMEM or -errno.
 */
LSL_MUST_CHECK int lsl_sidx_block_read(const struct lsl_sidx *ix,
                                       const struct sidx_run *r, uint64_t off,
                                       enum sidx_kind kind, struct lsl_buf *b);

/* Chunk table entry `id` of run r (its block decrypted and kept). */
LSL_MUST_CHECK int lsl_sidx_chunk(const struct lsl_sidx *ix, struct sidx_run *r,
                                  uint32_t id, const uint8_t **entry);

/* Free a run's reading state (fd, caches). */
void lsl_sidx_run_release(struct sidx_run *r);

/* ---- reading vault files for an update (sidx_read.c) ---- */

/* One vault file to read, and what came of it. */
struct sidx_job {
    char *path; /* owned by the builder */
    char *name; /* into path */
    struct sidx_ident id;
    uint32_t no;
    /* results: entries whose chunk is an index into this job's chunks */
    uint8_t *entries;
    size_t n, cap;
    struct lsl_buf chunks; /* SIDX_CT each */
    struct lsl_vault_file_info info;
    int rc;
    uint8_t *vkey; /* secure; set when info.have_keys */
    bool ready;
};

/*
 * Read jobs[0..n) on up to `threads` threads (0: one per processor, at
 * most 4) and call done for each, in order, on this thread; a job's
 * buffers are released after done returns. 0, or done's non-zero value
 * (the rest are not taken).
 */
LSL_MUST_CHECK int lsl_sidx_read_jobs(const struct lsl_officer_key *key,
                                      struct sidx_job *jobs, size_t n,
                                      unsigned threads,
                                      int (*done)(struct sidx_job *, void *),
                                      void *ud);

/* Free a job's results (not its path). */
void lsl_sidx_job_release(struct sidx_job *j);

/* ---- writing a run (sidx_write.c) ---- */

struct sidx_writer {
    const struct lsl_sidx *ix;
    struct sidx_run *run; /* filled as it goes */
    int fd;
    uint64_t off;
    struct lsl_buf leaf;  /* the leaf being filled */
    struct lsl_buf plain; /* scratch */
    uint8_t *children;    /* (first key, offset) of every leaf/inner */
    size_t nchildren, cap;
    char path[4096];
};

/*
 * Create index/run-<r->no>.lsi and write the chunk table (nchunks entries
 * of SIDX_CT bytes, secret) into it. 0 or -errno.
 */
LSL_MUST_CHECK int lsl_sidx_writer_open(struct sidx_writer *w,
                                        const struct lsl_sidx *ix,
                                        struct sidx_run *r,
                                        const uint8_t *chunks,
                                        uint32_t nchunks);

/* Append one entry; entries come in strictly increasing order. */
LSL_MUST_CHECK int lsl_sidx_writer_add(struct sidx_writer *w,
                                       const uint8_t e[SIDX_ENTRY]);

/* Write the inner levels, fsync, close. 0 or -errno; on error the file is
 * removed. Frees w's buffers either way. */
LSL_MUST_CHECK int lsl_sidx_writer_finish(struct sidx_writer *w, bool ok);

/* ---- byte helpers ---- */

static inline void lsl_sidx_put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline uint64_t lsl_sidx_get_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* A token's key: hash | class | kid (big-endian). */
static inline void lsl_sidx_tok_key(const struct lsl_token *t,
                                    uint8_t out[SIDX_KEY])
{
    memcpy(out, t->hash, LSL_TOKEN_HASH_BYTES);
    out[LSL_TOKEN_HASH_BYTES] = t->cls;
    lsl_sidx_put_be(out + LSL_TOKEN_HASH_BYTES + 1, t->kid, 2);
}

#endif
