/*
 * Worker state: one per thread-pool thread, so matching, tokenizing and
 * compression reuse their buffers and compressor across batches with no
 * locking and no per-line allocation.
 *
 * A batch is compressed whole, as one gzip member, with libdeflate: it
 * needs no streaming, and on whole buffers libdeflate is faster than zlib
 * at every level and its output smaller (bench/results.md).
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
        /* libdeflate takes levels 1-12; logseal passes gzip's 1-9 through */
        w->dc = libdeflate_alloc_compressor(w->gzip_level);
        if (!w->dc) {
            rc = -ENOMEM;
            goto fail;
        }
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
    if (w->dc)
        libdeflate_free_compressor(w->dc);
    lsl_matcher_free(w->m);
    lsl_tokenizer_close(w->tz);
    if (w->scratch.p)
        sodium_memzero(w->scratch.p, w->scratch.cap);
    lsl_buf_free(&w->scratch);
    lsl_buf_free(&w->unesc);
    if (w->field.p)
        sodium_memzero(w->field.p, w->field.cap);
    lsl_buf_free(&w->field);
    free(w);
}

int lsl_worker_deflate(struct lsl_worker *w, const struct lsl_buf *in,
                       struct lsl_buf *out)
{
    size_t bound = libdeflate_gzip_compress_bound(w->dc, in->len);
    size_t n;
    int rc;

    out->len = 0;
    rc = lsl_buf_reserve(out, bound);
    if (rc)
        return rc;
    /* The bound is libdeflate's worst case: 0 (no room) cannot happen. */
    n = libdeflate_gzip_compress(w->dc, in->p, in->len, out->p, bound);
    if (n == 0)
        return -EIO;
    out->len = n;
    return 0;
}
