/*
 * The daemon's output: gzip segments under OUTDIR, in the default or the
 * hive layout (segname.c says where each goes).
 *
 * Invariants:
 * - A segment is written as NAME.part; each batch is one gzip member
 *   appended with one write. `len` is the length of whole members; a
 *   failed write is cut back to it, so a retry neither duplicates nor
 *   leaves half a member.
 * - A segment is finished (fsync, rename to NAME, fsync dir) only before
 *   the next write, in tick() or in close(): never between a write and the
 *   checkpoint that covers it. So a finished segment holds only
 *   checkpointed batches, and after a crash the checkpoint's .part (cut
 *   back to its length) or a new segment is the right place to go on.
 * - A segment holds batches whose first lines fall in one partition (a
 *   UTC day, or hour in the hive layout): it is dated by its first one,
 *   and a batch of another partition starts a new segment.
 * - The pipeline serializes write, sync, tick, close and the checkpoint's
 *   call to lsl_segment_sink_state: no locking here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/sink.h"
#include "segment_internal.h"

#define PART_SUFFIX ".part"
#define MAX_SEQ     100000

int (*lsl_segment_write_fn)(int fd, const void *buf,
                            size_t len) = lsl_write_all;

struct segment_sink {
    struct lsl_sink base;
    char out_dir[PATH_MAX];
    char source[256];
    char host[LSL_HOST_MAX + 1];
    struct lsl_segname names; /* points into the above */
    uint64_t max_bytes, max_age;
    int fd;              /* -1: no segment open */
    char part[PATH_MAX]; /* "" when none is open */
    uint64_t len;        /* bytes of whole members in part */
    uint64_t lines;      /* written this run */
    int64_t started;     /* unix s */
    int64_t partition;   /* start of the open segment's partition */
    bool resumed;
};

/* NAME from NAME.part. */
static void final_name(const char *part, char *out, size_t cap)
{
    size_t n = strlen(part) - strlen(PART_SUFFIX);

    snprintf(out, cap, "%.*s", (int)n, part);
}

static int make_dir(struct segment_sink *f, int64_t when, char *dir, size_t cap)
{
    int rc = lsl_segname_dir(&f->names, when, dir, cap);

    if (rc == 0)
        rc = lsl_mkdir_p(dir, 0755);
    /* The new partition directory's entry must survive a crash too. */
    if (rc == 0)
        rc = lsl_fsync_parent(dir);
    return rc;
}

/*
 * Create a new, empty NAME.part dated `when` (its first line's time) with
 * a name no other segment has.
 */
static int open_segment(struct segment_sink *f, int64_t when, int64_t now)
{
    char dir[PATH_MAX], final[PATH_MAX];
    int rc = make_dir(f, when, dir, sizeof(dir));

    if (rc)
        return rc;
    for (unsigned seq = 0; seq < MAX_SEQ; seq++) {
        size_t n;

        rc = lsl_segname_file(&f->names, when, seq, final, sizeof(final));
        n = strlen(final);
        if (rc || n + strlen(PART_SUFFIX) >= sizeof(f->part))
            return rc ? rc : -ENAMETOOLONG;
        if (access(final, F_OK) == 0)
            continue;
        memcpy(f->part, final, n);
        memcpy(f->part + n, PART_SUFFIX, sizeof(PART_SUFFIX));
        f->fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f->fd >= 0)
            break;
        rc = -errno;
        f->part[0] = '\0';
        if (rc != -EEXIST)
            return rc;
    }
    if (f->fd < 0)
        return -EEXIST;
    f->len = 0;
    f->lines = 0;
    f->started = now;
    f->partition = lsl_segname_partition(f->names.layout, when);
    f->resumed = false;
    /* The checkpoint will name this file: its entry must be durable. */
    return lsl_fsync_parent(f->part);
}

static int finish_segment(struct segment_sink *f)
{
    char final[PATH_MAX];
    int rc = 0;

    final_name(f->part, final, sizeof(final));
    if (fsync(f->fd) < 0)
        return -errno;
    if (rename(f->part, final) < 0)
        return -errno;
    rc = lsl_fsync_parent(final);
    close(f->fd);
    f->fd = -1;
    f->part[0] = '\0';
    lsl_log_info("segment %s finished: %llu bytes, %llu lines%s", final,
                 (unsigned long long)f->len, (unsigned long long)f->lines,
                 f->resumed ? " since the restart" : "");
    f->len = 0;
    return rc;
}

static bool due(const struct segment_sink *f, int64_t now)
{
    if (f->fd < 0 || f->len == 0)
        return false;
    return (f->max_bytes && f->len >= f->max_bytes) ||
           (f->max_age && now - f->started >= (int64_t)f->max_age);
}

static int segment_write(struct lsl_sink *s, const struct lsl_batch *b)
{
    struct segment_sink *f = (struct segment_sink *)s;
    int64_t now = (int64_t)time(NULL);
    int64_t when =
        lsl_segname_date(b->first_time, b->arrival ? b->arrival : now);
    bool moved = f->fd >= 0 && f->len > 0 &&
                 lsl_segname_partition(f->names.layout, when) != f->partition;
    int rc;

    if (b->gz.len == 0)
        return 0;
    if (due(f, now) || moved) {
        rc = finish_segment(f);
        if (rc)
            return rc;
    }
    if (f->fd < 0) {
        rc = open_segment(f, when, now);
        if (rc)
            return rc;
    }
    rc = lsl_segment_write_fn(f->fd, b->gz.p, b->gz.len);
    if (rc) {
        /* Cut back to whole members so the retry starts clean. */
        if (ftruncate(f->fd, (off_t)f->len) < 0 ||
            lseek(f->fd, (off_t)f->len, SEEK_SET) < 0)
            return -errno;
        return rc;
    }
    f->len += b->gz.len;
    f->lines += b->st.lines_out;
    return 0;
}

static int segment_sync(struct lsl_sink *s)
{
    struct segment_sink *f = (struct segment_sink *)s;

    if (f->fd < 0)
        return 0;
    return fsync(f->fd) < 0 ? -errno : 0;
}

static int segment_tick(struct lsl_sink *s, int64_t now)
{
    struct segment_sink *f = (struct segment_sink *)s;

    return due(f, now) ? finish_segment(f) : 0;
}

static int segment_close(struct lsl_sink *s, bool finish)
{
    struct segment_sink *f = (struct segment_sink *)s;
    int rc = 0;

    if (f->fd >= 0 && finish && f->len > 0)
        rc = finish_segment(f);
    if (f->fd >= 0) {
        close(f->fd);
        /* Nothing was ever written to it: leave no empty file. */
        if (finish && f->len == 0)
            unlink(f->part);
    }
    free(f);
    return rc;
}

static void segment_state(const struct lsl_sink *s, struct lsl_sink_state *st)
{
    const struct segment_sink *f = (const struct segment_sink *)s;

    st->part[0] = '\0';
    st->len = 0;
    if (f->fd < 0)
        return;
    snprintf(st->part, sizeof(st->part), "%s", f->part);
    st->len = f->len;
}

static const struct lsl_sink_ops segment_ops = {
    .write = segment_write,
    .sync = segment_sync,
    .tick = segment_tick,
    .state = segment_state,
    .close = segment_close,
};

/* Is `part` a segment of this sink (never cut back anything else)? */
static bool own_part(const struct segment_sink *f, const char *part)
{
    size_t n = strlen(part);

    return n > strlen(PART_SUFFIX) &&
           strcmp(part + n - strlen(PART_SUFFIX), PART_SUFFIX) == 0 &&
           lsl_segname_owns(&f->names, part);
}

static int resume_open(struct segment_sink *f, const char *part)
{
    char final[PATH_MAX];

    f->fd = open(part, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f->fd >= 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    final_name(part, final, sizeof(final));
    if (access(final, F_OK) == 0)
        lsl_log_info("segment %s was finished before the restart; "
                     "starting a new one",
                     final);
    else
        lsl_log_warn("segment %s is gone (neither .part nor finished); "
                     "output of earlier batches is missing, starting a "
                     "new segment",
                     part);
    return 0;
}

static int resume(struct segment_sink *f, const struct lsl_checkpoint *cp)
{
    struct stat st;
    int rc;

    if (!own_part(f, cp->segment)) {
        lsl_log_error("checkpoint of %s names segment %s, not one of this "
                      "source's and host's under %s; fix or remove the "
                      "checkpoint",
                      f->source, cp->segment, f->out_dir);
        return LSL_ECORRUPT;
    }
    rc = resume_open(f, cp->segment);
    if (rc || f->fd < 0)
        return rc;
    snprintf(f->part, sizeof(f->part), "%s", cp->segment);
    if (fstat(f->fd, &st) < 0)
        return -errno;
    if ((uint64_t)st.st_size < cp->segment_len) {
        lsl_log_error("segment %s has %llu bytes, its checkpoint says %llu "
                      "were written: committed output was lost",
                      f->part, (unsigned long long)st.st_size,
                      (unsigned long long)cp->segment_len);
        return LSL_ECORRUPT;
    }
    if ((uint64_t)st.st_size > cp->segment_len) {
        lsl_log_info(
            "segment %s: cutting back %llu bytes not covered by "
            "the checkpoint",
            f->part,
            (unsigned long long)((uint64_t)st.st_size - cp->segment_len));
        if (ftruncate(f->fd, (off_t)cp->segment_len) < 0 || fsync(f->fd) < 0)
            return -errno;
    }
    if (lseek(f->fd, (off_t)cp->segment_len, SEEK_SET) < 0)
        return -errno;
    f->len = cp->segment_len;
    f->started = (int64_t)time(NULL);
    /* The segment's date (and partition) is in its name: own_part read
     * it. Its age counts from now: its start time is not recorded. */
    {
        int64_t when;
        unsigned seq;

        if (lsl_segname_parse(&f->names, f->part, &when, &seq))
            f->partition = lsl_segname_partition(f->names.layout, when);
    }
    f->resumed = true;
    return 0;
}

/* Remove this sink's .part files of one directory other than `keep`. */
static int remove_orphans_in(const char *dir, void *ud)
{
    const struct segment_sink *f = ud;
    const char *keep = f->fd >= 0 ? f->part : "";
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (lsl_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
            !own_part(f, path) || strcmp(path, keep) == 0)
            continue;
        if (unlink(path) == 0)
            lsl_log_info("removed unfinished segment %s: no checkpoint "
                         "covers it, its lines are read again from the "
                         "input",
                         path);
        else
            lsl_log_warn("cannot remove unfinished segment %s: %s", path,
                         strerror(errno));
    }
    closedir(d);
    return 0;
}

/*
 * A crash between creating a segment and the first checkpoint that names
 * it leaves a .part holding only uncommitted batches: those lines are read
 * again from the input, so the file must go, or it would never be
 * finished (and, if finished, would repeat them). Only this source's and
 * host's files: another host may write the same OUTDIR.
 */
static void remove_orphans(struct segment_sink *f)
{
    (void)lsl_segname_each_dir(&f->names, remove_orphans_in, f);
}

int lsl_segment_sink_open(struct lsl_sink **out,
                          const struct lsl_segment_opts *o)
{
    struct segment_sink *f;
    int rc = 0;

    if (!o->source[0] || strchr(o->source, '/') || strchr(o->source, '=') ||
        strcmp(o->source, "..") == 0 || strcmp(o->source, ".") == 0 ||
        !o->host || !lsl_host_valid(o->host))
        return -EINVAL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->fd = -1;
    f->base.ops = &segment_ops;
    f->base.gzip = true;
    f->base.sync_each = true;
    f->max_bytes = o->max_bytes;
    f->max_age = o->max_age;
    if (snprintf(f->out_dir, sizeof(f->out_dir), "%s", o->out_dir) >=
            (int)sizeof(f->out_dir) ||
        snprintf(f->source, sizeof(f->source), "%s", o->source) >=
            (int)sizeof(f->source)) {
        rc = -ENAMETOOLONG;
        goto fail;
    }
    snprintf(f->host, sizeof(f->host), "%s", o->host ? o->host : "");
    f->names = (struct lsl_segname){f->out_dir, f->source, f->host, o->layout};
    snprintf(f->base.desc, sizeof(f->base.desc), "%s/%s", o->out_dir,
             o->source);
    if (o->resume && o->resume->segment[0])
        rc = resume(f, o->resume);
    if (rc)
        goto fail;
    remove_orphans(f);
    *out = &f->base;
    return 0;
fail:
    if (f->fd >= 0)
        close(f->fd);
    free(f);
    return rc;
}
