/* The audit log of officer actions (see audit.c). */
#ifndef LSL_CLI_AUDIT_H
#define LSL_CLI_AUDIT_H

#include <stdint.h>
#include "logseal/vault.h"

/*
 * Append one record to VAULTDIR/audit.log: UTC time, operator, case
 * reference, action, the query, how many records were revealed or removed.
 * `key` is the officer key in use (records are signed with a key derived
 * from it). The file is opened O_APPEND and fsynced before the caller
 * reveals anything. 0 or -errno (logged).
 */
int lsl_audit_append(const char *vault_dir, const struct lsl_officer_key *key,
                     const char *case_ref, const char *action,
                     const char *query, uint64_t count);

#endif
