/*
 * Writing a run of the sealed index (layout in sidx_internal.h): the
 * chunk table, the leaves in key order, then the inner levels bottom up;
 * the root is written last.
 *
 * Invariants: entries arrive in increasing order and a leaf is written
 * only once the next one is known to follow (its next pointer is the
 * offset right after it); each block's additional data names its place;
 * the file is fsynced before a manifest may name it, and removed if it
 * cannot be finished.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "sidx_internal.h"

/* Seal one block of `kind` at the writer's offset and write it. */
static int write_block(struct sidx_writer *w, enum sidx_kind kind,
                       const uint8_t *plain, size_t plen)
{
    uint8_t ad[41];
    int rc;

    lsl_sidx_block_ad(w->ix, w->run->no, kind, w->off, ad);
    lsl_buf_reset(&w->plain);
    rc = lsl_sidx_box_seal(w->ix->key, ad, sizeof(ad), plain, plen, &w->plain);
    if (rc == 0)
        rc = lsl_write_all(w->fd, w->plain.p, w->plain.len);
    if (rc == 0)
        w->off += w->plain.len;
    lsl_buf_wipe(&w->plain);
    return rc;
}

static int write_chunk_table(struct sidx_writer *w, const uint8_t *chunks,
                             uint32_t n)
{
    uint8_t *blk = sodium_malloc(SIDX_CT_PLAIN);
    int rc = blk ? 0 : -ENOMEM;

    w->run->ct_off = w->off;
    for (uint32_t i = 0; rc == 0 && i < n; i += SIDX_CT_PER_BLOCK) {
        uint32_t k = n - i < SIDX_CT_PER_BLOCK ? n - i : SIDX_CT_PER_BLOCK;

        memset(blk, 0, SIDX_CT_PLAIN);
        blk[0] = SIDX_K_CT;
        lsl_put_le(blk + 4, k, 4);
        memcpy(blk + SIDX_HDR, chunks + (size_t)i * SIDX_CT,
               (size_t)k * SIDX_CT);
        rc = write_block(w, SIDX_K_CT, blk, SIDX_CT_PLAIN);
    }
    sodium_free(blk);
    return rc;
}

int lsl_sidx_writer_open(struct sidx_writer *w, const struct lsl_sidx *ix,
                         struct sidx_run *r, const uint8_t *chunks,
                         uint32_t nchunks)
{
    uint8_t hdr[SIDX_RUN_HDR] = "LSLSIDXR";
    char name[64];
    int rc;

    memset(w, 0, sizeof(*w));
    w->ix = ix;
    w->run = r;
    w->fd = -1;
    r->nchunks = nchunks;
    snprintf(name, sizeof(name), "run-%" PRIu64 ".lsi", r->no);
    rc = lsl_sidx_path(ix, name, w->path, sizeof(w->path));
    if (rc)
        return rc;
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                 0600);
    if (w->fd < 0)
        return -errno;
    lsl_put_le(hdr + 8, SIDX_VERSION, 4);
    memcpy(hdr + 16, ix->lineage, SIDX_LINEAGE);
    rc = lsl_write_all(w->fd, hdr, sizeof(hdr));
    w->off = sizeof(hdr);
    return rc ? rc : write_chunk_table(w, chunks, nchunks);
}

static int note_child(struct sidx_writer *w, const uint8_t *key, uint64_t off)
{
    int rc = lsl_array_grow(&w->children, &w->cap, w->nchildren + 1, SIDX_CHILD,
                            256);

    if (rc)
        return rc;
    memcpy(w->children + w->nchildren * SIDX_CHILD, key, SIDX_KEY);
    lsl_put_le(w->children + w->nchildren * SIDX_CHILD + SIDX_KEY, off, 8);
    w->nchildren++;
    return 0;
}

/* Write the leaf being filled; `more`: another leaf follows it. */
static int flush_leaf(struct sidx_writer *w, bool more)
{
    uint8_t *p = (uint8_t *)w->leaf.p;
    uint64_t at = w->off;
    int rc;

    lsl_put_le(p + 4, (w->leaf.len - SIDX_LEAF_HDR) / SIDX_ENTRY, 4);
    lsl_put_le(p + 8,
               more ? at + 4 + SIDX_NONCE + w->leaf.len + SIDX_ABYTES : 0, 8);
    rc = note_child(w, p + SIDX_LEAF_HDR, at);
    if (rc == 0)
        rc = write_block(w, SIDX_K_LEAF, p, w->leaf.len);
    if (rc == 0 && !w->run->first_leaf)
        w->run->first_leaf = at;
    lsl_buf_wipe(&w->leaf);
    return rc;
}

int lsl_sidx_writer_add(struct sidx_writer *w, const uint8_t e[SIDX_ENTRY])
{
    static const uint8_t hdr[SIDX_LEAF_HDR] = {SIDX_K_LEAF};
    int rc = 0;

    if (w->leaf.len == SIDX_LEAF_HDR + SIDX_PER_LEAF * SIDX_ENTRY)
        rc = flush_leaf(w, true);
    if (rc == 0 && w->leaf.len == 0)
        rc = lsl_buf_append(&w->leaf, hdr, sizeof(hdr));
    if (rc == 0)
        rc = lsl_buf_append(&w->leaf, e, SIDX_ENTRY);
    if (rc == 0)
        w->run->entries++;
    return rc;
}

/* One level of inner blocks over w->children; they become the new level. */
static int write_level(struct sidx_writer *w)
{
    uint8_t *kids = w->children, *blk = malloc(SIDX_BLOCK);
    size_t n = w->nchildren;
    int rc = blk ? 0 : -ENOMEM;

    w->children = NULL;
    w->nchildren = w->cap = 0;
    for (size_t i = 0; rc == 0 && i < n; i += SIDX_PER_INNER) {
        size_t k = n - i < SIDX_PER_INNER ? n - i : SIDX_PER_INNER;

        memset(blk, 0, SIDX_HDR);
        blk[0] = SIDX_K_INNER;
        lsl_put_le(blk + 4, k, 4);
        memcpy(blk + SIDX_HDR, kids + i * SIDX_CHILD, k * SIDX_CHILD);
        rc = note_child(w, kids + i * SIDX_CHILD, w->off);
        if (rc == 0)
            rc = write_block(w, SIDX_K_INNER, blk, SIDX_HDR + k * SIDX_CHILD);
    }
    free(blk);
    free(kids);
    return rc;
}

int lsl_sidx_writer_finish(struct sidx_writer *w, bool ok)
{
    int rc = ok ? 0 : -ECANCELED;

    if (rc == 0 && w->leaf.len)
        rc = flush_leaf(w, false);
    while (rc == 0 && w->nchildren > 1 && w->run->depth < SIDX_DEPTH_MAX) {
        rc = write_level(w);
        w->run->depth++;
    }
    if (rc == 0 && w->nchildren > 1)
        rc = -EFBIG;
    if (rc == 0 && w->nchildren == 1)
        w->run->root = lsl_get_le(w->children + SIDX_KEY, 8);
    if (rc == 0 && fsync(w->fd) != 0)
        rc = -errno;
    if (w->fd >= 0 && close(w->fd) != 0 && rc == 0)
        rc = -errno;
    w->fd = -1;
    if (rc)
        unlink(w->path);
    lsl_buf_free(&w->leaf);
    lsl_buf_free(&w->plain);
    free(w->children);
    w->children = NULL;
    return rc;
}
