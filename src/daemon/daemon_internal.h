/*
 * Private to the daemon: one "run" is everything opened from one
 * configuration (keys, rules, vault writer, sinks, sources, pipeline); a
 * reload drains one run and starts the next. The metrics endpoint outlives
 * runs and asks the daemon for its text on each request.
 */
#ifndef LSL_DAEMON_INTERNAL_H
#define LSL_DAEMON_INTERNAL_H

#include <stdio.h>
#include <uv.h>
#include "logseal/buf.h"
#include "logseal/config.h"

struct lsl_run;

enum lsl_run_event {
    LSL_RUN_IDLE,    /* every source ended by itself (stdin at its end) */
    LSL_RUN_FATAL,   /* output cannot be written: stop without draining */
    LSL_RUN_STOPPED, /* lsl_run_stop finished; err says how */
};

struct lsl_run_opts {
    uv_loop_t *loop;
    void (*event)(struct lsl_run *r, enum lsl_run_event ev, int err, void *ud);
    void *ud;
};

/*
 * Load what `cfg` needs before anything is opened: rules of every source,
 * hash key, vault public key. Errors are logged with file and line. Takes
 * `cfg` on success. 0, LSL_ECONFIG, LSL_ERULE, LSL_EKEYPERM, -errno...
 */
LSL_MUST_CHECK int lsl_run_prepare(struct lsl_run **out,
                                   struct lsl_config *cfg);

/* Print the sources, rules and outputs that would run, and where each
 * source would resume. 0, or the error of a checkpoint the start would
 * refuse (said in the output). */
LSL_MUST_CHECK int lsl_run_describe(const struct lsl_run *r, FILE *f);

/*
 * Open the vault writer, sinks, pipeline and sources, and start reading.
 * On failure (logged) call lsl_run_stop to undo what was opened.
 */
LSL_MUST_CHECK int lsl_run_start(struct lsl_run *r,
                                 const struct lsl_run_opts *o);

/*
 * Drain: stop every source, wait until every batch is committed, finish
 * sinks and the vault file off the loop thread, then report
 * LSL_RUN_STOPPED. Idempotent.
 */
void lsl_run_stop(struct lsl_run *r);

/* Free a run that is stopped or never started. NULL-safe. */
void lsl_run_free(struct lsl_run *r);

const struct lsl_config *lsl_run_config(const struct lsl_run *r);

/*
 * Carry the counters of a stopped run into the run that replaces it (a
 * reload): each source of `next` starts from the totals of the source of
 * the same name in `old`, and so does the vault count, so the counters
 * stay monotonic across reloads as Prometheus expects of a counter.
 */
void lsl_run_carry(struct lsl_run *next, const struct lsl_run *old);

/* One stderr line of counters per source (SIGUSR1). */
void lsl_run_dump(const struct lsl_run *r);

/* True while the output cannot be written and commits are retried. */
bool lsl_run_blocked(const struct lsl_run *r);

/* Append this run's counters in Prometheus text format. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_run_metrics(const struct lsl_run *r,
                                   struct lsl_buf *out);

/*
 * Tell the service manager `state` ("READY=1", "RELOADING=1",
 * "STOPPING=1", "STATUS=...": sd_notify's words) through the datagram
 * socket $NOTIFY_SOCKET names; nothing without it. 0 or -errno (logged
 * at debug level: the daemon runs the same without a supervisor).
 */
int lsl_daemon_notify(const char *state);

/* ---- metrics endpoint ---- */

struct lsl_metrics;

struct lsl_metrics_opts {
    uv_loop_t *loop;
    const char *listen; /* loopback host:port, checked by the config */
    /* Fill `out` with the response body. 0 or -ENOMEM. */
    int (*render)(struct lsl_buf *out, void *ud);
    void *ud;
};

/* Listen and serve. 0 or negative code (logged). */
LSL_MUST_CHECK int lsl_metrics_open(struct lsl_metrics **out,
                                    const struct lsl_metrics_opts *o);

/* Stop listening, drop clients; frees after the close callbacks. */
void lsl_metrics_close(struct lsl_metrics *m);

#endif
