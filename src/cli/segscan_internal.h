/*
 * Reading pseudonymized segments for the officer commands that look for
 * a subject's lines (disclose, identify): gzip (multi-member) or plain
 * files line by line, and a line's own time (see segscan.c).
 */
#ifndef LSL_CLI_SEGSCAN_INTERNAL_H
#define LSL_CLI_SEGSCAN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "logseal/buf.h"

/* lsl_cli_line_time: the line has no recognizable time. */
#define LSL_CLI_NO_TIME INT64_MIN

/*
 * A time as officers give it and logs write it: YYYY-MM-DD, ISO 8601
 * (with or without fraction and offset; UTC without), or a CLF stamp.
 */
bool lsl_cli_parse_time(const char *s, size_t len, int64_t *t);

/*
 * A line's own time: its CLF "[...]" stamp, else the first ISO 8601
 * date-time in it; LSL_CLI_NO_TIME if neither.
 */
int64_t lsl_cli_line_time(const char *s, size_t len);

/*
 * Call fn(line, len, lineno, ud) for every line of the segment at path
 * (gzip or plain; without its newline and a CR before it) until fn
 * returns non-zero (returned). 0, or -errno / -EIO (damaged gzip data
 * after line N), logged with the file.
 */
int lsl_cli_segment_each(const char *path, struct lsl_buf *line,
                         int (*fn)(const char *s, size_t len, uint64_t no,
                                   void *ud),
                         void *ud);

/* The segment files a command reads (segtree.c). */
struct lsl_cli_segments {
    char **v; /* malloc'd paths */
    size_t n;
    size_t pruned; /* partitions skipped by the time range */
};

/*
 * The files among paths, and the finished segments (not .part, not
 * hidden) under the directories among them, walked without following
 * symbolic links, in name order per directory. A partition directory
 * (hive dt=YYYY-MM-DD and hour=HH, or the default layout's YYYY-MM-DD)
 * whose time lies wholly outside [from, to) (LSL_CLI_NO_TIME: unbounded),
 * widened by an hour on each side, is skipped. 0, -ENOMEM or -errno (a
 * directory that cannot be read; logged).
 */
int lsl_cli_segment_tree(char *const *paths, size_t n, int64_t from, int64_t to,
                         struct lsl_cli_segments *out);
void lsl_cli_segments_free(struct lsl_cli_segments *s);

#endif
