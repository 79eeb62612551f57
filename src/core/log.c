/*
 * Diagnostics. One event is one line, written with a single write(2) so
 * lines from threads never interleave. Callers never pass identifiers.
 */
#include "logseal/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static enum lsl_log_level max_level = LSL_LOG_INFO;
static bool with_time;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void lsl_log_set_level(enum lsl_log_level level)
{
    max_level = level;
}

void lsl_log_set_timestamps(bool on)
{
    with_time = on;
}

void lsl_log(enum lsl_log_level level, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    va_list ap;
    int k;

    if (level > max_level)
        return;
    if (with_time) {
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    k = snprintf(line + n, sizeof(line) - n,
                 "logseal: %s: ", level_names[level]);
    if (k > 0)
        n += (size_t)k;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (k > 0)
        n += (size_t)k;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* Diagnostics are best effort: a failed write to stderr has no one to
     * report to. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
