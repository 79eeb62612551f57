/* Reading the whole vault for the officer commands (see vread.c). */
#ifndef LSL_CLI_VREAD_H
#define LSL_CLI_VREAD_H

#include <stdio.h>
#include "logseal/legal.h"
#include "logseal/vault.h"

struct lsl_cli_vread {
    int integrity;  /* first integrity failure of a file (exit 3) */
    bool truncated; /* some file was cut short (its intact part used) */
};

/*
 * Read every vault file of `vault`, calling fn for each record. Problems
 * of single files are logged (path, byte offset) and noted in *st; the
 * walk goes on. Returns 0, or a code that stopped it (logged).
 */
int lsl_cli_vault_read(const char *vault, const struct lsl_officer_key *key,
                       lsl_vault_record_fn fn, void *ud,
                       struct lsl_cli_vread *st);

/* Load VAULTDIR/erased into *out; errors are logged. 0 or code. */
int lsl_cli_erased_load(const char *vault, struct lsl_tokset *out);

/* Write s[0..len) as a JSON string literal (quotes included). */
void lsl_cli_json_str(FILE *f, const char *s, size_t len);

#endif
