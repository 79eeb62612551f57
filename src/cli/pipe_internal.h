/*
 * `logseal pipe`: the pipeline with a descriptor source and one sink, on a
 * loop of the pipeline's own (pipe_run.c).
 */
#ifndef LSL_CLI_PIPE_INTERNAL_H
#define LSL_CLI_PIPE_INTERNAL_H

#include <limits.h>
#include "logseal/batch.h"
#include "logseal/file.h"

/* `logseal pipe`: one fd source, one file/stdout sink, one vault file. */
struct lsl_pipe_opts {
    const char *rule;      /* NAME or path */
    const char *keys_dir;  /* needs hash.key and vault.pub */
    const char *state_dir; /* writer-HEX.state; NULL: keys_dir */
    const char *vault_dir;
    const char *in_path;         /* NULL: stdin */
    const char *out_path;        /* NULL or "-": plain text on stdout */
    const char *source;          /* name stored in vault records */
    char host[LSL_HOST_MAX + 1]; /* --host, else the hostname */
    int level;                   /* gzip level 1-9 */
    size_t max_line;
    struct lsl_ip_override ip; /* --ip-mode: every ip span, all rules */
    uint8_t format;            /* enum lsl_out_format (--format) */
    uint8_t unparsed;          /* enum lsl_unparsed (--unparsed) */
    uint8_t columns;           /* enum lsl_columns (--columns) */
    int64_t zone;              /* --timezone: seconds east of UTC */
    int progress;              /* 1 --progress, 0 --no-progress, -1: if
                                  stderr is a terminal */
};

struct lsl_pipe_result {
    struct lsl_batch_stats st;
    uint64_t vault_new;
    char rule_name[64];
    char vault_path[PATH_MAX];
};

void lsl_pipe_opts_init(struct lsl_pipe_opts *o);

/* ---- the progress line (progress.c) ---- */

struct lsl_gunzip;

struct lsl_progress {
    bool on;
    int in_fd;                   /* regular input file, or -1 */
    uint64_t in_size;            /* its size */
    const struct lsl_gunzip *gz; /* gzip input: compressed bytes read */
    uint64_t start_ms;
    bool drawn;
};

/*
 * Start timing; `on`: draw at all. The percentage and ETA need in_fd to
 * be a regular file (its read position, or gz's consumed bytes, against
 * its size). Log lines erase the progress line while it is on.
 */
void lsl_progress_init(struct lsl_progress *p, bool on, int in_fd,
                       const struct lsl_gunzip *gz);

/* Draw the line for the committed counters `st` (loop thread). */
void lsl_progress_draw(struct lsl_progress *p,
                       const struct lsl_batch_stats *st);

/* Erase the line (the run ended). */
void lsl_progress_clear(struct lsl_progress *p);

/*
 * Run to the end of input. Errors are logged with the file and what to do;
 * the return code says which kind: 0, LSL_ERULE, LSL_EKEYPERM, -errno, ...
 */
LSL_MUST_CHECK int lsl_pipe_run(const struct lsl_pipe_opts *o,
                                struct lsl_pipe_result *res);

#endif
