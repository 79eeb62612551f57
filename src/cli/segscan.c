/*
 * Pseudonymized segments, read by the officer commands that look for a
 * subject's lines (segscan_internal.h): gzip or plain text line by line
 * (zlib reads both, multi-member gzip as one stream), and a line's own
 * time from its CLF stamp or its first ISO 8601 date-time.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include "logseal/common.h"
#include "logseal/log.h"
#include "logseal/rules.h"
#include "segscan_internal.h"

bool lsl_cli_parse_time(const char *s, size_t len, int64_t *t)
{
    static const char *const fmts[] = {
        "%Y-%m-%dT%H:%M:%S%z",  "%Y-%m-%dT%H:%M:%S.%f%z",
        "%Y-%m-%dT%H:%M:%S",    "%Y-%m-%d",
        "%d/%b/%Y:%H:%M:%S %z",
    };

    for (size_t i = 0; i < LSL_ARRAY_SIZE(fmts); i++) {
        if (lsl_time_parse(fmts[i], s, len, t) == 0)
            return true;
    }
    return false;
}

static bool iso_start(const char *s, size_t left)
{
    static const char shape[] = "dddd-dd-ddT";

    if (left < sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        bool digit = s[i] >= '0' && s[i] <= '9';

        if (shape[i] == 'd' ? !digit : s[i] != shape[i])
            return false;
    }
    return true;
}

int64_t lsl_cli_line_time(const char *s, size_t len)
{
    const char *open = memchr(s, '[', len), *close;
    int64_t t;

    if (open && (close = memchr(open, ']', len - (size_t)(open - s))) &&
        lsl_cli_parse_time(open + 1, (size_t)(close - open - 1), &t))
        return t;
    for (size_t i = 0; i < len; i++) {
        size_t end = i;

        if (!iso_start(s + i, len - i))
            continue;
        while (end < len && !strchr("\" ,}]", s[end]))
            end++;
        if (lsl_cli_parse_time(s + i, end - i, &t))
            return t;
    }
    return LSL_CLI_NO_TIME;
}

/* Read one line (without its newline) into line. 1 at end of file. */
static int read_line(struct lsl_buf *line, gzFile gz)
{
    char chunk[8192];
    int err;

    lsl_buf_reset(line);
    while (gzgets(gz, chunk, sizeof(chunk))) {
        size_t n = strlen(chunk);
        int rc = lsl_buf_append(line, chunk, n);

        if (rc)
            return rc;
        if (n && chunk[n - 1] == '\n') {
            line->len--;
            if (line->len && line->p[line->len - 1] == '\r')
                line->len--;
            return 0;
        }
    }
    gzerror(gz, &err);
    if (err != Z_OK && err != Z_STREAM_END)
        return -EIO;
    return line->len ? 0 : 1;
}

int lsl_cli_segment_each(const char *path, struct lsl_buf *line,
                         int (*fn)(const char *s, size_t len, uint64_t no,
                                   void *ud),
                         void *ud)
{
    gzFile gz = gzopen(path, "rb");
    uint64_t no = 0;
    int rc;

    if (!gz) {
        rc = errno ? -errno : -ENOMEM;
        lsl_log_error("%s: cannot open: %s", path, lsl_strerror(rc));
        return rc;
    }
    while ((rc = read_line(line, gz)) == 0 &&
           (rc = fn(line->p ? line->p : "", line->len, ++no, ud)) == 0)
        ;
    if (rc == -EIO)
        lsl_log_error("%s: damaged gzip data after line %llu", path,
                      (unsigned long long)no);
    gzclose(gz);
    return rc == 1 ? 0 : rc;
}
