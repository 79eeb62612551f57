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

/* How segments are laid out under OUTDIR (config key `layout`). */
enum lsl_layout {
    LSL_LAYOUT_DEFAULT = 0, /* OUT/<source>/<YYYY-MM-DD>/NAME */
    LSL_LAYOUT_HIVE,        /* OUT/source=/dt=/hour=/host=/NAME */
};

struct lsl_checkpoint;

struct lsl_segment_opts {
    const char *out_dir;    /* OUTDIR */
    const char *source;     /* one path component, no '=' */
    const char *host;       /* host id (file.h), required */
    enum lsl_layout layout; /* default: OUTDIR/<source>/<YYYY-MM-DD>/;
                             * hive: OUTDIR/source=<source>/
                             * dt=<YYYY-MM-DD>/hour=<HH>/host=<host>/;
                             * names <source>-<host>-<YYYYmmddTHHMMSSZ>-
                             * <seq>.log.gz, dated by the first line */
    uint64_t max_bytes;     /* finish a segment at this size */
    uint64_t max_age;       /* ... or this age, seconds */
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
 * (tick), or by close, and when a batch's first line falls in another
 * partition, but never inside an overlong line (a batch ending in its
 * pieces): the line stays in one file. Names are never used twice by one
 * sink, even when finished segments are moved away at once. sync_each is
 * set: every batch is fsynced before its checkpoint. 0, -EINVAL (a bad
 * source name or host id) or -errno.
 */
LSL_MUST_CHECK int lsl_segment_sink_open(struct lsl_sink **out,
                                         const struct lsl_segment_opts *o);

#endif
