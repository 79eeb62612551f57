/*
 * Private to the tail source: its state, shared by tail.c (reading, file
 * switches, the source ops), tail_start.c (first run, resume, persist),
 * tail_file.c (identity, rotation candidates, the id table), tail_gz.c
 * (rotations compressed before they were read) and tail_watch.c (inotify
 * and the stat poll).
 */
#ifndef LSL_TAIL_INTERNAL_H
#define LSL_TAIL_INTERNAL_H

#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>
#include "logseal/checkpoint.h"
#include "logseal/source.h"

#define TAIL_IDS      32  /* generations whose batches may be in flight */
#define TAIL_FINISHED 8   /* files left behind: never adopted again */
#define TAIL_COUNTED  16  /* compressed rotations already counted as lost */
#define TAIL_POLL_MS  500 /* stat poll: safety net under inotify */

struct tail_file {
    int fd;       /* -1: none */
    uint64_t gen; /* pos.file_id of its batches; 0 before use */
    struct lsl_file_id id;
    uint64_t start;  /* where reading began (lag) */
    uint64_t offset; /* next byte to read */
    uint64_t size;   /* at the last look */
    uint64_t nlink;
    struct timespec mtime;
    /* At the look before the last one: what the file was before a
     * truncation that the last look found. */
    uint64_t prev_size;
    struct timespec prev_mtime;
    /* When it came to be (birth time, else its mtime when reading began):
     * files written since are its successors; its own mtime is no bound,
     * a late write to it after its rotation moves it. */
    struct timespec born;
    /* When left: the fingerprint of the bytes before `offset`, so that only
     * a real copy (not a new file with the same head) counts as one. */
    uint32_t end_len;
    uint8_t end_fp[LSL_FP_BYTES];
    /* The id.fp_len bytes the fingerprint covers (log text: wiped on
     * close): a copy shorter than them is still recognized. */
    uint8_t head[LSL_FP_SPAN];
    struct lsl_head_marks marks; /* of head: for its checkpoints */
    char path[PATH_MAX];         /* the name it had when opened */
};

/* What persist() needs of a generation; guarded by the source's lock. */
struct tail_id {
    uint64_t gen; /* 0: free */
    struct lsl_file_id id;
    int64_t mtime_ns; /* as last seen */
    bool deleted;     /* no name left, as last seen */
    struct lsl_head_marks heads;
    uint64_t start; /* where reading began, and the fingerprint of the
                       bytes before it (a batch of no lines there) */
    uint32_t start_end_len;
    uint8_t start_end_fp[LSL_FP_BYTES];
    struct lsl_file_id done[LSL_CKPT_DONE]; /* finished before it began */
    unsigned ndone;
};

enum tail_detach { DETACH_NONE, DETACH_ROTATED, DETACH_DELETED };

struct lsl_tail_source {
    struct lsl_source base;
    char path[PATH_MAX]; /* path or glob */
    char dir[PATH_MAX];
    char pattern[NAME_MAX + 1]; /* last component: a name or a glob */
    char state_dir[PATH_MAX];
    const struct lsl_ckpt_key *ckpt_key; /* borrowed */
    bool is_glob;
    bool start_at_end;
    size_t read_size;
    unsigned grace_ms; /* idle time before leaving a rotated file */
    unsigned poll_ms;  /* stat poll period: TAIL_POLL_MS or less */
    char *buf;

    uv_fs_event_t ev;
    uv_timer_t poll;
    uv_fs_t req;
    unsigned open_handles;
    bool reading, paused, stopping, stop_failed, drained, failed, done_called;
    bool suspect; /* a read could not be verified: treat as rewritten */
    bool backlog; /* a read filled the buffer: more was waiting than fits */
    bool fed_any; /* bytes were fed: the sink may have written since */
    void (*done)(void *);
    void *done_ud;

    struct tail_file cur;
    /* copytruncate: the truncated original, read once the rotated copies
     * written before it (from the one holding cur's unread bytes on) are */
    struct tail_file after;
    /* While waiting for a file: the one left last (or the time reading
     * began), so the next is the oldest written since, not the newest. */
    struct tail_file since;
    bool waiting_since;
    uint64_t last_gen;
    enum tail_detach detached; /* of cur, once seen (logged once) */
    uint64_t idle_since_ms;

    struct lsl_file_id finished[TAIL_FINISHED];
    unsigned nfinished;
    struct lsl_file_id counted[TAIL_COUNTED]; /* dev/ino of .gz files */
    unsigned ncounted;

    uv_mutex_t lock; /* ids: the loop writes, persist reads */
    struct tail_id ids[TAIL_IDS];

    struct lsl_pos committed; /* loop thread */
    uint64_t lines;           /* commit job only */
};

/* ---- tail_file.c ---- */
/* Test seam: true to leave `path` out of look `pass` (0, 1, ...) at the
 * directory, as a look racing logrotate's renames can (NULL normally). */
extern bool (*lsl_tail_scan_miss)(const char *path, int pass);

/* Test seam: called before a listed candidate is opened by its name
 * (NULL normally). */
extern void (*lsl_tail_before_open)(const char *path);

/* Open a regular file for reading, identify it, look at it. 0 or -errno. */
int tail_file_open(struct tail_file *f, const char *path);
void tail_file_close(struct tail_file *f);

/*
 * fstat the file: size, mtime, links (the earlier ones kept as prev_*).
 * Sets *rewritten if it shrank below the read offset or its first bytes
 * changed (truncated, maybe regrown). 0 or -errno.
 */
int tail_file_look(struct lsl_tail_source *t, struct tail_file *f,
                   bool *rewritten);

/*
 * Give f a new generation starting at `offset` and publish its id (and
 * the fingerprint of the bytes before `offset`) for persist().
 */
void tail_file_begin(struct lsl_tail_source *t, struct tail_file *f,
                     uint64_t offset);

/* Identify f again (its head changed: a truncation). 0 or -errno. */
int tail_file_ident(struct tail_file *f);

/* Note the fingerprint of the bytes before f->offset (f is being left). */
void tail_file_mark_end(struct tail_file *f);

/* Fingerprint as much of f's head as exists now (up to LSL_FP_SPAN): a
 * copy of it is then recognized, a rewrite noticed. False if the file
 * changed since the last look (it is to be looked at again first). */
bool tail_file_grow_fp(struct lsl_tail_source *t, struct tail_file *f);

/* Copy of what generation `gen` was (commit job). False if unknown. */
bool tail_ids_get(struct lsl_tail_source *t, uint64_t gen, struct tail_id *e);

/* Has cur left its name (rotated) or been deleted? */
enum tail_detach tail_detached(struct lsl_tail_source *t);

/* Remember a file that was read to its end, so it is not adopted again
 * (persisted: the last LSL_CKPT_DONE go into each checkpoint). */
void tail_remember_finished(struct lsl_tail_source *t,
                            const struct lsl_file_id *id);
bool tail_was_finished(const struct lsl_tail_source *t,
                       const struct lsl_file_id *id);

/*
 * The file to read after `prev`, oldest first: the candidate right after
 * it in rotation order while prev is still listed; otherwise (or with
 * `by_time`) the oldest written since prev->mtime. Never prev's inode, a
 * copy of prev's head, a finished or a compressed file. out->fd == -1 if
 * none yet. 0 or -errno / -ENOMEM.
 */
int tail_find_next(struct lsl_tail_source *t, const struct tail_file *prev,
                   bool by_time, struct tail_file *out);

/* As tail_find_next by time, among non-empty rotated names only (never
 * the file at the path) and, where birth times are known, born since
 * prev->mtime: a copy rotation made since. */
int tail_find_rotated_since(struct lsl_tail_source *t,
                            const struct tail_file *prev,
                            struct tail_file *out);

/* The file now at the path (newest match for a glob), or fd -1. */
int tail_find_current(struct lsl_tail_source *t, struct tail_file *out);

/*
 * The file a checkpoint names, wherever rotation moved it (by inode, or a
 * copy by its head), holding the checkpoint's bytes before the offset;
 * or fd -1.
 */
int tail_find_checkpointed(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp,
                           struct tail_file *out);

/*
 * Rotated files that are copies of the checkpoint's file taken before its
 * last read bytes were written (shorter than its offset, last written no
 * later than it was last seen, holding its first bytes): their lines are
 * committed, so they are remembered as finished, never read. For a
 * restart that does not find the file itself (truncated since).
 */
int tail_skip_short_copies(struct lsl_tail_source *t,
                           const struct lsl_checkpoint *cp);

/* A copy of `orig` (copytruncate) holding at least orig->offset bytes. */
int tail_find_copy(struct lsl_tail_source *t, const struct tail_file *orig,
                   struct tail_file *out);

/* Every rotation candidate's path and stat, oldest first (compressed ones
 * only with `compressed`); free(*out). */
struct tail_cand {
    char path[PATH_MAX];
    struct stat st;
    int64_t btime_ns;   /* birth time, 0 where unknown */
    unsigned long rank; /* .N suffix */
    bool is_path;
    bool compressed;
};
int tail_cands(const struct lsl_tail_source *t, bool compressed,
               struct tail_cand **out, size_t *n);

/* ---- tail_gz.c ---- */

/*
 * Count (lost.bytes, a warning each) what compressed rotations written
 * since `prev` was last seen hold unread: a compressed copy of prev from
 * `offset` on, or a whole other rotation. Each .gz is counted once. True
 * if a compressed copy of prev was found.
 */
bool tail_count_compressed(struct lsl_tail_source *t,
                           const struct lsl_file_id *prev, int64_t mtime_ns,
                           uint64_t offset, const char *prev_path);

/* ---- tail_start.c ---- */

/* First run or resume from the checkpoint: the file to read first. */
int tail_start_files(struct lsl_tail_source *t);

/*
 * Checkpoint where reading begins (cur at its start, or "nothing before
 * now" while waiting for the path): at once while this source has fed
 * nothing, else through the pipeline (tail_mark_start).
 */
void tail_checkpoint_start(struct lsl_tail_source *t);

/* persist() of the source ops (commit job). */
int tail_persist(struct lsl_source *s, const struct lsl_batch *b,
                 const struct lsl_sink_state *st, uint64_t lines);

/* ---- tail_watch.c ---- */

void tail_watch_init(struct lsl_tail_source *t);
/* Start inotify on the directory (poll only if that fails) and the poll. */
void tail_watch_start(struct lsl_tail_source *t);
/* Close both handles; tail_closed() runs after the last close. */
void tail_watch_close(struct lsl_tail_source *t);

/* ---- tail.c ---- */

/* Test seam: called as a read at `offset` is about to be issued, before
 * the head is fingerprinted (NULL normally). */
extern void (*lsl_tail_before_read)(struct lsl_tail_source *t, uint64_t offset);

/* Something may have changed: read, rotate, or wait. */
void tail_wake(struct lsl_tail_source *t);
void tail_closed(struct lsl_tail_source *t);

/* Wait for a file written after `prev` (its id and mtime are kept). */
void tail_wait_since(struct lsl_tail_source *t, const struct tail_file *prev);

/* Checkpoint cur's start through the pipeline (after its predecessor's
 * lines); logged on failure, which only widens a crash's re-read. */
void tail_mark_start(struct lsl_tail_source *t);

/* Add n abandoned bytes to the source's losses. */
void tail_lost(struct lsl_tail_source *t, uint64_t n);

static inline int64_t tail_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

#endif
