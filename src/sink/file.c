/*
 * Pipe-mode sink: stdout (plain text) or one gzip file written as FILE.part
 * and renamed into place when finished. A failed write is cut back to the
 * last good length so a retry neither duplicates nor corrupts members.
 */
#include "logseal/file.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "logseal/sink.h"

struct file_sink {
    struct lsl_sink base;
    int fd;
    off_t good; /* length of intact output */
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
    }
    free(f);
    return rc;
}

static const struct lsl_sink_ops file_ops = {
    .write = file_write,
    .sync = file_sync,
    .close = file_close,
};

int lsl_file_sink_open(struct lsl_sink **out, const char *path)
{
    struct file_sink *f = calloc(1, sizeof(*f));
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
    f->base.gzip = true;
    snprintf(f->base.desc, sizeof(f->base.desc), "%s", path);
    if (snprintf(f->path, sizeof(f->path), "%s", path) >=
            (int)sizeof(f->path) ||
        snprintf(f->part, sizeof(f->part), "%s.part", path) >=
            (int)sizeof(f->part)) {
        rc = -ENAMETOOLONG;
        goto fail;
    }
    f->fd = open(f->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        rc = -errno;
        goto fail;
    }
    *out = &f->base;
    return 0;
fail:
    free(f);
    return rc;
}
