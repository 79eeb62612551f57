/*
 * Tail source: wake-ups. inotify (uv_fs_event) on the directory catches
 * writes, creations and renames as they happen, which keeps the
 * copytruncate window small; a stat poll every poll_ms is the safety
 * net (lost events, filesystems without inotify) and times the rotate
 * wait of rotated files. Both handles are embedded in the source, which
 * is freed only after both close callbacks ran.
 */
#include <fnmatch.h>
#include <string.h>
#include "logseal/log.h"
#include "tail_internal.h"

static void on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    struct lsl_tail_source *t = h->data;
    size_t n = strlen(t->pattern);

    (void)events;
    if (status < 0) {
        lsl_log_warn("%s: watching %s failed: %s; polling", t->base.name,
                     t->dir, uv_strerror(status));
        return;
    }
    /* Only the path, its rotation names or the glob's matches matter. */
    if (name && (t->is_glob ? fnmatch(t->pattern, name, 0) != 0
                            : strncmp(name, t->pattern, n) != 0))
        return;
    tail_wake(t);
}

static void on_poll(uv_timer_t *h)
{
    tail_wake(h->data);
}

void tail_watch_init(struct lsl_tail_source *t)
{
    uv_loop_t *loop = lsl_pipeline_loop(t->base.pl);

    uv_fs_event_init(loop, &t->ev);
    uv_timer_init(loop, &t->poll);
    t->ev.data = t;
    t->poll.data = t;
}

void tail_watch_start(struct lsl_tail_source *t)
{
    int rc = uv_fs_event_start(&t->ev, on_event, t->dir, 0);

    if (rc)
        lsl_log_warn("%s: cannot watch %s (%s); noticing changes by "
                     "polling every %u ms",
                     t->base.name, t->dir, uv_strerror(rc), t->poll_ms);
    uv_timer_start(&t->poll, on_poll, t->poll_ms, t->poll_ms);
}

static void on_closed(uv_handle_t *h)
{
    struct lsl_tail_source *t = h->data;

    if (--t->open_handles == 0)
        tail_closed(t);
}

void tail_watch_close(struct lsl_tail_source *t)
{
    t->open_handles = 2;
    uv_close((uv_handle_t *)&t->ev, on_closed);
    uv_close((uv_handle_t *)&t->poll, on_closed);
}
