/*
 * faultfs: an LD_PRELOAD shim that makes file writes fail, for the fault
 * injection tests (tests/integration/test_faults.py). Built only with the
 * tests; never linked into logseal.
 *
 * It wraps write, writev, pwrite, pwrite64, fsync, fdatasync, rename and
 * renameat. A call is a candidate when its file (for descriptors: the
 * target of /proc/self/fd/N; for rename: either path) matches the
 * fnmatch(3) pattern FAULTFS_PATH and its kind is listed in FAULTFS_OPS
 * (comma-separated: write, pwrite, fsync, rename; default all).
 *
 *   FAULTFS_MODE   enospc (default) | eio | short: short writes transfer
 *                  half the bytes (at least one) and succeed; fsync and
 *                  rename are not affected by short
 *   FAULTFS_AFTER  candidates let through before the first fault (0)
 *   FAULTFS_COUNT  faults to inject, then the fault is lifted (0: no end)
 *   FAULTFS_LIFT   a path: once it exists the fault is lifted
 *   FAULTFS_LOG    a file: one line per injected fault ("op path errno")
 *
 * Without FAULTFS_PATH every call goes straight through.
 */
/* The wrappers define pwrite and pwrite64 separately: keep glibc from
 * redirecting one name to the other. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

enum op { OP_WRITE, OP_PWRITE, OP_FSYNC, OP_RENAME };
static const char *const op_names[] = {"write", "pwrite", "fsync", "rename"};

/* Exported wrappers; prototypes keep -Wmissing-prototypes quiet. */
ssize_t write(int fd, const void *buf, size_t n);
ssize_t writev(int fd, const struct iovec *iov, int cnt);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
int fsync(int fd);
int fdatasync(int fd);
int rename(const char *from, const char *to);
int renameat(int dfrom, const char *from, int dto, const char *to);

static unsigned long long seen, injected;

typedef void (*any_fn)(void);

/* The next definition of `name` (libc's, or a sanitizer's interceptor). */
static any_fn real(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    any_fn f;

    if (!p)
        abort(); /* a shim that cannot pass calls on must not guess */
    memcpy(&f, &p, sizeof(f)); /* POSIX: dlsym results are callable */
    return f;
}

#define REAL(name, type) ((type)real(#name))

static bool op_enabled(enum op op)
{
    const char *ops = getenv("FAULTFS_OPS");
    const char *p;
    size_t n = strlen(op_names[op]);

    if (!ops || !*ops)
        return true;
    for (p = ops; (p = strstr(p, op_names[op])) != NULL; p += n) {
        if ((p == ops || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

static bool path_matches(const char *path)
{
    const char *pat = getenv("FAULTFS_PATH");

    return pat && *pat && path && fnmatch(pat, path, 0) == 0;
}

static bool fd_matches(int fd)
{
    char link[64], path[PATH_MAX];
    ssize_t n;

    if (!getenv("FAULTFS_PATH"))
        return false;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 0)
        return false;
    path[n] = '\0';
    return path_matches(path);
}

static unsigned long long env_num(const char *name)
{
    const char *v = getenv(name);

    return v ? strtoull(v, NULL, 10) : 0;
}

static void log_fault(enum op op, const char *what, int err)
{
    typedef ssize_t (*write_fn)(int, const void *, size_t);
    const char *log = getenv("FAULTFS_LOG");
    char line[PATH_MAX + 64];
    int fd, n;

    if (!log)
        return;
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    n = snprintf(line, sizeof(line), "%s %s %d\n", op_names[op], what, err);
    if (n > 0)
        (void)REAL(write, write_fn)(fd, line, (size_t)n);
    close(fd);
}

/*
 * Decide for a candidate call: 0 to let it through, an errno to fail it,
 * or -1 for a short write.
 */
static int decide(enum op op, const char *what)
{
    const char *mode = getenv("FAULTFS_MODE");
    const char *lift = getenv("FAULTFS_LIFT");
    unsigned long long count = env_num("FAULTFS_COUNT");
    int err = ENOSPC;

    if (!op_enabled(op))
        return 0;
    if (__atomic_fetch_add(&seen, 1, __ATOMIC_SEQ_CST) <
        env_num("FAULTFS_AFTER"))
        return 0;
    if (lift && access(lift, F_OK) == 0)
        return 0;
    if (mode && strcmp(mode, "eio") == 0)
        err = EIO;
    if (mode && strcmp(mode, "short") == 0) {
        if (op != OP_WRITE && op != OP_PWRITE)
            return 0;
        err = -1;
    }
    if (count && __atomic_fetch_add(&injected, 1, __ATOMIC_SEQ_CST) >= count)
        return 0;
    log_fault(op, what, err < 0 ? 0 : err);
    return err;
}

static int decide_fd(enum op op, int fd)
{
    char what[32];

    if (!fd_matches(fd))
        return 0;
    snprintf(what, sizeof(what), "fd%d", fd);
    return decide(op, what);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    typedef ssize_t (*fn)(int, const void *, size_t);
    int d = decide_fd(OP_WRITE, fd);

    if (d > 0) {
        errno = d;
        return -1;
    }
    if (d < 0 && n > 1)
        n /= 2;
    return REAL(write, fn)(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    typedef ssize_t (*fn)(int, const struct iovec *, int);
    int d = decide_fd(OP_WRITE, fd);

    if (d > 0) {
        errno = d;
        return -1;
    }
    if (d < 0 && cnt > 0 && iov[0].iov_len > 0) /* short: first part only */
        return write(fd, iov[0].iov_base, iov[0].iov_len);
    return REAL(writev, fn)(fd, iov, cnt);
}

static ssize_t do_pwrite(const char *name, int fd, const void *buf, size_t n,
                         off_t off)
{
    typedef ssize_t (*fn)(int, const void *, size_t, off_t);
    int d = decide_fd(OP_PWRITE, fd);

    if (d > 0) {
        errno = d;
        return -1;
    }
    if (d < 0 && n > 1)
        n /= 2;
    return ((fn)real(name))(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return do_pwrite("pwrite", fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    return do_pwrite("pwrite64", fd, buf, n, off);
}

static int do_sync(const char *name, int fd)
{
    typedef int (*fn)(int);
    int d = decide_fd(OP_FSYNC, fd);

    if (d > 0) {
        errno = d;
        return -1;
    }
    return ((fn)real(name))(fd);
}

int fsync(int fd)
{
    return do_sync("fsync", fd);
}

int fdatasync(int fd)
{
    return do_sync("fdatasync", fd);
}

static int rename_fault(const char *from, const char *to)
{
    if (!path_matches(from) && !path_matches(to))
        return 0;
    return decide(OP_RENAME, path_matches(from) ? from : to);
}

int rename(const char *from, const char *to)
{
    typedef int (*fn)(const char *, const char *);
    int d = rename_fault(from, to);

    if (d > 0) {
        errno = d;
        return -1;
    }
    return REAL(rename, fn)(from, to);
}

int renameat(int dfrom, const char *from, int dto, const char *to)
{
    typedef int (*fn)(int, const char *, int, const char *);
    int d = rename_fault(from, to);

    if (d > 0) {
        errno = d;
        return -1;
    }
    return REAL(renameat, fn)(dfrom, from, dto, to);
}
