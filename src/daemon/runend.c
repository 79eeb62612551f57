/*
 * The end of a run. Every source has drained; the pipeline may still run a
 * sink tick, which walks the source list and touches sinks from a worker,
 * so teardown waits (polling on a timer) until the pipeline is idle. Then,
 * on the loop: sources are freed (their counters kept) and the pipeline is
 * closed. On the thread pool: the vault file is finished, then every sink
 * (segments fsynced and renamed when the run ended cleanly; after an error
 * they stay .part and the checkpoints resume them).
 */
#include <stdlib.h>
#include <string.h>
#include "logseal/log.h"
#include "run_internal.h"

#define IDLE_POLL_MS 20

const struct lsl_batch_stats *lsl_run_src_stats(const struct run_src *s)
{
    if (s->freed || !s->opened)
        return &s->st;
    switch (s->conf->type) {
    case LSL_SRC_TAIL:
        return &lsl_tail_source_base(s->tail)->st;
    case LSL_SRC_SYSLOG:
        return &lsl_syslog_source_base(s->syslog)->st;
    case LSL_SRC_STDIN:
        return lsl_fd_source_stats(s->fd);
    }
    return &s->st;
}

static struct lsl_source *src_base(const struct run_src *s)
{
    switch (s->conf->type) {
    case LSL_SRC_TAIL:
        return lsl_tail_source_base(s->tail);
    case LSL_SRC_SYSLOG:
        return lsl_syslog_source_base(s->syslog);
    case LSL_SRC_STDIN:
        return NULL; /* stdin loses nothing it read */
    }
    return NULL;
}

struct lsl_source_losses lsl_run_src_losses(const struct run_src *s)
{
    struct lsl_source *b;

    if (s->freed || !s->opened)
        return s->lost;
    if (s->conf->type == LSL_SRC_SYSLOG)
        (void)lsl_syslog_source_counters(s->syslog);
    b = src_base(s);
    return b ? b->lost : s->lost;
}

struct lsl_pipeline_health lsl_run_health(const struct lsl_run *r)
{
    struct lsl_pipeline_health h = r->health;

    if (r->pl)
        lsl_pipeline_health(r->pl, &h);
    return h;
}

bool lsl_run_blocked(const struct lsl_run *r)
{
    return lsl_run_health(r).blocked;
}

static void free_source(struct run_src *s)
{
    if (!s->opened || s->freed)
        return;
    s->st = *lsl_run_src_stats(s);
    s->lost = lsl_run_src_losses(s);
    switch (s->conf->type) {
    case LSL_SRC_TAIL:
        lsl_tail_source_free(s->tail);
        break;
    case LSL_SRC_SYSLOG:
        lsl_syslog_source_free(s->syslog);
        break;
    case LSL_SRC_STDIN:
        lsl_fd_source_close(s->fd);
        break;
    }
    s->freed = true;
}

static void close_work(uv_work_t *req)
{
    struct lsl_run *r = req->data;
    char path[PATH_MAX] = "";
    int rc;

    if (r->vs)
        snprintf(path, sizeof(path), "%s", lsl_vault_set_last_path(r->vs));
    rc = lsl_vault_set_close(r->vs);
    r->vs = NULL;
    if (rc) {
        lsl_log_error("%s: cannot finish the vault file: %s", path,
                      lsl_strerror(rc));
        if (!r->err)
            r->err = rc;
    }
    for (size_t i = 0; i < r->nsrc; i++) {
        struct lsl_sink *k = r->src[i].sink;
        char desc[sizeof(k->desc)];

        if (!k)
            continue;
        memcpy(desc, k->desc, sizeof(desc));
        rc = k->ops->close(k, r->err == 0);
        r->src[i].sink = NULL;
        if (rc) {
            lsl_log_error("%s: cannot finish the output: %s", desc,
                          lsl_strerror(rc));
            if (!r->err)
                r->err = rc;
        }
    }
}

static void close_done(uv_work_t *req, int status)
{
    struct lsl_run *r = req->data;

    if (status && !r->err)
        r->err = status;
    r->o.event(r, LSL_RUN_STOPPED, r->err, r->o.ud);
}

static void teardown(struct lsl_run *r)
{
    int rc;

    if (r->pl) {
        struct lsl_batch_stats st;
        uint64_t vault_new;

        lsl_pipeline_totals(r->pl, &st, &vault_new);
        r->vault_new = vault_new;
        lsl_pipeline_health(r->pl, &r->health);
        r->health.blocked = false;
        r->health.paused = false;
    }
    for (size_t i = 0; i < r->nsrc; i++)
        free_source(&r->src[i]);
    lsl_pipeline_close(r->pl);
    r->pl = NULL;
    r->close_req.data = r;
    rc = uv_queue_work(r->o.loop, &r->close_req, close_work, close_done);
    if (rc) {
        /* No thread pool: finish here rather than leave files open. */
        close_work(&r->close_req);
        close_done(&r->close_req, 0);
    }
}

static void idle_closed(uv_handle_t *h)
{
    teardown(h->data);
}

static void idle_poll(uv_timer_t *t)
{
    struct lsl_run *r = t->data;

    if (!lsl_pipeline_idle(r->pl))
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, idle_closed);
}

void lsl_run_finish(struct lsl_run *r)
{
    if (!r->pl || lsl_pipeline_idle(r->pl)) {
        teardown(r);
        return;
    }
    uv_timer_init(r->o.loop, &r->idle_timer);
    r->idle_timer.data = r;
    uv_timer_start(&r->idle_timer, idle_poll, IDLE_POLL_MS, IDLE_POLL_MS);
}
