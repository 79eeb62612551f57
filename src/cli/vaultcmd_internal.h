/*
 * Shared by the `vault` officer subcommands (cmd_vault_legal.c,
 * cmd_vault_erase.c): their options and the session they run in.
 */
#ifndef LSL_CLI_VAULTCMD_INTERNAL_H
#define LSL_CLI_VAULTCMD_INTERNAL_H

#include "session_internal.h"

struct lsl_vault_opts {
    const char *keys, *vault, *ref, *subject, *cls;
    long long epoch, days; /* -1: not given */
};

/*
 * Parse the options the subcommands share (--keys --vault --case
 * --subject --class --epoch --older-than and the officer options):
 * LSL_CLI_GO, or the exit code to end with (LSL_EXIT_OK after --help, a
 * usage error shown).
 */
int lsl_cli_vault_parse(const char *cmd, int argc, char **argv,
                        struct lsl_vault_opts *o, void (*help)(void));

/* A session for the options (keys, vault, case). */
void lsl_cli_vault_session(struct lsl_cli_session *ss,
                           const struct lsl_vault_opts *o);

/* Append "KEY=WRITERHEX:SEQ" for a file's place to the record's items. */
int lsl_cli_vault_item_file(struct lsl_cli_session *ss, const char *key,
                            const struct lsl_vault_link *link);

#endif
