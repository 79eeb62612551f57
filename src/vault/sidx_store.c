/*
 * The sealed index on disk (sidx.h, layouts in sidx_internal.h): its key,
 * boxes, the manifest, and writing and reading runs.
 *
 * Invariants: every byte read back is inside a box that opened under the
 * index key with additional data naming where it must be (the manifest's
 * header; a block's index, run, kind and offset), so a block cannot be
 * moved, swapped between runs or indexes, or cut, unnoticed; decoding
 * checks every length before it reads. Decrypted blocks hold stream
 * states (file keys in effect) and verification keys: they live in
 * lsl_buf (wiped) or secure memory. A run file is complete and fsynced
 * before any manifest names it; a manifest replaces the old one by
 * rename, so a crash leaves the old or the new generation, whole.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include "logseal/file.h"
#include "sidx_internal.h"

#define MANIFEST_NAME "manifest"
#define MANIFEST_AD   40
#define BOX_MAX       ((size_t)1 << 31)

int lsl_sidx_key(const struct lsl_officer_key *k, uint8_t *out)
{
    return crypto_kdf_derive_from_key(out, SIDX_KEY_BYTES, 1, "lslindex",
                                      lsl_officer_key_sk(k)) == 0
               ? 0
               : -EIO;
}

int lsl_sidx_path(const struct lsl_sidx *ix, const char *name, char *out,
                  size_t cap)
{
    return lsl_path_join(out, cap, ix->dir, name);
}

int lsl_sidx_alloc(struct lsl_sidx **out, const char *vault_dir,
                   const struct lsl_officer_key *key)
{
    struct lsl_sidx *ix = calloc(1, sizeof(*ix));
    int rc;

    if (!ix)
        return -ENOMEM;
    ix->lock_fd = -1;
    ix->file_fd = -1;
    ix->key = sodium_malloc(SIDX_KEY_BYTES);
    rc = ix->key ? lsl_sidx_key(key, ix->key) : -ENOMEM;
    if (rc == 0)
        rc = lsl_path_join(ix->dir, sizeof(ix->dir), vault_dir, LSL_SIDX_DIR);
    if (rc) {
        sodium_free(ix->key);
        free(ix);
        return rc;
    }
    randombytes_buf(ix->lineage, sizeof(ix->lineage));
    ix->next_run = 1;
    ix->next_file = 1;
    *out = ix;
    return 0;
}

void lsl_sidx_run_release(struct sidx_run *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    for (uint32_t i = 0; r->ct && i * SIDX_CT_PER_BLOCK < r->nchunks; i++)
        lsl_buf_free(&r->ct[i]);
    free(r->ct);
    r->ct = NULL;
    for (size_t i = 0; i <= SIDX_DEPTH_MAX; i++) {
        lsl_buf_free(&r->path[i].b);
        r->path[i].off = 0;
    }
}

void lsl_sidx_clear(struct lsl_sidx *ix)
{
    for (size_t i = 0; i < ix->nfiles; i++)
        free(ix->files[i].name);
    free(ix->files);
    free(ix->by_no);
    for (size_t i = 0; i < ix->nruns; i++)
        lsl_sidx_run_release(&ix->runs[i]);
    free(ix->runs);
    free(ix->vkeys);
    sodium_free(ix->vkmem);
    ix->files = NULL;
    ix->by_no = NULL;
    ix->runs = NULL;
    ix->vkeys = NULL;
    ix->vkmem = NULL;
    ix->nfiles = ix->nruns = ix->nvkeys = 0;
}

/* ---- boxes ---- */

int lsl_sidx_box_seal(const uint8_t *key, const uint8_t *ad, size_t adlen,
                      const uint8_t *plain, size_t plen, struct lsl_buf *out)
{
    size_t clen = SIDX_NONCE + plen + SIDX_ABYTES;
    unsigned long long got;
    uint8_t *p;
    int rc;

    if (plen > BOX_MAX)
        return -EFBIG;
    rc = lsl_buf_reserve(out, 4 + clen);
    if (rc)
        return rc;
    p = (uint8_t *)out->p + out->len;
    lsl_put_le(p, clen, 4);
    randombytes_buf(p + 4, SIDX_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        p + 4 + SIDX_NONCE, &got, plain, plen, ad, adlen, NULL, p + 4, key);
    out->len += 4 + clen;
    return 0;
}

/* Open nonce | ciphertext (clen bytes) into plain (wiped first). */
static int box_open(const uint8_t *key, const uint8_t *ad, size_t adlen,
                    const uint8_t *box, size_t clen, struct lsl_buf *plain)
{
    unsigned long long got;
    int rc;

    lsl_buf_wipe(plain);
    if (clen < SIDX_NONCE + SIDX_ABYTES)
        return LSL_ECORRUPT;
    rc = lsl_buf_reserve(plain, clen - SIDX_NONCE - SIDX_ABYTES);
    if (rc)
        return rc;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (uint8_t *)plain->p, &got, NULL, box + SIDX_NONCE,
            clen - SIDX_NONCE, ad, adlen, box, key) != 0)
        return LSL_EAUTH;
    plain->len = (size_t)got;
    return 0;
}

void lsl_sidx_block_ad(const struct lsl_sidx *ix, uint64_t run,
                       enum sidx_kind kind, uint64_t off, uint8_t ad[41])
{
    memcpy(ad, "LSLSIDXB", 8);
    memcpy(ad + 8, ix->lineage, SIDX_LINEAGE);
    lsl_put_le(ad + 24, run, 8);
    ad[32] = (uint8_t)kind;
    lsl_put_le(ad + 33, off, 8);
}

/* ---- the manifest body ---- */

struct cur {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
};

static const uint8_t *take(struct cur *c, size_t n)
{
    const uint8_t *p;

    /* An empty body has no buffer at all: NULL + 0 is not a pointer. */
    if (c->bad || !c->p || n > c->len - c->pos) {
        c->bad = true;
        return NULL;
    }
    p = c->p + c->pos;
    c->pos += n;
    return p;
}

static uint64_t get(struct cur *c, unsigned n)
{
    const uint8_t *p = take(c, n);

    return p ? lsl_get_le(p, n) : 0;
}

static void get_bytes(struct cur *c, void *out, size_t n)
{
    const uint8_t *p = take(c, n);

    if (p)
        memcpy(out, p, n);
}

static int put(struct lsl_buf *b, uint64_t v, unsigned n)
{
    uint8_t tmp[8];

    lsl_put_le(tmp, v, n);
    return lsl_buf_append(b, tmp, n);
}

static int put_info(struct lsl_buf *b, const struct lsl_vault_file_info *i)
{
    const uint8_t flags[5] = {i->version, i->flags, i->epoch_len, i->have_keys,
                              i->complete};
    int rc = lsl_buf_append(b, flags, sizeof(flags));

    rc = rc ? rc : put(b, i->epoch, 4);
    rc = rc ? rc : put(b, (uint64_t)i->created, 8);
    rc = rc ? rc : lsl_buf_append(b, i->link.writer, LSL_VAULT_ID_BYTES);
    rc = rc ? rc : put(b, i->link.seq, 8);
    rc = rc ? rc : lsl_buf_append(b, i->link.id, LSL_VAULT_ID_BYTES);
    rc = rc ? rc : lsl_buf_append(b, i->link.prev, LSL_VAULT_ID_BYTES);
    rc = rc ? rc : put(b, i->audit_seq, 8);
    rc = rc ? rc : lsl_buf_append(b, i->vkey_digest, LSL_VAULT_DIGEST_BYTES);
    rc = rc ? rc : lsl_buf_append(b, i->wsecret_digest, LSL_VAULT_DIGEST_BYTES);
    rc = rc ? rc : put(b, i->chunks, 8);
    rc = rc ? rc : put(b, i->records, 8);
    rc = rc ? rc : put(b, (uint32_t)i->error, 4);
    return rc ? rc : put(b, i->error_offset, 8);
}

static void get_info(struct cur *c, struct lsl_vault_file_info *i)
{
    memset(i, 0, sizeof(*i));
    i->version = (uint8_t)get(c, 1);
    i->flags = (uint8_t)get(c, 1);
    i->epoch_len = (uint8_t)get(c, 1);
    i->have_keys = get(c, 1) != 0;
    i->complete = get(c, 1) != 0;
    i->epoch = (uint32_t)get(c, 4);
    i->created = (int64_t)get(c, 8);
    get_bytes(c, i->link.writer, LSL_VAULT_ID_BYTES);
    i->link.seq = get(c, 8);
    get_bytes(c, i->link.id, LSL_VAULT_ID_BYTES);
    get_bytes(c, i->link.prev, LSL_VAULT_ID_BYTES);
    i->audit_seq = get(c, 8);
    get_bytes(c, i->vkey_digest, LSL_VAULT_DIGEST_BYTES);
    get_bytes(c, i->wsecret_digest, LSL_VAULT_DIGEST_BYTES);
    i->chunks = get(c, 8);
    i->records = get(c, 8);
    i->error = (int32_t)(uint32_t)get(c, 4);
    i->error_offset = get(c, 8);
}

static int put_file(struct lsl_buf *b, const struct sidx_file *f)
{
    const struct sidx_ident *d = &f->id;
    size_t nlen = strlen(f->name);
    int rc = put(b, nlen, 2);

    rc = rc ? rc : lsl_buf_append(b, f->name, nlen);
    rc = rc ? rc : put(b, d->dev, 8);
    rc = rc ? rc : put(b, d->ino, 8);
    rc = rc ? rc : put(b, d->size, 8);
    rc = rc ? rc : put(b, (uint64_t)d->mtime_s, 8);
    rc = rc ? rc : put(b, (uint64_t)d->mtime_ns, 8);
    rc = rc ? rc : put(b, (uint64_t)d->ctime_s, 8);
    rc = rc ? rc : put(b, (uint64_t)d->ctime_ns, 8);
    rc = rc ? rc : put(b, f->pub.no, 4);
    rc = rc ? rc : put(b, (uint32_t)f->pub.rc, 4);
    rc = rc ? rc : put(b, (uint32_t)f->pub.vkey, 4);
    return rc ? rc : put_info(b, &f->pub.info);
}

static int get_file(struct cur *c, struct sidx_file *f, size_t nvkeys)
{
    size_t nlen = (size_t)get(c, 2);
    const uint8_t *name = take(c, nlen);
    struct sidx_ident *d = &f->id;

    if (!name || nlen == 0 || memchr(name, '/', nlen) ||
        memchr(name, '\0', nlen))
        return LSL_ECORRUPT;
    f->name = strndup((const char *)name, nlen);
    if (!f->name)
        return -ENOMEM;
    d->dev = get(c, 8);
    d->ino = get(c, 8);
    d->size = get(c, 8);
    d->mtime_s = (int64_t)get(c, 8);
    d->mtime_ns = (int64_t)get(c, 8);
    d->ctime_s = (int64_t)get(c, 8);
    d->ctime_ns = (int64_t)get(c, 8);
    f->pub.no = (uint32_t)get(c, 4);
    f->pub.rc = (int32_t)(uint32_t)get(c, 4);
    f->pub.vkey = (int32_t)(uint32_t)get(c, 4);
    get_info(c, &f->pub.info);
    if (f->pub.vkey < -1 || (f->pub.vkey >= 0 && (size_t)f->pub.vkey >= nvkeys))
        return LSL_ECORRUPT;
    return c->bad ? LSL_ECORRUPT : 0;
}

static int put_run(struct lsl_buf *b, const struct sidx_run *r)
{
    int rc = put(b, r->no, 8);

    rc = rc ? rc : put(b, r->entries, 8);
    rc = rc ? rc : put(b, r->nchunks, 4);
    rc = rc ? rc : put(b, r->ct_off, 8);
    rc = rc ? rc : put(b, r->first_leaf, 8);
    rc = rc ? rc : put(b, r->root, 8);
    return rc ? rc : put(b, r->depth, 1);
}

static void get_run(struct cur *c, struct sidx_run *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->no = get(c, 8);
    r->entries = get(c, 8);
    r->nchunks = (uint32_t)get(c, 4);
    r->ct_off = get(c, 8);
    r->first_leaf = get(c, 8);
    r->root = get(c, 8);
    r->depth = (uint8_t)get(c, 1);
    if (r->depth > SIDX_DEPTH_MAX)
        c->bad = true;
}

static int encode_body(const struct lsl_sidx *ix, struct lsl_buf *b)
{
    int rc = put(b, ix->next_run, 8);

    rc = rc ? rc : put(b, ix->next_file, 4);
    rc = rc ? rc : put(b, ix->nvkeys, 4);
    for (size_t i = 0; rc == 0 && i < ix->nvkeys; i++) {
        rc = put(b, ix->vkeys[i].kid, 2);
        rc = rc ? rc : lsl_buf_append(b, ix->vkeys[i].vk, LSL_VKEY_BYTES);
    }
    rc = rc ? rc : put(b, ix->nfiles, 4);
    for (size_t i = 0; rc == 0 && i < ix->nfiles; i++)
        rc = put_file(b, &ix->files[i]);
    rc = rc ? rc : put(b, ix->nruns, 4);
    for (size_t i = 0; rc == 0 && i < ix->nruns; i++)
        rc = put_run(b, &ix->runs[i]);
    return rc;
}

/* A count of items of at least `size` bytes each that can be there. */
static size_t get_count(struct cur *c, size_t size)
{
    size_t n = (size_t)get(c, 4);

    if (n > (c->len - c->pos) / size)
        c->bad = true;
    return c->bad ? 0 : n;
}

static int decode_vkeys(struct lsl_sidx *ix, struct cur *c)
{
    size_t n = get_count(c, 2 + LSL_VKEY_BYTES);

    if (c->bad)
        return LSL_ECORRUPT;
    ix->vkeys = calloc(n ? n : 1, sizeof(*ix->vkeys));
    ix->vkmem = sodium_allocarray(n ? n : 1, LSL_VKEY_BYTES);
    if (!ix->vkeys || !ix->vkmem)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        ix->vkeys[i].kid = (uint16_t)get(c, 2);
        ix->vkeys[i].vk = ix->vkmem + i * LSL_VKEY_BYTES;
        get_bytes(c, ix->vkeys[i].vk, LSL_VKEY_BYTES);
    }
    ix->nvkeys = n;
    return c->bad ? LSL_ECORRUPT : 0;
}

static int decode_body(struct lsl_sidx *ix, struct cur *c)
{
    size_t n;
    int rc;

    ix->next_run = get(c, 8);
    ix->next_file = (uint32_t)get(c, 4);
    rc = decode_vkeys(ix, c);
    n = rc ? 0 : get_count(c, 2 + 56 + 12 + 70);
    if (rc == 0 && !c->bad) {
        ix->files = calloc(n ? n : 1, sizeof(*ix->files));
        rc = ix->files ? 0 : -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = get_file(c, &ix->files[i], ix->nvkeys);
        ix->nfiles += ix->files[i].name != NULL;
        if (rc == 0 && i &&
            strcmp(ix->files[i - 1].name, ix->files[i].name) >= 0)
            rc = LSL_ECORRUPT;
    }
    n = rc ? 0 : get_count(c, 45);
    if (rc == 0 && !c->bad) {
        ix->runs = calloc(n ? n : 1, sizeof(*ix->runs));
        rc = ix->runs ? 0 : -ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        get_run(c, &ix->runs[i]);
        ix->nruns++;
    }
    if (rc == 0 && (c->bad || c->pos != c->len))
        rc = LSL_ECORRUPT;
    return rc ? rc : lsl_sidx_number(ix);
}

static int by_no_cmp(const void *a, const void *b, void *ud)
{
    const struct lsl_sidx *ix = ud;
    uint32_t x = ix->files[*(const uint32_t *)a].pub.no;
    uint32_t y = ix->files[*(const uint32_t *)b].pub.no;

    return x < y ? -1 : x > y;
}

int lsl_sidx_number(struct lsl_sidx *ix)
{
    free(ix->by_no);
    ix->by_no = malloc((ix->nfiles ? ix->nfiles : 1) * sizeof(*ix->by_no));
    if (!ix->by_no)
        return -ENOMEM;
    for (size_t i = 0; i < ix->nfiles; i++)
        ix->by_no[i] = (uint32_t)i;
    qsort_r(ix->by_no, ix->nfiles, sizeof(*ix->by_no), by_no_cmp, ix);
    for (size_t i = 1; i < ix->nfiles; i++) {
        if (ix->files[ix->by_no[i - 1]].pub.no ==
            ix->files[ix->by_no[i]].pub.no)
            return LSL_ECORRUPT;
    }
    return 0;
}

const struct sidx_file *lsl_sidx_by_no(const struct lsl_sidx *ix, uint32_t no)
{
    size_t lo = 0, hi = ix->nfiles;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t m = ix->files[ix->by_no[mid]].pub.no;

        if (m == no)
            return &ix->files[ix->by_no[mid]];
        if (m < no)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- the manifest file ---- */

static void manifest_ad(const struct lsl_sidx *ix, uint8_t ad[MANIFEST_AD])
{
    memcpy(ad, "LSLSIDXM", 8);
    lsl_put_le(ad + 8, SIDX_VERSION, 4);
    lsl_put_le(ad + 12, SIDX_STATE_BYTES, 4);
    memcpy(ad + 16, ix->lineage, SIDX_LINEAGE);
    lsl_put_le(ad + 32, ix->generation, 8);
}

int lsl_sidx_manifest_put(const struct lsl_sidx *ix, const uint8_t *body,
                          size_t len)
{
    struct lsl_buf file = {0};
    uint8_t ad[MANIFEST_AD];
    char path[4096];
    int rc = lsl_sidx_path(ix, MANIFEST_NAME, path, sizeof(path));

    manifest_ad(ix, ad);
    rc = rc ? rc : lsl_buf_append(&file, ad, sizeof(ad));
    rc = rc ? rc : lsl_sidx_box_seal(ix->key, ad, sizeof(ad), body, len, &file);
    if (rc == 0)
        rc = lsl_file_replace(path, 0600, file.p, file.len);
    lsl_buf_free(&file);
    return rc;
}

int lsl_sidx_manifest_write(const struct lsl_sidx *ix)
{
    struct lsl_buf body = {0};
    int rc = encode_body(ix, &body);

    if (rc == 0)
        rc = lsl_sidx_manifest_put(ix, (const uint8_t *)body.p, body.len);
    lsl_buf_free(&body);
    return rc;
}

/* The whole of a file not larger than `max`, not through a symlink. */
static int slurp(const char *path, size_t max, struct lsl_buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;
    struct stat st;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
        rc = LSL_EFORMAT;
    if (rc == 0)
        rc = lsl_buf_reserve(b, (size_t)st.st_size);
    if (rc == 0) {
        rc = lsl_read_exact(fd, b->p, (size_t)st.st_size);
        b->len = rc == 0 ? (size_t)st.st_size : 0;
    }
    close(fd);
    return rc == LSL_ETRUNC ? LSL_ECORRUPT : rc;
}

int lsl_sidx_manifest_load(struct lsl_sidx *ix)
{
    struct lsl_buf file = {0}, body = {0};
    uint8_t ad[MANIFEST_AD];
    const uint8_t *p;
    struct cur c;
    char path[4096];
    int rc = lsl_sidx_path(ix, MANIFEST_NAME, path, sizeof(path));

    lsl_sidx_clear(ix);
    rc = rc ? rc : slurp(path, BOX_MAX, &file);
    p = (const uint8_t *)file.p;
    if (rc == 0 && (file.len < MANIFEST_AD + 4 || memcmp(p, "LSLSIDXM", 8)))
        rc = LSL_EFORMAT;
    if (rc == 0 && (lsl_get_le(p + 8, 4) != SIDX_VERSION ||
                    lsl_get_le(p + 12, 4) != SIDX_STATE_BYTES))
        rc = LSL_EVERSION;
    if (rc == 0) {
        memcpy(ix->lineage, p + 16, SIDX_LINEAGE);
        ix->generation = lsl_get_le(p + 32, 8);
        manifest_ad(ix, ad);
        if (lsl_get_le(p + MANIFEST_AD, 4) != file.len - MANIFEST_AD - 4)
            rc = LSL_ECORRUPT;
    }
    if (rc == 0)
        rc = box_open(ix->key, ad, sizeof(ad), p + MANIFEST_AD + 4,
                      file.len - MANIFEST_AD - 4, &body);
    if (rc == 0) {
        c = (struct cur){.p = (const uint8_t *)body.p, .len = body.len};
        rc = decode_body(ix, &c);
    }
    if (rc)
        lsl_sidx_clear(ix);
    lsl_buf_free(&file);
    lsl_buf_free(&body);
    return rc;
}

/* ---- reading runs ---- */

int lsl_sidx_run_open(const struct lsl_sidx *ix, struct sidx_run *r)
{
    char name[64], path[4096];
    uint8_t hdr[SIDX_RUN_HDR];
    int rc;

    if (r->fd >= 0)
        return 0;
    snprintf(name, sizeof(name), "run-%" PRIu64 ".lsi", r->no);
    rc = lsl_sidx_path(ix, name, path, sizeof(path));
    if (rc)
        return rc;
    r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (r->fd < 0)
        return -errno;
    rc = lsl_read_exact(r->fd, hdr, sizeof(hdr));
    if (rc == 0 && (memcmp(hdr, "LSLSIDXR", 8) ||
                    memcmp(hdr + 16, ix->lineage, SIDX_LINEAGE)))
        rc = LSL_EAUTH;
    return rc == LSL_ETRUNC ? LSL_ECORRUPT : rc;
}

/* Check a block's header: its kind, and a count that fits. */
static int check_block(const struct lsl_buf *b, enum sidx_kind kind)
{
    const uint8_t *p = (const uint8_t *)b->p;
    size_t n, hdr = kind == SIDX_K_LEAF ? SIDX_LEAF_HDR : SIDX_HDR;
    size_t each = kind == SIDX_K_LEAF    ? SIDX_ENTRY
                  : kind == SIDX_K_INNER ? SIDX_CHILD
                                         : SIDX_CT;

    if (b->len < hdr || p[0] != kind)
        return LSL_ECORRUPT;
    n = (size_t)lsl_get_le(p + 4, 4);
    return n == 0 || n > (b->len - hdr) / each ? LSL_ECORRUPT : 0;
}

int lsl_sidx_block_read(const struct lsl_sidx *ix, const struct sidx_run *r,
                        uint64_t off, enum sidx_kind kind, struct lsl_buf *b)
{
    size_t max = kind == SIDX_K_CT ? SIDX_CT_DISK
                                   : 4 + SIDX_NONCE + SIDX_BLOCK + SIDX_ABYTES;
    uint8_t *disk = malloc(max), ad[41];
    ssize_t got = 0;
    size_t clen = 0;
    int rc = disk ? 0 : -ENOMEM;

    if (rc == 0 && off < SIDX_RUN_HDR)
        rc = LSL_ECORRUPT; /* no block lies in the run's header */
    if (rc == 0) {
        got = pread(r->fd, disk, max, (off_t)off);
        rc = got < 0 ? -errno : got < 4 ? LSL_ECORRUPT : 0;
    }
    if (rc == 0) {
        clen = (size_t)lsl_get_le(disk, 4);
        if (clen > max - 4 || 4 + clen > (size_t)got)
            rc = LSL_ECORRUPT;
    }
    if (rc == 0) {
        lsl_sidx_block_ad(ix, r->no, kind, off, ad);
        rc = box_open(ix->key, ad, sizeof(ad), disk + 4, clen, b);
    }
    if (rc == 0)
        rc = check_block(b, kind);
    free(disk);
    return rc;
}

int lsl_sidx_chunk(const struct lsl_sidx *ix, struct sidx_run *r, uint32_t id,
                   const uint8_t **entry)
{
    uint32_t blk = id / SIDX_CT_PER_BLOCK, nblk;
    struct lsl_buf *b;
    int rc;

    if (id >= r->nchunks)
        return LSL_ECORRUPT;
    nblk = (r->nchunks + SIDX_CT_PER_BLOCK - 1) / SIDX_CT_PER_BLOCK;
    if (!r->ct && !(r->ct = calloc(nblk, sizeof(*r->ct))))
        return -ENOMEM;
    b = &r->ct[blk];
    if (b->len == 0) {
        rc = lsl_sidx_block_read(
            ix, r, r->ct_off + (uint64_t)blk * SIDX_CT_DISK, SIDX_K_CT, b);
        if (rc == 0 &&
            lsl_get_le((const uint8_t *)b->p + 4, 4) <= id % SIDX_CT_PER_BLOCK)
            rc = LSL_ECORRUPT;
        if (rc) {
            lsl_buf_wipe(b);
            return rc;
        }
    }
    *entry = (const uint8_t *)b->p + SIDX_HDR +
             (size_t)(id % SIDX_CT_PER_BLOCK) * SIDX_CT;
    return 0;
}
