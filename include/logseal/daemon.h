/*
 * logseal — entry points that run the pipeline on an event loop. The CLI
 * calls these and never sees libuv.
 */
#ifndef LOGSEAL_DAEMON_H
#define LOGSEAL_DAEMON_H

#include <limits.h>
#include <stdio.h>
#include "logseal/batch.h"

/* `logseal pipe`: one fd source, one file/stdout sink, one vault file. */
struct lsl_pipe_opts {
    const char *rule;     /* NAME or path */
    const char *keys_dir; /* needs hash.key and vault.pub */
    const char *vault_dir;
    const char *in_path;  /* NULL: stdin */
    const char *out_path; /* NULL or "-": plain text on stdout */
    const char *source;   /* name stored in vault records */
    int level;            /* gzip level 1-9 */
    size_t max_line;
    struct lsl_ip_override ip; /* --ip-mode: every ip span, all rules */
    uint8_t format;            /* enum lsl_out_format (--format) */
};

struct lsl_pipe_result {
    struct lsl_batch_stats st;
    uint64_t vault_new;
    char rule_name[64];
    char vault_path[PATH_MAX];
};

void lsl_pipe_opts_init(struct lsl_pipe_opts *o);

/*
 * Run to the end of input. Errors are logged with the file and what to do;
 * the return code says which kind: 0, LSL_ERULE, LSL_EKEYPERM, -errno, ...
 */
LSL_MUST_CHECK int lsl_pipe_run(const struct lsl_pipe_opts *o,
                                struct lsl_pipe_result *res);

/*
 * `logseal run`: load the configuration file (format: config.h), its
 * rules and keys, then run every source until SIGTERM/SIGINT (drain, exit)
 * or until every source has ended (stdin). SIGHUP reloads (a broken new
 * configuration is logged and the old one keeps running), SIGUSR1 prints
 * counters. Events are logged one line each with timestamps. Returns 0
 * after a clean drain, else the first error (already logged).
 */
LSL_MUST_CHECK int lsl_daemon_run(const char *config_path);

/*
 * `logseal run --check`: load the configuration, rules and keys as
 * lsl_daemon_run would, print what would run to `out`, open nothing.
 * 0 or the first error (logged with file and line).
 */
LSL_MUST_CHECK int lsl_daemon_check(const char *config_path, FILE *out);

#endif
