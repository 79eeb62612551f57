/*
 * Helpers shared by the vault unit tests: scratch directories, officer
 * keys, synthetic mappings, a record collector and raw file surgery.
 */
#ifndef VT_UTIL_H
#define VT_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>
#include "logseal/vault.h"

/* A fresh directory under $TMPDIR (or /tmp); free with vt_rmrf. */
char *vt_tmpdir(void);
void vt_rmrf(char *dir);

/* Create officer.key / vault.pub in dir, load both. */
void vt_keys(const char *dir, struct lsl_officer_key **k, uint8_t pk[32]);

/*
 * The test verification key and writer secret every test file carries,
 * and writer options filled with them (dir, pubkey, epoch 7, never).
 */
extern const uint8_t *vt_vkey;
extern const uint8_t *vt_wsecret;
void vt_writer_opts(struct lsl_vault_writer_opts *o, const char *dir,
                    const uint8_t pk[32]);

/*
 * A mapping of `value` (borrowed) in class cls whose token is the one
 * vt_vkey makes of it in `epoch` (key id epoch % 1024), as a reader
 * verifies it.
 */
struct lsl_mapping vt_map(unsigned cls, unsigned epoch, const char *value,
                          int64_t first, int64_t last);

/* A mapping with a token unrelated to its value (index tests only). */
struct lsl_mapping vt_map_raw(unsigned cls, unsigned n, const char *value,
                              int64_t first, int64_t last);

/* Lowercase hex of the token's hash (for failure messages). */
const char *vt_hex(const struct lsl_token *t);

struct vt_rec {
    enum lsl_vault_rec_type type;
    struct lsl_token tok;
    int64_t first_seen, last_seen;
    char source[64];
    char value[128];
};

struct vt_coll {
    struct vt_rec *v;
    size_t n, cap;
};

/* lsl_vault_record_fn appending to a struct vt_coll. */
int vt_collect(const struct lsl_vault_record *r, void *ud);
void vt_coll_free(struct vt_coll *c);

/* Writer of epoch 7 with a given cap in dir, source name `source`. */
struct lsl_vault_writer *vt_writer(const char *dir, const uint8_t pk[32],
                                   const char *source, size_t cap);
void vt_add(struct lsl_vault_writer *w, const struct lsl_mapping *m,
            bool expect_new);

/* Whole file contents (malloc'd), and writing them back. */
uint8_t *vt_slurp(const char *path, size_t *len);
void vt_spit(const char *path, const uint8_t *p, size_t len);

/* Where the chunks start in a vault file (the header's length). */
#define VT_HEADER_BYTES 480

/* Offsets of the chunk length fields of a vault file image; returns n. */
size_t vt_chunks(const uint8_t *p, size_t len, size_t *offs, size_t max);

/* Writer pwrite substitutes: always EIO; or write half once, then ENOSPC. */
ssize_t vt_pwrite_eio(int fd, const void *buf, size_t len, off_t off);
ssize_t vt_pwrite_half(int fd, const void *buf, size_t len, off_t off);
extern int vt_half_calls;

#endif
