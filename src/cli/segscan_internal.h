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

#endif
