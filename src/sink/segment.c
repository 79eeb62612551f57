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
 * - A segment is not finished while its last batch ends inside an
 *   overlong line (its pieces): the rest of the line goes to the same file.
 * - Names are (date, seq); seq counts up within a second for the life of
 *   the sink, whatever the directory holds now (a shipper may move
 *   finished files away at once), for the last RECENT_NAMED seconds names
 *   were given in (line times out of order may date a segment by one of
 *   them again); in an older second, the first seq not on disk.
 * - The pipeline serializes write, sync, tick, close and the checkpoint's
 *   call to state(): no locking here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/sink.h"
#include "segment_internal.h"

#define PART_SUFFIX  ".part"
#define MAX_SEQ      100000
#define RECENT_NAMED 16

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
    bool open_line;     /* the last batch ended inside an overlong line */
    bool input_replays; /* lsl_segment_opts */
    struct {
        int64_t t;     /* a second names were given or seen in ... */
        unsigned next; /* ... and the next seq free in it */
    } named[RECENT_NAMED];
    unsigned named_at; /* the slot to reuse next */
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
 * The next seq of second `when` as far as this sink knows (names it gave
 * or found in that second). The last RECENT_NAMED seconds are kept: line
 * times out of order date a segment by a second used shortly before,
 * never by one long gone.
 */
static unsigned *named_slot(struct segment_sink *f, int64_t when)
{
    unsigned i;

    for (i = 0; i < RECENT_NAMED; i++)
        if (f->named[i].next && f->named[i].t == when)
            return &f->named[i].next;
    i = f->named_at;
    f->named_at = (i + 1) % RECENT_NAMED;
    f->named[i].t = when;
    f->named[i].next = 0;
    return &f->named[i].next;
}

/*
 * Create a new, empty NAME.part dated `when` (its first line's time) with
 * a name no other segment has.
 */
static int open_segment(struct segment_sink *f, int64_t when, int64_t now)
{
    char dir[PATH_MAX], final[PATH_MAX];
    int rc = make_dir(f, when, dir, sizeof(dir));
    unsigned *next = named_slot(f, when);
    unsigned seq = *next;

    if (rc)
        return rc;
    for (; seq < MAX_SEQ; seq++) {
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
    *next = seq + 1;
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
    if (f->fd < 0 || f->len == 0 || f->open_line)
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
    f->open_line =
        b->nlines > 0 && (b->lines[b->nlines - 1].flags & LSL_LINE_PIECE);
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

    if (f->fd >= 0 && finish && f->open_line)
        lsl_log_info("segment %s stays unfinished: it ends inside an "
                     "overlong line whose rest is not read yet; the next "
                     "start continues it",
                     f->part);
    else if (f->fd >= 0 && finish && f->len > 0)
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

/*
 * A name of this sink seen on disk (a resumed or finished segment): names
 * of its second with its seq or below are not given again.
 */
static void note_name(struct segment_sink *f, const char *path)
{
    int64_t when;
    unsigned seq, *next;

    if (!lsl_segname_parse(&f->names, path, &when, &seq))
        return;
    next = named_slot(f, when);
    if (seq + 1 > *next)
        *next = seq + 1;
}

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
    note_name(f, cp->segment);
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
    f->open_line = cp->in_line;
    return 0;
}

/*
 * Length of the whole gzip members at the start of fd: what a crash
 * during a write leaves beyond them is half a member. 0 or -errno.
 */
static int whole_members(int fd, uint64_t *len)
{
    unsigned char in[1 << 16], out[1 << 16];
    uint64_t base = 0; /* file offset where the current member starts */
    z_stream zs;
    ssize_t n = 0;
    int rc = 0, zrc = Z_OK;

    *len = 0;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -ENOMEM;
    for (uint64_t at = 0;; at += (uint64_t)n) {
        n = pread(fd, in, sizeof(in), (off_t)at);
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        while (zs.avail_in > 0) {
            zs.next_out = out;
            zs.avail_out = sizeof(out);
            zrc = inflate(&zs, Z_NO_FLUSH);
            if (zrc == Z_STREAM_END) {
                base += zs.total_in;
                *len = base;
                zrc = inflateReset(&zs);
            }
            if (zrc != Z_OK && zrc != Z_BUF_ERROR)
                break;
            if (zrc == Z_BUF_ERROR && zs.avail_in > 0)
                break;
        }
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            break; /* damaged: keep the members before it */
    }
    sodium_memzero(out, sizeof(out));
    inflateEnd(&zs);
    return rc;
}

/*
 * A .part a crash left behind that holds committed lines (the source
 * cannot read them again): cut back to its whole members and finished,
 * or removed if none is whole.
 */
static int finish_orphan(struct segment_sink *f, const char *path)
{
    char final[PATH_MAX];
    uint64_t len;
    struct stat st;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    int rc;

    if (fd < 0)
        return -errno;
    rc = fstat(fd, &st) < 0 ? -errno : whole_members(fd, &len);
    if (rc == 0 && len < (uint64_t)st.st_size &&
        (ftruncate(fd, (off_t)len) < 0))
        rc = -errno;
    if (rc == 0 && len > 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc)
        return rc;
    if (len == 0)
        return unlink(path) < 0 ? -errno : 0;
    final_name(path, final, sizeof(final));
    if (rename(path, final) < 0)
        return -errno;
    note_name(f, final);
    lsl_log_info("segment %s was left unfinished by a crash: finished with "
                 "its %llu bytes of whole batches%s",
                 final, (unsigned long long)len,
                 len < (uint64_t)st.st_size ? " (an unfinished one cut off)"
                                            : "");
    return lsl_fsync_parent(final);
}

/* This sink's .part files of one directory other than the open one. */
static int sweep_dir(const char *dir, void *ud)
{
    struct segment_sink *f = ud;
    const char *keep = f->fd >= 0 ? f->part : "";
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(dir);
    int rc = 0;

    if (!d)
        return 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (lsl_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
            !own_part(f, path) || strcmp(path, keep) == 0)
            continue;
        if (!f->input_replays) {
            rc = finish_orphan(f, path);
            if (rc)
                lsl_log_error("cannot finish the unfinished segment %s: %s",
                              path, lsl_strerror(rc));
        } else if (unlink(path) == 0) {
            lsl_log_info("removed unfinished segment %s: no checkpoint "
                         "covers it, its lines are read again from the "
                         "input",
                         path);
        } else {
            lsl_log_warn("cannot remove unfinished segment %s: %s", path,
                         strerror(errno));
        }
    }
    closedir(d);
    return rc;
}

/*
 * A crash leaves .part files the checkpoint does not name. For a source
 * that reads uncommitted input again they hold only such batches (a crash
 * between creating a segment and the first checkpoint naming it) and must
 * go, or they would repeat lines once finished. For a source that cannot
 * (syslog, stdin) they hold committed batches: they are finished. Only
 * this source's and host's files: another host may write the same OUTDIR.
 */
static int sweep_orphans(struct segment_sink *f)
{
    return lsl_segname_each_dir(&f->names, sweep_dir, f);
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
    f->input_replays = o->input_replays;
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
    if (rc == 0)
        rc = sweep_orphans(f);
    if (rc)
        goto fail;
    *out = &f->base;
    return 0;
fail:
    if (f->fd >= 0)
        close(f->fd);
    free(f);
    return rc;
}
