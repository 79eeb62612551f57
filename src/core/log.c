/*
 * Diagnostics. One event is one line, written with a single write(2) so
 * lines from threads never interleave. Callers never pass identifiers.
 *
 * Under systemd (stderr is the journal stream named by $JOURNAL_STREAM)
 * each line starts with its syslog priority as <N>, which journald reads
 * and strips, and carries no timestamp: the journal has its own.
 */
#include "logseal/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum lsl_log_level max_level = LSL_LOG_INFO;
static bool with_time;
static bool journal;
static bool clear_line;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
/* sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG. */
static const char *const priorities[] = {"<3>", "<4>", "<6>", "<7>"};

bool lsl_log_detect_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char end;

    journal = v && sscanf(v, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
              fstat(STDERR_FILENO, &st) == 0 &&
              (unsigned long long)st.st_dev == dev &&
              (unsigned long long)st.st_ino == ino;
    return journal;
}

void lsl_log_set_clear_line(bool on)
{
    clear_line = on;
}

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
    if (clear_line) { /* erase a progress line first */
        memcpy(line, "\r\033[K", 4);
        n = 4;
    }
    if (journal) {
        k = snprintf(line + n, sizeof(line) - n, "%s%s: ", priorities[level],
                     level_names[level]);
        n += k > 0 ? (size_t)k : 0;
    } else if (with_time) {
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        n += strftime(line + n, sizeof(line) - n, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    if (!journal) {
        k = snprintf(line + n, sizeof(line) - n,
                     "logseal: %s: ", level_names[level]);
        n += k > 0 ? (size_t)k : 0;
    }
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
