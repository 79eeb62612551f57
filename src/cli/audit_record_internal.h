/* Recording officer actions in the audit log (see audit_record.c). */
#ifndef LSL_CLI_AUDIT_RECORD_INTERNAL_H
#define LSL_CLI_AUDIT_RECORD_INTERNAL_H

#include <stdint.h>
#include "logseal/auditlog.h"
#include "logseal/vault.h"

/*
 * Append one signed, hash-chained record to VAULTDIR/audit.log: UTC time,
 * operator ($LOGSEAL_OPERATOR or the login name), case reference, action,
 * the query, how many records were revealed or removed, and the items
 * (KEY=VALUE words, auditlog.h). `key` is the officer key in use (records
 * are signed with a key derived from it). The record is fsynced before
 * this returns, so the caller may then reveal; *head (optional) is its
 * seq and hash. 0 or negative code (logged with the path and what to do).
 */
int lsl_cli_audit_append(const char *vault_dir,
                         const struct lsl_officer_key *key,
                         const char *case_ref, const char *action,
                         const char *query, uint64_t count, const char *items,
                         struct lsl_audit_head *head);

#endif
