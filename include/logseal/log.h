/*
 * logseal — diagnostics to stderr, one line per event.
 *
 * Thread-safe: each call is formatted into a local buffer and written with
 * one write(2). Never pass an original identifier: callers log counts,
 * offsets, paths and tokens only.
 */
#ifndef LOGSEAL_LOG_H
#define LOGSEAL_LOG_H

#include "logseal/common.h"

enum lsl_log_level {
    LSL_LOG_ERROR = 0,
    LSL_LOG_WARN = 1,
    LSL_LOG_INFO = 2,
    LSL_LOG_DEBUG = 3,
};

/* Messages above `level` are discarded. Default: LSL_LOG_INFO. */
void lsl_log_set_level(enum lsl_log_level level);

/* Prefix every line with a UTC timestamp (daemon mode). Default: off. */
void lsl_log_set_timestamps(bool on);

/*
 * Write for the journal if stderr is the stream $JOURNAL_STREAM names
 * (systemd sets it for a service's stderr): "<N>level: message", with the
 * syslog priority N journald reads and no timestamp of our own. Returns
 * whether it is. Call once, before other threads log.
 */
bool lsl_log_detect_journal(void);

/*
 * Start each line by erasing the terminal line (a live progress line on
 * stderr is then replaced, not run into). Default: off.
 */
void lsl_log_set_clear_line(bool on);

void lsl_log(enum lsl_log_level level, const char *fmt, ...) LSL_PRINTF(2, 3);

#define lsl_log_error(...) lsl_log(LSL_LOG_ERROR, __VA_ARGS__)
#define lsl_log_warn(...)  lsl_log(LSL_LOG_WARN, __VA_ARGS__)
#define lsl_log_info(...)  lsl_log(LSL_LOG_INFO, __VA_ARGS__)
#define lsl_log_debug(...) lsl_log(LSL_LOG_DEBUG, __VA_ARGS__)

#endif
