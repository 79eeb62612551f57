/*
 * Batch processing: plan each line with its rule, replace planned spans by
 * tokens, compress the result as one gzip member. Runs on worker threads;
 * everything it touches is the batch's or the worker's own, except the
 * rule and keyring, which are immutable.
 */
#include "logseal/batch.h"
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "batch_internal.h"
#include "logseal/array.h"
#include "logseal/log.h"

int lsl_batch_open(struct lsl_batch **out)
{
    struct lsl_batch *b = calloc(1, sizeof(*b));

    if (!b)
        return -ENOMEM;
    *out = b;
    return 0;
}

static void wipe_buf(struct lsl_buf *buf)
{
    if (buf->p)
        sodium_memzero(buf->p, buf->len);
    buf->len = 0;
}

/* `in` and the mapping values hold originals and are wiped; `out` and `gz`
 * hold only pseudonymized text, the very bytes the sink writes out. */
void lsl_batch_clear(struct lsl_batch *b)
{
    wipe_buf(&b->in);
    b->out.len = 0;
    b->gz.len = 0;
    wipe_buf(&b->map_arena);
    b->header.len = 0;
    b->nlines = 0;
    b->nmaps = 0;
    b->error = 0;
    b->min_time = 0;
    b->max_time = 0;
    b->first_time = 0;
    memset(&b->st, 0, sizeof(b->st));
    memset(&b->pos, 0, sizeof(b->pos));
}

void lsl_batch_free(struct lsl_batch *b)
{
    if (!b)
        return;
    lsl_batch_clear(b);
    lsl_buf_free(&b->in);
    /* pseudonymized text only (see lsl_batch_clear): nothing to wipe */
    lsl_buf_release(&b->out);
    lsl_buf_release(&b->gz);
    lsl_buf_free(&b->map_arena);
    lsl_buf_free(&b->header);
    free(b->lines);
    free(b->maps);
    free(b);
}

int lsl_batch_add_line(struct lsl_batch *b, const char *p, size_t len,
                       uint32_t flags)
{
    size_t off = b->in.len;
    int rc;

    if (off + len > UINT32_MAX)
        return -E2BIG;
    /* the call is skipped while there is room: this runs per line */
    if (b->nlines == b->lines_cap &&
        lsl_array_grow(&b->lines, &b->lines_cap, b->nlines + 1,
                       sizeof(*b->lines), 1024))
        return -ENOMEM;
    rc = lsl_buf_append(&b->in, p, len);
    if (rc)
        return rc;
    b->lines[b->nlines++] =
        (struct lsl_line){(uint32_t)off, (uint32_t)len, flags};
    b->st.bytes_in +=
        len + ((flags & (LSL_LINE_PIECE | LSL_LINE_NOEOL)) ? 0 : 1);
    return 0;
}

void lsl_batch_stats_add(struct lsl_batch_stats *dst,
                         const struct lsl_batch_stats *src)
{
    dst->lines_in += src->lines_in;
    dst->lines_out += src->lines_out;
    dst->parsed += src->parsed;
    dst->unparsed += src->unparsed;
    dst->meta += src->meta;
    dst->limit_hits += src->limit_hits;
    dst->redacted += src->redacted;
    dst->dropped += src->dropped;
    dst->overlong += src->overlong;
    dst->binary += src->binary;
    dst->noeol += src->noeol;
    dst->tokens += src->tokens;
    dst->late += src->late;
    dst->bytes_in += src->bytes_in;
    dst->bytes_out += src->bytes_out;
}

/* Copy the tokenizer's mappings into the batch, which outlives the worker's
 * hold on them. */
static int take_mappings(struct lsl_batch *b, struct lsl_tokenizer *tz)
{
    size_t n, total = 0;
    const struct lsl_mapping *m = lsl_tokenizer_mappings(tz, &n);
    struct lsl_mapping *maps;
    int rc;

    for (size_t i = 0; i < n; i++)
        total += m[i].value.len;
    maps = realloc(b->maps, (n ? n : 1) * sizeof(*maps));
    if (!maps)
        return -ENOMEM;
    b->maps = maps;
    b->map_arena.len = 0;
    rc = lsl_buf_reserve(&b->map_arena, total + 1);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        maps[i] = m[i];
        maps[i].value.p = b->map_arena.p + b->map_arena.len;
        memcpy(b->map_arena.p + b->map_arena.len, m[i].value.p, m[i].value.len);
        b->map_arena.len += m[i].value.len;
    }
    b->nmaps = n;
    return 0;
}

int lsl_batch_process(struct lsl_batch *b, struct lsl_worker *w)
{
    int rc = 0;

    lsl_tokenizer_reset(w->tz);
    b->out.len = 0;
    b->gz.len = 0;
    w->time_fmt = NULL; /* the remembered time was of another batch's rule */
    /* Workers serve every source: each batch brings its own header. */
    rc = lsl_matcher_set_header(w->m, b->header.p, b->header.len);
    for (size_t i = 0; i < b->nlines && rc == 0; i++)
        rc = lsl_line_transform(w, b, &b->lines[i]);
    if (rc == 0)
        rc = take_mappings(b, w->tz);
    if (rc == 0) {
        b->st.tokens += lsl_tokenizer_emitted(w->tz);
        b->st.bytes_out = b->out.len;
    }
    /* A batch of no lines (a position mark) writes nothing, not even an
     * empty gzip member. */
    if (rc == 0 && w->gzip_level > 0 && b->nlines > 0)
        rc = lsl_worker_deflate(w, &b->out, &b->gz);
    lsl_tokenizer_reset(w->tz);
    b->error = rc;
    return rc;
}

void lsl_batch_stats_log(const char *source, const struct lsl_batch_stats *st,
                         uint64_t lag_bytes)
{
    lsl_log(LSL_LOG_INFO,
            "counters: source %s: lines_in %" PRIu64 " lines_out %" PRIu64
            " unparsed %" PRIu64 " redacted %" PRIu64 " dropped %" PRIu64
            " header_lines %" PRIu64 " tokens %" PRIu64 " bytes_in %" PRIu64
            " bytes_out %" PRIu64 " lag_bytes %" PRIu64,
            source, st->lines_in, st->lines_out, st->unparsed, st->redacted,
            st->dropped, st->meta, st->tokens, st->bytes_in, st->bytes_out,
            lag_bytes);
}
