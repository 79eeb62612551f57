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
#include "logseal/buf.h"
#include "logseal/source.h"

struct mem_sink {
    struct lsl_sink base;
    uv_mutex_t lock;
    struct lsl_buf out;
};

struct harness {
    char root[64];
    char dir[128];   /* log directory */
    char state[128]; /* checkpoints */
    char path[160];  /* the followed path or glob */
    uv_loop_t loop;
    uv_timer_t tick;
    struct lsl_keyring *kr;
    struct lsl_pipeline *pl;
    struct lsl_tail_source *t;
    struct mem_sink sink;
    bool start_at_end;
    bool stopped;
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

/* Lines the sink holds, joined by '|' (no trailing separator). */
const char *h_output(struct harness *h);
size_t h_lines(struct harness *h);

/* File helpers, paths relative to h->dir. */
void h_append(struct harness *h, const char *name, const char *text);
void h_rename(struct harness *h, const char *from, const char *to);
void h_truncate(struct harness *h, const char *name);
void h_unlink(struct harness *h, const char *name);
void h_copy(struct harness *h, const char *from, const char *to);

#endif
