/*
 * logseal — vault internals shared by keys.c, codec.c, writer.c, reader.c
 * and index.c: the on-disk layout constants, the header and record codecs,
 * a byte buffer that wipes what it held, and test hooks.
 *
 * Not installed and not part of the contract: vault.h is.
 */
#ifndef LOGSEAL_VAULT_INTERNAL_H
#define LOGSEAL_VAULT_INTERNAL_H

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/types.h>
#include "logseal/auditlog.h"
#include "logseal/buf.h"
#include "logseal/vault.h"

#define LSL_VAULT_MAGIC       "LSLVAULT"
#define LSL_VAULT_MAGIC_BYTES 8
/* Version 3 adds the chain fields and the sealed verification key and
 * writer secret; versions 1 and 2 cannot be verified and are refused. */
#define LSL_VAULT_VERSION        3
#define LSL_VAULT_OFF_EPOCH_LEN  (LSL_VAULT_MAGIC_BYTES + 3)
#define LSL_VAULT_FILE_KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES

/* The plaintext header fields, magic .. audit_seq: every chunk's
 * additional data. */
#define LSL_VAULT_AD_BYTES                                                     \
    (LSL_VAULT_MAGIC_BYTES + 4 + 4 + 8 + LSL_VAULT_ID_BYTES +                  \
     LSL_VAULT_ID_BYTES + 8 + LSL_VAULT_ID_BYTES + 8)
/* What the sealed box holds: file key | verification key | writer secret. */
#define LSL_VAULT_SECRETS_BYTES                                                \
    (LSL_VAULT_FILE_KEY_BYTES + LSL_VKEY_BYTES + LSL_VAULT_WSECRET_BYTES)
#define LSL_VAULT_SEALED_BYTES (crypto_box_SEALBYTES + LSL_VAULT_SECRETS_BYTES)
#define LSL_VAULT_SS_HEADER_BYTES                                              \
    crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define LSL_VAULT_SEALED_OFFSET    LSL_VAULT_AD_BYTES
#define LSL_VAULT_SS_HEADER_OFFSET (LSL_VAULT_AD_BYTES + LSL_VAULT_SEALED_BYTES)
#define LSL_VAULT_HEADER_BYTES                                                 \
    (LSL_VAULT_SS_HEADER_OFFSET + LSL_VAULT_SS_HEADER_BYTES)

#define LSL_VAULT_CHUNK_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
/* Readers refuse longer chunks: a damaged length must not allocate GiBs. */
#define LSL_VAULT_CHUNK_MAX (64u << 20)
/* Writers cut chunks at record boundaries past this much plaintext. */
#define LSL_VAULT_CHUNK_TARGET (1u << 20)

/* type, class, kid, hash, first, last, source_len, value_len. */
#define LSL_VAULT_REC_FIXED  (1 + 1 + 2 + LSL_TOKEN_HASH_BYTES + 8 + 8 + 2 + 4)
#define LSL_VAULT_KID_MAX    1023
#define LSL_VAULT_SOURCE_MAX 0xffffu

static inline int lsl_vault_sodium_init(void)
{
    /* Idempotent and thread-safe; fails only without an entropy source. */
    return sodium_init() < 0 ? -EIO : 0;
}

/* ---- little-endian integers ---- */

static inline void lsl_put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t lsl_get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- tokens as hash keys (tokens are pseudonyms: no secret compares) ---- */

static inline bool lsl_vault_tok_eq(const struct lsl_token *a,
                                    const struct lsl_token *b)
{
    return a->cls == b->cls && a->kid == b->kid &&
           memcmp(a->hash, b->hash, LSL_TOKEN_HASH_BYTES) == 0;
}

static inline uint64_t lsl_vault_tok_hash(const struct lsl_token *t)
{
    /* The hash bytes are already uniform (keyed BLAKE2b output). */
    return (lsl_get_le(t->hash, 8) ^ ((uint64_t)t->kid << 8 | t->cls)) *
           0x9e3779b97f4a7c15ull;
}

/* ---- officer key ---- */

const uint8_t *lsl_officer_key_pk(const struct lsl_officer_key *k);
const uint8_t *lsl_officer_key_sk(const struct lsl_officer_key *k);

/*
 * A key object from a secret key and the public key it must derive to.
 * 0, LSL_EAUTH (sk does not derive pk) or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_officer_key_from_sk(struct lsl_officer_key **out,
                                           const uint8_t *sk,
                                           const uint8_t *pk);

/* ---- header ---- */

struct lsl_vault_hdr {
    uint8_t version; /* decode only; encode writes LSL_VAULT_VERSION */
    uint8_t flags;   /* LSL_VAULT_F_* */
    uint8_t epoch_len;
    uint32_t epoch;
    int64_t created;
    struct lsl_vault_link link; /* id is the file's id */
    uint64_t audit_seq;
};

void lsl_vault_hdr_encode(const struct lsl_vault_hdr *h,
                          uint8_t out[LSL_VAULT_AD_BYTES]);

/*
 * 0, LSL_EFORMAT (magic, reserved byte, unknown flags, epoch length) or
 * LSL_EVERSION (h->version says which).
 */
LSL_MUST_CHECK int lsl_vault_hdr_decode(const uint8_t in[LSL_VAULT_AD_BYTES],
                                        struct lsl_vault_hdr *h);

/* BLAKE2b-128 of a secret, to compare files without the secret itself. */
void lsl_vault_digest(const uint8_t *p, size_t len,
                      uint8_t out[LSL_VAULT_DIGEST_BYTES]);

/*
 * Read the header of the vault file at path and open its sealed box:
 * the header fields into *h, the verification key and the writer secret
 * into vkey / wsecret (secure memory of the caller). For rewriting a file
 * under its own keys. 0, LSL_EFORMAT, LSL_EVERSION, LSL_ETRUNC, LSL_EAUTH
 * (another officer key) or -errno.
 */
LSL_MUST_CHECK int lsl_vault_header_secrets(const char *path,
                                            const struct lsl_officer_key *key,
                                            struct lsl_vault_hdr *h,
                                            uint8_t *vkey, uint8_t *wsecret);

/*
 * The name of a new vault file of `epoch` created at `when` by `host`
 * (NULL or "": none), into out:
 * <epoch>-<host>-<utc YYYYmmddTHHMMSSZ>-<8 hex random>.lsv.
 */
#define LSL_VAULT_NAME_MAX 128
void lsl_vault_file_name(uint32_t epoch, int64_t when, const char *host,
                         char out[LSL_VAULT_NAME_MAX]);

/* ---- reading for the sealed index (sidx_build.c) ---- */

typedef crypto_secretstream_xchacha20poly1305_state lsl_vault_stream_state;

/* What the index needs of a reading besides the records. */
struct lsl_vault_read_ext {
    /*
     * Called for each chunk that authenticated and verified, before its
     * records are delivered: the byte offset of its length field and the
     * stream state that decrypts it (a copy in secure memory, valid during
     * the call). Non-zero stops the reading and is returned.
     */
    int (*on_chunk)(uint64_t offset, const uint8_t *state, void *ud);
    void *ud;
    uint8_t *vkey; /* NULL, or secure memory for the file's verification
                    * key (LSL_VKEY_BYTES; set once the box opened) */
};

/* lsl_vault_read_file with the hooks of x (NULL: none). */
LSL_MUST_CHECK int lsl_vault_read_file_ext(const char *path,
                                           const struct lsl_officer_key *key,
                                           lsl_vault_record_fn fn, void *ud,
                                           struct lsl_vault_file_info *info,
                                           const struct lsl_vault_read_ext *x);

/* ---- records ---- */

static inline size_t lsl_vault_rec_size(const struct lsl_vault_record *r)
{
    return LSL_VAULT_REC_FIXED + r->source.len + r->value.len;
}

/*
 * Append the encoding of r. The caller has validated the record (class,
 * kid, lengths) and reserved lsl_vault_rec_size(r) bytes, so this cannot
 * fail.
 */
void lsl_vault_rec_put(struct lsl_buf *b, const struct lsl_vault_record *r);

/*
 * Decode the record at p[0..len); spans point into p. Sets *used to its
 * size. 0 or LSL_ECORRUPT (short, bad type, class, kid, range, or a SEEN
 * record with a value).
 */
LSL_MUST_CHECK int lsl_vault_rec_get(const uint8_t *p, size_t len, size_t *used,
                                     struct lsl_vault_record *r);

/* ---- the writer's bounded once-per-value set ---- */

struct lsl_vault_seen_entry {
    struct lsl_token tok;
    bool used;
    bool dirty; /* range grew since it was last queued for writing */
    int64_t first_seen;
    int64_t last_seen;
};

/*
 * Open addressing with linear probing over a table sized once, at the first
 * insert, to keep `cap` entries below 80% load. It is calloc'd: the pages
 * an idle writer's few entries never touch cost no memory, and there is no
 * growth that would hold an old and a new table at once.
 */
struct lsl_vault_seen {
    struct lsl_vault_seen_entry *slots; /* NULL until the first reserve */
    size_t nslots; /* 0 until the first reserve, then max_slots */
    size_t max_slots;
    size_t count;
    size_t cap;
};

/* 0 or -ENOMEM. cap 0 is taken as 1. Allocates nothing yet. */
LSL_MUST_CHECK int lsl_vault_seen_init(struct lsl_vault_seen *s, size_t cap);
void lsl_vault_seen_free(struct lsl_vault_seen *s);

struct lsl_vault_seen_entry *lsl_vault_seen_find(struct lsl_vault_seen *s,
                                                 const struct lsl_token *t);

static inline bool lsl_vault_seen_full(const struct lsl_vault_seen *s)
{
    return s->count >= s->cap;
}

/* Make room so the next insert cannot fail. Not full. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_vault_seen_reserve(struct lsl_vault_seen *s);

/* Insert an absent token after lsl_vault_seen_reserve() succeeded. */
struct lsl_vault_seen_entry *lsl_vault_seen_insert(struct lsl_vault_seen *s,
                                                   const struct lsl_token *t);

void lsl_vault_seen_clear(struct lsl_vault_seen *s);

/*
 * Stage a record exactly as given (type, token, times, source and value),
 * bypassing the seen set: for rewriting a file (erase). Same checks and
 * codes as lsl_vault_writer_add.
 */
LSL_MUST_CHECK int lsl_vault_writer_put(struct lsl_vault_writer *w,
                                        const struct lsl_vault_record *r);

/* ---- Shamir secret sharing over GF(2^8) (shamir.c) ---- */

/*
 * GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1. Both run in
 * time independent of their arguments: no branches on and no tables
 * indexed by secret bytes.
 */
uint8_t lsl_gf256_mul(uint8_t a, uint8_t b);
uint8_t lsl_gf256_inv(uint8_t a); /* a^254; 0 maps to 0 */

/* Fills buf with len random bytes (randombytes_buf, or a test's fixed one). */
typedef void (*lsl_shamir_rand_fn)(void *buf, size_t len);

/*
 * Split secret[0..len) into n shares for threshold k (1 <= k <= n <= 255):
 * share i (0-based, x-coordinate i + 1) goes to shares[i * len ..]. Each
 * byte gets its own random polynomial of degree k - 1 whose constant term
 * is the secret byte. rnd NULL means randombytes_buf. 0, -EINVAL or
 * -ENOMEM.
 */
LSL_MUST_CHECK int lsl_shamir_split(const uint8_t *secret, size_t len,
                                    unsigned k, unsigned n, uint8_t *shares,
                                    lsl_shamir_rand_fn rnd);

/*
 * Interpolate at 0 from k points: xs[i] (distinct, non-zero) and the
 * share bytes ys[i][0..len). Writes len bytes to secret. 0 or -EINVAL.
 * With fewer points than the threshold the result is some value, not an
 * error: the caller checks it against the public key.
 */
LSL_MUST_CHECK int lsl_shamir_join(const uint8_t *xs, const uint8_t *const *ys,
                                   unsigned k, size_t len, uint8_t *secret);

/* ---- audit log internals (auditlog_write.c, auditlog_verify.c) ---- */

/* Format 2 records have 10 fields (items before prev); format 1 has 9. */
#define LSL_AUDIT_FIELDS    10
#define LSL_AUDIT_FIELDS_V1 9
#define LSL_AUDIT_SIG_BYTES crypto_sign_BYTES

/* A record line split into its fields; spans point into the line. */
struct lsl_audit_line {
    struct lsl_span field[LSL_AUDIT_FIELDS]; /* seq .. count */
    struct lsl_span items;                   /* empty in format 1 */
    uint8_t format;                          /* 1 or 2 */
    uint64_t seq;
    uint64_t count;
    size_t signed_len; /* bytes covered by the signature */
    uint8_t prev[LSL_AUDIT_HASH_BYTES];
    uint8_t sig[LSL_AUDIT_SIG_BYTES];
};

/* Split and decode one line (no newline). 0 or LSL_ECORRUPT. */
LSL_MUST_CHECK int lsl_audit_line_parse(const char *p, size_t len,
                                        struct lsl_audit_line *out);

/*
 * The audit signing key pair of officer key k (Ed25519; seed
 * crypto_kdf(officer secret, id 1, "lslaudit")): signs audit records and
 * the stop list. sk is crypto_sign_SECRETKEYBYTES of secure memory.
 * 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_audit_sign_keypair(const struct lsl_officer_key *k,
                                          uint8_t pk[32], uint8_t *sk);

/* The chain value of record 1. */
void lsl_audit_genesis(const struct lsl_audit_pub *pub,
                       uint8_t out[LSL_AUDIT_HASH_BYTES]);

/* The chain value a line passes to the next: BLAKE2b-256 of the line. */
void lsl_audit_line_hash(const char *p, size_t len,
                         uint8_t out[LSL_AUDIT_HASH_BYTES]);

/* Read all of fd from its current offset into b. 0, -ENOMEM or -errno. */
LSL_MUST_CHECK int lsl_audit_read_fd(int fd, struct lsl_buf *b);

/* Read the file at path (not through a symlink) into b. 0, -ENOMEM,
 * -errno. */
LSL_MUST_CHECK int lsl_audit_read_path(const char *path, struct lsl_buf *b);

/* ---- test hooks ---- */

/* pwrite(2)-compatible; the writer's only way to put bytes in its file. */
typedef ssize_t (*lsl_vault_pwrite_fn)(int fd, const void *buf, size_t len,
                                       off_t off);

/* Substitute the writer's pwrite (tests simulate a full disk). */
void lsl_vault_writer_set_pwrite(struct lsl_vault_writer *w,
                                 lsl_vault_pwrite_fn fn);

#endif
