/*
 * The daemon's output: gzip segments under OUTDIR/<source>/<YYYY-MM-DD>/.
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
    uint64_t max_bytes, max_age;
    int fd;              /* -1: no segment open */
    char part[PATH_MAX]; /* "" when none is open */
    uint64_t len;        /* bytes of whole members in part */
    uint64_t lines;      /* written this run */
    int64_t started;     /* unix s */
    bool resumed;
};

/* NAME from NAME.part. */
static void final_name(const char *part, char *out, size_t cap)
{
    size_t n = strlen(part) - strlen(PART_SUFFIX);

    snprintf(out, cap, "%.*s", (int)n, part);
}

static int make_dir(struct segment_sink *f, const struct tm *tm, char *dir,
                    size_t cap)
{
    int n = snprintf(dir, cap, "%s/%s/%04d-%02d-%02d", f->out_dir, f->source,
                     tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
    int rc;

    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    rc = lsl_mkdir_p(dir, 0755);
    /* The new date directory's entry must survive a crash too. */
    if (rc == 0)
        rc = lsl_fsync_parent(dir);
    return rc;
}

/* Create a new, empty NAME.part with a name no other segment has. */
static int open_segment(struct segment_sink *f, int64_t now)
{
    time_t t = (time_t)now;
    char dir[PATH_MAX], final[PATH_MAX];
    struct tm tm;
    int rc;

    if (!gmtime_r(&t, &tm))
        return -EINVAL;
    rc = make_dir(f, &tm, dir, sizeof(dir));
    if (rc)
        return rc;
    for (unsigned seq = 0; seq < MAX_SEQ; seq++) {
        int n = snprintf(final, sizeof(final),
                         "%s/%s-%04d%02d%02dT%02d%02d%02dZ-%03u.log.gz", dir,
                         f->source, tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, seq);

        if (n < 0 || (size_t)n + strlen(PART_SUFFIX) >= sizeof(f->part))
            return -ENAMETOOLONG;
        if (access(final, F_OK) == 0)
            continue;
        memcpy(f->part, final, (size_t)n);
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
    int rc;

    if (b->gz.len == 0)
        return 0;
    if (due(f, now)) {
        rc = finish_segment(f);
        if (rc)
            return rc;
    }
    if (f->fd < 0) {
        rc = open_segment(f, now);
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

/* Start time of a resumed segment, from its name; `fallback` if odd. */
static int64_t name_time(const struct segment_sink *f, int64_t fallback)
{
    const char *base = strrchr(f->part, '/');
    size_t n = strlen(f->source);
    struct tm tm;
    const char *end;

    base = base ? base + 1 : f->part;
    if (strncmp(base, f->source, n) != 0 || base[n] != '-')
        return fallback;
    memset(&tm, 0, sizeof(tm));
    end = strptime(base + n + 1, "%Y%m%dT%H%M%SZ", &tm);
    return end ? (int64_t)timegm(&tm) : fallback;
}

/* Is `part` a segment of this sink (never cut back anything else)? */
static bool own_part(const struct segment_sink *f, const char *part)
{
    size_t dn = strlen(f->out_dir), sn = strlen(f->source);
    size_t n = strlen(part);

    return n > dn + sn + strlen(PART_SUFFIX) + 2 &&
           strncmp(part, f->out_dir, dn) == 0 && part[dn] == '/' &&
           strncmp(part + dn + 1, f->source, sn) == 0 &&
           part[dn + 1 + sn] == '/' && !strstr(part, "/../") &&
           strcmp(part + n - strlen(PART_SUFFIX), PART_SUFFIX) == 0;
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
        lsl_log_error("checkpoint of %s names segment %s outside %s/%s; "
                      "fix or remove the checkpoint",
                      f->source, cp->segment, f->out_dir, f->source);
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
    f->started = name_time(f, (int64_t)time(NULL));
    f->resumed = true;
    return 0;
}

/* Remove the .part files of one date directory other than `keep`. */
static void remove_orphans_in(const char *dir, const char *keep)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);

        if (n <= strlen(PART_SUFFIX) ||
            strcmp(e->d_name + n - strlen(PART_SUFFIX), PART_SUFFIX) != 0 ||
            lsl_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
            strcmp(path, keep) == 0)
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
}

/*
 * A crash between creating a segment and the first checkpoint that names
 * it leaves a .part holding only uncommitted batches: those lines are read
 * again from the input, so the file must go, or it would never be
 * finished (and, if finished, would repeat them).
 */
static void remove_orphans(const struct segment_sink *f)
{
    char src[PATH_MAX], dir[PATH_MAX];
    struct dirent *e;
    DIR *d;

    if (lsl_path_join(src, sizeof(src), f->out_dir, f->source) != 0 ||
        !(d = opendir(src)))
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            lsl_path_join(dir, sizeof(dir), src, e->d_name) != 0)
            continue;
        remove_orphans_in(dir, f->fd >= 0 ? f->part : "");
    }
    closedir(d);
}

int lsl_segment_sink_open(struct lsl_sink **out,
                          const struct lsl_segment_opts *o)
{
    struct segment_sink *f;
    int rc = 0;

    if (!o->source[0] || strchr(o->source, '/') ||
        strcmp(o->source, "..") == 0 || strcmp(o->source, ".") == 0)
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
