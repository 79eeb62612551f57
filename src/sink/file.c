/*
 * Pipe-mode sink: stdout (plain text) or --out: gzip, or plain text when
 * the name ends as a plain log does (.log, .jsonl, ...): a file written
 * as FILE.part and renamed into place when finished, or a FIFO or
 * character device written in place. A failed write to a file is cut back to
 * the last good length so a retry neither duplicates nor corrupts members.
 */
#include "logseal/file.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/sink.h"

struct file_sink {
    struct lsl_sink base;
    int fd;
    off_t good;  /* length of intact output */
    bool direct; /* a FIFO or device, written in place */
    char path[PATH_MAX];
    char part[PATH_MAX];
};

static int file_write(struct lsl_sink *s, const struct lsl_batch *b)
{
    struct file_sink *f = (struct file_sink *)s;
    const struct lsl_buf *data = s->gzip ? &b->gz : &b->out;
    int rc = lsl_write_all(f->fd, data->p, data->len);

    if (rc == 0) {
        f->good += (off_t)data->len;
        return 0;
    }
    if (f->part[0] &&
        (ftruncate(f->fd, f->good) < 0 || lseek(f->fd, f->good, SEEK_SET) < 0))
        return -errno;
    return rc;
}

static int file_sync(struct lsl_sink *s)
{
    struct file_sink *f = (struct file_sink *)s;

    if (!f->part[0])
        return 0;
    return fsync(f->fd) < 0 ? -errno : 0;
}

static int file_close(struct lsl_sink *s, bool finish)
{
    struct file_sink *f = (struct file_sink *)s;
    int rc = 0;

    if (f->part[0]) {
        rc = finish ? file_sync(s) : 0;
        if (close(f->fd) < 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && finish && rename(f->part, f->path) < 0)
            rc = -errno;
        if (rc == 0 && finish)
            rc = lsl_fsync_parent(f->path);
    } else if (f->direct && close(f->fd) < 0) {
        rc = -errno;
    }
    free(f);
    return rc;
}

static const struct lsl_sink_ops file_ops = {
    .write = file_write,
    .sync = file_sync,
    .close = file_close,
};

/*
 * What --out names decides how it is written. A new path or a regular
 * file: FILE.part, renamed over it when complete. A FIFO or a character
 * device (/dev/null, a terminal): written in place, never replaced.
 * Anything else, and a symbolic link, is refused: following a link
 * would let whoever planted it (in /tmp, say) choose what a privileged
 * run overwrites, and replacing it would destroy the link.
 */
static int open_direct(struct file_sink *f, const char *path)
{
    f->fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    return f->fd < 0 ? -errno : 0;
}

/* FILE.part, created anew: a stale one (or anything planted under that
 * name: a link, a FIFO) is removed first and never opened. */
static int open_part(struct file_sink *f)
{
    if (unlink(f->part) < 0 && errno != ENOENT)
        return -errno;
    f->fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0644);
    return f->fd < 0 ? -errno : 0;
}

/* A name that says "plain text": what a reader expects there. */
static bool plain_name(const char *path)
{
    static const char *const ext[] = {".log", ".jsonl", ".ndjson", ".json",
                                      ".txt"};
    size_t n = strlen(path);

    for (size_t i = 0; i < LSL_ARRAY_SIZE(ext); i++) {
        size_t k = strlen(ext[i]);

        if (n > k && strcmp(path + n - k, ext[i]) == 0)
            return true;
    }
    return false;
}

int lsl_file_sink_open(struct lsl_sink **out, const char *path)
{
    struct file_sink *f = calloc(1, sizeof(*f));
    struct stat st;
    int rc;

    if (!f)
        return -ENOMEM;
    f->base.ops = &file_ops;
    if (!path || strcmp(path, "-") == 0) {
        f->fd = STDOUT_FILENO;
        snprintf(f->base.desc, sizeof(f->base.desc), "stdout");
        *out = &f->base;
        return 0;
    }
    f->base.gzip = !plain_name(path);
    snprintf(f->base.desc, sizeof(f->base.desc), "%s", path);
    if (lstat(path, &st) == 0 &&
        (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
        f->direct = true;
        rc = open_direct(f, path);
        if (rc)
            goto fail;
        *out = &f->base;
        return 0;
    }
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        rc = S_ISLNK(st.st_mode)   ? -ELOOP
             : S_ISDIR(st.st_mode) ? -EISDIR
                                   : -EINVAL;
        goto fail;
    }
    if (snprintf(f->path, sizeof(f->path), "%s", path) >=
            (int)sizeof(f->path) ||
        snprintf(f->part, sizeof(f->part), "%s.part", path) >=
            (int)sizeof(f->part)) {
        rc = -ENAMETOOLONG;
        goto fail;
    }
    rc = open_part(f);
    if (rc)
        goto fail;
    *out = &f->base;
    return 0;
fail:
    free(f);
    return rc;
}
