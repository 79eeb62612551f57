/*
 * Tail source: where reading starts, and the checkpoint that makes a
 * restart go on from exactly there.
 *
 * A checkpoint is written as soon as a file is adopted, before any of its
 * bytes is read: at start synchronously (nothing is in flight yet), later
 * as a batch of no lines through the pipeline (after the lines of the file
 * before). So a restart never takes "no checkpoint" for a first run after
 * the source has chosen where to begin (start = end on an idle file; a
 * rotation before the first commit).
 *
 * On restart the checkpointed file is looked for by inode, then (a
 * copytruncate copy, unless the file was already deleted when it was
 * checkpointed) by its head; either must also hold the checkpoint's
 * bytes before the offset, so a new file on a reused inode with the same
 * head is not resumed in its middle. When the file is gone (deleted, or
 * rotated and compressed while the daemon was down), what it held unread
 * is counted and the source goes on with the oldest rotation written
 * since, not with the current file: rotations in between are read too.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "logseal/log.h"
#include "tail_internal.h"

/* The raw bytes that end batch b (lines and their newlines), at most
 * LSL_FP_SPAN of them, fingerprinted into cp. */
static void batch_end_fp(const struct lsl_batch *b, struct lsl_checkpoint *cp)
{
    uint8_t buf[LSL_FP_SPAN];
    size_t n = 0; /* collected at the end of buf */

    for (size_t i = b->nlines; i > 0 && n < sizeof(buf); i--) {
        const struct lsl_line *ln = &b->lines[i - 1];
        const char *p = b->in.p ? b->in.p + ln->off : "";
        size_t len = ln->len, room;

        if (!(ln->flags & (LSL_LINE_PIECE | LSL_LINE_NOEOL)))
            buf[sizeof(buf) - ++n] = '\n';
        room = sizeof(buf) - n;
        if (len > room) {
            p += len - room;
            len = room;
        }
        memcpy(buf + sizeof(buf) - n - len, p, len);
        n += len;
    }
    cp->end_len = (uint32_t)n;
    lsl_fp_of(buf + sizeof(buf) - n, n, cp->end_fp);
    sodium_memzero(buf, sizeof(buf));
}

/* The checkpoint of e's file at `offset` (its identity, the files done
 * before it; at its start offset, the bytes before that). */
static void ckpt_of(struct lsl_checkpoint *cp, const struct tail_id *e,
                    uint64_t offset)
{
    memset(cp, 0, sizeof(*cp));
    cp->file = e->id;
    cp->mtime_ns = e->mtime_ns;
    cp->deleted = e->deleted;
    cp->heads = e->heads;
    cp->offset = offset;
    memcpy(cp->done, e->done, sizeof(cp->done));
    cp->ndone = e->ndone;
    if (offset == e->start) {
        cp->end_len = e->start_end_len;
        memcpy(cp->end_fp, e->start_end_fp, LSL_FP_BYTES);
    }
}

int tail_persist(struct lsl_source *s, const struct lsl_batch *b,
                 const struct lsl_sink_state *st, uint64_t lines)
{
    struct lsl_tail_source *t = (struct lsl_tail_source *)s;
    struct lsl_checkpoint cp;
    struct tail_id e;
    int rc;

    if (!tail_ids_get(t, b->pos.file_id, &e)) {
        lsl_log_error("%s: no identity for input generation %llu", s->name,
                      (unsigned long long)b->pos.file_id);
        return LSL_ECORRUPT;
    }
    ckpt_of(&cp, &e, b->pos.offset);
    if (b->nlines > 0) {
        batch_end_fp(b, &cp);
        cp.in_line = b->lines[b->nlines - 1].flags & LSL_LINE_PIECE;
    }
    memcpy(cp.segment, st->part, sizeof(cp.segment));
    cp.segment_len = st->len;
    cp.lines = t->lines + lines;
    rc = lsl_source_checkpoint(s, t->state_dir, t->ckpt_key, &cp);
    if (rc == 0)
        t->lines = cp.lines;
    else
        lsl_log_error("%s: cannot save its checkpoint in %s: %s", s->name,
                      s->sink->transactional ? s->sink->desc : t->state_dir,
                      lsl_strerror(rc));
    return rc;
}

/*
 * Checkpoint where reading begins: cur at its start offset, or, with no
 * file yet, "nothing before now" (a restart then reads every file written
 * since, from its start). Written at once while this source has fed
 * nothing and the pipeline is idle (its sink's state cannot change under
 * us); otherwise, or if that fails (a full state directory), through the
 * pipeline, after the lines before it, whose commit step retries it.
 */
void tail_checkpoint_start(struct lsl_tail_source *t)
{
    struct lsl_sink *sink = t->base.sink;
    struct lsl_sink_state st = {0};
    struct lsl_checkpoint cp;
    struct tail_id e;
    struct timespec now;
    int rc = LSL_ECORRUPT;

    memset(&cp, 0, sizeof(cp));
    if (t->cur.fd >= 0 && tail_ids_get(t, t->cur.gen, &e)) {
        ckpt_of(&cp, &e, e.start);
    } else if (t->cur.fd < 0 && clock_gettime(CLOCK_REALTIME, &now) == 0) {
        cp.mtime_ns = tail_ns(&now);
        cp.ndone = t->nfinished < LSL_CKPT_DONE ? t->nfinished : LSL_CKPT_DONE;
        for (unsigned i = 0; i < cp.ndone; i++)
            cp.done[i] =
                t->finished[(t->nfinished - cp.ndone + i) % TAIL_FINISHED];
    } else {
        goto out;
    }
    /* Idle: no commit or tick job can be touching the sink right now (they
     * start on this thread). */
    if (t->fed_any || !lsl_pipeline_idle(t->base.pl))
        goto out;
    if (sink->ops->state)
        sink->ops->state(sink, &st);
    memcpy(cp.segment, st.part, sizeof(cp.segment));
    cp.segment_len = st.len;
    cp.lines = t->lines;
    rc = lsl_source_checkpoint(&t->base, t->state_dir, t->ckpt_key, &cp);
    if (rc)
        lsl_log_warn("%s: cannot save its checkpoint in %s: %s; it is "
                     "retried with the first batch",
                     t->base.name, t->state_dir, lsl_strerror(rc));
out:
    if (rc && t->cur.fd >= 0)
        tail_mark_start(t);
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
        struct timespec now;

        lsl_log_info("%s: %s does not exist yet; waiting for it", t->base.name,
                     t->path);
        tail_checkpoint_start(t);
        /* Files that come from now on, oldest first. */
        memset(&t->cur, 0, sizeof(t->cur));
        t->cur.fd = -1;
        if (clock_gettime(CLOCK_REALTIME, &now) == 0) {
            t->cur.mtime = now;
            tail_wait_since(t, &t->cur);
        }
        return 0;
    }
    tail_file_begin(t, &t->cur, t->start_at_end ? t->cur.size : 0);
    lsl_log_info("%s: following %s from its %s", t->base.name, t->cur.path,
                 t->start_at_end ? "end" : "beginning");
    tail_checkpoint_start(t);
    return 0;
}

/*
 * The checkpoint's file is gone, or it tells nothing of its content (none
 * yet: the source was waiting for its path; or empty when it was adopted,
 * so a copytruncate since cannot be recognized): count what is known to be
 * lost, go on with the oldest file written since.
 */
static int resume_gone(struct lsl_tail_source *t,
                       const struct lsl_checkpoint *cp)
{
    struct tail_file since;
    uint64_t lost = t->base.lost.bytes;
    bool had_file = cp->file.ino != 0 && cp->file.fp_len > 0;
    int rc;

    if (cp->file.ino != 0)
        tail_count_compressed(t, &cp->file, cp->mtime_ns, cp->offset,
                              "the checkpointed file");
    if (had_file && t->base.lost.bytes == lost)
        lsl_log_warn("%s: the file of the last checkpoint (inode %llu, byte "
                     "%llu) is gone: deleted, rewritten, or rotated and "
                     "compressed before it was read; what it held after "
                     "byte %llu is lost (how much is unknown)",
                     t->base.name, (unsigned long long)cp->file.ino,
                     (unsigned long long)cp->offset,
                     (unsigned long long)cp->offset);
    rc = cp->file.ino != 0 ? tail_skip_short_copies(t, cp) : 0;
    if (rc)
        return rc;
    memset(&since, 0, sizeof(since));
    since.fd = -1;
    since.mtime.tv_sec = cp->mtime_ns / 1000000000;
    since.mtime.tv_nsec = cp->mtime_ns % 1000000000;
    rc = tail_find_next(t, &since, true, &t->cur);
    if (rc)
        return rc;
    if (t->cur.fd < 0) {
        lsl_log_info("%s: nothing was written since; waiting for %s",
                     t->base.name, t->path);
        tail_wait_since(t, &since);
        return 0;
    }
    tail_file_begin(t, &t->cur, 0);
    lsl_log_info("%s: reading %s from the start (the oldest file written "
                 "since the checkpoint)",
                 t->base.name, t->cur.path);
    if (cp->in_line) {
        /* The overlong line the checkpoint was in cannot be finished. */
        t->base.sp.in_piece = true;
        rc = lsl_source_end_file(&t->base, &(struct lsl_pos){t->cur.gen, 0});
        if (rc)
            return rc;
    }
    tail_checkpoint_start(t);
    return 0;
}

static int resume(struct lsl_tail_source *t, const struct lsl_checkpoint *cp)
{
    int rc;

    /* Files read to their end before: not again, even if written to. */
    for (unsigned i = 0; i < cp->ndone; i++)
        tail_remember_finished(t, &cp->done[i]);
    t->lines = cp->lines;
    if (cp->file.fp_len == 0 && cp->offset == 0)
        return resume_gone(t, cp);
    rc = tail_find_checkpointed(t, cp, &t->cur);
    if (rc)
        return rc;
    if (t->cur.fd < 0)
        return resume_gone(t, cp);
    tail_file_begin(t, &t->cur, cp->offset);
    t->base.sp.in_piece = cp->in_line;
    lsl_log_info("%s: resuming %s at byte %llu%s", t->base.name, t->cur.path,
                 (unsigned long long)cp->offset,
                 cp->old_key ? " (checkpoint sealed with the previous "
                               "checkpoint key; the next commit seals it with "
                               "the current one)"
                             : "");
    return 0;
}

int tail_start_files(struct lsl_tail_source *t)
{
    struct lsl_checkpoint cp;
    int rc = lsl_checkpoint_load(t->state_dir, t->base.name, t->ckpt_key, &cp);

    if (rc == -ENOENT)
        return first_run(t);
    if (rc == 0)
        return resume(t, &cp);
    lsl_log_error("%s/%s.ckpt: cannot use this checkpoint: %s; repair or "
                  "remove it (without it the source starts as on its "
                  "first run)",
                  t->state_dir, t->base.name, lsl_strerror(rc));
    return rc;
}
