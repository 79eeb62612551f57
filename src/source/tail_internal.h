/*
 * Private to the tail source: its state, shared by tail.c (reading and
 * the source ops), tail_file.c (identity, rotation candidates, the id
 * table) and tail_watch.c (inotify and the stat poll).
 */
#ifndef LSL_TAIL_INTERNAL_H
#define LSL_TAIL_INTERNAL_H

#include <limits.h>
#include <time.h>
#include <uv.h>
#include "logseal/checkpoint.h"
#include "logseal/source.h"

#define TAIL_IDS      32   /* generations whose batches may be in flight */
#define TAIL_FINISHED 8    /* files left behind: never adopted again */
#define TAIL_POLL_MS  500  /* stat poll: safety net under inotify */
#define TAIL_GRACE_MS 1000 /* idle time before leaving a rotated file */

struct tail_file {
    int fd;       /* -1: none */
    uint64_t gen; /* pos.file_id of its batches; 0 before use */
    struct lsl_file_id id;
    uint64_t start;  /* where reading began (lag) */
    uint64_t offset; /* next byte to read */
    uint64_t size;   /* at the last look */
    uint64_t nlink;
    struct timespec mtime;
    char path[PATH_MAX]; /* the name it had when opened */
};

struct tail_id {
    uint64_t gen; /* 0: free */
    struct lsl_file_id id;
};

enum tail_detach { DETACH_NONE, DETACH_ROTATED, DETACH_DELETED };

struct lsl_tail_source {
    struct lsl_source base;
    char path[PATH_MAX]; /* path or glob */
    char dir[PATH_MAX];
    char pattern[NAME_MAX + 1]; /* last component: a name or a glob */
    char state_dir[PATH_MAX];
    bool is_glob;
    bool start_at_end;
    size_t read_size;
    char *buf;

    uv_fs_event_t ev;
    uv_timer_t poll;
    uv_fs_t req;
    unsigned open_handles;
    bool reading, paused, stopping, stop_failed, drained, failed, done_called;
    void (*done)(void *);
    void *done_ud;

    struct tail_file cur;
    struct tail_file after; /* truncated original, read after its copy */
    uint64_t last_gen;
    enum tail_detach detached; /* of cur, once seen (logged once) */
    uint64_t idle_since_ms;

    struct lsl_file_id finished[TAIL_FINISHED];
    unsigned nfinished;

    uv_mutex_t lock; /* ids: the loop writes, persist reads */
    struct tail_id ids[TAIL_IDS];

    struct lsl_pos committed; /* loop thread */
    uint64_t lines;           /* commit job only */
};

/* ---- tail_file.c ---- */

/* Open a regular file for reading, identify it, look at it. 0 or -errno. */
int tail_file_open(struct tail_file *f, const char *path);
void tail_file_close(struct tail_file *f);

/*
 * fstat the file: size, mtime, links. Sets *rewritten if it shrank below
 * the read offset or its first bytes changed (truncated, maybe regrown).
 * 0 or -errno.
 */
int tail_file_look(struct tail_file *f, bool *rewritten);

/* Give f a new generation and publish its id for persist(). */
void tail_file_begin(struct lsl_tail_source *t, struct tail_file *f,
                     uint64_t offset);

/* Re-fingerprint f once more of its head exists (id covers more bytes). */
void tail_file_grow_fp(struct lsl_tail_source *t, struct tail_file *f);

/* Copy of the id of generation `gen` (commit job). False if unknown. */
bool tail_ids_get(struct lsl_tail_source *t, uint64_t gen,
                  struct lsl_file_id *id);

/* Has cur left its name (rotated) or been deleted? */
enum tail_detach tail_detached(struct lsl_tail_source *t);

/* Remember a file that was read to its end, so it is not adopted again. */
void tail_remember_finished(struct lsl_tail_source *t,
                            const struct lsl_file_id *id);

/*
 * The file to read after `prev` (rotation order: older names first), or
 * out->fd == -1 if none yet. 0 or -errno / -ENOMEM.
 */
int tail_find_next(struct lsl_tail_source *t, const struct tail_file *prev,
                   struct tail_file *out);

/* The file now at the path (newest match for a glob), or fd -1. */
int tail_find_current(struct lsl_tail_source *t, struct tail_file *out);

/* The file a checkpoint names, wherever rotation moved it, or fd -1. */
int tail_find_checkpointed(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp,
                           struct tail_file *out);

/* A copy of `orig` (copytruncate) holding bytes past orig->offset. */
int tail_find_copy(struct lsl_tail_source *t, const struct tail_file *orig,
                   struct tail_file *out);

/* ---- tail_watch.c ---- */

void tail_watch_init(struct lsl_tail_source *t);
/* Start inotify on the directory (poll only if that fails) and the poll. */
void tail_watch_start(struct lsl_tail_source *t);
/* Close both handles; tail_closed() runs after the last close. */
void tail_watch_close(struct lsl_tail_source *t);

/* ---- tail.c ---- */

/* Something may have changed: read, rotate, or wait. */
void tail_wake(struct lsl_tail_source *t);
void tail_closed(struct lsl_tail_source *t);

#endif
