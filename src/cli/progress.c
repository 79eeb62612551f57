/*
 * `pipe`'s live status line on stderr (a terminal, or --progress):
 * lines, MB in, MB/s, and for a regular input file how far through it we
 * are and when we should be done. Redrawn in place ("\r", erase to end of
 * line) on the pipeline's tick, erased when the run ends; log lines erase
 * it first (lsl_log_set_clear_line) and the next tick draws it again.
 * Counts and sizes only: nothing of the input.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "gunzip_internal.h"
#include "logseal/log.h"
#include "pipe_internal.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void lsl_progress_init(struct lsl_progress *p, bool on, int in_fd,
                       const struct lsl_gunzip *gz)
{
    struct stat st;

    memset(p, 0, sizeof(*p));
    p->on = on;
    p->in_fd = -1;
    p->gz = gz;
    p->start_ms = now_ms();
    if (in_fd >= 0 && fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size > 0) {
        p->in_fd = in_fd;
        p->in_size = (uint64_t)st.st_size;
    }
    lsl_log_set_clear_line(on);
}

/* How far through the input file: compressed bytes for gzip input. */
static uint64_t position(const struct lsl_progress *p)
{
    off_t at;

    if (p->gz)
        return lsl_gunzip_consumed(p->gz);
    at = lseek(p->in_fd, 0, SEEK_CUR);
    return at > 0 ? (uint64_t)at : 0;
}

/* " 42% ETA 1:02:03" into buf, or "" without a known size. */
static void eta(const struct lsl_progress *p, uint64_t ms, char *buf,
                size_t cap)
{
    uint64_t at = p->in_fd >= 0 ? position(p) : 0, left;

    buf[0] = '\0';
    if (p->in_fd < 0 || at == 0)
        return;
    if (at > p->in_size)
        at = p->in_size;
    left = (uint64_t)((double)ms * (double)(p->in_size - at) / (double)at /
                      1000.0);
    if (left >= 3600)
        snprintf(buf, cap, ", %u%% ETA %u:%02u:%02u",
                 (unsigned)(at * 100 / p->in_size), (unsigned)(left / 3600),
                 (unsigned)(left / 60 % 60), (unsigned)(left % 60));
    else
        snprintf(buf, cap, ", %u%% ETA %u:%02u",
                 (unsigned)(at * 100 / p->in_size), (unsigned)(left / 60),
                 (unsigned)(left % 60));
}

void lsl_progress_draw(struct lsl_progress *p, const struct lsl_batch_stats *st)
{
    uint64_t ms = now_ms() - p->start_ms;
    double mb = (double)st->bytes_in / 1e6;
    char line[256], tail[64];
    int n;

    if (!p->on)
        return;
    eta(p, ms, tail, sizeof(tail));
    n = snprintf(line, sizeof(line),
                 "\rlogseal: pipe: %llu lines, %.1f MB in, %.1f MB/s%s\033[K",
                 (unsigned long long)st->lines_in, mb,
                 ms ? mb * 1000.0 / (double)ms : 0.0, tail);
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n) == n)
        p->drawn = true;
}

void lsl_progress_clear(struct lsl_progress *p)
{
    if (p->drawn && write(STDERR_FILENO, "\r\033[K", 4) == 4)
        p->drawn = false;
    lsl_log_set_clear_line(false);
}
