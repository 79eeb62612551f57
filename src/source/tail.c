/*
 * Tail source: follows a file (or the newest match of a glob) across
 * rename-and-create and copytruncate rotation, truncation and deletion,
 * and resumes from its checkpoint exactly where the committed output ends.
 *
 * Invariants:
 * - Every file read gets a new generation number, used as pos.file_id of
 *   its batches; persist() maps it back to the file's identity. A batch
 *   never spans two files: leaving a file ends it (lsl_source_end_file),
 *   except for a copytruncate copy, which continues the original's bytes
 *   at the same offset and only needs a flush.
 * - One uv_fs_read at a time, at an explicit offset; none while the
 *   pipeline is busy, none once stopping.
 * - A rotated or deleted file is left only when read to its end and idle
 *   for TAIL_GRACE_MS (late writers); a rotated file with no successor yet
 *   is kept.
 * - Log lines name paths and offsets, never content.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/log.h"
#include "tail_internal.h"

static uint64_t now_ms(const struct lsl_tail_source *t)
{
    return uv_now(lsl_pipeline_loop(t->base.pl));
}

static void maybe_done(struct lsl_tail_source *t)
{
    if (!t->stopping || t->done_called || t->open_handles > 0 || t->reading)
        return;
    if (!t->drained && !(t->stop_failed && t->base.inflight == 0))
        return;
    t->done_called = true;
    if (t->done)
        t->done(t->done_ud);
}

/* Shutdown: what is read goes out, an unfinished line stays unread. */
static void stop_input(struct lsl_tail_source *t)
{
    int rc = lsl_source_stop(&t->base);

    if (rc) {
        lsl_log_error("%s: cannot queue the last batch: %s; its lines are "
                      "read again at the next start",
                      t->base.name, lsl_strerror(rc));
        t->stop_failed = true;
    }
    maybe_done(t);
}

void tail_closed(struct lsl_tail_source *t)
{
    maybe_done(t);
}

static bool adopt_current(struct lsl_tail_source *t)
{
    if (tail_find_current(t, &t->cur) != 0 || t->cur.fd < 0)
        return false;
    tail_file_begin(t, &t->cur, 0);
    lsl_log_info("%s: reading %s from the start", t->base.name, t->cur.path);
    return true;
}

static int switch_file(struct lsl_tail_source *t)
{
    struct lsl_pos end = {t->cur.gen, t->cur.offset};
    struct tail_file prev = t->cur;
    int rc = lsl_source_end_file(&t->base, &end);

    if (rc)
        return rc;
    tail_remember_finished(t, &t->cur.id);
    tail_file_close(&t->cur);
    t->detached = DETACH_NONE;
    if (t->after.fd >= 0) {
        t->cur = t->after;
        t->after.fd = -1;
        rc = lsl_file_id_get(t->cur.fd, &t->cur.id);
        if (rc)
            tail_file_close(&t->cur);
    } else {
        rc = tail_find_next(t, &prev, &t->cur);
    }
    if (t->cur.fd < 0) {
        lsl_log_info("%s: done with the old %s; waiting for %s", t->base.name,
                     prev.path, t->path);
        return rc;
    }
    tail_file_begin(t, &t->cur, 0);
    lsl_log_info("%s: done with the old %s at byte %llu; reading %s from "
                 "the start",
                 t->base.name, prev.path, (unsigned long long)prev.offset,
                 t->cur.path);
    return 0;
}

/* cur shrank or its head changed: copytruncate, truncate, rewrite. */
static int on_rewritten(struct lsl_tail_source *t)
{
    struct lsl_pos end = {t->cur.gen, t->cur.offset};
    struct tail_file copy;
    int rc = tail_find_copy(t, &t->cur, &copy);

    if (rc == 0 && copy.fd >= 0) {
        rc = lsl_source_flush(&t->base);
        if (rc) {
            tail_file_close(&copy);
            return rc;
        }
        lsl_log_info("%s: %s was truncated; reading its rotated copy %s "
                     "from byte %llu first",
                     t->base.name, t->cur.path, copy.path,
                     (unsigned long long)t->cur.offset);
        t->after = t->cur;
        tail_file_begin(t, &copy, t->cur.offset);
        t->cur = copy;
        /* A copy does not grow: no grace period. */
        t->detached = DETACH_ROTATED;
        t->idle_since_ms = now_ms(t) - TAIL_GRACE_MS;
        return 0;
    }
    rc = lsl_source_end_file(&t->base, &end);
    if (rc)
        return rc;
    lsl_log_info("%s: %s was truncated or rewritten (%llu bytes now, %llu "
                 "read); reading it from the start",
                 t->base.name, t->cur.path, (unsigned long long)t->cur.size,
                 (unsigned long long)t->cur.offset);
    rc = lsl_file_id_get(t->cur.fd, &t->cur.id);
    if (rc)
        return rc;
    t->detached = DETACH_NONE;
    tail_file_begin(t, &t->cur, 0);
    return 0;
}

/* cur is read to its end: stay, or leave it once rotated and idle. */
static bool at_end(struct lsl_tail_source *t)
{
    uint64_t now = now_ms(t);
    int rc;

    if (t->detached == DETACH_NONE) {
        t->detached = tail_detached(t);
        if (t->detached == DETACH_NONE)
            return false;
        lsl_log_info("%s: %s was %s; reading what is left of it", t->base.name,
                     t->cur.path,
                     t->detached == DETACH_DELETED ? "deleted" : "rotated");
        t->idle_since_ms = now;
    }
    if (now - t->idle_since_ms < TAIL_GRACE_MS)
        return false;
    rc = switch_file(t);
    if (rc)
        lsl_log_warn("%s: cannot leave %s yet: %s; retrying", t->base.name,
                     t->cur.path, lsl_strerror(rc));
    return rc == 0;
}

static void read_cb(uv_fs_t *req);

static void start_read(struct lsl_tail_source *t)
{
    uint64_t left = t->cur.size - t->cur.offset;
    size_t n = left < t->read_size ? (size_t)left : t->read_size;
    uv_buf_t b = uv_buf_init(t->buf, (unsigned)n);
    int rc;

    t->reading = true;
    rc = uv_fs_read(lsl_pipeline_loop(t->base.pl), &t->req, t->cur.fd, &b, 1,
                    (int64_t)t->cur.offset, read_cb);
    if (rc) {
        t->reading = false;
        lsl_log_warn("%s: cannot read %s: %s; retrying", t->base.name,
                     t->cur.path, uv_strerror(rc));
    }
}

static int feed(struct lsl_tail_source *t, size_t n)
{
    struct lsl_pos after;
    int rc;

    t->cur.offset += n;
    t->idle_since_ms = now_ms(t);
    after = (struct lsl_pos){t->cur.gen, t->cur.offset};
    rc = lsl_source_feed(&t->base, t->buf, n, &after);
    if (rc) {
        lsl_log_error("%s: cannot buffer %s at byte %llu: %s; this source "
                      "stops, a restart resumes from its checkpoint",
                      t->base.name, t->cur.path,
                      (unsigned long long)t->cur.offset, lsl_strerror(rc));
        t->failed = true;
        return rc;
    }
    tail_file_grow_fp(t, &t->cur);
    return 0;
}

static void read_cb(uv_fs_t *req)
{
    struct lsl_tail_source *t = req->data;
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    t->reading = false;
    if (t->stopping) {
        /* Not fed: a restart reads these bytes from the checkpoint. */
        stop_input(t);
        return;
    }
    if (n < 0) {
        lsl_log_warn("%s: reading %s at byte %llu failed: %s; retrying",
                     t->base.name, t->cur.path,
                     (unsigned long long)t->cur.offset, uv_strerror((int)n));
        return;
    }
    if (n > 0 && feed(t, (size_t)n) != 0)
        return;
    tail_wake(t);
}

void tail_wake(struct lsl_tail_source *t)
{
    /* Bounded: each round reads, or leaves a file behind. */
    for (int round = 0; round < 16; round++) {
        bool rewritten;

        if (t->reading || t->stopping || t->failed)
            return;
        if (t->paused || lsl_pipeline_busy(t->base.pl)) {
            t->paused = true;
            return;
        }
        if (t->cur.fd < 0 && !adopt_current(t))
            return;
        if (tail_file_look(&t->cur, &rewritten) != 0)
            return;
        if (rewritten) {
            if (on_rewritten(t) != 0)
                return;
            continue;
        }
        if (t->cur.size > t->cur.offset) {
            start_read(t);
            return;
        }
        if (!at_end(t))
            return;
    }
}

/* ---- source ops ---- */

static void tail_pause(struct lsl_source *s)
{
    ((struct lsl_tail_source *)s)->paused = true;
}

static void tail_resume(struct lsl_source *s)
{
    struct lsl_tail_source *t = (struct lsl_tail_source *)s;

    t->paused = false;
    tail_wake(t);
}

/* Commit job (worker thread), after the sink synced batch b. */
static int tail_persist(struct lsl_source *s, const struct lsl_batch *b,
                        const struct lsl_sink_state *st)
{
    struct lsl_tail_source *t = (struct lsl_tail_source *)s;
    struct lsl_checkpoint cp;
    int rc;

    memset(&cp, 0, sizeof(cp));
    if (!tail_ids_get(t, b->pos.file_id, &cp.file)) {
        lsl_log_error("%s: no identity for input generation %llu", s->name,
                      (unsigned long long)b->pos.file_id);
        return LSL_ECORRUPT;
    }
    cp.offset = b->pos.offset;
    memcpy(cp.segment, st->part, sizeof(cp.segment));
    cp.segment_len = st->len;
    cp.lines = t->lines + b->st.lines_in;
    rc = lsl_checkpoint_save(t->state_dir, s->name, &cp);
    if (rc == 0)
        t->lines = cp.lines;
    else
        lsl_log_error("%s: cannot save its checkpoint in %s: %s", s->name,
                      t->state_dir, lsl_strerror(rc));
    return rc;
}

static void tail_committed(struct lsl_source *s, const struct lsl_pos *pos)
{
    struct lsl_tail_source *t = (struct lsl_tail_source *)s;

    t->committed = *pos;
    maybe_done(t);
}

static void tail_drained(struct lsl_source *s)
{
    struct lsl_tail_source *t = (struct lsl_tail_source *)s;

    t->drained = true;
    maybe_done(t);
}

static const struct lsl_source_ops tail_ops = {
    .pause = tail_pause,
    .resume = tail_resume,
    .persist = tail_persist,
    .committed = tail_committed,
    .drained = tail_drained,
};

/* ---- lifecycle ---- */

static int split_path(struct lsl_tail_source *t, const struct lsl_tail_opts *o)
{
    const char *slash = strrchr(o->path, '/');
    size_t dn = slash ? (size_t)(slash - o->path) : 1;

    if (snprintf(t->path, sizeof(t->path), "%s", o->path) >=
            (int)sizeof(t->path) ||
        snprintf(t->state_dir, sizeof(t->state_dir), "%s", o->state_dir) >=
            (int)sizeof(t->state_dir) ||
        strlen(slash ? slash + 1 : o->path) >= sizeof(t->pattern))
        return -ENAMETOOLONG;
    snprintf(t->pattern, sizeof(t->pattern), "%s", slash ? slash + 1 : o->path);
    if (slash && dn == 0)
        dn = 1; /* "/name": the root directory */
    snprintf(t->dir, sizeof(t->dir), "%.*s", (int)dn, slash ? o->path : ".");
    if (!t->pattern[0] || strpbrk(t->dir, "*?["))
        return -EINVAL; /* a glob only in the last component */
    t->is_glob = strpbrk(t->pattern, "*?[") != NULL;
    return 0;
}

int lsl_tail_source_open(struct lsl_tail_source **out, struct lsl_pipeline *pl,
                         const struct lsl_tail_opts *o)
{
    struct lsl_tail_source *t = calloc(1, sizeof(*t));
    int rc;

    if (!t)
        return -ENOMEM;
    t->cur.fd = -1;
    t->after.fd = -1;
    rc = split_path(t, o);
    if (rc)
        goto fail;
    t->start_at_end = o->start_at_end;
    t->read_size = o->read_size ? o->read_size : 1u << 20;
    t->buf = malloc(t->read_size);
    rc = t->buf ? uv_mutex_init(&t->lock) : -ENOMEM;
    if (rc)
        goto fail;
    t->req.data = t;
    t->base.ops = &tail_ops;
    snprintf(t->base.name, sizeof(t->base.name), "%s", o->name);
    t->base.rule = o->rule;
    t->base.sink = o->sink;
    rc = lsl_source_attach(pl, &t->base);
    if (rc) {
        uv_mutex_destroy(&t->lock);
        goto fail;
    }
    tail_watch_init(t);
    *out = t;
    return 0;
fail:
    free(t->buf);
    free(t);
    return rc;
}

static int first_run(struct lsl_tail_source *t)
{
    int rc = tail_find_current(t, &t->cur);

    if (rc) {
        lsl_log_error("%s: cannot open %s: %s", t->base.name, t->path,
                      lsl_strerror(rc));
        return rc;
    }
    if (t->cur.fd < 0) {
        lsl_log_info("%s: %s does not exist yet; waiting for it", t->base.name,
                     t->path);
        return 0;
    }
    tail_file_begin(t, &t->cur, t->start_at_end ? t->cur.size : 0);
    lsl_log_info("%s: following %s from its %s", t->base.name, t->cur.path,
                 t->start_at_end ? "end" : "beginning");
    return 0;
}

static int resume(struct lsl_tail_source *t, const struct lsl_checkpoint *cp)
{
    int rc = tail_find_checkpointed(t, cp, &t->cur);

    t->lines = cp->lines;
    if (rc == 0 && t->cur.fd >= 0) {
        tail_file_begin(t, &t->cur, cp->offset);
        lsl_log_info("%s: resuming %s at byte %llu", t->base.name, t->cur.path,
                     (unsigned long long)cp->offset);
        return 0;
    }
    lsl_log_warn("%s: the file of the last checkpoint (byte %llu) is "
                 "neither %s nor one of its rotations any more; reading "
                 "the current file from the start",
                 t->base.name, (unsigned long long)cp->offset, t->path);
    if (adopt_current(t) || rc)
        return rc;
    lsl_log_info("%s: waiting for %s", t->base.name, t->path);
    return 0;
}

int lsl_tail_source_start(struct lsl_tail_source *t)
{
    struct lsl_checkpoint cp;
    int rc = lsl_checkpoint_load(t->state_dir, t->base.name, &cp);

    if (rc == -ENOENT) {
        rc = first_run(t);
    } else if (rc == 0) {
        rc = resume(t, &cp);
    } else {
        lsl_log_error("%s/%s.ckpt: cannot use this checkpoint: %s; repair "
                      "or remove it (without it the source starts as on "
                      "its first run)",
                      t->state_dir, t->base.name, lsl_strerror(rc));
    }
    if (rc)
        return rc;
    tail_watch_start(t);
    tail_wake(t);
    return 0;
}

void lsl_tail_source_stop(struct lsl_tail_source *t, void (*done)(void *),
                          void *ud)
{
    if (t->stopping)
        return;
    t->done = done;
    t->done_ud = ud;
    t->stopping = true;
    tail_watch_close(t);
    if (!t->reading)
        stop_input(t);
}

void lsl_tail_source_free(struct lsl_tail_source *t)
{
    if (!t)
        return;
    lsl_source_detach(&t->base);
    tail_file_close(&t->cur);
    tail_file_close(&t->after);
    uv_mutex_destroy(&t->lock);
    free(t->buf);
    free(t);
}

uint64_t lsl_tail_source_lag(const struct lsl_tail_source *t)
{
    uint64_t done;

    if (t->cur.fd < 0)
        return 0;
    done =
        t->committed.file_id == t->cur.gen ? t->committed.offset : t->cur.start;
    return t->cur.size > done ? t->cur.size - done : 0;
}

struct lsl_source *lsl_tail_source_base(struct lsl_tail_source *t)
{
    return &t->base;
}
