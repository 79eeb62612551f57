/*
 * Tail source: follows a file (or the newest match of a glob) across
 * rename-and-create and copytruncate rotation, truncation and deletion,
 * and resumes from its checkpoint exactly where the committed output ends
 * (tail_start.c).
 *
 * Invariants:
 * - Every file read gets a new generation number, used as pos.file_id of
 *   its batches; persist() maps it back to the file's identity. A batch
 *   never spans two files: leaving a file ends it (lsl_source_end_file),
 *   except for a copytruncate copy, which continues the original's bytes
 *   at the same offset and only needs a flush. A file begun at its start
 *   is checkpointed there before its first line commits.
 * - One uv_fs_read at a time, at an explicit offset; none while the
 *   pipeline is busy, none once stopping. Bytes read are fed only if the
 *   file still is what was read: as long as the read, and with the same
 *   head. A read that raced a copytruncate is dropped and the rewrite
 *   handled; the head is fingerprinted before each read, so its copy is
 *   recognized.
 * - copytruncate: after a truncation the source reads, in order, the
 *   unread rest of the copy holding its offset, every rotation written
 *   since (several rotations during a stall), then the file from its
 *   start. What it can tell was lost (bytes it saw but no copy holds, a
 *   rotation compressed before it was read) is counted and logged with
 *   file and byte range.
 * - A rotated or deleted file is left only when read to its end and idle
 *   for the rotate wait (late writers); a rotated file with no successor
 *   yet is kept.
 * - Log lines name paths and offsets, never content.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "logseal/log.h"
#include "tail_internal.h"

void (*lsl_tail_before_read)(struct lsl_tail_source *t, uint64_t offset);

static uint64_t now_ms(const struct lsl_tail_source *t)
{
    return uv_now(lsl_pipeline_loop(t->base.pl));
}

void tail_lost(struct lsl_tail_source *t, uint64_t n)
{
    t->base.lost.bytes += n;
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

void tail_mark_start(struct lsl_tail_source *t)
{
    struct lsl_pos at = {t->cur.gen, t->cur.start};
    int rc = lsl_source_mark(&t->base, &at);

    if (rc)
        lsl_log_warn("%s: cannot checkpoint the start of %s: %s; a crash "
                     "before its first lines are written reads the file "
                     "before it again from its checkpoint",
                     t->base.name, t->cur.path, lsl_strerror(rc));
}

/* Begin `f` (now t->cur) at its start; a copy or rotation in a
 * copytruncate chain does not grow, so it is left without waiting. */
static void begin_at_start(struct lsl_tail_source *t, bool chained)
{
    tail_file_begin(t, &t->cur, 0);
    tail_checkpoint_start(t);
    t->detached = chained ? DETACH_ROTATED : DETACH_NONE;
    t->idle_since_ms = now_ms(t) - (chained ? t->grace_ms : 0);
}

void tail_wait_since(struct lsl_tail_source *t, const struct tail_file *prev)
{
    t->since = *prev;
    t->since.fd = -1;
    sodium_memzero(t->since.head, sizeof(t->since.head));
    t->waiting_since = true;
}

/*
 * A file to read while none is: the oldest written since the one left
 * last (several may have come and been rotated meanwhile), or on a first
 * run the one at the path.
 */
static bool adopt_current(struct lsl_tail_source *t)
{
    int rc = t->waiting_since ? tail_find_next(t, &t->since, true, &t->cur)
                              : tail_find_current(t, &t->cur);

    if (rc != 0 || t->cur.fd < 0)
        return false;
    t->waiting_since = false;
    begin_at_start(t, false);
    lsl_log_info("%s: reading %s from the start", t->base.name, t->cur.path);
    return true;
}

static bool same_file(const struct tail_file *a, const struct tail_file *b)
{
    return a->id.dev == b->id.dev && a->id.ino == b->id.ino;
}

/*
 * The file after `prev`: the next rotation, or in a copytruncate chain
 * the next copy written before the truncated original (not after it: a
 * file created by a later rename rotation comes after the original), then
 * the original. The file at the path is never a copy, even when its mtime
 * says as old (created in the tick of the original's last write).
 */
static int next_file(struct lsl_tail_source *t, const struct tail_file *prev,
                     bool by_time, bool *chained)
{
    int rc = tail_find_next(t, prev, by_time, &t->cur);
    struct stat st;

    *chained = false;
    if (t->after.fd < 0)
        return rc;
    if (t->cur.fd >= 0 && !same_file(&t->cur, &t->after) &&
        (t->is_glob || strcmp(t->cur.path, t->path) != 0) &&
        fstat(t->after.fd, &st) == 0 &&
        tail_ns(&t->cur.mtime) <= tail_ns(&st.st_mtim)) {
        *chained = true;
        return rc;
    }
    tail_file_close(&t->cur);
    t->cur = t->after;
    t->after.fd = -1;
    /* Its head now is what was written after the truncation. */
    rc = tail_file_ident(&t->cur);
    if (rc)
        tail_file_close(&t->cur);
    return rc;
}

static int switch_file(struct lsl_tail_source *t)
{
    struct lsl_pos end = {t->cur.gen, t->cur.offset};
    struct tail_file prev;
    bool chained;
    int rc = lsl_source_end_file(&t->base, &end);

    if (rc)
        return rc;
    tail_file_mark_end(&t->cur);
    prev = t->cur;
    /* Its successors were written since it came to be. */
    prev.mtime = prev.born;
    tail_remember_finished(t, &t->cur.id);
    tail_file_close(&t->cur);
    t->detached = DETACH_NONE;
    tail_count_compressed(t, &prev.id, tail_ns(&prev.mtime), prev.offset,
                          prev.path);
    rc = next_file(t, &prev, false, &chained);
    if (t->cur.fd < 0) {
        lsl_log_info("%s: done with the old %s; waiting for %s", t->base.name,
                     prev.path, t->path);
        tail_wait_since(t, &prev);
        sodium_memzero(prev.head, sizeof(prev.head));
        return rc;
    }
    begin_at_start(t, chained);
    lsl_log_info("%s: done with the old %s at byte %llu; reading %s from "
                 "the start",
                 t->base.name, prev.path, (unsigned long long)prev.offset,
                 t->cur.path);
    sodium_memzero(prev.head, sizeof(prev.head));
    return 0;
}

/*
 * cur is left for a copy or a rotation before it: it becomes `after`, the
 * original to come back to -- unless a chain already holds one (cur is a
 * copy in it, and is closed: the original is not given up).
 */
static void keep_after(struct lsl_tail_source *t)
{
    if (t->after.fd >= 0)
        tail_file_close(&t->cur);
    else
        t->after = t->cur;
    t->cur.fd = -1;
}

/* Bytes of cur seen before a truncation that no copy holds. */
static void count_window(struct lsl_tail_source *t, uint64_t from)
{
    uint64_t seen = t->cur.prev_size;

    if (seen <= from)
        return;
    tail_lost(t, seen - from);
    lsl_log_warn("%s: bytes %" PRIu64 "-%" PRIu64 " of %s were written but "
                 "not read before it was truncated, and no rotated copy "
                 "holds them (truncated in place, or written between "
                 "copytruncate's copy and truncation): %" PRIu64 " bytes lost",
                 t->base.name, from, seen, t->cur.path, seen - from);
}

/* A copy holds cur's unread bytes: read them there first. */
static int read_copy_first(struct lsl_tail_source *t, struct tail_file *copy)
{
    int rc = lsl_source_flush(&t->base);

    if (rc) {
        tail_file_close(copy);
        return rc;
    }
    count_window(t, copy->size);
    lsl_log_info("%s: %s was truncated; reading its rotated copy %s from "
                 "byte %llu first",
                 t->base.name, t->cur.path, copy->path,
                 (unsigned long long)t->cur.offset);
    tail_file_begin(t, copy, t->cur.offset);
    keep_after(t);
    t->cur = *copy;
    /* A copy does not grow: no rotate wait. */
    t->detached = DETACH_ROTATED;
    t->idle_since_ms = now_ms(t) - t->grace_ms;
    return 0;
}

/* cur shrank or its head changed: copytruncate, truncate, rewrite. */
static int on_rewritten(struct lsl_tail_source *t)
{
    struct lsl_pos end = {t->cur.gen, t->cur.offset};
    struct tail_file copy, prev;
    bool chained;
    int rc = tail_find_copy(t, &t->cur, &copy);

    if (rc == 0 && copy.fd >= 0 && copy.size > t->cur.offset)
        return read_copy_first(t, &copy);
    rc = lsl_source_end_file(&t->base, &end);
    if (rc) {
        tail_file_close(&copy);
        return rc;
    }
    prev = t->cur;
    if (copy.fd >= 0) {
        /* Read to its end already: the copies after it come next. */
        tail_remember_finished(t, &copy.id);
        count_window(t, copy.size);
        copy.offset = copy.size;
        tail_file_mark_end(&copy);
        prev = copy;
        tail_file_close(&copy);
    } else {
        prev.mtime = prev.prev_mtime;
        if (!tail_count_compressed(t, &prev.id, tail_ns(&prev.mtime),
                                   prev.offset, prev.path))
            count_window(t, prev.offset);
    }
    keep_after(t);
    rc = next_file(t, &prev, copy.fd < 0, &chained);
    if (t->cur.fd < 0)
        return rc ? rc : -ENOENT;
    begin_at_start(t, chained);
    lsl_log_info("%s: %s was truncated or rewritten (%llu bytes read); "
                 "reading %s from the start",
                 t->base.name, chained ? t->after.path : t->cur.path,
                 (unsigned long long)end.offset, t->cur.path);
    sodium_memzero(prev.head, sizeof(prev.head));
    return 0;
}

/*
 * cur was just found deleted: its next checkpoint says so (a restart then
 * takes no later file with its first bytes for a copy of it). The lines
 * read go out now; with none in flight, a batch of no lines checkpoints
 * the committed position again.
 */
static void note_deleted(struct lsl_tail_source *t)
{
    int rc = lsl_source_flush(&t->base);

    if (rc == 0 && t->base.inflight == 0 && t->committed.file_id == t->cur.gen)
        rc = lsl_source_mark(&t->base, &t->committed);
    if (rc)
        lsl_log_warn("%s: cannot checkpoint that %s was deleted: %s; a crash "
                     "before its next batch may take a new file with its "
                     "first bytes for a copy of it",
                     t->base.name, t->cur.path, lsl_strerror(rc));
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
        if (t->detached == DETACH_DELETED)
            note_deleted(t);
        t->idle_since_ms = now;
    }
    if (now - t->idle_since_ms < t->grace_ms)
        return false;
    rc = switch_file(t);
    if (rc)
        lsl_log_warn("%s: cannot leave %s yet: %s; retrying", t->base.name,
                     t->cur.path, lsl_strerror(rc));
    return rc == 0;
}

/*
 * cur was empty when reading began and nothing of it was read, so nothing
 * of it is known: if a rotated file was written since the last look, cur
 * was copied and truncated meanwhile (copytruncate while it was not looked
 * at, or before a line was read), and that copy comes first -- also when
 * cur was deleted or renamed away since. Only rotated names count, and
 * only files last written before cur was (the truncation comes after the
 * copy): the file at the path, or a later rotation, is a successor.
 */
static bool copied_unseen(struct lsl_tail_source *t)
{
    struct tail_file snap = t->cur, probe;
    bool found;

    /* A copy in a chain (after is open) is never truncated. */
    if (t->is_glob || t->cur.id.fp_len > 0 || t->cur.offset > 0 ||
        t->after.fd >= 0)
        return false;
    snap.mtime = t->cur.prev_mtime;
    /* Oldest first: if the first found was written after cur, so were
     * the others. */
    found = tail_find_rotated_since(t, &snap, &probe) == 0 && probe.fd >= 0 &&
            tail_ns(&probe.mtime) <= tail_ns(&t->cur.mtime);
    tail_file_close(&probe);
    sodium_memzero(snap.head, sizeof(snap.head));
    return found;
}

static void read_cb(uv_fs_t *req);

/* Read from cur.offset; false if the file changed since the last look
 * (looked at again first, no read issued). */
static bool start_read(struct lsl_tail_source *t)
{
    uint64_t left = t->cur.size - t->cur.offset;
    size_t n = left < t->read_size ? (size_t)left : t->read_size;
    uv_buf_t b = uv_buf_init(t->buf, (unsigned)n);
    int rc;

    if (lsl_tail_before_read)
        lsl_tail_before_read(t, t->cur.offset);
    /* Fingerprint the head as it is before the read: a copy of it is
     * found, and a rewrite is seen when the read is checked. */
    if (!tail_file_grow_fp(t, &t->cur))
        return false;
    t->reading = true;
    rc = uv_fs_read(lsl_pipeline_loop(t->base.pl), &t->req, t->cur.fd, &b, 1,
                    (int64_t)t->cur.offset, read_cb);
    if (rc) {
        t->reading = false;
        lsl_log_warn("%s: cannot read %s: %s; retrying", t->base.name,
                     t->cur.path, uv_strerror(rc));
    }
    return true;
}

/*
 * Are the n bytes just read still the file's, at cur.offset? A read issued
 * before a truncation can run after new writes and return the new file's
 * bytes: then the file is shorter than what was read, or its head changed.
 */
static bool read_still_valid(struct lsl_tail_source *t, size_t n)
{
    bool rewritten;

    if (tail_file_look(t, &t->cur, &rewritten) != 0)
        return false;
    return !rewritten && t->cur.size >= t->cur.offset + n;
}

static int feed(struct lsl_tail_source *t, size_t n)
{
    struct lsl_pos after;
    int rc;

    t->cur.offset += n;
    t->fed_any = true;
    /* The rotate wait is for late writers; the files of a copytruncate
     * chain (read while the original waits in `after`) have none. */
    if (t->after.fd < 0)
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
    if (n > 0 && !read_still_valid(t, (size_t)n)) {
        /* Dropped: the rewrite is handled, and what the read held is read
         * again from where it now is (a copy) or counted. */
        t->suspect = true;
    } else if (n > 0 && feed(t, (size_t)n) != 0) {
        return;
    }
    if ((size_t)n == t->read_size)
        t->backlog = true;
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
        /* A dropped read already looked: the look before it is what the
         * file was before the rewrite. */
        rewritten = t->suspect;
        t->suspect = false;
        if (!rewritten && tail_file_look(t, &t->cur, &rewritten) != 0)
            return;
        rewritten = rewritten || copied_unseen(t);
        if (rewritten) {
            if (on_rewritten(t) != 0)
                return;
            continue;
        }
        if (t->cur.size > t->cur.offset) {
            if (start_read(t))
                return;
            continue;
        }
        /* A backlog read to its end (a start or restart catching up)
         * commits its last lines now: the flush timer is for lines that
         * trickle in, to gather them into fewer batches. */
        if (t->backlog && lsl_source_flush(&t->base) == 0)
            t->backlog = false;
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
    rc = o->ckpt_key ? split_path(t, o) : -EINVAL;
    if (rc)
        goto fail;
    t->ckpt_key = o->ckpt_key;
    t->start_at_end = o->start_at_end;
    t->read_size = o->read_size ? o->read_size : 1u << 20;
    t->grace_ms =
        o->rotate_wait_ms ? o->rotate_wait_ms : LSL_TAIL_ROTATE_WAIT_MS;
    /* The poll also ends the wait: two looks per wait keep it close. */
    t->poll_ms =
        t->grace_ms / 2 < TAIL_POLL_MS ? t->grace_ms / 2 : TAIL_POLL_MS;
    if (t->poll_ms < 10)
        t->poll_ms = 10;
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

int lsl_tail_source_start(struct lsl_tail_source *t)
{
    int rc = tail_start_files(t);

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
