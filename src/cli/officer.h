/* Opening the officer key for the officer-side commands. */
#ifndef LSL_CLI_OFFICER_H
#define LSL_CLI_OFFICER_H

#include "logseal/vault.h"

/*
 * Open the officer secret key from KEYS/officer.key. Errors are logged
 * with the path and what to do. 0 or negative code.
 */
int lsl_cli_officer_open(const char *keys_dir, struct lsl_officer_key **out);

#endif
