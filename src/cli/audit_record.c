/*
 * The officer commands' side of the audit trail: who is acting (the
 * operator name) and when, handed to the vault module, which signs,
 * chains, appends and fsyncs the record (src/vault/auditlog_write.c). Callers
 * append before they reveal anything, so a failure here stops them.
 */
#include <pwd.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "audit_record_internal.h"
#include "logseal/log.h"

static const char *operator_name(void)
{
    const char *op = getenv("LOGSEAL_OPERATOR");
    struct passwd *pw;

    if (op && op[0])
        return op;
    pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "unknown";
}

int lsl_cli_audit_append(const char *vault_dir,
                         const struct lsl_officer_key *key,
                         const char *case_ref, const char *action,
                         const char *query, uint64_t count, const char *items,
                         struct lsl_audit_head *head)
{
    struct lsl_audit_entry e = {
        .time = (int64_t)time(NULL),
        .operator_name = operator_name(),
        .case_ref = case_ref,
        .action = action,
        .query = query,
        .count = count,
        .items = items,
    };
    int rc = lsl_audit_log_append(vault_dir, key, &e, head);

    if (rc == LSL_EAUTH)
        lsl_log_error("%s/%s: the audit log of this vault is signed with "
                      "another officer key; nothing was revealed",
                      vault_dir, LSL_AUDIT_PUB_NAME);
    else if (rc == LSL_ECORRUPT)
        lsl_log_error("%s/%s: the last audit record is malformed, so no "
                      "record can be chained to it; run 'logseal audit "
                      "verify --vault %s'; nothing was revealed",
                      vault_dir, LSL_AUDIT_LOG_NAME, vault_dir);
    else if (rc)
        lsl_log_error("%s/%s: cannot append the audit record: %s; nothing "
                      "was revealed",
                      vault_dir, LSL_AUDIT_LOG_NAME, lsl_strerror(rc));
    return rc;
}
