/*
 * Thread-pool jobs of the pipeline: processing (parallel, any order) and
 * commit (serial, seq order). A commit writes the batch's new vault entries
 * and fsyncs them before the sink sees any token that needs them. Errors
 * that space or time can fix (ENOSPC, EDQUOT, EIO, EAGAIN) are retried with
 * backoff while sources stay paused; any other is fatal.
 *
 * Group commit: batches of one source that are ready in seq order when a
 * commit starts are committed together -- their mappings in one vault
 * flush, their lines each written, then one sink sync and one checkpoint
 * (the last batch's, which covers the others). While a commit waits on
 * fsync the workers fill the queue, so the slower the disk, the more
 * batches share each fsync. Transactional sinks commit batch by batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "logseal/array.h"
#include "logseal/log.h"
#include "pipeline_internal.h"

#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 10000

struct lsl_job {
    uv_work_t req;
    struct lsl_pipeline *pl;
    struct lsl_batch *b;
    int rc;
    bool vault_added;   /* mappings staged: a retry must not stage again */
    bool written;       /* the sink has the batch: a retry must not rewrite */
    const char *failed; /* what the failed commit step wrote, for messages */
    uint64_t vault_new;
    uint32_t retire_below; /* 0, or retire vault files of older epochs */
    uint32_t floor;        /* the keyring's oldest epoch after this commit */
    struct lsl_job *next;  /* the ready list, in seq order */
    struct lsl_job *group; /* the next batch committed with this one */
};

/*
 * Token cache entries per worker (136 bytes each, the printed token
 * included). There is one worker per thread-pool thread that ever ran a
 * batch, so the caches add up: 16384 keep the hot values of a busy stream
 * (repeat visitors) while four workers stay under 9 MiB.
 */
#define WORKER_CACHE_ENTRIES 16384

static int worker_get(struct lsl_pipeline *pl, struct lsl_worker **out)
{
    struct lsl_worker_opts wo = {
        .keyring = pl->o.keyring,
        .gzip_level = pl->o.gzip_level,
        .cache_entries = WORKER_CACHE_ENTRIES,
        .ip = pl->o.ip,
        .format = pl->o.format,
        .unparsed = pl->o.unparsed,
        .columns = pl->o.columns,
        .zone = pl->o.zone,
        .stop = pl->o.stop,
    };
    int rc = 0;

    uv_mutex_lock(&pl->wlock);
    if (pl->nidle > 0) {
        *out = pl->idle[--pl->nidle];
        goto out;
    }
    if (pl->nworkers == pl->cap_workers) {
        /* idle may hold every worker, so both share one capacity: each
         * grows from a copy of it, which is kept once both have grown */
        size_t all = pl->cap_workers, idle = pl->cap_workers;

        rc = lsl_array_grow(&pl->workers, &all, pl->nworkers + 1,
                            sizeof(*pl->workers), 8);
        if (rc == 0)
            rc = lsl_array_grow(&pl->idle, &idle, pl->nworkers + 1,
                                sizeof(*pl->idle), 8);
        if (rc)
            goto out;
        pl->cap_workers = all;
    }
    rc = lsl_worker_open(out, &wo);
    if (rc == 0)
        pl->workers[pl->nworkers++] = *out;
out:
    uv_mutex_unlock(&pl->wlock);
    return rc;
}

static void worker_put(struct lsl_pipeline *pl, struct lsl_worker *w)
{
    uv_mutex_lock(&pl->wlock);
    pl->idle[pl->nidle++] = w;
    uv_mutex_unlock(&pl->wlock);
}

static void process_work(uv_work_t *req)
{
    struct lsl_job *j = req->data;
    struct lsl_worker *w;

    j->rc = worker_get(j->pl, &w);
    if (j->rc)
        return;
    j->rc = lsl_batch_process(j->b, w);
    worker_put(j->pl, w);
}

static void try_commit(struct lsl_pipeline *pl);

static void process_done(uv_work_t *req, int status)
{
    struct lsl_job *j = req->data;
    struct lsl_pipeline *pl = j->pl;
    struct lsl_job **pp = &pl->ready;

    if (status != 0 && j->rc == 0)
        j->rc = status;
    while (*pp && (*pp)->b->seq < j->b->seq)
        pp = &(*pp)->next;
    j->next = *pp;
    *pp = j;
    try_commit(pl);
}

int lsl_job_process(struct lsl_pipeline *pl, struct lsl_batch *b)
{
    struct lsl_job *j = calloc(1, sizeof(*j));
    int rc;

    if (!j)
        return -ENOMEM;
    j->pl = pl;
    j->b = b;
    j->req.data = j;
    rc = uv_queue_work(pl->o.loop, &j->req, process_work, process_done);
    if (rc)
        free(j);
    return rc;
}

static int stage_vault(struct lsl_job *g)
{
    struct lsl_vault_set *vs = g->pl->o.vaults;
    struct lsl_batch *b = g->b;

    if (g->vault_added)
        return 0;
    for (size_t i = 0; i < b->nmaps; i++) {
        bool is_new;
        int rc = lsl_vault_set_add(vs, &b->maps[i], &is_new);

        if (rc)
            return rc;
        g->vault_new += is_new;
    }
    g->vault_added = true;
    return 0;
}

/* Mappings first: no token reaches the sink before its mapping is durable. */
static int commit_vault(struct lsl_job *j)
{
    struct lsl_vault_set *vs = j->pl->o.vaults;
    int rc;

    if (!vs)
        return 0;
    j->failed = "the vault";
    for (struct lsl_job *g = j; g; g = g->group) {
        rc = stage_vault(g);
        if (rc)
            return rc;
    }
    j->failed = lsl_vault_set_last_path(vs);
    return lsl_vault_set_flush(vs);
}

/* Each batch of the group once (a retry skips those written), in order;
 * *last is the last batch, *lines the group's input lines. */
static int write_group(struct lsl_job *j, struct lsl_batch **last,
                       uint64_t *lines)
{
    struct lsl_source *src = j->b->source;
    struct lsl_sink *sink = src->sink;

    *lines = 0;
    for (struct lsl_job *g = j; g; g = g->group) {
        if (!g->written) {
            int rc = sink->ops->write(sink, g->b);

            if (rc)
                return rc;
            g->written = true;
        }
        *last = g->b;
        *lines += g->b->st.lines_in;
    }
    return 0;
}

static int commit_sink(struct lsl_job *j)
{
    struct lsl_source *src = j->b->source;
    struct lsl_sink *sink = src->sink;
    struct lsl_sink_state st = {0};
    struct lsl_batch *last = j->b;
    uint64_t lines;
    int rc;

    j->failed = sink->desc;
    rc = write_group(j, &last, &lines);
    if (rc)
        return rc;
    if (sink->sync_each && sink->ops->sync)
        rc = sink->ops->sync(sink);
    if (rc)
        return rc;
    if (sink->ops->state)
        sink->ops->state(sink, &st);
    if (src->ops->persist) {
        j->failed = "the checkpoint";
        rc = src->ops->persist(src, last, &st, lines);
    } else if (sink->transactional) {
        rc = sink->ops->commit(sink, NULL);
    }
    /* A transaction that failed is gone (or its commit is retried): the
     * retry writes the batch again; the sink knows which it is. */
    if (rc && sink->transactional)
        j->written = false;
    return rc;
}

/*
 * The batch is durable: only now may the key ratchet past its lines, and
 * the vault files of epochs no key can reach any more be finished.
 */
static int commit_ratchet(struct lsl_job *j)
{
    struct lsl_keyring *kr = j->pl->o.keyring;
    int64_t max_time = j->b->max_time;
    int rc;

    if (!j->pl->o.vaults)
        return 0;
    for (const struct lsl_job *g = j->group; g; g = g->group)
        if (g->b->max_time > max_time)
            max_time = g->b->max_time;
    j->failed = "the hash key";
    rc = lsl_keyring_advance(kr, max_time);
    if (rc)
        return rc;
    j->floor = lsl_keyring_epoch(kr);
    if (!j->retire_below)
        return 0;
    j->failed = "a finished vault file";
    return lsl_vault_set_retire(j->pl->o.vaults, j->retire_below);
}

static void commit_work(uv_work_t *req)
{
    struct lsl_job *j = req->data;

    j->rc = commit_vault(j);
    if (j->rc == 0)
        j->rc = commit_sink(j);
    if (j->rc == 0)
        j->rc = commit_ratchet(j);
}

static bool retryable(int err)
{
    return err == -ENOSPC || err == -EDQUOT || err == -EIO || err == -EAGAIN ||
           err == -EINTR;
}

static void commit_done(uv_work_t *req, int status);

static void retry_cb(uv_timer_t *t)
{
    struct lsl_pipeline *pl = t->data;
    struct lsl_job *j = pl->committing;

    if (uv_queue_work(pl->o.loop, &j->req, commit_work, commit_done) != 0)
        uv_timer_start(&pl->retry_timer, retry_cb, pl->retry_ms, 0);
}

/* Back to the head of the ready list, for lsl_jobs_free_all. */
static void requeue(struct lsl_pipeline *pl, struct lsl_job *j)
{
    for (struct lsl_job *g = j; g; g = g->group)
        g->next = g->group ? g->group : pl->ready;
    pl->ready = j;
}

/* j is pl->committing, or a batch whose processing failed. */
static void commit_failed(struct lsl_pipeline *pl, struct lsl_job *j)
{
    struct lsl_source *s = j->b->source;

    pl->commit_failures++;
    if (pl->committing != j || !retryable(j->rc)) {
        lsl_log_error("%s: %s batch %llu to %s failed: %s", s->name,
                      pl->committing == j ? "writing" : "processing",
                      (unsigned long long)j->b->seq,
                      pl->committing == j ? j->failed : s->sink->desc,
                      lsl_strerror(j->rc));
        pl->fatal = true;
        requeue(pl, j);
        pl->committing = NULL;
        if (pl->o.on_fatal)
            pl->o.on_fatal(pl, j->rc, pl->o.ud);
        return;
    }
    if (!pl->retry_ms)
        pl->blocked_since_ms = uv_now(pl->o.loop);
    pl->retry_ms = pl->retry_ms ? pl->retry_ms * 2 : RETRY_MIN_MS;
    if (pl->retry_ms > RETRY_MAX_MS)
        pl->retry_ms = RETRY_MAX_MS;
    lsl_log_error("%s: writing to %s failed: %s; input paused, retrying in "
                  "%u ms",
                  s->name, j->failed, lsl_strerror(j->rc), pl->retry_ms);
    uv_timer_start(&pl->retry_timer, retry_cb, pl->retry_ms, 0);
}

/*
 * The key ratcheted in this commit: every batch dispatched so far may have
 * been tokenized with the old keys, so the old epochs' files stay open
 * until the first batch dispatched from now on commits.
 */
static void note_ratchet(struct lsl_pipeline *pl, const struct lsl_job *j)
{
    if (!pl->o.vaults || j->floor <= pl->retire.floor)
        return;
    pl->retire.floor = j->floor;
    pl->retire.pending = j->floor;
    pl->retire.seq = pl->next_seq;
}

static void commit_done(uv_work_t *req, int status)
{
    struct lsl_job *j = req->data;
    struct lsl_pipeline *pl = j->pl;

    if (status != 0 && j->rc == 0)
        j->rc = status;
    if (j->rc) {
        commit_failed(pl, j);
        return;
    }
    if (pl->retry_ms) {
        pl->blocked_ms += uv_now(pl->o.loop) - pl->blocked_since_ms;
        lsl_log_info("output is being written again");
    }
    pl->retry_ms = 0;
    pl->committing = NULL;
    note_ratchet(pl, j);
    while (j) {
        struct lsl_job *g = j->group;

        lsl_pipeline_committed(pl, j->b, j->vault_new);
        free(j);
        j = g;
    }
    try_commit(pl);
}

/* Detach j and the ready batches that may commit with it; the last. */
static struct lsl_job *take_group(struct lsl_pipeline *pl, struct lsl_job *j)
{
    struct lsl_source *src = j->b->source;
    struct lsl_job *last = j, *n;

    pl->ready = j->next;
    j->group = NULL;
    if (j->rc || src->sink->transactional)
        return j;
    while ((n = pl->ready) != NULL && n->rc == 0 &&
           n->b->seq == last->b->seq + 1 && n->b->source == j->b->source) {
        pl->ready = n->next;
        n->group = NULL;
        last->group = n;
        last = n;
    }
    return last;
}

static void try_commit(struct lsl_pipeline *pl)
{
    struct lsl_job *j = pl->ready, *last;
    int rc;

    if (pl->committing || pl->ticking || pl->fatal || !j ||
        j->b->seq != pl->commit_seq)
        return;
    last = take_group(pl, j);
    if (j->rc) {
        /* Processing failed (memory): its lines cannot be written. */
        commit_failed(pl, j);
        return;
    }
    pl->committing = j;
    j->req.data = j;
    if (pl->retire.pending && last->b->seq >= pl->retire.seq) {
        j->retire_below = pl->retire.pending;
        pl->retire.pending = 0;
    }
    /* Not into j->rc: commit_work may already have run on a worker and
     * stored its result there (a lost -ENOSPC meant a skipped batch). */
    rc = uv_queue_work(pl->o.loop, &j->req, commit_work, commit_done);
    if (rc) {
        j->rc = rc;
        commit_failed(pl, j);
    }
}

void lsl_jobs_free_all(struct lsl_pipeline *pl)
{
    while (pl->ready) {
        struct lsl_job *j = pl->ready;

        pl->ready = j->next;
        lsl_batch_free(j->b);
        free(j);
    }
}

/*
 * A tick job works on a snapshot of the sinks taken on the loop thread, so
 * sources may come and go meanwhile; owners close sinks only once the
 * pipeline is idle (no tick running).
 */
struct tick_job {
    uv_work_t req;
    struct lsl_pipeline *pl;
    int64_t now;
    size_t nsinks;
    struct lsl_sink *sinks[];
};

static void tick_work(uv_work_t *req)
{
    struct tick_job *t = req->data;

    for (size_t i = 0; i < t->nsinks; i++) {
        struct lsl_sink *sink = t->sinks[i];
        int rc = sink->ops->tick(sink, t->now);

        if (rc)
            lsl_log_error("finishing output %s failed: %s; will retry",
                          sink->desc, lsl_strerror(rc));
    }
}

static void tick_done(uv_work_t *req, int status)
{
    struct tick_job *t = req->data;
    struct lsl_pipeline *pl = t->pl;

    (void)status;
    free(t);
    pl->ticking = false;
    if (pl->closing) {
        lsl_pipeline_release(pl);
        return;
    }
    try_commit(pl);
}

void lsl_jobs_tick(struct lsl_pipeline *pl)
{
    uint64_t now = uv_now(pl->o.loop);
    struct tick_job *t;
    size_t n = 0;

    if (pl->ticking || pl->committing || pl->fatal || pl->closing ||
        now - pl->last_tick_ms < 1000)
        return;
    for (struct lsl_source *s = pl->sources; s; s = s->next)
        n++;
    t = calloc(1, sizeof(*t) + n * sizeof(t->sinks[0]));
    if (!t)
        return;
    for (struct lsl_source *s = pl->sources; s; s = s->next) {
        if (s->sink->ops->tick)
            t->sinks[t->nsinks++] = s->sink;
    }
    if (t->nsinks == 0) {
        free(t);
        return;
    }
    t->pl = pl;
    t->now = (int64_t)time(NULL);
    t->req.data = t;
    if (uv_queue_work(pl->o.loop, &t->req, tick_work, tick_done) != 0) {
        free(t);
        return;
    }
    pl->ticking = true;
    pl->last_tick_ms = now;
}
