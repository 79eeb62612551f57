/* Private to the segment sink and its tests. */
#ifndef LSL_SEGMENT_INTERNAL_H
#define LSL_SEGMENT_INTERNAL_H

#include <stddef.h>

/*
 * How the segment sink appends a member: lsl_write_all unless a test
 * swaps in a failing writer to exercise the cut-back after a bad write.
 */
extern int (*lsl_segment_write_fn)(int fd, const void *buf, size_t len);

/* ---- where segments go (segname.c) ---- */

#include "logseal/sink.h"

struct lsl_segname {
    const char *out_dir;
    const char *source;
    const char *host;
    enum lsl_layout layout;
};

/*
 * The time that dates a segment from its first batch's first line:
 * line_time when it is a plausible one (not more than a day after the
 * arrival, not more than ten years before it), else the arrival: a
 * crafted timestamp cannot scatter segments over the calendar.
 */
int64_t lsl_segname_date(int64_t line_time, int64_t arrival);

/* The start of when's partition: its UTC day (default) or hour (hive). */
int64_t lsl_segname_partition(enum lsl_layout layout, int64_t when);

/* OUT/<source> or OUT/source=<source>. 0 or -ENAMETOOLONG. */
int lsl_segname_root(const struct lsl_segname *n, char *out, size_t cap);

/* The directory of a segment dated `when`. 0, -EINVAL or -ENAMETOOLONG. */
int lsl_segname_dir(const struct lsl_segname *n, int64_t when, char *out,
                    size_t cap);

/* The finished name (path) of segment (when, seq). Codes of _dir. */
int lsl_segname_file(const struct lsl_segname *n, int64_t when, unsigned seq,
                     char *out, size_t cap);

/* The date and seq in a segment name of this source and host. */
bool lsl_segname_parse(const struct lsl_segname *n, const char *path,
                       int64_t *when, unsigned *seq);

/* True if path (NAME or NAME.part) is where this sink puts such a name. */
bool lsl_segname_owns(const struct lsl_segname *n, const char *path);

/*
 * Call fn on every directory holding this sink's segments (the default
 * layout's date directories; the hive layout's host=<host> directories).
 * 0 or fn's non-zero value.
 */
int lsl_segname_each_dir(const struct lsl_segname *n,
                         int (*fn)(const char *dir, void *ud), void *ud);

#endif
