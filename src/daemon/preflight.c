/*
 * Before a run opens anything: can the user the daemon runs as use every
 * directory of the configuration? Checked as that user (the effective
 * ids, so `--check` run by the unit's ExecStartPre checks the service
 * user), every problem reported at once, so a deployment is fixed in one
 * pass instead of one restart per mistake, and a key that cannot ratchet
 * is found at start, not at the first epoch boundary.
 *
 * Writable means: an existing directory with write and search permission
 * for us (a read-only mount counts as not writable), or a path that does
 * not exist yet under a nearest existing directory we may write (the
 * daemon creates it). Only names, paths and ids are logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/log.h"
#include "run_internal.h"

struct preflight {
    char who[96]; /* "user NAME (uid N)" */
    unsigned problems;
};

static bool may(const char *path, int mode)
{
    return faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0;
}

static void problem(struct preflight *pf, const char *fmt, ...)
    LSL_PRINTF(2, 3);

static void problem(struct preflight *pf, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lsl_log_error("%s", msg);
    pf->problems++;
}

/* The nearest existing ancestor of `path` into `out`. */
static void existing_parent(const char *path, char *out, size_t cap)
{
    struct stat st;
    char *slash;

    snprintf(out, cap, "%s", path);
    while ((slash = strrchr(out, '/')) != NULL) {
        if (slash == out) {
            out[1] = '\0';
            return;
        }
        *slash = '\0';
        if (stat(out, &st) == 0)
            return;
    }
}

/* `path` (what: "the vault", ...) must be writable or creatable. */
static void writable_dir(struct preflight *pf, const char *path,
                         const char *what)
{
    char parent[PATH_MAX];
    struct stat st;

    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            problem(pf, "%s (%s): not a directory", path, what);
        else if (!may(path, W_OK | X_OK))
            problem(pf,
                    "%s (%s): not writable by %s; give it the directory "
                    "(chown, or a path under the unit's StateDirectory or "
                    "LogsDirectory)",
                    path, what, pf->who);
        return;
    }
    existing_parent(path, parent, sizeof(parent));
    if (!may(parent, W_OK | X_OK))
        problem(pf,
                "%s (%s) does not exist and %s cannot create it: %s is not "
                "writable for it; create the directory, owned by it",
                path, what, pf->who, parent);
}

/*
 * A ratcheting key is replaced in its directory at each epoch boundary;
 * a missing checkpoint key is made there at the first start with a tail
 * source.
 */
static void keys_dir(struct preflight *pf, const struct lsl_run *r)
{
    static const char *const lens[] = {"never", "day", "week", "month"};
    enum lsl_epoch_len len = lsl_keyring_epoch_len(r->kr);
    const char *dir = r->cfg->keys;

    if (may(dir, W_OK | X_OK))
        return;
    if (!r->ckey && lsl_run_has_tail(r))
        problem(pf,
                "%s: not writable by %s, and it holds no %s: the daemon "
                "makes it there at its first start with a tail source; "
                "make the directory writable for it once, or create the "
                "key with 'logseal keygen' in another directory and copy "
                "it here (mode 0600, owned by %s)",
                dir, pf->who, LSL_CKPT_KEY_FILE, pf->who);
    if (len == LSL_EPOCH_NEVER)
        return;
    problem(pf,
            "%s: not writable by %s, but its hash key ratchets (--epoch %s): "
            "the daemon replaces %s/hash.key at every epoch boundary and "
            "would stop there; make the directory writable for it (e.g. "
            "keys under /var/lib/logseal, the unit's StateDirectory) or use "
            "a key of --epoch never",
            dir, pf->who, lens[(unsigned)len & 3], dir);
}

/* A tailed file's directory is watched and listed; the file read. */
static void tail_path(struct preflight *pf, const struct lsl_source_conf *c)
{
    char dir[PATH_MAX];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", c->path);
    slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (!dir[0])
        snprintf(dir, sizeof(dir), "/");
    if (strpbrk(dir, "*?[")) /* a glob in the directory: checked at open */
        return;
    if (access(dir, F_OK) != 0)
        lsl_log_warn("[source %s]: %s does not exist (yet): nothing to read "
                     "until it does",
                     c->name, dir);
    else if (!may(dir, R_OK | X_OK))
        problem(pf,
                "[source %s]: %s: %s cannot list it (read and search "
                "permission): rotation would go unseen; add it to the "
                "directory's group (e.g. adm for /var/log/nginx)",
                c->name, dir, pf->who);
    else if (!strpbrk(c->path, "*?[") && access(c->path, F_OK) == 0 &&
             !may(c->path, R_OK))
        problem(pf, "[source %s]: %s: not readable by %s", c->name, c->path,
                pf->who);
}

/* A unix syslog socket is created in its directory. */
static void socket_dir(struct preflight *pf, const struct lsl_source_conf *c)
{
    char dir[PATH_MAX];
    char *slash;

    if (strncmp(c->listen, "unix:", 5) != 0)
        return;
    snprintf(dir, sizeof(dir), "%s", c->listen + 5);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    if (access(dir, F_OK) != 0)
        problem(pf,
                "[source %s]: %s does not exist, so its socket cannot be "
                "made (the unit's RuntimeDirectory makes /run/logseal)",
                c->name, dir);
    else if (!may(dir, W_OK | X_OK))
        problem(pf,
                "[source %s]: %s: %s cannot create its socket there (the "
                "unit's RuntimeDirectory /run/logseal is writable)",
                c->name, dir, pf->who);
}

int lsl_run_preflight(const struct lsl_run *r)
{
    const struct lsl_config *c = r->cfg;
    const struct passwd *pw = getpwuid(geteuid());
    struct preflight pf = {0};
    bool segments = false;

    snprintf(pf.who, sizeof(pf.who), "user %s (uid %u)", pw ? pw->pw_name : "?",
             (unsigned)geteuid());
    keys_dir(&pf, r);
    writable_dir(&pf, c->vault, "the vault");
    writable_dir(&pf, c->state, "checkpoints");
    for (size_t i = 0; i < c->nsources; i++) {
        const struct lsl_source_conf *s = &c->sources[i];

        segments = segments || s->sink == LSL_SINK_SEGMENTS;
        if (s->type == LSL_SRC_TAIL)
            tail_path(&pf, s);
        else if (s->type == LSL_SRC_SYSLOG)
            socket_dir(&pf, s);
    }
    if (segments)
        writable_dir(&pf, c->output, "segments");
    if (pf.problems == 0)
        return 0;
    lsl_log_error("%s: %u problem%s with directories for %s (above)", c->path,
                  pf.problems, pf.problems == 1 ? "" : "s", pf.who);
    return -EACCES;
}
