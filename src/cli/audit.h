/* The audit log of officer actions (see audit.c). */
#ifndef LSL_CLI_AUDIT_H
#define LSL_CLI_AUDIT_H

#include <stddef.h>

/*
 * Append one record to VAULTDIR/audit.log: UTC time, operator, case
 * reference, action, how many values were asked and revealed. The file is
 * opened O_APPEND and fsynced. 0 or -errno (logged).
 */
int lsl_audit_append(const char *vault_dir, const char *case_ref,
                     const char *action, size_t asked, size_t revealed);

#endif
