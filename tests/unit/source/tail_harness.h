/*
 * Test harness for the tail source: a real libuv loop, the real pipeline
 * (scrubber only, test key), and an in-memory sink whose text outlives
 * restarts, so a test can stop the source, change files, start it again
 * and check that every line came out exactly once.
 */
#ifndef LSL_TEST_TAIL_HARNESS_H
#define LSL_TEST_TAIL_HARNESS_H

#include <limits.h>
#include <uv.h>
#include "logseal/source.h"
#include "mem_sink.h"

struct harness {
    char root[64];
    char dir[128];   /* log directory */
    char state[128]; /* checkpoints */
    char path[160];  /* the followed path or glob */
    uv_loop_t loop;
    uv_timer_t tick;
    struct lsl_keyring *kr;
    struct lsl_ckpt_key *ckey; /* seals the checkpoints */
    struct lsl_pipeline *pl;
    struct lsl_tail_source *t;
    struct mem_sink sink;
    bool start_at_end;
    unsigned rotate_wait_ms; /* 50 unless a test needs late writers */
    unsigned max_inflight;   /* 0: the pipeline's default */
    unsigned flush_ms;       /* 0: 20 */
    bool stopped;
    size_t snap_out; /* sink text length at h_snapshot */
};

/* Temp directories and the sink; `name` is the followed file name. */
void h_setup(struct harness *h, const char *name);
void h_teardown(struct harness *h);

/* Open the pipeline and the tail source, and start it. */
void h_start(struct harness *h);
/* Stop the source, wait for its last commit, free source and pipeline. */
void h_stop(struct harness *h);

/* Run the loop until the sink holds `n` lines or `ms` pass. */
void h_run_lines(struct harness *h, size_t n, unsigned ms);
/* Run the loop for `ms`. */
void h_run(struct harness *h, unsigned ms);
/* Run the loop until the source is `lag` bytes behind the end of its
 * file (everything else read and committed); false after 5 * `ms`. */
bool h_run_lag(struct harness *h, uint64_t lag, unsigned ms);

/* Forget the output so far. */
void h_sink_clear(struct harness *h);
/* Lines the sink holds, joined by '|' (no trailing separator). */
const char *h_output(struct harness *h);
size_t h_lines(struct harness *h);

/* File helpers, paths relative to h->dir. */
void h_append(struct harness *h, const char *name, const char *text);
void h_rename(struct harness *h, const char *from, const char *to);
void h_truncate(struct harness *h, const char *name);
void h_unlink(struct harness *h, const char *name);
void h_copy(struct harness *h, const char *from, const char *to);
/* Give `name` the mtime of `as`, as two writes in one tick of the file
 * system's clock have. */
void h_same_mtime(struct harness *h, const char *name, const char *as);
/* gzip `from` into `to` and remove `from`, as logrotate's compress does. */
void h_gzip(struct harness *h, const char *from, const char *to);
/* Rewrite `name` in place (same inode): truncate, then write `text`. */
void h_rewrite(struct harness *h, const char *name, const char *text);

/*
 * A kill -9 at a chosen moment: h_snapshot copies the state directory and
 * notes how much output there is; later (the source stopped) h_crash puts
 * both back as they were at the snapshot, as after a crash there.
 */
void h_snapshot(struct harness *h);
void h_crash(struct harness *h);

#endif
