/*
 * One run of the daemon: everything opened from one configuration.
 *
 * prepare (no side effects: rules, keys) -> start (vault set, sinks,
 * pipeline, sources) -> stop (sources drain, then, once the pipeline is
 * idle, sources are freed and the pipeline closed on the loop, and the
 * vault files and sinks are finished on the thread pool: fsync and rename
 * never block the loop) -> LSL_RUN_STOPPED. A start whose outputs cannot
 * be written yet (a full vault, state or output disk) is retried with
 * backoff, nothing read meanwhile, as the commit step retries at run time.
 *
 * Invariants: `live` counts sources opened and not yet done; sinks are
 * closed only after every source using them is freed; the vault files are
 * finished before any segment is renamed into place, so no finished output
 * refers to a mapping that is not durable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "logseal/legal.h"
#include "logseal/log.h"
#include "logseal/sink.h"
#include "logseal/source.h"
#include "run_internal.h"

#define START_RETRY_MIN_MS 250
#define START_RETRY_MAX_MS 10000

int lsl_run_prepare(struct lsl_run **out, struct lsl_config *cfg)
{
    struct lsl_run *r = calloc(1, sizeof(*r));
    int rc = -ENOMEM, krc;

    if (!r)
        return rc;
    r->src = calloc(cfg->nsources, sizeof(*r->src));
    if (!r->src)
        goto fail;
    r->cfg = cfg;
    r->nsrc = cfg->nsources;
    rc = 0;
    /* Every rule is loaded, so one pass names every broken one. */
    for (size_t i = 0; i < r->nsrc; i++) {
        int rrc;

        r->src[i].run = r;
        r->src[i].conf = &cfg->sources[i];
        rrc = lsl_run_load_rule(r, &r->src[i]);
        if (rrc && rc == 0)
            rc = rrc;
    }
    krc = lsl_run_load_keys(r);
    if (krc == 0)
        krc = lsl_run_preflight(r);
    if (krc == 0)
        krc = lsl_run_kafka_check(cfg);
    rc = rc ? rc : krc;
    if (rc)
        goto fail;
    *out = r;
    return 0;
fail:
    r->cfg = NULL; /* ownership moves only on success */
    lsl_run_free(r);
    return rc;
}

void lsl_run_free(struct lsl_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->src && i < r->nsrc; i++)
        lsl_rule_free(r->src[i].rule);
    free(r->src);
    lsl_keyring_close(r->kr);
    lsl_ckpt_key_free(r->ckey);
    lsl_vault_wstate_close(r->ws);
    lsl_stoplist_close(r->stop);
    lsl_config_free(r->cfg);
    sodium_memzero(r, sizeof(*r));
    free(r);
}

const struct lsl_config *lsl_run_config(const struct lsl_run *r)
{
    return r->cfg;
}

static void source_done(struct run_src *s, int err)
{
    struct lsl_run *r = s->run;

    if (s->done)
        return;
    s->done = true;
    s->err = err;
    r->live--;
    if (err && !r->err)
        r->err = err;
    if (r->stopping) {
        if (r->live == 0)
            lsl_run_finish(r);
    } else if (r->live == 0) {
        r->o.event(r, LSL_RUN_IDLE, r->err, r->o.ud);
    }
}

static void fd_done(struct lsl_fd_source *fd, int err, void *ud)
{
    (void)fd;
    source_done(ud, err);
}

static void stopped_cb(void *ud)
{
    source_done(ud, 0);
}

static void on_fatal(struct lsl_pipeline *pl, int err, void *ud)
{
    struct lsl_run *r = ud;

    (void)pl;
    if (!r->err)
        r->err = err;
    r->o.event(r, LSL_RUN_FATAL, err, r->o.ud);
}

static int open_sink(struct lsl_run *r, struct run_src *s)
{
    const struct lsl_source_conf *c = s->conf;
    struct lsl_segment_opts so = {
        .out_dir = r->cfg->output,
        .source = c->name,
        .host = r->cfg->host,
        .layout = (enum lsl_layout)r->cfg->layout,
        .max_bytes = r->cfg->segment_size,
        .max_age = r->cfg->segment_age,
        /* Only a tail source reads what was not committed again. */
        .input_replays = c->type == LSL_SRC_TAIL,
    };
    int rc;

    if (c->sink == LSL_SINK_STDOUT) {
        rc = lsl_file_sink_open(&s->sink, NULL);
        if (rc)
            lsl_log_error("[source %s]: cannot open stdout: %s", c->name,
                          lsl_strerror(rc));
        return rc;
    }
    if (c->sink == LSL_SINK_KAFKA)
        return lsl_run_open_kafka(r, s);
    rc = lsl_checkpoint_load(r->cfg->state, c->name, r->ckey, &s->cp);
    if (rc == 0 && strncmp(s->cp.segment, "kafka:", 6) == 0)
        s->cp.segment[0] = '\0'; /* was sink = kafka: a new segment */
    if (rc == 0)
        so.resume = &s->cp;
    else if (rc != -ENOENT) {
        lsl_log_error("%s/%s.ckpt: cannot read the checkpoint: %s (move it "
                      "away to start this source over)",
                      r->cfg->state, c->name, lsl_strerror(rc));
        return rc;
    }
    rc = lsl_segment_sink_open(&s->sink, &so);
    if (rc)
        lsl_log_error("%s/%s: cannot open the segment output: %s",
                      r->cfg->output, c->name, lsl_strerror(rc));
    return rc;
}

static int open_source(struct lsl_run *r, struct run_src *s)
{
    const struct lsl_source_conf *c = s->conf;
    struct lsl_tail_opts to = {
        .name = c->name,
        .path = c->path,
        .state_dir = r->cfg->state,
        .ckpt_key = r->ckey,
        .start_at_end = c->start_at_end,
        .rotate_wait_ms = c->rotate_wait_ms,
        .rule = s->rule,
        .sink = s->sink,
    };
    struct lsl_syslog_opts yo = {
        .name = c->name,
        .listen = c->listen,
        .rule = s->rule,
        .sink = s->sink,
    };
    struct lsl_fd_source_opts fo = {
        .fd = 0,
        .name = c->name,
        .rule = s->rule,
        .sink = s->sink,
        .on_done = fd_done,
        .ud = s,
    };

    switch (c->type) {
    case LSL_SRC_TAIL:
        return lsl_tail_source_open(&s->tail, r->pl, &to);
    case LSL_SRC_SYSLOG:
        return lsl_syslog_source_open(&s->syslog, r->pl, &yo);
    case LSL_SRC_STDIN:
        return lsl_fd_source_open(&s->fd, r->pl, &fo);
    }
    return -EINVAL;
}

static int start_source(struct run_src *s)
{
    switch (s->conf->type) {
    case LSL_SRC_TAIL:
        return lsl_tail_source_start(s->tail);
    case LSL_SRC_SYSLOG:
        return lsl_syslog_source_start(s->syslog);
    case LSL_SRC_STDIN:
        return lsl_fd_source_start(s->fd);
    }
    return -EINVAL;
}

/* The writer's chain state (in STATE, private; one per vault directory)
 * and the stop list. */
static int open_writer_state(struct lsl_run *r)
{
    char path[PATH_MAX];
    int rc;

    /* Each opened once: a start the disk refused is retried. */
    if (!r->ws) {
        rc = lsl_vault_wstate_path(path, sizeof(path), r->cfg->state,
                                   r->cfg->vault);
        if (rc == 0)
            rc = lsl_vault_wstate_open(&r->ws, path);
        if (rc) {
            lsl_log_error("%s: cannot use the vault writer state: %s", path,
                          lsl_strerror(rc));
            return rc;
        }
    }
    if (r->stop)
        return 0;
    return lsl_stoplist_load(&r->stop, r->cfg->vault, r->cfg->keys, r->ws);
}

static int open_vault(struct lsl_run *r)
{
    /* One set serves every source; records name the daemon. */
    struct lsl_vault_set_opts vo = {
        .dir = r->cfg->vault,
        .pubkey = r->pk,
        .source = "daemon",
        .host = r->cfg->host,
        .keyring = r->kr,
    };
    int rc;

    rc = lsl_mkdir_p(r->cfg->vault, 0700);
    if (rc == 0)
        rc = open_writer_state(r);
    vo.wstate = r->ws;
    if (rc == 0)
        rc = lsl_vault_set_open(&r->vs, &vo);
    if (rc && rc != LSL_EAUTH && rc != LSL_ENOKEY)
        lsl_log_error("%s: cannot create a vault file: %s", r->cfg->vault,
                      lsl_strerror(rc));
    return rc;
}

static int open_pipeline(struct lsl_run *r)
{
    struct lsl_pipeline_opts po;
    bool gzip = false;
    int rc;

    for (size_t i = 0; i < r->nsrc; i++)
        gzip = gzip || r->src[i].sink->gzip;
    lsl_pipeline_opts_init(&po);
    po.loop = r->o.loop;
    po.keyring = r->kr;
    po.vaults = r->vs;
    po.gzip_level = gzip ? r->cfg->level : 0;
    po.format = r->cfg->format;
    po.ip = r->cfg->ip;
    po.unparsed = r->cfg->unparsed;
    po.columns = r->cfg->columns;
    po.zone = r->cfg->zone;
    po.stop = r->stop;
    po.on_fatal = on_fatal;
    po.ud = r;
    rc = lsl_pipeline_open(&r->pl, &po);
    if (rc)
        lsl_log_error("cannot start the pipeline: %s", lsl_strerror(rc));
    return rc;
}

/* The state directory holds checkpoints; it is private (0700). */
static int make_dirs(const struct lsl_config *c)
{
    int rc = lsl_mkdir_p(c->state, 0700);

    if (rc)
        lsl_log_error("%s: cannot create the state directory: %s", c->state,
                      lsl_strerror(rc));
    return rc;
}

bool lsl_run_has_tail(const struct lsl_run *r)
{
    for (size_t i = 0; i < r->nsrc; i++)
        if (r->src[i].conf->type == LSL_SRC_TAIL)
            return true;
    return false;
}

/*
 * The checkpoint key, made the first time a tail source needs it (keygen
 * makes one too; a key directory from before it has none).
 */
static int open_ckpt_key(struct lsl_run *r)
{
    char path[PATH_MAX];
    bool made = false;
    int rc;

    if (r->ckey || !lsl_run_has_tail(r))
        return 0;
    rc = lsl_path_join(path, sizeof(path), r->cfg->keys, LSL_CKPT_KEY_FILE);
    if (rc == 0)
        rc = lsl_ckpt_key_open(path, true, &r->ckey, &made);
    if (rc)
        lsl_run_ckpt_key_error(path, "create", rc);
    else if (made)
        lsl_log_info("%s: created; it seals the fingerprints in checkpoints "
                     "(keep it with the other keys)",
                     path);
    return rc;
}

/* What writes: state directory, vault file, sinks (opened once each). */
static int open_outputs(struct lsl_run *r)
{
    int rc = make_dirs(r->cfg);

    if (rc == 0)
        rc = open_ckpt_key(r);
    if (rc == 0 && !r->vs)
        rc = open_vault(r);
    for (size_t i = 0; rc == 0 && i < r->nsrc; i++)
        if (!r->src[i].sink)
            rc = open_sink(r, &r->src[i]);
    return rc;
}

/* The pipeline and the sources, reading from now on. */
static int open_inputs(struct lsl_run *r)
{
    int rc = open_pipeline(r);

    for (size_t i = 0; rc == 0 && i < r->nsrc; i++) {
        struct run_src *s = &r->src[i];

        rc = open_source(r, s);
        if (rc) {
            lsl_log_error("%s:%u: [source %s]: cannot open: %s", r->cfg->path,
                          s->conf->line, s->conf->name, lsl_strerror(rc));
            break;
        }
        s->opened = true;
        r->live++;
    }
    for (size_t i = 0; rc == 0 && i < r->nsrc; i++) {
        rc = start_source(&r->src[i]);
        if (rc)
            lsl_log_error("[source %s]: cannot start: %s", r->src[i].conf->name,
                          lsl_strerror(rc));
    }
    return rc;
}

/* Errors that space or time can fix: waited out, as the commit step does. */
static bool retryable(int err)
{
    return err == -ENOSPC || err == -EDQUOT || err == -EIO || err == -EAGAIN;
}

static void start_retry_cb(uv_timer_t *t)
{
    struct lsl_run *r = t->data;
    int rc = open_outputs(r);

    if (rc && retryable(rc)) {
        r->start_retry_ms = r->start_retry_ms * 2 > START_RETRY_MAX_MS
                                ? START_RETRY_MAX_MS
                                : r->start_retry_ms * 2;
        lsl_log_warn("cannot start yet (%s); nothing is read until the "
                     "outputs can be written; retrying in %u ms",
                     lsl_strerror(rc), r->start_retry_ms);
        uv_timer_start(t, start_retry_cb, r->start_retry_ms, 0);
        return;
    }
    uv_close((uv_handle_t *)t, NULL);
    r->start_timer_open = false;
    if (rc == 0)
        rc = open_inputs(r);
    if (rc == 0) {
        lsl_log_info("the outputs can be written: started");
        return;
    }
    r->err = rc;
    lsl_run_stop(r);
}

int lsl_run_start(struct lsl_run *r, const struct lsl_run_opts *o)
{
    int rc;

    r->o = *o;
    rc = open_outputs(r);
    if (rc && retryable(rc)) {
        /* A full disk at start is waited out like one at run time. */
        r->start_retry_ms = START_RETRY_MIN_MS;
        lsl_log_warn("cannot start yet (%s); nothing is read until the "
                     "outputs can be written; retrying in %u ms",
                     lsl_strerror(rc), r->start_retry_ms);
        uv_timer_init(r->o.loop, &r->start_timer);
        r->start_timer.data = r;
        r->start_timer_open = true;
        uv_timer_start(&r->start_timer, start_retry_cb, r->start_retry_ms, 0);
        return 0;
    }
    if (rc == 0)
        rc = open_inputs(r);
    if (rc)
        r->err = rc;
    return rc;
}

static void stop_source(struct run_src *s)
{
    switch (s->conf->type) {
    case LSL_SRC_TAIL:
        lsl_tail_source_stop(s->tail, stopped_cb, s);
        break;
    case LSL_SRC_SYSLOG:
        lsl_syslog_source_stop(s->syslog, stopped_cb, s);
        break;
    case LSL_SRC_STDIN:
        lsl_fd_source_stop(s->fd);
        break;
    }
}

static void start_timer_closed(uv_handle_t *h)
{
    struct lsl_run *r = h->data;

    r->start_timer_open = false;
    lsl_run_stop(r);
}

void lsl_run_stop(struct lsl_run *r)
{
    if (r->stopping)
        return;
    if (r->start_timer_open) {
        /* Still waiting to start: stop once the timer is closed. */
        if (!uv_is_closing((uv_handle_t *)&r->start_timer))
            uv_close((uv_handle_t *)&r->start_timer, start_timer_closed);
        return;
    }
    r->stopping = true;
    if (r->live == 0) {
        lsl_run_finish(r);
        return;
    }
    for (size_t i = 0; i < r->nsrc; i++) {
        if (r->src[i].opened && !r->src[i].done)
            stop_source(&r->src[i]);
    }
}
