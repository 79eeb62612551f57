/* Shared by the subcommands: exit codes and small helpers. */
#ifndef LSL_CLI_H
#define LSL_CLI_H

#include <stdio.h>
#include "logseal/common.h"

/* Exit codes (documented in the README and in `logseal --help`). */
enum {
    LSL_EXIT_OK = 0,
    LSL_EXIT_ERROR = 1,     /* I/O, keys, configuration, rules */
    LSL_EXIT_USAGE = 2,     /* bad command line */
    LSL_EXIT_INTEGRITY = 3, /* vault or audit data failed verification */
    LSL_EXIT_NOTFOUND = 4,  /* some requested tokens are not in the vault */
    LSL_EXIT_PARTIAL = 5,   /* done only in part (erase, repair): see the
                             * report */
};

/*
 * A command or subcommand: run(argc, argv) gets argv[0] == name and
 * returns the exit code. A group (rules, audit, vault) runs one of its
 * subcommands through lsl_cli_dispatch.
 */
struct lsl_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    bool group;
};

/*
 * The one convention of the commands' option parsers: they return
 * LSL_CLI_GO when the command should run, or else the exit code to end
 * with at once (LSL_EXIT_OK after --help, LSL_EXIT_USAGE after a usage
 * error, already reported).
 */
#define LSL_CLI_GO (-1)

int lsl_cmd_keygen(int argc, char **argv);
int lsl_cmd_pipe(int argc, char **argv);
int lsl_cmd_run(int argc, char **argv);
int lsl_cmd_unseal(int argc, char **argv);
int lsl_cmd_rules(int argc, char **argv);
int lsl_cmd_disclose(int argc, char **argv);
int lsl_cmd_identify(int argc, char **argv);
int lsl_cmd_audit(int argc, char **argv);
int lsl_cmd_vault(int argc, char **argv);

/* `vault` subcommands (cmd_vault_*.c), dispatched by cmd_vault.c. */
int lsl_cmd_vault_verify(int argc, char **argv);
int lsl_cmd_vault_erase(int argc, char **argv);
int lsl_cmd_vault_expire(int argc, char **argv);
int lsl_cmd_vault_hold(int argc, char **argv);
int lsl_cmd_vault_release(int argc, char **argv);
int lsl_cmd_vault_repair(int argc, char **argv);
int lsl_cmd_vault_index(int argc, char **argv);
int lsl_cmd_vault_import(int argc, char **argv);

/*
 * Run command `c` with argv[0] == c->name. When --help or -h appears
 * anywhere in argv (before a "--"), a command that is not a group is run
 * with argv {name, "--help"} alone: it prints its usage and exits 0,
 * whatever else the line holds. Returns the exit code.
 */
int lsl_cli_run(const struct lsl_cmd *c, int argc, char **argv);

/*
 * Run the subcommand argv[1] of `cmd` from `table` (argv[0] is cmd), or
 * print the table on --help / usage errors. Returns the exit code.
 */
int lsl_cli_dispatch(const char *cmd, const struct lsl_cmd *table, size_t n,
                     int argc, char **argv);

/* Print "logseal CMD: msg" and a hint to use --help; returns EXIT_USAGE. */
int lsl_cli_usage_error(const char *cmd, const char *fmt, ...) LSL_PRINTF(2, 3);

/* Map an error code to an exit code. */
int lsl_cli_exit_code(int err);

/* Format unix seconds as 2025-11-29T08:00:00Z into out[32]. */
void lsl_cli_iso_time(int64_t t, char out[32]);

struct lsl_rule_detect;

/*
 * Log what `--rule auto` did (lsl_rule_detect returned rc, d borrowed):
 * the rule chosen, the fallback to the text rule (a warning), or why
 * nothing fits. Rule names and counts only.
 */
void lsl_cli_log_detect(int rc, const struct lsl_rule_detect *d);

#endif
