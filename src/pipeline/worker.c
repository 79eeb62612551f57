/*
 * Worker state: one per thread-pool thread, so matching, tokenizing and
 * compression reuse their buffers and deflate state across batches with no
 * locking and no per-line allocation.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "batch_internal.h"

int lsl_worker_open(struct lsl_worker **out, const struct lsl_worker_opts *o)
{
    struct lsl_tokenizer_opts to;
    struct lsl_worker *w;
    int rc;

    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->gzip_level = o->gzip_level;
    w->kr = o->keyring;
    w->ip = o->ip;
    w->format = o->format;
    w->unparsed = o->unparsed;
    w->columns = o->columns;
    w->zone = o->zone;
    lsl_tokenizer_opts_init(&to);
    to.keyring = o->keyring;
    to.stop = o->stop;
    w->kr = o->keyring;
    if (o->cache_entries)
        to.cache_entries = o->cache_entries;
    rc = lsl_tokenizer_open(&w->tz, &to);
    if (rc)
        goto fail;
    rc = lsl_matcher_open(&w->m);
    if (rc)
        goto fail;
    /* JSON lines carry the rule's named fields; text output needs none. */
    lsl_matcher_want_fields(w->m, w->format == LSL_OUT_JSONL);
    if (w->gzip_level > 0) {
        /* windowBits 15 + 16: a gzip wrapper, so each member stands alone */
        if (deflateInit2(&w->zs, w->gzip_level, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = -ENOMEM;
            goto fail;
        }
        w->zs_ready = true;
    }
    *out = w;
    return 0;
fail:
    lsl_worker_close(w);
    return rc;
}

void lsl_worker_close(struct lsl_worker *w)
{
    if (!w)
        return;
    if (w->zs_ready)
        deflateEnd(&w->zs);
    lsl_matcher_free(w->m);
    lsl_tokenizer_close(w->tz);
    if (w->scratch.p)
        sodium_memzero(w->scratch.p, w->scratch.cap);
    lsl_buf_free(&w->scratch);
    if (w->field.p)
        sodium_memzero(w->field.p, w->field.cap);
    lsl_buf_free(&w->field);
    free(w);
}

int lsl_worker_deflate(struct lsl_worker *w, const struct lsl_buf *in,
                       struct lsl_buf *out)
{
    uLong bound;
    int rc, zrc;

    if (deflateReset(&w->zs) != Z_OK)
        return -EINVAL;
    bound = deflateBound(&w->zs, (uLong)in->len);
    out->len = 0;
    rc = lsl_buf_reserve(out, bound);
    if (rc)
        return rc;
    w->zs.next_in = (Bytef *)(uintptr_t)in->p;
    w->zs.avail_in = (uInt)in->len;
    w->zs.next_out = (Bytef *)out->p;
    w->zs.avail_out = (uInt)bound;
    zrc = deflate(&w->zs, Z_FINISH);
    if (zrc != Z_STREAM_END)
        return -EIO;
    out->len = bound - w->zs.avail_out;
    return 0;
}
