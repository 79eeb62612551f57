/*
 * The pipeline. Loop thread: sources feed bytes, full batches go to the
 * thread pool, processed batches wait in `ready` (sorted by seq) until
 * their turn, then one commit job at a time writes vault entries and output.
 * Invariants: commit_seq is the seq of the next batch to commit; batches
 * commit in seq order exactly once; a failed commit is retried (same batch,
 * same order) or ends the pipeline through on_fatal, never skipped.
 */
#include "logseal/pipeline.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "logseal/checkpoint.h"
#include "logseal/log.h"
#include "pipeline_internal.h"

void lsl_pipeline_opts_init(struct lsl_pipeline_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->gzip_level = 6;
    /* A batch of 512 KiB holds about 1.3 MiB (input, output, gzip member,
     * mappings) and its worker as much again. Eight in flight keep a
     * two-core host busy within 64 MiB (bench/run --memory): with four,
     * reading paused and resumed so often (it resumes at half) that pipe
     * took 1.83 s and run 1.93 s on 1M nginx lines, 1.50 s and 1.62 s
     * with eight (median of 9, alternated; 11 MiB more at peak). Each
     * batch is a gzip member: halving 1 MiB cost 0.2% in compressed size. */
    o->batch_bytes = 1u << 19;
    o->flush_ms = 200;
    o->max_inflight = 8;
    o->max_line = LSL_MAX_LINE_DEFAULT;
}

static void flush_timer_cb(uv_timer_t *t);

/* `pipe` runs nothing else on its loop: the pipeline brings one. */
static int own_loop(struct lsl_pipeline *pl)
{
    int rc;

    pl->own_loop = malloc(sizeof(*pl->own_loop));
    if (!pl->own_loop)
        return -ENOMEM;
    rc = uv_loop_init(pl->own_loop);
    if (rc) {
        free(pl->own_loop);
        pl->own_loop = NULL;
        return rc;
    }
    pl->o.loop = pl->own_loop;
    return 0;
}

int lsl_pipeline_open(struct lsl_pipeline **out,
                      const struct lsl_pipeline_opts *o)
{
    struct lsl_pipeline *pl = calloc(1, sizeof(*pl));
    int rc;

    if (!pl)
        return -ENOMEM;
    pl->o = *o;
    if (!o->loop) {
        rc = own_loop(pl);
        if (rc)
            goto fail;
    }
    rc = uv_mutex_init(&pl->wlock);
    if (rc)
        goto fail;
    if (o->vaults)
        pl->retire.floor = lsl_keyring_epoch(o->keyring);
    uv_timer_init(pl->o.loop, &pl->flush_timer);
    uv_timer_init(pl->o.loop, &pl->retry_timer);
    pl->flush_timer.data = pl;
    pl->retry_timer.data = pl;
    uv_timer_start(&pl->flush_timer, flush_timer_cb, o->flush_ms, o->flush_ms);
    uv_unref((uv_handle_t *)&pl->flush_timer);
    *out = pl;
    return 0;
fail:
    if (pl->own_loop)
        (void)uv_loop_close(pl->own_loop);
    free(pl->own_loop);
    free(pl);
    return rc;
}

static void pipeline_free(struct lsl_pipeline *pl)
{
    lsl_jobs_free_all(pl);
    for (size_t i = 0; i < pl->nworkers; i++)
        lsl_worker_close(pl->workers[i]);
    free(pl->workers);
    free(pl->idle);
    while (pl->spare) {
        struct lsl_batch *b = pl->spare;

        pl->spare = b->next;
        lsl_batch_free(b);
    }
    uv_mutex_destroy(&pl->wlock);
    free(pl);
}

/* Freed once its timers are closed and no tick job can still touch it. */
void lsl_pipeline_release(struct lsl_pipeline *pl)
{
    if (pl->closing && pl->open_handles == 0 && !pl->ticking)
        pipeline_free(pl);
}

static void timer_closed(uv_handle_t *h)
{
    struct lsl_pipeline *pl = h->data;

    pl->open_handles--;
    lsl_pipeline_release(pl);
}

void lsl_pipeline_close(struct lsl_pipeline *pl)
{
    uv_loop_t *loop;

    if (!pl)
        return;
    loop = pl->own_loop;
    pl->closing = true;
    pl->open_handles = 2;
    uv_close((uv_handle_t *)&pl->flush_timer, timer_closed);
    uv_close((uv_handle_t *)&pl->retry_timer, timer_closed);
    if (!loop)
        return;
    /* Close callbacks (ours, and those of sources closed just before)
     * run now; `pl` is freed by the last of ours. */
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        lsl_log_warn("event loop closed with handles still open");
    else
        free(loop);
}

void lsl_pipeline_run(struct lsl_pipeline *pl)
{
    uv_run(pl->o.loop, UV_RUN_DEFAULT);
}

void lsl_pipeline_totals(const struct lsl_pipeline *pl,
                         struct lsl_batch_stats *st, uint64_t *vault_new)
{
    *st = pl->totals;
    *vault_new = pl->vault_new;
}

int lsl_source_checkpoint(struct lsl_source *s, const char *state_dir,
                          const struct lsl_ckpt_key *key,
                          const struct lsl_checkpoint *cp)
{
    struct lsl_sink *sink = s->sink;
    int rc;

    /* The sink's copy first: a local copy ahead of it would skip lines
     * whose transaction never committed. */
    if (!sink->transactional || !sink->ops->commit)
        return lsl_checkpoint_save(state_dir, s->name, key, cp);
    rc = sink->ops->commit(sink, cp);
    if (rc)
        return rc;
    /* Committed: a retry would send the batch twice. The local copy is
     * only a cache; the next start takes the sink's. */
    rc = lsl_checkpoint_save(state_dir, s->name, key, cp);
    if (rc)
        lsl_log_warn("%s: cannot save the local copy of its checkpoint in "
                     "%s: %s (the copy in %s counts)",
                     s->name, state_dir, lsl_strerror(rc), sink->desc);
    return 0;
}

uv_loop_t *lsl_pipeline_loop(const struct lsl_pipeline *pl)
{
    return pl->o.loop;
}

bool lsl_pipeline_idle(const struct lsl_pipeline *pl)
{
    return pl->inflight == 0 && !pl->committing && !pl->ticking;
}

bool lsl_pipeline_busy(const struct lsl_pipeline *pl)
{
    return pl->inflight >= pl->o.max_inflight || pl->fatal;
}

void lsl_pipeline_health(const struct lsl_pipeline *pl,
                         struct lsl_pipeline_health *h)
{
    h->blocked = pl->retry_ms > 0;
    h->paused = pl->paused;
    h->commit_failures = pl->commit_failures;
    h->blocked_ms = pl->blocked_ms;
    if (h->blocked)
        h->blocked_ms += uv_now(pl->o.loop) - pl->blocked_since_ms;
}

/* ---- batch pool: batches are reused to keep their buffers warm ---- */

static int batch_get(struct lsl_pipeline *pl, struct lsl_batch **out)
{
    if (pl->spare) {
        *out = pl->spare;
        pl->spare = (*out)->next;
        pl->nspare--;
        (*out)->source = NULL;
        return 0;
    }
    return lsl_batch_open(out);
}

static void batch_put(struct lsl_pipeline *pl, struct lsl_batch *b)
{
    lsl_batch_clear(b);
    if (pl->nspare >= pl->o.max_inflight) {
        lsl_batch_free(b);
        return;
    }
    b->next = pl->spare;
    pl->spare = b;
    pl->nspare++;
}

/* ---- sources ---- */

int lsl_source_attach(struct lsl_pipeline *pl, struct lsl_source *s)
{
    s->pl = pl;
    lsl_splitter_init(&s->sp, pl->o.max_line);
    s->next = pl->sources;
    pl->sources = s;
    return 0;
}

void lsl_source_detach(struct lsl_source *s)
{
    struct lsl_pipeline *pl = s->pl;
    struct lsl_source **pp;

    for (pp = &pl->sources; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    if (s->cur)
        batch_put(pl, s->cur);
    s->cur = NULL;
    lsl_splitter_free(&s->sp);
    lsl_buf_free(&s->header);
}

static void pause_all(struct lsl_pipeline *pl)
{
    if (pl->paused)
        return;
    pl->paused = true;
    for (struct lsl_source *s = pl->sources; s; s = s->next)
        s->ops->pause(s);
}

static void resume_all(struct lsl_pipeline *pl)
{
    if (!pl->paused || pl->fatal || pl->inflight > pl->o.max_inflight / 2)
        return;
    pl->paused = false;
    for (struct lsl_source *s = pl->sources; s; s = s->next)
        s->ops->resume(s);
}

/* Queue the current batch; `mark`: even with no lines (lsl_source_mark). */
static int dispatch_batch(struct lsl_source *s, bool mark)
{
    struct lsl_pipeline *pl = s->pl;
    struct lsl_batch *b = s->cur;
    int rc;

    if (!b || (b->nlines == 0 && !mark))
        return 0;
    s->cur = NULL;
    b->seq = pl->next_seq++;
    b->source = s;
    b->rule = s->rule;
    b->arrival = (int64_t)time(NULL);
    rc = lsl_job_process(pl, b);
    if (rc) {
        /* Not queued: keep it as the current batch; nothing is lost. */
        pl->next_seq--;
        s->cur = b;
        return rc;
    }
    s->inflight++;
    pl->inflight++;
    if (pl->inflight >= pl->o.max_inflight)
        pause_all(pl);
    return 0;
}

static int dispatch(struct lsl_source *s)
{
    return dispatch_batch(s, false);
}

/* A new current batch, carrying the header in force where it starts. */
static int batch_start(struct lsl_source *s)
{
    int rc = batch_get(s->pl, &s->cur);

    if (rc)
        return rc;
    rc = lsl_buf_append(&s->cur->header, s->header.p, s->header.len);
    if (rc) {
        batch_put(s->pl, s->cur);
        s->cur = NULL;
        return rc;
    }
    s->cur_started_ms = uv_now(s->pl->o.loop);
    return 0;
}

/* Remember the last header line among the current batch's lines from
 * `from` on: the next batch starts under it. */
static int note_header(struct lsl_source *s, size_t from)
{
    const struct lsl_batch *b = s->cur;
    const struct lsl_line *last = NULL;

    for (size_t i = from; i < b->nlines; i++) {
        const struct lsl_line *ln = &b->lines[i];

        /* An empty line is no header (and b->in.p may still be NULL). */
        if (ln->len && lsl_rule_is_header(s->rule, b->in.p + ln->off, ln->len))
            last = ln;
    }
    if (!last)
        return 0;
    s->header.len = 0;
    return lsl_buf_append(&s->header, b->in.p + last->off, last->len);
}

int lsl_source_feed(struct lsl_source *s, const char *data, size_t len,
                    const struct lsl_pos *after)
{
    struct lsl_pipeline *pl = s->pl;
    size_t from;
    int rc;

    if (!s->cur && (rc = batch_start(s)) != 0)
        return rc;
    from = s->cur->nlines;
    rc = lsl_splitter_feed(&s->sp, s->cur, data, len);
    if (rc == 0)
        rc = note_header(s, from);
    if (rc)
        return rc;
    s->cur->pos.file_id = after->file_id;
    s->cur->pos.offset = after->offset - lsl_splitter_pending(&s->sp);
    if (s->cur->in.len >= pl->o.batch_bytes)
        return dispatch(s);
    return 0;
}

/* Take the carried partial line (NOEOL) and dispatch; `end` or NULL. */
static int finish_input(struct lsl_source *s, const struct lsl_pos *end)
{
    int rc = 0;

    /* A carried line, or pieces of an overlong one to close. */
    if (!s->cur && (lsl_splitter_pending(&s->sp) > 0 || s->sp.in_piece))
        rc = batch_start(s);
    if (rc == 0 && s->cur) {
        uint64_t carried = lsl_splitter_pending(&s->sp);

        rc = lsl_splitter_finish(&s->sp, s->cur);
        if (end)
            s->cur->pos = *end;
        else
            s->cur->pos.offset += carried;
    }
    if (rc == 0)
        rc = dispatch(s);
    return rc;
}

int lsl_source_end_file(struct lsl_source *s, const struct lsl_pos *end)
{
    return finish_input(s, end);
}

struct drained_job {
    uv_work_t req;
    struct lsl_source *s;
};

static void drained_work(uv_work_t *req)
{
    (void)req;
}

static void drained_done(uv_work_t *req, int status)
{
    struct drained_job *d = req->data;

    (void)status;
    d->s->ops->drained(d->s);
    free(d);
}

/*
 * Tell the source it is drained, but never from inside the call that
 * stopped it: its owner may free it in the callback. Nothing in flight:
 * go through the loop once (a no-op job keeps the loop alive meanwhile).
 */
static int drained_later(struct lsl_source *s)
{
    struct drained_job *d;
    int rc;

    if (s->inflight > 0 || !s->ops->drained || s->drained)
        return 0;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->s = s;
    d->req.data = d;
    rc = uv_queue_work(s->pl->o.loop, &d->req, drained_work, drained_done);
    if (rc)
        free(d);
    else
        s->drained = true;
    return rc;
}

int lsl_source_eof(struct lsl_source *s)
{
    int rc = finish_input(s, NULL);

    if (rc)
        return rc;
    s->eof = true;
    return drained_later(s);
}

int lsl_source_flush(struct lsl_source *s)
{
    return dispatch(s);
}

int lsl_source_mark(struct lsl_source *s, const struct lsl_pos *pos)
{
    int rc = dispatch(s);

    if (rc == 0 && !s->cur)
        rc = batch_start(s);
    if (rc)
        return rc;
    s->cur->pos = *pos;
    rc = dispatch_batch(s, true);
    if (rc) {
        /* Not queued: an empty batch kept as the current one would carry
         * this position into the next lines'. */
        batch_put(s->pl, s->cur);
        s->cur = NULL;
    }
    return rc;
}

int lsl_source_stop(struct lsl_source *s)
{
    int rc = dispatch(s);

    if (rc)
        return rc;
    s->eof = true;
    return drained_later(s);
}

static void flush_timer_cb(uv_timer_t *t)
{
    struct lsl_pipeline *pl = t->data;
    uint64_t now = uv_now(pl->o.loop);

    for (struct lsl_source *s = pl->sources; s; s = s->next) {
        if (s->cur && s->cur->nlines > 0 &&
            now - s->cur_started_ms >= pl->o.flush_ms && dispatch(s) != 0)
            lsl_log_warn("%s: cannot queue a batch (out of memory); "
                         "retrying",
                         s->name);
    }
    lsl_jobs_tick(pl);
    if (pl->o.on_tick)
        pl->o.on_tick(pl, pl->o.ud);
}

/* ---- commit completion, on the loop thread ---- */

void lsl_pipeline_committed(struct lsl_pipeline *pl, struct lsl_batch *b,
                            uint64_t vault_new)
{
    struct lsl_source *s = b->source;

    lsl_batch_stats_add(&s->st, &b->st);
    lsl_batch_stats_add(&pl->totals, &b->st);
    pl->vault_new += vault_new;
    pl->commit_seq++;
    s->inflight--;
    pl->inflight--;
    if (s->ops->committed)
        s->ops->committed(s, &b->pos);
    batch_put(pl, b);
    resume_all(pl);
    if (s->eof && s->inflight == 0 && s->ops->drained && !s->drained) {
        s->drained = true;
        s->ops->drained(s);
    }
}
