/* The officer key as the officer-side commands need it. */
#include <errno.h>
#include <limits.h>
#include "officer.h"
#include "logseal/file.h"
#include "logseal/log.h"

int lsl_cli_officer_open(const char *keys_dir, struct lsl_officer_key **out)
{
    char path[PATH_MAX];
    int rc;

    rc = lsl_path_join(path, sizeof(path), keys_dir, "officer.key");
    if (rc == 0)
        rc = lsl_officer_key_open(out, path);
    if (rc)
        lsl_log_error("%s: cannot use the officer key: %s%s", path,
                      lsl_strerror(rc),
                      rc == -ENOENT ? " (unsealing needs the officer secret "
                                      "key created by 'logseal keygen')"
                      : rc == LSL_EKEYPERM ? " (chmod 600 it)"
                                           : "");
    return rc;
}
