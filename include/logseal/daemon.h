/*
 * logseal — `logseal run`, the daemon: the CLI calls these and never sees
 * libuv.
 */
#ifndef LOGSEAL_DAEMON_H
#define LOGSEAL_DAEMON_H

#include <stdio.h>
#include "logseal/common.h"

/*
 * `logseal run`: load the configuration file (format: config.h), its
 * rules and keys, then run every source until SIGTERM/SIGINT (drain, exit)
 * or until every source has ended (stdin). SIGHUP reloads (a broken new
 * configuration is logged and the old one keeps running), SIGUSR1 prints
 * counters. Events are logged one line each with timestamps. Returns 0
 * after a clean drain, else the first error (already logged).
 */
LSL_MUST_CHECK int lsl_daemon_run(const char *config_path);

/*
 * `logseal run --check`: load the configuration, rules and keys as
 * lsl_daemon_run would, print what would run to `out`, open nothing.
 * 0 or the first error (logged with file and line).
 */
LSL_MUST_CHECK int lsl_daemon_check(const char *config_path, FILE *out);

#endif
