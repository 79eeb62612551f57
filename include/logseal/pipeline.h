/*
 * logseal — the pipeline: sources -> batches on the thread pool -> commit.
 *
 * Loop-thread API (only pipeline/, daemon/, source/ and sink/ use it). A source
 * embeds struct lsl_source, feeds bytes with lsl_source_feed() and says where
 * they end; full batches are processed on the libuv thread pool (match,
 * tokenize, gzip) and then committed strictly in order by one commit job at
 * a time: vault entries first (fsynced), then the sink. Only then does the
 * source hear, through ops->committed, that its bytes up to `pos` are
 * safely out — the moment it may checkpoint them.
 *
 * Backpressure: while more than max_inflight batches are between dispatch
 * and commit, the pipeline pauses every source (ops->pause) and resumes
 * them when the backlog halves. Nothing is dropped.
 *
 * Lifetime: the pipeline owns nothing it is given (keyring, vault writer,
 * rules, sinks are borrowed). lsl_pipeline_close() after every source has
 * drained; it must run on the loop thread with no jobs in flight.
 */
#ifndef LOGSEAL_PIPELINE_H
#define LOGSEAL_PIPELINE_H

#include <limits.h>
#include "logseal/batch.h"
#include "logseal/splitter.h"
#include "logseal/vault.h"
#include "logseal/vaultset.h"

/*
 * Sinks: where pseudonymized batches go. A small vtable. The pipeline calls
 * write() for batches in order, from a worker thread, never two at once for
 * one sink; sync() makes everything written so far durable. A sink that
 * fails a write leaves its output as it was before that write (files are
 * cut back), so the pipeline can retry the same batch without duplicating
 * or corrupting output.
 */
struct lsl_sink;

/* A sink's durable position: the file being written and its length. */
struct lsl_sink_state {
    char part[PATH_MAX]; /* "" when no file is open */
    uint64_t len;
};

struct lsl_checkpoint;
struct lsl_ckpt_key;

/* What a networked sink reports (metrics logseal_sink_*). */
struct lsl_sink_stats {
    uint64_t queued;  /* messages waiting for the broker now */
    uint64_t commits; /* transactions committed */
    uint64_t aborts;  /* transactions aborted (their batch is retried) */
    uint64_t retries; /* failed attempts retried (commit, connect) */
};

struct lsl_sink_ops {
    /* Append b->gz (gzip sinks) or b->out. 0 or -errno. */
    int (*write)(struct lsl_sink *s, const struct lsl_batch *b);
    /* Everything written is durable. 0 or -errno. May be NULL. */
    int (*sync)(struct lsl_sink *s);
    /*
     * Housekeeping at time `now` (unix s), serialized with writes: e.g.
     * finish a segment that reached its age. May be NULL.
     */
    int (*tick)(struct lsl_sink *s, int64_t now);
    /*
     * What is durably written so far, for the checkpoint the commit step
     * hands to the source (persist). May be NULL: nothing to resume.
     */
    void (*state)(const struct lsl_sink *s, struct lsl_sink_state *st);
    /*
     * Transactional sinks (Kafka; NULL for the others): write() opened a
     * transaction holding the batch; commit it with `cp`, the source's
     * checkpoint as of that batch (NULL: a source that keeps none), inside
     * it, so lines and checkpoint become visible together or not at all.
     * Without an open transaction, commits one holding only `cp` (a source
     * adopting a file). A failure leaves nothing of the batch committed
     * (retried: the pipeline calls write() again) or, when only the
     * outcome of the commit is unknown, keeps the transaction for the
     * retry's commit. 0, -EAGAIN (retry), or a fatal -errno (e.g. -EPERM:
     * another daemon took over this transactional id).
     */
    int (*commit)(struct lsl_sink *s, const struct lsl_checkpoint *cp);
    /* Delivery counters for metrics. May be NULL. Any thread. */
    void (*stats)(const struct lsl_sink *s, struct lsl_sink_stats *st);
    /*
     * Free the sink. With `finish`, first make the output final (fsync,
     * rename into place); without, leave what was written unfinished
     * (e.g. as .part) for inspection. 0 or -errno.
     */
    int (*close)(struct lsl_sink *s, bool finish);
};

struct lsl_sink {
    const struct lsl_sink_ops *ops;
    bool gzip;      /* wants the gzip member */
    bool sync_each; /* the pipeline calls sync() after each write */
    /* Checkpoints are committed through ops->commit: see it. */
    bool transactional;
    char desc[256]; /* path or "stdout", for messages */
};

struct lsl_pipeline;
struct lsl_source;
struct uv_loop_s; /* uv_loop_t: only the loop modules include <uv.h> */

struct lsl_source_ops {
    void (*pause)(struct lsl_source *s);
    void (*resume)(struct lsl_source *s);
    /*
     * Runs in the commit job (a worker thread, serialized with every other
     * commit) right after the sink wrote and synced batch `b` and the
     * batches committed with it (group commit), which hold `lines` input
     * lines in all, b's included: the place to save a checkpoint {b->pos,
     * sink state `st`} atomically. A failure is retried like a write
     * failure. May be NULL.
     */
    int (*persist)(struct lsl_source *s, const struct lsl_batch *b,
                   const struct lsl_sink_state *st, uint64_t lines);
    /* Loop thread, after persist: bytes up to `pos` are durable output.
     * May be NULL. */
    void (*committed)(struct lsl_source *s, const struct lsl_pos *pos);
    /* After lsl_source_eof(): every batch is committed. May be NULL. */
    void (*drained)(struct lsl_source *s);
};

/*
 * Input a source knows it lost before it could read it, counted on the
 * loop thread (metrics): nothing else is ever dropped.
 */
struct lsl_source_losses {
    uint64_t datagrams; /* syslog: dropped by the kernel (full buffer) or
                           not buffered (memory) */
    uint64_t bytes;     /* tail: abandoned, e.g. a rotation compressed or
                           truncated before it was read */
};

struct lsl_source {
    const struct lsl_source_ops *ops;
    struct lsl_pipeline *pl;
    char name[64];
    const struct lsl_rule *rule; /* borrowed; NULL = scrub only */
    struct lsl_sink *sink;       /* borrowed */
    struct lsl_splitter sp;
    struct lsl_batch *cur; /* being filled */
    struct lsl_buf header; /* last header line seen (W3C #Fields:) */
    uint64_t cur_started_ms;
    struct lsl_batch_stats st; /* committed */
    struct lsl_source_losses lost;
    unsigned inflight;
    bool eof;
    bool drained;            /* ops->drained was called or queued */
    struct lsl_source *next; /* pipeline's list */
};

struct lsl_pipeline_opts {
    struct uv_loop_s *loop; /* NULL: a loop of its own (lsl_pipeline_run) */
    /* borrowed; with `vaults`, ratcheted after each commit */
    struct lsl_keyring *keyring;
    /* borrowed; NULL: no vault (tests). One file per key epoch: a batch's
     * mappings are fsynced before its output is written (vaultset.h). */
    struct lsl_vault_set *vaults;
    int gzip_level;     /* 0: no gzip members */
    size_t batch_bytes; /* dispatch when a batch holds this much */
    unsigned flush_ms;  /* dispatch a partial batch after this long */
    unsigned max_inflight;
    size_t max_line;
    struct lsl_ip_override ip; /* for every worker */
    /* borrowed, may be NULL: erased subjects are written as a marker and
     * never mapped (token.h) */
    const struct lsl_stoplist *stop;
    uint8_t format;   /* enum lsl_out_format */
    uint8_t unparsed; /* enum lsl_unparsed */
    uint8_t columns;  /* enum lsl_columns */
    int64_t zone;     /* of times without one: seconds east of UTC */
    /* A commit failed with an error that retrying cannot fix. */
    void (*on_fatal)(struct lsl_pipeline *pl, int err, void *ud);
    /* Loop thread, every flush_ms while the pipeline runs (`pipe`: the
     * progress line, SIGUSR1 counters). May be NULL. */
    void (*on_tick)(struct lsl_pipeline *pl, void *ud);
    void *ud;
};

void lsl_pipeline_opts_init(struct lsl_pipeline_opts *o);

LSL_MUST_CHECK int lsl_pipeline_open(struct lsl_pipeline **out,
                                     const struct lsl_pipeline_opts *o);

/*
 * Stop timers; frees after their close callbacks. With a loop of its own,
 * runs it until every handle closed (sources closed just before included)
 * and closes it: the pipeline is gone when this returns. NULL-safe.
 */
void lsl_pipeline_close(struct lsl_pipeline *pl);

/* With a loop of its own: run it until sources and jobs are done. */
void lsl_pipeline_run(struct lsl_pipeline *pl);

/* Totals of committed batches, and vault entries written. */
void lsl_pipeline_totals(const struct lsl_pipeline *pl,
                         struct lsl_batch_stats *st, uint64_t *vault_new);

/* Attach a source (its ops, name, rule and sink set by the caller). */
LSL_MUST_CHECK int lsl_source_attach(struct lsl_pipeline *pl,
                                     struct lsl_source *s);

/* Detach and free the source's pipeline state (after drained). */
void lsl_source_detach(struct lsl_source *s);

/*
 * Feed bytes; `after` is the source position just past them. Complete
 * lines go into batches. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_source_feed(struct lsl_source *s, const char *data,
                                   size_t len, const struct lsl_pos *after);

/* End of input: the last partial line is taken, everything dispatched. */
LSL_MUST_CHECK int lsl_source_eof(struct lsl_source *s);

/*
 * Stop (daemon shutdown, file switch): dispatch the current batch but keep
 * an unfinished last line out of it (its bytes are not checkpointed, so a
 * restart reads them again). ops->drained runs once all is committed.
 */
LSL_MUST_CHECK int lsl_source_stop(struct lsl_source *s);

/*
 * The current input file ended at `end` (a tail source leaving a rotated,
 * truncated or deleted file): its unfinished last line goes out flagged
 * NOEOL, everything is dispatched with position `end`, and the source goes
 * on with another file (a carried line never joins the next file's bytes).
 */
LSL_MUST_CHECK int lsl_source_end_file(struct lsl_source *s,
                                       const struct lsl_pos *end);

/* Dispatch the current batch now (e.g. before switching files). */
LSL_MUST_CHECK int lsl_source_flush(struct lsl_source *s);

/*
 * Commit position `pos` without lines, in order after everything fed so
 * far: the source's persist() sees a batch with no lines at `pos` (e.g. a
 * tail source that moved to a new file checkpoints it before any of its
 * lines commit). The current batch is dispatched first. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_source_mark(struct lsl_source *s,
                                   const struct lsl_pos *pos);

/*
 * Save the checkpoint of source `s` (in its commit step's persist, or
 * while the pipeline is idle): a transactional sink commits it inside its
 * transaction first (ops->commit), then it is saved in `state_dir` as a
 * copy the next start reconciles with the sink's (lsl_checkpoint_save,
 * sealed with `key`). 0, -EAGAIN or -errno (logged by the caller).
 */
LSL_MUST_CHECK int lsl_source_checkpoint(struct lsl_source *s,
                                         const char *state_dir,
                                         const struct lsl_ckpt_key *key,
                                         const struct lsl_checkpoint *cp);

struct uv_loop_s *lsl_pipeline_loop(const struct lsl_pipeline *pl);

/*
 * True when no batch, commit or sink tick is in flight: the moment sources
 * may be detached and sinks closed (the tick job walks the source list and
 * touches sinks from a worker thread).
 */
bool lsl_pipeline_idle(const struct lsl_pipeline *pl);

/* True while the pipeline wants sources to hold off reading. */
bool lsl_pipeline_busy(const struct lsl_pipeline *pl);

/* How the commit step fares, for metrics and for the drain's messages. */
struct lsl_pipeline_health {
    bool blocked;             /* a commit failed and is being retried:
                                 every source is paused */
    bool paused;              /* sources held off: backlog or blocked */
    uint64_t commit_failures; /* failed commit attempts (each retried with
                                 backoff, or fatal) */
    uint64_t blocked_ms;      /* time spent blocked, the current spell
                                 included */
};

void lsl_pipeline_health(const struct lsl_pipeline *pl,
                         struct lsl_pipeline_health *h);

#endif
