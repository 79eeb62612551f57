/*
 * Audit log of officer actions: one tab-separated line per action, appended
 * with O_APPEND and fsynced before the command reports success. Fields that
 * come from the command line are made printable (tabs and control bytes
 * become '?') so a record is always one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "cli.h"
#include "logseal/buf.h"
#include "logseal/file.h"
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

static int put_field(struct lsl_buf *b, const char *s)
{
    int rc = 0;

    for (; *s && rc == 0; s++)
        rc = lsl_buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f
                                 ? '?' : *s);
    return rc ? rc : lsl_buf_putc(b, '\t');
}

int lsl_audit_append(const char *vault_dir, const struct lsl_officer_key *key,
                     const char *case_ref, const char *action,
                     const char *query, uint64_t count)
{
    struct lsl_buf b = { 0 };
    char path[PATH_MAX], when[32];
    int fd = -1, rc;

    (void)key;

    lsl_cli_iso_time((int64_t)time(NULL), when);
    rc = lsl_path_join(path, sizeof(path), vault_dir, "audit.log");
    if (rc == 0)
        rc = put_field(&b, when);
    if (rc == 0)
        rc = put_field(&b, operator_name());
    if (rc == 0)
        rc = put_field(&b, case_ref);
    if (rc == 0)
        rc = put_field(&b, action);
    if (rc == 0)
        rc = put_field(&b, query);
    if (rc == 0)
        rc = lsl_buf_printf(&b, "%llu\n", (unsigned long long)count);
    if (rc)
        goto out;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = lsl_write_all(fd, b.p, b.len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        lsl_log_error("%s: cannot append the audit record: %s", path,
                      lsl_strerror(rc));
    lsl_buf_free(&b);
    return rc;
}
