/*
 * Finding and reading rule files. Resolution order: $LOGSEAL_RULES_DIR,
 * the caller's directory, the source tree's rules/ for a binary run from
 * its build directory, the installed one; a file that cannot be read
 * there is skipped, so a stale environment never hides the installed
 * rules. Reading is bounded: a rule file is small.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int lsl_rule_read_file(const char *path, char **out, size_t *len)
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
    rc = lsl_rule_read_file(path, &text, &len);
    if (rc) {
        lsl_rule_fail(err, path, 0, "cannot read rule file: %s",
                      rc == -EINVAL ? "not a regular file" : lsl_strerror(rc));
        return rc;
    }
    rc = lsl_rule_parse_at(out, text, len, path, true, err);
    free(text);
    return rc;
}

static bool is_readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/*
 * True when this program is a file under the build directory it was
 * built in: an uninstalled binary (or a test), which should find the
 * rules of its own source tree. An installed copy lives elsewhere, so it
 * never reads a build tree that happens to remain on the host.
 */
static bool in_build_tree(void)
{
    static const char root[] = LSL_BUILD_ROOT "/";
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        return false;
    exe[n] = '\0';
    return strncmp(exe, root, sizeof(root) - 1) == 0;
}

size_t lsl_rule_dirs(const char *dir, const char *out[LSL_RULE_DIRS_MAX])
{
    const char *env = getenv("LOGSEAL_RULES_DIR");
    size_t n = 0;

    if (env && env[0])
        out[n++] = env;
    if (dir && dir[0])
        out[n++] = dir;
    if (in_build_tree())
        out[n++] = LSL_SOURCE_RULES_DIR;
    out[n++] = LSL_RULES_DIR;
    return n;
}

void lsl_rule_dirs_text(const char *dir, char *buf, size_t cap)
{
    const char *dirs[LSL_RULE_DIRS_MAX];
    const char *env = getenv("LOGSEAL_RULES_DIR");
    size_t n = lsl_rule_dirs(dir, dirs), at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && at < cap; i++) {
        int k = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", dirs[i]);

        at += k > 0 ? (size_t)k : 0;
    }
    if (at < cap && !(env && env[0]))
        snprintf(buf + at, cap - at, " ($LOGSEAL_RULES_DIR is not set)");
}

int lsl_rule_resolve(const char *name, const char *dir, char *out, size_t cap)
{
    const char *dirs[LSL_RULE_DIRS_MAX];
    size_t ndirs = lsl_rule_dirs(dir, dirs);
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
    for (size_t i = 0; i < ndirs; i++) {
        if (lsl_path_join(out, cap, dirs[i], file) == 0 && is_readable(out))
            return 0;
    }
    return LSL_ENOTFOUND;
}
