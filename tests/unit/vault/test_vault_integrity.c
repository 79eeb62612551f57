/*
 * Vault integrity: every way a file can be cut, damaged, reordered or
 * spliced must be reported, with the intact chunks before the damage
 * delivered and nothing else: never a silent success, never a garbage
 * record; an authentic chunk whose record maps a token to a value it is
 * not the token of (a planted mapping) is refused; a file being written
 * is told from one cut short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "src/vault/vault_internal.h"
#include "vt_util.h"

#define NREC     5
#define MAXCHUNK 8

struct fx {
    char *dir;
    char vdir[512];
    char path[512]; /* reference file: chunks {m0,m1} {m2,m3} final{m4} */
    char scratch[512];
    struct lsl_officer_key *key;
    uint8_t pk[32];
    struct lsl_mapping m[NREC];
    uint8_t *img;
    size_t len;
    size_t offs[MAXCHUNK];
    size_t nchunks;
    struct vt_coll got;
    struct lsl_vault_file_info info;
};

static const char *const values[NREC] = {
    "192.0.2.10", "device-abc", "carol", "dave@example.net", "2001:db8::2",
};

/* The epoch of the writer opened last (its records' key id). */
static unsigned w_epoch;

static struct lsl_vault_writer *writer_epoch(struct fx *f, uint32_t epoch)
{
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;

    vt_writer_opts(&o, f->vdir, f->pk);
    o.source = "src";
    o.epoch = epoch;
    w_epoch = epoch;
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    return w;
}

/*
 * Write the reference records (their tokens under the writer's epoch:
 * same hashes, that epoch's key id); flush after m1 and m3.
 */
static void write_records(struct fx *f, struct lsl_vault_writer *w)
{
    unsigned epoch = w_epoch;

    for (int i = 0; i < NREC; i++) {
        struct lsl_mapping m = vt_map(f->m[i].tok.cls, epoch, values[i],
                                      f->m[i].first_seen, f->m[i].last_seen);

        vt_add(w, &m, true);
        if (i == 1 || i == 3)
            assert_int_equal(lsl_vault_writer_flush(w), 0);
    }
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct lsl_vault_writer *w;

    assert_non_null(f);
    f->dir = vt_tmpdir();
    snprintf(f->vdir, sizeof(f->vdir), "%s/v", f->dir);
    snprintf(f->scratch, sizeof(f->scratch), "%s/scratch.bin", f->dir);
    vt_keys(f->dir, &f->key, f->pk);
    for (int i = 0; i < NREC; i++)
        f->m[i] = vt_map((unsigned)i % LSL_CLASS_COUNT, 3, values[i], 100 + i,
                         200 + i);
    w = writer_epoch(f, 3);
    write_records(f, w);
    snprintf(f->path, sizeof(f->path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    f->img = vt_slurp(f->path, &f->len);
    f->nchunks = vt_chunks(f->img, f->len, f->offs, MAXCHUNK);
    assert_int_equal(f->nchunks, 3);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    lsl_officer_key_close(f->key);
    vt_coll_free(&f->got);
    free(f->img);
    vt_rmrf(f->dir);
    free(f);
    return 0;
}

/* Records delivered by the reference file's first k chunks. */
static size_t recs_before(size_t k)
{
    static const size_t n[] = {0, 2, 4, 5};

    return n[k];
}

/* Read `path`, check rc, and that exactly the first nrec records came. */
static void expect_read(struct fx *f, const char *path, int rc, size_t nrec)
{
    vt_coll_free(&f->got);
    assert_int_equal(
        lsl_vault_read_file(path, f->key, vt_collect, &f->got, &f->info), rc);
    assert_int_equal(f->got.n, nrec);
    assert_int_equal(f->info.records, nrec);
    for (size_t i = 0; i < nrec; i++) {
        const struct vt_rec *r = &f->got.v[i];

        assert_int_equal(r->type, LSL_VAULT_REC_MAP);
        assert_memory_equal(r->tok.hash, f->m[i].tok.hash,
                            LSL_TOKEN_HASH_BYTES);
        assert_int_equal(r->first_seen, f->m[i].first_seen);
        assert_string_equal(r->value, values[i]);
        assert_string_equal(r->source, "src");
    }
    assert_int_equal(f->info.error, rc < 0 ? rc : 0);
}

/* Write a modified image to the scratch file and read it. */
static void expect_image(struct fx *f, const uint8_t *img, size_t len, int rc,
                         size_t nrec, size_t err_off)
{
    vt_spit(f->scratch, img, len);
    expect_read(f, f->scratch, rc, nrec);
    assert_int_equal(f->info.error_offset, err_off);
    assert_false(f->info.complete);
}

static void test_reference_reads(void **state)
{
    struct fx *f = *state;

    expect_read(f, f->path, 0, NREC);
    assert_true(f->info.complete);
    assert_int_equal(f->info.chunks, 3);
    assert_int_equal(f->info.epoch, 3);
}

static void test_unfinished_after_failed_close(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = writer_epoch(f, 4);
    char path[512];
    struct stat st;

    write_records(f, w); /* m4 stays queued */
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    lsl_vault_writer_set_pwrite(w, vt_pwrite_eio);
    assert_int_equal(lsl_vault_writer_close(w), -EIO);
    assert_int_equal(stat(path, &st), 0);
    expect_read(f, path, LSL_ETRUNC, 4);
    assert_false(f->info.complete);
    assert_int_equal(f->info.chunks, 2);
    assert_int_equal(f->info.error_offset, (uint64_t)st.st_size);

    /* Half of the last chunks reached the disk: cut back to whole ones. */
    w = writer_epoch(f, 4);
    write_records(f, w);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    vt_half_calls = 0;
    lsl_vault_writer_set_pwrite(w, vt_pwrite_half);
    assert_int_equal(lsl_vault_writer_close(w), -ENOSPC);
    assert_int_equal(vt_half_calls, 2);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, f->offs[2]);
    expect_read(f, path, LSL_ETRUNC, 4);
    assert_int_equal(f->info.error_offset, f->offs[2]);
}

static void test_being_written(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = writer_epoch(f, 6);
    char path[512];

    write_records(f, w);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    /* The writer holds it: not complete, but not cut short either. */
    expect_read(f, path, LSL_ETRUNC, 4);
    assert_true(f->info.writing);
    assert_int_equal(lsl_vault_writer_close(w), 0);
    expect_read(f, path, 0, NREC);
    assert_false(f->info.writing);
    assert_true(f->info.complete);
}

static void test_unfinished_after_crash(void **state)
{
    struct fx *f = *state;
    struct vt_coll all = {0};
    pid_t pid;
    int status;

    snprintf(f->vdir, sizeof(f->vdir), "%s/crash", f->dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct lsl_vault_writer *w = writer_epoch(f, 5);

        write_records(f, w);
        _exit(0); /* no close: as after kill -9 */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(
        lsl_vault_read_dir(f->vdir, f->key, vt_collect, &all, NULL, NULL),
        LSL_ETRUNC);
    assert_int_equal(all.n, 4);
    for (size_t i = 0; i < all.n; i++)
        assert_string_equal(all.v[i].value, values[i]);
    vt_coll_free(&all);
}

static void test_truncated_everywhere(void **state)
{
    struct fx *f = *state;
    size_t k = 0;

    for (size_t cut = 0; cut < f->len; cut++) {
        int rc = LSL_ETRUNC;
        size_t err_off = cut;

        /* k: chunks wholly before the cut. */
        while (k < f->nchunks &&
               (k + 1 < f->nchunks ? f->offs[k + 1] : f->len) <= cut)
            k++;
        if (cut < 8) {
            rc = LSL_EFORMAT;
            err_off = 0;
        } else if (cut < LSL_VAULT_AD_BYTES) {
            err_off = 0;
        } else if (cut < LSL_VAULT_HEADER_BYTES) {
            err_off = LSL_VAULT_AD_BYTES;
        } else if (k < f->nchunks && cut > f->offs[k]) {
            err_off = f->offs[k]; /* a partial chunk */
        }
        expect_image(f, f->img, cut, rc, recs_before(k), err_off);
    }
}

static void flip(struct fx *f, size_t at, uint8_t mask, int rc, size_t nrec,
                 size_t err_off)
{
    uint8_t *img = malloc(f->len);

    assert_non_null(img);
    memcpy(img, f->img, f->len);
    img[at] ^= mask;
    expect_image(f, img, f->len, rc, nrec, err_off);
    free(img);
}

static void test_flip_each_region(void **state)
{
    struct fx *f = *state;
    size_t c0 = f->offs[0], c1 = f->offs[1], c2 = f->offs[2];

    const size_t sealed = LSL_VAULT_SEALED_OFFSET;

    flip(f, 0, 0x01, LSL_EFORMAT, 0, 0);         /* magic */
    flip(f, 8, 0x01, LSL_EVERSION, 0, 8);        /* version */
    flip(f, 9, 0x01, LSL_EAUTH, 0, c0);          /* flags: additional data */
    flip(f, 9, 0x02, LSL_EFORMAT, 0, 0);         /* flags: unknown */
    flip(f, 10, 0x01, LSL_EFORMAT, 0, 0);        /* reserved */
    flip(f, 12, 0x01, LSL_EAUTH, 0, c0);         /* epoch */
    flip(f, 20, 0x80, LSL_EAUTH, 0, c0);         /* created */
    flip(f, 39, 0x01, LSL_EAUTH, 0, c0);         /* id */
    flip(f, 40, 0x01, LSL_EAUTH, 0, c0);         /* writer */
    flip(f, 56, 0x01, LSL_EAUTH, 0, c0);         /* seq */
    flip(f, 64, 0x01, LSL_EAUTH, 0, c0);         /* prev */
    flip(f, 80, 0x01, LSL_EAUTH, 0, c0);         /* audit_seq */
    flip(f, sealed, 0x01, LSL_EAUTH, 0, sealed); /* sealed box */
    flip(f, LSL_VAULT_SS_HEADER_OFFSET - 1, 0x01, LSL_EAUTH, 0, sealed);
    flip(f, LSL_VAULT_SS_HEADER_OFFSET, 0x01, LSL_EAUTH, 0, c0); /* stream */
    flip(f, c1, 0x01, LSL_EAUTH, 2, c1);         /* length, low byte */
    flip(f, c1 + 3, 0x10, LSL_ECORRUPT, 2, c1);  /* length, high byte */
    flip(f, c1 + 4, 0x01, LSL_EAUTH, 2, c1);     /* chunk tag byte */
    flip(f, c1 + 30, 0x01, LSL_EAUTH, 2, c1);    /* chunk body */
    flip(f, c2 - 1, 0x01, LSL_EAUTH, 2, c1);     /* chunk MAC */
    flip(f, c2 + 10, 0x01, LSL_EAUTH, 4, c2);    /* final chunk */
    flip(f, f->len - 1, 0x01, LSL_EAUTH, 4, c2); /* final chunk MAC */
}

static void test_flip_every_byte(void **state)
{
    struct fx *f = *state;
    uint8_t *img = malloc(f->len);

    assert_non_null(img);
    for (size_t at = 0; at < f->len; at++) {
        for (int bit = 0; bit < 8; bit += 7) {
            int rc;

            memcpy(img, f->img, f->len);
            img[at] ^= (uint8_t)(1u << bit);
            vt_spit(f->scratch, img, f->len);
            vt_coll_free(&f->got);
            rc = lsl_vault_read_file(f->scratch, f->key, vt_collect, &f->got,
                                     &f->info);
            assert_true(rc == LSL_EFORMAT || rc == LSL_EVERSION ||
                        rc == LSL_EAUTH || rc == LSL_ECORRUPT ||
                        rc == LSL_ETRUNC || rc == LSL_EFORGED);
            assert_false(f->info.complete);
            assert_true(f->got.n <= NREC);
            for (size_t i = 0; i < f->got.n; i++)
                assert_string_equal(f->got.v[i].value, values[i]);
        }
    }
    free(img);
}

/* An image made of the header and the given chunks of f->img, in order. */
static size_t splice(const struct fx *f, uint8_t *out, const size_t *order,
                     size_t n, const uint8_t *other, const size_t *other_offs,
                     size_t other_at)
{
    size_t len = LSL_VAULT_HEADER_BYTES;

    memcpy(out, f->img, len);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = f->img;
        size_t c = order[i], start = f->offs[c], end;

        if (other && i == other_at) {
            src = other;
            start = other_offs[c];
            end = other_offs[c + 1];
        } else {
            end = c + 1 < f->nchunks ? f->offs[c + 1] : f->len;
        }
        memcpy(out + len, src + start, end - start);
        len += end - start;
    }
    return len;
}

static void test_reordered_and_dropped(void **state)
{
    struct fx *f = *state;
    uint8_t *img = malloc(2 * f->len);
    size_t c0 = f->offs[0];
    const size_t swapped[] = {1, 0, 2}, dropped[] = {0, 2};
    const size_t dup[] = {0, 0, 1, 2}, extra[] = {0, 1, 2, 2};
    size_t len;

    assert_non_null(img);
    len = splice(f, img, swapped, 3, NULL, NULL, 0);
    expect_image(f, img, len, LSL_EAUTH, 0, c0);
    len = splice(f, img, dropped, 2, NULL, NULL, 0);
    expect_image(f, img, len, LSL_EAUTH, 2, f->offs[1]);
    len = splice(f, img, dup, 4, NULL, NULL, 0);
    expect_image(f, img, len, LSL_EAUTH, 2, f->offs[1]);
    /* A copy of the final chunk after it: data after the end. */
    len = splice(f, img, extra, 4, NULL, NULL, 0);
    vt_spit(f->scratch, img, len);
    expect_read(f, f->scratch, LSL_ECORRUPT, NREC);
    assert_true(f->info.complete);
    assert_int_equal(f->info.error_offset, f->len);
    /* A few stray bytes after the end. */
    memcpy(img, f->img, f->len);
    memset(img + f->len, 0, 3);
    vt_spit(f->scratch, img, f->len + 3);
    expect_read(f, f->scratch, LSL_ECORRUPT, NREC);
    free(img);
}

static void test_chunk_from_other_file(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = writer_epoch(f, 3);
    const size_t order[] = {0, 1, 2};
    size_t olen, ooffs[MAXCHUNK + 1], len;
    uint8_t *other, *img = malloc(2 * f->len);
    char path[512];

    assert_non_null(img);
    /* Same officer, same records, same epoch: only the file key differs. */
    write_records(f, w);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    other = vt_slurp(path, &olen);
    assert_int_equal(vt_chunks(other, olen, ooffs, MAXCHUNK), 3);
    ooffs[3] = olen;
    len = splice(f, img, order, 3, other, ooffs, 1);
    expect_image(f, img, len, LSL_EAUTH, 2, f->offs[1]);
    /* The other file's header with this file's chunks. */
    memcpy(img, other, LSL_VAULT_HEADER_BYTES);
    memcpy(img + LSL_VAULT_HEADER_BYTES, f->img + LSL_VAULT_HEADER_BYTES,
           f->len - LSL_VAULT_HEADER_BYTES);
    expect_image(f, img, f->len, LSL_EAUTH, 0, f->offs[0]);
    free(other);
    free(img);
}

static void test_wrong_officer_key(void **state)
{
    struct fx *f = *state;
    struct lsl_officer_key *mine = f->key;
    char kdir[512];
    uint8_t pk[32];

    snprintf(kdir, sizeof(kdir), "%s/other", f->dir);
    assert_int_equal(mkdir(kdir, 0700), 0);
    vt_keys(kdir, &f->key, pk);
    expect_read(f, f->path, LSL_EAUTH, 0);
    assert_int_equal(f->info.error_offset, LSL_VAULT_SEALED_OFFSET);
    lsl_officer_key_close(f->key);
    f->key = mine;
}

/* One forged chunk: plaintext bytes and the tag to seal them with. */
struct forged {
    struct lsl_buf plain;
    unsigned char tag;
};

/*
 * Re-seal chunks under the reference file's own file key (opened with the
 * officer key, as only an officer could): they authenticate, so what the
 * reader makes of their content is tested on its own.
 */
static size_t forge(struct fx *f, uint8_t *out, const struct forged *c,
                    size_t n)
{
    uint8_t key[LSL_VAULT_SECRETS_BYTES];
    crypto_secretstream_xchacha20poly1305_state st;
    size_t len = LSL_VAULT_HEADER_BYTES;

    memcpy(out, f->img, LSL_VAULT_SS_HEADER_OFFSET);
    assert_int_equal(crypto_box_seal_open(key, f->img + LSL_VAULT_SEALED_OFFSET,
                                          LSL_VAULT_SEALED_BYTES,
                                          lsl_officer_key_pk(f->key),
                                          lsl_officer_key_sk(f->key)),
                     0);
    assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(
                         &st, out + LSL_VAULT_SS_HEADER_OFFSET, key),
                     0);
    for (size_t i = 0; i < n; i++) {
        size_t plen = c[i].plain.len;

        lsl_put_le(out + len, plen + LSL_VAULT_CHUNK_ABYTES, 4);
        crypto_secretstream_xchacha20poly1305_push(
            &st, out + len + 4, NULL, (const uint8_t *)c[i].plain.p, plen, out,
            LSL_VAULT_AD_BYTES, c[i].tag);
        len += 4 + plen + LSL_VAULT_CHUNK_ABYTES;
    }
    return len;
}

static void put_seen(struct lsl_buf *b, const struct lsl_mapping *m)
{
    struct lsl_vault_record r = {
        .type = LSL_VAULT_REC_SEEN,
        .tok = m->tok,
        .first_seen = m->first_seen,
        .last_seen = m->last_seen,
        .source = LSL_SPAN_LIT("src"),
    };

    assert_int_equal(lsl_buf_reserve(b, lsl_vault_rec_size(&r)), 0);
    lsl_vault_rec_put(b, &r);
}

static void put_map(struct lsl_buf *b, const struct lsl_mapping *m)
{
    struct lsl_vault_record r = {
        .type = LSL_VAULT_REC_MAP,
        .tok = m->tok,
        .first_seen = m->first_seen,
        .last_seen = m->last_seen,
        .source = LSL_SPAN_LIT("src"),
        .value = m->value,
    };

    assert_int_equal(lsl_buf_reserve(b, lsl_vault_rec_size(&r)), 0);
    lsl_vault_rec_put(b, &r);
}

enum damage {
    NONE,
    BAD_TYPE,
    BAD_CLASS,
    BAD_KID,
    OTHER_KID, /* a valid key id, not the file's epoch's */
    BAD_RANGE,
    SEEN_VALUE,
    CUT,
    PLANTED,       /* m2's token with another value */
    SEEN_UNMAPPED, /* a SEEN record of a token the file never mapped */
};

/* Chunk 0: {m0}; chunk 1 (final or `tag1`): {m1, damaged m2}. */
static void forge_read(struct fx *f, enum damage d, unsigned char tag1, int rc,
                       size_t nrec)
{
    struct forged c[2] = {
        {.tag = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE},
        {.tag = tag1}};
    uint8_t *img = malloc(f->len + 256), *r2;
    size_t len;

    assert_non_null(img);
    put_map(&c[0].plain, &f->m[0]);
    put_map(&c[1].plain, &f->m[1]);
    r2 = (uint8_t *)c[1].plain.p + c[1].plain.len;
    put_map(&c[1].plain, &f->m[2]);
    /* Offsets in the record: type 0, class 1, kid 2, first 19, last 27. */
    if (d == BAD_TYPE)
        r2[0] = 9;
    if (d == BAD_CLASS)
        r2[1] = LSL_CLASS_COUNT;
    if (d == BAD_KID)
        lsl_put_le(r2 + 2, LSL_VAULT_KID_MAX + 1, 2);
    if (d == OTHER_KID)
        lsl_put_le(r2 + 2, 4, 2);
    if (d == PLANTED)
        r2[c[1].plain.len - (size_t)(r2 - (uint8_t *)c[1].plain.p) - 1] ^= 1;
    if (d == SEEN_UNMAPPED) {
        c[1].plain.len = (size_t)(r2 - (uint8_t *)c[1].plain.p);
        put_seen(&c[1].plain, &f->m[3]);
    }
    if (d == BAD_RANGE)
        lsl_put_le(r2 + 19, 1000, 8);
    if (d == SEEN_VALUE)
        r2[0] = LSL_VAULT_REC_SEEN;
    if (d == CUT)
        c[1].plain.len--;
    len = forge(f, img, c, 2);
    vt_spit(f->scratch, img, len);
    expect_read(f, f->scratch, rc, nrec);
    if (rc)
        assert_int_equal(f->info.error_offset, LSL_VAULT_HEADER_BYTES + 4 +
                                                   c[0].plain.len +
                                                   LSL_VAULT_CHUNK_ABYTES);
    lsl_buf_free(&c[0].plain);
    lsl_buf_free(&c[1].plain);
    free(img);
}

static void test_malformed_authentic_records(void **state)
{
    struct fx *f = *state;
    const unsigned char fin = crypto_secretstream_xchacha20poly1305_TAG_FINAL;

    /* The forger itself makes readable files. */
    forge_read(f, NONE, fin, 0, 3);
    assert_true(f->info.complete);
    /* Chunk 1 is refused whole: m1 is not delivered either. */
    forge_read(f, BAD_TYPE, fin, LSL_ECORRUPT, 1);
    forge_read(f, BAD_CLASS, fin, LSL_ECORRUPT, 1);
    forge_read(f, BAD_KID, fin, LSL_ECORRUPT, 1);
    forge_read(f, OTHER_KID, fin, LSL_ECORRUPT, 1);
    /* Authentic chunks, but not true: refused whole, as forged. */
    forge_read(f, PLANTED, fin, LSL_EFORGED, 1);
    forge_read(f, SEEN_UNMAPPED, fin, LSL_EFORGED, 1);
    forge_read(f, BAD_RANGE, fin, LSL_ECORRUPT, 1);
    forge_read(f, SEEN_VALUE, fin, LSL_ECORRUPT, 1);
    forge_read(f, CUT, fin, LSL_ECORRUPT, 1);
    /* Only MESSAGE and FINAL tags are written. */
    forge_read(f, NONE, crypto_secretstream_xchacha20poly1305_TAG_PUSH,
               LSL_ECORRUPT, 1);
}

struct file_report {
    char name[128];
    int rc;
    uint64_t records;
    bool complete;
};

struct reports {
    struct file_report r[8];
    size_t n;
};

static void on_file(const char *path, const struct lsl_vault_file_info *info,
                    int rc, void *ud)
{
    struct reports *rs = ud;
    struct file_report *r = &rs->r[rs->n++];

    assert_true(rs->n <= 8);
    snprintf(r->name, sizeof(r->name), "%s", strrchr(path, '/') + 1);
    r->rc = rc;
    r->records = info->records;
    r->complete = info->complete;
}

static int stop_after_two(const struct lsl_vault_record *r, void *ud)
{
    size_t *n = ud;

    (void)r;
    return ++*n == 2 ? 77 : 0;
}

static void test_read_dir(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w;
    struct reports rs = {.n = 0};
    struct vt_coll all = {0};
    char bad[512], other[1024];
    size_t n = 0, offs[MAXCHUNK];
    uint8_t *img;
    FILE *fp;

    snprintf(f->vdir, sizeof(f->vdir), "%s/dir", f->dir);
    /* epoch 9: complete; 10: unfinished; 11: tampered (name order 9..11). */
    w = writer_epoch(f, 9);
    write_records(f, w);
    assert_int_equal(lsl_vault_writer_close(w), 0);
    w = writer_epoch(f, 10);
    write_records(f, w);
    lsl_vault_writer_set_pwrite(w, vt_pwrite_eio);
    assert_int_equal(lsl_vault_writer_close(w), -EIO);
    w = writer_epoch(f, 11);
    write_records(f, w);
    snprintf(bad, sizeof(bad), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    img = vt_slurp(bad, &n);
    assert_int_equal(vt_chunks(img, n, offs, MAXCHUNK), 3);
    img[offs[2] + 9] ^= 1;
    vt_spit(bad, img, n);
    free(img);
    /* Not a vault name, and not a regular file: both skipped. */
    snprintf(other, sizeof(other), "%s/notes.txt", f->vdir);
    fp = fopen(other, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(other, sizeof(other), "%s/sub.lsv", f->vdir);
    assert_int_equal(mkdir(other, 0700), 0);

    assert_int_equal(
        lsl_vault_read_dir(f->vdir, f->key, vt_collect, &all, on_file, &rs),
        LSL_ETRUNC);
    assert_int_equal(rs.n, 3);
    assert_int_equal(strncmp(rs.r[0].name, "9-", 2), 0);
    assert_int_equal(rs.r[0].rc, 0);
    assert_true(rs.r[0].complete);
    assert_int_equal(rs.r[0].records, 5);
    assert_int_equal(strncmp(rs.r[1].name, "10-", 3), 0);
    assert_int_equal(rs.r[1].rc, LSL_ETRUNC);
    assert_int_equal(rs.r[1].records, 4);
    assert_int_equal(strncmp(rs.r[2].name, "11-", 3), 0);
    assert_int_equal(rs.r[2].rc, LSL_EAUTH);
    assert_int_equal(rs.r[2].records, 4);
    assert_int_equal(all.n, 13);
    vt_coll_free(&all);

    /* The record callback's own value stops the walk. */
    rs.n = 0;
    n = 0;
    assert_int_equal(
        lsl_vault_read_dir(f->vdir, f->key, stop_after_two, &n, on_file, &rs),
        77);
    assert_int_equal(rs.n, 0);
    snprintf(other, sizeof(other), "%s/none", f->dir);
    assert_int_equal(lsl_vault_read_dir(other, f->key, NULL, NULL, NULL, NULL),
                     -ENOENT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_reference_reads),
        T(test_unfinished_after_failed_close),
        T(test_unfinished_after_crash),
        T(test_being_written),
        T(test_truncated_everywhere),
        T(test_flip_each_region),
        T(test_flip_every_byte),
        T(test_reordered_and_dropped),
        T(test_chunk_from_other_file),
        T(test_wrong_officer_key),
        T(test_malformed_authentic_records),
        T(test_read_dir),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
