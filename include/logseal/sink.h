/*
 * logseal — sinks: where pseudonymized batches go.
 *
 * A small vtable. The pipeline calls write() for batches in order, from a
 * worker thread, never two at once for one sink; sync() makes everything
 * written so far durable. A sink that fails a write leaves its output as
 * it was before that write (files are cut back), so the pipeline can retry
 * the same batch without duplicating or corrupting output.
 */
#ifndef LOGSEAL_SINK_H
#define LOGSEAL_SINK_H

#include "logseal/batch.h"

struct lsl_sink;

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
    char desc[256]; /* path or "stdout", for messages */
};

/*
 * Pipe-mode output: `path` NULL or "-" writes plain text to stdout;
 * otherwise gzip members go to path.part, fsynced and renamed to `path` by
 * close (readers never see a half-written file). 0 or -errno.
 */
LSL_MUST_CHECK int lsl_file_sink_open(struct lsl_sink **out, const char *path);

/* ---- segments: the daemon's gzip output files ---- */

struct lsl_checkpoint;

struct lsl_segment_opts {
    const char *out_dir; /* OUTDIR */
    const char *source;  /* files: OUTDIR/<source>/<YYYY-MM-DD>/
                            <source>-<YYYYmmddTHHMMSSZ>-<seq>.log.gz */
    uint64_t max_bytes;  /* finish a segment at this size */
    uint64_t max_age;    /* ... or this age, seconds */
    /* The checkpoint of the last run, or NULL: its .part is cut back to
     * the committed length and continued. */
    const struct lsl_checkpoint *resume;
};

/*
 * Gzip segments: each batch's member is appended to OUTDIR/.../NAME.part;
 * a segment is finished (fsync, rename to NAME, fsync dir) by size, by age
 * (tick), or by close. sync_each is set: every batch is fsynced before its
 * checkpoint. 0 or -errno.
 */
LSL_MUST_CHECK int lsl_segment_sink_open(struct lsl_sink **out,
                                         const struct lsl_segment_opts *o);

/* Current .part path ("" if none) and committed length, for checkpoints. */
void lsl_segment_sink_state(const struct lsl_sink *s, char *part, size_t cap,
                            uint64_t *len);

#endif
