/*
 * Finding and reading rule files. Resolution order: $LOGSEAL_RULES_DIR,
 * the caller's directory, the installed one; a file that cannot be read
 * there is skipped, so a stale environment never hides the installed
 * rules. Reading is bounded: a rule file is small.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "lsl_config.h"
#include "rules_internal.h"

/* Rule files are small; a larger one is surely the wrong file. */
#define RULE_FILE_MAX (1u << 20)

static int read_small_file(const char *path, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > RULE_FILE_MAX) {
        rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    rc = lsl_read_exact(fd, buf, (size_t)st.st_size);
    if (rc == 0) {
        *out = buf;
        *len = (size_t)st.st_size;
        buf = NULL;
    }
out:
    free(buf);
    close(fd);
    return rc;
}

int lsl_rule_load(struct lsl_rule **out, const char *path,
                  struct lsl_rule_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = read_small_file(path, &text, &len);
    if (rc) {
        lsl_rule_fail(err, path, 0, "cannot read rule file: %s",
                      rc == -EINVAL ? "not a regular file" : lsl_strerror(rc));
        return rc;
    }
    rc = lsl_rule_parse(out, text, len, path, err);
    free(text);
    return rc;
}

static bool is_readable(const char *path)
{
    return access(path, R_OK) == 0;
}

int lsl_rule_resolve(const char *name, const char *dir, char *out, size_t cap)
{
    const char *dirs[3] = {getenv("LOGSEAL_RULES_DIR"), dir, LSL_RULES_DIR};
    size_t n = strlen(name);
    char file[256];

    if (strchr(name, '/') || (n >= 6 && strcmp(name + n - 6, ".rules") == 0)) {
        if (n >= cap)
            return -ENAMETOOLONG;
        memcpy(out, name, n + 1);
        return 0;
    }
    if (snprintf(file, sizeof(file), "%s.rules", name) >= (int)sizeof(file))
        return -ENAMETOOLONG;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(dirs); i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        if (lsl_path_join(out, cap, dirs[i], file) == 0 && is_readable(out))
            return 0;
    }
    return LSL_ENOTFOUND;
}
