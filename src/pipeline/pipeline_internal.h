/* Private to the pipeline: its state and the thread-pool jobs. */
#ifndef LSL_PIPELINE_INTERNAL_H
#define LSL_PIPELINE_INTERNAL_H

#include <uv.h>
#include "logseal/pipeline.h"

struct lsl_job;

struct lsl_pipeline {
    struct lsl_pipeline_opts o;
    uv_loop_t *own_loop; /* opts.loop was NULL: ours to close and free */
    uv_timer_t flush_timer;
    uv_timer_t retry_timer;
    int open_handles;
    bool closing;

    /* workers: created on demand, one per concurrently running job */
    uv_mutex_t wlock;
    struct lsl_worker **workers, **idle;
    size_t nworkers, nidle, cap_workers;

    struct lsl_batch *spare; /* reusable batches, linked via ->next */
    size_t nspare;

    uint64_t next_seq;          /* next batch to dispatch */
    uint64_t commit_seq;        /* next batch to commit */
    struct lsl_job *ready;      /* processed, sorted by seq */
    struct lsl_job *committing; /* at most one commit at a time */
    unsigned inflight;
    unsigned retry_ms;         /* > 0 while a failed commit is retried */
    uint64_t blocked_since_ms; /* loop time of the first failure */
    uint64_t blocked_ms;       /* earlier spells */
    uint64_t commit_failures;
    uint64_t last_tick_ms;
    bool ticking;
    bool paused;
    bool fatal;

    struct lsl_source *sources;
    struct lsl_batch_stats totals;
    uint64_t vault_new;

    /*
     * Vault files of epochs the key ratcheted past are retired only once
     * every batch that may have been tokenized before the ratchet is
     * committed (those dispatched before it became known, seq < seq):
     * such a batch can still hold mappings of an old epoch, and with that
     * epoch's key gone its file could not be opened again. Loop thread.
     */
    struct {
        uint32_t floor;   /* the keyring's oldest epoch, as last known */
        uint32_t pending; /* retire epochs below this ... */
        uint64_t seq;     /* ... in the commit of the batch with this seq */
    } retire;
};

/* Queue batch processing on the thread pool. 0 or negative code. */
int lsl_job_process(struct lsl_pipeline *pl, struct lsl_batch *b);

/*
 * Give every sink its tick (segment age) in a commit-serialized job, at
 * most once a second and only while no commit is running.
 */
void lsl_jobs_tick(struct lsl_pipeline *pl);

/* Free the pipeline if it is closing and nothing refers to it any more. */
void lsl_pipeline_release(struct lsl_pipeline *pl);

/* Free jobs left after a fatal error (their lines were never written). */
void lsl_jobs_free_all(struct lsl_pipeline *pl);

/* Called by the commit stage when b is durable: counts, frees, resumes. */
void lsl_pipeline_committed(struct lsl_pipeline *pl, struct lsl_batch *b,
                            uint64_t vault_new);

#endif
