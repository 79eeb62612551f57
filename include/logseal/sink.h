/*
 * logseal — the sinks: pipe-mode output and the daemon's gzip segments.
 * Each implements the sink contract of pipeline.h.
 */
#ifndef LOGSEAL_SINK_H
#define LOGSEAL_SINK_H

#include "logseal/pipeline.h"

/*
 * Pipe-mode output: `path` NULL or "-" writes plain text to stdout;
 * otherwise the name says what is written: plain text when it ends in
 * .log, .jsonl, .ndjson, .json or .txt (`--out x.jsonl` used to be gzip
 * all the same), gzip members for any other name (.gz, a FIFO, a
 * device). Either goes to path.part, fsynced and renamed to `path` by
 * close (readers never see a half-written file) when `path` is new or a
 * regular file; to `path` itself, never replaced, when it is a FIFO or a
 * character device. A stale path.part is removed, never followed.
 * 0, -ELOOP (`path` is a symbolic link: refused), -EISDIR, -EINVAL
 * (another kind of file), or -errno.
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
    /*
     * The source reads what was not committed again after a crash (tail,
     * from its checkpoint): a .part the checkpoint does not name holds
     * only such lines and is removed. Without (syslog, stdin: nothing can
     * be read twice), every .part left by a crash holds committed lines:
     * it is cut back to its last whole gzip member and finished.
     */
    bool input_replays;
};

/*
 * Gzip segments: each batch's member is appended to OUTDIR/.../NAME.part;
 * a segment is finished (fsync, rename to NAME, fsync dir) by size, by age
 * (tick), or by close, but never inside an overlong line (a batch ending
 * in its pieces): the line stays in one file. Names are never used twice
 * by one sink, even when finished segments are moved away at once.
 * sync_each is set: every batch is fsynced before its checkpoint. 0 or
 * -errno.
 */
LSL_MUST_CHECK int lsl_segment_sink_open(struct lsl_sink **out,
                                         const struct lsl_segment_opts *o);

#endif
