/*
 * Lookups in the sealed index (sidx.h): which chunks of which files hold
 * a token's records, and reading one such chunk.
 *
 * Invariants: a lookup descends each run's B-tree once per token (the
 * blocks on the last path are kept, so tokens asked in order share them)
 * and follows the leaf chain while entries match; only chunks of files
 * the manifest still covers are returned. A chunk is read with the stream
 * state recorded for it and authenticated against the header its file's
 * record describes; its MAP records are checked against their tokens with
 * the file's verification key, as the reader does. Plaintext and states
 * are wiped.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "sidx_internal.h"

int lsl_sidx_open(struct lsl_sidx **out, const char *vault_dir,
                  const struct lsl_officer_key *key)
{
    struct lsl_sidx *ix = NULL;
    char path[4096];
    int rc = lsl_vault_sodium_init();

    rc = rc ? rc : lsl_sidx_alloc(&ix, vault_dir, key);
    rc = rc ? rc : lsl_sidx_path(ix, "lock", path, sizeof(path));
    if (rc == 0) {
        ix->lock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ix->lock_fd < 0 || flock(ix->lock_fd, LOCK_SH) != 0)
            rc = -errno;
    }
    rc = rc ? rc : lsl_sidx_manifest_load(ix);
    if (rc) {
        lsl_sidx_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void lsl_sidx_close(struct lsl_sidx *ix)
{
    if (!ix)
        return;
    lsl_sidx_clear(ix);
    if (ix->lock_fd >= 0)
        close(ix->lock_fd);
    if (ix->file_fd >= 0)
        close(ix->file_fd);
    lsl_buf_free(&ix->states);
    sodium_free(ix->key);
    free(ix);
}

const struct lsl_sidx_file *lsl_sidx_file(const struct lsl_sidx *ix,
                                          const char *name,
                                          const struct stat *st)
{
    size_t lo = 0, hi = ix->nfiles;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sidx_file *f = &ix->files[mid];
        int c = strcmp(f->name, name);

        if (c == 0) {
            const struct sidx_ident *d = &f->id;

            if (d->dev != (uint64_t)st->st_dev ||
                d->ino != (uint64_t)st->st_ino ||
                d->size != (uint64_t)st->st_size ||
                d->mtime_s != (int64_t)st->st_mtim.tv_sec ||
                d->mtime_ns != (int64_t)st->st_mtim.tv_nsec ||
                d->ctime_s != (int64_t)st->st_ctim.tv_sec ||
                d->ctime_ns != (int64_t)st->st_ctim.tv_nsec)
                return NULL;
            return &f->pub;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t lsl_sidx_vkey_count(const struct lsl_sidx *ix)
{
    return ix->nvkeys;
}

const uint8_t *lsl_sidx_vkey(const struct lsl_sidx *ix, size_t i, uint16_t *kid)
{
    *kid = ix->vkeys[i].kid;
    return ix->vkeys[i].vk;
}

/* ---- lookups ---- */

static int key_cmp(const void *a, const void *b)
{
    const struct lsl_token *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, LSL_TOKEN_HASH_BYTES);

    return c ? c : (x->cls > y->cls) - (x->cls < y->cls);
}

/* The block at `off` for `level` of r's last path (0: the leaf). */
static int path_block(const struct lsl_sidx *ix, struct sidx_run *r,
                      unsigned level, uint64_t off, const uint8_t **p)
{
    int rc = 0;

    /* No block lies in the run's header (0 also marks an empty slot). */
    if (off < SIDX_RUN_HDR)
        return LSL_ECORRUPT;
    if (r->path[level].off != off) {
        r->path[level].off = 0;
        rc = lsl_sidx_block_read(ix, r, off, level ? SIDX_K_INNER : SIDX_K_LEAF,
                                 &r->path[level].b);
        if (rc)
            return rc;
        r->path[level].off = off;
    }
    *p = (const uint8_t *)r->path[level].b.p;
    return 0;
}

/* The first of n items (stride bytes apart, a key at their start) that
 * is not below key. */
static size_t not_below(const uint8_t *items, size_t n, size_t stride,
                        const uint8_t key[SIDX_KEY])
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (memcmp(items + mid * stride, key, SIDX_KEY) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the last child whose first key is below key (0 if none). */
static size_t child_of(const uint8_t *blk, const uint8_t key[SIDX_KEY])
{
    size_t i = not_below(blk + SIDX_HDR, (size_t)lsl_get_le(blk + 4, 4),
                         SIDX_CHILD, key);

    return i ? i - 1 : 0;
}

/* The first entry of the leaf not below key. */
static size_t lower_bound(const uint8_t *leaf, const uint8_t key[SIDX_KEY])
{
    return not_below(leaf + SIDX_LEAF_HDR, (size_t)lsl_get_le(leaf + 4, 4),
                     SIDX_ENTRY, key);
}

struct found {
    struct lsl_sidx_loc *v;
    size_t n, cap;
};

/* Note chunk `id` of run r, if its file is still covered. */
static int note_chunk(struct lsl_sidx *ix, struct sidx_run *r, uint32_t id,
                      struct found *f)
{
    const struct sidx_file *file;
    const uint8_t *ce;
    int rc = lsl_sidx_chunk(ix, r, id, &ce);

    if (rc)
        return rc;
    file = lsl_sidx_by_no(ix, (uint32_t)lsl_get_le(ce, 4));
    if (!file)
        return 0; /* a file read again since, or gone */
    rc = lsl_array_grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v), 64);
    if (rc)
        return rc;
    rc = lsl_buf_append(&ix->states, ce + 12, SIDX_STATE_BYTES);
    if (rc)
        return rc;
    f->v[f->n++] = (struct lsl_sidx_loc){
        .file = file->pub.no,
        .offset = lsl_get_le(ce + 4, 8),
        .state = (uint32_t)(ix->states.len / SIDX_STATE_BYTES - 1),
    };
    return 0;
}

/* Every entry of r matching key (class and hash). */
static int run_lookup(struct lsl_sidx *ix, struct sidx_run *r,
                      const uint8_t key[SIDX_KEY], struct found *f)
{
    uint64_t off = r->root;
    const uint8_t *blk;
    uint32_t last = UINT32_MAX;
    size_t pos;
    int rc = 0;

    for (unsigned level = r->depth; level > 0 && rc == 0; level--) {
        rc = path_block(ix, r, level, off, &blk);
        if (rc == 0)
            off = lsl_get_le(
                blk + SIDX_HDR + child_of(blk, key) * SIDX_CHILD + SIDX_KEY, 8);
    }
    rc = rc ? rc : path_block(ix, r, 0, off, &blk);
    for (pos = rc ? 0 : lower_bound(blk, key); rc == 0;) {
        const uint8_t *e;
        uint32_t id;

        if (pos == (size_t)lsl_get_le(blk + 4, 4)) {
            uint64_t next = lsl_get_le(blk + 8, 8);

            if (!next)
                break;
            /* Leaves are written in order: a chain that does not move
             * forward is damage, not a loop to follow. */
            if (next <= off) {
                rc = LSL_ECORRUPT;
                break;
            }
            off = next;
            rc = path_block(ix, r, 0, off, &blk);
            pos = 0;
            continue;
        }
        e = blk + SIDX_LEAF_HDR + pos++ * SIDX_ENTRY;
        if (memcmp(e, key, SIDX_MATCH) != 0)
            break;
        id = (uint32_t)lsl_sidx_get_be(e + SIDX_KEY, 4);
        /* A token's records in one chunk sit side by side. */
        if (id != last)
            rc = note_chunk(ix, r, id, f);
        last = id;
    }
    return rc;
}

static int loc_cmp(const void *a, const void *b)
{
    const struct lsl_sidx_loc *x = a, *y = b;

    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int lsl_sidx_find(struct lsl_sidx *ix, struct lsl_token *keys, size_t n,
                  struct lsl_sidx_loc **out, size_t *nout)
{
    struct found f = {0};
    uint8_t key[SIDX_KEY];
    size_t keep = 0;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (n)
        qsort(keys, n, sizeof(*keys), key_cmp);
    for (size_t r = 0; rc == 0 && r < ix->nruns; r++) {
        if (!ix->runs[r].root)
            continue;
        rc = lsl_sidx_run_open(ix, &ix->runs[r]);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (i && key_cmp(&keys[i - 1], &keys[i]) == 0)
                continue;
            lsl_sidx_tok_key(&keys[i], key);
            key[SIDX_MATCH] = key[SIDX_MATCH + 1] = 0; /* the lowest kid */
            rc = run_lookup(ix, &ix->runs[r], key, &f);
        }
    }
    if (rc) {
        free(f.v);
        return rc;
    }
    if (f.n)
        qsort(f.v, f.n, sizeof(*f.v), loc_cmp);
    for (size_t i = 0; i < f.n; i++) {
        if (keep && loc_cmp(&f.v[keep - 1], &f.v[i]) == 0)
            continue;
        f.v[keep++] = f.v[i];
    }
    *out = f.v;
    *nout = keep;
    return 0;
}

/* ---- reading a chunk ---- */

/* The vault file of f open in ix (kept open for its next chunks). */
static int file_fd(struct lsl_sidx *ix, const char *path,
                   const struct lsl_sidx_file *f)
{
    if (ix->file_fd >= 0 && ix->file_no == f->no)
        return ix->file_fd;
    if (ix->file_fd >= 0)
        close(ix->file_fd);
    ix->file_no = f->no;
    ix->file_fd = open(path, O_RDONLY | O_CLOEXEC);
    return ix->file_fd >= 0 ? ix->file_fd : -errno;
}

/* Read the chunk's ciphertext at off into c. */
static int read_cipher(int fd, uint64_t off, struct lsl_buf *c)
{
    uint8_t lenb[4];
    size_t clen;
    ssize_t got = pread(fd, lenb, 4, (off_t)off);
    int rc;

    if (got != 4)
        return got < 0 ? -errno : LSL_EAUTH;
    clen = (size_t)lsl_get_le(lenb, 4);
    if (clen < LSL_VAULT_CHUNK_ABYTES || clen > LSL_VAULT_CHUNK_MAX)
        return LSL_EAUTH;
    lsl_buf_reset(c);
    rc = lsl_buf_reserve(c, clen);
    if (rc)
        return rc;
    got = pread(fd, c->p, clen, (off_t)(off + 4));
    if (got != (ssize_t)clen)
        return got < 0 ? -errno : LSL_EAUTH;
    c->len = clen;
    return 0;
}

/* Decrypt c with the chunk's recorded state, under f's header. */
static int open_chunk(struct lsl_sidx *ix, const struct lsl_sidx_file *f,
                      const struct lsl_sidx_loc *loc, const struct lsl_buf *c,
                      struct lsl_buf *plain)
{
    lsl_vault_stream_state *st = sodium_malloc(sizeof(*st));
    const struct lsl_vault_file_info *i = &f->info;
    struct lsl_vault_hdr h = {.flags = i->flags,
                              .epoch_len = i->epoch_len,
                              .epoch = i->epoch,
                              .created = i->created,
                              .link = i->link,
                              .audit_seq = i->audit_seq};
    uint8_t ad[LSL_VAULT_AD_BYTES];
    unsigned long long plen;
    unsigned char tag;
    int rc = st ? 0 : -ENOMEM;

    if (rc == 0 && (size_t)loc->state >= ix->states.len / SIDX_STATE_BYTES)
        rc = -EINVAL;
    if (rc == 0)
        rc = lsl_buf_reserve(plain, c->len - LSL_VAULT_CHUNK_ABYTES);
    if (rc == 0) {
        memcpy(st, ix->states.p + (size_t)loc->state * SIDX_STATE_BYTES,
               sizeof(*st));
        lsl_vault_hdr_encode(&h, ad);
        if (crypto_secretstream_xchacha20poly1305_pull(
                st, (uint8_t *)plain->p, &plen, &tag, (const uint8_t *)c->p,
                c->len, ad, sizeof(ad)) != 0 ||
            (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
             tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL))
            rc = LSL_EAUTH;
        else
            plain->len = (size_t)plen;
    }
    sodium_free(st);
    return rc;
}

/* Deliver the chunk's records of the asked tokens, MAP ones verified. */
static int deliver(const struct lsl_sidx *ix, const struct lsl_sidx_file *f,
                   const struct lsl_buf *plain, const struct lsl_token *keys,
                   size_t n, lsl_vault_record_fn fn, void *ud)
{
    uint16_t kid = (uint16_t)(f->info.epoch % (LSL_VAULT_KID_MAX + 1));
    const uint8_t *p = (const uint8_t *)plain->p;
    struct lsl_vault_record r;
    size_t pos = 0, used;
    int rc = 0;

    while (rc == 0 && pos < plain->len) {
        rc = lsl_vault_rec_get(p + pos, plain->len - pos, &used, &r);
        if (rc)
            break;
        pos += used;
        if (!bsearch(&r.tok, keys, n, sizeof(*keys), key_cmp))
            continue;
        if (r.tok.kid != kid)
            rc = LSL_ECORRUPT;
        else if (r.type == LSL_VAULT_REC_MAP &&
                 (f->vkey < 0 ||
                  !lsl_token_verify(ix->vkeys[f->vkey].vk, kid, &r.tok,
                                    r.value.p, r.value.len)))
            rc = LSL_EFORGED;
        else
            rc = fn(&r, ud);
    }
    return rc;
}

int lsl_sidx_read_chunk(struct lsl_sidx *ix, const char *path,
                        const struct lsl_sidx_file *f,
                        const struct lsl_sidx_loc *loc,
                        const struct lsl_token *keys, size_t n,
                        lsl_vault_record_fn fn, void *ud)
{
    struct lsl_buf c = {0}, plain = {0};
    int fd = file_fd(ix, path, f);
    int rc = fd < 0 ? fd : read_cipher(fd, loc->offset, &c);

    if (rc == 0)
        rc = open_chunk(ix, f, loc, &c, &plain);
    if (rc == 0)
        rc = deliver(ix, f, &plain, keys, n, fn, ud);
    lsl_buf_free(&plain);
    lsl_buf_free(&c);
    return rc;
}
